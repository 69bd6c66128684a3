#include "sentry/kernel/task.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "common/interrupt.h"
#include "common/crash.h"
#include "common/log.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/syscall_table.h"

namespace runsc::kernel {

Task::Task(Kernel& kernel, int tid, std::shared_ptr<ThreadGroup> group)
    : kernel_(kernel), tid_(tid), group_(std::move(group)), fds_(std::make_shared<FdTable>()),
      fs_(std::make_shared<FsContext>()), context_(kernel.platform().new_context()),
      interrupt_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
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

Task*& current_task() {
  thread_local Task* task = nullptr;
  return task;
}

int Task::ppid() const {
  std::lock_guard lock(kernel_.tree_mutex());
  auto parent = group_->parent.lock();
  return parent ? parent->pid : 0;
}

void Task::wake() {
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof(one));
}

int Task::block(int timeout_ms) {
  pollfd fds[2] = {{wake_fd_.get(), POLLIN, 0}, {interrupt_fd_.get(), POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return ETIMEDOUT;
    if (fds[1].revents & POLLIN) return EINTR;
    uint64_t value;
    (void)!::read(wake_fd_.get(), &value, sizeof(value));
    return 0;
  }
}

void Task::release_vfork_parent() {
  if (vfork_done_.exchange(true)) return;
  if (auto parent = vfork_parent_.lock()) parent->wake();
}

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
  if (exiting_.exchange(true)) return;
  exit_status_ = status;
  std::vector<std::shared_ptr<Task>> others;
  {
    std::lock_guard lock(kernel_.tree_mutex());
    if (!group_->group_exiting) {
      group_->group_exiting = true;
      group_->group_exit_status = status;
    }
    for (const auto& w : group_->tasks) {
      if (auto t = w.lock(); t && t.get() != this) others.push_back(std::move(t));
    }
  }
  // zap_other_threads(): every other thread leaves at its next stop.
  for (auto& t : others) t->interrupt();
}

void Task::exit_thread(int code) {
  if (exiting_.exchange(true)) return;
  exit_status_ = ExitStatus{code, 0};
}

void Task::kill_other_threads() {
  std::vector<std::shared_ptr<Task>> others;
  {
    std::lock_guard lock(kernel_.tree_mutex());
    for (const auto& w : group_->tasks) {
      if (auto t = w.lock(); t && t.get() != this) others.push_back(std::move(t));
    }
  }
  if (others.empty()) return;
  for (auto& t : others) {
    t->exit_thread(0);
    t->interrupt();
  }
  others.clear();
  // de_thread(): wait until they are gone.
  for (;;) {
    group_->thread_exit_waiters.add(this);
    bool alone;
    {
      std::lock_guard lock(kernel_.tree_mutex());
      alone = group_->tasks.size() <= 1;
    }
    if (alone) {
      group_->thread_exit_waiters.remove(this);
      return;
    }
    if (block() == EINTR) take_interrupt();
    group_->thread_exit_waiters.remove(this);
  }
}

void Task::check_pending() {
  int signo = pending_external_signal_.exchange(0);
  if (signo == 0) return;
  // A signal from outside the sandbox (runsc forwarding what it got): it
  // comes from an ancestor PID namespace, so si_pid is 0; pid 1 still
  // only takes it with a handler, except SIGKILL (pid_namespaces(7)).
  if (pid() == 1 && signo == SIGKILL) {
    exit_group(ExitStatus{0, SIGKILL});
    return;
  }
  siginfo_t info{};
  info.si_signo = signo;
  info.si_code = SI_USER;
  send_signal(info);
}

int64_t Task::user_time_ns() {
  const int64_t base = stub_baseline_ns_.load();
  const int64_t now = base < 0 ? base : context_->cpu_time_ns();
  return user_folded_ns_.load() + (base < 0 ? 0 : std::max<int64_t>(0, now - base));
}

int64_t Task::sys_time_ns() const {
  const pid_t tid = sentry_tid_.load();
  if (tid <= 0) return 0;
  // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): the Sentry thread's CPU time.
  const clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 4 | 2);
  timespec ts;
  if (::clock_gettime(clock, &ts) != 0) return 0;
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void Task::fold_user_time() {
  user_folded_ns_.store(user_time_ns());
  stub_baseline_ns_.store(-1);
}

ExitStatus Task::run() {
  current_interrupt_fd() = interrupt_fd_.get();
  current_task() = this;
  sentry_tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)));
  while (!exiting_) {
    if (group_->group_exiting.load()) {
      std::lock_guard lock(kernel_.tree_mutex());
      exit_status_ = group_->group_exit_status;
      exiting_ = true;
      break;
    }
    check_pending();
    act_on_signals();
    if (exiting_) break;
    mm_->flush_pending_unmaps();  // a file shrank under a shared mapping (one atomic load otherwise)
    platform::SwitchResult r = context_->switch_to(mm_->address_space(), regs_);
    if (stub_baseline_ns_.load() < 0) stub_baseline_ns_.store(context_->cpu_time_ns());
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
  exit_task();
  return exit_status_;
}

