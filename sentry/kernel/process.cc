// Creating and ending processes: clone(2) for a new process and the exit
// path of kernel/exit.c (zombie, orphans to pid 1, the parent's SIGCHLD).
#include <linux/capability.h>
#include <linux/futex.h>
#include <sched.h>

#include <algorithm>

#include "common/log.h"
#include "sentry/kernel/task.h"
#include "vfs/devpts.h"

namespace runsc::kernel {

std::shared_ptr<Task> signal_target_locked(ThreadGroup& g, int signo) {
  // complete_signal(): the main thread if it does not block the signal,
  // else any thread that does not, else the first one alive.
  std::shared_ptr<Task> fallback;
  if (auto leader = g.leader.lock(); leader && !leader->exiting()) {
    if (!(leader->signal_mask() & (1ULL << (signo - 1)))) return leader;
    fallback = leader;
  }
  for (const auto& weak : g.tasks) {
    auto t = weak.lock();
    if (!t || t->exiting()) continue;
    if (!(t->signal_mask() & (1ULL << (signo - 1)))) return t;
    if (!fallback) fallback = t;
  }
  return fallback;
}

bool signal_process_group(Kernel& kernel, int pgid, int signo) {
  std::vector<std::shared_ptr<ThreadGroup>> targets;
  {
    std::lock_guard lock(kernel.tree_mutex());
    for (const auto& [pid, g] : kernel.processes_locked()) {
      if (g->pgid == pgid && !g->zombie) targets.push_back(g);
    }
  }
  siginfo_t info{};
  info.si_signo = signo;
  info.si_code = SI_KERNEL;
  for (const auto& g : targets) send_group_signal(kernel, *g, info);
  return !targets.empty();
}

namespace {

class KernelTerminalControl final : public vfs::TerminalControl {
 public:
  explicit KernelTerminalControl(Kernel& kernel) : kernel_(kernel) {}

  void signal_foreground(uint64_t device, int signo) override {
    int pgrp;
    {
      std::lock_guard lock(kernel_.tree_mutex());
      pgrp = kernel_.terminal_locked(device).fg_pgrp;
    }
    if (pgrp) signal_process_group(kernel_, pgrp, signo);
  }

  void hang_up(uint64_t device) override {
    std::shared_ptr<ThreadGroup> leader;
    {
      // tty_signal_session_leader(): every process of the session loses
      // the terminal; the leader is told with SIGHUP and SIGCONT.
      std::lock_guard lock(kernel_.tree_mutex());
      const int sid = kernel_.detach_terminal_locked(device).sid;
      if (sid) leader = kernel_.find_process_locked(sid);
    }
    if (!leader) return;
    siginfo_t info{};
    info.si_code = SI_KERNEL;
    for (int signo : {SIGHUP, SIGCONT}) {
      info.si_signo = signo;
      send_group_signal(kernel_, *leader, info);
    }
  }

