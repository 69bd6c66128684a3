// signalfd(2): blocked signals read as signalfd_siginfo records.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>

namespace {

class SignalfdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGCHLD);
    ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, &old_), 0);
  }
  void TearDown() override {
    // Drop whatever is left pending, then restore the mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGCHLD);
    timespec zero{0, 0};
    while (sigtimedwait(&set, nullptr, &zero) > 0) {
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  static int make(std::initializer_list<int> signals, int flags = 0) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals) sigaddset(&set, s);
    return signalfd(-1, &set, flags);
  }
  sigset_t old_;
};

TEST_F(SignalfdTest, ReadsAPendingSignalWithItsSender) {
  int fd = make({SIGUSR1}, SFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  signalfd_siginfo info{};
  ASSERT_EQ(read(fd, &info, sizeof(info)), static_cast<ssize_t>(sizeof(info)));
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR1));
  EXPECT_EQ(info.ssi_code, SI_USER);
  EXPECT_EQ(info.ssi_pid, static_cast<uint32_t>(getpid()));
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGUSR1)) << "reading consumed it";
  close(fd);
}

TEST_F(SignalfdTest, NonblockingReadWithNothingPendingIsEagain) {
  int fd = make({SIGUSR1}, SFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  signalfd_siginfo info;
  errno = 0;
  EXPECT_EQ(read(fd, &info, sizeof(info)), -1);
  EXPECT_EQ(errno, EAGAIN);
  char small[16];
  errno = 0;
  EXPECT_EQ(read(fd, small, sizeof(small)), -1);
  EXPECT_EQ(errno, EINVAL) << "the buffer must hold one record";
  close(fd);
}

TEST_F(SignalfdTest, OnlySignalsInTheMaskAreRead) {
  int fd = make({SIGUSR2}, SFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  signalfd_siginfo info;
  EXPECT_EQ(read(fd, &info, sizeof(info)), -1);
  // signalfd4 on the same FD changes the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ASSERT_EQ(signalfd(fd, &set, 0), fd);
  ASSERT_EQ(read(fd, &info, sizeof(info)), static_cast<ssize_t>(sizeof(info)));
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR1));
  close(fd);
}

TEST_F(SignalfdTest, BlockingReadAndPollWakeForASignalFromAChild) {
  int fd = make({SIGUSR2});
  ASSERT_GE(fd, 0);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(20000);
    kill(getppid(), SIGUSR2);
    usleep(20000);
    kill(getppid(), SIGUSR2);
    _exit(0);
  }
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1);
  EXPECT_TRUE(p.revents & POLLIN);
  signalfd_siginfo info;
  ASSERT_EQ(read(fd, &info, sizeof(info)), static_cast<ssize_t>(sizeof(info)));
  EXPECT_EQ(info.ssi_pid, static_cast<uint32_t>(pid));
  ASSERT_EQ(read(fd, &info, sizeof(info)), static_cast<ssize_t>(sizeof(info)));  // blocks for the second
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR2));
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(fd);
}

// epoll(7) watches a signalfd like any other file: readable while a
// signal in its mask is pending.
TEST_F(SignalfdTest, EpollReportsAPendingSignalLevelTriggered) {
  int fd = make({SIGUSR1});
  ASSERT_GE(fd, 0);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0xfeed;
  ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0) << strerror(errno);
  EXPECT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), -1);
  EXPECT_EQ(errno, EEXIST);
  epoll_event out[2];
  EXPECT_EQ(epoll_wait(ep, out, 2, 0), 0) << "nothing pending yet";
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(epoll_wait(ep, out, 2, 0), 1);
  EXPECT_EQ(out[0].data.u64, 0xfeedu);
  EXPECT_TRUE(out[0].events & EPOLLIN);
  EXPECT_EQ(epoll_wait(ep, out, 2, 0), 1) << "level-triggered: still pending";
  signalfd_siginfo info;
  ASSERT_EQ(read(fd, &info, sizeof(info)), static_cast<ssize_t>(sizeof(info)));
  EXPECT_EQ(epoll_wait(ep, out, 2, 0), 0) << "read: nothing pending";
  ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr), 0);
  EXPECT_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr), -1);
  EXPECT_EQ(errno, ENOENT);
  close(ep);
  close(fd);
}

TEST_F(SignalfdTest, EpollWaitWakesForASignalFromAChildAndOneshotFiresOnce) {
  int fd = make({SIGUSR2});
  int ep = epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.fd = fd;
  ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(20000);
    kill(getppid(), SIGUSR2);
    _exit(0);
  }
  epoll_event out[1];
  ASSERT_EQ(epoll_wait(ep, out, 1, 10000), 1) << "woken by the child's signal";
  EXPECT_EQ(out[0].data.fd, fd);
  EXPECT_EQ(epoll_wait(ep, out, 1, 0), 0) << "EPOLLONESHOT: disabled until re-armed";
  ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), 0);
  EXPECT_EQ(epoll_wait(ep, out, 1, 0), 1) << "re-armed while still pending";
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(ep);
  close(fd);
}

TEST_F(SignalfdTest, SigchldCarriesTheChildsStatus) {
  int fd = make({SIGCHLD});
  ASSERT_GE(fd, 0);
  pid_t pid = fork();
  if (pid == 0) _exit(7);
  signalfd_siginfo info;
  ASSERT_EQ(read(fd, &info, sizeof(info)), static_cast<ssize_t>(sizeof(info)));
  EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGCHLD));
  EXPECT_EQ(info.ssi_code, CLD_EXITED);
  EXPECT_EQ(info.ssi_pid, static_cast<uint32_t>(pid));
  EXPECT_EQ(info.ssi_status, 7);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(fd);
}

TEST_F(SignalfdTest, BadArguments) {
  sigset_t set;
  sigemptyset(&set);
  errno = 0;
  EXPECT_EQ(signalfd(-1, &set, 0x1234), -1);
  EXPECT_EQ(errno, EINVAL);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  errno = 0;
  EXPECT_EQ(signalfd(p[0], &set, 0), -1);
  EXPECT_EQ(errno, EINVAL) << "not a signalfd";
  close(p[0]);
  close(p[1]);
}

}  // namespace
