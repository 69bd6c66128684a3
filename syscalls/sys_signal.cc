// Signal syscalls: dispositions, the mask, the alternate stack, sending
// (kill, tgkill, sigqueue), waiting (sigsuspend, sigtimedwait) and
// rt_sigreturn. Delivery itself is in sentry/kernel/signals.cc.
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
  kernel::SignalAction next;
  if (a.u(1)) {
    if (sig == SIGKILL || sig == SIGSTOP) return Err(EINVAL);
    if (auto r = t.mm().copy_in(a.u(1), &next, sizeof(next)); !r) return Err(r.error());
    next.mask &= ~kUnblockable;
  }
  kernel::SignalAction old;
  {
    std::lock_guard lock(t.signal_mutex());
    kernel::SignalAction& slot = t.signal_actions()[static_cast<size_t>(sig - 1)];
    old = slot;
    if (a.u(1)) slot = next;
  }
  if (a.u(1)) t.discard_pending_if_ignored(sig);
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
      case SIG_BLOCK: t.set_signal_mask(old | set); break;
      case SIG_UNBLOCK: t.set_signal_mask(old & ~set); break;
      case SIG_SETMASK: t.set_signal_mask(set); break;
      default: return Err(EINVAL);
    }
  }
  if (a.u(2)) {
    if (auto r = t.mm().copy_out(a.u(2), &old, sizeof(old)); !r) return Err(r.error());
  }
  return ok();
}

// sigaltstack(2), with the checks of do_sigaltstack().
Result<uint64_t> sys_sigaltstack(Task& t, const SyscallArgs& a) {
  const auto current = t.altstack();
  const bool on_stack = t.on_altstack(t.regs().rsp);
  if (a.u(0)) {
    stack_t next;
    if (auto r = t.mm().copy_in(a.u(0), &next, sizeof(next)); !r) return Err(r.error());
    if (on_stack) return Err(EPERM);
    const int mode = next.ss_flags & ~kernel::kSsAutodisarm;
    if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) return Err(EINVAL);
    if (mode == SS_DISABLE) {
      t.altstack() = Task::AltStack{};
    } else {
      if (next.ss_size < kernel::kMinSigStkSz) return Err(ENOMEM);
      t.altstack() = Task::AltStack{reinterpret_cast<uint64_t>(next.ss_sp), next.ss_size, next.ss_flags & kernel::kSsAutodisarm};
    }
  }
  if (a.u(1)) {
    stack_t old{};
    old.ss_sp = reinterpret_cast<void*>(current.sp);
    old.ss_size = current.size;
    old.ss_flags = on_stack ? SS_ONSTACK : current.flags;
    if (auto r = t.mm().copy_out(a.u(1), &old, sizeof(old)); !r) return Err(r.error());
  }
  return ok();
}

// The siginfo of a signal a task sends with kill(2) and friends.
siginfo_t user_info(Task& sender, int sig, int code) {
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = code;
  info.si_pid = sender.pid();
  info.si_uid = sender.creds().ruid;
  return info;
}

// Sends `sig` (0: only checks) to the process; a zombie accepts and drops it.
void signal_process(kernel::Kernel& k, const std::shared_ptr<kernel::ThreadGroup>& g, const siginfo_t& info) {
  if (info.si_signo == 0) return;
  kernel::send_group_signal(k, *g, info);
}

Result<uint64_t> sys_kill(Task& t, const SyscallArgs& a) {
  const int pid = a.i(0);
  const int sig = a.i(1);
  if (sig < 0 || sig > 64) return Err(EINVAL);
  kernel::Kernel& k = t.kernel();
  std::vector<std::shared_ptr<kernel::ThreadGroup>> targets;
  {
    std::lock_guard lock(k.tree_mutex());
    if (pid > 0) {
      if (auto g = k.find_process_locked(pid)) targets.push_back(g);
    } else if (pid == -1) {
      // Every process but init and the caller (kill(2)).
      for (const auto& [p, g] : k.processes_locked()) {
        if (p > 1 && p != t.pid() && !g->zombie) targets.push_back(g);
      }
    } else {
      if (pid == INT32_MIN) return Err(ESRCH);
      const int pgid = pid == 0 ? t.group().pgid : -pid;
      for (const auto& [p, g] : k.processes_locked()) {
        if (g->pgid == pgid) targets.push_back(g);
      }
    }
  }
  if (targets.empty()) return Err(ESRCH);
  const siginfo_t info = user_info(t, sig, SI_USER);
  for (const auto& g : targets) signal_process(k, g, info);
  return ok();
}

