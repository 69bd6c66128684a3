// poll(2), ppoll(2), select(2) and pselect6 as the Linux man pages describe
// them, on pipes and /dev/null: readiness, POLLHUP/POLLERR/POLLNVAL, ignored
// entries, timeouts (and select's update of its timeval), atomically
// installed signal masks, and argument errors.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

short Revents(int fd, short events, int timeout_ms = 0, int* ret = nullptr) {
  struct pollfd p = {fd, events, 0};
  int r = poll(&p, 1, timeout_ms);
  if (ret != nullptr) *ret = r;
  return r < 0 ? static_cast<short>(-1) : p.revents;
}

// A child that sleeps, then writes one byte to fd and exits 0.
pid_t WriteLater(int fd, int delay_ms) {
  return ForkChild([=] {
    usleep(static_cast<useconds_t>(delay_ms) * 1000);
    return write(fd, "x", 1) == 1 ? 0 : kChildFailed;
  });
}

// The select system call itself (glibc's select() may go through pselect6
// and convert the timeout back and forth).
int RawSelect(int nfds, fd_set* r, fd_set* w, fd_set* e, struct timeval* tv) {
  return static_cast<int>(syscall(SYS_select, nfds, r, w, e, tv));
}

std::atomic<int> g_handled{0};
void CountingHandler(int) { g_handled.fetch_add(1); }

// ---------------------------------------------------------------------------
// poll

TEST(PollTest, PipeReadEndBecomesReadableAfterAWrite) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  int r = -2;
  EXPECT_EQ(0, Revents(p.rd(), POLLIN, 0, &r));
  EXPECT_EQ(0, r) << "nothing ready";
  ASSERT_TRUE(WriteAll(p.wr(), "ab", 2));
  EXPECT_EQ(POLLIN, Revents(p.rd(), POLLIN | POLLPRI, 0, &r));
  EXPECT_EQ(1, r);
  char buf[2];
  ASSERT_TRUE(ReadFull(p.rd(), buf, 2));
  EXPECT_EQ(0, Revents(p.rd(), POLLIN, 0, &r)) << "drained";
}

TEST(PollTest, PipeWriteEndIsWritableUntilFull) {
  Pipe p(O_NONBLOCK);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(POLLOUT, Revents(p.wr(), POLLIN | POLLOUT));
  char buf[4096] = {};
  while (write(p.wr(), buf, sizeof buf) > 0) {
  }
  ASSERT_EQ(EAGAIN, errno);
  EXPECT_EQ(0, Revents(p.wr(), POLLOUT)) << "a full pipe is not writable";
}

TEST(PollTest, PollBlocksUntilAnotherProcessWrites) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  pid_t pid = WriteLater(p.wr(), 50);
  ASSERT_GT(pid, 0);
  int r = -2;
  EXPECT_EQ(POLLIN, Revents(p.rd(), POLLIN, -1, &r));
  EXPECT_EQ(1, r);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(PollTest, HangupWhenTheWriterCloses) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WriteAll(p.wr(), "z", 1));
  p.CloseWrite();
  EXPECT_EQ(POLLIN | POLLHUP, Revents(p.rd(), POLLIN)) << "data left, writer gone";
  char c;
  ASSERT_EQ(1, read(p.rd(), &c, 1));
  EXPECT_EQ(POLLHUP, Revents(p.rd(), POLLIN)) << "empty, writer gone";
  EXPECT_EQ(POLLHUP, Revents(p.rd(), 0)) << "POLLHUP is reported even when not requested";
}

TEST(PollTest, ErrorOnTheWriteEndWhenTheReaderCloses) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  p.CloseRead();
  EXPECT_EQ(POLLOUT | POLLERR, Revents(p.wr(), POLLOUT));
  EXPECT_EQ(POLLERR, Revents(p.wr(), 0)) << "POLLERR is reported even when not requested";
}

TEST(PollTest, UnrequestedReadinessIsNotReported) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WriteAll(p.wr(), "z", 1));
  int r = -2;
  EXPECT_EQ(0, Revents(p.rd(), POLLOUT, 0, &r)) << "readable, but only POLLOUT was asked for";
  EXPECT_EQ(0, r);
}

TEST(PollTest, ClosedDescriptorGivesPollnval) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  int fd = dup(p.rd());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(0, close(fd));
  int r = -2;
  EXPECT_EQ(POLLNVAL, Revents(fd, POLLIN, 0, &r));
  EXPECT_EQ(1, r) << "an entry with POLLNVAL counts as ready";
}

TEST(PollTest, NegativeDescriptorsAreIgnored) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WriteAll(p.wr(), "z", 1));
  struct pollfd fds[3] = {
      {-1, POLLIN, static_cast<short>(0x7fff)},
      {p.rd(), POLLIN, 0},
      {-p.rd(), POLLIN, POLLIN},  // the "negate to disable" idiom
  };
  EXPECT_EQ(1, poll(fds, 3, 0));
  EXPECT_EQ(0, fds[0].revents) << "revents of an ignored entry is cleared";
  EXPECT_EQ(POLLIN, fds[1].revents);
  EXPECT_EQ(0, fds[2].revents);
  // Only ignored entries: a pure timeout.
  struct pollfd none = {-5, POLLIN, 0};
  EXPECT_EQ(0, poll(&none, 1, 10));
}

