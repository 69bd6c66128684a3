#include "sentry/kernel/kernel.h"

#include <fmt/core.h>

#include <cstring>

#include "sentry/kernel/task.h"
#include "vfs/devpts.h"

namespace runsc::kernel {

void BootLog::add(std::string_view message, int level) {
  auto since = std::chrono::steady_clock::now() - boot_;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(since).count();
  std::lock_guard lock(mu_);
  text_ += fmt::format("<{}>[{:5}.{:06}] {}\n", level, us / 1000000, us % 1000000, message);
}

std::string BootLog::contents() const {
  std::lock_guard lock(mu_);
  return text_;
}

Kernel::Kernel(KernelOptions options, std::shared_ptr<mm::MemoryFile> memfile,
               std::unique_ptr<platform::Platform> platform, std::shared_ptr<vfs::Dentry> root,
               const SyscallTable& syscalls)
    : options_(std::move(options)), boot_(std::chrono::steady_clock::now()), memfile_(std::move(memfile)),
      platform_(std::move(platform)), root_(std::move(root)), syscalls_(syscalls), boot_log_(boot_),
      terminal_control_(make_terminal_control(*this)) {
  vfs::set_terminal_control(terminal_control_.get());
}

Kernel::~Kernel() { vfs::set_terminal_control(nullptr); }

void Kernel::attach_terminal_locked(ThreadGroup& leader, uint64_t device,
                                    const std::shared_ptr<vfs::FileDescription>& file) {
  auto& term = terminals_[device];
  leader.ctty = device;
  term.sid = leader.sid;
  term.fg_pgrp = leader.pgid;
  term.file = file;
}

Kernel::TerminalState Kernel::detach_terminal_locked(uint64_t device) {
  for (const auto& [pid, g] : processes_) {
    if (g->ctty == device) g->ctty = 0;
  }
  auto& term = terminals_[device];
  const TerminalState was = term;
  term.sid = 0;
  term.fg_pgrp = 0;
  return was;
}

utsname Kernel::uts() const {
  utsname u{};
  auto put = [](char* dst, std::string_view s) { std::strncpy(dst, std::string(s).c_str(), sizeof(u.sysname) - 1); };
  put(u.sysname, "Linux");
  put(u.nodename, options_.hostname);
  put(u.release, "4.4.0");
  put(u.version, "#1 SMP runsc-cpp");
  put(u.machine, "x86_64");
  put(u.domainname, "(none)");
  return u;
}

std::string Kernel::hostname() const { return options_.hostname; }

int64_t Kernel::monotonic_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - boot_).count();
}

void Kernel::add_task_locked(const std::shared_ptr<Task>& task) {
  if (tasks_.emplace(task->tid(), task).second) {
    task->counted_uid_ = task->creds().ruid;
    ++tasks_of_uid_[task->counted_uid_];
  }
  processes_.emplace(task->pid(), task->group_ptr());
}

void Kernel::remove_task_locked(int tid) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return;
  if (auto task = it->second.lock()) {
    auto count = tasks_of_uid_.find(task->counted_uid_);
    if (count != tasks_of_uid_.end() && --count->second <= 0) tasks_of_uid_.erase(count);
  }
  tasks_.erase(it);
}

int Kernel::tasks_of_uid_locked(uint32_t uid) const {
  auto it = tasks_of_uid_.find(uid);
  return it == tasks_of_uid_.end() ? 0 : it->second;
}

void Kernel::set_task_uid_locked(Task& task, uint32_t ruid) {
  if (task.counted_uid_ == ruid || !tasks_.contains(task.tid())) return;
  auto count = tasks_of_uid_.find(task.counted_uid_);
  if (count != tasks_of_uid_.end() && --count->second <= 0) tasks_of_uid_.erase(count);
  task.counted_uid_ = ruid;
  ++tasks_of_uid_[ruid];
}

void Kernel::wait_for_exit(const ThreadGroup& group) {
  std::unique_lock lock(tree_mu_);
  exit_cv_.wait(lock, [&] { return group.zombie; });
}

void Kernel::remove_process_locked(int pid) { processes_.erase(pid); }

std::shared_ptr<ThreadGroup> Kernel::find_process_locked(int pid) const {
  auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : it->second;
}

std::shared_ptr<Task> Kernel::find_task_locked(int tid) const {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? nullptr : it->second.lock();
}

}  // namespace runsc::kernel
