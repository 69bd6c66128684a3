// Task: one application thread, run by one Sentry host thread.
#pragma once

#include <signal.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "platform/platform.h"
#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/mm.h"
#include "vfs/file.h"

namespace runsc::kernel {

// Root, working directory and umask (what CLONE_FS shares).
struct FsContext {
  std::shared_ptr<vfs::Dentry> root;
  std::shared_ptr<vfs::Dentry> cwd;
  uint32_t umask = 022;
};

// Linux's values, which glibc's headers hide or make sysconf() calls.
inline constexpr uint64_t kSaRestorer = 0x04000000;
inline constexpr int kSsAutodisarm = 1 << 31;
inline constexpr uint64_t kMinSigStkSz = 2048;

// A signal disposition as rt_sigaction(2) stores it (the kernel's
// struct sigaction layout: handler, flags, restorer, mask).
struct SignalAction {
  uint64_t handler = 0;  // SIG_DFL
  uint64_t flags = 0;
  uint64_t restorer = 0;
  uint64_t mask = 0;
};


// The dispositions CLONE_SIGHAND shares; its mutex also guards the
// pending-signal queues of the tasks sharing it (Linux's siglock).
struct SignalHandlers {
  std::mutex mu;
  std::array<SignalAction, 64> actions{};
};

struct ExecRequest {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::string> envp;
};

// What clone(2), fork(2) and vfork(2) ask for.
struct CloneRequest {
  uint64_t flags = 0;  // CLONE_*, without the exit signal
  int exit_signal = SIGCHLD;
  uint64_t stack = 0;  // new %rsp; 0 keeps the parent's
  uint64_t parent_tid = 0, child_tid = 0, tls = 0;
};

class Task;
// With the tree lock: the thread of `g` a process-directed `signo` goes to.
std::shared_ptr<Task> signal_target_locked(ThreadGroup& g, int signo);
// The task the calling Sentry thread runs (null elsewhere), for files whose
// behaviour depends on the caller (signalfd reads the reader's signals).
Task*& current_task();

// With the tree lock: a reaped child's CPU time becomes its parent's
// children's time (getrusage(RUSAGE_CHILDREN)).
void account_reaped_child_locked(ThreadGroup& parent, const ThreadGroup& child);
// Sends `info` to the process `g` (one of its threads takes it).
void send_group_signal(Kernel& kernel, ThreadGroup& g, const siginfo_t& info);
// Sends `signo` (si_code SI_KERNEL, as a terminal's signals come) to every
// live process of process group `pgid`; false if there is none.
bool signal_process_group(Kernel& kernel, int pgid, int signo);
// The kernel's side of the sandbox's ptys: their ISIG characters and
// window changes signal the foreground process group of the session they
// control; a master's close hangs that session up.
std::unique_ptr<vfs::TerminalControl> make_terminal_control(Kernel& kernel);
// A signal from outside the sandbox (runsc kill, a forwarded SIGTERM) to
// process `pid`: one of its live threads takes it; false if it is gone.
bool post_external_signal(Kernel& kernel, int pid, int signo);

class Task : public vfs::UserMemory, public std::enable_shared_from_this<Task> {
 public:
  Task(Kernel& kernel, int tid, std::shared_ptr<ThreadGroup> group);
  ~Task() override;

  Kernel& kernel() { return kernel_; }
  int tid() const { return tid_; }
  int pid() const { return group_->pid; }
  // The parent's pid; 0 for pid 1, whose parent is outside the sandbox.
  int ppid() const;
  ThreadGroup& group() { return *group_; }
  const std::shared_ptr<ThreadGroup>& group_ptr() const { return group_; }

  // clone(2) for a new process (no CLONE_VM or CLONE_THREAD yet): the child
  // task, already running on its own Sentry thread. Returns its tid.
  Result<int> clone(const CloneRequest& request);

