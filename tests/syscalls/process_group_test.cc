// setpgid(2)/getpgid(2)/getpgrp(2), setsid(2)/getsid(2) and kill(2) on
// process groups, as the Linux man pages describe them. Everything that
// changes a group or session is done in forked children.
#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

TEST(ProcessGroupTest, GetpgrpAgreesWithGetpgid) {
  // No > 0 check: as pid 1 of a new pid namespace (as in a sandbox), the
  // group and session may lie outside the namespace and read as 0.
  pid_t pgrp = getpgrp();
  EXPECT_EQ(getpgid(0), pgrp);
  EXPECT_EQ(getpgid(getpid()), pgrp);
}

TEST(ProcessGroupTest, GetsidZeroIsOwnSession) {
  pid_t sid = getsid(0);
  EXPECT_GE(sid, 0);
  EXPECT_EQ(getsid(getpid()), sid);
}

TEST(ProcessGroupTest, ChildInheritsGroupAndSession) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  BlockedChild c = ForkBlockedChild(0, [&] {
    pid_t ids[2] = {getpgrp(), getsid(0)};
    CHILD_CHECK(WriteAll(p.wr(), ids, sizeof ids));
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  pid_t ids[2];
  ASSERT_TRUE(ReadFull(p.rd(), ids, sizeof ids));
  EXPECT_EQ(ids[0], getpgrp());
  EXPECT_EQ(ids[1], getsid(0));
  // The parent sees the same through getpgid/getsid of the child.
  EXPECT_EQ(getpgid(c.pid), getpgrp());
  EXPECT_EQ(getsid(c.pid), getsid(0));
  c.Release();
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 0);
}

