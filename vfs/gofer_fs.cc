#include "common/host_fds.h"
#include "vfs/gofer_fs.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <mutex>

#include "gofer/client.h"
#include "gofer/protocol.h"
#include "vfs/devices.h"
#include "vfs/fifo.h"
#include "vfs/host_file.h"
#include "vfs/shared_file_pages.h"

namespace runsc::vfs {
namespace {

struct stat to_stat(const gofer::FileStat& f) {
  struct stat st {};
  st.st_dev = f.dev;
  st.st_ino = f.ino;
  st.st_nlink = f.nlink;
  st.st_mode = f.mode;
  st.st_uid = f.uid;
  st.st_gid = f.gid;
  st.st_rdev = f.rdev;
  st.st_size = f.size;
  st.st_blksize = f.blksize;
  st.st_blocks = f.blocks;
  st.st_atim = {static_cast<time_t>(f.atime_sec), static_cast<long>(f.atime_nsec)};
  st.st_mtim = {static_cast<time_t>(f.mtime_sec), static_cast<long>(f.mtime_nsec)};
  st.st_ctim = {static_cast<time_t>(f.ctime_sec), static_cast<long>(f.ctime_nsec)};
  return st;
}

class GoferInode final : public Inode, public std::enable_shared_from_this<GoferInode> {
 public:
  GoferInode(std::shared_ptr<gofer::Client> client, gofer::Handle handle, const gofer::FileStat& st, bool writable,
             std::shared_ptr<mm::MemoryFile> memfile)
      : client_(std::move(client)), handle_(handle), stat_(to_stat(st)), writable_(writable),
        memfile_(std::move(memfile)) {}
  ~GoferInode() override {
    if (handle_ != gofer::kRootHandle) client_->release(handle_);
  }

  Result<struct stat> stat() override {
    // A read-only tree is one nobody in the sandbox can change: the
    // attributes the walk brought stay valid, as gVisor's cached lower
    // layer assumes too (changes made on the host meanwhile are not seen).
    if (!writable_) return stat_;
    auto st = client_->stat(handle_);
    if (!st) return Err(st.error());
    return to_stat(*st);
  }
  mode_t file_type() const override { return stat_.st_mode & S_IFMT; }
  // A read-only gofer (the lower layer of the overlay, or a read-only
  // root) refuses every change with EROFS; a writable one makes them on
  // the host.
  bool read_only() const override { return !writable_; }
  const void* filesystem() const override { return client_.get(); }
  // The gofer does not pass extended attributes on: none are visible.
  Result<std::string> getxattr(std::string_view) override { return Err(ENODATA); }

  Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
    if (!S_ISDIR(stat_.st_mode)) return Err(ENOTDIR);
    auto walked = client_->walk(handle_, name);
    if (!walked) return Err(walked.error());
    return wrap(*walked);
  }

  Result<std::shared_ptr<Inode>> mknod(std::string_view name, mode_t mode, dev_t, const Owner& owner) override {
    if (!writable_) return Err(EROFS);
    if (S_ISCHR(mode) || S_ISBLK(mode)) return Err(EPERM);
    auto made = client_->mknod(handle_, name, mode, owner.uid, owner.gid);
    if (!made) return Err(made.error());
    return wrap(*made);
  }
  Result<std::shared_ptr<Inode>> mkdir(std::string_view name, mode_t mode, const Owner& owner) override {
    if (!writable_) return Err(EROFS);
    auto made = client_->mkdir(handle_, name, mode, owner.uid, owner.gid);
    if (!made) return Err(made.error());
    return wrap(*made);
  }
  Result<std::shared_ptr<Inode>> symlink(std::string_view name, std::string_view target, const Owner& owner) override {
    if (!writable_) return Err(EROFS);
    auto made = client_->symlink(handle_, name, target, owner.uid, owner.gid);
    if (!made) return Err(made.error());
    return wrap(*made);
  }
  Result<std::shared_ptr<Inode>> link(std::string_view name, const std::shared_ptr<Inode>& target) override {
    if (!writable_) return Err(EROFS);
    auto other = std::dynamic_pointer_cast<GoferInode>(target);
    if (!other || other->client_ != client_) return Err(EXDEV);
    auto made = client_->link(handle_, name, other->handle_);
    if (!made) return Err(made.error());
    // The new name gets the handle the gofer made for it: a handle reopens
    // its file by name, so the old name's would fail once that is unlinked.
    return wrap(*made);
  }
  Result<void> unlink(std::string_view name, bool is_dir) override {
    if (!writable_) return Err(EROFS);
    return client_->unlink(handle_, name, is_dir ? AT_REMOVEDIR : 0);
  }
  Result<void> rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) override {
    if (!writable_) return Err(EROFS);
    auto* other = dynamic_cast<GoferInode*>(&new_dir);
    if (!other || other->client_ != client_) return Err(EXDEV);
    return client_->rename(handle_, old_name, other->handle_, new_name, flags);
  }
  Result<void> setattr(const SetAttr& attr) override {
    if (!writable_) return Err(EROFS);
    gofer::SetattrRequest q;
    q.handle = handle_;
    if (attr.mode) q.mask |= gofer::kSetMode, q.mode = *attr.mode;
    if (attr.uid) q.mask |= gofer::kSetUid, q.uid = *attr.uid;
    if (attr.gid) q.mask |= gofer::kSetGid, q.gid = *attr.gid;
    if (attr.size) q.mask |= gofer::kSetSize, q.size = *attr.size;
    if (attr.atime) q.mask |= gofer::kSetAtime, q.atime_sec = attr.atime->tv_sec, q.atime_nsec = attr.atime->tv_nsec;
    if (attr.mtime) q.mask |= gofer::kSetMtime, q.mtime_sec = attr.mtime->tv_sec, q.mtime_nsec = attr.mtime->tv_nsec;
    auto st = client_->setattr(q);
    if (!st) return Err(st.error());
    if (attr.size) {
      std::shared_ptr<SharedFilePages> pages;
      {
        std::lock_guard lock(pages_mu_);
        pages = pages_;
      }
      if (pages) pages->truncated(static_cast<uint64_t>(*attr.size));
    }
    return {};
  }

