// Signal generation and delivery, as kernel/signal.c and
// arch/x86/kernel/signal.c do it: queueing with siginfo, default actions,
// and handler frames (struct rt_sigframe: return address, ucontext with
// the interrupted registers and mask, siginfo, then the XSAVE area).
#include <sys/syscall.h>

#include <cstring>

#include "common/log.h"
#include "sentry/kernel/task.h"

namespace runsc::kernel {
namespace {

constexpr uint64_t bit(int signo) { return 1ULL << (signo - 1); }
constexpr uint64_t kUnblockable = bit(SIGKILL) | bit(SIGSTOP);
constexpr uint64_t kSigDfl = 0;
constexpr uint64_t kSigIgn = 1;

// The kernel's x86-64 struct sigcontext (asm/sigcontext.h).
struct Sigcontext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;  // address of the XSAVE area, 0 if none
  uint64_t reserved[8];
};
static_assert(sizeof(Sigcontext) == 256);

struct KernelStack {
  uint64_t sp;
  int32_t flags;
  int32_t pad;
  uint64_t size;
};

struct Ucontext {
  uint64_t flags;
  uint64_t link;
  KernelStack stack;
  Sigcontext mcontext;
  uint64_t sigmask;
};

struct RtSigframe {
  uint64_t pretcode;  // sa_restorer: where the handler returns
  Ucontext uc;
  siginfo_t info;
};
static_assert(sizeof(RtSigframe) == 440);

constexpr uint64_t kUcFpXstate = 0x1, kUcSigcontextSs = 0x2, kUcStrictRestoreSs = 0x4;
constexpr uint32_t kFpXstateMagic2 = 0x46505845;
constexpr uint64_t kUserCs = 0x33, kUserDs = 0x2b;
// The flags rt_sigreturn takes from the frame (FIX_EFLAGS): AC OF DF TF SF ZF AF PF CF RF.
constexpr uint64_t kFixEflags = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
// Cleared on entry to a handler: DF, RF, TF.
constexpr uint64_t kHandlerClearEflags = 0x400 | 0x10000 | 0x100;

enum class DefaultAction { kTerminate, kCore, kIgnore, kStop, kContinue };

// signal(7)'s table of default actions.
DefaultAction default_action(int signo) {
  switch (signo) {
    case SIGCHLD: case SIGURG: case SIGWINCH:
      return DefaultAction::kIgnore;
    case SIGCONT:
      return DefaultAction::kContinue;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
      return DefaultAction::kStop;
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGXCPU: case SIGXFSZ: case SIGSYS:
      return DefaultAction::kCore;
    default:
      return DefaultAction::kTerminate;
  }
}

bool ignored_by(const SignalAction& action, int signo) {
  if (signo == SIGKILL || signo == SIGSTOP) return false;
  if (action.handler == kSigIgn) return true;
  if (action.handler != kSigDfl) return false;
  DefaultAction d = default_action(signo);
  return d == DefaultAction::kIgnore || d == DefaultAction::kContinue;
}

}  // namespace

void Task::set_signal_mask(uint64_t mask) {
  bool deliverable;
  {
    // Under the lock senders hold while they read the mask and queue: a
    // signal queued as blocked just before the mask unblocks it is seen
    // here, and one sent just after sees the new mask and interrupts.
    std::lock_guard lock(sighand_->mu);
    signal_mask_.store(mask & ~kUnblockable);
    // Unblocking may make a pending signal deliverable.
    deliverable = (pending_signals() & ~signal_mask_.load()) != 0;
  }
  if (deliverable) interrupt();
}

void Task::set_temporary_mask(uint64_t mask) {
  if (!saved_mask_) saved_mask_ = signal_mask_.load();
  set_signal_mask(mask);
}

void Task::restore_temporary_mask() {
  if (!saved_mask_) return;
  set_signal_mask(*saved_mask_);
  saved_mask_.reset();
}

void Task::send_signal(int signo) {
  siginfo_t info{};
  info.si_signo = signo;
  info.si_code = SI_USER;
  info.si_pid = pid();
  info.si_uid = creds_.ruid;
  send_signal(info);
}

