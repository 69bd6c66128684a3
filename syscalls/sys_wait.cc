// wait4(2) and waitid(2): collecting children that have exited, stopped
// (WUNTRACED, WSTOPPED) or continued (WCONTINUED).
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;
using kernel::ThreadGroup;

struct WaitSelector {
  enum class Kind { kAny, kPid, kPgid } kind = Kind::kAny;
  int id = 0;
};

struct Reaped {
  enum class Kind { kExited, kStopped, kContinued } kind = Kind::kExited;
  int pid = 0;
  kernel::ExitStatus status;
  int stop_signal = 0;
  // The status word wait4(2) stores.
  int wait_status() const {
    switch (kind) {
      case Kind::kStopped: return (stop_signal << 8) | 0x7f;
      case Kind::kContinued: return 0xffff;
      case Kind::kExited: break;
    }
    return status.wait_status();
  }
};

// WEXITED is implied by wait4; WSTOPPED is WUNTRACED's other name.
constexpr int kWantExited = WEXITED;

bool selects(const WaitSelector& sel, const ThreadGroup& child, int options) {
  switch (sel.kind) {
    case WaitSelector::Kind::kPid: if (child.pid != sel.id) return false; break;
    case WaitSelector::Kind::kPgid: if (child.pgid != sel.id) return false; break;
    case WaitSelector::Kind::kAny: break;
  }
  // A "clone" child reports to its parent with a signal other than
  // SIGCHLD; __WCLONE waits only for those, __WALL for all (wait4(2)).
  if (options & __WALL) return true;
  const bool clone_child = child.exit_signal != SIGCHLD;
  return clone_child == ((options & __WCLONE) != 0);
}

// The common loop of do_wait(): a zombie child that matches, or 0 with
// WNOHANG when matching children are all alive, or ECHILD when none match.
Result<Reaped> wait_for_child(Task& t, const WaitSelector& sel, int options) {
  kernel::Kernel& k = t.kernel();
  ThreadGroup& self = t.group();
  for (;;) {
    {
      std::lock_guard lock(k.tree_mutex());
      bool any = false;
      for (auto it = self.children.begin(); it != self.children.end(); ++it) {
        const auto& child = *it;
        if (!selects(sel, *child, options)) continue;
        any = true;
        if (child->zombie) {
          if (!(options & kWantExited)) continue;
          Reaped r{Reaped::Kind::kExited, child->pid, child->exit_status};
          if (!(options & WNOWAIT)) {
            kernel::account_reaped_child_locked(self, *child);
            k.remove_process_locked(child->pid);
            self.children.erase(it);
          }
          return r;
        }
        if ((options & WSTOPPED) && child->stop_to_report) {
          Reaped r{Reaped::Kind::kStopped, child->pid, {}, child->stop_to_report};
          if (!(options & WNOWAIT)) child->stop_to_report = 0;
          return r;
        }
        if ((options & WCONTINUED) && child->continue_to_report) {
          Reaped r{Reaped::Kind::kContinued, child->pid, {}, 0};
          if (!(options & WNOWAIT)) child->continue_to_report = false;
          return r;
        }
      }
      if (!any) return Err(ECHILD);
      if (options & WNOHANG) return Reaped{};
      self.child_waiters.add(&t);
    }
    // Wake-ups between the check above and here are kept by the wake FD.
    int e = t.block();
    self.child_waiters.remove(&t);
    if (e == EINTR) return Err(EINTR);
  }
}

Result<uint64_t> sys_wait4(Task& t, const SyscallArgs& a) {
  const int pid = a.i(0);
  const int options = a.i(2);
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) return Err(EINVAL);
  WaitSelector sel;
  if (pid == INT32_MIN) return Err(ESRCH);  // -INT_MIN overflows (kernel_wait4)
  if (pid > 0) {
    sel = {WaitSelector::Kind::kPid, pid};
  } else if (pid == 0) {
    std::lock_guard lock(t.kernel().tree_mutex());
    sel = {WaitSelector::Kind::kPgid, t.group().pgid};
  } else if (pid < -1) {
    sel = {WaitSelector::Kind::kPgid, -pid};
  }
  auto r = wait_for_child(t, sel, options | kWantExited);
  if (!r) return Err(r.error());
  if (r->pid == 0) return ok(0);
  if (a.u(1)) {
    const int status = r->wait_status();
    if (auto w = t.mm().copy_out(a.u(1), &status, sizeof(status)); !w) return Err(w.error());
  }
  if (a.u(3)) {
    rusage usage{};  // the child's times are in getrusage(RUSAGE_CHILDREN)
    if (auto w = t.mm().copy_out(a.u(3), &usage, sizeof(usage)); !w) return Err(w.error());
  }
  return static_cast<uint64_t>(r->pid);
}

// The SIGCHLD siginfo fields waitid(2) fills in.
struct ChildInfo {
  int32_t signo, errno_, code, pad;
  int32_t pid;
  uint32_t uid;
  int32_t status;
  int32_t pad2;
  int64_t utime, stime;
};
static_assert(offsetof(ChildInfo, pid) == 16 && offsetof(ChildInfo, utime) == 32);

Result<uint64_t> sys_waitid(Task& t, const SyscallArgs& a) {
  const int idtype = a.i(0);
  const int id = a.i(1);
  const int options = a.i(3);
  if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
    return Err(EINVAL);
  if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return Err(EINVAL);
  WaitSelector sel;
  switch (idtype) {
    case P_ALL: break;
    case P_PID:
      if (id <= 0) return Err(EINVAL);
      sel = {WaitSelector::Kind::kPid, id};
      break;
    case P_PGID: {
      if (id < 0) return Err(EINVAL);
      std::lock_guard lock(t.kernel().tree_mutex());
      sel = {WaitSelector::Kind::kPgid, id ? id : t.group().pgid};
      break;
    }
    default:
      return Err(EINVAL);  // P_PIDFD needs pidfds
  }
  Result<Reaped> r = wait_for_child(t, sel, options);
  if (!r) return Err(r.error());
  if (a.u(2)) {
    ChildInfo info{};  // WNOHANG with nothing to report: all zero
    if (r->pid != 0) {
      info.signo = SIGCHLD;
      info.pid = r->pid;
      info.uid = t.creds().ruid;
      if (r->kind == Reaped::Kind::kStopped) {
        info.code = CLD_STOPPED;
        info.status = r->stop_signal;
      } else if (r->kind == Reaped::Kind::kContinued) {
        info.code = CLD_CONTINUED;
        info.status = SIGCONT;
      } else if (r->status.signal) {
        info.code = r->status.core_dumped ? CLD_DUMPED : CLD_KILLED;
        info.status = r->status.signal;
      } else {
        info.code = CLD_EXITED;
        info.status = r->status.code;
      }
    }
    if (auto w = t.mm().copy_out(a.u(2), &info, sizeof(info)); !w) return Err(w.error());
  }
  if (a.u(4)) {
    rusage usage{};
    if (auto w = t.mm().copy_out(a.u(4), &usage, sizeof(usage)); !w) return Err(w.error());
  }
  return ok(0);
}

}  // namespace

void register_wait(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_wait4, "wait4", sys_wait4, {A::kInt, A::kPtr, A::kHex, A::kPtr});
  tb.set(SYS_waitid, "waitid", sys_waitid, {A::kInt, A::kInt, A::kPtr, A::kHex, A::kPtr});
}

}  // namespace runsc::syscalls
