// inotify_init(2), inotify_init1(2), inotify_add_watch(2) and
// inotify_rm_watch(2). The events themselves are reported where the
// changes happen (sys_dir_ops, sys_attr, sys_file, sys_xattr).
#include <sys/inotify.h>
#include <sys/syscall.h>

#include "syscalls/util.h"
#include "vfs/inotify.h"

namespace runsc::syscalls {
namespace {

Result<uint64_t> do_inotify_init(Task& t, int flags) {
  if (flags & ~(IN_CLOEXEC | IN_NONBLOCK)) return Err(EINVAL);
  auto instance = vfs::InotifyInstance::create(flags & IN_NONBLOCK ? O_NONBLOCK : 0);
  if (!instance) return Err(instance.error());
  auto fd = t.fds().install(std::move(*instance), (flags & IN_CLOEXEC) != 0);
  if (!fd) return Err(fd.error());
  return static_cast<uint64_t>(*fd);
}

Result<uint64_t> sys_inotify_init(Task& t, const SyscallArgs&) { return do_inotify_init(t, 0); }
Result<uint64_t> sys_inotify_init1(Task& t, const SyscallArgs& a) { return do_inotify_init(t, a.i(0)); }

Result<vfs::InotifyInstance*> instance_of(Task& t, int fd) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  auto* instance = dynamic_cast<vfs::InotifyInstance*>(f->get());
  if (!instance) return Err(EINVAL);
  return instance;
}

Result<uint64_t> sys_inotify_add_watch(Task& t, const SyscallArgs& a) {
  auto instance = instance_of(t, a.i(0));
  if (!instance) return Err(instance.error());
  const uint32_t mask = static_cast<uint32_t>(a.u(2));
  constexpr uint32_t kValid = IN_ALL_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_ADD |
                              IN_ONESHOT | IN_MASK_CREATE;
  // inotify_add_watch(2): EINVAL for no event at all or unknown bits.
  if ((mask & IN_ALL_EVENTS) == 0 || (mask & ~kValid) != 0) return Err(EINVAL);
  if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)) return Err(EINVAL);
  auto path = path_arg(t, a.u(1));
  if (!path) return Err(path.error());
  auto d = resolve_at(t, AT_FDCWD, *path, !(mask & IN_DONT_FOLLOW));
  if (!d) return Err(d.error());
  if ((mask & IN_ONLYDIR) && !(*d)->is_dir()) return Err(ENOTDIR);
  // Watching needs read permission on the file.
  auto st = (*d)->inode().stat();
  if (!st) return Err(st.error());
  if (auto r = vfs::may_access(caller_of(t), *st, vfs::kMayRead); !r) return Err(r.error());
  auto wd = (*instance)->add_watch((*d)->inode_ptr(), mask & ~static_cast<uint32_t>(IN_MASK_CREATE),
                                   (mask & IN_MASK_CREATE) != 0);
  if (!wd) return Err(wd.error());
  return static_cast<uint64_t>(*wd);
}

Result<uint64_t> sys_inotify_rm_watch(Task& t, const SyscallArgs& a) {
  auto instance = instance_of(t, a.i(0));
  if (!instance) return Err(instance.error());
  if (auto r = (*instance)->remove_watch(a.i(1)); !r) return Err(r.error());
  return ok();
}

}  // namespace

void register_inotify(kernel::SyscallTable& tb) {
  using A = kernel::Arg;
  tb.set(SYS_inotify_init, "inotify_init", sys_inotify_init, {});
  tb.set(SYS_inotify_init1, "inotify_init1", sys_inotify_init1, {A::kHex});
  tb.set(SYS_inotify_add_watch, "inotify_add_watch", sys_inotify_add_watch, {A::kFd, A::kPath, A::kHex});
  tb.set(SYS_inotify_rm_watch, "inotify_rm_watch", sys_inotify_rm_watch, {A::kFd, A::kInt});
}

}  // namespace runsc::syscalls
