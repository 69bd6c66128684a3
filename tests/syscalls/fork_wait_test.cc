// fork(2), vfork(2), wait4(2)/waitpid(2), waitid(2): process creation, exit
// statuses and reaping, as the Linux man pages describe them.
#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

// Each test starts by reaping zombies a failed earlier test may have left
// (or that were reparented to us, if we run as pid 1), so that waits for
// any child see only this test's children.
class ReapingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
};
using ForkTest = ReapingTest;
using WaitTest = ReapingTest;
using WaitidTest = ReapingTest;
using ForkExecTest = ReapingTest;
using VforkTest = ReapingTest;

char* const kTrueArgs[] = {const_cast<char*>("true"), nullptr};

TEST_F(ForkTest, ReturnsChildPidInParentAndZeroInChild) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    pid_t ids[2] = {getpid(), getppid()};
    CHILD_CHECK(WriteAll(p.wr(), ids, sizeof ids));
    _exit(0);
  }
  ASSERT_GT(pid, 0) << strerror(errno);
  p.CloseWrite();
  pid_t ids[2];
  ASSERT_TRUE(ReadFull(p.rd(), ids, sizeof ids));
  EXPECT_EQ(ids[0], pid) << "the child's getpid() is what fork() returned in the parent";
  EXPECT_EQ(ids[1], parent) << "the child's getppid() is the parent's pid";
  EXPECT_NE(pid, parent);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST_F(ForkTest, ChildGetsDistinctPids) {
  pid_t a = ForkChild([] { return 0; });
  pid_t b = ForkChild([] { return 0; });
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  EXPECT_NE(a, b);
  EXPECT_EXITED_WITH(WaitStatus(a), 0);
  EXPECT_EXITED_WITH(WaitStatus(b), 0);
}

