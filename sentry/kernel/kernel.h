// The Kernel: the state of one sandbox shared by all its tasks.
#pragma once

#include <sys/utsname.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/timers.h"
#include "sentry/mm/memory_file.h"
#include "vfs/file.h"

namespace runsc::vfs {
class TerminalControl;
}

namespace runsc::kernel {

class Task;
struct ThreadGroup;
struct SyscallTable;

// The kernel log that dmesg(1) reads through syslog(2): our own boot
// messages, "<level>[seconds.micros] text" per line as Linux prints them.
class BootLog {
 public:
  explicit BootLog(std::chrono::steady_clock::time_point boot) : boot_(boot) {}
  void add(std::string_view message, int level = 6);
  std::string contents() const;

 private:
  std::chrono::steady_clock::time_point boot_;
  mutable std::mutex mu_;
  std::string text_;
};

// Every capability Linux 4.4 knows (CAP_CHOWN .. CAP_AUDIT_READ, 0-37).
inline constexpr uint64_t kAllCapabilities = (uint64_t{1} << 38) - 1;

struct Credentials {
  uint32_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
  uint32_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<uint32_t> groups;
  // capabilities(7): root starts with all of them, anyone else with none.
  uint64_t cap_effective = kAllCapabilities, cap_permitted = kAllCapabilities, cap_inheritable = 0;
  // PR_SET_KEEPCAPS (SECBIT_KEEP_CAPS): leaving uid 0 keeps the permitted
  // set; execve(2) clears it.
  bool keep_caps = false;

  bool has_capability(int cap) const { return (cap_effective >> cap) & 1; }
};

struct KernelOptions {
  std::string hostname = "runsc";
  bool strace = false;
  // The sandbox's task limit (threads included; 0: none): clone past it
  // is EAGAIN, as a pids cgroup makes it (--total-tasks,
  // linux.resources.pids.limit).
  int max_tasks = 0;
};

class Kernel {
 public:
  Kernel(KernelOptions options, std::shared_ptr<mm::MemoryFile> memfile, std::unique_ptr<platform::Platform> platform,
         std::shared_ptr<vfs::Dentry> root, const SyscallTable& syscalls);
  ~Kernel();

  platform::Platform& platform() { return *platform_; }
  mm::MemoryFile& memfile() { return *memfile_; }
  const std::shared_ptr<mm::MemoryFile>& memfile_ptr() const { return memfile_; }
  const std::shared_ptr<vfs::Dentry>& root() const { return root_; }
  const SyscallTable& syscalls() const { return syscalls_; }
  BootLog& boot_log() { return boot_log_; }
  const KernelOptions& options() const { return options_; }

  // What uname(2) reports: Linux 4.4.0 on x86_64, as gVisor does.
  utsname uts() const;
  std::string hostname() const;
  // Nanoseconds since the sandbox booted (CLOCK_MONOTONIC inside).
  int64_t monotonic_ns() const;
  std::chrono::steady_clock::time_point boot_time() const { return boot_; }

  int allocate_tid() { return next_tid_.fetch_add(1); }
  FutexTable& futexes() { return futexes_; }
  TimerService& timers() { return timers_; }

  // The process tree: every process (live or zombie) by pid, and the live
  // tasks by tid. tree_mutex() guards them and every ThreadGroup's tree
  // fields (parent, children, pgid, sid, zombie, exit status).
  std::mutex& tree_mutex() { return tree_mu_; }
  // With tree_mutex() held.
  void add_task_locked(const std::shared_ptr<Task>& task);
  void remove_task_locked(int tid);
  // Live tasks whose real uid is `uid` (RLIMIT_NPROC counts them) and in
  // all. A task's count moves with its real uid (set_task_uid_locked).
  int tasks_of_uid_locked(uint32_t uid) const;
  int task_count_locked() const { return static_cast<int>(tasks_.size()); }
  void set_task_uid_locked(Task& task, uint32_t ruid);
  void remove_process_locked(int pid);
  std::shared_ptr<ThreadGroup> find_process_locked(int pid) const;
  std::shared_ptr<Task> find_task_locked(int tid) const;
  const std::map<int, std::shared_ptr<ThreadGroup>>& processes_locked() const { return processes_; }
  // Job control of a terminal (a host tty the sandbox was given, by its
  // device number): the session it controls and its foreground process
  // group (credentials(7), tcsetpgrp(3)). With tree_mutex() held.
  struct TerminalState {
    int sid = 0;       // 0: no session's controlling terminal
    int fg_pgrp = 0;
    // A description of the terminal, for opening it again (/dev/tty,
    // /dev/console).
    std::weak_ptr<vfs::FileDescription> file;
  };
  TerminalState& terminal_locked(uint64_t device) { return terminals_[device]; }
  // `device` becomes the controlling terminal of `leader`'s session, with
  // the leader's process group in the foreground; `file` is kept for
  // opening it again (/dev/tty).
  void attach_terminal_locked(ThreadGroup& leader, uint64_t device, const std::shared_ptr<vfs::FileDescription>& file);
  // No process has `device` as its controlling terminal any more and no
  // session holds it (disassociate_ctty(), a hangup, a stolen terminal);
  // returns the session and foreground group it had. The description
  // stays, so /dev/console still opens.
  TerminalState detach_terminal_locked(uint64_t device);
  // The sandbox's console: the terminal the first process was given (0:
  // none), what /dev/console opens.
  uint64_t console_locked() const { return console_; }
  void set_console_locked(uint64_t device) { console_ = device; }
  // Blocks until `group` has exited (its last thread is gone); notified by
  // the exit path. For runsc boot, which waits for pid 1.
  void wait_for_exit(const ThreadGroup& group);
  void notify_exit_locked() { exit_cv_.notify_all(); }

 private:
  KernelOptions options_;
  std::map<uint64_t, TerminalState> terminals_;
  uint64_t console_ = 0;
  std::chrono::steady_clock::time_point boot_;
  std::shared_ptr<mm::MemoryFile> memfile_;
  std::unique_ptr<platform::Platform> platform_;
  std::shared_ptr<vfs::Dentry> root_;
  const SyscallTable& syscalls_;
  BootLog boot_log_;
  std::atomic<int> next_tid_{1};
  FutexTable futexes_;
  TimerService timers_;
  std::mutex tree_mu_;
  std::condition_variable exit_cv_;
  std::map<int, std::shared_ptr<ThreadGroup>> processes_;
  std::map<int, std::weak_ptr<Task>> tasks_;
  std::map<uint32_t, int> tasks_of_uid_;
  // The kernel's side of the sandbox's ptys (process.cc), registered with
  // vfs while the kernel lives.
  std::unique_ptr<vfs::TerminalControl> terminal_control_;
};

}  // namespace runsc::kernel
