// When the Sentry itself fails (a SIGSEGV, SIGBUS, SIGILL or SIGFPE in its
// own code, an uncaught exception, abort()), it says so: one line naming
// the signal or exception and the system call it was serving for which
// task, then the stack, then exit 128+signal. Without this, abort()'s own
// tgkill would be refused by the seccomp allowlist and the report would
// wrongly name a missing rule.
#pragma once

namespace runsc::crash {

// Installs the handlers for the whole process (`who`: "sentry", "gofer").
void install_handlers(const char* who);

// What the calling thread is serving, for the report: a task's tid and
// its system call number (-1: none). Set by the Sentry's run loop.
void set_serving(int tid, long syscall_nr);

}  // namespace runsc::crash
