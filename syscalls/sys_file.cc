// File syscalls: open/close, read/write, stat, directories, FD plumbing.
#include <linux/openat2.h>
#include <linux/stat.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cstring>
#include <vector>

#include "netstack/hostinet/host_socket.h"
#include "syscalls/util.h"
#include "vfs/host_file.h"
#include "vfs/inotify.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

// Linux's UIO_MAXIOV and MAX_RW_COUNT (the most one read/write transfers).
constexpr uint64_t kMaxIov = 1024;
constexpr uint64_t kMaxRwCount = 0x7ffff000;

}  // namespace

Result<std::vector<iovec>> spans_for_iovecs(Task& t, uint64_t iov_addr, uint64_t count, bool to_app) {
  if (count > kMaxIov) return Err(EINVAL);
  std::vector<iovec> app(count);
  if (count) {
    if (auto r = t.mm().copy_in(iov_addr, app.data(), count * sizeof(iovec)); !r) return Err(r.error());
  }
  std::vector<iovec> spans;
  uint64_t total = 0;
  for (const iovec& v : app) {
    if (static_cast<int64_t>(v.iov_len) < 0) return Err(EINVAL);
    uint64_t len = std::min<uint64_t>(v.iov_len, kMaxRwCount - total);
    if (len == 0) continue;
    auto s = t.mm().io_spans(reinterpret_cast<uint64_t>(v.iov_base), len, to_app);
    if (!s) return Err(s.error());
    spans.insert(spans.end(), s->begin(), s->end());
    total += len;
  }
  return spans;
}

namespace {

Result<uint64_t> do_read(Task& t, int fd, std::vector<iovec> spans, int64_t offset) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  if (!(*f)->readable()) return Err(EBADF);
  if (offset >= 0 && !(*f)->seekable()) return Err(ESPIPE);
  if ((*f)->terminal_device() != 0) {
    if (auto r = tty_check_access(t, **f, false); !r) return Err(r.error());
  }
  if (spans.empty()) return ok(0);
  auto n = (*f)->read(spans, offset);
  if (!n) return Err(n.error());
  if (*n && (*f)->dentry()) vfs::notify(*(*f)->dentry(), IN_ACCESS);
  return *n;
}

Result<uint64_t> do_write(Task& t, int fd, std::vector<iovec> spans, int64_t offset) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  if (!(*f)->writable()) return Err(EBADF);
  if ((*f)->terminal_device() != 0) {
    if (auto r = tty_check_access(t, **f, true); !r) return Err(r.error());
  }
  if (spans.empty()) return ok(0);
  auto n = (*f)->write(spans, offset);
  if (!n) {
    // Writing to a pipe nobody reads also raises SIGPIPE (pipe(7)).
    if (n.error() == EPIPE) t.send_signal(SIGPIPE);
    return Err(n.error());
  }
  if (*n && (*f)->dentry()) vfs::notify(*(*f)->dentry(), IN_MODIFY);
  // file_remove_privs(): a write by someone without CAP_FSETID drops the
  // file's set-user-ID bit (and executable set-group-ID).
  if (*n && (*f)->dentry() && !((t.creds().cap_effective >> 4) & 1)) {
    vfs::Inode& inode = (*f)->dentry()->inode();
    if (auto st = inode.stat(); st && (st->st_mode & (S_ISUID | S_ISGID))) {
      vfs::SetAttr attr;
      attr.mode = mode_after_kill_privs(caller_of(t), *st);
      if (attr.mode) (void)inode.setattr(attr);
    }
  }
  return *n;
}

Result<uint64_t> sys_read(Task& t, const SyscallArgs& a) {
  if (!t.fds().get(a.i(0))) return Err(EBADF);
  auto spans = t.mm().io_spans(a.u(1), std::min(a.u(2), kMaxRwCount), true);
  if (!spans) return Err(spans.error());
  return do_read(t, a.i(0), std::move(*spans), -1);
}

Result<uint64_t> sys_write(Task& t, const SyscallArgs& a) {
  if (!t.fds().get(a.i(0))) return Err(EBADF);
  auto spans = t.mm().io_spans(a.u(1), std::min(a.u(2), kMaxRwCount), false);
  if (!spans) return Err(spans.error());
  return do_write(t, a.i(0), std::move(*spans), -1);
}

Result<uint64_t> sys_pread64(Task& t, const SyscallArgs& a) {
  if (static_cast<int64_t>(a.u(3)) < 0) return Err(EINVAL);
  if (!t.fds().get(a.i(0))) return Err(EBADF);
  auto spans = t.mm().io_spans(a.u(1), std::min(a.u(2), kMaxRwCount), true);
  if (!spans) return Err(spans.error());
  return do_read(t, a.i(0), std::move(*spans), static_cast<int64_t>(a.u(3)));
}

Result<uint64_t> sys_pwrite64(Task& t, const SyscallArgs& a) {
  if (static_cast<int64_t>(a.u(3)) < 0) return Err(EINVAL);
  if (!t.fds().get(a.i(0))) return Err(EBADF);
  auto spans = t.mm().io_spans(a.u(1), std::min(a.u(2), kMaxRwCount), false);
  if (!spans) return Err(spans.error());
  return do_write(t, a.i(0), std::move(*spans), static_cast<int64_t>(a.u(3)));
}