TEST(PollTest, ZeroTimeoutReturnsImmediately) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  struct pollfd fd = {p.rd(), POLLIN, 0};
  EXPECT_EQ(0, poll(&fd, 1, 0));
  EXPECT_EQ(0, poll(nullptr, 0, 0));
  EXPECT_EQ(0, poll(&fd, 1, 20)) << "a short timeout expires with nothing ready";
}

TEST(PollTest, DevNullIsAlwaysReadableAndWritable) {
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "/dev/null: " << strerror(errno);
  EXPECT_EQ(POLLIN | POLLOUT, Revents(fd, POLLIN | POLLOUT)) << "as for a regular file";
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(fd, &r);
  FD_SET(fd, &w);
  struct timeval tv = {0, 0};
  EXPECT_EQ(2, select(fd + 1, &r, &w, nullptr, &tv));
  EXPECT_TRUE(FD_ISSET(fd, &r));
  EXPECT_TRUE(FD_ISSET(fd, &w));
  close(fd);
}

TEST(PollTest, MoreEntriesThanRlimitNofileFailsWithEinval) {
  int status = RunInChild([] {
    struct rlimit rl;
    CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = 64;
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    std::vector<struct pollfd> fds(65, pollfd{-1, POLLIN, 0});
    CHILD_CHECK(poll(fds.data(), 64, 0) == 0);
    errno = 0;
    CHILD_CHECK(poll(fds.data(), 65, 0) == -1);
    CHILD_CHECK(errno == EINVAL);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(PollTest, PpollSigmaskLetsAPendingSignalInterrupt) {
  struct sigaction sa {};
  sa.sa_handler = CountingHandler;
  sigemptyset(&sa.sa_mask);
  ScopedSigaction action(SIGUSR1, sa);
  ASSERT_TRUE(action.ok());
  ScopedSigmask mask;
  sigset_t block, during;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, &during));
  sigdelset(&during, SIGUSR1);
  g_handled = 0;
  ASSERT_EQ(0, raise(SIGUSR1));
  ASSERT_EQ(0, g_handled.load()) << "blocked, so still pending";

  Pipe p;
  ASSERT_TRUE(p.ok());
  struct pollfd fd = {p.rd(), POLLIN, 0};
  EXPECT_EQ(-1, ppoll(&fd, 1, nullptr, &during)) << "no timeout: only the signal ends it";
  EXPECT_EQ(EINTR, errno);
  EXPECT_EQ(1, g_handled.load()) << "the handler ran before ppoll returned";
  sigset_t after;
  ASSERT_EQ(0, sigprocmask(SIG_SETMASK, nullptr, &after));
  EXPECT_TRUE(sigismember(&after, SIGUSR1)) << "the original mask is back";

  // ppoll with a zero timespec is a non-blocking poll; a bad one is EINVAL.
  struct timespec zero = {0, 0};
  EXPECT_EQ(0, ppoll(&fd, 1, &zero, nullptr));
  struct timespec bad = {0, 1000000000};
  EXPECT_EQ(-1, ppoll(&fd, 1, &bad, nullptr));
  EXPECT_EQ(EINVAL, errno);
}

// ---------------------------------------------------------------------------
// select and pselect6

TEST(SelectTest, ReadAndWriteSetsOnAPipe) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  int nfds = std::max(p.rd(), p.wr()) + 1;
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(p.rd(), &r);
  FD_SET(p.wr(), &w);
  struct timeval tv = {0, 0};
  EXPECT_EQ(1, select(nfds, &r, &w, nullptr, &tv));
  EXPECT_FALSE(FD_ISSET(p.rd(), &r)) << "not-ready descriptors are cleared from the sets";
  EXPECT_TRUE(FD_ISSET(p.wr(), &w));

  ASSERT_TRUE(WriteAll(p.wr(), "z", 1));
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(p.rd(), &r);
  FD_SET(p.wr(), &w);
  tv = {0, 0};
  EXPECT_EQ(2, select(nfds, &r, &w, nullptr, &tv)) << "counts each ready descriptor in each set";
  EXPECT_TRUE(FD_ISSET(p.rd(), &r));
  EXPECT_TRUE(FD_ISSET(p.wr(), &w));
}

TEST(SelectTest, BlocksUntilReadableAndUpdatesTheTimeval) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  pid_t pid = WriteLater(p.wr(), 50);
  ASSERT_GT(pid, 0);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.rd(), &r);
  struct timeval tv = {30, 0};
  EXPECT_EQ(1, RawSelect(p.rd() + 1, &r, nullptr, nullptr, &tv));
  EXPECT_TRUE(FD_ISSET(p.rd(), &r));
  // Linux leaves the time not slept in the timeval: less than given (the
  // child slept first), more than nothing (it did not take 30 seconds).
  EXPECT_TRUE(tv.tv_sec < 30) << tv.tv_sec << "." << tv.tv_usec;
  EXPECT_TRUE(tv.tv_sec > 0 || tv.tv_usec > 0);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(SelectTest, TimeoutLeavesAZeroTimevalAndEmptySets) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.rd(), &r);
  struct timeval tv = {0, 20000};
  EXPECT_EQ(0, RawSelect(p.rd() + 1, &r, nullptr, nullptr, &tv));
  EXPECT_EQ(0, tv.tv_sec);
  EXPECT_EQ(0, tv.tv_usec);
  EXPECT_FALSE(FD_ISSET(p.rd(), &r));
}