  mm::MemoryManager& mm() { return *mm_; }
  // Shared handles for another thread looking at this task (procfs).
  std::shared_ptr<mm::MemoryManager> mm_ptr() const { return mm_; }
  std::shared_ptr<FdTable> fds_ptr() const { return fds_; }
  std::shared_ptr<FsContext> fs_ptr() const { return fs_; }
  FdTable& fds() { return *fds_; }
  FsContext& fs() { return *fs_; }
  Credentials& creds() { return creds_; }
  platform::Registers& regs() { return regs_; }

  // Replaces the address space with `path` loaded fresh (execve(2)).
  Result<void> exec(const ExecRequest& request);
  void set_fds(std::shared_ptr<FdTable> fds) { fds_ = std::move(fds); }
  void set_fs(std::shared_ptr<FsContext> fs) { fs_ = std::move(fs); }

  // Runs the task until its thread group exits; returns how it ended. The
  // task has then left the process tree (a zombie until reaped).
  ExitStatus run();
  // Starts run() on a new Sentry thread.
  static void start(std::shared_ptr<Task> task);
  // A Sentry thread made ahead of its task (clone): go() runs the task on
  // it; dropped without go(), the thread ends at once. EAGAIN when the
  // host refuses a thread.
  class WaitingThread {
   public:
    explicit WaitingThread(std::shared_ptr<std::promise<std::shared_ptr<Task>>> gate) : gate_(std::move(gate)) {}
    WaitingThread(WaitingThread&&) = default;
    ~WaitingThread() {
      if (gate_) gate_->set_value(nullptr);
    }
    void go(std::shared_ptr<Task> task) { std::exchange(gate_, nullptr)->set_value(std::move(task)); }

   private:
    std::shared_ptr<std::promise<std::shared_ptr<Task>>> gate_;
  };
  static Result<WaitingThread> start_waiting();

  // Called by syscalls: ends the group (exit_group, fatal signals) or only
  // this thread (exit(2)).
  void exit_group(ExitStatus status);
  void exit_thread(int code);
  // execve(2) in a multi-threaded process: the other threads exit first.
  void kill_other_threads();
  bool exiting() const { return exiting_.load(); }

  // Asks the task to stop: makes blocking syscalls return EINTR and the
  // platform return to the Sentry. Safe from any thread.
  void interrupt();
  // A signal sent from outside the sandbox (runsc forwarding SIGINT...).
  void post_external_signal(int signo);
  // An eventfd that becomes readable when interrupt() is called; blocking
  // operations poll it next to what they wait for.
  int interrupt_fd() const { return interrupt_fd_.get(); }
  // The eventfd wake() writes; waits that re-check a condition poll it.
  int wake_fd() const { return wake_fd_.get(); }
  // Consumes an interruption; true if there was one.
  bool take_interrupt();
  // Wakes the task from block() (WaitQueue::notify_all). Any thread.
  void wake();
  // Blocks until wake() (0), an interruption (EINTR, left pending for the
  // run loop) or `timeout_ms` (ETIMEDOUT; < 0: none).
  int block(int timeout_ms = -1);
  // CPU time of this thread: user (the application on the host) and
  // system (its Sentry thread), in ns. Any thread.
  int64_t user_time_ns();
  int64_t sys_time_ns() const;
  // Before the thread leaves its stub (exec, exit): keep the user time.
  void fold_user_time();
  // vfork(2): the parent waits until its child execs or exits.
  void release_vfork_parent();