// tkill(2) and tgkill(2): one thread, by tid (and thread group).
Result<uint64_t> signal_thread(Task& t, int tgid, int tid, const siginfo_t& info) {
  const int sig = info.si_signo;
  if (sig < 0 || sig > 64) return Err(EINVAL);
  std::shared_ptr<Task> target;
  {
    std::lock_guard lock(t.kernel().tree_mutex());
    target = t.kernel().find_task_locked(tid);
  }
  if (!target || (tgid > 0 && target->pid() != tgid)) return Err(ESRCH);
  if (sig != 0) target->send_signal(info);
  return ok();
}

Result<uint64_t> sys_tkill(Task& t, const SyscallArgs& a) {
  if (a.i(0) <= 0) return Err(EINVAL);
  return signal_thread(t, 0, a.i(0), user_info(t, a.i(1), SI_TKILL));
}

Result<uint64_t> sys_tgkill(Task& t, const SyscallArgs& a) {
  if (a.i(0) <= 0 || a.i(1) <= 0) return Err(EINVAL);
  return signal_thread(t, a.i(0), a.i(1), user_info(t, a.i(2), SI_TKILL));
}

// rt_sigqueueinfo(2) and rt_tgsigqueueinfo(2): the caller's siginfo, but
// it may not pretend to be the kernel or kill(2) (EPERM for si_code >= 0
// or SI_TKILL when sending to another process).
Result<siginfo_t> queued_info(Task& t, int target_pid, int sig, uint64_t addr) {
  siginfo_t info;
  if (auto r = t.mm().copy_in(addr, &info, sizeof(info)); !r) return Err(r.error());
  if ((info.si_code >= 0 || info.si_code == SI_TKILL) && target_pid != t.pid()) return Err(EPERM);
  info.si_signo = sig;
  return info;
}

Result<uint64_t> sys_rt_sigqueueinfo(Task& t, const SyscallArgs& a) {
  const int pid = a.i(0);
  const int sig = a.i(1);
  if (sig < 0 || sig > 64) return Err(EINVAL);
  auto info = queued_info(t, pid, sig, a.u(2));
  if (!info) return Err(info.error());
  std::shared_ptr<kernel::ThreadGroup> g;
  {
    std::lock_guard lock(t.kernel().tree_mutex());
    g = t.kernel().find_process_locked(pid);
  }
  if (!g || pid <= 0) return Err(ESRCH);
  signal_process(t.kernel(), g, *info);
  return ok();
}

Result<uint64_t> sys_rt_tgsigqueueinfo(Task& t, const SyscallArgs& a) {
  if (a.i(0) <= 0 || a.i(1) <= 0) return Err(EINVAL);
  auto info = queued_info(t, a.i(0), a.i(2), a.u(3));
  if (!info) return Err(info.error());
  return signal_thread(t, a.i(0), a.i(1), *info);
}

Result<uint64_t> sys_rt_sigreturn(Task& t, const SyscallArgs&) {
  t.regs_replaced() = true;
  if (auto r = t.sigreturn(); !r) {
    // A corrupt frame: SIGSEGV, as Linux's badframe path.
    siginfo_t info{};
    info.si_signo = SIGSEGV;
    info.si_code = SI_KERNEL;
    t.force_signal(info);
  }
  return ok();
}