Result<uint64_t> sys_readv(Task& t, const SyscallArgs& a) {
  if (!t.fds().get(a.i(0))) return Err(EBADF);
  auto spans = spans_for_iovecs(t, a.u(1), a.u(2), true);
  if (!spans) return Err(spans.error());
  return do_read(t, a.i(0), std::move(*spans), -1);
}

Result<uint64_t> sys_writev(Task& t, const SyscallArgs& a) {
  if (!t.fds().get(a.i(0))) return Err(EBADF);
  auto spans = spans_for_iovecs(t, a.u(1), a.u(2), false);
  if (!spans) return Err(spans.error());
  return do_write(t, a.i(0), std::move(*spans), -1);
}

Result<uint64_t> sys_preadv(Task& t, const SyscallArgs& a) {
  if (static_cast<int64_t>(a.u(3)) < 0) return Err(EINVAL);
  if (!t.fds().get(a.i(0))) return Err(EBADF);
  auto spans = spans_for_iovecs(t, a.u(1), a.u(2), true);
  if (!spans) return Err(spans.error());
  return do_read(t, a.i(0), std::move(*spans), static_cast<int64_t>(a.u(3)));
}

Result<uint64_t> sys_pwritev(Task& t, const SyscallArgs& a) {
  if (static_cast<int64_t>(a.u(3)) < 0) return Err(EINVAL);
  if (!t.fds().get(a.i(0))) return Err(EBADF);
  auto spans = spans_for_iovecs(t, a.u(1), a.u(2), false);
  if (!spans) return Err(spans.error());
  return do_write(t, a.i(0), std::move(*spans), static_cast<int64_t>(a.u(3)));
}

// The final dentry of an open with O_CREAT, creating a regular file if
// the name is missing (open(2); lookup_open() and may_o_create()). Without
// O_EXCL and O_NOFOLLOW a trailing symlink is followed, and a dangling
// one gets its target created (open_last_lookups()).
Result<std::pair<std::shared_ptr<vfs::Dentry>, bool>> open_or_create(Task& t, int dirfd, const std::string& path,
                                                                    int flags, uint32_t mode, uint64_t confine) {
  using Created = std::pair<std::shared_ptr<vfs::Dentry>, bool>;
  // Linux gives up after 40 symlinks in one lookup (ELOOP).
  constexpr int kMaxSymlinks = 40;
  auto pn = resolve_parent(t, dirfd, path, confine);
  for (int symlinks = 0;; ++symlinks) {
    if (!pn) return Err(pn.error());
    // "/", "." and ".." and a trailing slash all name directories.
    if (pn->kind != ParentAndName::Kind::kNormal || pn->trailing_slash) return Err(EISDIR);
    auto existing = pn->dir->child(pn->name);
    if (!existing) {
      if (existing.error() != ENOENT) return Err(existing.error());
      break;  // missing: created below
    }
    if (flags & O_EXCL) return Err(EEXIST);
    if ((*existing)->is_symlink() && !(flags & O_NOFOLLOW) && confine) {
      // openat2(2) confinement: the ordinary walk applies it to the link.
      if (confine & RESOLVE_NO_SYMLINKS) return Err(ELOOP);
      auto d = resolve_at(t, dirfd, path, true, false, confine);
      if (!d) return Err(d.error());
      if ((*d)->is_dir()) return Err(EISDIR);
      return Created{*d, false};
    }
    if ((*existing)->is_symlink() && !(flags & O_NOFOLLOW)) {
      if (symlinks >= kMaxSymlinks) return Err(ELOOP);
      auto target = (*existing)->inode().readlink();
      if (!target) return Err(target.error());
      pn = resolve_parent_in(t, pn->dir, *target);
      continue;
    }
    // Let the walk step onto a mount; with O_NOFOLLOW a symlink stays one
    // (and the open gives ELOOP).
    const vfs::Caller caller = caller_of(t);
    vfs::ResolveOptions options;
    options.follow_final_symlink = false;
    options.caller = &caller;
    options.restrict_flags = confine & RESOLVE_NO_XDEV;
    auto d = vfs::resolve(t.fs().root, pn->dir, pn->name, options);
    if (!d) return Err(d.error());
    // open(2) EISDIR: O_CREAT never opens a directory, even read-only
    // (do_open()).
    if ((*d)->is_dir()) return Err(EISDIR);
    return Created{*d, false};
  }
  if (vfs::on_read_only_mount(*pn->dir)) return Err(EROFS);
  auto dir_st = pn->dir->inode().stat();
  if (!dir_st) return Err(dir_st.error());
  if (auto r = vfs::may_access(caller_of(t), *dir_st, vfs::kMayWrite | vfs::kMayExec); !r) return Err(r.error());
  const mode_t perm = (mode & 07777) & ~t.fs().umask;
  auto inode = pn->dir->inode().mknod(pn->name, S_IFREG | perm, 0, new_file_owner(t, *dir_st));
  if (!inode) return Err(inode.error());
  auto created = pn->dir->add_child(pn->name, std::move(*inode));
  vfs::notify_entry(*pn->dir, pn->name, IN_CREATE, false);
  return Created{std::move(created), true};
}