 private:
  Kernel& kernel_;
};

}  // namespace

std::unique_ptr<vfs::TerminalControl> make_terminal_control(Kernel& kernel) {
  return std::make_unique<KernelTerminalControl>(kernel);
}

bool post_external_signal(Kernel& kernel, int pid, int signo) {
  if (signo < 1 || signo > 64) return false;
  std::shared_ptr<Task> target;
  {
    std::lock_guard lock(kernel.tree_mutex());
    auto group = kernel.find_process_locked(pid);
    if (!group || group->zombie) return false;
    target = signal_target_locked(*group, signo);
  }
  if (target) target->post_external_signal(signo);
  return target != nullptr;
}

void send_group_signal(Kernel& kernel, ThreadGroup& g, const siginfo_t& info) {
  std::shared_ptr<Task> target;
  {
    std::lock_guard lock(kernel.tree_mutex());
    if (g.zombie) return;
    target = signal_target_locked(g, info.si_signo > 0 ? info.si_signo : 1);
  }
  if (target) target->send_signal(info, /*process_directed=*/true);
}

void account_reaped_child_locked(ThreadGroup& parent, const ThreadGroup& child) {
  parent.children_user_ns += child.dead_user_ns + child.children_user_ns;
  parent.children_sys_ns += child.dead_sys_ns + child.children_sys_ns;
  parent.children_max_rss_kb = std::max({parent.children_max_rss_kb, child.max_rss_kb, child.children_max_rss_kb});
}

// RLIMIT_NPROC counts the real user's live tasks, threads included; the
// initial user (uid 0) and holders of CAP_SYS_RESOURCE or CAP_SYS_ADMIN
// go past it (Linux's copy_process). The sandbox's own task limit, like a
// pids cgroup, binds everyone.
Result<void> Task::check_task_limits_locked() const {
  const bool exempt =
      creds_.ruid == 0 || creds_.has_capability(CAP_SYS_RESOURCE) || creds_.has_capability(CAP_SYS_ADMIN);
  if (!exempt && static_cast<uint64_t>(kernel_.tasks_of_uid_locked(creds_.ruid)) >= rlimits_[RLIMIT_NPROC].rlim_cur)
    return Err(EAGAIN);
  const int max_tasks = kernel_.options().max_tasks;
  if (max_tasks > 0 && kernel_.task_count_locked() >= max_tasks) return Err(EAGAIN);
  return {};
}

Result<int> Task::clone(const CloneRequest& req) {
  const bool share_vm = (req.flags & CLONE_VM) != 0;
  const bool thread = (req.flags & CLONE_THREAD) != 0;
  // Refused at once when at a limit, before an address space is copied
  // and a Sentry thread made only to be thrown away (a fork bomb retries
  // this path); checked again below where the task is added.
  {
    std::lock_guard lock(kernel_.tree_mutex());
    if (auto r = check_task_limits_locked(); !r) return Err(r.error());
  }
  std::shared_ptr<mm::MemoryManager> child_mm;
  if (share_vm) {
    // Threads and vfork children run in this very address space; the
    // platform makes room for one more Sentry thread in it.
    if (auto r = mm_->address_space().spawn_thread(); !r) return Err(r.error());
    child_mm = mm_;
  } else {
    auto as = kernel_.platform().new_address_space();
    if (!as) return Err(as.error());
    auto copy = mm_->fork(std::move(*as));
    if (!copy) return Err(copy.error());
    child_mm = std::shared_ptr<mm::MemoryManager>(std::move(*copy));
  }

  const int tid = kernel_.allocate_tid();
  auto group = thread ? group_ : std::make_shared<ThreadGroup>(tid);
  // The child's Sentry thread is made first, waiting: a host that cannot
  // give one more thread (a pids limit, a fork bomb) is the application's
  // EAGAIN (clone(2)), before anything of the child is in the tree.
  auto start = Task::start_waiting();
  if (!start) return Err(start.error());
  if (!thread) {
    group->exit_signal = req.exit_signal;
    group->oom_score_adj = group_->oom_score_adj.load();
  }
  auto child = std::make_shared<Task>(kernel_, tid, group);
  child->mm_ = std::move(child_mm);
  child->fds_ = (req.flags & CLONE_FILES) ? fds_ : fds_->copy();
  child->fs_ = (req.flags & CLONE_FS) ? fs_ : std::make_shared<FsContext>(*fs_);
  child->creds_ = creds_;
  if (req.flags & CLONE_SIGHAND) {
    child->sighand_ = sighand_;
  } else {
    std::lock_guard lock(sighand_->mu);
    child->sighand_->actions = sighand_->actions;
  }
  child->signal_mask_.store(signal_mask_.load());
  child->comm_ = comm_;
  child->rlimits_ = rlimits_;
  child->no_new_privs_ = no_new_privs_;
  // The child returns 0 from the same syscall, on its own stack if given.
  child->regs_ = regs_;
  child->regs_.rax = 0;
  if (req.stack) child->regs_.rsp = req.stack;
  if (req.flags & CLONE_SETTLS) child->regs_.fs_base = req.tls;
  if (req.flags & CLONE_CHILD_CLEARTID) child->clear_child_tid_ = req.child_tid;
  if (req.flags & CLONE_CHILD_SETTID) {
    const int32_t value = tid;
    if (auto r = child->mm_->copy_out(req.child_tid, &value, sizeof(value)); !r) return Err(r.error());
  }
  if (req.flags & CLONE_PARENT_SETTID) {
    const int32_t value = tid;
    if (auto r = mm_->copy_out(req.parent_tid, &value, sizeof(value)); !r) return Err(r.error());
  }
  if (req.flags & CLONE_VFORK) child->vfork_parent_ = weak_from_this();

  {
    std::lock_guard lock(kernel_.tree_mutex());
    if (auto r = check_task_limits_locked(); !r) return Err(r.error());
    if (thread) {
      if (group_->group_exiting) return Err(EAGAIN);
      group_->tasks.push_back(child);
    } else {
      // CLONE_PARENT: a sibling, not a child (init's siblings would be
      // outside the sandbox, so pid 1 may not ask for it: EINVAL as Linux).
      std::shared_ptr<ThreadGroup> parent = group_;
      if (req.flags & CLONE_PARENT) {
        parent = group_->parent.lock();
        if (!parent) return Err(EINVAL);
      }
      group->parent = parent;
      group->pgid = group_->pgid;
      group->sid = group_->sid;
      group->ctty = group_->ctty;  // the controlling terminal is inherited (credentials(7))
      group->leader = child;
      group->tasks.push_back(child);
      parent->children.push_back(group);
    }
    kernel_.add_task_locked(child);
  }
  log::debug("task {}: clone -> new {} {}", tid_, thread ? "thread" : "process", tid);
  start->go(child);

  if (req.flags & CLONE_VFORK) {
    // The parent sleeps until the child execs or exits; only a fatal
    // signal would end the wait early (vfork(2)).
    while (!child->vfork_done_.load() && !exiting_) {
      if (block() == EINTR) take_interrupt();
      check_pending();
    }
  }
  return tid;
}

// exit_robust_list(): every robust futex the dying thread still holds is
// marked FUTEX_OWNER_DIED and one waiter woken, so that the next locker
// gets EOWNERDEAD instead of waiting forever (get_robust_list(2)).
void Task::release_robust_futexes() {
  if (!robust_list_ || !mm_) return;
  struct Head {
    uint64_t next;
    int64_t futex_offset;
    uint64_t pending;
  } head;
  if (!mm_->copy_in(robust_list_, &head, sizeof(head))) return;
  auto release = [&](uint64_t entry) {
    const uint64_t addr = entry + static_cast<uint64_t>(head.futex_offset);
    uint32_t word;
    if (!mm_->copy_in(addr, &word, sizeof(word))) return;
    // Compare-and-exchange, as handle_futex_death() does: another thread
    // may set FUTEX_WAITERS between our read and our write.
    for (;;) {
      if ((word & FUTEX_TID_MASK) != static_cast<uint32_t>(tid_)) return;
      const uint32_t next = (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
      auto old = mm_->compare_exchange32(addr, word, next);
      if (!old) return;
      if (*old == word) break;
      word = *old;
    }
    if (word & FUTEX_WAITERS) {
      // Either queue: the waiter may have used a shared or a private wait.
      kernel_.futexes().wake(FutexKey{reinterpret_cast<uintptr_t>(mm_.get()), addr}, 1, ~0u);
      if (auto shared = mm_->shared_offset(addr); shared && *shared) {
        kernel_.futexes().wake(FutexKey{0, **shared}, 1, ~0u);
      }
    }
  };
  // Linux's ROBUST_LIST_LIMIT bounds a corrupt or circular list.
  uint64_t entry = head.next;
  for (int i = 0; i < 2048 && entry != robust_list_ && entry != 0; ++i) {
    const uint64_t current = entry & ~uint64_t{1};  // bit 0: a PI futex
    if (!mm_->copy_in(current, &entry, sizeof(entry))) break;
    if (current != head.pending) release(current);
  }
  if (head.pending) release(head.pending & ~uint64_t{1});
  robust_list_ = 0;
}

void Task::exit_task() {
  release_robust_futexes();
  // CLONE_CHILD_CLEARTID: zero the word and wake one waiter (pthread_join).
  if (clear_child_tid_ && mm_) {
    const uint32_t zero = 0;
    if (mm_->copy_out(clear_child_tid_, &zero, sizeof(zero))) {
      kernel_.futexes().wake(FutexKey{reinterpret_cast<uintptr_t>(mm_.get()), clear_child_tid_}, 1, ~0u);
    }
    clear_child_tid_ = 0;
  }
  // exit_mm(), exit_files(), exit_fs(): what the thread held goes now, so
  // pipe readers see EOF and the stub is gone before the parent can
  // observe the exit. An address space others still use only loses this
  // thread's stub thread.
  fold_user_time();
  const int64_t user_ns = user_time_ns(), sys_ns = sys_time_ns();
  const uint64_t rss_kb = mm_ ? mm_->resident_bytes() / 1024 : 0;
  if (mm_ && mm_.use_count() > 1) mm_->address_space().release_thread();
  mm_.reset();
  if (fds_ && fds_.use_count() == 1) {
    // The process's record locks go with its last reference to its files
    // (fcntl(2): locks are released when the process terminates).
    for (int fd : fds_->open_fds()) {
      auto file = fds_->get(fd);
      if (file && file->dentry()) {
        if (vfs::FileLocks* locks = file->dentry()->inode().existing_locks()) locks->release_process(group_->pid);
      }
    }
  }
  fds_.reset();
  fs_.reset();
  release_vfork_parent();

  std::shared_ptr<ThreadGroup> parent;
  bool notify_parent = false;
  bool last = false;
  int hangup_pgrp = 0;
  {
    std::lock_guard lock(kernel_.tree_mutex());
    kernel_.remove_task_locked(tid_);
    group_->departed_user_ns = std::max(group_->departed_user_ns, user_ns);
    group_->dead_sys_ns += sys_ns;
    group_->max_rss_kb = std::max(group_->max_rss_kb, rss_kb);
    std::erase_if(group_->tasks, [this](const std::weak_ptr<Task>& w) {
      auto t = w.lock();
      return !t || t.get() == this;
    });
    if (group_->leader.lock().get() == this) group_->leader_exit_status = exit_status_;
    last = group_->tasks.empty();
    if (last) {
      group_->dead_user_ns += group_->departed_user_ns;
      group_->departed_user_ns = 0;
      exit_status_ = group_->group_exiting ? group_->group_exit_status : group_->leader_exit_status;
      hangup_pgrp = disassociate_ctty_locked();
      exit_process_locked(parent, notify_parent);
    }
  }
  if (hangup_pgrp) signal_process_group(kernel_, hangup_pgrp, SIGHUP);
  group_->thread_exit_waiters.notify_all();
  if (notify_parent) {
    if (group_->exit_signal > 0) {
      // do_notify_parent(): what ended the child, in SIGCHLD's siginfo.
      siginfo_t info{};
      info.si_signo = group_->exit_signal;
      info.si_code = exit_status_.signal ? (exit_status_.core_dumped ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
      info.si_pid = group_->pid;
      info.si_uid = creds_.ruid;
      info.si_status = exit_status_.signal ? exit_status_.signal : exit_status_.code;
      send_group_signal(kernel_, *parent, info);
    }
    parent->child_waiters.notify_all();
  }
}

int Task::disassociate_ctty_locked() {
  // disassociate_ctty() at a session leader's exit: the session loses its
  // controlling terminal, whose foreground process group gets SIGHUP
  // (credentials(7); _exit(2): "If the process is a controlling process,
  // the SIGHUP signal is sent to each process in the foreground process
  // group of the controlling terminal").
  ThreadGroup& g = *group_;
  if (g.sid != g.pid || g.ctty == 0) return 0;
  return kernel_.detach_terminal_locked(g.ctty).fg_pgrp;
}

void Task::exit_process_locked(std::shared_ptr<ThreadGroup>& parent, bool& notify_parent) {
  group_->zombie = true;
  group_->exit_status = exit_status_;
  kernel_.notify_exit_locked();
  // Orphans go to the nearest living ancestor that is a child subreaper
  // (PR_SET_CHILD_SUBREAPER), else to pid 1 (find_new_reaper()).
  std::shared_ptr<ThreadGroup> reaper;
  for (auto a = group_->parent.lock(); a; a = a->parent.lock()) {
    if (a->child_subreaper && !a->zombie) {
      reaper = a;
      break;
    }
  }
  if (!reaper) reaper = kernel_.find_process_locked(1);
  bool reaper_has_zombie = false;
  for (auto& child : group_->children) {
    if (reaper && reaper != group_) {
      child->parent = reaper;
      reaper->children.push_back(child);
      reaper_has_zombie |= child->zombie;
    }
  }
  group_->children.clear();
  if (reaper && reaper_has_zombie) reaper->child_waiters.notify_all();

  parent = group_->parent.lock();
  if (parent) {
    // A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) leaves no zombie
    // behind (wait(2), NOTES).
    bool auto_reap = false;
    if (group_->exit_signal == SIGCHLD) {
      if (auto someone = signal_target_locked(*parent, SIGCHLD)) {
        std::lock_guard signal_lock(someone->sighand_->mu);
        const SignalAction& a = someone->sighand_->actions[SIGCHLD - 1];
        auto_reap = a.handler == reinterpret_cast<uint64_t>(SIG_IGN) || (a.flags & SA_NOCLDWAIT);
      }
    }
    if (auto_reap) {
      account_reaped_child_locked(*parent, *group_);
      std::erase(parent->children, group_);
      kernel_.remove_process_locked(group_->pid);
    }
    notify_parent = true;
  } else {
    kernel_.remove_process_locked(group_->pid);
  }
}

}  // namespace runsc::kernel
