// Exhausting file descriptors from inside: pipes and eventfds until the
// limit. Natively the process's RLIMIT_NOFILE stops it (EMFILE); in the
// sandbox the application's share of the Sentry's host FDs may stop it
// first (ENFILE). Either way, files still open afterwards: the Sentry's
// own reserve (the FDs the gofer's replies bring) is never taken, so the
// gofer connection is never lost (it used to be: every open was EIO).
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

// Reads a few bytes of `path` through a new FD: true if that worked.
bool OpenAndRead(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[16];
  const bool ok = read(fd, buf, sizeof(buf)) > 0;
  close(fd);
  return ok;
}

class FdExhaustion : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
    struct rlimit raised = saved_;
    raised.rlim_cur = std::min<rlim_t>(saved_.rlim_max, 65536);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &raised), 0);
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
    setrlimit(RLIMIT_NOFILE, &saved_);
  }
  std::vector<int> fds_;
  struct rlimit saved_ {};
};

TEST_F(FdExhaustion, PipesThenFilesStillOpen) {
  int err = 0;
  for (int i = 0; i < 40000; ++i) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
      err = errno;
      break;
    }
    fds_.push_back(p[0]);
    fds_.push_back(p[1]);
  }
  ASSERT_NE(err, 0) << "no limit met after " << fds_.size() << " FDs";
  EXPECT_TRUE(err == EMFILE || err == ENFILE) << strerror(err);
  EXPECT_GT(fds_.size(), 200u);
  // While exhausted, an open succeeds or says the table is full; nothing else.
  errno = 0;
  int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) close(fd);
  else EXPECT_TRUE(errno == EMFILE || errno == ENFILE) << strerror(errno);
  // Half of them closed, files open and read again, a new one too.
  for (size_t i = 0; i < fds_.size() / 2; ++i) close(fds_[i]);
  fds_.erase(fds_.begin(), fds_.begin() + static_cast<long>(fds_.size() / 2));
  EXPECT_TRUE(OpenAndRead("/etc/passwd")) << strerror(errno);
  EXPECT_TRUE(OpenAndRead("/etc/group")) << strerror(errno);
}

TEST_F(FdExhaustion, EventfdsThenFilesStillOpen) {
  int err = 0;
  for (int i = 0; i < 70000; ++i) {
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) {
      err = errno;
      break;
    }
    fds_.push_back(fd);
  }
  ASSERT_NE(err, 0) << "no limit met after " << fds_.size() << " FDs";
  EXPECT_TRUE(err == EMFILE || err == ENFILE) << strerror(err);
  for (int fd : fds_) close(fd);
  fds_.clear();
  EXPECT_TRUE(OpenAndRead("/etc/hostname") || OpenAndRead("/etc/passwd")) << strerror(errno);
  EXPECT_TRUE(OpenAndRead("/etc/os-release")) << strerror(errno);
}

}  // namespace
}  // namespace syscall_test
