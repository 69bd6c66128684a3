# Unit tests of the gofer: the wire protocol, and the server and client
# talking over a real socketpair.
add_executable(gofer_test
  ${CMAKE_CURRENT_LIST_DIR}/gofer_protocol_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/gofer_server_test.cc)
target_link_libraries(gofer_test gofer GTest::gtest_main Threads::Threads)
gtest_discover_tests(gofer_test)