// O_TMPFILE (open(2)): an unnamed regular file in the directory `path`
// names; linkat(2) can name it later unless O_EXCL was given.
Result<uint64_t> open_tmpfile(Task& t, int dirfd, const std::string& path, int flags, uint32_t mode,
                              uint64_t confine) {
  const int accmode = flags & O_ACCMODE;
  if (accmode != O_WRONLY && accmode != O_RDWR) return Err(EINVAL);
  auto dir = resolve_at(t, dirfd, path, true, false, confine);
  if (!dir) return Err(dir.error());
  if (!(*dir)->is_dir()) return Err(ENOTDIR);
  if (vfs::on_read_only_mount(**dir)) return Err(EROFS);
  auto dir_st = (*dir)->inode().stat();
  if (!dir_st) return Err(dir_st.error());
  if (auto r = vfs::may_access(caller_of(t), *dir_st, vfs::kMayWrite | vfs::kMayExec); !r) return Err(r.error());
  const mode_t perm = (mode & 07777) & ~t.fs().umask;
  // open(2): EOPNOTSUPP from a filesystem without unnamed files; the
  // callers (glibc's tmpfile) then fall back to a named file.
  auto inode = (*dir)->inode().make_tmpfile(perm, new_file_owner(t, *dir_st), !(flags & O_EXCL));
  if (!inode) return Err(inode.error());
  auto st = (*inode)->stat();
  // Named only for /proc/pid/fd ("/dir/#ino (deleted)"), as Linux shows it.
  const std::string name = "#" + std::to_string(st ? st->st_ino : 0);
  auto dentry = (*dir)->add_child(name, *inode);
  (*dir)->remove_child(name);
  auto opened = (*inode)->open(flags & ~(__O_TMPFILE | O_EXCL | O_CREAT | O_NOCTTY | O_CLOEXEC | O_TRUNC));
  if (!opened) return Err(opened.error());
  (*opened)->set_dentry(dentry);
  auto fd = t.fds().install(std::move(*opened), (flags & O_CLOEXEC) != 0);
  if (!fd) return Err(fd.error());
  return static_cast<uint64_t>(*fd);
}

Result<uint64_t> do_openat(Task& t, int dirfd, uint64_t path_addr, int flags, uint32_t mode, uint64_t confine = 0) {
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  if (path->empty()) return Err(ENOENT);
  if ((flags & __O_TMPFILE) == __O_TMPFILE) return open_tmpfile(t, dirfd, *path, flags, mode, confine);
  std::shared_ptr<vfs::Dentry> dentry;
  bool created = false;
  if ((flags & O_CREAT) && !(flags & O_PATH)) {
    auto r = open_or_create(t, dirfd, *path, flags, mode, confine);
    if (!r) return Err(r.error());
    dentry = std::move(r->first);
    created = r->second;
  } else {
    auto d = resolve_at(t, dirfd, *path, !(flags & O_NOFOLLOW), false, confine);
    if (!d) return Err(d.error());
    dentry = std::move(*d);
  }
  std::shared_ptr<vfs::FileDescription> file;
  bool truncate_happened = false;
  if (flags & O_PATH) {
    if ((flags & O_DIRECTORY) && !dentry->is_dir()) return Err(ENOTDIR);
    file = std::make_shared<vfs::PathDescription>(dentry);
  } else {
    if (dentry->is_symlink()) return Err(ELOOP);  // O_NOFOLLOW on a link
    if ((flags & O_DIRECTORY) && !dentry->is_dir()) return Err(ENOTDIR);
    const int accmode = flags & O_ACCMODE;
    const bool truncate = (flags & O_TRUNC) != 0;
    const bool wants_write = accmode != O_RDONLY || truncate;
    if (dentry->is_dir() && wants_write) return Err(EISDIR);
    // A read-only mount refuses writes to regular files and directories
    // only; device nodes on it stay writable (sb_permission()).
    const mode_t type = dentry->inode().file_type();
    if (wants_write && vfs::on_read_only_mount(*dentry) && (S_ISREG(type) || S_ISDIR(type))) return Err(EROFS);
    if (!created) {
      auto st = dentry->inode().stat();
      if (!st) return Err(st.error());
      int mask = 0;
      if (accmode == O_RDONLY || accmode == O_RDWR) mask |= vfs::kMayRead;
      if (accmode == O_WRONLY || accmode == O_RDWR || truncate) mask |= vfs::kMayWrite;
      if (auto r = vfs::may_access(caller_of(t), *st, mask); !r) return Err(r.error());
      if (truncate && S_ISREG(type)) {
        truncate_happened = true;
        vfs::SetAttr attr;
        attr.size = 0;
        // handle_truncate() kills privileges like truncate(2).
        attr.mode = mode_after_kill_privs(caller_of(t), *st);
        if (auto r = dentry->inode().setattr(attr); !r) return Err(r.error());
      }
    }
    std::optional<Result<std::shared_ptr<vfs::FileDescription>>> terminal;
    if (S_ISCHR(type)) {
      if (auto st = dentry->inode().stat(); st) terminal = open_terminal_device(t, st->st_rdev, flags);
    }
    const vfs::Owner opener{t.creds().fsuid, t.creds().fsgid};
    auto opened = terminal ? std::move(*terminal)
                           : dentry->inode().open_as(flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC | O_TRUNC), opener);
    if (!opened) return Err(opened.error());
    file = std::move(*opened);
    if (!(flags & O_NOCTTY)) tty_open_set_ctty(t, file);
    file->set_dentry(dentry);
    if (truncate_happened) vfs::notify(*dentry, IN_MODIFY);
    vfs::notify(*dentry, IN_OPEN);
  }
  auto fd = t.fds().install(std::move(file), (flags & O_CLOEXEC) != 0);
  if (!fd) return Err(fd.error());
  return static_cast<uint64_t>(*fd);
}

