// The VFS objects every filesystem implements: Inode (a file), Dentry (a
// name for it in the tree) and FileDescription (an open file, what an FD
// refers to, shared by dup and fork as Linux's struct file is).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

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

class Inode {
 public:
  virtual ~Inode() = default;
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
  // A read-only mount: writes get EROFS.
  virtual bool read_only() const { return false; }
};

class Dentry : public std::enable_shared_from_this<Dentry> {
 public:
  Dentry(std::string name, std::shared_ptr<Dentry> parent, std::shared_ptr<Inode> inode)
      : name_(std::move(name)), parent_(std::move(parent)), inode_(std::move(inode)) {}

  const std::string& name() const { return name_; }
  // Null for a filesystem's root.
  const std::shared_ptr<Dentry>& parent() const { return parent_; }
  Inode& inode() const { return *inode_; }
  bool is_dir() const { return S_ISDIR(inode_->file_type()); }
  bool is_symlink() const { return S_ISLNK(inode_->file_type()); }

  // The child called `name`, from the cache or looked up in the inode.
  // Children are cached for the dentry's life (no eviction yet).
  Result<std::shared_ptr<Dentry>> child(std::string_view name);

  // The absolute path of this dentry up to the root of its tree.
  std::string path() const;

 private:
  std::string name_;
  std::shared_ptr<Dentry> parent_;
  std::shared_ptr<Inode> inode_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Dentry>> children_;
};

class FileDescription {
 public:
  virtual ~FileDescription() = default;

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
  // poll(2): a host FD whose readiness is this file's (pipes, stdio), or
  // -1 when readiness() answers instead.
  virtual int host_poll_fd() const { return -1; }
  // The poll events that hold now for a file that never blocks (regular
  // files, directories, memory devices): always readable and writable.
  virtual short readiness(short events) const { return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM); }

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
};

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

// Path resolution (path_resolution(7)). `root` bounds ".." and absolute
// paths; `start` is where relative paths begin.
struct ResolveOptions {
  bool follow_final_symlink = true;
  bool must_be_dir = false;
};
Result<std::shared_ptr<Dentry>> resolve(const std::shared_ptr<Dentry>& root, const std::shared_ptr<Dentry>& start,
                                        std::string_view path, ResolveOptions options = {});

// Fills a linux_dirent64 record at `out`; returns its length or 0 if it does not fit.
size_t put_dirent64(std::span<uint8_t> out, uint64_t ino, int64_t next_offset, uint8_t type, std::string_view name);

}  // namespace runsc::vfs
