// The calls that modify a filesystem, on a root that is read-only until the
// overlay lands (files issue). Each fails as Linux's does on a read-only
// mount: path lookup errors first, then the checks Linux makes before
// mnt_want_write(), then EROFS. The order differs per call (fs/namei.c):
// creating calls report EEXIST before EROFS, unlink/rmdir/rename report
// EROFS even for a missing name, attribute changes need the file to exist.
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common/log.h"
#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

// What modifying `d` fails with: the read-only mount, or (for an inode on
// a writable filesystem, none yet) a permission error.
int write_error(const vfs::Dentry& d) { return d.inode().read_only() ? EROFS : EPERM; }

// The parent directory and last component of a path (filename_parentat()).
struct ParentAndName {
  enum class Kind { kNormal, kDot, kDotDot, kRoot };
  std::shared_ptr<vfs::Dentry> dir;
  std::string name;
  Kind kind = Kind::kNormal;
  bool trailing_slash = false;
};

Result<ParentAndName> resolve_parent(Task& t, int dirfd, uint64_t path_addr) {
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  if (path->empty()) return Err(ENOENT);
  ParentAndName out;
  std::string p = *path;
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
  std::string parent = slash == std::string::npos ? "" : (slash == 0 ? "/" : p.substr(0, slash));
  out.name = slash == std::string::npos ? p : p.substr(slash + 1);
  if (out.name == ".") out.kind = ParentAndName::Kind::kDot;
  if (out.name == "..") out.kind = ParentAndName::Kind::kDotDot;
  auto dir = resolve_at(t, dirfd, parent.empty() ? "." : parent, true);
  if (!dir) return Err(dir.error());
  if (!(*dir)->is_dir()) return Err(ENOTDIR);
  out.dir = std::move(*dir);
  return out;
}

// filename_create(): mkdir, mknod, symlink and link's new name. An
// existing name (or "." and "..") is EEXIST; a missing one cannot be
// created on a read-only mount.
Result<uint64_t> create_error(Task& t, int dirfd, uint64_t path_addr, bool is_mkdir) {
  auto pn = resolve_parent(t, dirfd, path_addr);
  if (!pn) return Err(pn.error());
  if (pn->kind != ParentAndName::Kind::kNormal) return Err(EEXIST);
  vfs::ResolveOptions no_follow;
  no_follow.follow_final_symlink = false;
  auto existing = vfs::resolve(t.fs().root, pn->dir, pn->name, no_follow);
  if (existing) return Err(EEXIST);
  if (existing.error() != ENOENT) return Err(existing.error());
  // Only mkdir accepts a trailing slash on a name to create.
  if (pn->trailing_slash && !is_mkdir) return Err(ENOENT);
  return Err(write_error(*pn->dir));
}

Result<uint64_t> sys_mkdir(Task& t, const SyscallArgs& a) { return create_error(t, AT_FDCWD, a.u(0), true); }
Result<uint64_t> sys_mkdirat(Task& t, const SyscallArgs& a) { return create_error(t, a.i(0), a.u(1), true); }

Result<uint64_t> do_mknodat(Task& t, int dirfd, uint64_t path_addr, uint32_t mode) {
  // may_mknod(): only these types; 0 means a regular file.
  switch (mode & S_IFMT) {
    case 0: case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
      break;
    case S_IFDIR:
      return Err(EPERM);
    default:
      return Err(EINVAL);
  }
  return create_error(t, dirfd, path_addr, false);
}
Result<uint64_t> sys_mknod(Task& t, const SyscallArgs& a) {
  return do_mknodat(t, AT_FDCWD, a.u(0), static_cast<uint32_t>(a.u(1)));
}
Result<uint64_t> sys_mknodat(Task& t, const SyscallArgs& a) {
  return do_mknodat(t, a.i(0), a.u(1), static_cast<uint32_t>(a.u(2)));
}

Result<uint64_t> do_symlinkat(Task& t, uint64_t target_addr, int dirfd, uint64_t path_addr) {
  auto target = path_arg(t, target_addr);
  if (!target) return Err(target.error());
  if (target->empty()) return Err(ENOENT);
  return create_error(t, dirfd, path_addr, false);
}
Result<uint64_t> sys_symlink(Task& t, const SyscallArgs& a) { return do_symlinkat(t, a.u(0), AT_FDCWD, a.u(1)); }
Result<uint64_t> sys_symlinkat(Task& t, const SyscallArgs& a) { return do_symlinkat(t, a.u(0), a.i(1), a.u(2)); }