Result<uint64_t> sys_open(Task& t, const SyscallArgs& a) {
  return do_openat(t, AT_FDCWD, a.u(0), a.i(1), static_cast<uint32_t>(a.u(2)));
}
Result<uint64_t> sys_openat(Task& t, const SyscallArgs& a) {
  return do_openat(t, a.i(0), a.u(1), a.i(2), static_cast<uint32_t>(a.u(3)));
}
// openat2(2): openat with a struct open_how whose every field is checked,
// and RESOLVE_* flags that confine the walk.
Result<uint64_t> sys_openat2(Task& t, const SyscallArgs& a) {
  const uint64_t size = a.u(3);
  // OPEN_HOW_SIZE_VER0 is the smallest; a larger struct from a newer
  // libc is fine only if the fields we do not know are zero.
  if (size < sizeof(open_how)) return Err(EINVAL);
  if (size > 4096) return Err(E2BIG);
  std::vector<uint8_t> raw(size);
  if (auto r = t.mm().copy_in(a.u(2), raw.data(), size); !r) return Err(r.error());
  for (size_t i = sizeof(open_how); i < size; ++i) {
    if (raw[i] != 0) return Err(E2BIG);
  }
  open_how how;
  std::memcpy(&how, raw.data(), sizeof(how));
  constexpr uint64_t kKnownFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
                                   O_DSYNC | O_ASYNC | O_DIRECT | 0100000 /*O_LARGEFILE*/ | O_DIRECTORY | O_NOFOLLOW |
                                   O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | __O_TMPFILE | 040000000 /*__FMODE_NONOTIFY*/;
  constexpr uint64_t kKnownResolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |
                                     RESOLVE_IN_ROOT | RESOLVE_CACHED;
  if (how.flags & ~kKnownFlags) return Err(EINVAL);
  if (how.resolve & ~kKnownResolve) return Err(EINVAL);
  if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT)) return Err(EINVAL);
  // A mode only goes with O_CREAT or O_TMPFILE, and holds permission bits only.
  const bool creating = (how.flags & O_CREAT) || (how.flags & __O_TMPFILE) == __O_TMPFILE;
  if ((how.mode & ~uint64_t{07777}) || (!creating && how.mode)) return Err(EINVAL);
  if ((how.flags & O_ACCMODE) == O_ACCMODE) return Err(EINVAL);
  return do_openat(t, a.i(0), a.u(1), static_cast<int>(how.flags), static_cast<uint32_t>(how.mode),
                   how.resolve & ~uint64_t{RESOLVE_CACHED});
}

// name_to_handle_at(2): no filesystem here exports handles, which the man
// page answers with EOPNOTSUPP once the path is found.
Result<uint64_t> sys_name_to_handle_at(Task& t, const SyscallArgs& a) {
  const int flags = a.i(4);
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  auto path = path_arg(t, a.u(1));
  if (!path) return Err(path.error());
  auto d = resolve_at(t, a.i(0), *path, (flags & AT_SYMLINK_FOLLOW) != 0, (flags & AT_EMPTY_PATH) != 0);
  if (!d) return Err(d.error());
  return Err(EOPNOTSUPP);
}

// open_by_handle_at(2): only for CAP_DAC_READ_SEARCH, and no handle can be
// valid since none is ever given out (ESTALE).
Result<uint64_t> sys_open_by_handle_at(Task& t, const SyscallArgs&) {
  if (!caller_of(t).cap_dac_read_search) return Err(EPERM);
  return Err(ESTALE);
}

Result<uint64_t> sys_creat(Task& t, const SyscallArgs& a) {
  return do_openat(t, AT_FDCWD, a.u(0), O_CREAT | O_WRONLY | O_TRUNC, static_cast<uint32_t>(a.u(1)));
}

Result<uint64_t> sys_close(Task& t, const SyscallArgs& a) {
  auto file = t.fds().get(a.i(0));
  if (auto r = t.fds().close(a.i(0)); !r) return Err(r.error());
  release_posix_locks(t, *file);
  return ok();
}

Result<uint64_t> sys_close_range(Task& t, const SyscallArgs& a) {
  uint32_t first = static_cast<uint32_t>(a.u(0)), last = static_cast<uint32_t>(a.u(1));
  uint32_t flags = static_cast<uint32_t>(a.u(2));
  if (first > last || (flags & ~(4u /*CLOSE_RANGE_CLOEXEC*/ | 2u /*UNSHARE*/)) != 0) return Err(EINVAL);
  last = std::min<uint32_t>(last, static_cast<uint32_t>(t.fds().limit() - 1));
  for (uint32_t fd = first; fd <= last && fd < static_cast<uint32_t>(t.fds().limit()); ++fd) {
    if (flags & 4u) (void)t.fds().set_cloexec(static_cast<int>(fd), true);
    else (void)t.fds().close(static_cast<int>(fd));
  }
  return ok();
}

Result<uint64_t> stat_out(Task& t, uint64_t addr, const struct stat& st) {
  if (auto r = t.mm().copy_out(addr, &st, sizeof(st)); !r) return Err(r.error());
  return ok();
}