TEST_F(WaitTest, WaitpidReportsExitStatus) {
  pid_t pid = ForkChild([] { return 42; });
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_FALSE(WIFSIGNALED(status));
  EXPECT_FALSE(WIFSTOPPED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

TEST_F(WaitTest, ExitStatusIsLowEightBits) {
  // _exit(status): "status & 0xFF is returned to the parent".
  pid_t pid = fork();
  if (pid == 0) _exit(0x1ff);
  ASSERT_GT(pid, 0);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0xff);
}

TEST_F(WaitTest, Wait4ReportsSigkill) {
  pid_t pid = ForkChild([] {
    kill(getpid(), SIGKILL);
    return kChildFailed;
  });
  ASSERT_GT(pid, 0);
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  ASSERT_EQ(wait4(pid, &status, 0, &ru), pid) << strerror(errno);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(WIFEXITED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_FALSE(WCOREDUMP(status));
}

TEST_F(WaitTest, Wait4ReportsSigtermFromSelf) {
  pid_t pid = ForkChild([] {
    signal(SIGTERM, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, nullptr);
    kill(getpid(), SIGTERM);
    return kChildFailed;
  });
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(wait4(pid, &status, 0, nullptr), pid);
  EXPECT_KILLED_BY(status, SIGTERM);
  EXPECT_FALSE(WCOREDUMP(status)) << "SIGTERM's default action does not dump core";
}

TEST_F(WaitTest, ParentKillsBlockedChild) {
  BlockedChild c = ForkBlockedChild(0);
  ASSERT_GT(c.pid, 0);
  ASSERT_EQ(kill(c.pid, SIGUSR1), 0);
  EXPECT_KILLED_BY(WaitStatus(c.pid), SIGUSR1);
  c.Release();
}

TEST_F(WaitTest, WnohangOnRunningChildReturnsZero) {
  BlockedChild c = ForkBlockedChild(3);
  ASSERT_GT(c.pid, 0);
  int status = 12345;
  EXPECT_EQ(waitpid(c.pid, &status, WNOHANG), 0);
  EXPECT_EQ(waitpid(-1, &status, WNOHANG), 0);
  c.Release();
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 3);
}

TEST_F(WaitTest, NoChildrenGivesEchild) {
  int status;
  errno = 0;
  EXPECT_EQ(wait(&status), -1);
  EXPECT_EQ(errno, ECHILD);
  errno = 0;
  EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  siginfo_t si;
  errno = 0;
  EXPECT_EQ(waitid(P_ALL, 0, &si, WEXITED), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(WaitTest, WaitForReapedChildGivesEchild) {
  pid_t pid = ForkChild([] { return 0; });
  ASSERT_GT(pid, 0);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
  int status;
  errno = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(WaitTest, WaitpidForSpecificPidIgnoresOtherZombies) {
  BlockedChild running = ForkBlockedChild(5);
  ASSERT_GT(running.pid, 0);
  pid_t done = ForkChild([] { return 7; });
  ASSERT_GT(done, 0);
  // Let `done` become a zombie (without reaping it), then wait for the
  // running child: the zombie must not satisfy that wait.
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(done), &si, WEXITED | WNOWAIT), 0);
  int status = 0;
  EXPECT_EQ(waitpid(running.pid, &status, WNOHANG), 0)
      << "a zombie sibling must not satisfy a wait for a specific pid";
  EXPECT_EXITED_WITH(WaitStatus(done), 7);
  running.Release();
  EXPECT_EXITED_WITH(WaitStatus(running.pid), 5);
}

TEST_F(WaitTest, WaitAnyReturnsTheChildThatExited) {
  BlockedChild running = ForkBlockedChild(5);
  ASSERT_GT(running.pid, 0);
  pid_t done = ForkChild([] { return 2; });
  ASSERT_GT(done, 0);
  int status = 0;
  EXPECT_EQ(WaitRetry(-1, &status), done);
  EXPECT_EXITED_WITH(status, 2);
  running.Release();
  EXPECT_EQ(WaitRetry(-1, &status), running.pid);
  EXPECT_EXITED_WITH(status, 5);
}

TEST_F(WaitTest, InvalidOptionsGiveEinval) {
  int status;
  errno = 0;
  EXPECT_EQ(waitpid(-1, &status, 0x10000000), -1);
  EXPECT_EQ(errno, EINVAL);
  siginfo_t si;
  errno = 0;
  EXPECT_EQ(waitid(P_ALL, 0, &si, 0), -1)
      << "waitid needs at least one of WEXITED, WSTOPPED, WCONTINUED";
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(syscall(SYS_waitid, 42, 0, &si, WEXITED, nullptr), -1) << "invalid idtype";
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(WaitidTest, ExitedChildSiginfo) {
  pid_t pid = ForkChild([] { return 5; });
  ASSERT_GT(pid, 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED), 0) << strerror(errno);
  EXPECT_EQ(si.si_signo, SIGCHLD);
  EXPECT_EQ(si.si_code, CLD_EXITED);
  EXPECT_EQ(si.si_pid, pid);
  EXPECT_EQ(si.si_status, 5);
  EXPECT_EQ(si.si_uid, getuid());
  errno = 0;
  EXPECT_EQ(waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED), -1) << "already reaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(WaitidTest, KilledChildSiginfo) {
  pid_t pid = ForkChild([] {
    kill(getpid(), SIGKILL);
    return kChildFailed;
  });
  ASSERT_GT(pid, 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ASSERT_EQ(waitid(P_ALL, 0, &si, WEXITED), 0) << strerror(errno);
  EXPECT_EQ(si.si_signo, SIGCHLD);
  EXPECT_EQ(si.si_code, CLD_KILLED);
  EXPECT_EQ(si.si_pid, pid);
  EXPECT_EQ(si.si_status, SIGKILL);
}

TEST_F(WaitidTest, WnowaitLeavesZombieToBeReapedLater) {
  pid_t pid = ForkChild([] { return 9; });
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 2; i++) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOWAIT), 0)
        << "round " << i << ": " << strerror(errno);
    EXPECT_EQ(si.si_pid, pid);
    EXPECT_EQ(si.si_code, CLD_EXITED);
    EXPECT_EQ(si.si_status, 9);
  }
  // Still a zombie: it exists for kill(pid, 0) and can be reaped.
  EXPECT_EQ(kill(pid, 0), 0);
  EXPECT_EXITED_WITH(WaitStatus(pid), 9);
  siginfo_t si;
  errno = 0;
  EXPECT_EQ(waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOWAIT), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(WaitidTest, WnohangWithNoExitedChildZeroesSiginfo) {
  BlockedChild c = ForkBlockedChild(0);
  ASSERT_GT(c.pid, 0);
  siginfo_t si;
  memset(&si, 0xff, sizeof si);
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(c.pid), &si, WEXITED | WNOHANG), 0);
  // Linux (unlike what POSIX requires) zeroes the siginfo in this case.
  EXPECT_EQ(si.si_pid, 0);
  EXPECT_EQ(si.si_signo, 0);
  c.Release();
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 0);
}

TEST_F(WaitidTest, StoppedAndContinuedChild) {
  BlockedChild c = ForkBlockedChild(0);
  ASSERT_GT(c.pid, 0);
  ASSERT_EQ(kill(c.pid, SIGSTOP), 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(c.pid), &si, WSTOPPED), 0) << strerror(errno);
  EXPECT_EQ(si.si_code, CLD_STOPPED);
  EXPECT_EQ(si.si_status, SIGSTOP);
  EXPECT_EQ(si.si_pid, c.pid);

  ASSERT_EQ(kill(c.pid, SIGCONT), 0);
  memset(&si, 0, sizeof si);
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(c.pid), &si, WCONTINUED), 0) << strerror(errno);
  EXPECT_EQ(si.si_code, CLD_CONTINUED);
  EXPECT_EQ(si.si_status, SIGCONT);
  EXPECT_EQ(si.si_pid, c.pid);

  c.Release();
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 0);
}

