// The Sentry's own failures are reported as such (common/crash.h): a
// fault in its code, an uncaught exception and abort() each print one
// line naming it and the syscall being served, then the stack, and exit
// 128+signal, under the Sentry's seccomp allowlist. Each case runs in a
// forked child.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

#include "common/crash.h"
#include "common/seccomp.h"
#include "sentry/kernel/host_syscalls.h"

namespace runsc {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string err;
};

// The child installs the handlers and the Sentry's allowlist (built in
// the child: its rules name the child's pid), says it serves syscall 39
// of task 7, then fails in `how`.
Outcome crash_in_child(const std::function<void()>& how) {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], STDERR_FILENO);
    crash::install_handlers("test");
    if (!seccomp::install_allowlist(kernel::sentry_host_syscalls(), "test")) ::_exit(100);
    crash::set_serving(7, 39);
    // noexcept: an exception must not unwind into gtest in the child.
    [&]() noexcept { how(); }();
    ::_exit(0);
  }
  ::close(p[1]);
  Outcome out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof(buf))) > 0) out.err.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  return out;
}

TEST(Crash, AFaultIsReportedWithTheSyscallBeingServed) {
  auto r = crash_in_child([] {
    volatile int* nowhere = nullptr;
    *nowhere = 1;
  });
  EXPECT_EQ(r.exit_code, 128 + SIGSEGV) << r.err;
  EXPECT_NE(r.err.find("runsc: test: crashed: SEGV at 0x0 while serving syscall 39 of task 7"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("seccomp allowlist"), std::string::npos) << r.err;
}

TEST(Crash, AnUncaughtExceptionIsReportedWithItsMessage) {
  auto r = crash_in_child([] { throw std::runtime_error("the Sentry lost its way"); });
  EXPECT_EQ(r.exit_code, 128 + SIGABRT) << r.err;
  EXPECT_NE(r.err.find("crashed: terminate: the Sentry lost its way while serving syscall 39"), std::string::npos)
      << r.err;
}

TEST(Crash, AbortIsReportedNotMistakenForAMissingRule) {
  auto r = crash_in_child([] { std::abort(); });
  EXPECT_EQ(r.exit_code, 128 + SIGABRT) << r.err;
  EXPECT_NE(r.err.find("crashed: ABRT while serving syscall 39 of task 7"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("seccomp allowlist"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace runsc