// What fstat(2) reports for an open file: the file as its filesystem
// shows it (an overlay's device and inode numbers, not the host's behind
// a donated FD), or the description's own view for pipes and stdio.
Result<struct stat> stat_of_file(vfs::FileDescription& f) {
  if (!f.dentry()) return f.stat();
  auto st = f.dentry()->inode().stat();
  // A host file whose name went (unlinked or replaced on a tree written in
  // place: the gofer finds it by name) is still the open file itself.
  if (!st && (st.error() == ENOENT || st.error() == ESTALE)) return f.stat();
  return st;
}

Result<uint64_t> sys_fstat(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  auto st = stat_of_file(**f);
  if (!st) return Err(st.error());
  return stat_out(t, a.u(1), *st);
}

Result<uint64_t> stat_path(Task& t, int dirfd, uint64_t path_addr, uint64_t buf, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) return Err(EINVAL);
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  if (path->empty() && (flags & AT_EMPTY_PATH)) {
    if (dirfd == AT_FDCWD) {
      auto st = t.fs().cwd->inode().stat();
      if (!st) return Err(st.error());
      return stat_out(t, buf, *st);
    }
    auto f = get_file(t, dirfd);
    if (!f) return Err(f.error());
    auto st = stat_of_file(**f);
    if (!st) return Err(st.error());
    return stat_out(t, buf, *st);
  }
  auto d = resolve_at(t, dirfd, *path, !(flags & AT_SYMLINK_NOFOLLOW));
  if (!d) return Err(d.error());
  auto st = (*d)->inode().stat();
  if (!st) return Err(st.error());
  return stat_out(t, buf, *st);
}

Result<uint64_t> sys_stat(Task& t, const SyscallArgs& a) { return stat_path(t, AT_FDCWD, a.u(0), a.u(1), 0); }
Result<uint64_t> sys_lstat(Task& t, const SyscallArgs& a) {
  return stat_path(t, AT_FDCWD, a.u(0), a.u(1), AT_SYMLINK_NOFOLLOW);
}
Result<uint64_t> sys_newfstatat(Task& t, const SyscallArgs& a) {
  return stat_path(t, a.i(0), a.u(1), a.u(2), a.i(3));
}