void Task::start(std::shared_ptr<Task> task) {
  std::thread([task = std::move(task)] { task->run(); }).detach();
}

Result<Task::WaitingThread> Task::start_waiting() {
  auto gate = std::make_shared<std::promise<std::shared_ptr<Task>>>();
  try {
    std::thread([future = gate->get_future()]() mutable {
      if (std::shared_ptr<Task> task = future.get()) task->run();
    }).detach();
  } catch (const std::system_error& e) {
    log::debug("clone: the host refused a Sentry thread: {}", e.what());
    return Err(EAGAIN);
  }
  return WaitingThread(std::move(gate));
}

// `int 0x80` (CD 80) from a 64-bit process enters Linux's 32-bit table;
// this kernel has no IA32 emulation (as a kernel built without it), so
// every such call is ENOSYS, never the 64-bit call of the same number.
// ptrace reports both entries alike: the instruction before %rip tells.
bool Task::entered_by_int80() {
  uint8_t insn[2];
  if (regs_.rip < 2 || !mm_->copy_in(regs_.rip - 2, insn, sizeof(insn))) return false;
  return insn[0] == 0xcd && insn[1] == 0x80;
}

void Task::handle_syscall() {
  if (entered_by_int80()) {
    log::debug("task {}: int 0x80 (32-bit syscall {}) from a 64-bit process: ENOSYS", tid_, regs_.orig_rax);
    regs_.rax = static_cast<uint64_t>(-ENOSYS);
    return;
  }
  dispatch_syscall();
}

void Task::dispatch_syscall() {
  const uint64_t nr = regs_.orig_rax;
  SyscallArgs args{{regs_.rdi, regs_.rsi, regs_.rdx, regs_.r10, regs_.r8, regs_.r9}};
  crash::set_serving(tid_, static_cast<long>(nr));
  const SyscallInfo* info = nr < static_cast<uint64_t>(kMaxSyscall) ? &kernel_.syscalls().entries[nr] : nullptr;
  const bool strace = kernel_.options().strace;
  std::string entry_text;
  if (strace) entry_text = format_syscall_entry(*this, nr, info, args);

  Result<uint64_t> result = Err(ENOSYS);
  regs_replaced_ = false;
  restart_override_ = false;
  restarted_syscall_ = restart_pending_;
  restart_pending_ = false;
  if (info && info->fn) {
    result = info->fn(*this, args);
  } else {
    log::debug("task {}: unsupported syscall {} ({}), returning ENOSYS", tid_, nr,
               info && info->name ? info->name : "unknown");
  }
  if (!regs_replaced_) {
    regs_.rax = result ? *result : static_cast<uint64_t>(-static_cast<int64_t>(result.error()));
    // A syscall a signal cut short may be restarted once the signal is
    // dealt with (signal(7), "Interruption of system calls").
    if (!result && result.error() == EINTR) {
      restart_ = restart_override_ ? Restart::kNever : (info ? info->restart : Restart::kNever);
    }
  }
  if (strace) log_syscall_exit(*this, entry_text, info, result, regs_replaced_);
  crash::set_serving(tid_, -1);
}

void Task::out_of_memory() {
  // Linux's OOM killer: SIGKILL, and a line in the kernel log that dmesg
  // shows. Linux picks the process with the largest badness score; here
  // it is the process whose fault the limit refused, which keeps the
  // choice local and cannot pick a process that is not using memory now.
  const int pid = this->pid();
  kernel_.boot_log().add(fmt::format("Out of memory: Killed process {} ({})", pid, comm_), 3);
  log::warn("task {}: out of sandbox memory; SIGKILL to process {}", tid_, pid);
  siginfo_t info{};
  info.si_signo = SIGKILL;
  info.si_code = SI_KERNEL;
  send_group_signal(kernel_, group(), info);
}

// The legacy vsyscall page (Linux's arch/x86/entry/vsyscall): three entry
// points at fixed addresses that old static binaries call instead of
// making the syscall.
constexpr uint64_t kVsyscallPage = 0xffffffffff600000ULL;
int vsyscall_number(uint64_t addr) {
  switch (addr) {
    case kVsyscallPage: return SYS_gettimeofday;
    case kVsyscallPage + 0x400: return SYS_time;
    case kVsyscallPage + 0x800: return SYS_getcpu;
    default: return -1;
  }
}