TEST(SelectTest, ClosedDescriptorInASetFailsWithEbadf) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  int fd = dup(p.rd());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(0, close(fd));
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.rd(), &r);
  FD_SET(fd, &r);
  struct timeval tv = {0, 0};
  EXPECT_EQ(-1, select(std::max(fd, p.rd()) + 1, &r, nullptr, nullptr, &tv));
  EXPECT_EQ(EBADF, errno);
  // Past nfds it is not looked at.
  if (fd > p.rd()) {
    FD_ZERO(&r);
    FD_SET(p.rd(), &r);
    FD_SET(fd, &r);
    tv = {0, 0};
    EXPECT_EQ(0, select(p.rd() + 1, &r, nullptr, nullptr, &tv));
  }
}

TEST(SelectTest, InvalidArguments) {
  struct timeval tv = {0, 0};
  EXPECT_EQ(-1, RawSelect(-1, nullptr, nullptr, nullptr, &tv));
  EXPECT_EQ(EINVAL, errno) << "negative nfds";
  struct timeval bad = {-1, 0};
  EXPECT_EQ(-1, RawSelect(0, nullptr, nullptr, nullptr, &bad));
  EXPECT_EQ(EINVAL, errno) << "negative timeout";
}

// The raw pselect6 system call: the sixth argument points at {sigset
// pointer, sigset size}; Linux writes the remaining time back to the
// timespec (the glibc wrapper hides that).
struct Pselect6Data {
  const sigset_t* ss;
  size_t ss_len;
};

long Pselect6(int nfds, fd_set* r, fd_set* w, fd_set* e, struct timespec* ts,
              const sigset_t* mask) {
  Pselect6Data data = {mask, 8};
  return syscall(SYS_pselect6, nfds, r, w, e, ts, mask != nullptr ? &data : nullptr);
}

TEST(SelectTest, Pselect6ReadinessAndTimeout) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.rd(), &r);
  struct timespec ts = {0, 20 * 1000 * 1000};
  EXPECT_EQ(0, Pselect6(p.rd() + 1, &r, nullptr, nullptr, &ts, nullptr));
  EXPECT_EQ(0, ts.tv_sec);
  EXPECT_EQ(0, ts.tv_nsec) << "the kernel updates the timespec";

  ASSERT_TRUE(WriteAll(p.wr(), "z", 1));
  FD_ZERO(&r);
  FD_SET(p.rd(), &r);
  ts = {30, 0};
  EXPECT_EQ(1, Pselect6(p.rd() + 1, &r, nullptr, nullptr, &ts, nullptr));
  EXPECT_TRUE(FD_ISSET(p.rd(), &r));
  EXPECT_TRUE(ts.tv_sec < 30 || (ts.tv_sec == 30 && ts.tv_nsec == 0)) << "at most what was given";

  struct timespec bad = {0, 1000000000};
  EXPECT_EQ(-1, Pselect6(p.rd() + 1, &r, nullptr, nullptr, &bad, nullptr));
  EXPECT_EQ(EINVAL, errno);
}

TEST(SelectTest, Pselect6SigmaskLetsAPendingSignalInterrupt) {
  struct sigaction sa {};
  sa.sa_handler = CountingHandler;
  sigemptyset(&sa.sa_mask);
  ScopedSigaction action(SIGUSR2, sa);
  ASSERT_TRUE(action.ok());
  ScopedSigmask mask;
  sigset_t block, during;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, &during));
  sigdelset(&during, SIGUSR2);
  g_handled = 0;
  ASSERT_EQ(0, raise(SIGUSR2));

  Pipe p;
  ASSERT_TRUE(p.ok());
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.rd(), &r);
  EXPECT_EQ(-1, Pselect6(p.rd() + 1, &r, nullptr, nullptr, nullptr, &during));
  EXPECT_EQ(EINTR, errno);
  EXPECT_EQ(1, g_handled.load());
  sigset_t after;
  ASSERT_EQ(0, sigprocmask(SIG_SETMASK, nullptr, &after));
  EXPECT_TRUE(sigismember(&after, SIGUSR2)) << "the original mask is back";

  // The glibc pselect() wrapper, same thing.
  ASSERT_EQ(0, raise(SIGUSR2));
  FD_ZERO(&r);
  FD_SET(p.rd(), &r);
  EXPECT_EQ(-1, pselect(p.rd() + 1, &r, nullptr, nullptr, nullptr, &during));
  EXPECT_EQ(EINTR, errno);
  EXPECT_EQ(2, g_handled.load());
}

}  // namespace
}  // namespace syscall_test