TEST_F(WaitTest, WuntracedAndWcontinuedStatuses) {
  BlockedChild c = ForkBlockedChild(0);
  ASSERT_GT(c.pid, 0);
  ASSERT_EQ(kill(c.pid, SIGSTOP), 0);
  int status = 0;
  ASSERT_EQ(WaitRetry(c.pid, &status, WUNTRACED), c.pid);
  EXPECT_TRUE(WIFSTOPPED(status)) << DescribeStatus(status);
  EXPECT_EQ(WSTOPSIG(status), SIGSTOP);
  // The stop is reported once.
  EXPECT_EQ(WaitRetry(c.pid, &status, WUNTRACED | WNOHANG), 0);

  ASSERT_EQ(kill(c.pid, SIGCONT), 0);
  ASSERT_EQ(WaitRetry(c.pid, &status, WCONTINUED), c.pid);
  EXPECT_TRUE(WIFCONTINUED(status)) << DescribeStatus(status);

  c.Release();
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 0);
}

void NoteSigchld(int) {}

TEST_F(WaitTest, ParentGetsSigchldWithChildInfo) {
  ScopedSigmask restore_mask;
  // A handler (though sigtimedwait takes the signal): as pid 1 in a sandbox
  // the test then depends on nothing but SIGCHLD itself.
  struct sigaction sa = {};
  sa.sa_handler = NoteSigchld;
  ScopedSigaction restore_action(SIGCHLD, sa);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, nullptr), 0);
  // Drop any SIGCHLD left over from earlier tests.
  struct timespec zero = {0, 0};
  while (sigtimedwait(&set, nullptr, &zero) == SIGCHLD) {
  }
  pid_t pid = ForkChild([] { return 17; });
  ASSERT_GT(pid, 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  struct timespec timeout = {30, 0};
  int sig = sigtimedwait(&set, &si, &timeout);
  EXPECT_EXITED_WITH(WaitStatus(pid), 17);
  ASSERT_EQ(sig, SIGCHLD) << strerror(errno);
  EXPECT_EQ(si.si_signo, SIGCHLD);
  EXPECT_EQ(si.si_code, CLD_EXITED);
  EXPECT_EQ(si.si_pid, pid);
  EXPECT_EQ(si.si_status, 17);
}

TEST_F(ForkExecTest, ForkExecTrueAndFalse) {
  pid_t t = fork();
  if (t == 0) {
    execve("/bin/true", kTrueArgs, environ);
    _exit(kChildFailed);
  }
  ASSERT_GT(t, 0);
  EXPECT_EXITED_WITH(WaitStatus(t), 0);

  pid_t f = fork();
  if (f == 0) {
    char* const argv[] = {const_cast<char*>("false"), nullptr};
    execve("/bin/false", argv, environ);
    _exit(kChildFailed);
  }
  ASSERT_GT(f, 0);
  EXPECT_EXITED_WITH(WaitStatus(f), 1);
}