void Task::send_signal(const siginfo_t& info, bool process_directed) {
  const int signo = info.si_signo;
  if (signo < 1 || signo > 64) return;
  constexpr uint64_t kStopSignals = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);
  // prepare_signal(): a stop signal cancels a pending SIGCONT and SIGCONT
  // cancels pending stops and resumes a stopped process, whatever its
  // disposition (SIGKILL resumes it too, to die).
  if (kStopSignals & bit(signo)) {
    std::lock_guard lock(sighand_->mu);
    pending_.erase(bit(SIGCONT));
    group_->shared_pending.erase(bit(SIGCONT));
  } else if (signo == SIGCONT || signo == SIGKILL) {
    {
      std::lock_guard lock(sighand_->mu);
      pending_.erase(kStopSignals);
      group_->shared_pending.erase(kStopSignals);
    }
    if (signo == SIGCONT) continue_process();
    wake();
  }
  {
    std::lock_guard lock(sighand_->mu);
    const SignalAction& action = sighand_->actions[static_cast<size_t>(signo - 1)];
    const bool blocked = (signal_mask_.load() & bit(signo)) != 0;
    // A blocked signal is always queued: the handler may change before it
    // is unblocked (sig_ignored() in kernel/signal.c); so is one that
    // rt_sigtimedwait unblocked only to wait for it (real_blocked). An unblocked one
    // that would be ignored is discarded without waking anyone; for pid 1
    // that includes every signal it has no handler for, SIGKILL and SIGSTOP
    // too, when they come from inside its PID namespace (pid_namespaces(7)).
    const bool waited_for = (real_blocked_.load() & bit(signo)) != 0;
    if (!blocked && !waited_for && (ignored_by(action, signo) || (pid() == 1 && action.handler == kSigDfl))) return;
    PendingSignals& queue = process_directed ? group_->shared_pending : pending_;
    if (!queue.enqueue(info)) return;
    if (!blocked) {
      interrupt();
      return;
    }
  }
  // Blocked: nothing is delivered, but a thread reading a signalfd (or
  // polling one) for it must look again.
  if (!process_directed) {
    wake();
    return;
  }
  std::vector<std::shared_ptr<Task>> threads;
  {
    std::lock_guard lock(kernel_.tree_mutex());
    for (const auto& w : group_->tasks) {
      if (auto t = w.lock()) threads.push_back(std::move(t));
    }
  }
  for (auto& t : threads) t->wake();
}

void Task::force_signal(const siginfo_t& info) {
  {
    std::lock_guard lock(sighand_->mu);
    SignalAction& action = sighand_->actions[static_cast<size_t>(info.si_signo - 1)];
    const bool blocked = (signal_mask_.load() & bit(info.si_signo)) != 0;
    if (blocked || action.handler == kSigIgn) action.handler = kSigDfl;
    if (blocked) signal_mask_.fetch_and(~bit(info.si_signo));
    // A synchronous fault terminates even pid 1 (force_sig_info_to_task()).
    pending_.enqueue(info);
  }
  forced_ = true;
}

void Task::discard_pending_if_ignored(int signo) {
  std::lock_guard lock(sighand_->mu);
  const SignalAction& action = sighand_->actions[static_cast<size_t>(signo - 1)];
  const bool ignored = action.handler == kSigIgn ||
                       (action.handler == kSigDfl && (default_action(signo) == DefaultAction::kIgnore ||
                                                      default_action(signo) == DefaultAction::kContinue));
  if (!ignored) return;
  pending_.erase(bit(signo));
  group_->shared_pending.erase(bit(signo));
}

std::optional<siginfo_t> Task::dequeue_signal(uint64_t allowed) {
  std::lock_guard lock(sighand_->mu);
  // This thread's own signals first, then the process's (dequeue_signal()).
  for (PendingSignals* queue : {&pending_, &group_->shared_pending}) {
    uint64_t candidates = queue->mask.load() & allowed;
    if (candidates == 0) continue;
    // Synchronous faults first (Linux's SYNCHRONOUS_MASK), then the lowest.
    constexpr uint64_t kSynchronous =
        bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGTRAP) | bit(SIGFPE) | bit(SIGSYS);
    if (candidates & kSynchronous) candidates &= kSynchronous;
    return queue->take(__builtin_ctzll(candidates) + 1);
  }
  return std::nullopt;
}

