// Task: one application thread, run by one Sentry host thread.
#pragma once

#include <signal.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "platform/platform.h"
#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
#include "vfs/file.h"

namespace runsc::kernel {

// Root, working directory and umask (what CLONE_FS shares).
struct FsContext {
  std::shared_ptr<vfs::Dentry> root;
  std::shared_ptr<vfs::Dentry> cwd;
  uint32_t umask = 022;
};

// A signal disposition as rt_sigaction(2) stores it (the kernel's
// struct sigaction layout: handler, flags, restorer, mask).
struct SignalAction {
  uint64_t handler = 0;  // SIG_DFL
  uint64_t flags = 0;
  uint64_t restorer = 0;
  uint64_t mask = 0;
};

// How the thread group ended: exit(n) or a fatal signal.
struct ExitStatus {
  int code = 0;
  int signal = 0;
  // The status as a shell reports it: code, or 128+signal.
  int shell_status() const { return signal ? 128 + signal : code; }
};

struct ExecRequest {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::string> envp;
};

class Task : public vfs::UserMemory {
 public:
  Task(Kernel& kernel, int tid);
  ~Task() override;

  Kernel& kernel() { return kernel_; }
  int tid() const { return tid_; }
  int pid() const { return tid_; }  // one thread per group for now
  int ppid() const { return 0; }

  mm::MemoryManager& mm() { return *mm_; }
  FdTable& fds() { return *fds_; }
  FsContext& fs() { return *fs_; }
  Credentials& creds() { return creds_; }
  platform::Registers& regs() { return regs_; }

  // Replaces the address space with `path` loaded fresh (execve(2)).
  Result<void> exec(const ExecRequest& request);
  void set_fds(std::shared_ptr<FdTable> fds) { fds_ = std::move(fds); }
  void set_fs(std::shared_ptr<FsContext> fs) { fs_ = std::move(fs); }

  // Runs the task until its thread group exits; returns how it ended.
  ExitStatus run();

  // Called by syscalls: ends the group (exit_group) or this thread (exit).
  void exit_group(ExitStatus status);
  bool exiting() const { return exiting_; }

  // Asks the task to stop: makes blocking syscalls return EINTR and the
  // platform return to the Sentry. Safe from any thread.
  void interrupt();
  // A signal sent from outside the sandbox (runsc forwarding SIGINT...).
  void post_external_signal(int signo);
  // An eventfd that becomes readable when interrupt() is called; blocking
  // operations poll it next to what they wait for.
  int interrupt_fd() const { return interrupt_fd_.get(); }
  // Consumes an interruption; true if there was one.
  bool take_interrupt();

  // Signal bookkeeping (delivery arrives with the processes work).
  std::array<SignalAction, 64>& signal_actions() { return actions_; }
  uint64_t& signal_mask() { return signal_mask_; }
  uint64_t pending_signals() const { return pending_signals_; }
  // Sends `signo` to this task from inside the sandbox (kill, tgkill). It
  // stays pending while blocked; otherwise its disposition is applied
  // before the task next runs.
  void send_signal(int signo);

  // Whether the current syscall replaced the registers wholesale (execve),
  // so the dispatcher must not store a return value in %rax.
  bool& regs_replaced() { return regs_replaced_; }
  uint64_t& clear_child_tid() { return clear_child_tid_; }
  uint64_t& robust_list() { return robust_list_; }
  std::string& comm() { return comm_; }
  // Resource limits (getrlimit(2)), starting from Linux's defaults.
  std::array<rlimit, RLIM_NLIMITS>& rlimits() { return rlimits_; }

  // vfs::UserMemory: the task's own address space.
  Result<void> copy_out(uint64_t addr, const void* src, size_t length) override {
    return mm_->copy_out(addr, src, length);
  }
  Result<void> copy_in(uint64_t addr, void* dst, size_t length) override { return mm_->copy_in(addr, dst, length); }

 private:
  void handle_syscall();
  void handle_fault(const siginfo_t& info);
  void check_pending();
  // Applies the disposition of every pending, unblocked signal.
  void act_on_signals();

  Kernel& kernel_;
  int tid_;
  std::shared_ptr<mm::MemoryManager> mm_;
  std::shared_ptr<FdTable> fds_;
  std::shared_ptr<FsContext> fs_;
  Credentials creds_;
  platform::Registers regs_{};
  std::unique_ptr<platform::Context> context_;
  std::array<SignalAction, 64> actions_{};
  uint64_t signal_mask_ = 0;
  uint64_t pending_signals_ = 0;
  bool regs_replaced_ = false;
  uint64_t clear_child_tid_ = 0;
  uint64_t robust_list_ = 0;
  std::string comm_;
  std::array<rlimit, RLIM_NLIMITS> rlimits_;
  bool exiting_ = false;
  ExitStatus exit_status_;
  UniqueFd interrupt_fd_;
  std::atomic<int> pending_external_signal_{0};
};

}  // namespace runsc::kernel
