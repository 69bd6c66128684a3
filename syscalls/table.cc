#include "syscalls/util.h"

#include <linux/openat2.h>
#include <sys/syscall.h>

namespace runsc::syscalls {

Result<std::string> path_arg(Task& t, uint64_t addr) {
  auto s = t.mm().copy_in_string(addr, PATH_MAX);
  if (!s) return Err(s.error());
  return s;
}

Result<std::shared_ptr<vfs::FileDescription>> get_file(Task& t, int fd) {
  auto f = t.fds().get(fd);
  if (!f) return Err(EBADF);
  return f;
}

Result<std::shared_ptr<vfs::Dentry>> resolve_at(Task& t, int dirfd, const std::string& path, bool follow,
                                                bool empty_path_ok, uint64_t restrict_flags) {
  std::shared_ptr<vfs::Dentry> start = t.fs().cwd;
  // RESOLVE_IN_ROOT and RESOLVE_BENEATH judge even an absolute path
  // against dirfd.
  const bool dirfd_confines = restrict_flags & (RESOLVE_IN_ROOT | RESOLVE_BENEATH);
  if (path.empty() || path.front() != '/' || dirfd_confines) {
    if (dirfd != AT_FDCWD) {
      auto f = get_file(t, dirfd);
      if (!f) return Err(f.error());
      if (!(*f)->dentry()) return Err(path.empty() ? EBADF : ENOTDIR);
      start = (*f)->dentry();
      if (path.empty()) {
        if (!empty_path_ok) return Err(ENOENT);
        return start;
      }
      if (!start->is_dir()) return Err(ENOTDIR);
    } else if (path.empty()) {
      if (!empty_path_ok) return Err(ENOENT);
      return start;
    }
  }
  vfs::ResolveOptions options;
  options.follow_final_symlink = follow;
  options.restrict_flags = restrict_flags;
  const vfs::Caller caller = caller_of(t);
  options.caller = &caller;
  return vfs::resolve(t.fs().root, start, path, options);
}

vfs::Caller caller_of(Task& t) {
  const auto& c = t.creds();
  auto has = [&](int cap) { return (c.cap_effective >> cap) & 1; };
  vfs::Caller out;
  out.fsuid = c.fsuid;
  out.fsgid = c.fsgid;
  out.groups = c.groups;
  out.cap_chown = has(0);
  out.cap_dac_override = has(1);
  out.cap_dac_read_search = has(2);
  out.cap_fowner = has(3);
  out.cap_fsetid = has(4);
  out.cap_mknod = has(27);
  return out;
}

// Splits `path` into its parent and last component; `lookup_parent`
// resolves the parent's part.
template <typename LookupParent>
Result<ParentAndName> split_and_resolve_parent(Task& t, std::string p, LookupParent lookup_parent) {
  if (p.empty()) return Err(ENOENT);
  ParentAndName out;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
    out.trailing_slash = true;
  }
  if (p == "/") {
    out.kind = ParentAndName::Kind::kRoot;
    out.dir = t.fs().root;
    return out;
  }
  auto slash = p.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  out.name = slash == std::string::npos ? p : p.substr(slash + 1);
  if (out.name == ".") out.kind = ParentAndName::Kind::kDot;
  if (out.name == "..") out.kind = ParentAndName::Kind::kDotDot;
  if (out.name.size() > NAME_MAX) return Err(ENAMETOOLONG);
  Result<std::shared_ptr<vfs::Dentry>> dir = lookup_parent(parent);
  if (!dir) return Err(dir.error());
  if (!(*dir)->is_dir()) return Err(ENOTDIR);
  out.dir = std::move(*dir);
  return out;
}

Result<ParentAndName> resolve_parent(Task& t, int dirfd, const std::string& path, uint64_t restrict_flags) {
  return split_and_resolve_parent(
      t, path, [&](const std::string& parent) { return resolve_at(t, dirfd, parent, true, false, restrict_flags); });
}

Result<ParentAndName> resolve_parent_in(Task& t, const std::shared_ptr<vfs::Dentry>& start, const std::string& path) {
  return split_and_resolve_parent(t, path, [&](const std::string& parent) {
    const vfs::Caller caller = caller_of(t);
    vfs::ResolveOptions options;
    options.caller = &caller;
    return vfs::resolve(t.fs().root, start, parent, options);
  });
}

vfs::Owner new_file_owner(Task& t, const struct stat& dir) {
  return vfs::Owner{t.creds().fsuid, (dir.st_mode & S_ISGID) ? dir.st_gid : t.creds().fsgid};
}

Result<std::optional<uint64_t>> sigmask_arg(Task& t, uint64_t addr, uint64_t size) {
  if (addr == 0) return std::optional<uint64_t>{};
  if (size != 8) return Err(EINVAL);
  uint64_t mask;
  if (auto r = t.mm().copy_in(addr, &mask, sizeof(mask)); !r) return Err(r.error());
  return std::optional<uint64_t>{mask};
}

const kernel::SyscallTable& syscall_table() {
  static const kernel::SyscallTable table = [] {
    kernel::SyscallTable tb;
    register_names(tb);
    register_file(tb);
    register_mmap(tb);
    register_process(tb);
    register_time(tb);
    register_signal(tb);
    register_futex(tb);
    register_dir_ops(tb);
    register_attr(tb);
    register_xattr(tb);
    register_lock(tb);
    register_memfd(tb);
    register_splice(tb);
    register_inotify(tb);
    register_clone(tb);
    register_wait(tb);
    register_pipe(tb);
    register_poll(tb);
    register_timer(tb);
    register_creds(tb);
    register_eventfd_timerfd(tb);
    register_epoll(tb);
    register_signalfd(tb);
    register_socket(tb);
    // signal(7): the calls SA_RESTART restarts after a handler ran.
    for (int nr : {SYS_read, SYS_readv, SYS_write, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_preadv, SYS_pwritev,
                   SYS_ioctl, SYS_openat, SYS_open, SYS_wait4, SYS_waitid, SYS_futex, SYS_getrandom, SYS_flock, SYS_fcntl, SYS_splice, SYS_tee,
                   SYS_vmsplice, SYS_sendfile, SYS_accept, SYS_accept4, SYS_connect, SYS_recvfrom, SYS_recvmsg,
                   SYS_recvmmsg, SYS_sendto, SYS_sendmsg, SYS_sendmmsg})
      tb.set_restart(nr, kernel::Restart::kIfSaRestart);
    return tb;
  }();
  return table;
}

}  // namespace runsc::syscalls
