// Advisory locks, from flock(2) and fcntl(2) ("Advisory record locking",
// "Open file description locks"): who conflicts with whom, splitting of
// ranges, release on close and exit, blocking waits and their interruption.
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>

#include <string>

#include "syscall_test_util.h"

namespace {

using syscall_test::kChildFailed;
using syscall_test::WaitStatus;

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/lock_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    path_ = dir_ + "/file";
    int fd = open(path_.c_str(), O_CREAT | O_RDWR, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "0123456789abcdef", 16), 16);
    close(fd);
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  int Open(int flags = O_RDWR) { return open(path_.c_str(), flags); }

  std::string dir_, path_;
};

struct flock Range(short type, off_t start, off_t len) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  return fl;
}

TEST_F(LockTest, FlockExclusiveConflictsAcrossDescriptions) {
  int a = Open(), b = Open();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_EQ(flock(a, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(flock(b, LOCK_EX | LOCK_NB), -1);
  EXPECT_EQ(errno, EWOULDBLOCK);
  EXPECT_EQ(flock(b, LOCK_SH | LOCK_NB), -1);
  EXPECT_EQ(errno, EWOULDBLOCK);
  ASSERT_EQ(flock(a, LOCK_UN), 0);
  EXPECT_EQ(flock(b, LOCK_EX | LOCK_NB), 0);
  close(a);
  close(b);
}

TEST_F(LockTest, FlockSharedLocksCoexist) {
  int a = Open(), b = Open();
  ASSERT_EQ(flock(a, LOCK_SH | LOCK_NB), 0);
  EXPECT_EQ(flock(b, LOCK_SH | LOCK_NB), 0);
  close(a);
  close(b);
}

TEST_F(LockTest, FlockBelongsToTheDescriptionAndGoesWithItsLastFd) {
  int a = Open(), b = Open();
  ASSERT_EQ(flock(a, LOCK_EX | LOCK_NB), 0);
  int dup_a = dup(a);
  ASSERT_GE(dup_a, 0);
  // The same description through a dup: a conversion, not a conflict.
  EXPECT_EQ(flock(dup_a, LOCK_EX | LOCK_NB), 0);
  close(a);
  EXPECT_EQ(flock(b, LOCK_EX | LOCK_NB), -1) << "the dup still holds the lock";
  close(dup_a);
  EXPECT_EQ(flock(b, LOCK_EX | LOCK_NB), 0) << "closing the last FD released it";
  close(b);
}

TEST_F(LockTest, FlockRejectsBadOperations) {
  int a = Open();
  EXPECT_EQ(flock(a, LOCK_SH | LOCK_EX), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(flock(-1, LOCK_SH), -1);
  EXPECT_EQ(errno, EBADF);
  close(a);
}

TEST_F(LockTest, BlockingFlockWaitsForTheHolder) {
  int a = Open();
  ASSERT_EQ(flock(a, LOCK_EX), 0);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    int b = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(b >= 0);
    CHILD_CHECK(write(ready[1], "x", 1) == 1);
    CHILD_CHECK(flock(b, LOCK_EX) == 0);  // blocks until the parent unlocks
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(flock(a, LOCK_UN), 0);
  int status = WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
  close(a);
  close(ready[0]);
  close(ready[1]);
}

TEST_F(LockTest, RecordLockConflictsWithAnotherProcessAndGetlkReportsIt) {
  int a = Open();
  struct flock fl = Range(F_WRLCK, 0, 10);
  ASSERT_EQ(fcntl(a, F_SETLK, &fl), 0);
  // The owner's own locks never conflict with it.
  struct flock mine = Range(F_WRLCK, 5, 1);
  ASSERT_EQ(fcntl(a, F_GETLK, &mine), 0);
  EXPECT_EQ(mine.l_type, F_UNLCK);
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    int b = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(b >= 0);
    struct flock probe = Range(F_RDLCK, 5, 1);
    CHILD_CHECK(fcntl(b, F_GETLK, &probe) == 0);
    CHILD_CHECK(probe.l_type == F_WRLCK);
    CHILD_CHECK(probe.l_start == 0 && probe.l_len == 10);
    CHILD_CHECK(probe.l_pid == parent);
    struct flock take = Range(F_RDLCK, 5, 1);
    CHILD_CHECK(fcntl(b, F_SETLK, &take) == -1 && (errno == EAGAIN || errno == EACCES));
    // Beyond the locked bytes, nothing conflicts.
    struct flock beyond = Range(F_WRLCK, 10, 5);
    CHILD_CHECK(fcntl(b, F_SETLK, &beyond) == 0);
    _exit(0);
  }
  int status = WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
  close(a);
}

TEST_F(LockTest, UnlockingTheMiddleSplitsTheRange) {
  int a = Open();
  struct flock fl = Range(F_WRLCK, 0, 10);
  ASSERT_EQ(fcntl(a, F_SETLK, &fl), 0);
  struct flock hole = Range(F_UNLCK, 3, 2);
  ASSERT_EQ(fcntl(a, F_SETLK, &hole), 0);
  pid_t child = fork();
  if (child == 0) {
    int b = open(path_.c_str(), O_RDWR);
    struct flock in_hole = Range(F_WRLCK, 3, 2);
    CHILD_CHECK(fcntl(b, F_GETLK, &in_hole) == 0 && in_hole.l_type == F_UNLCK);
    struct flock left = Range(F_WRLCK, 0, 3);
    CHILD_CHECK(fcntl(b, F_GETLK, &left) == 0 && left.l_type == F_WRLCK && left.l_start == 0 && left.l_len == 3);
    struct flock right = Range(F_WRLCK, 5, 1);
    CHILD_CHECK(fcntl(b, F_GETLK, &right) == 0 && right.l_type == F_WRLCK && right.l_start == 5 &&
                right.l_len == 5);
    _exit(0);
  }
  int status = WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
  close(a);
}

TEST_F(LockTest, ClosingAnyFdOfTheFileDropsTheProcesssLocks) {
  int a = Open();
  struct flock fl = Range(F_WRLCK, 0, 0);  // to the end of the file
  ASSERT_EQ(fcntl(a, F_SETLK, &fl), 0);
  int other = Open(O_RDONLY);
  ASSERT_GE(other, 0);
  close(other);  // fcntl(2): this releases the locks taken through `a`
  pid_t child = fork();
  if (child == 0) {
    int b = open(path_.c_str(), O_RDWR);
    struct flock probe = Range(F_WRLCK, 0, 0);
    CHILD_CHECK(fcntl(b, F_GETLK, &probe) == 0 && probe.l_type == F_UNLCK);
    _exit(0);
  }
  int status = WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
  close(a);
}

TEST_F(LockTest, RecordLocksGoWhenTheProcessExits) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    int b = open(path_.c_str(), O_RDWR);
    struct flock fl = Range(F_WRLCK, 0, 0);
    CHILD_CHECK(fcntl(b, F_SETLK, &fl) == 0);
    _exit(0);
  }
  int status = WaitStatus(child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
  int a = Open();
  struct flock probe = Range(F_WRLCK, 0, 0);
  ASSERT_EQ(fcntl(a, F_GETLK, &probe), 0);
  EXPECT_EQ(probe.l_type, F_UNLCK);
  close(a);
  close(ready[0]);
  close(ready[1]);
}

TEST_F(LockTest, SetlkwWaitsUntilTheRangeIsFree) {
  int a = Open();
  struct flock fl = Range(F_WRLCK, 0, 4);
  ASSERT_EQ(fcntl(a, F_SETLK, &fl), 0);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    int b = open(path_.c_str(), O_RDWR);
    CHILD_CHECK(write(ready[1], "x", 1) == 1);
    struct flock want = Range(F_WRLCK, 2, 1);
    CHILD_CHECK(fcntl(b, F_SETLKW, &want) == 0);
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  struct flock un = Range(F_UNLCK, 0, 4);
  ASSERT_EQ(fcntl(a, F_SETLK, &un), 0);
  int status = WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
  close(a);
  close(ready[0]);
  close(ready[1]);
}

void OnAlarm(int) {}

TEST_F(LockTest, SetlkwIsInterruptedByAHandlerWithoutSaRestart) {
  int a = Open();
  struct flock fl = Range(F_WRLCK, 0, 0);
  ASSERT_EQ(fcntl(a, F_SETLK, &fl), 0);
  pid_t child = fork();
  if (child == 0) {
    struct sigaction sa {};
    sa.sa_handler = OnAlarm;  // no SA_RESTART
    CHILD_CHECK(sigaction(SIGALRM, &sa, nullptr) == 0);
    int b = open(path_.c_str(), O_RDWR);
    alarm(1);
    struct flock want = Range(F_WRLCK, 0, 0);
    CHILD_CHECK(fcntl(b, F_SETLKW, &want) == -1 && errno == EINTR);
    _exit(0);
  }
  int status = WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << syscall_test::DescribeStatus(status);
  close(a);
}

TEST_F(LockTest, OfdLocksConflictBetweenDescriptionsOfOneProcess) {
  int a = Open(), b = Open();
  struct flock fl = Range(F_WRLCK, 0, 8);
  ASSERT_EQ(fcntl(a, F_OFD_SETLK, &fl), 0);
  struct flock other = Range(F_RDLCK, 4, 1);
  EXPECT_EQ(fcntl(b, F_OFD_SETLK, &other), -1);
  EXPECT_EQ(errno, EAGAIN);
  struct flock probe = Range(F_RDLCK, 4, 1);
  ASSERT_EQ(fcntl(b, F_OFD_GETLK, &probe), 0);
  EXPECT_EQ(probe.l_type, F_WRLCK);
  EXPECT_EQ(probe.l_pid, -1) << "OFD locks have no owning process";
  close(a);  // the description goes, and its lock with it
  struct flock again = Range(F_RDLCK, 4, 1);
  EXPECT_EQ(fcntl(b, F_OFD_SETLK, &again), 0);
  close(b);
}

TEST_F(LockTest, ArgumentErrors) {
  int ro = Open(O_RDONLY);
  struct flock w = Range(F_WRLCK, 0, 1);
  EXPECT_EQ(fcntl(ro, F_SETLK, &w), -1);
  EXPECT_EQ(errno, EBADF) << "a write lock needs a writable FD";
  struct flock bad = Range(42, 0, 1);
  EXPECT_EQ(fcntl(ro, F_SETLK, &bad), -1);
  EXPECT_EQ(errno, EINVAL);
  struct flock ofd = Range(F_RDLCK, 0, 1);
  ofd.l_pid = 1;
  EXPECT_EQ(fcntl(ro, F_OFD_SETLK, &ofd), -1);
  EXPECT_EQ(errno, EINVAL) << "F_OFD_* need l_pid 0";
  struct flock before_start = Range(F_RDLCK, 0, -1);
  EXPECT_EQ(fcntl(ro, F_SETLK, &before_start), -1);
  EXPECT_EQ(errno, EINVAL) << "a range before offset 0";
  close(ro);
}

}  // namespace
