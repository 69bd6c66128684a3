#include "vfs/gofer_fs.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <mutex>

#include "gofer/client.h"
#include "vfs/devices.h"
#include "vfs/host_file.h"

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
  GoferInode(std::shared_ptr<gofer::Client> client, gofer::Handle handle, const gofer::FileStat& st)
      : client_(std::move(client)), handle_(handle), stat_(to_stat(st)) {}
  ~GoferInode() override {
    if (handle_ != gofer::kRootHandle) client_->release(handle_);
  }

  Result<struct stat> stat() override {
    auto st = client_->stat(handle_);
    if (!st) return Err(st.error());
    return to_stat(*st);
  }
  mode_t file_type() const override { return stat_.st_mode & S_IFMT; }
  // The gofer serves its tree read-only for now; writes land in the
  // overlay above it.
  bool read_only() const override { return true; }
  const void* filesystem() const override { return client_.get(); }
  // The gofer does not pass extended attributes on: none are visible.
  Result<std::string> getxattr(std::string_view) override { return Err(ENODATA); }

  Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
    if (!S_ISDIR(stat_.st_mode)) return Err(ENOTDIR);
    auto walked = client_->walk(handle_, name);
    if (!walked) return Err(walked.error());
    return std::shared_ptr<Inode>(std::make_shared<GoferInode>(client_, walked->handle, walked->stat));
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
    // Only regular files come over as host FDs; other devices, FIFOs and
    // sockets of the host are never opened on the application's behalf.
    if (!S_ISREG(stat_.st_mode)) return Err(EACCES);
    int host_flags = (flags & (O_ACCMODE | O_APPEND | O_TRUNC)) | O_CLOEXEC | O_NOFOLLOW;
    auto fd = client_->open(handle_, host_flags);
    if (!fd) return Err(fd.error());
    return std::shared_ptr<FileDescription>(std::make_shared<HostFileDescription>(std::move(*fd), flags));
  }

 private:
  std::shared_ptr<gofer::Client> client_;
  gofer::Handle handle_;
  struct stat stat_;
};

}  // namespace

Result<std::shared_ptr<Dentry>> make_gofer_root(std::shared_ptr<gofer::Client> client) {
  auto st = client->stat(gofer::kRootHandle);
  if (!st) return Err(st.error());
  auto inode = std::make_shared<GoferInode>(client, gofer::kRootHandle, *st);
  return std::make_shared<Dentry>("", nullptr, std::move(inode));
}

}  // namespace runsc::vfs
