// File attributes and whole-file operations: chmod, chown, utimes,
// truncate, fallocate, the sync family, statfs, fadvise64, readahead.
// Permission rules follow notify_change() and its callers in fs/attr.c,
// fs/open.c and fs/utimes.c.
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <utime.h>

#include "syscalls/util.h"
#include "vfs/inotify.h"

namespace runsc::syscalls {
namespace {

// Where an attribute call applies: a path looked up, or an open file.
Result<std::shared_ptr<vfs::Dentry>> dentry_of_fd(Task& t, int fd) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  if ((*f)->flags() & O_PATH) return Err(EBADF);
  return (*f)->dentry();  // null for pipes and the sandbox's stdio
}

Result<uint64_t> chmod_dentry(Task& t, const std::shared_ptr<vfs::Dentry>& d, uint32_t mode) {
  if (!d) return ok();  // a pipe: Linux changes an inode nobody sees
  if (vfs::on_read_only_mount(*d)) return Err(EROFS);
  auto st = d->inode().stat();
  if (!st) return Err(st.error());
  const vfs::Caller caller = caller_of(t);
  if (!vfs::owner_or_capable(caller, *st)) return Err(EPERM);
  mode_t next = mode & 07777;
  // Someone outside the file's group cannot keep it set-group-ID.
  if (!caller.in_group(st->st_gid) && !caller.cap_fsetid) next &= ~S_ISGID;
  vfs::SetAttr attr;
  attr.mode = next;
  if (auto r = d->inode().setattr(attr); !r) return Err(r.error());
  vfs::notify(*d, IN_ATTRIB);
  return ok();
}

Result<uint64_t> sys_chmod(Task& t, const SyscallArgs& a) {
  auto path = path_arg(t, a.u(0));
  if (!path) return Err(path.error());
  auto d = resolve_at(t, AT_FDCWD, *path, true);
  if (!d) return Err(d.error());
  return chmod_dentry(t, *d, static_cast<uint32_t>(a.u(1)));
}
Result<uint64_t> sys_fchmodat(Task& t, const SyscallArgs& a) {
  auto path = path_arg(t, a.u(1));
  if (!path) return Err(path.error());
  auto d = resolve_at(t, a.i(0), *path, true);
  if (!d) return Err(d.error());
  return chmod_dentry(t, *d, static_cast<uint32_t>(a.u(2)));
}
Result<uint64_t> sys_fchmod(Task& t, const SyscallArgs& a) {
  auto d = dentry_of_fd(t, a.i(0));
  if (!d) return Err(d.error());
  return chmod_dentry(t, *d, static_cast<uint32_t>(a.u(1)));
}

// chown_common() and chown_ok()/chgrp_ok(): changing the owner needs
// CAP_CHOWN; the owner may change the group to one they belong to.
Result<uint64_t> chown_dentry(Task& t, const std::shared_ptr<vfs::Dentry>& d, uint32_t uid, uint32_t gid) {
  if (!d) return ok();
  if (vfs::on_read_only_mount(*d)) return Err(EROFS);
  auto st = d->inode().stat();
  if (!st) return Err(st.error());
  const vfs::Caller caller = caller_of(t);
  constexpr uint32_t kUnchanged = static_cast<uint32_t>(-1);
  vfs::SetAttr attr;
  if (uid != kUnchanged) {
    if (!caller.cap_chown && !(uid == st->st_uid && caller.fsuid == st->st_uid)) return Err(EPERM);
    attr.uid = uid;
  }
  if (gid != kUnchanged) {
    const bool own_group = caller.fsuid == st->st_uid && (gid == st->st_gid || caller.in_group(gid));
    if (!caller.cap_chown && !own_group) return Err(EPERM);
    attr.gid = gid;
  }
  // Any chown of a non-directory drops set-user-ID, and set-group-ID when
  // it means "setgid executable" (notify_change()'s ATTR_KILL_S*ID).
  if (!S_ISDIR(st->st_mode)) {
    mode_t mode = st->st_mode & 07777;
    mode_t cleared = mode & ~S_ISUID;
    if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) cleared &= ~S_ISGID;
    if (cleared != mode) attr.mode = cleared;
  }
  if (auto r = d->inode().setattr(attr); !r) return Err(r.error());
  vfs::notify(*d, IN_ATTRIB);
  return ok();
}

