# Unit tests of sentry/loader (ELF, #!, initial stack).
add_executable(loader_test
  ${CMAKE_CURRENT_LIST_DIR}/loader_elf_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/loader_shebang_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/loader_stack_test.cc)
target_link_libraries(loader_test loader GTest::gtest_main)
gtest_discover_tests(loader_test)
