// fork(2), vfork(2), clone(2), clone3(2): new processes and threads.
#include <linux/sched.h>
#include <sched.h>
#include <sys/syscall.h>

#include "common/log.h"
#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                     CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;

Result<uint64_t> do_clone(Task& t, kernel::CloneRequest req) {
  const uint64_t f = req.flags;
  // copy_process()'s consistency checks.
  if ((f & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS)) return Err(EINVAL);
  if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND)) return Err(EINVAL);
  if ((f & CLONE_SIGHAND) && !(f & CLONE_VM)) return Err(EINVAL);
  if (req.exit_signal < 0 || req.exit_signal > 64) return Err(EINVAL);
  if (f & kNamespaceFlags) {
    log::debug("task {}: clone with namespace flags {:#x} is not supported", t.tid(), f & kNamespaceFlags);
    return Err(EPERM);
  }
  if (f & CLONE_PIDFD) {
    log::debug("task {}: clone with CLONE_PIDFD is not supported yet", t.tid());
    return Err(ENOSYS);
  }
  // set_new_tls(): a TLS base outside the user half of the address space
  // is EPERM (do_arch_prctl_64()), never a base the stub cannot load.
  if ((f & CLONE_SETTLS) && req.tls >= platform::kMaxUserAddress) return Err(EPERM);
  auto tid = t.clone(req);
  if (!tid) return Err(tid.error());
  return static_cast<uint64_t>(*tid);
}

Result<uint64_t> sys_fork(Task& t, const SyscallArgs&) { return do_clone(t, kernel::CloneRequest{}); }

Result<uint64_t> sys_vfork(Task& t, const SyscallArgs&) {
  kernel::CloneRequest req;
  req.flags = CLONE_VM | CLONE_VFORK;  // the child borrows our memory until it execs or exits
  return do_clone(t, req);
}

// x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
Result<uint64_t> sys_clone(Task& t, const SyscallArgs& a) {
  kernel::CloneRequest req;
  req.flags = a.u(0) & ~uint64_t{CSIGNAL};
  req.exit_signal = static_cast<int>(a.u(0) & CSIGNAL);
  req.stack = a.u(1);
  req.parent_tid = a.u(2);
  req.child_tid = a.u(3);
  req.tls = a.u(4);
  return do_clone(t, req);
}

Result<uint64_t> sys_clone3(Task& t, const SyscallArgs& a) {
  clone_args args{};
  const uint64_t size = a.u(1);
  if (size < CLONE_ARGS_SIZE_VER0 || size > 4096) return Err(EINVAL);
  // Bytes past the struct we know must be zero (copy_struct_from_user()).
  const uint64_t known = std::min<uint64_t>(size, sizeof(args));
  if (auto r = t.mm().copy_in(a.u(0), &args, known); !r) return Err(r.error());
  for (uint64_t off = known; off < size; ++off) {
    uint8_t byte;
    if (auto r = t.mm().copy_in(a.u(0) + off, &byte, 1); !r) return Err(r.error());
    if (byte != 0) return Err(E2BIG);
  }
  if (args.exit_signal > 64 || (args.flags & CSIGNAL)) return Err(EINVAL);
  if (args.set_tid || args.set_tid_size || (args.flags & (CLONE_INTO_CGROUP | CLONE_CLEAR_SIGHAND))) {
    log::debug("task {}: clone3 with set_tid, cgroups or CLONE_CLEAR_SIGHAND is not supported", t.tid());
    return Err(EINVAL);
  }
  if ((args.stack == 0) != (args.stack_size == 0)) return Err(EINVAL);
  kernel::CloneRequest req;
  req.flags = args.flags;
  req.exit_signal = static_cast<int>(args.exit_signal);
  req.stack = args.stack ? args.stack + args.stack_size : 0;  // clone3 gives the lowest address
  req.parent_tid = args.parent_tid;
  req.child_tid = args.child_tid;
  req.tls = args.tls;
  return do_clone(t, req);
}

}  // namespace

void register_clone(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_fork, "fork", sys_fork);
  tb.set(SYS_vfork, "vfork", sys_vfork);
  tb.set(SYS_clone, "clone", sys_clone, {A::kHex, A::kPtr, A::kPtr, A::kPtr, A::kHex});
  tb.set(SYS_clone3, "clone3", sys_clone3, {A::kPtr, A::kInt});
}

}  // namespace runsc::syscalls