Result<uint64_t> sys_statx(Task& t, const SyscallArgs& a) {
  int dirfd = a.i(0), flags = a.i(2);
  constexpr int kSyncMask = 0x6000;  // AT_STATX_SYNC_TYPE
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | kSyncMask)) return Err(EINVAL);
  if ((flags & kSyncMask) == kSyncMask) return Err(EINVAL);
  if (a.u(3) & 0x80000000u) return Err(EINVAL);  // STATX__RESERVED
  auto path = path_arg(t, a.u(1));
  if (!path) return Err(path.error());
  Result<struct stat> st = Err(ENOENT);
  if (path->empty() && (flags & AT_EMPTY_PATH)) {
    if (dirfd == AT_FDCWD) {
      st = t.fs().cwd->inode().stat();
    } else {
      auto f = get_file(t, dirfd);
      if (!f) return Err(f.error());
      st = stat_of_file(**f);
    }
  } else {
    auto d = resolve_at(t, dirfd, *path, !(flags & AT_SYMLINK_NOFOLLOW));
    if (!d) return Err(d.error());
    st = (*d)->inode().stat();
  }
  if (!st) return Err(st.error());
  struct statx sx {};
  sx.stx_mask = STATX_BASIC_STATS;
  sx.stx_blksize = static_cast<uint32_t>(st->st_blksize);
  sx.stx_nlink = static_cast<uint32_t>(st->st_nlink);
  sx.stx_uid = st->st_uid;
  sx.stx_gid = st->st_gid;
  sx.stx_mode = static_cast<uint16_t>(st->st_mode);
  sx.stx_ino = st->st_ino;
  sx.stx_size = static_cast<uint64_t>(st->st_size);
  sx.stx_blocks = static_cast<uint64_t>(st->st_blocks);
  sx.stx_atime = {st->st_atim.tv_sec, static_cast<uint32_t>(st->st_atim.tv_nsec), 0};
  sx.stx_mtime = {st->st_mtim.tv_sec, static_cast<uint32_t>(st->st_mtim.tv_nsec), 0};
  sx.stx_ctime = {st->st_ctim.tv_sec, static_cast<uint32_t>(st->st_ctim.tv_nsec), 0};
  sx.stx_rdev_major = major(st->st_rdev);
  sx.stx_rdev_minor = minor(st->st_rdev);
  sx.stx_dev_major = major(st->st_dev);
  sx.stx_dev_minor = minor(st->st_dev);
  if (auto r = t.mm().copy_out(a.u(4), &sx, sizeof(sx)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_lseek(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  int whence = a.i(2);
  if (whence < SEEK_SET || whence > SEEK_HOLE) return Err(EINVAL);
  auto r = (*f)->seek(static_cast<int64_t>(a.u(1)), whence);
  if (!r) return Err(r.error());
  return static_cast<uint64_t>(*r);
}

Result<uint64_t> sys_getdents64(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  size_t count = static_cast<size_t>(std::min<uint64_t>(a.u(2), 1 << 20));
  std::vector<uint8_t> buf(count);
  auto n = (*f)->getdents64(buf);
  if (!n) return Err(n.error());
  if (*n) {
    if (auto r = t.mm().copy_out(a.u(1), buf.data(), *n); !r) return Err(r.error());
  }
  return *n;
}

Result<uint64_t> do_readlinkat(Task& t, int dirfd, uint64_t path_addr, uint64_t buf, int64_t size) {
  if (size <= 0) return Err(EINVAL);
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  auto d = resolve_at(t, dirfd, *path, false, true);
  if (!d) return Err(d.error());
  auto target = (*d)->inode().readlink();
  if (!target) return Err(target.error());
  size_t n = std::min<size_t>(target->size(), static_cast<size_t>(size));
  if (auto r = t.mm().copy_out(buf, target->data(), n); !r) return Err(r.error());
  return n;
}
Result<uint64_t> sys_readlink(Task& t, const SyscallArgs& a) {
  return do_readlinkat(t, AT_FDCWD, a.u(0), a.u(1), static_cast<int64_t>(a.u(2)));
}
Result<uint64_t> sys_readlinkat(Task& t, const SyscallArgs& a) {
  return do_readlinkat(t, a.i(0), a.u(1), a.u(2), static_cast<int64_t>(a.u(3)));
}

Result<uint64_t> sys_getcwd(Task& t, const SyscallArgs& a) {
  // getcwd(3): ENOENT once the working directory has been removed.
  if (t.fs().cwd->deleted()) return Err(ENOENT);
  std::string path = t.fs().cwd->path();
  if (a.u(1) < path.size() + 1) return Err(ERANGE);
  if (auto r = t.mm().copy_out(a.u(0), path.c_str(), path.size() + 1); !r) return Err(r.error());
  return path.size() + 1;
}

// chdir(2) and fchdir(2) need search permission on the directory.
Result<void> may_search(Task& t, const vfs::Dentry& dir) {
  auto st = dir.inode().stat();
  if (!st) return Err(st.error());
  return vfs::may_access(caller_of(t), *st, vfs::kMayExec);
}

Result<uint64_t> sys_chdir(Task& t, const SyscallArgs& a) {
  auto path = path_arg(t, a.u(0));
  if (!path) return Err(path.error());
  auto d = resolve_at(t, AT_FDCWD, *path, true);
  if (!d) return Err(d.error());
  if (!(*d)->is_dir()) return Err(ENOTDIR);
  if (auto r = may_search(t, **d); !r) return Err(r.error());
  t.fs().cwd = *d;
  return ok();
}

Result<uint64_t> sys_fchdir(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  if (!(*f)->dentry() || !(*f)->dentry()->is_dir()) return Err(ENOTDIR);
  if (auto r = may_search(t, *(*f)->dentry()); !r) return Err(r.error());
  t.fs().cwd = (*f)->dentry();
  return ok();
}

// access(2) for the caller's real IDs. Root passes read/write checks and
// needs some execute bit for X_OK on non-directories.
Result<uint64_t> do_faccessat(Task& t, int dirfd, uint64_t path_addr, int mode, int flags) {
  if (mode & ~(R_OK | W_OK | X_OK)) return Err(EINVAL);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH)) return Err(EINVAL);
  auto path = path_arg(t, path_addr);
  if (!path) return Err(path.error());
  auto d = resolve_at(t, dirfd, *path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) != 0);
  if (!d) return Err(d.error());
  auto st = (*d)->inode().stat();
  if (!st) return Err(st.error());
  if ((mode & W_OK) && vfs::on_read_only_mount(**d) && !S_ISCHR(st->st_mode)) return Err(EROFS);
  uint32_t uid = (flags & AT_EACCESS) ? t.creds().euid : t.creds().ruid;
  uint32_t gid = (flags & AT_EACCESS) ? t.creds().egid : t.creds().rgid;
  if (uid == 0) {
    if ((mode & X_OK) && !S_ISDIR(st->st_mode) && !(st->st_mode & 0111)) return Err(EACCES);
    return ok();
  }
  uint32_t bits = st->st_mode & 07;
  if (st->st_uid == uid) bits = (st->st_mode >> 6) & 07;
  else if (st->st_gid == gid || std::find(t.creds().groups.begin(), t.creds().groups.end(), st->st_gid) != t.creds().groups.end())
    bits = (st->st_mode >> 3) & 07;
  if ((static_cast<uint32_t>(mode) & bits) != static_cast<uint32_t>(mode)) return Err(EACCES);
  return ok();
}
Result<uint64_t> sys_access(Task& t, const SyscallArgs& a) { return do_faccessat(t, AT_FDCWD, a.u(0), a.i(1), 0); }
Result<uint64_t> sys_faccessat(Task& t, const SyscallArgs& a) { return do_faccessat(t, a.i(0), a.u(1), a.i(2), 0); }
Result<uint64_t> sys_faccessat2(Task& t, const SyscallArgs& a) {
  return do_faccessat(t, a.i(0), a.u(1), a.i(2), a.i(3));
}

Result<uint64_t> sys_ioctl(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  switch (a.u(1)) {
    case FIOCLEX: return t.fds().set_cloexec(a.i(0), true) ? ok() : Err(EBADF);
    case FIONCLEX: return t.fds().set_cloexec(a.i(0), false) ? ok() : Err(EBADF);
    case FIONBIO:
    case FIOASYNC: {
      // ioctl(2)'s generic forms of F_SETFL's O_NONBLOCK and O_ASYNC
      // (ioctl_fionbio(), ioctl_fioasync()): any file takes them.
      int on = 0;
      if (auto r = t.mm().copy_in(a.u(2), &on, sizeof(on)); !r) return Err(r.error());
      const int bit = a.u(1) == FIONBIO ? O_NONBLOCK : O_ASYNC;
      (*f)->set_status_flags(on ? ((*f)->flags() | bit) : ((*f)->flags() & ~bit));
      return ok();
    }
    default: break;
  }
  if (auto r = tty_ioctl(t, *f, a.u(1), a.u(2))) {
    if (!*r) return Err(r->error());
    return **r;
  }
  auto r = (*f)->ioctl(a.u(1), a.u(2), t);
  // The interface ioctls (netdevice(7)) work on a socket of any family.
  if (!r && r.error() == ENOTTY && dynamic_cast<netstack::Socket*>(f->get())) {
    if (auto answer = netstack::interface_ioctl(a.u(1), a.u(2), t)) r = *answer;
  }
  if (!r) return Err(r.error());
  return static_cast<uint64_t>(*r);
}

