// The calls that add, remove and move names: mkdir, mknod, symlink, link,
// unlink, rmdir, rename. Each checks in the order Linux's fs/namei.c does,
// so that the errno for a call that fails several ways is Linux's: the
// parent's lookup, the last component's form, EEXIST before EROFS for the
// creating calls, EROFS before the name's lookup for the removing ones,
// then permissions (may_create(), may_delete()) and type rules.
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "syscalls/util.h"
#include "vfs/inotify.h"

namespace runsc::syscalls {
namespace {

using Kind = ParentAndName::Kind;

Result<struct stat> stat_of(const vfs::Dentry& d) { return d.inode().stat(); }

// may_create(): write and search permission on the directory.
Result<void> may_create(Task& t, const vfs::Dentry& dir) {
  auto st = stat_of(dir);
  if (!st) return Err(st.error());
  return vfs::may_access(caller_of(t), *st, vfs::kMayWrite | vfs::kMayExec);
}

// may_delete(): permission on the directory, the sticky bit, then the
// victim's type against what the call removes.
Result<void> may_delete(Task& t, const vfs::Dentry& dir, const vfs::Dentry& victim, bool is_dir) {
  auto dir_st = stat_of(dir);
  if (!dir_st) return Err(dir_st.error());
  auto victim_st = stat_of(victim);
  if (!victim_st) return Err(victim_st.error());
  const vfs::Caller caller = caller_of(t);
  if (auto r = vfs::may_access(caller, *dir_st, vfs::kMayWrite | vfs::kMayExec); !r) return r;
  if (auto r = vfs::check_sticky(caller, *dir_st, *victim_st); !r) return r;
  if (is_dir) {
    if (!victim.is_dir()) return Err(ENOTDIR);
    if (&victim == t.fs().root.get() || !victim.parent()) return Err(EBUSY);
  } else if (victim.is_dir()) {
    return Err(EISDIR);
  }
  if (victim.covering_mount()) return Err(EBUSY);  // a mount point
  return {};
}

// filename_create(): the parent, then EEXIST for a name that exists (or
// "." and ".."), ENOENT for a trailing slash on anything but mkdir, then
// EROFS, then may_create().
Result<ParentAndName> prepare_create_path(Task& t, int dirfd, const std::string& path, bool is_mkdir) {
  auto pn = resolve_parent(t, dirfd, path);
  if (!pn) return Err(pn.error());
  if (pn->kind != Kind::kNormal) return Err(EEXIST);
  auto existing = pn->dir->child(pn->name);
  if (existing) return Err(EEXIST);
  if (existing.error() != ENOENT) return Err(existing.error());
  if (pn->trailing_slash && !is_mkdir) return Err(ENOENT);
  if (vfs::on_read_only_mount(*pn->dir)) return Err(EROFS);
  return pn;
}

Result<ParentAndName> prepare_create(Task& t, int dirfd, uint64_t path_addr, bool is_mkdir) {
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  return prepare_create_path(t, dirfd, *path, is_mkdir);
}

Result<uint64_t> do_mkdirat(Task& t, int dirfd, uint64_t path_addr, uint32_t mode) {
  auto pn = prepare_create(t, dirfd, path_addr, true);
  if (!pn) return Err(pn.error());
  if (auto r = may_create(t, *pn->dir); !r) return Err(r.error());
  auto dir_st = stat_of(*pn->dir);
  if (!dir_st) return Err(dir_st.error());
  mode_t perm = mode & (07777 & ~S_ISUID & ~S_ISGID) & ~t.fs().umask;
  // A set-group-ID directory passes the bit on to new directories.
  if (dir_st->st_mode & S_ISGID) perm |= S_ISGID;
  auto inode = pn->dir->inode().mkdir(pn->name, perm, new_file_owner(t, *dir_st));
  if (!inode) return Err(inode.error());
  pn->dir->add_child(pn->name, std::move(*inode));
  vfs::notify_entry(*pn->dir, pn->name, IN_CREATE, true);
  return ok();
}
Result<uint64_t> sys_mkdir(Task& t, const SyscallArgs& a) {
  return do_mkdirat(t, AT_FDCWD, a.u(0), static_cast<uint32_t>(a.u(1)));
}
Result<uint64_t> sys_mkdirat(Task& t, const SyscallArgs& a) {
  return do_mkdirat(t, a.i(0), a.u(1), static_cast<uint32_t>(a.u(2)));
}

Result<std::shared_ptr<vfs::Dentry>> mknod_path(Task& t, int dirfd, const std::string& path, uint32_t mode,
                                                 uint64_t dev) {
  // may_mknod(): only these types; 0 means a regular file.
  switch (mode & S_IFMT) {
    case 0: mode |= S_IFREG; break;
    case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK: break;
    case S_IFDIR: return Err(EPERM);
    default: return Err(EINVAL);
  }
  auto pn = prepare_create_path(t, dirfd, path, false);
  if (!pn) return Err(pn.error());
  if (auto r = may_create(t, *pn->dir); !r) return Err(r.error());
  // Device nodes would give the application a door to host devices the
  // Sentry does not emulate: refused as for a caller without CAP_MKNOD.
  if (S_ISCHR(mode) || S_ISBLK(mode)) return Err(EPERM);
  auto dir_st = stat_of(*pn->dir);
  if (!dir_st) return Err(dir_st.error());
  const mode_t perm = (mode & 07777) & ~t.fs().umask;
  auto inode = pn->dir->inode().mknod(pn->name, (mode & S_IFMT) | perm, static_cast<dev_t>(dev),
                                      new_file_owner(t, *dir_st));
  if (!inode) return Err(inode.error());
  auto d = pn->dir->add_child(pn->name, std::move(*inode));
  vfs::notify_entry(*pn->dir, pn->name, IN_CREATE, false);
  return d;
}

Result<uint64_t> do_mknodat(Task& t, int dirfd, uint64_t path_addr, uint32_t mode, uint64_t dev) {
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  auto d = mknod_path(t, dirfd, *path, mode, dev);
  if (!d) return Err(d.error());
  return ok();
}
Result<uint64_t> sys_mknod(Task& t, const SyscallArgs& a) {
  return do_mknodat(t, AT_FDCWD, a.u(0), static_cast<uint32_t>(a.u(1)), a.u(2));
}
Result<uint64_t> sys_mknodat(Task& t, const SyscallArgs& a) {
  return do_mknodat(t, a.i(0), a.u(1), static_cast<uint32_t>(a.u(2)), a.u(3));
}

Result<uint64_t> do_symlinkat(Task& t, uint64_t target_addr, int dirfd, uint64_t path_addr) {
  auto target = path_arg(t, target_addr);
  if (!target) return Err(target.error());
  if (target->empty()) return Err(ENOENT);
  auto pn = prepare_create(t, dirfd, path_addr, false);
  if (!pn) return Err(pn.error());
  if (auto r = may_create(t, *pn->dir); !r) return Err(r.error());
  auto dir_st = stat_of(*pn->dir);
  if (!dir_st) return Err(dir_st.error());
  auto inode = pn->dir->inode().symlink(pn->name, *target, new_file_owner(t, *dir_st));
  if (!inode) return Err(inode.error());
  pn->dir->add_child(pn->name, std::move(*inode));
  vfs::notify_entry(*pn->dir, pn->name, IN_CREATE, false);
  return ok();
}
Result<uint64_t> sys_symlink(Task& t, const SyscallArgs& a) { return do_symlinkat(t, a.u(0), AT_FDCWD, a.u(1)); }
Result<uint64_t> sys_symlinkat(Task& t, const SyscallArgs& a) { return do_symlinkat(t, a.u(0), a.i(1), a.u(2)); }

// may_linkat() with fs.protected_hardlinks=1 (Debian's default): someone
// who does not own the file may link only a regular file they can read
// and write that is not set-user-ID or executable set-group-ID.
Result<void> may_linkat(Task& t, const struct stat& st) {
  const vfs::Caller caller = caller_of(t);
  if (vfs::owner_or_capable(caller, st)) return {};
  if (!S_ISREG(st.st_mode) || (st.st_mode & S_ISUID) || (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
    return Err(EPERM);
  if (!vfs::may_access(caller, st, vfs::kMayRead | vfs::kMayWrite)) return Err(EPERM);
  return {};
}

Result<uint64_t> do_linkat(Task& t, int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, int flags) {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  auto old_path = path_arg(t, oldpath);
  if (!old_path) return Err(old_path.error());
  auto old = resolve_at(t, olddirfd, *old_path, (flags & AT_SYMLINK_FOLLOW) != 0, (flags & AT_EMPTY_PATH) != 0);
  if (!old) return Err(old.error());
  auto pn = prepare_create(t, newdirfd, newpath, false);
  if (!pn) return Err(pn.error());
  if ((*old)->mount() != pn->dir->mount()) return Err(EXDEV);
  auto st = stat_of(**old);
  if (!st) return Err(st.error());
  if (auto r = may_linkat(t, *st); !r) return Err(r.error());
  if (auto r = may_create(t, *pn->dir); !r) return Err(r.error());
  if ((*old)->inode().filesystem() != pn->dir->inode().filesystem()) return Err(EXDEV);
  if ((*old)->is_dir()) return Err(EPERM);
  auto linked = pn->dir->inode().link(pn->name, (*old)->inode_ptr());
  if (!linked) return Err(linked.error());
  pn->dir->add_child(pn->name, std::move(*linked));
  vfs::notify_self(**old, IN_ATTRIB);  // its link count changed
  vfs::notify_entry(*pn->dir, pn->name, IN_CREATE, false);
  return ok();
}
Result<uint64_t> sys_link(Task& t, const SyscallArgs& a) { return do_linkat(t, AT_FDCWD, a.u(0), AT_FDCWD, a.u(1), 0); }
Result<uint64_t> sys_linkat(Task& t, const SyscallArgs& a) {
  return do_linkat(t, a.i(0), a.u(1), a.i(2), a.u(3), a.i(4));
}

// do_rmdir() and do_unlinkat(): after the parent lookup and the checks on
// the last component's form, mnt_want_write() fails before the name is
// looked up, so even a missing name gets EROFS.
Result<uint64_t> do_rmdir(Task& t, int dirfd, uint64_t path_addr) {
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  auto pn = resolve_parent(t, dirfd, *path);
  if (!pn) return Err(pn.error());
  switch (pn->kind) {
    case Kind::kDot: return Err(EINVAL);
    case Kind::kDotDot: return Err(ENOTEMPTY);
    case Kind::kRoot: return Err(EBUSY);
    case Kind::kNormal: break;
  }
  if (vfs::on_read_only_mount(*pn->dir)) return Err(EROFS);
  auto victim = pn->dir->child(pn->name);
  if (!victim) return Err(victim.error());
  if (auto r = may_delete(t, *pn->dir, **victim, true); !r) return Err(r.error());
  if (auto r = pn->dir->inode().unlink(pn->name, true); !r) return Err(r.error());
  pn->dir->remove_child(pn->name);
  vfs::notify_entry(*pn->dir, pn->name, IN_DELETE, true);
  vfs::notify_deleted(**victim);
  return ok();
}

Result<uint64_t> do_unlink(Task& t, int dirfd, uint64_t path_addr) {
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  auto pn = resolve_parent(t, dirfd, *path);
  if (!pn) return Err(pn.error());
  if (pn->kind != Kind::kNormal) return Err(EISDIR);
  if (vfs::on_read_only_mount(*pn->dir)) return Err(EROFS);
  auto victim = pn->dir->child(pn->name);
  if (!victim) return Err(victim.error());
  if (pn->trailing_slash) return Err((*victim)->is_dir() ? EISDIR : ENOTDIR);
  if (auto r = may_delete(t, *pn->dir, **victim, false); !r) return Err(r.error());
  if (auto r = pn->dir->inode().unlink(pn->name, false); !r) return Err(r.error());
  pn->dir->remove_child(pn->name);
  // inotify(7): IN_ATTRIB for the link count, IN_DELETE in the directory,
  // IN_DELETE_SELF once the last name is gone.
  vfs::notify_self(**victim, IN_ATTRIB);
  vfs::notify_entry(*pn->dir, pn->name, IN_DELETE, false);
  if (auto st = (*victim)->inode().stat(); st && st->st_nlink == 0) vfs::notify_deleted(**victim);
  return ok();
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
  auto old_path = path_arg(t, oldpath);
  if (!old_path) return Err(old_path.error());
  auto new_path = path_arg(t, newpath);
  if (!new_path) return Err(new_path.error());
  auto from = resolve_parent(t, olddirfd, *old_path);
  if (!from) return Err(from.error());
  auto to = resolve_parent(t, newdirfd, *new_path);
  if (!to) return Err(to.error());
  if (from->dir->mount() != to->dir->mount()) return Err(EXDEV);
  if (from->kind != Kind::kNormal) return Err(EBUSY);
  if (to->kind != Kind::kNormal) return Err((flags & RENAME_NOREPLACE) ? EEXIST : EBUSY);
  if (vfs::on_read_only_mount(*from->dir)) return Err(EROFS);
  // Whiteouts are an overlay's own business; refused before any lookup.
  if (flags & RENAME_WHITEOUT) return Err(EINVAL);
  auto moved = from->dir->child(from->name);
  if (!moved) return Err(moved.error());
  auto target = to->dir->child(to->name);
  if (!target && target.error() != ENOENT) return Err(target.error());
  std::shared_ptr<vfs::Dentry> replaced = target ? *target : nullptr;
  if ((flags & RENAME_NOREPLACE) && replaced) return Err(EEXIST);
  if (flags & RENAME_EXCHANGE) {
    if (!replaced) return Err(ENOENT);
    if (!replaced->is_dir() && to->trailing_slash) return Err(ENOTDIR);
  }
  if (!(*moved)->is_dir()) {
    if (from->trailing_slash) return Err(ENOTDIR);
    if (!(flags & RENAME_EXCHANGE) && to->trailing_slash) return Err(ENOTDIR);
  }
  // lock_rename()'s trap: a directory cannot move under itself, and the
  // target cannot be an ancestor of the source.
  if (to->dir->is_descendant_of(**moved)) return Err(EINVAL);
  if (replaced && from->dir->is_descendant_of(*replaced)) return Err((flags & RENAME_EXCHANGE) ? EINVAL : ENOTEMPTY);
  // vfs_rename(): the same file under both names is a no-op.
  if (replaced && replaced->inode_ptr() == (*moved)->inode_ptr()) return ok();
  const bool is_dir = (*moved)->is_dir();
  if (auto r = may_delete(t, *from->dir, **moved, is_dir); !r) return Err(r.error());
  if (!replaced) {
    if (auto r = may_create(t, *to->dir); !r) return Err(r.error());
  } else {
    const bool new_is_dir = (flags & RENAME_EXCHANGE) ? replaced->is_dir() : is_dir;
    if (auto r = may_delete(t, *to->dir, *replaced, new_is_dir); !r) return Err(r.error());
  }
  // A directory changing parent rewrites its "..": it must be writable.
  if (from->dir != to->dir) {
    auto check_dotdot = [&](const vfs::Dentry& d) -> Result<void> {
      if (!d.is_dir()) return {};
      auto st = stat_of(d);
      if (!st) return Err(st.error());
      return vfs::may_access(caller_of(t), *st, vfs::kMayWrite);
    };
    if (auto r = check_dotdot(**moved); !r) return Err(r.error());
    if ((flags & RENAME_EXCHANGE)) {
      if (auto r = check_dotdot(*replaced); !r) return Err(r.error());
    }
  }
  if (auto r = from->dir->inode().rename(from->name, to->dir->inode(), to->name, flags); !r) return Err(r.error());
  vfs::Dentry::move_child(*from->dir, from->name, *to->dir, to->name, (flags & RENAME_EXCHANGE) != 0);
  const uint32_t cookie = vfs::next_move_cookie();
  vfs::notify_entry(*from->dir, from->name, IN_MOVED_FROM, is_dir, cookie);
  vfs::notify_entry(*to->dir, to->name, IN_MOVED_TO, is_dir, cookie);
  vfs::notify_self(**moved, IN_MOVE_SELF);
  if (replaced && !(flags & RENAME_EXCHANGE)) {
    if (auto st = replaced->inode().stat(); !st || st->st_nlink == 0 || replaced->is_dir()) vfs::notify_deleted(*replaced);
  }
  return ok();
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

}  // namespace

Result<std::shared_ptr<vfs::Dentry>> make_node(Task& t, int dirfd, const std::string& path, uint32_t mode) {
  return mknod_path(t, dirfd, path, mode, 0);
}

void register_dir_ops(kernel::SyscallTable& tb) {
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
}

}  // namespace runsc::syscalls
