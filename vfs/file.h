// The VFS objects every filesystem implements: Inode (a file), Dentry (a
// name for it in the tree) and FileDescription (an open file, what an FD
// refers to, shared by dup and fork as Linux's struct file is).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "vfs/lock.h"

namespace runsc::mm {
class Mappable;
}

namespace runsc::vfs {

class FileDescription;
class Dentry;

struct DirEntry {
  uint64_t ino;
  uint8_t type;  // DT_*
  std::string name;
};

// Access to the calling task's memory for ioctls whose argument is a pointer.
class UserMemory {
 public:
  virtual ~UserMemory() = default;
  virtual Result<void> copy_out(uint64_t addr, const void* src, size_t length) = 0;
  virtual Result<void> copy_in(uint64_t addr, void* dst, size_t length) = 0;
};

// Who creates a file: its owner and group (the caller's fsuid and fsgid,
// or the directory's group under a set-group-ID directory).
struct Owner {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// An attribute change (setattr): each field set is applied; ctime is
// updated whenever anything changes, as notify_change() does.
struct SetAttr {
  std::optional<mode_t> mode;  // permission bits only (07777)
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<int64_t> size;
  std::optional<timespec> atime;
  std::optional<timespec> mtime;
};

class InodeWatches;

class Inode {
 public:
  Inode();
  virtual ~Inode();
  // The inotify watches on this file, made on first use.
  InodeWatches& watches();
  InodeWatches* existing_watches() const { return watches_ready_.load() ? watches_.get() : nullptr; }
  // The advisory locks on this file (flock(2), fcntl(2) record locks),
  // made on first use; existing_locks() is null until then.
  FileLocks& locks();
  FileLocks* existing_locks() const { return locks_ready_.load() ? locks_.get() : nullptr; }
  virtual Result<struct stat> stat() = 0;
  // The S_IFMT bits, fixed for the inode's life.
  virtual mode_t file_type() const = 0;
  virtual Result<std::shared_ptr<Inode>> lookup(std::string_view name) {
    (void)name;
    return Err(ENOTDIR);
  }
  virtual Result<std::string> readlink() { return Err(EINVAL); }
  virtual Result<std::vector<DirEntry>> list() { return Err(ENOTDIR); }
  virtual Result<std::shared_ptr<FileDescription>> open(int flags) = 0;
  // open() by a caller whose fsuid and fsgid the file needs (a new pty's
  // slave belongs to whoever opened /dev/ptmx).
  virtual Result<std::shared_ptr<FileDescription>> open_as(int flags, const Owner& opener) {
    (void)opener;
    return open(flags);
  }
  // A filesystem that cannot be written (the gofer's tree without an
  // overlay): modifying calls get EROFS.
  virtual bool read_only() const { return false; }