// Whether F_SETOWN's pid (or -pgid) names a live process (group).
bool owner_exists(Task& t, int who) {
  std::lock_guard lock(t.kernel().tree_mutex());
  if (who > 0) return t.kernel().find_process_locked(who) != nullptr || t.kernel().find_task_locked(who) != nullptr;
  for (const auto& [pid, g] : t.kernel().processes_locked()) {
    if (g->pgid == -who && !g->zombie) return true;
  }
  return false;
}

Result<uint64_t> sys_fcntl(Task& t, const SyscallArgs& a) {
  int fd = a.i(0);
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  switch (a.i(1)) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      int min_fd = a.i(2);
      if (min_fd < 0 || min_fd >= t.fds().limit()) return Err(EINVAL);
      auto r = t.fds().install(*f, a.i(1) == F_DUPFD_CLOEXEC, min_fd);
      if (!r) return Err(r.error());
      return static_cast<uint64_t>(*r);
    }
    case F_GETFD: {
      auto c = t.fds().cloexec(fd);
      if (!c) return Err(c.error());
      return *c ? FD_CLOEXEC : 0;
    }
    case F_SETFD:
      if (auto r = t.fds().set_cloexec(fd, (a.u(2) & FD_CLOEXEC) != 0); !r) return Err(r.error());
      return ok();
    case F_GETFL:
      return static_cast<uint64_t>((*f)->flags() | O_LARGEFILE);
    case F_SETFL:
      (*f)->set_status_flags(a.i(2));
      return ok();
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return fcntl_lock(t, fd, a.i(1), a.u(2));
    case F_SETOWN: {
      // f_setown(): a pid, or a process group as its negative; ESRCH for
      // one that does not exist.
      const int who = a.i(2);
      if (who != 0 && !owner_exists(t, who)) return Err(ESRCH);
      (*f)->set_owner(who);
      return ok();
    }
    case F_GETOWN:
      return static_cast<uint64_t>(static_cast<int64_t>((*f)->owner()));
    case F_SETOWN_EX: {
      f_owner_ex ex;
      if (auto r = t.mm().copy_in(a.u(2), &ex, sizeof(ex)); !r) return Err(r.error());
      int who;
      switch (ex.type) {
        case F_OWNER_TID: case F_OWNER_PID: who = ex.pid; break;
        case F_OWNER_PGRP: who = -ex.pid; break;
        default: return Err(EINVAL);
      }
      if (who != 0 && !owner_exists(t, who)) return Err(ESRCH);
      (*f)->set_owner(who);
      return ok();
    }
    case F_GETOWN_EX: {
      const int who = (*f)->owner();
      f_owner_ex ex{who < 0 ? F_OWNER_PGRP : F_OWNER_PID, who < 0 ? -who : who};
      if (auto r = t.mm().copy_out(a.u(2), &ex, sizeof(ex)); !r) return Err(r.error());
      return ok();
    }
    case F_SETSIG:
      if (a.u(2) > 64) return Err(EINVAL);
      (*f)->set_async_signal(a.i(2));
      return ok();
    case F_GETSIG:
      return static_cast<uint64_t>((*f)->async_signal());
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ: {
      auto* host = dynamic_cast<vfs::HostFileDescription*>(f->get());
      if (!host) return Err(EBADF);
      auto r = host->pipe_size(a.i(1) == F_GETPIPE_SZ ? -1 : a.i(2));
      if (!r) return Err(r.error());
      return static_cast<uint64_t>(*r);
    }
    default:
      return Err(EINVAL);
  }
}

Result<uint64_t> sys_dup(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  auto r = t.fds().install(*f, false);
  if (!r) return Err(r.error());
  return static_cast<uint64_t>(*r);
}

Result<uint64_t> do_dup3(Task& t, int oldfd, int newfd, int flags) {
  if (flags & ~O_CLOEXEC) return Err(EINVAL);
  auto f = get_file(t, oldfd);
  if (!f) return Err(f.error());
  if (oldfd == newfd) return Err(EINVAL);
  if (newfd < 0 || newfd >= t.fds().limit()) return Err(EBADF);
  if (auto r = t.fds().install_at(newfd, *f, (flags & O_CLOEXEC) != 0); !r) return Err(r.error());
  return static_cast<uint64_t>(newfd);
}

Result<uint64_t> sys_dup2(Task& t, const SyscallArgs& a) {
  // dup2 with equal FDs just checks oldfd (dup2(2)).
  if (a.i(0) == a.i(1)) return t.fds().get(a.i(0)) ? ok(static_cast<uint64_t>(a.i(1))) : Err(EBADF);
  return do_dup3(t, a.i(0), a.i(1), 0);
}
Result<uint64_t> sys_dup3(Task& t, const SyscallArgs& a) { return do_dup3(t, a.i(0), a.i(1), a.i(2)); }

}  // namespace