// rt_sigsuspend(2): waits with `mask` until a signal handler runs (EINTR,
// after which the old mask is back) or a signal ends the process.
Result<uint64_t> sys_rt_sigsuspend(Task& t, const SyscallArgs& a) {
  if (a.u(1) != 8) return Err(EINVAL);
  uint64_t mask;
  if (auto r = t.mm().copy_in(a.u(0), &mask, sizeof(mask)); !r) return Err(r.error());
  t.set_temporary_mask(mask);
  for (;;) {
    if (t.block() == EINTR) return Err(EINTR);
  }
}

// pause(2): the same, with the current mask.
Result<uint64_t> sys_pause(Task& t, const SyscallArgs&) {
  for (;;) {
    if (t.block() == EINTR) return Err(EINTR);
  }
}

// rt_sigtimedwait(2): takes a pending signal of `set` without running its
// handler; waits for one (the set is unblocked for the wait so that a
// sender wakes us) up to the timeout (EAGAIN).
Result<uint64_t> sys_rt_sigtimedwait(Task& t, const SyscallArgs& a) {
  if (a.u(3) != 8) return Err(EINVAL);
  uint64_t set;
  if (auto r = t.mm().copy_in(a.u(0), &set, sizeof(set)); !r) return Err(r.error());
  set &= ~(kUnblockable);
  int64_t deadline = -1;
  if (a.u(2)) {
    timespec ts;
    if (auto r = t.mm().copy_in(a.u(2), &ts, sizeof(ts)); !r) return Err(r.error());
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Err(EINVAL);
    timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    deadline = to_ns(now) + to_ns(ts);
  }
  auto take = [&]() -> std::optional<siginfo_t> { return t.dequeue_signal(set); };
  auto info = take();
  if (!info) {
    if (deadline >= 0) {
      timespec now;
      ::clock_gettime(CLOCK_MONOTONIC, &now);
      if (to_ns(now) >= deadline) return Err(EAGAIN);
    }
    const uint64_t old_mask = t.signal_mask();
    t.set_real_blocked(old_mask);
    t.set_temporary_mask(old_mask & ~set);
    for (;;) {
      int timeout_ms = -1;
      if (deadline >= 0) {
        timespec now;
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        const int64_t left = deadline - to_ns(now);
        timeout_ms = left <= 0 ? 0 : static_cast<int>(std::min<int64_t>((left + 999999) / 1000000, 1 << 30));
      }
      const int e = t.block(timeout_ms);
      info = take();
      if (info) break;
      if (e == ETIMEDOUT) break;
      if (e == EINTR) {
        // Another signal, to be handled: EINTR once its handler ran.
        if (t.pending_signals() & ~t.signal_mask() & ~set) {
          t.set_real_blocked(0);
          return Err(EINTR);
        }
        t.take_interrupt();
      }
    }
    t.restore_temporary_mask();
    t.set_real_blocked(0);
    if (!info) return Err(EAGAIN);
  }
  if (a.u(1)) {
    if (auto r = t.mm().copy_out(a.u(1), &*info, sizeof(*info)); !r) return Err(r.error());
  }
  return static_cast<uint64_t>(info->si_signo);
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
  tb.set(SYS_rt_sigqueueinfo, "rt_sigqueueinfo", sys_rt_sigqueueinfo, {A::kInt, A::kInt, A::kPtr});
  tb.set(SYS_rt_tgsigqueueinfo, "rt_tgsigqueueinfo", sys_rt_tgsigqueueinfo, {A::kInt, A::kInt, A::kInt, A::kPtr});
  tb.set(SYS_rt_sigreturn, "rt_sigreturn", sys_rt_sigreturn);
  tb.set(SYS_rt_sigsuspend, "rt_sigsuspend", sys_rt_sigsuspend, {A::kPtr, A::kInt});
  tb.set(SYS_pause, "pause", sys_pause);
  tb.set(SYS_rt_sigtimedwait, "rt_sigtimedwait", sys_rt_sigtimedwait, {A::kPtr, A::kPtr, A::kPtr, A::kInt});
}

}  // namespace runsc::syscalls