  // Signals (sentry/kernel/signals.cc).
  std::array<SignalAction, 64>& signal_actions() { return sighand_->actions; }
  uint64_t signal_mask() const { return signal_mask_.load(); }
  // Sets the mask; SIGKILL and SIGSTOP can never be blocked.
  void set_signal_mask(uint64_t mask);
  // rt_sigsuspend, ppoll, pselect6: `mask` applies while the task waits;
  // the current one comes back after the handler the wait ends with runs
  // (it is what the signal frame saves), or at once if none does.
  void set_temporary_mask(uint64_t mask);
  // rt_sigtimedwait(2): the mask before it unblocked the signals it waits
  // for (0 outside such a wait). Those are never discarded as ignored on
  // arrival, as Linux's sig_ignored() checks real_blocked.
  void set_real_blocked(uint64_t mask) { real_blocked_.store(mask); }
  void restore_temporary_mask();
  // This thread's pending signals and its process's.
  uint64_t pending_signals() const { return pending_.mask.load() | group_->shared_pending.mask.load(); }
  // Sends a signal to this task from inside the sandbox (kill, tgkill,
  // SIGCHLD, SIGPIPE). An ignored, unblocked signal is dropped at once (as
  // Linux's sig_ignored()); a blocked one stays pending; otherwise the task
  // is interrupted and the signal delivered before it next runs. Any thread.
  // `process_directed`: the signal is the process's (kill), queued where
  // any of its threads may take it; this task is the one woken for it.
  void send_signal(const siginfo_t& info, bool process_directed = false);
  void send_signal(int signo);  // SI_KERNEL-less SI_USER from the task itself
  // A synchronous fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP): it is
  // delivered even if blocked or ignored, by resetting it to the default
  // action then, as force_sig_info() does.
  void force_signal(const siginfo_t& info);
  // rt_sigaction(2) to an ignoring disposition drops what is pending.
  void discard_pending_if_ignored(int signo);
  // Takes the lowest pending signal among `allowed`, with its siginfo.
  std::optional<siginfo_t> dequeue_signal(uint64_t allowed);
  // Guards signal_actions() and the queue against senders on other threads.
  std::mutex& signal_mutex() { return sighand_->mu; }
  // rt_sigreturn(2): restores the context saved by the handler's frame.
  Result<void> sigreturn();
  struct AltStack {
    uint64_t sp = 0;
    uint64_t size = 0;
    int flags = SS_DISABLE;  // SS_DISABLE, or 0 / kSsAutodisarm when set
  };
  AltStack& altstack() { return altstack_; }
  bool on_altstack(uint64_t sp) const {
    return !(altstack_.flags & SS_DISABLE) && sp > altstack_.sp && sp - altstack_.sp <= altstack_.size;
  }

  // Whether the current syscall replaced the registers wholesale (execve),
  // so the dispatcher must not store a return value in %rax.
  bool& regs_replaced() { return regs_replaced_; }
  uint64_t& clear_child_tid() { return clear_child_tid_; }
  uint64_t& robust_list() { return robust_list_; }
  // The running syscall, interrupted, must fail with EINTR once a handler
  // ran even if it has SA_RESTART (a futex wait with a timeout, which Linux
  // restarts only through restart_syscall when no handler runs).
  void no_restart_after_handler() { restart_override_ = true; }
  // Whether the running syscall is the re-execution of one a signal
  // interrupted without a handler running (the Sentry restarted it).
  bool restarted_syscall() const { return restarted_syscall_; }
  // nanosleep's deadline, kept for such a restart.
  std::optional<int64_t>& sleep_deadline() { return sleep_deadline_; }
  std::string& comm() { return comm_; }
  // Resource limits (getrlimit(2)), starting from Linux's defaults.
  std::array<rlimit, RLIM_NLIMITS>& rlimits() { return rlimits_; }
  bool no_new_privs() const { return no_new_privs_; }
  void set_no_new_privs() { no_new_privs_ = true; }

  // vfs::UserMemory: the task's own address space.
  Result<void> copy_out(uint64_t addr, const void* src, size_t length) override {
    return mm_->copy_out(addr, src, length);
  }
  Result<void> copy_in(uint64_t addr, void* dst, size_t length) override { return mm_->copy_in(addr, dst, length); }