void Task::act_on_signals() {
  const Restart restart = restart_;
  restart_ = Restart::kNone;
  bool handler_ran = false;
  while (!exiting_) {
    auto info = dequeue_signal(~signal_mask_.load());
    if (!info) break;
    const int signo = info->si_signo;
    SignalAction action;
    {
      std::lock_guard lock(sighand_->mu);
      action = sighand_->actions[static_cast<size_t>(signo - 1)];
    }
    const bool forced = forced_;
    forced_ = false;
    if (action.handler == kSigIgn && signo != SIGKILL && signo != SIGSTOP) continue;
    if (action.handler == kSigDfl || signo == SIGKILL || signo == SIGSTOP) {
      if (pid() == 1 && !forced) continue;  // filtered at sending, unless sent before the handler was reset
      switch (default_action(signo)) {
        case DefaultAction::kIgnore:
        case DefaultAction::kContinue:
          continue;
        case DefaultAction::kStop:
          stop_process(signo);
          continue;
        case DefaultAction::kTerminate:
        case DefaultAction::kCore:
          log::debug("task {}: signal {} terminates the process (default action)", tid_, signo);
          // No core files are written (RLIMIT_CORE is 0), so WCOREDUMP stays clear.
          exit_group(ExitStatus{0, signo});
          return;
      }
    }
    // A handler. An interrupted syscall restarts first if SA_RESTART says
    // so (and the frame saves the restarted registers); otherwise it
    // returns EINTR, which is already in %rax.
    if (!handler_ran && restart == Restart::kIfSaRestart && (action.flags & SA_RESTART)) {
      regs_.rax = regs_.orig_rax;
      regs_.rip -= 2;
    }
    handler_ran = true;
    if (auto r = setup_frame(*info, action); !r) {
      // A frame that cannot be written is fatal, as force_sigsegv() makes it.
      log::debug("task {}: cannot build the frame for signal {}: {}", tid_, signo, std::strerror(r.error()));
      exit_group(ExitStatus{0, SIGSEGV});
      return;
    }
  }
  // Interrupted, but no handler ran: the syscall restarts transparently.
  if (!handler_ran && restart != Restart::kNone && !exiting_) {
    regs_.rax = regs_.orig_rax;
    regs_.rip -= 2;
    restart_pending_ = true;
  }
  // A temporary mask (rt_sigsuspend) ends here unless a frame saved it.
  restore_temporary_mask();
}

void Task::notify_parent_of_job_control(int code, int status) {
  std::shared_ptr<ThreadGroup> parent;
  std::shared_ptr<Task> someone;
  {
    std::lock_guard lock(kernel_.tree_mutex());
    parent = group_->parent.lock();
    if (parent) someone = signal_target_locked(*parent, SIGCHLD);
  }
  if (!parent) return;
  bool send = someone != nullptr;
  if (someone) {
    std::lock_guard lock(someone->sighand_->mu);
    // SA_NOCLDSTOP: no SIGCHLD when children stop or resume (sigaction(2)).
    send = !(someone->sighand_->actions[SIGCHLD - 1].flags & SA_NOCLDSTOP);
  }
  if (send) {
    siginfo_t info{};
    info.si_signo = SIGCHLD;
    info.si_code = code;
    info.si_pid = group_->pid;
    info.si_uid = creds_.ruid;
    info.si_status = status;
    someone->send_signal(info);
  }
  parent->child_waiters.notify_all();
}

void Task::stop_process(int signo) {
  {
    std::lock_guard lock(kernel_.tree_mutex());
    group_->stopped = true;
    group_->stop_to_report = signo;
    group_->continue_to_report = false;
  }
  log::debug("task {}: stopped by signal {}", tid_, signo);
  notify_parent_of_job_control(CLD_STOPPED, signo);
  // Stay stopped until SIGCONT (continue_process) or SIGKILL.
  for (;;) {
    {
      std::lock_guard lock(kernel_.tree_mutex());
      if (!group_->stopped) break;
    }
    if (pending_signals() & bit(SIGKILL)) break;
    if (block() == EINTR) take_interrupt();
  }
}

void Task::continue_process() {
  {
    std::lock_guard lock(kernel_.tree_mutex());
    if (!group_->stopped) return;
    group_->stopped = false;
    group_->stop_to_report = 0;
    group_->continue_to_report = true;
  }
  notify_parent_of_job_control(CLD_CONTINUED, SIGCONT);
}