Result<uint64_t> chown_path(Task& t, int dirfd, uint64_t path_addr, uint32_t uid, uint32_t gid, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  auto d = resolve_at(t, dirfd, *path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) != 0);
  if (!d) return Err(d.error());
  return chown_dentry(t, *d, uid, gid);
}
Result<uint64_t> sys_chown(Task& t, const SyscallArgs& a) {
  return chown_path(t, AT_FDCWD, a.u(0), static_cast<uint32_t>(a.u(1)), static_cast<uint32_t>(a.u(2)), 0);
}
Result<uint64_t> sys_lchown(Task& t, const SyscallArgs& a) {
  return chown_path(t, AT_FDCWD, a.u(0), static_cast<uint32_t>(a.u(1)), static_cast<uint32_t>(a.u(2)),
                    AT_SYMLINK_NOFOLLOW);
}
Result<uint64_t> sys_fchownat(Task& t, const SyscallArgs& a) {
  return chown_path(t, a.i(0), a.u(1), static_cast<uint32_t>(a.u(2)), static_cast<uint32_t>(a.u(3)), a.i(4));
}
Result<uint64_t> sys_fchown(Task& t, const SyscallArgs& a) {
  auto d = dentry_of_fd(t, a.i(0));
  if (!d) return Err(d.error());
  return chown_dentry(t, *d, static_cast<uint32_t>(a.u(1)), static_cast<uint32_t>(a.u(2)));
}


// vfs_truncate() for a path; ftruncate works on the open description.
Result<uint64_t> sys_truncate(Task& t, const SyscallArgs& a) {
  auto path = path_arg(t, a.u(0));
  if (!path) return Err(path.error());
  if (static_cast<int64_t>(a.u(1)) < 0) return Err(EINVAL);
  auto d = resolve_at(t, AT_FDCWD, *path, true);
  if (!d) return Err(d.error());
  if ((*d)->is_dir()) return Err(EISDIR);
  if (!S_ISREG((*d)->inode().file_type())) return Err(EINVAL);
  if (vfs::on_read_only_mount(**d)) return Err(EROFS);
  auto st = (*d)->inode().stat();
  if (!st) return Err(st.error());
  const vfs::Caller caller = caller_of(t);
  if (auto r = vfs::may_access(caller, *st, vfs::kMayWrite); !r) return Err(r.error());
  vfs::SetAttr attr;
  attr.size = static_cast<int64_t>(a.u(1));
  attr.mode = mode_after_kill_privs(caller, *st);
  if (auto r = (*d)->inode().setattr(attr); !r) return Err(r.error());
  vfs::notify(**d, IN_MODIFY);
  return ok();
}

Result<uint64_t> sys_ftruncate(Task& t, const SyscallArgs& a) {
  if (static_cast<int64_t>(a.u(1)) < 0) return Err(EINVAL);
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  if ((*f)->flags() & O_PATH) return Err(EBADF);
  if (!(*f)->writable()) return Err(EINVAL);
  if (auto r = (*f)->truncate(static_cast<int64_t>(a.u(1))); !r) return Err(r.error());
  if (const auto& d = (*f)->dentry()) {
    auto st = d->inode().stat();
    if (!st) return Err(st.error());
    if (auto mode = mode_after_kill_privs(caller_of(t), *st)) {
      vfs::SetAttr attr;
      attr.mode = *mode;
      if (auto r = d->inode().setattr(attr); !r) return Err(r.error());
    }
    vfs::notify(*d, IN_MODIFY);
  }
  return ok();
}

