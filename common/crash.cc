#include "common/crash.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <exception>
#include <initializer_list>
#include <typeinfo>

#include "common/signal_safe.h"

namespace runsc::crash {
namespace {

using signal_safe::append;
using signal_safe::append_hex;
using signal_safe::append_number;

const char* g_who = "runsc";
thread_local int t_tid = 0;
thread_local long t_syscall = -1;

// "runsc: sentry: crashed: <what> while serving syscall N of task T"
void report(const char* what, const char* detail, bool has_address, unsigned long address) {
  char line[512];
  size_t len = 0;
  append(line, &len, sizeof(line), "runsc: ");
  append(line, &len, sizeof(line), g_who);
  append(line, &len, sizeof(line), ": crashed: ");
  append(line, &len, sizeof(line), what);
  if (detail) {
    append(line, &len, sizeof(line), ": ");
    append(line, &len, sizeof(line), detail);
  }
  if (has_address) {
    append(line, &len, sizeof(line), " at ");
    append_hex(line, &len, sizeof(line), address);
  }
  if (t_tid > 0) {
    append(line, &len, sizeof(line), t_syscall >= 0 ? " while serving syscall " : " while running task ");
    if (t_syscall >= 0) {
      append_number(line, &len, sizeof(line), t_syscall);
      append(line, &len, sizeof(line), " of task ");
    }
    append_number(line, &len, sizeof(line), t_tid);
  }
  append(line, &len, sizeof(line), "\n");
  (void)!::write(STDERR_FILENO, line, len);
  void* frames[48];
  const int n = ::backtrace(frames, 48);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

void on_fatal_signal(int signo, siginfo_t* info, void*) {
  report(sigabbrev_np(signo) ? sigabbrev_np(signo) : "signal", nullptr, signo != SIGABRT,
         reinterpret_cast<unsigned long>(info->si_addr));
  ::_exit(128 + signo);
}

void on_terminate() {
  const char* detail = "uncaught exception";
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      detail = ex.what();
    } catch (...) {
    }
  }
  report("terminate", detail, false, 0);
  ::_exit(128 + SIGABRT);
}

}  // namespace

void install_handlers(const char* who) {
  g_who = who;
  // backtrace() loads libgcc's unwinder on first use: done now, while
  // files can still be opened.
  void* warm[1];
  (void)::backtrace(warm, 1);
  std::set_terminate(on_terminate);
  struct sigaction sa {};
  sa.sa_sigaction = on_fatal_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::sigaction(s, &sa, nullptr);
}

void set_serving(int tid, long syscall_nr) {
  t_tid = tid;
  t_syscall = syscall_nr;
}

}  // namespace runsc::crash
