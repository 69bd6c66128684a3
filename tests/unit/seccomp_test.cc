// The host seccomp allowlists of the Sentry and the gofer: what is listed
// runs, anything else stops the process with one line naming the syscall.
// Each case runs in a forked child, since a filter cannot be removed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>

#include "common/seccomp.h"
#include "gofer/server.h"
#include "sentry/kernel/host_syscalls.h"

namespace runsc {
namespace {

struct ChildResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string stderr_text;
};

// Forks; the child installs `allow`, runs `body` and exits 0.
ChildResult run_confined(const std::vector<seccomp::Rule>& allow, const std::function<void()>& body,
                         seccomp::Enforcement enforcement = seccomp::Enforcement::kKill) {
  int err[2];
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err[1], STDERR_FILENO);
    if (!seccomp::install_allowlist(allow, "test", enforcement)) ::_exit(100);
    body();
    ::_exit(0);
  }
  ::close(err[1]);
  ChildResult result;
  char buf[512];
  ssize_t n;
  while ((n = ::read(err[0], buf, sizeof(buf))) > 0) result.stderr_text.append(buf, static_cast<size_t>(n));
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

TEST(SentryAllowlist, ListedSyscallsRun) {
  auto r = run_confined(kernel::sentry_host_syscalls(), [] {
    if (::syscall(SYS_getpid) <= 0) ::_exit(1);
    struct stat st;
    if (::fstat(STDERR_FILENO, &st) != 0) ::_exit(2);  // newfstatat(fd, "", AT_EMPTY_PATH)
    if (::fcntl(STDERR_FILENO, F_GETFD) < 0) ::_exit(3);
  });
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
}

TEST(SentryAllowlist, OpeningAHostPathNeverReachesTheHost) {
  // openat fails with ENOENT without running, even for a file that exists:
  // glibc's malloc tries /proc/sys/vm/overcommit_memory and copes.
  auto r = run_confined(kernel::sentry_host_syscalls(), [] {
    long fd = ::syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
    if (fd != -1 || errno != ENOENT) ::_exit(1);
  });
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  // The older open(2) is not listed at all: it stops the process.
  auto old_open = run_confined(kernel::sentry_host_syscalls(), [] { ::syscall(SYS_open, "/etc/hostname", O_RDONLY); });
  EXPECT_EQ(old_open.exit_code, 128 + SIGSYS);
  EXPECT_EQ(old_open.stderr_text, "runsc: test: host syscall 2 is not in the seccomp allowlist; stopping\n");
}

TEST(SentryAllowlist, ArgumentChecksHold) {
  // newfstatat is allowed only as fstat (AT_EMPTY_PATH): a path lookup is not.
  auto by_path = run_confined(kernel::sentry_host_syscalls(), [] {
    struct stat st;
    ::syscall(SYS_newfstatat, AT_FDCWD, "/", &st, 0);
  });
  EXPECT_EQ(by_path.exit_code, 128 + SIGSYS) << by_path.stderr_text;
  // fcntl F_SETOWN is not among the allowed commands.
  auto setown = run_confined(kernel::sentry_host_syscalls(), [] { ::fcntl(STDERR_FILENO, F_SETOWN, 1); });
  EXPECT_EQ(setown.exit_code, 128 + SIGSYS) << setown.stderr_text;
}

TEST(SentryAllowlist, NoExecNoSocketsNoMounts) {
  for (long nr : {SYS_execve, SYS_socket, SYS_mount, SYS_ptrace}) {
    auto r = run_confined(kernel::sentry_host_syscalls(), [nr] { ::syscall(nr, 0, 0, 0, 0, 0); });
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "syscall " << nr << ": " << r.stderr_text;
  }
}

// hostinet: the Sentry may make only the host sockets it offers (inet,
// always non-blocking; netlink route for its own dumps), pass only the
// listed options, and never reach a host unix socket, a packet socket or
// an interface-changing ioctl.
TEST(SentryAllowlist, HostSocketsOnlyInTheirOfferedForms) {
  auto ok = run_confined(kernel::sentry_host_syscalls(), [] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) ::_exit(1);
    int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) ::_exit(2);
    ::close(fd);
    fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) ::_exit(3);
    ::close(fd);
    fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) ::_exit(4);
    ::close(fd);
  });
  EXPECT_EQ(ok.exit_code, 0) << ok.stderr_text;
  const std::vector<std::function<void()>> refused = {
      [] { ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); },
      [] { ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); },
      [] { ::socket(AF_INET, SOCK_STREAM, 0); },  // a blocking one
      [] { ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP); },
      [] { ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER); },
      [] {
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sock_fprog prog{};
        ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));  // a BPF program for the host
      },
      [] {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        msghdr m{};
        ::sendmsg(fd, &m, MSG_FASTOPEN);  // a flag hostinet never passes
      },
      [] {
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ifreq req{};
        ::ioctl(fd, SIOCSIFFLAGS, &req);  // changing an interface
      },
  };
  for (size_t i = 0; i < refused.size(); ++i) {
    auto r = run_confined(kernel::sentry_host_syscalls(), refused[i]);
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "case " << i << ": " << r.stderr_text;
  }
}

