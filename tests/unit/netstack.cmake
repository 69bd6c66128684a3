# The sandbox's own network stack (netstack/inet), with test link endpoints.
add_executable(netstack_inet_test ${CMAKE_CURRENT_LIST_DIR}/netstack_inet_test.cc)
target_link_libraries(netstack_inet_test netstack GTest::gtest_main)
gtest_discover_tests(netstack_inet_test)
target_compile_definitions(netstack_inet_test PRIVATE RUNSC_NETSTACK_CORPUS="${CMAKE_CURRENT_LIST_DIR}/data/netstack_frames.hex")
