// Host seccomp allowlists for our own processes (the Sentry, the gofer):
// every host syscall a process may make is listed; anything else stops it
// with a one-line message naming the syscall. DESIGN.md, "Security".
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"

namespace runsc::seccomp {

// Argument `index` (0-5) must equal `value`; with a `mask`, only the
// masked bits are compared (arg & mask == value), e.g. to allow any
// combination of some flags: mask = the other bits, value = 0.
struct ArgEq {
  unsigned index;
  uint64_t value;
  uint64_t mask = ~uint64_t{0};
};

// One allowed form of a syscall: every ArgEq must hold. Several rules for
// the same syscall allow any of their forms; a rule without ArgEqs allows
// every form.
struct Rule {
  int nr;
  std::vector<ArgEq> args = {};
  // Not 0: the syscall is not run but fails with this errno, for calls
  // libraries make on their own and cope with failing (glibc's malloc
  // reading /proc). The process never gets to use the call.
  int fail_with = 0;
};

// Installs `allow` for every thread of the calling process (and whatever it
// forks later). A syscall outside it raises SIGSYS, whose handler writes
// "runsc: <who>: host syscall N (name) is not in the seccomp allowlist" to
// stderr and ends the process with status 128+SIGSYS. Sets no_new_privs.
Result<void> install_allowlist(std::span<const Rule> allow, const char* who);

}  // namespace runsc::seccomp