Result<uint64_t> do_linkat(Task& t, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, int flags) {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  auto old_path = path_arg(t, oldpath);
  if (!old_path) return Err(old_path.error());
  auto old = resolve_at(t, olddirfd, *old_path, (flags & AT_SYMLINK_FOLLOW) != 0, (flags & AT_EMPTY_PATH) != 0);
  if (!old) return Err(old.error());
  return create_error(t, newdirfd, newpath, false);
}
Result<uint64_t> sys_link(Task& t, const SyscallArgs& a) { return do_linkat(t, AT_FDCWD, a.u(0), AT_FDCWD, a.u(1), 0); }
Result<uint64_t> sys_linkat(Task& t, const SyscallArgs& a) {
  return do_linkat(t, a.i(0), a.u(1), a.i(2), a.u(3), a.i(4));
}

// do_rmdir() and do_unlinkat(): after the parent lookup and the checks on
// the last component's form, mnt_want_write() fails before the name is
// looked up, so even a missing name gets EROFS.
Result<uint64_t> do_rmdir(Task& t, int dirfd, uint64_t path_addr) {
  auto pn = resolve_parent(t, dirfd, path_addr);
  if (!pn) return Err(pn.error());
  switch (pn->kind) {
    case ParentAndName::Kind::kDot: return Err(EINVAL);
    case ParentAndName::Kind::kDotDot: return Err(ENOTEMPTY);
    case ParentAndName::Kind::kRoot: return Err(EBUSY);
    case ParentAndName::Kind::kNormal: break;
  }
  return Err(write_error(*pn->dir));
}
Result<uint64_t> do_unlink(Task& t, int dirfd, uint64_t path_addr) {
  auto pn = resolve_parent(t, dirfd, path_addr);
  if (!pn) return Err(pn.error());
  if (pn->kind != ParentAndName::Kind::kNormal) return Err(EISDIR);
  return Err(write_error(*pn->dir));
}
Result<uint64_t> sys_rmdir(Task& t, const SyscallArgs& a) { return do_rmdir(t, AT_FDCWD, a.u(0)); }
Result<uint64_t> sys_unlink(Task& t, const SyscallArgs& a) { return do_unlink(t, AT_FDCWD, a.u(0)); }
Result<uint64_t> sys_unlinkat(Task& t, const SyscallArgs& a) {
  const int flags = a.i(2);
  if (flags & ~AT_REMOVEDIR) return Err(EINVAL);
  return (flags & AT_REMOVEDIR) ? do_rmdir(t, a.i(0), a.u(1)) : do_unlink(t, a.i(0), a.u(1));
}

Result<uint64_t> do_renameat2(Task& t, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
                              uint32_t flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) return Err(EINVAL);
  if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT))) return Err(EINVAL);
  auto from = resolve_parent(t, olddirfd, oldpath);
  if (!from) return Err(from.error());
  auto to = resolve_parent(t, newdirfd, newpath);
  if (!to) return Err(to.error());
  if (from->kind != ParentAndName::Kind::kNormal || to->kind != ParentAndName::Kind::kNormal) return Err(EBUSY);
  return Err(write_error(*from->dir));
}
Result<uint64_t> sys_rename(Task& t, const SyscallArgs& a) {
  return do_renameat2(t, AT_FDCWD, a.u(0), AT_FDCWD, a.u(1), 0);
}
Result<uint64_t> sys_renameat(Task& t, const SyscallArgs& a) {
  return do_renameat2(t, a.i(0), a.u(1), a.i(2), a.u(3), 0);
}
Result<uint64_t> sys_renameat2(Task& t, const SyscallArgs& a) {
  return do_renameat2(t, a.i(0), a.u(1), a.i(2), a.u(3), static_cast<uint32_t>(a.u(4)));
}

// chmod, chown, utimes, truncate: the file must exist; then the mount.
Result<uint64_t> attr_error(Task& t, int dirfd, uint64_t path_addr, bool follow, bool empty_path_ok = false) {
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  auto d = resolve_at(t, dirfd, *path, follow, empty_path_ok);
  if (!d) return Err(d.error());
  return Err(write_error(**d));
}

Result<uint64_t> sys_chmod(Task& t, const SyscallArgs& a) { return attr_error(t, AT_FDCWD, a.u(0), true); }
Result<uint64_t> sys_fchmodat(Task& t, const SyscallArgs& a) { return attr_error(t, a.i(0), a.u(1), true); }
Result<uint64_t> sys_chown(Task& t, const SyscallArgs& a) { return attr_error(t, AT_FDCWD, a.u(0), true); }
Result<uint64_t> sys_lchown(Task& t, const SyscallArgs& a) { return attr_error(t, AT_FDCWD, a.u(0), false); }
Result<uint64_t> sys_fchownat(Task& t, const SyscallArgs& a) {
  const int flags = a.i(4);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  return attr_error(t, a.i(0), a.u(1), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) != 0);
}