Result<uint64_t> sys_fallocate(Task& t, const SyscallArgs& a) {
  const int mode = a.i(1);
  const int64_t offset = static_cast<int64_t>(a.u(2)), length = static_cast<int64_t>(a.u(3));
  if (offset < 0 || length <= 0) return Err(EINVAL);
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  if (!(*f)->writable() || ((*f)->flags() & O_PATH)) return Err(EBADF);
  // Only plain allocation, KEEP_SIZE and PUNCH_HOLE (which needs KEEP_SIZE).
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return Err(EOPNOTSUPP);
  if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)) return Err(EOPNOTSUPP);
  if ((*f)->host_poll_fd() >= 0 && !(*f)->seekable()) return Err(ESPIPE);
  if (auto r = (*f)->allocate(mode, offset, length); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_fsync(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  if ((*f)->flags() & O_PATH) return Err(EBADF);
  // Everything the sandbox writes is in its memory (the overlay's upper
  // layer): there is nothing to flush to a disk.
  if (auto r = (*f)->sync(); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_sync(Task&, const SyscallArgs&) { return ok(); }
Result<uint64_t> sys_syncfs(Task& t, const SyscallArgs& a) {
  if (!get_file(t, a.i(0))) return Err(EBADF);
  return ok();
}

Result<uint64_t> statfs_out(Task& t, uint64_t addr, const std::shared_ptr<vfs::Dentry>& d) {
  struct statfs out {};
  if (d) {
    auto st = d->inode().statfs();
    if (!st) return Err(st.error());
    out = *st;
    if (d->mount() && d->mount()->read_only) out.f_flags |= ST_RDONLY;
  } else {
    out.f_type = 0x50495045;  // PIPEFS_MAGIC: what a pipe's statfs reports
    out.f_bsize = 4096;
    out.f_namelen = 255;
  }
  if (auto r = t.mm().copy_out(addr, &out, sizeof(out)); !r) return Err(r.error());
  return ok();
}
Result<uint64_t> sys_statfs(Task& t, const SyscallArgs& a) {
  auto path = path_arg(t, a.u(0));
  if (!path) return Err(path.error());
  auto d = resolve_at(t, AT_FDCWD, *path, true);
  if (!d) return Err(d.error());
  return statfs_out(t, a.u(1), *d);
}
Result<uint64_t> sys_fstatfs(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  return statfs_out(t, a.u(1), (*f)->dentry());
}

// utimensat(2) semantics for one file: `times` null means "now" for both;
// UTIME_NOW and UTIME_OMIT per field.
Result<uint64_t> set_times(Task& t, const std::shared_ptr<vfs::Dentry>& d, const timespec* times) {
  if (!d) return ok();
  if (vfs::on_read_only_mount(*d)) return Err(EROFS);
  auto st = d->inode().stat();
  if (!st) return Err(st.error());
  const vfs::Caller caller = caller_of(t);
  const bool to_now = !times || (times[0].tv_nsec == UTIME_NOW && times[1].tv_nsec == UTIME_NOW);
  if (times && times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT) return ok();
  if (to_now) {
    // Setting the current time needs ownership or write permission.
    if (!vfs::owner_or_capable(caller, *st) && !vfs::may_access(caller, *st, vfs::kMayWrite)) return Err(EACCES);
  } else if (!vfs::owner_or_capable(caller, *st)) {
    return Err(EPERM);
  }
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  vfs::SetAttr attr;
  for (int i = 0; i < 2; ++i) {
    std::optional<timespec>& field = i == 0 ? attr.atime : attr.mtime;
    if (!times || times[i].tv_nsec == UTIME_NOW) field = now;
    else if (times[i].tv_nsec != UTIME_OMIT) field = times[i];
  }
  if (auto r = d->inode().setattr(attr); !r) return Err(r.error());
  vfs::notify(*d, IN_ATTRIB);
  return ok();
}

bool nsec_valid(long nsec) { return nsec == UTIME_NOW || nsec == UTIME_OMIT || (nsec >= 0 && nsec < 1000000000); }

Result<uint64_t> times_at(Task& t, int dirfd, uint64_t path_addr, const timespec* times, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  if (path_addr == 0) {
    // utimensat(fd, NULL, ...) is futimens(fd).
    if (flags & AT_SYMLINK_NOFOLLOW) return Err(EINVAL);
    auto d = dentry_of_fd(t, dirfd);
    if (!d) return Err(d.error());
    return set_times(t, *d, times);
  }
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  auto d = resolve_at(t, dirfd, *path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) != 0);
  if (!d) return Err(d.error());
  return set_times(t, *d, times);
}

Result<uint64_t> sys_utimensat(Task& t, const SyscallArgs& a) {
  timespec times[2];
  if (a.u(2)) {
    if (auto r = t.mm().copy_in(a.u(2), times, sizeof(times)); !r) return Err(r.error());
    if (!nsec_valid(times[0].tv_nsec) || !nsec_valid(times[1].tv_nsec)) return Err(EINVAL);
  }
  return times_at(t, a.i(0), a.u(1), a.u(2) ? times : nullptr, a.i(3));
}

// futimesat(2)/utimes(2): microseconds, no UTIME_* values.
Result<uint64_t> timeval_times(Task& t, int dirfd, uint64_t path_addr, uint64_t tv_addr) {
  timespec times[2];
  if (tv_addr) {
    timeval tv[2];
    if (auto r = t.mm().copy_in(tv_addr, tv, sizeof(tv)); !r) return Err(r.error());
    for (int i = 0; i < 2; ++i) {
      if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) return Err(EINVAL);
      times[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
    }
  }
  return times_at(t, dirfd, path_addr, tv_addr ? times : nullptr, 0);
}
Result<uint64_t> sys_futimesat(Task& t, const SyscallArgs& a) { return timeval_times(t, a.i(0), a.u(1), a.u(2)); }
Result<uint64_t> sys_utimes(Task& t, const SyscallArgs& a) { return timeval_times(t, AT_FDCWD, a.u(0), a.u(1)); }
Result<uint64_t> sys_utime(Task& t, const SyscallArgs& a) {
  timespec times[2];
  if (a.u(1)) {
    struct utimbuf buf;
    if (auto r = t.mm().copy_in(a.u(1), &buf, sizeof(buf)); !r) return Err(r.error());
    times[0] = {buf.actime, 0};
    times[1] = {buf.modtime, 0};
  }
  if (a.u(0) == 0) return Err(EFAULT);
  return times_at(t, AT_FDCWD, a.u(0), a.u(1) ? times : nullptr, 0);
}

Result<uint64_t> sys_fadvise64(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  if (!(*f)->seekable()) return Err(ESPIPE);
  if (a.i(3) < POSIX_FADV_NORMAL || a.i(3) > POSIX_FADV_NOREUSE) return Err(EINVAL);
  return ok();  // advice only: the Sentry has no page cache to steer
}

Result<uint64_t> sys_readahead(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  if (!(*f)->readable()) return Err(EBADF);
  auto st = (*f)->stat();
  if (!st || !S_ISREG(st->st_mode)) return Err(EINVAL);
  return ok();
}

}  // namespace

// should_remove_suid(): changing a regular file's size without
// CAP_FSETID drops set-user-ID, and set-group-ID when the file is
// group-executable (do_truncate() asks for ATTR_KILL_SUID/SGID). The new
// permission bits, or nothing if they stay.
std::optional<mode_t> mode_after_kill_privs(const vfs::Caller& caller, const struct stat& st) {
  if (caller.cap_fsetid || !S_ISREG(st.st_mode)) return std::nullopt;
  mode_t mode = st.st_mode & 07777;
  mode_t next = mode & ~S_ISUID;
  if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) next &= ~S_ISGID;
  if (next == mode) return std::nullopt;
  return next;
}

