// eventfd(2), timerfd_create(2) and epoll(7), from their man pages.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

namespace {

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

TEST(EventfdTest, CounterAddsUpAndReadResetsIt) {
  Fd e(eventfd(3, EFD_CLOEXEC));
  ASSERT_GE(e.fd, 0);
  EXPECT_EQ(fcntl(e.fd, F_GETFD), FD_CLOEXEC);
  uint64_t v = 4;
  ASSERT_EQ(write(e.fd, &v, 8), 8);
  ASSERT_EQ(read(e.fd, &v, 8), 8);
  EXPECT_EQ(v, 7u);
  // Now zero: a non-blocking read would block.
  ASSERT_EQ(fcntl(e.fd, F_SETFL, O_NONBLOCK), 0);
  errno = 0;
  EXPECT_EQ(read(e.fd, &v, 8), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(EventfdTest, SemaphoreModeReadsOneAtATime) {
  Fd e(eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK));
  ASSERT_GE(e.fd, 0);
  EXPECT_NE(fcntl(e.fd, F_GETFL) & O_NONBLOCK, 0);
  uint64_t v = 0;
  ASSERT_EQ(read(e.fd, &v, 8), 8);
  EXPECT_EQ(v, 1u);
  ASSERT_EQ(read(e.fd, &v, 8), 8);
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(read(e.fd, &v, 8), -1);
}

TEST(EventfdTest, ShortBuffersAndBadFlagsAreEinval) {
  Fd e(eventfd(0, 0));
  ASSERT_GE(e.fd, 0);
  uint32_t small = 1;
  errno = 0;
  EXPECT_EQ(write(e.fd, &small, 4), -1);
  EXPECT_EQ(errno, EINVAL);
  uint64_t max = UINT64_MAX;
  errno = 0;
  EXPECT_EQ(write(e.fd, &max, 8), -1) << "0xffffffffffffffff is not a valid value";
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(eventfd(0, 0x4000000), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(TimerfdTest, ExpiresAndCountsExpirations) {
  Fd t(timerfd_create(CLOCK_MONOTONIC, 0));
  ASSERT_GE(t.fd, 0);
  itimerspec spec{{0, 1000000}, {0, 1000000}};  // every millisecond
  ASSERT_EQ(timerfd_settime(t.fd, 0, &spec, nullptr), 0);
  uint64_t expirations = 0;
  ASSERT_EQ(read(t.fd, &expirations, 8), 8);  // blocks until the first one
  EXPECT_GE(expirations, 1u);
  itimerspec now{};
  ASSERT_EQ(timerfd_gettime(t.fd, &now), 0);
  EXPECT_EQ(now.it_interval.tv_nsec, 1000000);
  itimerspec off{};
  ASSERT_EQ(timerfd_settime(t.fd, 0, &off, nullptr), 0);
  ASSERT_EQ(timerfd_gettime(t.fd, &now), 0);
  EXPECT_EQ(now.it_value.tv_sec, 0);
  EXPECT_EQ(now.it_value.tv_nsec, 0);
}

TEST(TimerfdTest, BadClocksAndNonTimerFds) {
  errno = 0;
  EXPECT_EQ(timerfd_create(12345, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  Fd e(eventfd(0, 0));
  itimerspec now;
  errno = 0;
  EXPECT_EQ(timerfd_gettime(e.fd, &now), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(timerfd_gettime(-1, &now), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(EpollTest, LevelTriggeredReportsUntilDrained) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  Fd r(p[0]), w(p[1]);
  Fd ep(epoll_create1(EPOLL_CLOEXEC));
  ASSERT_GE(ep.fd, 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0x1122334455667788ULL;
  ASSERT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_ADD, r.fd, &ev), 0);
  epoll_event out[4];
  EXPECT_EQ(epoll_wait(ep.fd, out, 4, 0), 0);
  ASSERT_EQ(write(w.fd, "ab", 2), 2);
  ASSERT_EQ(epoll_wait(ep.fd, out, 4, 1000), 1);
  EXPECT_EQ(out[0].data.u64, 0x1122334455667788ULL);
  EXPECT_TRUE(out[0].events & EPOLLIN);
  EXPECT_EQ(epoll_wait(ep.fd, out, 4, 0), 1) << "level-triggered: still readable";
  char buf[2];
  ASSERT_EQ(read(r.fd, buf, 2), 2);
  EXPECT_EQ(epoll_wait(ep.fd, out, 4, 0), 0);
}

TEST(EpollTest, EdgeTriggeredAndOneShotReportOnce) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  Fd r(p[0]), w(p[1]);
  Fd ep(epoll_create1(0));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ASSERT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_ADD, r.fd, &ev), 0);
  ASSERT_EQ(write(w.fd, "a", 1), 1);
  epoll_event out[2];
  EXPECT_EQ(epoll_wait(ep.fd, out, 2, 1000), 1);
  EXPECT_EQ(epoll_wait(ep.fd, out, 2, 0), 0) << "edge-triggered: no new data, no event";
  ev.events = EPOLLIN | EPOLLONESHOT;
  ASSERT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_MOD, r.fd, &ev), 0);
  EXPECT_EQ(epoll_wait(ep.fd, out, 2, 0), 1);
  EXPECT_EQ(epoll_wait(ep.fd, out, 2, 0), 0) << "one-shot: disabled after one event";
}

TEST(EpollTest, CtlErrors) {
  Fd ep(epoll_create1(0));
  Fd e(eventfd(0, 0));
  epoll_event ev{};
  ev.events = EPOLLIN;
  errno = 0;
  EXPECT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_MOD, e.fd, &ev), -1);
  EXPECT_EQ(errno, ENOENT);
  ASSERT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_ADD, e.fd, &ev), 0);
  errno = 0;
  EXPECT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_ADD, e.fd, &ev), -1);
  EXPECT_EQ(errno, EEXIST);
  errno = 0;
  EXPECT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_ADD, ep.fd, &ev), -1);
  EXPECT_EQ(errno, EINVAL) << "an epoll instance cannot watch itself";
  errno = 0;
  EXPECT_EQ(epoll_ctl(e.fd, EPOLL_CTL_ADD, ep.fd, &ev), -1);
  EXPECT_EQ(errno, EINVAL) << "the first FD is not an epoll instance";
  Fd null(open("/dev/null", O_RDONLY));
  ASSERT_GE(null.fd, 0);
  errno = 0;
  EXPECT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_ADD, null.fd, &ev), -1);
  EXPECT_EQ(errno, EPERM) << "a file that does not support polling";
  epoll_event out[1];
  errno = 0;
  EXPECT_EQ(epoll_wait(ep.fd, out, 0, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(EpollTest, EventfdWakesAnEpollWaiterInAnotherProcess) {
  Fd e(eventfd(0, 0));
  Fd ep(epoll_create1(0));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = e.fd;
  ASSERT_EQ(epoll_ctl(ep.fd, EPOLL_CTL_ADD, e.fd, &ev), 0);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(20000);
    uint64_t one = 1;
    _exit(write(e.fd, &one, 8) == 8 ? 0 : 1);
  }
  epoll_event out[1];
  EXPECT_EQ(epoll_wait(ep.fd, out, 1, 10000), 1);
  EXPECT_EQ(out[0].data.fd, e.fd);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