TEST_F(ForkExecTest, ExecveOfMissingPathFailsWithEnoentInChild) {
  int status = RunInChild([] {
    char* const argv[] = {const_cast<char*>("nope"), nullptr};
    CHILD_CHECK(execve("/nonexistent/definitely/not/here", argv, environ) == -1);
    CHILD_CHECK(errno == ENOENT);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

int global_value = 1;

TEST_F(ForkTest, MemoryIsCopiedNotShared) {
  global_value = 1;
  std::unique_ptr<int> heap_value = std::make_unique<int>(2);
  volatile int stack_value = 3;
  Pipe to_child, to_parent;
  ASSERT_TRUE(to_child.ok() && to_parent.ok());
  pid_t pid = fork();
  if (pid == 0) {
    // Wait until the parent has changed its copies: ours must not change.
    char b;
    CHILD_CHECK(ReadFull(to_child.rd(), &b, 1));
    int seen[3] = {global_value, *heap_value, stack_value};
    global_value = 10;
    *heap_value = 20;
    stack_value = 30;
    CHILD_CHECK(WriteAll(to_parent.wr(), seen, sizeof seen));
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  global_value = 100;
  *heap_value = 200;
  stack_value = 300;
  ASSERT_TRUE(WriteAll(to_child.wr(), "g", 1));
  int seen[3];
  ASSERT_TRUE(ReadFull(to_parent.rd(), seen, sizeof seen));
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
  EXPECT_EQ(seen[0], 1) << "the child saw the parent's later write to a global";
  EXPECT_EQ(seen[1], 2) << "the child saw the parent's later write to the heap";
  EXPECT_EQ(seen[2], 3) << "the child saw the parent's later write to the stack";
  EXPECT_EQ(global_value, 100) << "the child's write reached the parent";
  EXPECT_EQ(*heap_value, 200);
  EXPECT_EQ(stack_value, 300);
}

TEST_F(ForkTest, ChildInheritsOpenFileDescriptors) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    p.CloseRead();
    CHILD_CHECK(WriteAll(p.wr(), "hello", 5));
    return 0;
  });
  ASSERT_GT(pid, 0);
  p.CloseWrite();
  EXPECT_EQ(ReadToEof(p.rd()), "hello");
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

// A middle child forks a grandchild and exits; the grandchild reports its
// parent before and after the middle child's death.
TEST_F(ForkTest, OrphanIsReparentedWhenParentDies) {
  Pipe go, report;
  ASSERT_TRUE(go.ok() && report.ok());
  pid_t middle = ForkChild([&] {
    Pipe ready;
    CHILD_CHECK(ready.ok());
    pid_t g = fork();
    CHILD_CHECK(g >= 0);
    if (g == 0) {
      go.CloseWrite();
      report.CloseRead();
      pid_t before = getppid();
      CHILD_CHECK(WriteAll(ready.wr(), "r", 1));
      char b;
      CHILD_CHECK(ReadFull(go.rd(), &b, 1));  // the test has reaped the middle child
      pid_t after[3] = {getpid(), before, getppid()};
      CHILD_CHECK(WriteAll(report.wr(), after, sizeof after));
      _exit(0);
    }
    char b;
    CHILD_CHECK(ReadFull(ready.rd(), &b, 1));  // exit only once it saw us as parent
    return 0;
  });
  ASSERT_GT(middle, 0);
  EXPECT_EXITED_WITH(WaitStatus(middle), 0);
  report.CloseWrite();
  go.CloseRead();
  ASSERT_TRUE(WriteAll(go.wr(), "g", 1));
  pid_t got[3];
  ASSERT_TRUE(ReadFull(report.rd(), got, sizeof got));
  EXPECT_EQ(got[1], middle) << "before: the grandchild's parent is the middle child";
  EXPECT_NE(got[2], middle) << "after the middle child died, it was reparented";
  EXPECT_GT(got[2], 0);
  // If the reaper is us (we are pid 1 in a sandbox, or a subreaper), reap it.
  if (got[2] == getpid()) {
    EXPECT_EXITED_WITH(WaitStatus(got[0]), 0);
  }
}

TEST_F(ForkTest, SubreaperAdoptsOrphans) {
  int status = RunInChild([] {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return 77;
    int is = 0;
    CHILD_CHECK(prctl(PR_GET_CHILD_SUBREAPER, &is, 0, 0, 0) == 0 && is == 1);
    int fds[2];
    CHILD_CHECK(pipe(fds) == 0);
    pid_t reaper = getpid();
    pid_t middle = fork();
    CHILD_CHECK(middle >= 0);
    if (middle == 0) {
      pid_t g = fork();
      if (g == 0) {
        char b;
        close(fds[1]);
        CHILD_CHECK(read(fds[0], &b, 1) == 0);  // EOF: the subreaper closed it
        _exit(getppid() == reaper ? 23 : 1);
      }
      _exit(g > 0 ? 0 : 1);
    }
    close(fds[0]);
    int st = 0;
    CHILD_CHECK(waitpid(middle, &st, 0) == middle && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(fds[1]);
    // The grandchild is now ours to reap.
    pid_t g = waitpid(-1, &st, 0);
    CHILD_CHECK(g > 0 && g != middle);
    CHILD_CHECK(WIFEXITED(st));
    return WEXITSTATUS(st);
  });
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) GTEST_SKIP() << "no PR_SET_CHILD_SUBREAPER";
  EXPECT_EXITED_WITH(status, 23);
}

volatile int vfork_shared = 0;

TEST_F(VforkTest, ChildRunsFirstInSharedMemoryThenExits) {
  vfork_shared = 0;
  pid_t pid = vfork();
  if (pid == 0) {
    // The parent is suspended and shares our memory until we _exit.
    vfork_shared = getpid();
    _exit(9);
  }
  ASSERT_GT(pid, 0);
  EXPECT_EQ(vfork_shared, pid) << "vfork's child shares the parent's memory";
  EXPECT_EXITED_WITH(WaitStatus(pid), 9);
}

TEST_F(VforkTest, VforkThenExecve) {
  char* const argv[] = {const_cast<char*>("false"), nullptr};
  pid_t pid = vfork();
  if (pid == 0) {
    execve("/bin/false", argv, environ);
    _exit(kChildFailed);
  }
  ASSERT_GT(pid, 0);
  EXPECT_EXITED_WITH(WaitStatus(pid), 1);
}

}  // namespace
}  // namespace syscall_test
