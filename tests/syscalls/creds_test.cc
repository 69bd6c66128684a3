// Credentials: setuid(2), setreuid(2), setresuid(2), setgroups(2),
// capget(2)/capset(2), and what credentials(7) and capabilities(7) say
// happens to capabilities when user IDs change. Each case changes IDs in a
// forked child, since they cannot be changed back. Needs to start as root.
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "syscall_test_util.h"

namespace {

using syscall_test::ForkChild;
using syscall_test::RunInChild;
using syscall_test::kChildFailed;

uint64_t effective_caps() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return ~0ULL;
  return (uint64_t{data[1].effective} << 32) | data[0].effective;
}

class CredsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs to start as root (euid 0)";
  }
};

TEST_F(CredsTest, RootSetresuidChangesAllThreeAndDropsCapabilities) {
  int status = RunInChild([] {
    CHILD_CHECK(effective_caps() != 0);
    CHILD_CHECK(setresuid(1000, 1001, 1002) == 0);
    uid_t r, e, s;
    CHILD_CHECK(getresuid(&r, &e, &s) == 0);
    CHILD_CHECK(r == 1000 && e == 1001 && s == 1002);
    // No uid is 0 any more: permitted and effective sets are cleared.
    CHILD_CHECK(effective_caps() == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(CredsTest, UnprivilegedSetuidOnlyToRealOrSaved) {
  int status = RunInChild([] {
    CHILD_CHECK(setresuid(1000, 1001, 1002) == 0);
    errno = 0;
    CHILD_CHECK(setuid(0) == -1 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(setuid(1003) == -1 && errno == EPERM);
    CHILD_CHECK(setuid(1002) == 0);  // the saved uid: only the effective changes
    uid_t r, e, s;
    CHILD_CHECK(getresuid(&r, &e, &s) == 0);
    CHILD_CHECK(r == 1000 && e == 1002 && s == 1002);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(CredsTest, SetreuidUpdatesSavedUidFromNewEffective) {
  int status = RunInChild([] {
    // Effective set to something other than the old real uid: saved follows.
    CHILD_CHECK(setreuid(static_cast<uid_t>(-1), 1005) == 0);
    uid_t r, e, s;
    CHILD_CHECK(getresuid(&r, &e, &s) == 0);
    CHILD_CHECK(r == 0 && e == 1005 && s == 1005);
    // Still root as the real uid: effective back to 0 is allowed, and the
    // capabilities come back with it.
    CHILD_CHECK(effective_caps() == 0);
    CHILD_CHECK(setreuid(static_cast<uid_t>(-1), 0) == 0);
    CHILD_CHECK(geteuid() == 0);
    CHILD_CHECK(effective_caps() != 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(CredsTest, SetuidMinusOneIsEinval) {
  errno = 0;
  EXPECT_EQ(setuid(static_cast<uid_t>(-1)), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(CredsTest, SetgroupsNeedsCapSetgid) {
  int status = RunInChild([] {
    gid_t groups[] = {5, 3, 4};
    CHILD_CHECK(setgroups(3, groups) == 0);
    gid_t back[8];
    CHILD_CHECK(getgroups(8, back) == 3);
    CHILD_CHECK(setresgid(2000, 2000, 2000) == 0);
    CHILD_CHECK(getgid() == 2000 && getegid() == 2000);
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    errno = 0;
    CHILD_CHECK(setgroups(1, groups) == -1 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(setgid(0) == -1 && errno == EPERM);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(CredsTest, CapsetCannotAddPermittedCapabilities) {
  int status = RunInChild([] {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    CHILD_CHECK(syscall(SYS_capget, &header, data) == 0);
    // Drop CAP_KILL (5) from effective and permitted.
    data[0].effective &= ~(1u << 5);
    data[0].permitted &= ~(1u << 5);
    CHILD_CHECK(syscall(SYS_capset, &header, data) == 0);
    data[0].permitted |= 1u << 5;
    errno = 0;
    CHILD_CHECK(syscall(SYS_capset, &header, data) == -1 && errno == EPERM);
    // Effective outside permitted is refused too.
    data[0].permitted &= ~(1u << 5);
    data[0].effective |= 1u << 5;
    errno = 0;
    CHILD_CHECK(syscall(SYS_capset, &header, data) == -1 && errno == EPERM);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(CredsTest, CapgetWithUnknownVersionReportsThePreferredOne) {
  __user_cap_header_struct header{0x12345678, 0};
  EXPECT_EQ(syscall(SYS_capget, &header, nullptr), 0) << "a probe with no data succeeds";
  EXPECT_EQ(header.version, static_cast<uint32_t>(_LINUX_CAPABILITY_VERSION_3));
  header.version = 0x12345678;
  __user_cap_data_struct data[2]{};
  errno = 0;
  EXPECT_EQ(syscall(SYS_capget, &header, data), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(CredsTest, ChildInheritsCredentials) {
  int status = RunInChild([] {
    CHILD_CHECK(setresuid(1000, 1000, 1000) == 0);
    pid_t pid = ForkChild([] { return getuid() == 1000 && geteuid() == 1000 ? 0 : 1; });
    CHILD_CHECK(pid > 0);
    return syscall_test::WaitStatus(pid) == 0 ? 0 : kChildFailed;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// In a child: RLIMIT_NPROC set to `limit` and the real, effective and
// saved uid to `uid` (0 keeps root), then up to `most` children forked,
// each waiting to be released, until fork fails; all are released and
// reaped before it returns. The number made (-1 if the setup failed), and
// the errno of the fork that failed (0 if none) in `err`.
int forks_under_nproc_limit(rlim_t limit, uid_t uid, int most, int& err) {
  int release[2];
  if (pipe(release) != 0) return -1;
  rlimit r{limit, limit};
  if (setrlimit(RLIMIT_NPROC, &r) != 0) return -1;
  if (uid != 0 && setresuid(uid, uid, uid) != 0) return -1;
  err = 0;
  int made = 0;
  for (; made < most; ++made) {
    pid_t pid = fork();
    if (pid == 0) {
      close(release[1]);
      char b;
      (void)read(release[0], &b, 1);
      _exit(0);
    }
    if (pid < 0) {
      err = errno;
      break;
    }
  }
  close(release[1]);
  while (wait(nullptr) > 0) {
  }
  return made;
}

// setrlimit(2) RLIMIT_NPROC: the real user's tasks (the caller counts)
// are limited; fork past it is EAGAIN. An uncommon uid, so that no other
// process on the machine is counted with the test's when run natively.
TEST_F(CredsTest, RlimitNprocBoundsTheRealUsersTasks) {
  int status = RunInChild([] {
    int err = 0;
    CHILD_CHECK(forks_under_nproc_limit(3, 54321, 64, err) == 2);  // the caller and two children: three tasks
    CHILD_CHECK(err == EAGAIN);
    // Once they are gone, there is room again.
    pid_t pid = ForkChild([] { return 0; });
    CHILD_CHECK(pid > 0);
    return syscall_test::WaitStatus(pid) == 0 ? 0 : kChildFailed;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// Root (uid 0) is not held by RLIMIT_NPROC (Linux's copy_process exempts
// the initial user and CAP_SYS_RESOURCE/CAP_SYS_ADMIN).
TEST_F(CredsTest, RlimitNprocDoesNotBindRoot) {
  int status = RunInChild([] {
    int err = 0;
    CHILD_CHECK(forks_under_nproc_limit(1, 0, 4, err) == 4);
    CHILD_CHECK(err == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// prctl(2) PR_SET_NO_NEW_PRIVS: only the value 1, never unset, inherited
// by children.
TEST_F(CredsTest, NoNewPrivsIsSetOnceAndInherited) {
  int status = RunInChild([] {
    CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0) == -1 && errno == EINVAL);
    CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
    CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) == -1 && errno == EINVAL);
    pid_t pid = ForkChild([] { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1; });
    CHILD_CHECK(pid > 0);
    return syscall_test::WaitStatus(pid) == 0 ? 0 : kChildFailed;
  });
  EXPECT_EXITED_WITH(status, 0);
}

}  // namespace