  Result<std::string> readlink() override {
    if (!S_ISLNK(stat_.st_mode)) return Err(EINVAL);
    return client_->readlink(handle_);
  }

  Result<std::vector<DirEntry>> list() override {
    if (!S_ISDIR(stat_.st_mode)) return Err(ENOTDIR);
    auto entries = client_->getdents(handle_);
    if (!entries) return Err(entries.error());
    std::vector<DirEntry> out;
    out.reserve(entries->size());
    for (auto& e : *entries) out.push_back({e.ino, e.type, std::move(e.name)});
    return out;
  }

  Result<std::shared_ptr<FileDescription>> open(int flags) override {
    if (S_ISDIR(stat_.st_mode)) {
      if ((flags & O_ACCMODE) != O_RDONLY) return Err(EISDIR);
      return std::shared_ptr<FileDescription>(std::make_shared<DirectoryDescription>(shared_from_this(), flags));
    }
    if (flags & O_DIRECTORY) return Err(ENOTDIR);
    if (S_ISLNK(stat_.st_mode)) return Err(ELOOP);
    // The Sentry's own memory devices stand in for device nodes of the root.
    if (S_ISCHR(stat_.st_mode)) return open_char_device(stat_.st_rdev, flags);
    // A FIFO of the tree is a pipe inside the sandbox, shared by whoever
    // opens this node here (never the host's FIFO).
    if (S_ISFIFO(stat_.st_mode)) {
      std::call_once(fifo_once_, [this] { fifo_ = std::make_shared<Fifo>(); });
      return fifo_->open(flags, shared_from_this());
    }
    // Only regular files come over as host FDs; other devices, FIFOs and
    // sockets of the host are never opened on the application's behalf.
    if (!S_ISREG(stat_.st_mode)) return Err(EACCES);
    int host_flags = (flags & (O_ACCMODE | O_APPEND | O_TRUNC)) | O_CLOEXEC | O_NOFOLLOW;
    auto fd = client_->open(handle_, host_flags);
    if (!fd) return Err(fd.error());
    // Past the application's share of the Sentry's FDs the file is given
    // back at once: the reserve above keeps room for the gofer's replies.
    if (auto r = check_application_fd(*fd); !r) return Err(r.error());
    auto file = std::make_shared<HostFileDescription>(std::move(*fd), flags);
    // A file the sandbox can change: its shared mappings share pages that
    // read and write keep coherent (vfs/shared_file_pages.h).
    if (writable_ && memfile_) {
      std::lock_guard lock(pages_mu_);
      if (!pages_) pages_ = std::make_shared<SharedFilePages>(memfile_);
      file->set_shared_pages(pages_);
    }
    return std::shared_ptr<FileDescription>(std::move(file));
  }

 private:
  std::shared_ptr<Inode> wrap(const gofer::WalkResult& walked) {
    return std::make_shared<GoferInode>(client_, walked.handle, walked.stat, writable_, memfile_);
  }


  std::shared_ptr<gofer::Client> client_;
  gofer::Handle handle_;
  struct stat stat_;
  bool writable_;
  std::once_flag fifo_once_;
  std::shared_ptr<Fifo> fifo_;
  std::shared_ptr<mm::MemoryFile> memfile_;  // null: shared mappings get a copy
  std::mutex pages_mu_;
  std::shared_ptr<SharedFilePages> pages_;  // made at the first open
};

}  // namespace

Result<std::shared_ptr<Dentry>> make_gofer_root(std::shared_ptr<gofer::Client> client, bool writable,
                                                 std::shared_ptr<mm::MemoryFile> memfile) {
  auto st = client->stat(gofer::kRootHandle);
  if (!st) return Err(st.error());
  auto inode = std::make_shared<GoferInode>(client, gofer::kRootHandle, *st, writable, std::move(memfile));
  return std::make_shared<Dentry>("", nullptr, std::move(inode));
}

}  // namespace runsc::vfs