  // Directory operations. The VFS has checked permissions, that `name` is
  // one component other than "." and "..", and, for the creating calls,
  // that nothing is cached under that name; the filesystem still refuses
  // an existing name with EEXIST and a missing one with ENOENT.
  // `mode` holds the file type (S_IFREG, S_IFIFO, S_IFCHR...) and the
  // permission bits after the umask.
  virtual Result<std::shared_ptr<Inode>> mknod(std::string_view name, mode_t mode, dev_t rdev, const Owner& owner) {
    (void)name, (void)mode, (void)rdev, (void)owner;
    return Err(read_only() ? EROFS : EPERM);
  }
  virtual Result<std::shared_ptr<Inode>> mkdir(std::string_view name, mode_t mode, const Owner& owner) {
    (void)name, (void)mode, (void)owner;
    return Err(read_only() ? EROFS : EPERM);
  }
  virtual Result<std::shared_ptr<Inode>> symlink(std::string_view name, std::string_view target, const Owner& owner) {
    (void)name, (void)target, (void)owner;
    return Err(read_only() ? EROFS : EPERM);
  }
  // O_TMPFILE: an unnamed regular file in this directory's filesystem,
  // which linkat(2) may give a name later unless `linkable` is false
  // (O_EXCL).
  virtual Result<std::shared_ptr<Inode>> make_tmpfile(mode_t mode, const Owner& owner, bool linkable) {
    (void)mode, (void)owner, (void)linkable;
    return Err(read_only() ? EROFS : EOPNOTSUPP);
  }
  // A new name for `target`, which the VFS checked is on this filesystem;
  // returns the inode the new name leads to (`target` itself, or one of
  // the filesystem's own for the same file, as a gofer handle of its own).
  virtual Result<std::shared_ptr<Inode>> link(std::string_view name, const std::shared_ptr<Inode>& target) {
    (void)name, (void)target;
    return Err(read_only() ? EROFS : EPERM);
  }
  // Removes a non-directory (unlink) or an empty directory (rmdir,
  // ENOTEMPTY otherwise).
  virtual Result<void> unlink(std::string_view name, bool is_dir) {
    (void)name, (void)is_dir;
    return Err(read_only() ? EROFS : EPERM);
  }
  // Moves `old_name` here to `new_name` in `new_dir` (same filesystem),
  // replacing what is there; the VFS checked the type rules and that a
  // directory is not moved under itself; the filesystem checks that a
  // replaced directory is empty. `flags` are renameat2's.
  virtual Result<void> rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) {
    (void)old_name, (void)new_dir, (void)new_name, (void)flags;
    return Err(read_only() ? EROFS : EPERM);
  }
  virtual Result<void> setattr(const SetAttr& attr) {
    (void)attr;
    return Err(read_only() ? EROFS : EPERM);
  }
  // Extended attributes (xattr(7)), full names ("user.x"). The VFS has
  // checked the name's namespace and the caller's permission.
  virtual Result<std::string> getxattr(std::string_view name) {
    (void)name;
    return Err(EOPNOTSUPP);
  }
  // `flags`: XATTR_CREATE or XATTR_REPLACE or 0.
  virtual Result<void> setxattr(std::string_view name, std::string_view value, int flags) {
    (void)name, (void)value, (void)flags;
    return Err(read_only() ? EROFS : EOPNOTSUPP);
  }
  virtual Result<std::vector<std::string>> listxattr() { return std::vector<std::string>{}; }
  virtual Result<void> removexattr(std::string_view name) {
    (void)name;
    return Err(read_only() ? EROFS : EOPNOTSUPP);
  }
  // Whether dentries for this inode may stay in the dentry cache; made-up
  // files (procfs) say no, so that every walk sees the current state.
  virtual bool cacheable() const { return true; }
  // A "magic" symlink (/proc/pid/fd/N, /proc/pid/cwd) leads to a dentry
  // directly instead of through its target's text; null for ordinary links.
  virtual Result<std::shared_ptr<Dentry>> follow_magic() { return std::shared_ptr<Dentry>{}; }
  // Which filesystem the inode belongs to: link and rename across two
  // give EXDEV.
  virtual const void* filesystem() const { return this; }
  // statfs(2) for the filesystem.
  virtual Result<struct statfs> statfs();

 private:
  std::once_flag locks_once_;
  std::atomic<bool> locks_ready_{false};
  std::unique_ptr<FileLocks> locks_;
  std::once_flag watches_once_;
  std::atomic<bool> watches_ready_{false};
  std::unique_ptr<InodeWatches> watches_;
};

struct Mount;

class Dentry : public std::enable_shared_from_this<Dentry> {
 public:
  Dentry(std::string name, std::shared_ptr<Dentry> parent, std::shared_ptr<Inode> inode);

  std::string name() const;
  // Null for a filesystem's root.
  std::shared_ptr<Dentry> parent() const;
  Inode& inode() const { return *inode_; }
  const std::shared_ptr<Inode>& inode_ptr() const { return inode_; }
  bool is_dir() const { return S_ISDIR(inode_->file_type()); }
  bool is_symlink() const { return S_ISLNK(inode_->file_type()); }