Result<uint64_t> sys_truncate(Task& t, const SyscallArgs& a) {
  if (a.i(1) < 0) return Err(EINVAL);
  auto path = path_arg(t, a.u(0));
  if (!path) return Err(path.error());
  auto d = resolve_at(t, AT_FDCWD, *path, true);
  if (!d) return Err(d.error());
  if ((*d)->is_dir()) return Err(EISDIR);  // vfs_truncate()
  return Err(write_error(**d));
}

// utimensat(dirfd, NULL, ...) is futimens(dirfd): the descriptor's file.
Result<uint64_t> fd_times_error(Task& t, int fd) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  if ((*f)->dentry()) return Err(write_error(*(*f)->dentry()));
  log::debug("task {}: changing the times of a host file descriptor is not supported", t.tid());
  return Err(ENOSYS);
}
Result<uint64_t> sys_utimensat(Task& t, const SyscallArgs& a) {
  const int flags = a.i(3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  if (a.u(1) == 0) return fd_times_error(t, a.i(0));
  return attr_error(t, a.i(0), a.u(1), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) != 0);
}
Result<uint64_t> sys_futimesat(Task& t, const SyscallArgs& a) {
  if (a.u(1) == 0) return fd_times_error(t, a.i(0));
  return attr_error(t, a.i(0), a.u(1), true);
}
Result<uint64_t> sys_utimes(Task& t, const SyscallArgs& a) { return attr_error(t, AT_FDCWD, a.u(0), true); }

}  // namespace

void register_readonly_fs(kernel::SyscallTable& tb) {
  using A = kernel::Arg;
  tb.set(SYS_mkdir, "mkdir", sys_mkdir, {A::kPath, A::kOct});
  tb.set(SYS_mkdirat, "mkdirat", sys_mkdirat, {A::kFd, A::kPath, A::kOct});
  tb.set(SYS_mknod, "mknod", sys_mknod, {A::kPath, A::kOct, A::kHex});
  tb.set(SYS_mknodat, "mknodat", sys_mknodat, {A::kFd, A::kPath, A::kOct, A::kHex});
  tb.set(SYS_symlink, "symlink", sys_symlink, {A::kPath, A::kPath});
  tb.set(SYS_symlinkat, "symlinkat", sys_symlinkat, {A::kPath, A::kFd, A::kPath});
  tb.set(SYS_link, "link", sys_link, {A::kPath, A::kPath});
  tb.set(SYS_linkat, "linkat", sys_linkat, {A::kFd, A::kPath, A::kFd, A::kPath, A::kHex});
  tb.set(SYS_unlink, "unlink", sys_unlink, {A::kPath});
  tb.set(SYS_unlinkat, "unlinkat", sys_unlinkat, {A::kFd, A::kPath, A::kHex});
  tb.set(SYS_rmdir, "rmdir", sys_rmdir, {A::kPath});
  tb.set(SYS_rename, "rename", sys_rename, {A::kPath, A::kPath});
  tb.set(SYS_renameat, "renameat", sys_renameat, {A::kFd, A::kPath, A::kFd, A::kPath});
  tb.set(SYS_renameat2, "renameat2", sys_renameat2, {A::kFd, A::kPath, A::kFd, A::kPath, A::kHex});
  tb.set(SYS_chmod, "chmod", sys_chmod, {A::kPath, A::kOct});
  tb.set(SYS_fchmodat, "fchmodat", sys_fchmodat, {A::kFd, A::kPath, A::kOct});
  tb.set(SYS_chown, "chown", sys_chown, {A::kPath, A::kInt, A::kInt});
  tb.set(SYS_lchown, "lchown", sys_lchown, {A::kPath, A::kInt, A::kInt});
  tb.set(SYS_fchownat, "fchownat", sys_fchownat, {A::kFd, A::kPath, A::kInt, A::kInt, A::kHex});
  tb.set(SYS_truncate, "truncate", sys_truncate, {A::kPath, A::kInt});
  tb.set(SYS_utimensat, "utimensat", sys_utimensat, {A::kFd, A::kPath, A::kHex, A::kHex});
  tb.set(SYS_futimesat, "futimesat", sys_futimesat, {A::kFd, A::kPath, A::kHex});
  tb.set(SYS_utimes, "utimes", sys_utimes, {A::kPath, A::kHex});
}

}  // namespace runsc::syscalls