Result<void> Task::setup_frame(const siginfo_t& info, const SignalAction& action) {
  const int signo = info.si_signo;
  // The handler runs first: the next syscall is not the restarted one.
  restart_pending_ = false;
  // x86-64 has no default restorer: without kSaRestorer the frame is bad.
  if (!(action.flags & kSaRestorer)) return Err(EFAULT);
  uint64_t sp = regs_.rsp - 128;  // skip the red zone (get_sigframe())
  const bool was_on_altstack = on_altstack(regs_.rsp);
  if ((action.flags & SA_ONSTACK) && !(altstack_.flags & SS_DISABLE) && !was_on_altstack) {
    sp = altstack_.sp + altstack_.size;
  }
  // __save_altstack(): the settings as they were, before kSsAutodisarm.
  const KernelStack saved_stack{altstack_.sp, altstack_.flags, 0, altstack_.size};
  if ((action.flags & SA_ONSTACK) && (altstack_.flags & kSsAutodisarm) && !was_on_altstack) {
    altstack_ = AltStack{};
  }

  // The XSAVE area, 64-byte aligned, followed by FP_XSTATE_MAGIC2.
  uint64_t fpstate_addr = 0;
  auto fp = context_->fpstate(mm_->address_space());
  if (fp) {
    sp = (sp - fp->size() - sizeof(kFpXstateMagic2)) & ~uint64_t{63};
    fpstate_addr = sp;
    if (auto r = mm_->copy_out(sp, fp->data(), fp->size()); !r) return r;
    if (auto r = mm_->copy_out(sp + fp->size(), &kFpXstateMagic2, sizeof(kFpXstateMagic2)); !r) return r;
  } else {
    log::debug("task {}: no FPU state for the signal frame: {}", tid_, std::strerror(fp.error()));
  }
  // The frame: aligned so that the handler starts as if called
  // ((sp + 8) % 16 == 0), as the ABI expects at a function entry.
  const uint64_t frame_addr = ((sp - sizeof(RtSigframe)) & ~uint64_t{15}) - 8;

  RtSigframe frame{};
  frame.pretcode = action.restorer;
  frame.uc.flags = kUcSigcontextSs | kUcStrictRestoreSs | (fp ? kUcFpXstate : 0);
  frame.uc.stack = saved_stack;
  Sigcontext& sc = frame.uc.mcontext;
  sc.r8 = regs_.r8, sc.r9 = regs_.r9, sc.r10 = regs_.r10, sc.r11 = regs_.r11;
  sc.r12 = regs_.r12, sc.r13 = regs_.r13, sc.r14 = regs_.r14, sc.r15 = regs_.r15;
  sc.rdi = regs_.rdi, sc.rsi = regs_.rsi, sc.rbp = regs_.rbp, sc.rbx = regs_.rbx;
  sc.rdx = regs_.rdx, sc.rax = regs_.rax, sc.rcx = regs_.rcx, sc.rsp = regs_.rsp;
  sc.rip = regs_.rip, sc.eflags = regs_.eflags;
  sc.cs = static_cast<uint16_t>(regs_.cs), sc.ss = static_cast<uint16_t>(regs_.ss);
  sc.fpstate = fpstate_addr;
  sc.oldmask = signal_mask_.load();
  if (signo == SIGSEGV || signo == SIGBUS) sc.cr2 = reinterpret_cast<uint64_t>(info.si_addr);
  // The mask to come back to: the one before a temporary mask (rt_sigsuspend).
  frame.uc.sigmask = saved_mask_ ? *saved_mask_ : signal_mask_.load();
  saved_mask_.reset();
  if (fault_ && fault_->signo == signo) {
    sc.trapno = fault_->trapno;
    sc.err = fault_->err;
  }
  fault_.reset();
  frame.info = info;
  if (auto r = mm_->copy_out(frame_addr, &frame, sizeof(frame)); !r) return r;
  // The handler starts with a clean FPU (fpu__clear_user_states()): the
  // default control words, empty registers; the frame keeps the old state.
  if (fp && fp->size() >= 520) {
    std::vector<uint8_t> clean(fp->size(), 0);
    std::memcpy(clean.data() + 464, fp->data() + 464, 48);  // software bytes
    const uint16_t fcw = 0x37f;
    const uint32_t mxcsr = 0x1f80, mxcsr_mask = 0xffff;
    const uint64_t xstate_bv = 0x3;  // x87 and SSE as given here; the rest in init state
    std::memcpy(clean.data() + 0, &fcw, sizeof(fcw));
    std::memcpy(clean.data() + 24, &mxcsr, sizeof(mxcsr));
    std::memcpy(clean.data() + 28, &mxcsr_mask, sizeof(mxcsr_mask));
    std::memcpy(clean.data() + 512, &xstate_bv, sizeof(xstate_bv));
    if (auto r = context_->set_fpstate(mm_->address_space(), clean); !r) {
      log::debug("task {}: cannot reset the FPU for a handler: {}", tid_, std::strerror(r.error()));
    }
  }

  // The handler runs with (rdi, rsi, rdx) = (signo, &info, &uc).
  regs_.rsp = frame_addr;
  regs_.rip = action.handler;
  regs_.rdi = static_cast<uint64_t>(signo);
  regs_.rsi = frame_addr + offsetof(RtSigframe, info);
  regs_.rdx = frame_addr + offsetof(RtSigframe, uc);
  regs_.rax = 0;
  regs_.eflags &= ~kHandlerClearEflags;
  regs_.cs = kUserCs;
  regs_.ss = kUserDs;
  regs_.orig_rax = static_cast<uint64_t>(-1);

  uint64_t mask = signal_mask_.load() | action.mask;
  if (!(action.flags & SA_NODEFER)) mask |= bit(signo);
  signal_mask_.store(mask & ~kUnblockable);
  if (action.flags & SA_RESETHAND) {
    std::lock_guard lock(sighand_->mu);
    SignalAction& slot = sighand_->actions[static_cast<size_t>(signo - 1)];
    slot.handler = kSigDfl;
    slot.flags &= ~static_cast<uint64_t>(SA_SIGINFO);
  }
  return {};
}