// Memory, futexes and threads in the forms the Sentry's code (and its
// stubs, forks under the same filter) uses, and nothing else.
TEST(SentryAllowlist, MemoryFutexAndThreadRulesAreNarrowed) {
  const int memfd = static_cast<int>(::syscall(SYS_memfd_create, "seccomp-test", MFD_CLOEXEC));
  ASSERT_GE(memfd, 0);
  ASSERT_EQ(::ftruncate(memfd, 4096), 0);
  auto ok = run_confined(kernel::sentry_host_syscalls(), [memfd] {
    void* anon = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (anon == MAP_FAILED) ::_exit(1);
    // A stub's mapping of application code: MAP_SHARED | MAP_FIXED from the memory file.
    if (::mmap(anon, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, memfd, 0) == MAP_FAILED) ::_exit(2);
    int word = 0;
    if (::syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0) < 0) ::_exit(3);
    // clone3 is refused with ENOSYS, and glibc falls back to clone.
    if (::syscall(SYS_clone3, nullptr, 0) != -1 || errno != ENOSYS) ::_exit(4);
    pthread_t thread;
    if (::pthread_create(&thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr) != 0) ::_exit(5);
    if (::pthread_join(thread, nullptr) != 0) ::_exit(6);
  });
  EXPECT_EQ(ok.exit_code, 0) << ok.stderr_text;
  const std::vector<std::function<void()>> refused = {
      // Executable memory of the Sentry's own (shellcode's first need).
      [] { ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); },
      [] { ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_ANONYMOUS, -1, 0); },
      [] { ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0); },
      [] { ::mprotect(nullptr, 4096, PROT_READ | PROT_GROWSDOWN); },
      [] { ::madvise(nullptr, 4096, MADV_HWPOISON); },
      [] {
        int word = 0;
        ::syscall(SYS_futex, &word, FUTEX_LOCK_PI, 0, nullptr, nullptr, 0);
      },
      [] { ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0); },
      [] { ::syscall(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0); },
  };
  for (size_t i = 0; i < refused.size(); ++i) {
    auto r = run_confined(kernel::sentry_host_syscalls(), refused[i]);
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "case " << i << ": " << r.stderr_text;
  }
  ::close(memfd);
}

TEST(SentryAllowlist, FdArgumentsAreNeverNegative) {
  auto ok = run_confined(kernel::sentry_host_syscalls(), [] {
    char c;
    if (::read(1000, &c, 1) != -1 || errno != EBADF) ::_exit(1);  // allowed: a real EBADF
  });
  EXPECT_EQ(ok.exit_code, 0) << ok.stderr_text;
  for (long nr : {SYS_read, SYS_close, SYS_fcntl}) {
    auto r = run_confined(kernel::sentry_host_syscalls(), [nr] { ::syscall(nr, -1, 0, 0, 0, 0, 0); });
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "syscall " << nr << " with FD -1: " << r.stderr_text;
  }
}

// runsc --seccomp-log: a call outside the list runs (and the kernel logs
// it) instead of stopping the process.
TEST(SentryAllowlist, LogEnforcementLetsAnUnlistedCallRun) {
  auto r = run_confined(
      kernel::sentry_host_syscalls(),
      [] {
        if (::syscall(SYS_getppid) <= 0) ::_exit(1);
      },
      seccomp::Enforcement::kLog);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  auto killed = run_confined(kernel::sentry_host_syscalls(), [] { ::syscall(SYS_getppid); });
  EXPECT_EQ(killed.exit_code, 128 + SIGSYS) << "getppid is not listed, so the check above means something";
}

TEST(GoferAllowlist, ServesButCannotExecOrConnect) {
  auto ok = run_confined(gofer::gofer_host_syscalls(), [] {
    int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_NOFOLLOW));
    if (fd < 0) ::_exit(1);
    ::close(fd);
  });
  EXPECT_EQ(ok.exit_code, 0) << ok.stderr_text;
  // Opens follow no symlink, and a read-only gofer opens nothing for writing.
  const std::vector<std::function<void()>> refused_opens = {
      [] { ::syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY); },
      [] { ::syscall(SYS_openat, AT_FDCWD, "x", O_WRONLY | O_NOFOLLOW); },
      [] { ::syscall(SYS_openat, AT_FDCWD, "x", O_RDONLY | O_CREAT | O_NOFOLLOW, 0600); },
      [] { ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); },
      [] { ::mprotect(nullptr, 4096, PROT_READ | PROT_EXEC); },
  };
  for (size_t i = 0; i < refused_opens.size(); ++i) {
    auto r = run_confined(gofer::gofer_host_syscalls(), refused_opens[i]);
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "case " << i << ": " << r.stderr_text;
  }
  // A read-only gofer (the overlay's lower layer) cannot change the tree.
  for (long nr : {SYS_execve, SYS_socket, SYS_connect, SYS_ptrace, SYS_unlinkat, SYS_mkdirat, SYS_renameat2}) {
    auto r = run_confined(gofer::gofer_host_syscalls(), [nr] { ::syscall(nr, 0, 0, 0, 0, 0); });
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "syscall " << nr << ": " << r.stderr_text;
  }
}

TEST(GoferAllowlist, AWritableGoferMayChangeTheTreeButStillNotExec) {
  auto ok = run_confined(gofer::gofer_host_syscalls(/*writable=*/true), [] {
    // An invalid FD: the call is allowed (EBADF), not killed.
    long r = ::syscall(SYS_mkdirat, -1, "x", 0755);
    ::_exit(r == -1 && errno == EBADF ? 0 : 1);
  });
  EXPECT_EQ(ok.exit_code, 0) << ok.stderr_text;
  for (long nr : {SYS_execve, SYS_socket, SYS_ptrace, SYS_mount}) {
    auto r = run_confined(gofer::gofer_host_syscalls(true), [nr] { ::syscall(nr, 0, 0, 0, 0, 0); });
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "syscall " << nr << ": " << r.stderr_text;
  }
  // linkat with AT_EMPTY_PATH would link any FD the gofer holds.
  auto flink = run_confined(gofer::gofer_host_syscalls(true),
                            [] { ::syscall(SYS_linkat, -1, "", AT_FDCWD, "x", AT_EMPTY_PATH); });
  EXPECT_EQ(flink.exit_code, 128 + SIGSYS) << flink.stderr_text;
}

}  // namespace
}  // namespace runsc
