#include "sentry/kernel/task.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "common/interrupt.h"
#include "common/log.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/syscall_table.h"

namespace runsc::kernel {

Task::Task(Kernel& kernel, int tid)
    : kernel_(kernel), tid_(tid), fds_(std::make_shared<FdTable>()), fs_(std::make_shared<FsContext>()),
      context_(kernel.platform().new_context()), interrupt_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  // The limits a process gets from Linux's init task (include/asm-generic/resource.h).
  for (auto& r : rlimits_) r = {RLIM_INFINITY, RLIM_INFINITY};
  rlimits_[RLIMIT_STACK] = {8 << 20, RLIM_INFINITY};
  rlimits_[RLIMIT_CORE] = {0, RLIM_INFINITY};
  rlimits_[RLIMIT_NOFILE] = {FdTable::kDefaultLimit, 1 << 20};
  rlimits_[RLIMIT_MEMLOCK] = {8 << 20, 8 << 20};
  rlimits_[RLIMIT_NPROC] = {0x3fffffff, 0x3fffffff};
  rlimits_[RLIMIT_SIGPENDING] = {0x3fffffff, 0x3fffffff};
  rlimits_[RLIMIT_MSGQUEUE] = {819200, 819200};
  rlimits_[RLIMIT_NICE] = {0, 0};
  rlimits_[RLIMIT_RTPRIO] = {0, 0};
}

Task::~Task() = default;

void Task::interrupt() {
  uint64_t one = 1;
  (void)!::write(interrupt_fd_.get(), &one, sizeof(one));
  context_->interrupt();
}

bool Task::take_interrupt() {
  uint64_t value = 0;
  return ::read(interrupt_fd_.get(), &value, sizeof(value)) == sizeof(value);
}

void Task::post_external_signal(int signo) {
  pending_external_signal_.store(signo);
  interrupt();
}

void Task::exit_group(ExitStatus status) {
  if (exiting_) return;
  exiting_ = true;
  exit_status_ = status;
}

void Task::check_pending() {
  int signo = pending_external_signal_.exchange(0);
  if (signo == 0) return;
  const SignalAction& action = actions_[static_cast<size_t>(signo - 1)];
  if (action.handler == reinterpret_cast<uint64_t>(SIG_IGN)) {
    log::debug("task {}: external signal {} ignored by the application", tid_, signo);
    return;
  }
  // Until signal delivery lands, a signal the application did not ignore
  // ends it as the default action of SIGINT/SIGTERM/SIGHUP/SIGQUIT would.
  log::debug("task {}: external signal {} terminates the application", tid_, signo);
  exit_group(ExitStatus{0, signo});
}

void Task::send_signal(int signo) {
  if (signo < 1 || signo > 64) return;
  pending_signals_ |= 1ULL << (signo - 1);
}

namespace {

// Signals whose default action is to do nothing (signal(7)). The stop
// signals are in the list too until job control arrives.
bool default_is_ignore(int signo) {
  switch (signo) {
    case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
      return true;
    default:
      return false;
  }
}

}  // namespace

void Task::act_on_signals() {
  // SIGKILL and SIGSTOP cannot be blocked (signal_mask_ never holds them).
  uint64_t deliverable = pending_signals_ & ~signal_mask_;
  while (deliverable != 0 && !exiting_) {
    const int signo = __builtin_ctzll(deliverable) + 1;
    deliverable &= deliverable - 1;
    pending_signals_ &= ~(1ULL << (signo - 1));
    const SignalAction& action = actions_[static_cast<size_t>(signo - 1)];
    const bool dfl = action.handler == reinterpret_cast<uint64_t>(SIG_DFL) || signo == SIGKILL;
    if (action.handler == reinterpret_cast<uint64_t>(SIG_IGN) || (dfl && default_is_ignore(signo))) continue;
    if (!dfl) {
      // Handler frames arrive with the processes work.
      log::debug("task {}: signal {} has a handler; running handlers is not supported yet, dropped", tid_, signo);
      continue;
    }
    log::debug("task {}: signal {} terminates the application (default action)", tid_, signo);
    exit_group(ExitStatus{0, signo});
  }
}

ExitStatus Task::run() {
  current_interrupt_fd() = interrupt_fd_.get();
  while (!exiting_) {
    check_pending();
    act_on_signals();
    if (exiting_) break;
    platform::SwitchResult r = context_->switch_to(mm_->address_space(), regs_);
    switch (r.reason) {
      case platform::StopReason::kSyscall:
        handle_syscall();
        break;
      case platform::StopReason::kFault:
        handle_fault(r.info);
        break;
      case platform::StopReason::kInterrupted:
        take_interrupt();
        break;
      case platform::StopReason::kDied:
        log::warn("task {}: its stub process died", tid_);
        exit_group(ExitStatus{0, SIGKILL});
        break;
    }
  }
  // Release the address space now: its stub process goes with it.
  mm_.reset();
  return exit_status_;
}

void Task::handle_syscall() {
  const uint64_t nr = regs_.orig_rax;
  SyscallArgs args{{regs_.rdi, regs_.rsi, regs_.rdx, regs_.r10, regs_.r8, regs_.r9}};
  const SyscallInfo* info = nr < static_cast<uint64_t>(kMaxSyscall) ? &kernel_.syscalls().entries[nr] : nullptr;
  const bool strace = kernel_.options().strace;
  std::string entry_text;
  if (strace) entry_text = format_syscall_entry(*this, nr, info, args);

  Result<uint64_t> result = Err(ENOSYS);
  regs_replaced_ = false;
  if (info && info->fn) {
    result = info->fn(*this, args);
  } else {
    log::debug("task {}: unsupported syscall {} ({}), returning ENOSYS", tid_, nr,
               info && info->name ? info->name : "unknown");
  }
  if (!regs_replaced_) {
    regs_.rax = result ? *result : static_cast<uint64_t>(-static_cast<int64_t>(result.error()));
  }
  if (strace) log_syscall_exit(*this, entry_text, info, result, regs_replaced_);
}

void Task::handle_fault(const siginfo_t& info) {
  if (info.si_signo == SIGSEGV || info.si_signo == SIGBUS) {
    uint64_t addr = reinterpret_cast<uint64_t>(info.si_addr);
    // A fault in a page the Sentry has not mapped into the stub yet is how
    // memory gets populated: resolve it and let the application retry.
    if (info.si_code != SI_KERNEL && mm_->handle_fault(addr)) return;
    log::debug("task {}: fatal fault signal {} at {:#x} (rip {:#x})", tid_, info.si_signo, addr, regs_.rip);
  } else {
    log::debug("task {}: fatal signal {} (code {}) at rip {:#x}", tid_, info.si_signo, info.si_code, regs_.rip);
  }
  // Signal frames arrive with the processes work; for now a synchronous
  // signal ends the program as its default action does.
  exit_group(ExitStatus{0, info.si_signo});
}

}  // namespace runsc::kernel