  // The child called `name`, from the cache or looked up in the inode.
  // Children are cached for the dentry's life (no eviction yet).
  Result<std::shared_ptr<Dentry>> child(std::string_view name);
  // Caches a child the caller just created in the inode.
  std::shared_ptr<Dentry> add_child(std::string_view name, std::shared_ptr<Inode> inode);
  // Forgets a child the caller just removed from the inode; open files
  // keep it, marked deleted.
  void remove_child(std::string_view name);
  // Moves the cached child `old_name` to `new_name` under `new_parent`
  // after the inode renamed it; what was cached there is marked deleted.
  static void move_child(Dentry& old_parent, std::string_view old_name, Dentry& new_parent, std::string_view new_name,
                         bool exchange);
  bool deleted() const { return deleted_; }
  // Forgets every cached child, and theirs: parents and children hold each
  // other, so an unmounted tree is freed only once its cache is dropped
  // (what open files hold stays).
  void drop_cache();

  // The mount this dentry's filesystem is mounted at (set on a mounted
  // root; children inherit it), and the mount covering this dentry, if a
  // filesystem is mounted on it.
  Mount* mount() const { return mount_; }
  void set_mount(Mount* m) { mount_ = m; }
  std::shared_ptr<Mount> covering_mount() const;
  void set_covering_mount(std::shared_ptr<Mount> m);

  // The absolute path of this dentry up to the root of the whole tree,
  // crossing mount points.
  std::string path() const;
  // Whether `ancestor` is this dentry or one of its parents, crossing
  // mount points.
  bool is_descendant_of(const Dentry& ancestor) const;

 private:
  // Guards name_, parent_ and deleted_ of every dentry: renames are rare
  // and touch two parents, so one lock keeps them consistent.
  static std::mutex& tree_mutex();
  std::string name_;
  std::shared_ptr<Dentry> parent_;
  std::shared_ptr<Inode> inode_;
  Mount* mount_ = nullptr;
  bool deleted_ = false;
  std::mutex mu_;  // children_ and covering_
  std::unordered_map<std::string, std::shared_ptr<Dentry>> children_;
  std::shared_ptr<Mount> covering_;
};

// One mounted filesystem (mount(2)). Mounts live as long as the sandbox.
struct Mount {
  int id = 0;
  int parent_id = 0;
  std::shared_ptr<Dentry> root;         // the mounted filesystem's root
  std::shared_ptr<Dentry> mountpoint;   // where it is mounted; null for "/"
  std::string source;                   // "none", "tmpfs", "/dev/sda1"...
  std::string fstype;                   // "tmpfs", "proc", "overlay"...
  std::string options;                  // beyond ro/rw: "mode=755", ...
  bool read_only = false;
  unsigned flags = 0;                   // MS_NOSUID, MS_NODEV, MS_NOEXEC
};

// Mounts `fs_root` on `mountpoint` (a directory) and returns the mount.
// The root mount has a null mountpoint.
std::shared_ptr<Mount> mount(std::shared_ptr<Dentry> fs_root, std::shared_ptr<Dentry> mountpoint, std::string source,
                             std::string fstype, std::string options, bool read_only, unsigned flags = 0);
// Unmounts the filesystem whose root is `root` (a mounted root, e.g. a
// container's) and every mount below it; what they held goes once unused.
void unmount_tree(const std::shared_ptr<Dentry>& root);
// Every mount in the order they were made (for /proc/self/mounts).
std::vector<std::shared_ptr<Mount>> all_mounts();

// Whether the dentry's mount or its filesystem refuses writes (EROFS).
bool on_read_only_mount(const Dentry& d);

class FileDescription {
 public:
  // Drops the flock(2) and OFD locks this description holds.
  virtual ~FileDescription();