// Linux emulates a call to an entry (vsyscall=emulate or xonly): the
// syscall runs and a `ret` is emulated. The stub reaches here either way
// the host has it: with a vsyscall page, the host's own emulation meets
// the stub's seccomp filter, which traps it (SIGSYS, SYS_SECCOMP, the
// return already popped); without one, the call faults at the entry.
// Any other address in the page, or a stack without a return address,
// stays a SIGSEGV, as in Linux.
bool Task::emulate_vsyscall(const siginfo_t& info) {
  int nr = -1;
  constexpr int kSysSeccomp = 1;  // SIGSYS's si_code from a seccomp filter (siginfo.h)
  if (info.si_signo == SIGSYS && info.si_code == kSysSeccomp) {
    const auto call = reinterpret_cast<uint64_t>(info.si_call_addr);
    if (call < kVsyscallPage || call >= kVsyscallPage + mm::kPageSize) return false;
    nr = info.si_syscall;
    if (nr != SYS_gettimeofday && nr != SYS_time && nr != SYS_getcpu) return false;
  } else if (info.si_signo == SIGSEGV && regs_.rip >= kVsyscallPage && regs_.rip < kVsyscallPage + mm::kPageSize) {
    nr = vsyscall_number(regs_.rip);
    uint64_t caller;
    if (nr < 0 || !mm_->copy_in(regs_.rsp, &caller, sizeof(caller))) return false;
    regs_.rip = caller;
    regs_.rsp += sizeof(caller);
  } else {
    return false;
  }
  regs_.orig_rax = static_cast<uint64_t>(nr);
  dispatch_syscall();
  regs_.orig_rax = ~uint64_t{0};
  // A pointer it could not write is a SIGSEGV there, not EFAULT
  // (write_ok_or_segv() in Linux's emulation).
  if (regs_.rax == static_cast<uint64_t>(-EFAULT)) {
    siginfo_t segv{};
    segv.si_signo = SIGSEGV;
    segv.si_code = SEGV_MAPERR;
    segv.si_addr = reinterpret_cast<void*>(regs_.rdi);
    fault_ = FaultDetails{SIGSEGV, 14u, 6u};
    force_signal(segv);
  }
  return true;
}

void Task::handle_fault(const siginfo_t& host_info) {
  if (emulate_vsyscall(host_info)) return;
  siginfo_t info = host_info;
  if (info.si_signo == SIGSEGV || info.si_signo == SIGBUS) {
    uint64_t addr = reinterpret_cast<uint64_t>(info.si_addr);
    // A fault in a page the Sentry has not mapped into the stub yet is how
    // memory gets populated: resolve it and let the application retry.
    if (info.si_code != SI_KERNEL) {
      auto r = mm_->handle_fault(addr);
      if (r) {
        last_mapped_fault_ = 0;
        return;
      }
      // Another thread may have mapped the page since this fault was
      // raised: retry once; the same fault again is a real violation.
      if (r.error() == EAGAIN && last_mapped_fault_ != addr) {
        last_mapped_fault_ = addr;
        return;
      }
      if (r.error() == ENOMEM) {
        out_of_memory();
        return;
      }
      if (r.error() == EIO) {
        // A shared file mapping beyond the end of its file (mmap(2) SIGBUS).
        info.si_signo = SIGBUS;
        info.si_code = BUS_ADRERR;
      }
    }
    last_mapped_fault_ = 0;
    // The host's si_code reflects what the stub has mapped, which is lazy;
    // the application's view is its VMAs: no VMA, SEGV_MAPERR, else ACCERR.
    if (info.si_signo == SIGSEGV && info.si_code != SI_KERNEL) {
      info.si_code = mm_->has_vma(addr) ? SEGV_ACCERR : SEGV_MAPERR;
    }
    log::debug("task {}: fault signal {} code {} at {:#x} (rip {:#x})", tid_, info.si_signo, info.si_code, addr,
               regs_.rip);
    // A page fault (#PF, 14) from user mode (error code bit 2). The host
    // does not tell us whether it was a write; an access refused by a
    // readable VMA can only have been one (bit 1). SI_KERNEL: #GP (13).
    uint64_t err = 4;
    if (info.si_code == SEGV_ACCERR && mm_->vma_prot(addr) == PROT_READ) err |= 2;
    fault_ = FaultDetails{info.si_signo, info.si_code == SI_KERNEL ? 13u : 14u, err};
  } else {
    log::debug("task {}: fault signal {} (code {}) at rip {:#x}", tid_, info.si_signo, info.si_code, regs_.rip);
    // The exception behind it: #DE (0) or #MF/#XM for SIGFPE, #UD (6) for
    // SIGILL, #BP (3) for SIGTRAP from int3.
    uint64_t trapno = 0;
    if (info.si_signo == SIGILL) trapno = 6;
    if (info.si_signo == SIGTRAP) trapno = 3;
    if (info.si_signo == SIGFPE && info.si_code != FPE_INTDIV && info.si_code != FPE_INTOVF) trapno = 19;
    fault_ = FaultDetails{info.si_signo, trapno, 0};
  }
  force_signal(info);
}

}  // namespace runsc::kernel
