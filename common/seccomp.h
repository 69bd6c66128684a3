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

// What happens to a syscall outside the allowlist.
enum class Enforcement {
  kKill,  // SIGSYS: a one-line report, then exit 128+SIGSYS
  // It runs, and the kernel logs it (SECCOMP_RET_LOG: an audit line with
  // "syscall=N" in dmesg): for finding a missing rule (runsc
  // --seccomp-log), never for production.
  kLog,
};

// Installs `allow` for every thread of the calling process (and whatever it
// forks later). A syscall outside it raises SIGSYS, whose handler writes
// "runsc: <who>: host syscall N (name) is not in the seccomp allowlist" to
// stderr and ends the process with status 128+SIGSYS. Sets no_new_privs.
Result<void> install_allowlist(std::span<const Rule> allow, const char* who,
                               Enforcement enforcement = Enforcement::kKill);

// Rules our processes share, each narrowed to the arguments their code
// uses (seccomp.cc says which).
//
// Memory: malloc, thread stacks, the memory file's mapping; never an
// executable mapping unless `stub_mappings` (the ptrace stubs are forks of
// the Sentry and run under its filter too: they map the application's
// memory, executable or not, MAP_SHARED | MAP_FIXED from the memory file).
std::vector<Rule> memory_rules(bool stub_mappings);
// futex(2) as glibc's pthreads and std::mutex use it: wait, wake, bitset
// variants, wake-op and cmp-requeue, private or shared; no PI or FD ops.
std::vector<Rule> futex_rules();
// New threads as glibc's pthread_create makes them (clone(2) with exactly
// its flags; clone3, whose flags sit in memory a filter cannot read, fails
// with ENOSYS so glibc falls back to clone).
std::vector<Rule> thread_rules();

// Narrows every allowing rule of a syscall whose first argument is an FD
// (read, write, close, fcntl, ioctl, the socket calls...) to FDs that are
// not negative: our code never passes one, so a negative FD there is a
// forged call. (*at calls are left alone: AT_FDCWD is negative.)
void require_fd_first_argument(std::vector<Rule>& rules);

}  // namespace runsc::seccomp