  // `offset` < 0 means the description's own position (read(2)/write(2));
  // otherwise pread(2)/pwrite(2) semantics.
  virtual Result<size_t> read(std::span<const iovec> dst, int64_t offset) {
    (void)dst, (void)offset;
    return Err(EINVAL);
  }
  virtual Result<size_t> write(std::span<const iovec> src, int64_t offset) {
    (void)src, (void)offset;
    return Err(EINVAL);
  }
  virtual Result<int64_t> seek(int64_t offset, int whence) {
    (void)offset, (void)whence;
    return Err(ESPIPE);
  }
  virtual Result<struct stat> stat() = 0;
  // Fills `out` with linux_dirent64 records; 0 at the end of the directory.
  virtual Result<size_t> getdents64(std::span<uint8_t> out) {
    (void)out;
    return Err(ENOTDIR);
  }
  virtual Result<int64_t> ioctl(uint64_t cmd, uint64_t arg, UserMemory& mem) {
    (void)cmd, (void)arg, (void)mem;
    return Err(ENOTTY);
  }
  // For mmap: null means the file cannot be mapped (ENODEV).
  virtual std::shared_ptr<mm::Mappable> mappable() { return nullptr; }
  virtual bool seekable() const { return false; }
  // A terminal's device number (for job control: Kernel::terminal_locked),
  // or 0 for anything that is not a terminal.
  virtual uint64_t terminal_device() const { return 0; }
  // A new description of the same terminal (/dev/tty, /dev/console open
  // the caller's or the sandbox's): ENXIO for anything else.
  virtual Result<std::shared_ptr<FileDescription>> reopen_terminal(int flags) {
    (void)flags;
    return Err(ENXIO);
  }
  // poll(2): a host FD whose readiness is this file's (pipes, stdio), or
  // -1 when readiness() answers instead.
  virtual int host_poll_fd() const { return -1; }
  // A file whose readiness the Sentry decides (signalfd): it has no host
  // FD, yet epoll may watch it, and a change wakes the waiting task.
  virtual bool sentry_pollable() const { return false; }
  // For a Sentry-pollable file whose readiness changes through other
  // tasks (a pty): an eventfd to write whenever it may have changed, so a
  // task waiting in poll or epoll looks again. Others ignore them.
  virtual void add_poll_waiter(int fd) { (void)fd; }
  virtual void remove_poll_waiter(int fd) { (void)fd; }
  // For a Sentry-pollable file: how many times its state has changed, so
  // epoll can report an edge-triggered (EPOLLET) event once per change.
  virtual uint64_t poll_changes() const { return 0; }
  // The poll events that hold now for a file that never blocks (regular
  // files, directories, memory devices): always readable and writable.
  virtual short readiness(short events) const { return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM); }

  // ftruncate(2): EINVAL unless the file is regular and open for writing
  // (the syscall checks the mode).
  virtual Result<void> truncate(int64_t size) {
    (void)size;
    return Err(EINVAL);
  }
  // fallocate(2) on the description's file; ENODEV for anything that is
  // not a regular file, ESPIPE for pipes.
  virtual Result<void> allocate(int mode, int64_t offset, int64_t length) {
    (void)mode, (void)offset, (void)length;
    return Err(ENODEV);
  }
  // fsync(2)/fdatasync(2): EINVAL for files that cannot be synchronised.
  virtual Result<void> sync() { return Err(EINVAL); }

  // fcntl(2) F_SETOWN/F_SETSIG: who gets the signal (SIGIO unless set)
  // when an O_ASYNC file becomes ready: a pid, or -pgid; 0 for nobody.
  int owner() const { return owner_.load(); }
  void set_owner(int owner) { owner_.store(owner); }
  int async_signal() const { return async_signal_.load(); }
  void set_async_signal(int signo) { async_signal_.store(signo); }
  // Sends the O_ASYNC signal to the owner, if both are set (kill_fasync()):
  // for Sentry files whose readiness changes (sockets).
  void notify_async(int band) const;