void register_file(kernel::SyscallTable& tb) {
  // O_ASYNC files signal their owner (fcntl(2) F_SETOWN): a process, or
  // each process of a group; si_code/si_band say why (POLL_IN...).
  vfs::set_async_signal_sender([](int owner, int signo, int band) {
    Task* caller = kernel::current_task();
    if (!caller) return;
    kernel::Kernel& kernel = caller->kernel();
    std::vector<std::shared_ptr<kernel::ThreadGroup>> targets;
    {
      std::lock_guard lock(kernel.tree_mutex());
      if (owner > 0) {
        if (auto g = kernel.find_process_locked(owner)) targets.push_back(g);
      } else {
        for (const auto& [pid, g] : kernel.processes_locked()) {
          if (g->pgid == -owner && !g->zombie) targets.push_back(g);
        }
      }
    }
    siginfo_t info{};
    info.si_signo = signo;
    info.si_code = signo == SIGIO ? SI_KERNEL : band;
    info.si_band = band == POLL_IN ? (POLLIN | POLLRDNORM) : (POLLOUT | POLLWRNORM);
    for (const auto& g : targets) kernel::send_group_signal(kernel, *g, info);
  });
  using A = Arg;
  tb.set(SYS_read, "read", sys_read, {A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_write, "write", sys_write, {A::kFd, A::kBuf, A::kInt});
  tb.set(SYS_pread64, "pread64", sys_pread64, {A::kFd, A::kPtr, A::kInt, A::kInt});
  tb.set(SYS_pwrite64, "pwrite64", sys_pwrite64, {A::kFd, A::kBuf, A::kInt, A::kInt});
  tb.set(SYS_readv, "readv", sys_readv, {A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_writev, "writev", sys_writev, {A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_preadv, "preadv", sys_preadv, {A::kFd, A::kPtr, A::kInt, A::kInt});
  tb.set(SYS_pwritev, "pwritev", sys_pwritev, {A::kFd, A::kPtr, A::kInt, A::kInt});
  tb.set(SYS_open, "open", sys_open, {A::kPath, A::kHex, A::kOct});
  tb.set(SYS_openat, "openat", sys_openat, {A::kFd, A::kPath, A::kHex, A::kOct});
  tb.set(SYS_creat, "creat", sys_creat, {A::kPath, A::kOct});
  tb.set(SYS_openat2, "openat2", sys_openat2, {A::kFd, A::kPath, A::kPtr, A::kInt});
  tb.set(SYS_name_to_handle_at, "name_to_handle_at", sys_name_to_handle_at,
         {A::kFd, A::kPath, A::kPtr, A::kPtr, A::kHex});
  tb.set(SYS_open_by_handle_at, "open_by_handle_at", sys_open_by_handle_at, {A::kFd, A::kPtr, A::kHex});
  tb.set(SYS_close, "close", sys_close, {A::kFd});
  tb.set(SYS_close_range, "close_range", sys_close_range, {A::kInt, A::kInt, A::kHex});
  tb.set(SYS_fstat, "fstat", sys_fstat, {A::kFd, A::kPtr});
  tb.set(SYS_stat, "stat", sys_stat, {A::kPath, A::kPtr});
  tb.set(SYS_lstat, "lstat", sys_lstat, {A::kPath, A::kPtr});
  tb.set(SYS_newfstatat, "newfstatat", sys_newfstatat, {A::kFd, A::kPath, A::kPtr, A::kHex});
  tb.set(SYS_statx, "statx", sys_statx, {A::kFd, A::kPath, A::kHex, A::kHex, A::kPtr});
  tb.set(SYS_lseek, "lseek", sys_lseek, {A::kFd, A::kInt, A::kInt});
  tb.set(SYS_getdents64, "getdents64", sys_getdents64, {A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_readlink, "readlink", sys_readlink, {A::kPath, A::kPtr, A::kInt});
  tb.set(SYS_readlinkat, "readlinkat", sys_readlinkat, {A::kFd, A::kPath, A::kPtr, A::kInt});
  tb.set(SYS_getcwd, "getcwd", sys_getcwd, {A::kPtr, A::kInt});
  tb.set(SYS_chdir, "chdir", sys_chdir, {A::kPath});
  tb.set(SYS_fchdir, "fchdir", sys_fchdir, {A::kFd});
  tb.set(SYS_access, "access", sys_access, {A::kPath, A::kOct});
  tb.set(SYS_faccessat, "faccessat", sys_faccessat, {A::kFd, A::kPath, A::kOct});
  tb.set(SYS_faccessat2, "faccessat2", sys_faccessat2, {A::kFd, A::kPath, A::kOct, A::kHex});
  tb.set(SYS_ioctl, "ioctl", sys_ioctl, {A::kFd, A::kHex, A::kHex});
  tb.set(SYS_fcntl, "fcntl", sys_fcntl, {A::kFd, A::kInt, A::kHex});
  tb.set(SYS_dup, "dup", sys_dup, {A::kFd});
  tb.set(SYS_dup2, "dup2", sys_dup2, {A::kFd, A::kFd});
  tb.set(SYS_dup3, "dup3", sys_dup3, {A::kFd, A::kFd, A::kHex});
}

}  // namespace runsc::syscalls
