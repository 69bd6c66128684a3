# The host seccomp allowlists of the Sentry and the gofer.
add_executable(seccomp_test ${CMAKE_CURRENT_LIST_DIR}/seccomp_test.cc)
target_link_libraries(seccomp_test sentry gofer GTest::gtest_main)
gtest_discover_tests(seccomp_test)