void register_attr(kernel::SyscallTable& tb) {
  using A = kernel::Arg;
  tb.set(SYS_chmod, "chmod", sys_chmod, {A::kPath, A::kOct});
  tb.set(SYS_fchmod, "fchmod", sys_fchmod, {A::kFd, A::kOct});
  tb.set(SYS_fchmodat, "fchmodat", sys_fchmodat, {A::kFd, A::kPath, A::kOct});
  tb.set(SYS_chown, "chown", sys_chown, {A::kPath, A::kInt, A::kInt});
  tb.set(SYS_lchown, "lchown", sys_lchown, {A::kPath, A::kInt, A::kInt});
  tb.set(SYS_fchown, "fchown", sys_fchown, {A::kFd, A::kInt, A::kInt});
  tb.set(SYS_fchownat, "fchownat", sys_fchownat, {A::kFd, A::kPath, A::kInt, A::kInt, A::kHex});
  tb.set(SYS_truncate, "truncate", sys_truncate, {A::kPath, A::kInt});
  tb.set(SYS_ftruncate, "ftruncate", sys_ftruncate, {A::kFd, A::kInt});
  tb.set(SYS_fallocate, "fallocate", sys_fallocate, {A::kFd, A::kHex, A::kInt, A::kInt});
  tb.set(SYS_fsync, "fsync", sys_fsync, {A::kFd});
  tb.set(SYS_fdatasync, "fdatasync", sys_fsync, {A::kFd});
  tb.set(SYS_sync, "sync", sys_sync, {});
  tb.set(SYS_syncfs, "syncfs", sys_syncfs, {A::kFd});
  tb.set(SYS_statfs, "statfs", sys_statfs, {A::kPath, A::kPtr});
  tb.set(SYS_fstatfs, "fstatfs", sys_fstatfs, {A::kFd, A::kPtr});
  tb.set(SYS_utimensat, "utimensat", sys_utimensat, {A::kFd, A::kPath, A::kHex, A::kHex});
  tb.set(SYS_futimesat, "futimesat", sys_futimesat, {A::kFd, A::kPath, A::kHex});
  tb.set(SYS_utimes, "utimes", sys_utimes, {A::kPath, A::kHex});
  tb.set(SYS_utime, "utime", sys_utime, {A::kPath, A::kHex});
  tb.set(SYS_fadvise64, "fadvise64", sys_fadvise64, {A::kFd, A::kInt, A::kInt, A::kInt});
  tb.set(SYS_readahead, "readahead", sys_readahead, {A::kFd, A::kInt, A::kInt});
}

}  // namespace runsc::syscalls
