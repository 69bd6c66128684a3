// Creating and ending processes: clone(2) for a new process and the exit
// path of kernel/exit.c (zombie, orphans to pid 1, the parent's SIGCHLD).
#include <sched.h>

#include "common/log.h"
#include "sentry/kernel/task.h"

namespace runsc::kernel {

Result<int> Task::clone(const CloneRequest& req) {
  // A new address space is copied from ours; sharing one between Sentry
  // threads (CLONE_VM: threads, posix_spawn's vfork) comes with threads.
  auto as = kernel_.platform().new_address_space();
  if (!as) return Err(as.error());
  auto child_mm = mm_->fork(std::move(*as));
  if (!child_mm) return Err(child_mm.error());

  const int tid = kernel_.allocate_tid();
  auto group = std::make_shared<ThreadGroup>(tid);
  group->exit_signal = req.exit_signal;
  auto child = std::make_shared<Task>(kernel_, tid, group);
  child->mm_ = std::shared_ptr<mm::MemoryManager>(std::move(*child_mm));
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
    group->leader = child;
    parent->children.push_back(group);
    kernel_.add_task_locked(child);
  }
  log::debug("task {}: clone -> new process {}", tid_, tid);
  Task::start(child);

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

void Task::exit_process() {
  // exit_mm(), exit_files(), exit_fs(): what the process held goes now, so
  // pipe readers see EOF and the stub process is gone before the parent
  // can observe the exit.
  mm_.reset();
  fds_.reset();
  fs_.reset();
  release_vfork_parent();
  if (clear_child_tid_) {
    // CLONE_CHILD_CLEARTID: nothing to write into any more once the
    // address space is gone (threads will need it).
    clear_child_tid_ = 0;
  }

  std::shared_ptr<ThreadGroup> parent;
  bool notify_parent = false;
  {
    std::lock_guard lock(kernel_.tree_mutex());
    group_->zombie = true;
    group_->exit_status = exit_status_;
    kernel_.remove_task_locked(tid_);
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
        if (auto leader = parent->leader.lock()) {
          std::lock_guard signal_lock(leader->sighand_->mu);
          const SignalAction& a = leader->sighand_->actions[SIGCHLD - 1];
          auto_reap = a.handler == reinterpret_cast<uint64_t>(SIG_IGN) || (a.flags & SA_NOCLDWAIT);
        }
      }
      if (auto_reap) {
        std::erase(parent->children, group_);
        kernel_.remove_process_locked(group_->pid);
      }
      notify_parent = true;
    } else {
      kernel_.remove_process_locked(group_->pid);
    }
  }
  if (notify_parent) {
    if (group_->exit_signal > 0) {
      // do_notify_parent(): what ended the child, in SIGCHLD's siginfo.
      siginfo_t info{};
      info.si_signo = group_->exit_signal;
      info.si_code = exit_status_.signal ? (exit_status_.core_dumped ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
      info.si_pid = group_->pid;
      info.si_uid = creds_.ruid;
      info.si_status = exit_status_.signal ? exit_status_.signal : exit_status_.code;
      if (auto leader = parent->leader.lock()) leader->send_signal(info);
    }
    parent->child_waiters.notify_all();
  }
}

}  // namespace runsc::kernel
