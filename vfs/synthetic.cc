#include "vfs/synthetic.h"

#include <dirent.h>

#include <cstring>

namespace runsc::vfs {
namespace {

struct stat base_stat(const SyntheticIds& ids, uint64_t ino, mode_t mode) {
  struct stat st {};
  st.st_dev = ids.dev;
  st.st_ino = ino;
  st.st_mode = mode;
  st.st_nlink = S_ISDIR(mode) ? 2 : 1;
  if (ids.owner) {
    Owner o = ids.owner();
    st.st_uid = o.uid;
    st.st_gid = o.gid;
  }
  st.st_blksize = 4096;
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  st.st_atim = st.st_mtim = st.st_ctim = now;
  return st;
}

// An open synthetic file: its contents as they were at open(2), like
// Linux's seq_file gives a consistent snapshot to one reader.
class SnapshotDescription final : public FileDescription {
 public:
  SnapshotDescription(std::shared_ptr<Inode> inode, std::string text, SyntheticFile::Writer write, int flags)
      : FileDescription(flags), inode_(std::move(inode)), text_(std::move(text)), write_(std::move(write)) {}

  Result<struct stat> stat() override { return inode_->stat(); }
  bool seekable() const override { return true; }
  Result<size_t> read(std::span<const iovec> dst, int64_t offset) override {
    std::lock_guard lock(mu_);
    uint64_t pos = offset >= 0 ? static_cast<uint64_t>(offset) : position_;
    size_t done = 0;
    for (const iovec& v : dst) {
      if (pos >= text_.size()) break;
      size_t n = std::min<size_t>(v.iov_len, text_.size() - pos);
      std::memcpy(v.iov_base, text_.data() + pos, n);
      pos += n;
      done += n;
    }
    if (offset < 0) position_ = pos;
    return done;
  }
  Result<size_t> write(std::span<const iovec> src, int64_t) override {
    if (!write_) return Err(EINVAL);
    std::string data;
    for (const iovec& v : src) data.append(static_cast<const char*>(v.iov_base), v.iov_len);
    if (auto r = write_(data); !r) return Err(r.error());
    return data.size();
  }
  Result<int64_t> seek(int64_t offset, int whence) override {
    std::lock_guard lock(mu_);
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? static_cast<int64_t>(position_)
                                        : whence == SEEK_END   ? static_cast<int64_t>(text_.size())
                                                               : -1;
    if (base < 0 || base + offset < 0) return Err(EINVAL);
    position_ = static_cast<uint64_t>(base + offset);
    return static_cast<int64_t>(position_);
  }
  Result<void> truncate(int64_t) override { return {}; }  // "echo 1 > /proc/..." opens with O_TRUNC

 private:
  std::shared_ptr<Inode> inode_;
  std::string text_;
  SyntheticFile::Writer write_;
  std::mutex mu_;
  uint64_t position_ = 0;
};

}  // namespace

uint64_t synthetic_ino(std::string_view path) {
  // FNV-1a: stable, and different paths rarely meet.
  uint64_t h = 1469598103934665603ULL;
  for (char c : path) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  return h | 1;
}

Result<struct stat> SyntheticFile::stat() { return base_stat(ids_, ino_, S_IFREG | mode_); }

Result<std::shared_ptr<FileDescription>> SyntheticFile::open(int flags) {
  if (flags & O_DIRECTORY) return Err(ENOTDIR);
  const bool writing = (flags & O_ACCMODE) != O_RDONLY;
  if (writing && !write_) return Err(EACCES);
  std::string text;
  if ((flags & O_ACCMODE) != O_WRONLY) {
    auto r = read_();
    if (!r) return Err(r.error());
    text = std::move(*r);
  }
  return std::shared_ptr<FileDescription>(
      std::make_shared<SnapshotDescription>(shared_from_this(), std::move(text), write_, flags));
}

Result<void> SyntheticFile::setattr(const SetAttr& attr) {
  // Truncation on open for writing is accepted (and meaningless); anything
  // else is refused as procfs refuses chmod.
  if (attr.size && !attr.mode && !attr.uid && !attr.gid && write_) return {};
  return Err(EPERM);
}

Result<struct stat> SyntheticSymlink::stat() {
  auto st = base_stat(ids_, ino_, S_IFLNK | 0777);
  auto target = target_();
  if (target) st.st_size = static_cast<off_t>(target->size());
  return st;
}

Result<std::shared_ptr<Dentry>> SyntheticSymlink::follow_magic() {
  if (!follow_) return std::shared_ptr<Dentry>{};
  return follow_();
}

Result<struct stat> SyntheticDir::stat() { return base_stat(ids_, ino_, S_IFDIR | mode_); }

Result<std::shared_ptr<FileDescription>> SyntheticDir::open(int flags) {
  if ((flags & O_ACCMODE) != O_RDONLY) return Err(EISDIR);
  return std::shared_ptr<FileDescription>(std::make_shared<DirectoryDescription>(shared_from_this(), flags));
}

std::shared_ptr<SyntheticDir> make_static_dir(SyntheticIds ids, uint64_t ino, std::vector<StaticEntry> entries) {
  auto shared = std::make_shared<std::vector<StaticEntry>>(std::move(entries));
  auto lookup = [shared](std::string_view name) -> Result<std::shared_ptr<Inode>> {
    for (const auto& e : *shared) {
      if (e.name == name) return e.inode;
    }
    return Err(ENOENT);
  };
  auto list = [shared]() -> Result<std::vector<DirEntry>> {
    std::vector<DirEntry> out;
    for (const auto& e : *shared) {
      auto st = e.inode->stat();
      out.push_back({st ? st->st_ino : 1, static_cast<uint8_t>(IFTODT(e.inode->file_type())), e.name});
    }
    return out;
  };
  return std::make_shared<SyntheticDir>(std::move(ids), ino, 0555, std::move(lookup), std::move(list));
}

}  // namespace runsc::vfs
