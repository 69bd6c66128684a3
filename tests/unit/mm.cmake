add_executable(mm_test ${CMAKE_CURRENT_LIST_DIR}/vma_test.cc ${CMAKE_CURRENT_LIST_DIR}/mm_test.cc)
target_link_libraries(mm_test sentry_mm GTest::gtest_main)
gtest_discover_tests(mm_test)