TEST(ProcessGroupTest, SetpgidZeroZeroMakesChildAGroupLeader) {
  pid_t parent_sid = getsid(0);
  int status = RunInChild([parent_sid] {
    CHILD_CHECK(getpgrp() != getpid());
    CHILD_CHECK(setpgid(0, 0) == 0);
    CHILD_CHECK(getpgrp() == getpid());
    CHILD_CHECK(getpgid(0) == getpid());
    CHILD_CHECK(getsid(0) == parent_sid);  // the session does not change
    // Doing it again is a no-op that succeeds.
    CHILD_CHECK(setpgid(0, getpid()) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(ProcessGroupTest, ParentMovesChildIntoNewGroupAndSiblingJoinsIt) {
  BlockedChild a = ForkBlockedChild(0);
  BlockedChild b = ForkBlockedChild(0);
  ASSERT_GT(a.pid, 0);
  ASSERT_GT(b.pid, 0);
  ASSERT_EQ(setpgid(a.pid, a.pid), 0) << strerror(errno);
  EXPECT_EQ(getpgid(a.pid), a.pid);
  ASSERT_EQ(setpgid(b.pid, a.pid), 0) << strerror(errno);
  EXPECT_EQ(getpgid(b.pid), a.pid);
  EXPECT_NE(getpgrp(), a.pid) << "the parent's own group is unchanged";
  // setpgid(child, 0) moves it to a group named after itself.
  ASSERT_EQ(setpgid(b.pid, 0), 0);
  EXPECT_EQ(getpgid(b.pid), b.pid);
  a.Release();
  b.Release();
  EXPECT_EXITED_WITH(WaitStatus(a.pid), 0);
  EXPECT_EXITED_WITH(WaitStatus(b.pid), 0);
}

TEST(ProcessGroupTest, SetpgidOfChildAfterExecveGivesEacces) {
  // The child execs /bin/cat reading a pipe; a close-on-exec pipe tells us
  // when the execve has happened (its write end closes).
  Pipe input, exec_done(O_CLOEXEC);
  ASSERT_TRUE(input.ok() && exec_done.ok());
  pid_t pid = ForkChild([&] {
    CHILD_CHECK(dup2(input.rd(), 0) == 0);
    input.CloseRead();
    input.CloseWrite();
    char* const argv[] = {const_cast<char*>("cat"), nullptr};
    execve("/bin/cat", argv, environ);
    return kChildFailed;
  });
  ASSERT_GT(pid, 0);
  input.CloseRead();
  exec_done.CloseWrite();
  char b;
  ASSERT_EQ(read(exec_done.rd(), &b, 1), 0) << "the child's execve did not close the pipe";
  errno = 0;
  EXPECT_EQ(setpgid(pid, pid), -1);
  EXPECT_EQ(errno, EACCES);
  input.CloseWrite();  // cat sees end of file and exits 0
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(ProcessGroupTest, SetsidInChildCreatesSessionAndGroup) {
  pid_t parent_sid = getsid(0);
  int status = RunInChild([parent_sid] {
    pid_t sid = setsid();
    CHILD_CHECK(sid == getpid());
    CHILD_CHECK(getsid(0) == getpid());
    CHILD_CHECK(getpgrp() == getpid());
    CHILD_CHECK(getsid(0) != parent_sid);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(ProcessGroupTest, ParentSeesChildsNewSession) {
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  BlockedChild c = ForkBlockedChild(0, [&] {
    CHILD_CHECK(setsid() == getpid());
    CHILD_CHECK(WriteAll(ready.wr(), "s", 1));
    return 0;
  });
  ASSERT_GT(c.pid, 0);
  char b;
  ASSERT_TRUE(ReadFull(ready.rd(), &b, 1));
  EXPECT_EQ(getsid(c.pid), c.pid);
  EXPECT_EQ(getpgid(c.pid), c.pid);
  // A child in another session cannot be moved by its parent.
  errno = 0;
  EXPECT_EQ(setpgid(c.pid, getpgrp()), -1);
  EXPECT_EQ(errno, EPERM);
  c.Release();
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 0);
}

TEST(ProcessGroupTest, SetsidByGroupLeaderGivesEperm) {
  int status = RunInChild([] {
    CHILD_CHECK(setpgid(0, 0) == 0);
    errno = 0;
    CHILD_CHECK(setsid() == -1);
    CHILD_CHECK(errno == EPERM);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(ProcessGroupTest, SessionLeaderCannotChangeItsGroup) {
  int status = RunInChild([] {
    CHILD_CHECK(setsid() == getpid());
    errno = 0;
    CHILD_CHECK(setsid() == -1);  // already a (session and group) leader
    CHILD_CHECK(errno == EPERM);
    errno = 0;
    CHILD_CHECK(setpgid(0, 0) == -1);
    CHILD_CHECK(errno == EPERM);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(ProcessGroupTest, SetpgidIntoGroupOfAnotherSessionGivesEperm) {
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  BlockedChild leader = ForkBlockedChild(0, [&] {
    CHILD_CHECK(setsid() == getpid());
    CHILD_CHECK(WriteAll(ready.wr(), "s", 1));
    return 0;
  });
  ASSERT_GT(leader.pid, 0);
  char b;
  ASSERT_TRUE(ReadFull(ready.rd(), &b, 1));
  pid_t other_group = leader.pid;
  int status = RunInChild([other_group] {
    errno = 0;
    CHILD_CHECK(setpgid(0, other_group) == -1);
    CHILD_CHECK(errno == EPERM);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
  leader.Release();
  EXPECT_EXITED_WITH(WaitStatus(leader.pid), 0);
}

TEST(ProcessGroupTest, SetpgidIntoNonexistentGroupGivesEperm) {
  pid_t gone = ReapedPid();
  ASSERT_GT(gone, 0);
  int status = RunInChild([gone] {
    errno = 0;
    CHILD_CHECK(setpgid(0, gone) == -1);
    CHILD_CHECK(errno == EPERM);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(ProcessGroupTest, SetpgidNegativePgidGivesEinval) {
  errno = 0;
  EXPECT_EQ(setpgid(0, -1), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(ProcessGroupTest, SetpgidNegativePidGivesEinval) {
  errno = 0;
  EXPECT_EQ(setpgid(-5, 0), -1);
  EXPECT_EQ(errno, EINVAL) << "EINVAL, not ESRCH: a negative pid is checked first";
}

TEST(ProcessGroupTest, SetpgidOfNonChildGivesEsrch) {
  // A grandchild is not our child. The middle child reaps it before it
  // exits, so that it is never reparented to us (as it would be were we
  // pid 1).
  Pipe report, go;
  ASSERT_TRUE(report.ok() && go.ok());
  pid_t middle = ForkChild([&] {
    go.CloseWrite();
    BlockedChild g = ForkBlockedChild(0);
    CHILD_CHECK(g.pid > 0);
    CHILD_CHECK(WriteAll(report.wr(), &g.pid, sizeof g.pid));
    char b;
    CHILD_CHECK(read(go.rd(), &b, 1) == 1);  // the test is done with it
    g.Release();
    int st;
    CHILD_CHECK(waitpid(g.pid, &st, 0) == g.pid && WIFEXITED(st));
    return 0;
  });
  ASSERT_GT(middle, 0);
  pid_t grandchild;
  ASSERT_TRUE(ReadFull(report.rd(), &grandchild, sizeof grandchild));
  errno = 0;
  EXPECT_EQ(setpgid(grandchild, grandchild), -1);
  EXPECT_EQ(errno, ESRCH);
  pid_t gone = ReapedPid();
  ASSERT_GT(gone, 0);
  errno = 0;
  EXPECT_EQ(setpgid(gone, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  ASSERT_TRUE(WriteAll(go.wr(), "g", 1));
  EXPECT_EXITED_WITH(WaitStatus(middle), 0);
}

TEST(ProcessGroupTest, GetpgidAndGetsidOfMissingProcessGiveEsrch) {
  pid_t gone = ReapedPid();
  ASSERT_GT(gone, 0);
  errno = 0;
  EXPECT_EQ(getpgid(gone), -1);
  EXPECT_EQ(errno, ESRCH);
  errno = 0;
  EXPECT_EQ(getsid(gone), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ProcessGroupTest, KillOfNegativePgidReachesEveryMember) {
  BlockedChild a = ForkBlockedChild(0);
  BlockedChild b = ForkBlockedChild(0);
  ASSERT_GT(a.pid, 0);
  ASSERT_GT(b.pid, 0);
  ASSERT_EQ(setpgid(a.pid, a.pid), 0);
  ASSERT_EQ(setpgid(b.pid, a.pid), 0);
  ASSERT_NE(getpgrp(), a.pid);
  ASSERT_EQ(kill(-a.pid, SIGUSR2), 0) << strerror(errno);
  EXPECT_KILLED_BY(WaitStatus(a.pid), SIGUSR2);
  EXPECT_KILLED_BY(WaitStatus(b.pid), SIGUSR2);
  a.Release();
  b.Release();
}

TEST(ProcessGroupTest, KillpgReachesEveryMember) {
  BlockedChild a = ForkBlockedChild(0);
  BlockedChild b = ForkBlockedChild(0);
  ASSERT_GT(a.pid, 0);
  ASSERT_GT(b.pid, 0);
  ASSERT_EQ(setpgid(a.pid, a.pid), 0);
  ASSERT_EQ(setpgid(b.pid, a.pid), 0);
  ASSERT_EQ(killpg(a.pid, SIGTERM), 0) << strerror(errno);
  EXPECT_KILLED_BY(WaitStatus(a.pid), SIGTERM);
  EXPECT_KILLED_BY(WaitStatus(b.pid), SIGTERM);
  a.Release();
  b.Release();
}

TEST(ProcessGroupTest, KillOfMissingGroupGivesEsrch) {
  pid_t gone = ReapedPid();
  ASSERT_GT(gone, 1);  // never kill(-1, ...)
  errno = 0;
  EXPECT_EQ(kill(-gone, SIGTERM), -1);
  EXPECT_EQ(errno, ESRCH);
  errno = 0;
  EXPECT_EQ(killpg(gone, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ProcessGroupTest, KillZeroSignalsTheCallersGroup) {
  // A child leads a new group with two members of its own, then kill(0, sig)
  // with the signal ignored by itself: both members die of it.
  int status = RunInChild([] {
    CHILD_CHECK(setpgid(0, 0) == 0);
    BlockedChild g1 = ForkBlockedChild(0);
    BlockedChild g2 = ForkBlockedChild(0);
    CHILD_CHECK(g1.pid > 0 && g2.pid > 0);
    CHILD_CHECK(getpgid(g1.pid) == getpid() && getpgid(g2.pid) == getpid());
    CHILD_CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
    CHILD_CHECK(kill(0, SIGUSR1) == 0);
    int st = 0;
    CHILD_CHECK(waitpid(g1.pid, &st, 0) == g1.pid);
    CHILD_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
    CHILD_CHECK(waitpid(g2.pid, &st, 0) == g2.pid);
    CHILD_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(ProcessGroupTest, KillWithSignalZeroChecksExistence) {
  BlockedChild c = ForkBlockedChild(4);
  ASSERT_GT(c.pid, 0);
  EXPECT_EQ(kill(c.pid, 0), 0) << "running";
  c.Release();
  siginfo_t si;
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(c.pid), &si, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(kill(c.pid, 0), 0) << "a zombie still exists";
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 4);
  errno = 0;
  EXPECT_EQ(kill(c.pid, 0), -1) << "reaped";
  EXPECT_EQ(errno, ESRCH);
}

TEST(ProcessGroupTest, KillWithInvalidSignalGivesEinval) {
  BlockedChild c = ForkBlockedChild(0);
  ASSERT_GT(c.pid, 0);
  errno = 0;
  EXPECT_EQ(kill(c.pid, 65), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(kill(c.pid, -3), -1);
  EXPECT_EQ(errno, EINVAL);
  c.Release();
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 0) << "the invalid signals did nothing";
}

TEST(ProcessGroupTest, WaitpidZeroAndNegativePgidSelectByGroup) {
  BlockedChild c = ForkBlockedChild(6);
  ASSERT_GT(c.pid, 0);
  ASSERT_EQ(setpgid(c.pid, c.pid), 0);
  int status = 0;
  // Our only child is in another group: waitpid(0) has nothing to wait for.
  errno = 0;
  EXPECT_EQ(waitpid(0, &status, 0), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(waitpid(-c.pid, &status, WNOHANG), 0) << "in the group, still running";
  c.Release();
  EXPECT_EQ(WaitRetry(-c.pid, &status), c.pid);
  EXPECT_EXITED_WITH(status, 6);
}

}  // namespace
}  // namespace syscall_test
