# The host seccomp allowlists of the Sentry and the gofer.
add_executable(seccomp_test ${CMAKE_CURRENT_LIST_DIR}/seccomp_test.cc)
target_link_libraries(seccomp_test sentry gofer GTest::gtest_main)
gtest_discover_tests(seccomp_test)

# The Sentry's reports of its own failures (common/crash.h).
add_executable(crash_test ${CMAKE_CURRENT_LIST_DIR}/crash_test.cc)
target_link_libraries(crash_test sentry GTest::gtest_main)
gtest_discover_tests(crash_test)
