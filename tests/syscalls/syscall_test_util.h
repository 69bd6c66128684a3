// Helpers shared by the syscall conformance tests. Children created with
// fork() must never return into gtest: they report failures with CHILD_CHECK
// (a message on stderr and _exit(kChildFailed)) and the parent asserts on
// the exit status.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace syscall_test {

// The exit status of a child whose CHILD_CHECK failed.
inline constexpr int kChildFailed = 99;

#define CHILD_CHECK(cond)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      int child_check_errno_ = errno;                                                              \
      fprintf(stderr, "%s:%d: in child %d: check failed: %s (errno %d: %s)\n", __FILE__, __LINE__, \
              static_cast<int>(getpid()), #cond, child_check_errno_,                               \
              strerror(child_check_errno_));                                                       \
      _exit(::syscall_test::kChildFailed);                                                         \
    }                                                                                              \
  } while (0)

// waitpid() retried on EINTR; returns the pid waited for or -1 (errno set).
inline pid_t WaitRetry(pid_t pid, int* status, int options = 0) {
  pid_t r;
  do {
    r = waitpid(pid, status, options);
  } while (r < 0 && errno == EINTR);
  return r;
}

// Waits for pid and returns its raw wait status, or -1 if waitpid failed.
inline int WaitStatus(pid_t pid) {
  int status = 0;
  if (WaitRetry(pid, &status) != pid) return -1;
  return status;
}

// A readable description of a wait status for assertion messages.
inline std::string DescribeStatus(int status) {
  if (status == -1) return "waitpid failed";
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  if (WIFSTOPPED(status)) return "stopped by signal " + std::to_string(WSTOPSIG(status));
  return "status " + std::to_string(status);
}

// Forks, runs fn() in the child and _exits with what it returns.
template <typename Fn>
pid_t ForkChild(Fn fn) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    _exit(fn());
  }
  return pid;
}

// Forks, runs fn() in the child, waits and returns the child's wait status.
template <typename Fn>
int RunInChild(Fn fn) {
  pid_t pid = ForkChild(fn);
  if (pid < 0) return -1;
  return WaitStatus(pid);
}

inline ::testing::AssertionResult ExitedWith(int status, int code) {
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << DescribeStatus(status) << ", want exit " << code;
}

inline ::testing::AssertionResult KilledBy(int status, int sig) {
  if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << DescribeStatus(status) << ", want signal " << sig << " (" << strsignal(sig) << ")";
}

// Each evaluates `status` once (it may be a WaitStatus(pid) call).
#define EXPECT_EXITED_WITH(status, code) EXPECT_TRUE(::syscall_test::ExitedWith((status), (code)))
#define EXPECT_KILLED_BY(status, sig) EXPECT_TRUE(::syscall_test::KilledBy((status), (sig)))

// A child that blocks reading a pipe until Release() writes to it (or the
// pipe's write end is gone), then exits with a given code.
struct BlockedChild {
  pid_t pid = -1;
  int release_fd = -1;
  int keep_fd = -1;  // our copy of the read end: Release() never gets EPIPE

  void Release() {
    if (release_fd >= 0) {
      // A byte rather than just close(): later children inherit this fd.
      (void)!write(release_fd, "r", 1);
      close(release_fd);
      close(keep_fd);
    }
    release_fd = keep_fd = -1;
  }
};

// setup() runs in the child first; a nonzero return is its exit status.
template <typename Fn>
BlockedChild ForkBlockedChild(int code, Fn setup) {
  int fds[2];
  BlockedChild c;
  if (pipe2(fds, O_CLOEXEC) != 0) return c;
  fflush(nullptr);
  c.pid = fork();
  if (c.pid == 0) {
    close(fds[1]);
    int r = setup();
    if (r != 0) _exit(r);
    char b;
    while (read(fds[0], &b, 1) < 0 && errno == EINTR) {
    }
    _exit(code);
  }
  c.keep_fd = fds[0];
  c.release_fd = fds[1];
  return c;
}

inline BlockedChild ForkBlockedChild(int code) {
  return ForkBlockedChild(code, [] { return 0; });
}

// Full-length write/read loops, retried on EINTR.
inline bool WriteAll(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

inline bool ReadFull(int fd, void* buf, size_t len) {
  char* p = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// Reads until end of file (or an error other than EINTR).
inline std::string ReadToEof(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// A pipe whose ends are closed on destruction unless already closed.
class Pipe {
 public:
  explicit Pipe(int flags = 0) {
    if (pipe2(fds_, flags) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return fds_[0] >= 0; }
  int rd() const { return fds_[0]; }
  int wr() const { return fds_[1]; }
  void CloseRead() {
    if (fds_[0] >= 0) close(fds_[0]);
    fds_[0] = -1;
  }
  void CloseWrite() {
    if (fds_[1] >= 0) close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2];
};

// Restores a signal's disposition on destruction.
class ScopedSigaction {
 public:
  explicit ScopedSigaction(int sig) : sig_(sig) { sigaction(sig, nullptr, &old_); }
  ScopedSigaction(int sig, const struct sigaction& act) : sig_(sig) {
    ok_ = sigaction(sig, &act, &old_) == 0;
  }
  ~ScopedSigaction() { sigaction(sig_, &old_, nullptr); }
  ScopedSigaction(const ScopedSigaction&) = delete;
  ScopedSigaction& operator=(const ScopedSigaction&) = delete;
  bool ok() const { return ok_; }

 private:
  int sig_;
  bool ok_ = true;
  struct sigaction old_ {};
};

// Restores the signal mask on destruction.
class ScopedSigmask {
 public:
  ScopedSigmask() { sigprocmask(SIG_SETMASK, nullptr, &old_); }
  ~ScopedSigmask() { sigprocmask(SIG_SETMASK, &old_, nullptr); }
  ScopedSigmask(const ScopedSigmask&) = delete;
  ScopedSigmask& operator=(const ScopedSigmask&) = delete;

 private:
  sigset_t old_;
};

// A pid that existed and has been reaped: nothing answers to it (barring
// pid reuse, which needs the whole pid space to wrap in between).
inline pid_t ReapedPid() {
  pid_t pid = ForkChild([] { return 0; });
  if (pid > 0) WaitStatus(pid);
  return pid;
}

}  // namespace syscall_test