 private:
  friend class Kernel;  // its per-user task count (counted_uid_)
  void handle_syscall();
  // Runs the syscall in regs_.orig_rax with the registers' arguments and
  // puts the result in rax (what handle_syscall does after its checks).
  void dispatch_syscall();
  bool entered_by_int80();
  // A call into the legacy vsyscall page, emulated as Linux's
  // vsyscall=xonly does; false if `info` is no such call.
  bool emulate_vsyscall(const siginfo_t& info);
  void handle_fault(const siginfo_t& info);
  // A page fault the sandbox's memory limit cannot serve.
  void out_of_memory();
  // EAGAIN if one more task would pass RLIMIT_NPROC or the sandbox's task
  // limit (tree lock held).
  Result<void> check_task_limits_locked() const;
  void check_pending();
  // Applies the disposition of every pending, unblocked signal: runs
  // handlers by building their frames, or the default action.
  void act_on_signals();
  // Job control: the default action of SIGSTOP and friends (waits here
  // until SIGCONT or SIGKILL), and SIGCONT's resumption of it.
  void stop_process(int signo);
  void continue_process();
  void notify_parent_of_job_control(int code, int status);
  // Builds the rt_sigframe for `info` and points the registers at the handler.
  Result<void> setup_frame(const siginfo_t& info, const SignalAction& action);

  // After the last syscall: frees what the thread held; the last thread
  // out makes the process a zombie, hands its children to a reaper and
  // tells its parent (exit_notify()).
  void exit_task();
  void release_robust_futexes();
  // With the tree lock, as a process ends: a session leader's session
  // loses its controlling terminal; returns the foreground process group
  // to send SIGHUP to (0: none).
  int disassociate_ctty_locked();
  // With the tree lock: the process of the last thread has ended.
  void exit_process_locked(std::shared_ptr<ThreadGroup>& parent, bool& notify_parent);

  Kernel& kernel_;
  int tid_;
  std::shared_ptr<ThreadGroup> group_;
  // The vfork(2) parent waiting for this task to exec or exit.
  std::weak_ptr<Task> vfork_parent_;
  std::atomic<bool> vfork_done_{false};
  std::shared_ptr<mm::MemoryManager> mm_;
  std::shared_ptr<FdTable> fds_;
  std::shared_ptr<FsContext> fs_;
  Credentials creds_;
  uint32_t counted_uid_ = 0;  // the uid the kernel's per-user task count holds this task under (tree lock)
  platform::Registers regs_{};
  std::unique_ptr<platform::Context> context_;
  std::shared_ptr<SignalHandlers> sighand_ = std::make_shared<SignalHandlers>();
  std::atomic<uint64_t> signal_mask_{0};
  PendingSignals pending_;  // guarded by sighand_->mu
  std::optional<uint64_t> saved_mask_;
  std::atomic<uint64_t> real_blocked_{0};
  AltStack altstack_;
  Restart restart_ = Restart::kNone;
  bool restart_override_ = false;
  bool restarted_syscall_ = false;  // set by act_on_signals, for the next syscall
  bool restart_pending_ = false;
  std::optional<int64_t> sleep_deadline_;
  bool forced_ = false;
  // The hardware details of the last fault, for its signal frame's
  // sigcontext (trapno, err), as the CPU exception reported them.
  struct FaultDetails {
    int signo;
    uint64_t trapno, err;
  };
  std::optional<FaultDetails> fault_;
  uint64_t last_mapped_fault_ = 0;
  std::atomic<int64_t> user_folded_ns_{0};
  std::atomic<int64_t> stub_baseline_ns_{-1};  // the stub thread's clock when this task took it
  std::atomic<pid_t> sentry_tid_{0};  // a fault on a mapped page, retried once  // the next dequeued signal came from force_signal()
  bool regs_replaced_ = false;
  uint64_t clear_child_tid_ = 0;
  uint64_t robust_list_ = 0;
  std::string comm_;
  std::array<rlimit, RLIM_NLIMITS> rlimits_;
  // prctl(PR_SET_NO_NEW_PRIVS): set once, inherited by clone and fork, kept across execve.
  bool no_new_privs_ = false;
  std::atomic<bool> exiting_{false};
  ExitStatus exit_status_;
  UniqueFd interrupt_fd_;
  UniqueFd wake_fd_;
  std::atomic<int> pending_external_signal_{0};
};

}  // namespace runsc::kernel