Result<void> Task::sigreturn() {
  // The handler's `ret` popped pretcode: the ucontext starts at %rsp.
  const uint64_t uc_addr = regs_.rsp;
  Ucontext uc;
  if (auto r = mm_->copy_in(uc_addr, &uc, sizeof(uc)); !r) return r;
  const Sigcontext& sc = uc.mcontext;
  regs_.r8 = sc.r8, regs_.r9 = sc.r9, regs_.r10 = sc.r10, regs_.r11 = sc.r11;
  regs_.r12 = sc.r12, regs_.r13 = sc.r13, regs_.r14 = sc.r14, regs_.r15 = sc.r15;
  regs_.rdi = sc.rdi, regs_.rsi = sc.rsi, regs_.rbp = sc.rbp, regs_.rbx = sc.rbx;
  regs_.rdx = sc.rdx, regs_.rax = sc.rax, regs_.rcx = sc.rcx, regs_.rsp = sc.rsp;
  regs_.rip = sc.rip;
  regs_.eflags = (regs_.eflags & ~kFixEflags) | (sc.eflags & kFixEflags);
  regs_.cs = kUserCs;
  regs_.ss = kUserDs;
  regs_.orig_rax = static_cast<uint64_t>(-1);  // never a syscall restart
  set_signal_mask(uc.sigmask);
  if (sc.fpstate) {
    auto size = context_->fpstate(mm_->address_space());  // the size this CPU's XSAVE area has
    if (!size) return Err(size.error());
    std::vector<uint8_t> state(size->size());
    if (auto r = mm_->copy_in(sc.fpstate, state.data(), state.size()); !r) return r;
    if (auto r = context_->set_fpstate(mm_->address_space(), state); !r) return r;
  }
  // restore_altstack(): the frame's stack settings, if they are valid now.
  if (!on_altstack(regs_.rsp)) {
    if (uc.stack.flags & SS_DISABLE) {
      altstack_ = AltStack{};
    } else if (uc.stack.size >= kMinSigStkSz) {
      altstack_ = AltStack{uc.stack.sp, uc.stack.size, uc.stack.flags & kSsAutodisarm};
    }
  }
  return {};
}

}  // namespace runsc::kernel
