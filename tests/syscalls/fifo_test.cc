// Named pipes, from fifo(7) and pipe(7): who waits at open, O_NONBLOCK's
// rules, end of file and EPIPE, and data discarded with the last close.
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "syscall_test_util.h"

namespace {

class FifoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/fifo_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    path_ = dir_ + "/fifo";
    ASSERT_EQ(mkfifo(path_.c_str(), 0640), 0);
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(FifoTest, MkfifoMakesAFifoNode) {
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0640u & ~022u);
  EXPECT_EQ(mkfifo(path_.c_str(), 0640), -1);
  EXPECT_EQ(errno, EEXIST);
}

TEST_F(FifoTest, NonblockingReaderOpensAloneAndSeesEndOfFile) {
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(r, 0) << strerror(errno);
  char c;
  EXPECT_EQ(read(r, &c, 1), 0) << "no writer: end of file";
  close(r);
}

TEST_F(FifoTest, NonblockingWriterWithoutAReaderIsEnxio) {
  EXPECT_EQ(open(path_.c_str(), O_WRONLY | O_NONBLOCK), -1);
  EXPECT_EQ(errno, ENXIO);
}

TEST_F(FifoTest, BlockingOpensMeetAndDataFlowsThenEndOfFile) {
  pid_t child = fork();
  if (child == 0) {
    int w = open(path_.c_str(), O_WRONLY);  // waits for the parent's open
    CHILD_CHECK(w >= 0);
    CHILD_CHECK(write(w, "hello", 5) == 5);
    _exit(0);
  }
  int r = open(path_.c_str(), O_RDONLY);  // waits for the child's open
  ASSERT_GE(r, 0) << strerror(errno);
  char buf[16] = {};
  size_t got = 0;
  for (;;) {
    ssize_t n = read(r, buf + got, sizeof buf - 1 - got);
    ASSERT_GE(n, 0) << strerror(errno);
    if (n == 0) break;  // the writer closed
    got += static_cast<size_t>(n);
  }
  EXPECT_STREQ(buf, "hello");
  close(r);
  int status = syscall_test::WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
}

TEST_F(FifoTest, ReadWriteOpenNeverWaits) {
  int rw = open(path_.c_str(), O_RDWR);
  ASSERT_GE(rw, 0);
  ASSERT_EQ(write(rw, "xy", 2), 2);
  char buf[2];
  ASSERT_EQ(read(rw, buf, 2), 2);
  EXPECT_EQ(std::string(buf, 2), "xy");
  close(rw);
}

TEST_F(FifoTest, WritingWithNoReaderLeftIsEpipe) {
  signal(SIGPIPE, SIG_IGN);
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(r, 0);
  int w = open(path_.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(w, 0) << "a reader exists now";
  close(r);
  EXPECT_EQ(write(w, "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  close(w);
  signal(SIGPIPE, SIG_DFL);
}

TEST_F(FifoTest, TheLastCloseDiscardsUnreadData) {
  int rw = open(path_.c_str(), O_RDWR);
  ASSERT_EQ(write(rw, "lost", 4), 4);
  close(rw);
  rw = open(path_.c_str(), O_RDWR | O_NONBLOCK);
  ASSERT_GE(rw, 0);
  char buf[4];
  EXPECT_EQ(read(rw, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN) << "the data went with the last close";
  close(rw);
}

TEST_F(FifoTest, PollSeesData) {
  int r = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  int w = open(path_.c_str(), O_WRONLY);
  ASSERT_GE(r, 0);
  ASSERT_GE(w, 0);
  pollfd p{r, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
  ASSERT_EQ(write(w, "d", 1), 1);
  EXPECT_EQ(poll(&p, 1, 0), 1);
  EXPECT_TRUE(p.revents & POLLIN);
  close(r);
  close(w);
}

void OnAlarm(int) {}

TEST_F(FifoTest, ABlockedOpenIsInterruptedByAHandlerWithoutSaRestart) {
  pid_t child = fork();
  if (child == 0) {
    struct sigaction sa {};
    sa.sa_handler = OnAlarm;
    CHILD_CHECK(sigaction(SIGALRM, &sa, nullptr) == 0);
    alarm(1);
    CHILD_CHECK(open(path_.c_str(), O_RDONLY) == -1 && errno == EINTR);
    _exit(0);
  }
  int status = syscall_test::WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
}

}  // namespace
