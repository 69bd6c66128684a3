// Signal bookkeeping: dispositions, the mask and the alternate stack.
// Delivery (frames, default actions from inside) arrives with the processes
// work; here the state is kept exactly as rt_sigaction(2) and
// rt_sigprocmask(2) define it so that programs see consistent answers.
#include <signal.h>
#include <sys/syscall.h>

#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

constexpr uint64_t bit(int sig) { return 1ULL << (sig - 1); }
// SIGKILL and SIGSTOP can be neither caught, blocked nor ignored.
constexpr uint64_t kUnblockable = bit(SIGKILL) | bit(SIGSTOP);

Result<uint64_t> sys_rt_sigaction(Task& t, const SyscallArgs& a) {
  int sig = a.i(0);
  if (a.u(3) != 8) return Err(EINVAL);  // sigsetsize
  if (sig < 1 || sig > 64) return Err(EINVAL);
  kernel::SignalAction& slot = t.signal_actions()[static_cast<size_t>(sig - 1)];
  kernel::SignalAction old = slot;
  if (a.u(1)) {
    if (sig == SIGKILL || sig == SIGSTOP) return Err(EINVAL);
    kernel::SignalAction next;
    if (auto r = t.mm().copy_in(a.u(1), &next, sizeof(next)); !r) return Err(r.error());
    next.mask &= ~kUnblockable;
    slot = next;
  }
  if (a.u(2)) {
    if (auto r = t.mm().copy_out(a.u(2), &old, sizeof(old)); !r) return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_rt_sigprocmask(Task& t, const SyscallArgs& a) {
  if (a.u(3) != 8) return Err(EINVAL);
  uint64_t old = t.signal_mask();
  if (a.u(1)) {
    uint64_t set;
    if (auto r = t.mm().copy_in(a.u(1), &set, sizeof(set)); !r) return Err(r.error());
    switch (a.i(0)) {
      case SIG_BLOCK: t.signal_mask() |= set; break;
      case SIG_UNBLOCK: t.signal_mask() &= ~set; break;
      case SIG_SETMASK: t.signal_mask() = set; break;
      default: return Err(EINVAL);
    }
    t.signal_mask() &= ~kUnblockable;
  }
  if (a.u(2)) {
    if (auto r = t.mm().copy_out(a.u(2), &old, sizeof(old)); !r) return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_sigaltstack(Task& t, const SyscallArgs& a) {
  // No alternate stack is in use yet: report SS_DISABLE, accept a new one
  // after the checks sigaltstack(2) makes.
  if (a.u(0)) {
    stack_t next;
    if (auto r = t.mm().copy_in(a.u(0), &next, sizeof(next)); !r) return Err(r.error());
    if (next.ss_flags & ~(SS_DISABLE | SS_ONSTACK | (1 << 31) /* SS_AUTODISARM */)) return Err(EINVAL);
    if (!(next.ss_flags & SS_DISABLE) && next.ss_size < static_cast<size_t>(MINSIGSTKSZ)) return Err(ENOMEM);
  }
  if (a.u(1)) {
    stack_t old{};
    old.ss_flags = SS_DISABLE;
    if (auto r = t.mm().copy_out(a.u(1), &old, sizeof(old)); !r) return Err(r.error());
  }
  return ok();
}

// Whether `pid` (as kill(2) reads it) names the calling task's process.
// The task is still the only process in the sandbox, so every other pid,
// process group or "all processes" finds nobody.
bool names_self(Task& t, int pid) { return pid == t.pid() || pid == 0 || pid == -t.pid(); }

Result<uint64_t> signal_self(Task& t, int sig) {
  if (sig < 0 || sig > 64) return Err(EINVAL);
  if (sig != 0) t.send_signal(sig);
  return ok();
}

Result<uint64_t> sys_kill(Task& t, const SyscallArgs& a) {
  if (a.i(1) < 0 || a.i(1) > 64) return Err(EINVAL);
  if (!names_self(t, a.i(0))) return Err(ESRCH);
  return signal_self(t, a.i(1));
}

Result<uint64_t> sys_tkill(Task& t, const SyscallArgs& a) {
  if (a.i(0) <= 0) return Err(EINVAL);
  if (a.i(1) < 0 || a.i(1) > 64) return Err(EINVAL);
  if (a.i(0) != t.tid()) return Err(ESRCH);
  return signal_self(t, a.i(1));
}

Result<uint64_t> sys_tgkill(Task& t, const SyscallArgs& a) {
  if (a.i(0) <= 0 || a.i(1) <= 0) return Err(EINVAL);
  if (a.i(2) < 0 || a.i(2) > 64) return Err(EINVAL);
  if (a.i(0) != t.pid() || a.i(1) != t.tid()) return Err(ESRCH);
  return signal_self(t, a.i(2));
}

Result<uint64_t> sys_rt_sigpending(Task& t, const SyscallArgs& a) {
  if (a.u(1) > 8) return Err(EINVAL);
  uint64_t pending = t.pending_signals() & t.signal_mask();
  if (auto r = t.mm().copy_out(a.u(0), &pending, a.u(1)); !r) return Err(r.error());
  return ok();
}

}  // namespace

void register_signal(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_kill, "kill", sys_kill, {A::kInt, A::kInt});
  tb.set(SYS_tkill, "tkill", sys_tkill, {A::kInt, A::kInt});
  tb.set(SYS_tgkill, "tgkill", sys_tgkill, {A::kInt, A::kInt, A::kInt});
  tb.set(SYS_rt_sigpending, "rt_sigpending", sys_rt_sigpending, {A::kPtr, A::kInt});
  tb.set(SYS_rt_sigaction, "rt_sigaction", sys_rt_sigaction, {A::kInt, A::kPtr, A::kPtr, A::kInt});
  tb.set(SYS_rt_sigprocmask, "rt_sigprocmask", sys_rt_sigprocmask, {A::kInt, A::kPtr, A::kPtr, A::kInt});
  tb.set(SYS_sigaltstack, "sigaltstack", sys_sigaltstack, {A::kPtr, A::kPtr});
}

}  // namespace runsc::syscalls