  // O_ACCMODE plus status flags (O_APPEND, O_NONBLOCK, ...), as F_GETFL shows them.
  int flags() const { return flags_; }
  void set_status_flags(int flags);
  const std::shared_ptr<Dentry>& dentry() const { return dentry_; }
  void set_dentry(std::shared_ptr<Dentry> d) { dentry_ = std::move(d); }
  bool readable() const { return (flags_ & O_ACCMODE) != O_WRONLY; }
  bool writable() const { return (flags_ & O_ACCMODE) != O_RDONLY; }

 protected:
  explicit FileDescription(int flags) : flags_(flags) {}
  int flags_;
  std::shared_ptr<Dentry> dentry_;
  std::atomic<int> owner_{0};
  std::atomic<int> async_signal_{0};
};

// How an O_ASYNC signal reaches the sandbox's processes: set by the
// kernel, which knows them (owner: pid, or -pgid; band: POLL_IN...).
void set_async_signal_sender(void (*send)(int owner, int signo, int band));

// What open(O_PATH) returns: names a file without opening it (open(2)).
// Only operations on the descriptor itself work; I/O gives EBADF.
class PathDescription final : public FileDescription {
 public:
  explicit PathDescription(std::shared_ptr<Dentry> dentry) : FileDescription(O_PATH) { dentry_ = std::move(dentry); }
  Result<struct stat> stat() override { return dentry_->inode().stat(); }
  Result<size_t> read(std::span<const iovec>, int64_t) override { return Err(EBADF); }
  Result<size_t> write(std::span<const iovec>, int64_t) override { return Err(EBADF); }
  Result<int64_t> seek(int64_t, int) override { return Err(EBADF); }
  Result<size_t> getdents64(std::span<uint8_t>) override { return Err(EBADF); }
};

// A directory opened for reading: getdents64 lists the inode's entries,
// snapshotted at the first read and after a rewind, with "." and ".."
// first as Linux filesystems list them.
class DirectoryDescription final : public FileDescription {
 public:
  DirectoryDescription(std::shared_ptr<Inode> inode, int flags) : FileDescription(flags), inode_(std::move(inode)) {}
  Result<struct stat> stat() override { return inode_->stat(); }
  Result<size_t> read(std::span<const iovec>, int64_t) override { return Err(EISDIR); }
  bool seekable() const override { return true; }
  Result<int64_t> seek(int64_t offset, int whence) override;
  Result<size_t> getdents64(std::span<uint8_t> out) override;
  Result<void> sync() override { return {}; }

 private:
  std::shared_ptr<Inode> inode_;
  std::mutex mu_;
  std::optional<std::vector<DirEntry>> entries_;
  size_t position_ = 0;
};

// Path resolution (path_resolution(7)). `root` bounds ".." and absolute
// paths; `start` is where relative paths begin.
struct Caller;
struct ResolveOptions {
  bool follow_final_symlink = true;
  bool must_be_dir = false;
  // Checks search permission on each directory walked (EACCES) when set.
  const Caller* caller = nullptr;
  // openat2(2)'s RESOLVE_* flags, which confine the walk: BENEATH (EXDEV
  // for anything leading outside `start`), IN_ROOT (`start` acts as the
  // root), NO_SYMLINKS and NO_MAGICLINKS (ELOOP), NO_XDEV (EXDEV when
  // crossing a mount).
  uint64_t restrict_flags = 0;
};
Result<std::shared_ptr<Dentry>> resolve(const std::shared_ptr<Dentry>& root, const std::shared_ptr<Dentry>& start,
                                        std::string_view path, ResolveOptions options = {});

// Drops the first `n` bytes from `v` (what a partial writev(2) consumed).
void drop_front(std::vector<iovec>& v, size_t n);

// Fills a linux_dirent64 record at `out`; returns its length or 0 if it does not fit.
size_t put_dirent64(std::span<uint8_t> out, uint64_t ino, int64_t next_offset, uint8_t type, std::string_view name);

}  // namespace runsc::vfs
