#include "common/seccomp.h"

#include <seccomp.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/signal_safe.h"

namespace runsc::seccomp {
namespace {

// Kept for the SIGSYS handler, which may only read plain memory.
const char* g_who = "runsc";

using signal_safe::append;
using signal_safe::append_number;

// Async-signal-safe: no allocation, no locks, only write(2) and _exit(2),
// both of which every allowlist permits.
void on_sigsys(int, siginfo_t* info, void*) {
  char line[256];
  size_t len = 0;
  append(line, &len, sizeof(line), "runsc: ");
  append(line, &len, sizeof(line), g_who);
  append(line, &len, sizeof(line), ": host syscall ");
  append_number(line, &len, sizeof(line), info->si_syscall);
  append(line, &len, sizeof(line), " is not in the seccomp allowlist; stopping\n");
  (void)!::write(STDERR_FILENO, line, len);
  ::_exit(128 + SIGSYS);
}

}  // namespace

Result<void> install_allowlist(std::span<const Rule> allow, const char* who) {
  g_who = who;
  struct sigaction sa {};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGSYS, &sa, nullptr) != 0) return ErrFromErrno();
  sigset_t sys;
  sigemptyset(&sys);
  sigaddset(&sys, SIGSYS);
  ::pthread_sigmask(SIG_UNBLOCK, &sys, nullptr);

  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_TRAP);
  if (ctx == nullptr) return Err(ENOMEM);
  struct Release {
    scmp_filter_ctx ctx;
    ~Release() { ::seccomp_release(ctx); }
  } release{ctx};
  // Every thread gets the filter, not only the caller (SECCOMP_FILTER_FLAG_TSYNC).
  if (int rc = ::seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); rc < 0) return Err(-rc);
  for (const Rule& rule : allow) {
    std::vector<scmp_arg_cmp> cmps;
    for (const ArgEq& a : rule.args) {
      cmps.push_back(a.mask == ~uint64_t{0} ? SCMP_CMP64(a.index, SCMP_CMP_EQ, a.value)
                                            : SCMP_CMP64(a.index, SCMP_CMP_MASKED_EQ, a.mask, a.value));
    }
    const uint32_t action = rule.fail_with ? SCMP_ACT_ERRNO(static_cast<uint32_t>(rule.fail_with)) : SCMP_ACT_ALLOW;
    int rc = ::seccomp_rule_add_array(ctx, action, rule.nr, static_cast<unsigned>(cmps.size()),
                                      cmps.empty() ? nullptr : cmps.data());
    // EEXIST: an unconditional rule already covers this form.
    if (rc < 0 && rc != -EEXIST) {
      log::error("seccomp: cannot add a rule for syscall {}: {}", rule.nr, std::strerror(-rc));
      return Err(-rc);
    }
  }
  if (int rc = ::seccomp_load(ctx); rc < 0) return Err(-rc);
  return {};
}

}  // namespace runsc::seccomp
