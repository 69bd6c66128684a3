#include "vfs/tmpfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstring>

#include "sentry/mm/mm.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/vma.h"
#include "vfs/devices.h"

namespace runsc::vfs {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kTmpfsMagic = 0x01021994;
// The largest file Linux allows on a 64-bit tmpfs (MAX_LFS_FILESIZE).
constexpr uint64_t kMaxFileSize = 0x7fffffffffffffffULL;

timespec now() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

uint8_t dirent_type(mode_t type) { return static_cast<uint8_t>(IFTODT(type)); }

// Anonymous device numbers (major 0), as Linux gives in-memory filesystems.
dev_t next_anonymous_dev() {
  static std::atomic<unsigned> minor{40};
  return makedev(0, minor++);
}

size_t total_length(std::span<const iovec> v) {
  size_t n = 0;
  for (const auto& e : v) n += e.iov_len;
  return n;
}

// An open regular tmpfs file.
class TmpfsFileDescription final : public FileDescription {
 public:
  TmpfsFileDescription(std::shared_ptr<TmpfsInode> inode, int flags) : FileDescription(flags), inode_(std::move(inode)) {}

  Result<struct stat> stat() override { return inode_->stat(); }
  bool seekable() const override { return true; }

  Result<size_t> read(std::span<const iovec> dst, int64_t offset) override {
    if (offset >= 0) return inode_->read_data(dst, static_cast<uint64_t>(offset));
    std::lock_guard lock(pos_mu_);
    auto n = inode_->read_data(dst, position_);
    if (n) position_ += *n;
    return n;
  }

  Result<size_t> write(std::span<const iovec> src, int64_t offset) override {
    const bool append = (flags_ & O_APPEND) != 0;
    if (offset >= 0) {
      // pwrite(2) on Linux appends anyway when the file has O_APPEND.
      auto r = inode_->write_data(src, static_cast<uint64_t>(offset), append);
      if (!r) return Err(r.error());
      return r->first;
    }
    std::lock_guard lock(pos_mu_);
    auto r = inode_->write_data(src, position_, append);
    if (!r) return Err(r.error());
    position_ = r->second;
    return r->first;
  }

  Result<int64_t> seek(int64_t offset, int whence) override {
    std::lock_guard lock(pos_mu_);
    const int64_t size = static_cast<int64_t>(inode_->size());
    int64_t base = 0;
    switch (whence) {
      case SEEK_SET: base = 0; break;
      case SEEK_CUR: base = static_cast<int64_t>(position_); break;
      case SEEK_END: base = size; break;
      case SEEK_DATA:
      case SEEK_HOLE:
        // No hole tracking beyond EOF: data runs to the end of the file
        // (lseek(2) allows treating the whole file as data).
        if (offset < 0 || offset >= size) return Err(ENXIO);
        position_ = static_cast<uint64_t>(whence == SEEK_DATA ? offset : size);
        return static_cast<int64_t>(position_);
      default: return Err(EINVAL);
    }
    int64_t next;
    if (__builtin_add_overflow(base, offset, &next) || next < 0) return Err(EINVAL);
    position_ = static_cast<uint64_t>(next);
    return next;
  }

  Result<void> truncate(int64_t size) override { return inode_->truncate(static_cast<uint64_t>(size)); }
  Result<void> allocate(int mode, int64_t offset, int64_t length) override {
    return inode_->allocate(mode, static_cast<uint64_t>(offset), static_cast<uint64_t>(length));
  }
  Result<void> sync() override { return {}; }
  std::shared_ptr<mm::Mappable> mappable() override;

 private:
  std::shared_ptr<TmpfsInode> inode_;
  std::mutex pos_mu_;
  uint64_t position_ = 0;
};

// A tmpfs file as mmap sees it: private mappings copy its bytes, shared
// mappings map its own pages.
class TmpfsMappable final : public mm::Mappable {
 public:
  explicit TmpfsMappable(std::shared_ptr<TmpfsInode> inode) : inode_(std::move(inode)) {}
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override {
    iovec v{out.data(), out.size()};
    return inode_->read_data(std::span<const iovec>(&v, 1), offset);
  }
  Result<uint64_t> shared_page(uint64_t offset) override { return inode_->shared_page(offset); }
  const void* identity() const override { return inode_.get(); }

 private:
  std::shared_ptr<TmpfsInode> inode_;
};

std::shared_ptr<mm::Mappable> TmpfsFileDescription::mappable() { return std::make_shared<TmpfsMappable>(inode_); }

}  // namespace

TmpfsFilesystem::TmpfsFilesystem(std::shared_ptr<mm::MemoryFile> memfile, uint64_t size_limit)
    : memfile_(std::move(memfile)), dev_(next_anonymous_dev()), size_limit_(size_limit) {}

std::shared_ptr<TmpfsFilesystem> TmpfsFilesystem::create(std::shared_ptr<mm::MemoryFile> memfile, uint64_t size_limit) {
  return std::shared_ptr<TmpfsFilesystem>(new TmpfsFilesystem(std::move(memfile), size_limit));
}

std::shared_ptr<TmpfsInode> TmpfsFilesystem::make_root(mode_t mode, const Owner& owner) {
  auto root = std::make_shared<TmpfsInode>(shared_from_this(), S_IFDIR | (mode & 07777), owner);
  return root;
}

Result<void> TmpfsFilesystem::charge(int64_t pages) {
  if (pages > 0 && size_limit_) {
    int64_t after = pages_used_.fetch_add(pages) + pages;
    if (static_cast<uint64_t>(after) * kPage > size_limit_) {
      pages_used_.fetch_sub(pages);
      return Err(ENOSPC);
    }
    return {};
  }
  pages_used_.fetch_add(pages);
  return {};
}

TmpfsInode::TmpfsInode(std::shared_ptr<TmpfsFilesystem> fs, mode_t mode, const Owner& owner, dev_t rdev)
    : fs_(std::move(fs)), type_(mode & S_IFMT), mode_(mode & 07777), uid_(owner.uid), gid_(owner.gid),
      ino_(fs_->next_ino()), rdev_(rdev) {
  atime_ = mtime_ = ctime_ = now();
  if (S_ISDIR(type_)) nlink_ = 2;
  if (S_ISFIFO(type_)) fifo_ = std::make_shared<Fifo>();
}

TmpfsInode::~TmpfsInode() {
  for (auto [index, offset] : pages_) fs_->memfile().release(offset, kPage);
  (void)fs_->charge(-static_cast<int64_t>(pages_.size()));
}

Result<struct stat> TmpfsInode::stat() {
  struct stat st {};
  {
    std::lock_guard lock(fs_->mutex());
    st.st_dev = fs_->dev();
    st.st_ino = ino_;
    st.st_mode = type_ | mode_;
    st.st_nlink = nlink_;
    st.st_uid = uid_;
    st.st_gid = gid_;
    st.st_rdev = rdev_;
    st.st_atim = atime_;
    st.st_mtim = mtime_;
    st.st_ctim = ctime_;
    st.st_blksize = kPage;
  }
  if (S_ISREG(type_)) {
    std::lock_guard lock(data_mu_);
    st.st_size = static_cast<off_t>(size_);
    st.st_blocks = static_cast<blkcnt_t>(pages_.size() * (kPage / 512));
  } else if (S_ISLNK(type_)) {
    st.st_size = static_cast<off_t>(target_.size());
  } else if (S_ISDIR(type_)) {
    // tmpfs reports a directory's size as its entries' count times 20
    // plus 40 (BOGO_DIRENT_SIZE accounting).
    std::lock_guard lock(fs_->mutex());
    st.st_size = static_cast<off_t>(40 + 20 * entries_.size());
  }
  return st;
}

std::shared_ptr<TmpfsInode> TmpfsInode::entry(std::string_view name) {
  std::lock_guard lock(fs_->mutex());
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Inode>> TmpfsInode::lookup(std::string_view name) {
  if (!S_ISDIR(type_)) return Err(ENOTDIR);
  std::lock_guard lock(fs_->mutex());
  auto it = entries_.find(name);
  if (it == entries_.end()) return Err(ENOENT);
  return std::shared_ptr<Inode>(it->second);
}

Result<std::string> TmpfsInode::readlink() {
  if (!S_ISLNK(type_)) return Err(EINVAL);
  return target_;
}

Result<std::vector<DirEntry>> TmpfsInode::list() {
  if (!S_ISDIR(type_)) return Err(ENOTDIR);
  std::lock_guard lock(fs_->mutex());
  // A directory removed while open cannot be read (ENOENT, as Linux's
  // IS_DEADDIR check in iterate_dir() gives).
  if (nlink_ == 0) return Err(ENOENT);
  std::vector<DirEntry> out;
  out.reserve(entries_.size());
  for (const auto& [name, inode] : entries_) out.push_back({inode->ino_, dirent_type(inode->type_), name});
  return out;
}

Result<std::shared_ptr<FileDescription>> TmpfsInode::open(int flags) {
  if (S_ISDIR(type_)) {
    if ((flags & O_ACCMODE) != O_RDONLY) return Err(EISDIR);
    return std::shared_ptr<FileDescription>(std::make_shared<DirectoryDescription>(shared_from_this(), flags));
  }
  if (flags & O_DIRECTORY) return Err(ENOTDIR);
  if (S_ISLNK(type_)) return Err(ELOOP);
  if (S_ISCHR(type_)) return open_char_device(rdev_, flags);
  if (S_ISFIFO(type_)) return fifo_->open(flags, shared_from_this());
  // open(2): ENXIO for a UNIX domain socket's node.
  if (!S_ISREG(type_)) return Err(ENXIO);
  return std::shared_ptr<FileDescription>(std::make_shared<TmpfsFileDescription>(shared_from_this(), flags));
}

void TmpfsInode::touch_locked(bool modify) {
  timespec t = now();
  ctime_ = t;
  if (modify) mtime_ = t;
}

Result<std::shared_ptr<TmpfsInode>> TmpfsInode::add_entry_locked(std::string_view name, mode_t mode,
                                                                 const Owner& owner, dev_t rdev) {
  if (!S_ISDIR(type_)) return Err(ENOTDIR);
  // A directory removed while open cannot gain entries (ENOENT, as Linux's
  // IS_DEADDIR check gives).
  if (nlink_ == 0) return Err(ENOENT);
  if (entries_.contains(name)) return Err(EEXIST);
  auto inode = std::make_shared<TmpfsInode>(fs_, mode, owner, rdev);
  entries_.emplace(std::string(name), inode);
  if (S_ISDIR(mode)) ++nlink_;
  touch_locked(true);
  return inode;
}

Result<std::shared_ptr<Inode>> TmpfsInode::mknod(std::string_view name, mode_t mode, dev_t rdev, const Owner& owner) {
  std::lock_guard lock(fs_->mutex());
  auto r = add_entry_locked(name, mode, owner, rdev);
  if (!r) return Err(r.error());
  return std::shared_ptr<Inode>(*r);
}

Result<std::shared_ptr<Inode>> TmpfsInode::mkdir(std::string_view name, mode_t mode, const Owner& owner) {
  std::lock_guard lock(fs_->mutex());
  auto r = add_entry_locked(name, S_IFDIR | (mode & 07777), owner, 0);
  if (!r) return Err(r.error());
  return std::shared_ptr<Inode>(*r);
}

Result<std::shared_ptr<Inode>> TmpfsInode::symlink(std::string_view name, std::string_view target, const Owner& owner) {
  std::lock_guard lock(fs_->mutex());
  auto r = add_entry_locked(name, S_IFLNK | 0777, owner, 0);
  if (!r) return Err(r.error());
  (*r)->target_ = std::string(target);
  return std::shared_ptr<Inode>(*r);
}

Result<std::shared_ptr<Inode>> TmpfsInode::make_tmpfile(mode_t mode, const Owner& owner, bool linkable) {
  std::lock_guard lock(fs_->mutex());
  if (!S_ISDIR(type_)) return Err(ENOTDIR);
  if (nlink_ == 0) return Err(ENOENT);
  auto inode = std::make_shared<TmpfsInode>(fs_, S_IFREG | (mode & 07777), owner);
  inode->nlink_ = 0;  // no name yet
  inode->linkable_ = linkable;
  return std::shared_ptr<Inode>(inode);
}

Result<std::shared_ptr<Inode>> TmpfsInode::link(std::string_view name, const std::shared_ptr<Inode>& target) {
  auto other = std::dynamic_pointer_cast<TmpfsInode>(target);
  if (!other || other->fs_ != fs_) return Err(EXDEV);
  std::lock_guard lock(fs_->mutex());
  if (!S_ISDIR(type_)) return Err(ENOTDIR);
  if (nlink_ == 0) return Err(ENOENT);
  if (entries_.contains(name)) return Err(EEXIST);
  // A file whose last link is gone cannot get a name back (linkat(2)
  // ENOENT), except an O_TMPFILE file opened without O_EXCL.
  if (other->nlink_ == 0 && !other->linkable_) return Err(ENOENT);
  other->linkable_ = false;
  entries_.emplace(std::string(name), other);
  ++other->nlink_;
  other->ctime_ = now();
  touch_locked(true);
  return target;
}

Result<void> TmpfsInode::unlink(std::string_view name, bool is_dir) {
  std::lock_guard lock(fs_->mutex());
  if (!S_ISDIR(type_)) return Err(ENOTDIR);
  auto it = entries_.find(name);
  if (it == entries_.end()) return Err(ENOENT);
  TmpfsInode& victim = *it->second;
  if (is_dir) {
    if (!S_ISDIR(victim.type_)) return Err(ENOTDIR);
    if (!victim.entries_.empty()) return Err(ENOTEMPTY);
    victim.nlink_ = 0;
    --nlink_;
  } else {
    if (S_ISDIR(victim.type_)) return Err(EISDIR);
    --victim.nlink_;
  }
  victim.ctime_ = now();
  entries_.erase(it);
  touch_locked(true);
  return {};
}

Result<void> TmpfsInode::rename(std::string_view old_name, Inode& new_dir_inode, std::string_view new_name,
                                unsigned flags) {
  auto* new_dir = dynamic_cast<TmpfsInode*>(&new_dir_inode);
  if (!new_dir || new_dir->fs_ != fs_) return Err(EXDEV);
  if (flags & RENAME_WHITEOUT) return Err(EINVAL);
  std::lock_guard lock(fs_->mutex());
  if (!S_ISDIR(type_) || !S_ISDIR(new_dir->type_)) return Err(ENOTDIR);
  auto from = entries_.find(old_name);
  if (from == entries_.end()) return Err(ENOENT);
  std::shared_ptr<TmpfsInode> moved = from->second;
  auto to = new_dir->entries_.find(new_name);
  std::shared_ptr<TmpfsInode> replaced = to == new_dir->entries_.end() ? nullptr : to->second;
  const bool moved_is_dir = S_ISDIR(moved->type_);
  if (flags & RENAME_EXCHANGE) {
    if (!replaced) return Err(ENOENT);
    const bool replaced_is_dir = S_ISDIR(replaced->type_);
    from->second = replaced;
    to->second = moved;
    if (this != new_dir && moved_is_dir != replaced_is_dir) {
      // The directory changes parent: the link counts of ".." follow it.
      if (moved_is_dir) --nlink_, ++new_dir->nlink_;
      else ++nlink_, --new_dir->nlink_;
    }
    timespec t = now();
    moved->ctime_ = replaced->ctime_ = t;
    touch_locked(true);
    new_dir->touch_locked(true);
    return {};
  }
  if (replaced) {
    if (flags & RENAME_NOREPLACE) return Err(EEXIST);
    // rename(2): two links to the same file make the call a no-op.
    if (replaced == moved) return {};
    if (moved_is_dir) {
      if (!S_ISDIR(replaced->type_)) return Err(ENOTDIR);
      if (!replaced->entries_.empty()) return Err(ENOTEMPTY);
      replaced->nlink_ = 0;
      --new_dir->nlink_;
    } else {
      if (S_ISDIR(replaced->type_)) return Err(EISDIR);
      --replaced->nlink_;
    }
    replaced->ctime_ = now();
  }
  entries_.erase(from);
  new_dir->entries_[std::string(new_name)] = moved;
  if (moved_is_dir && this != new_dir) {
    --nlink_;
    ++new_dir->nlink_;
  }
  moved->ctime_ = now();
  touch_locked(true);
  if (new_dir != this) new_dir->touch_locked(true);
  return {};
}

Result<void> TmpfsInode::setattr(const SetAttr& attr) {
  if (attr.size) {
    if (S_ISDIR(type_)) return Err(EISDIR);
    if (!S_ISREG(type_)) return Err(EINVAL);
    if (auto r = truncate(static_cast<uint64_t>(*attr.size)); !r) return r;
  }
  std::lock_guard lock(fs_->mutex());
  if (attr.mode) mode_ = *attr.mode & 07777;
  if (attr.uid) uid_ = *attr.uid;
  if (attr.gid) gid_ = *attr.gid;
  if (attr.atime) atime_ = *attr.atime;
  if (attr.mtime) mtime_ = *attr.mtime;
  ctime_ = now();
  return {};
}

Result<struct statfs> TmpfsInode::statfs() {
  struct statfs out {};
  out.f_type = kTmpfsMagic;
  out.f_bsize = kPage;
  out.f_frsize = kPage;
  out.f_namelen = NAME_MAX;
  // Without a size limit, tmpfs reports half of memory; report 1 GiB
  // blocks' worth of room less what is used, so df shows something sane.
  const uint64_t blocks = fs_->size_limit() ? fs_->size_limit() / kPage : (uint64_t{1} << 30) / kPage * 8;
  const uint64_t used = std::min<uint64_t>(fs_->pages_used(), blocks);
  out.f_blocks = blocks;
  out.f_bfree = out.f_bavail = blocks - used;
  out.f_files = blocks;
  out.f_ffree = blocks;
  return out;
}

Result<std::string> TmpfsInode::getxattr(std::string_view name) {
  std::lock_guard lock(fs_->mutex());
  auto it = xattrs_.find(name);
  if (it == xattrs_.end()) return Err(ENODATA);
  return it->second;
}

Result<void> TmpfsInode::setxattr(std::string_view name, std::string_view value, int flags) {
  std::lock_guard lock(fs_->mutex());
  auto it = xattrs_.find(name);
  if ((flags & XATTR_CREATE) && it != xattrs_.end()) return Err(EEXIST);
  if ((flags & XATTR_REPLACE) && it == xattrs_.end()) return Err(ENODATA);
  if (it != xattrs_.end()) it->second = std::string(value);
  else xattrs_.emplace(std::string(name), std::string(value));
  ctime_ = now();
  return {};
}

Result<std::vector<std::string>> TmpfsInode::listxattr() {
  std::lock_guard lock(fs_->mutex());
  std::vector<std::string> out;
  for (const auto& [name, value] : xattrs_) out.push_back(name);
  return out;
}

Result<void> TmpfsInode::removexattr(std::string_view name) {
  std::lock_guard lock(fs_->mutex());
  auto it = xattrs_.find(name);
  if (it == xattrs_.end()) return Err(ENODATA);
  xattrs_.erase(it);
  ctime_ = now();
  return {};
}

uint64_t TmpfsInode::size() {
  std::lock_guard lock(data_mu_);
  return size_;
}

// How many bytes from `offset` (inside page `it`) lie in memory-file pages
// that follow each other, up to `limit`: one memcpy can cover them all.
uint64_t TmpfsInode::contiguous_bytes_locked(std::map<uint64_t, uint64_t>::const_iterator it, uint64_t offset,
                                            uint64_t limit) const {
  uint64_t bytes = kPage - offset % kPage;
  for (auto next = std::next(it); bytes < limit && next != pages_.end(); it = next++) {
    if (next->first != it->first + 1 || next->second != it->second + kPage) break;
    bytes += kPage;
  }
  return std::min(bytes, limit);
}

Result<size_t> TmpfsInode::read_data(std::span<const iovec> dst, uint64_t offset) {
  if (!S_ISREG(type_)) return Err(EINVAL);
  std::lock_guard lock(data_mu_);
  size_t done = 0;
  for (const iovec& v : dst) {
    auto* out = static_cast<uint8_t*>(v.iov_base);
    size_t want = v.iov_len;
    while (want > 0 && offset < size_) {
      const uint64_t in_page = offset % kPage;
      const uint64_t limit = std::min<uint64_t>(want, size_ - offset);
      auto page = pages_.find(offset / kPage);
      size_t n;
      if (page == pages_.end()) {
        n = static_cast<size_t>(std::min<uint64_t>(limit, kPage - in_page));
        std::memset(out, 0, n);  // a hole
      } else {
        n = static_cast<size_t>(contiguous_bytes_locked(page, offset, limit));
        std::memcpy(out, fs_->memfile().at(page->second) + in_page, n);
      }
      out += n;
      want -= n;
      offset += n;
      done += n;
    }
    if (offset >= size_) break;
  }
  return done;
}

Result<std::pair<size_t, uint64_t>> TmpfsInode::write_data(std::span<const iovec> src, uint64_t offset, bool append) {
  if (!S_ISREG(type_)) return Err(EINVAL);
  std::lock_guard lock(data_mu_);
  if (append) offset = size_;
  const size_t length = total_length(src);
  if (length == 0) return std::pair<size_t, uint64_t>{0, offset};
  if (offset > kMaxFileSize - length) return Err(EFBIG);
  // Allocate the missing pages first, so that a full filesystem fails the
  // write before any byte changes.
  if (auto r = allocate_pages_locked(offset, length); !r) return Err(r.error());
  uint64_t pos = offset;
  for (const iovec& v : src) {
    const auto* in = static_cast<const uint8_t*>(v.iov_base);
    size_t left = v.iov_len;
    while (left > 0) {
      const uint64_t in_page = pos % kPage;
      auto page = pages_.find(pos / kPage);  // allocated above
      const size_t n = static_cast<size_t>(contiguous_bytes_locked(page, pos, left));
      std::memcpy(fs_->memfile().at(page->second) + in_page, in, n);
      in += n;
      left -= n;
      pos += n;
    }
  }
  size_ = std::max(size_, pos);
  {
    std::lock_guard meta(fs_->mutex());
    touch_locked(true);
  }
  return std::pair<size_t, uint64_t>{length, pos};
}

Result<void> TmpfsInode::allocate_pages_locked(uint64_t offset, uint64_t length) {
  std::vector<uint64_t> missing;
  for (uint64_t index = offset / kPage; length && index <= (offset + length - 1) / kPage; ++index) {
    if (!pages_.contains(index)) missing.push_back(index);
  }
  if (missing.empty()) return {};
  if (auto r = fs_->charge(static_cast<int64_t>(missing.size())); !r) return r;
  auto run = fs_->memfile().allocate(missing.size() * kPage);
  if (!run) {
    (void)fs_->charge(-static_cast<int64_t>(missing.size()));
    return Err(ENOSPC);
  }
  for (size_t i = 0; i < missing.size(); ++i) pages_.emplace(missing[i], *run + i * kPage);
  // Fault the fresh run into the Sentry's view of the memory file with one
  // call rather than one page fault per page (Linux 5.14+; a failure only
  // costs the faults).
  if (missing.size() >= 16) (void)::madvise(fs_->memfile().at(*run), missing.size() * kPage, MADV_POPULATE_WRITE);
  return {};
}

Result<void> TmpfsInode::truncate_locked(uint64_t size) {
  if (size > kMaxFileSize) return Err(EFBIG);
  if (size < size_) {
    // Pages wholly past the new end go; the tail of the last one is zeroed
    // so that growing the file again reads zeros.
    const uint64_t keep = (size + kPage - 1) / kPage;
    int64_t freed = 0;
    for (auto it = pages_.lower_bound(keep); it != pages_.end();) {
      fs_->memfile().release(it->second, kPage);
      it = pages_.erase(it);
      ++freed;
    }
    (void)fs_->charge(-freed);
    if (size % kPage) {
      auto last = pages_.find(size / kPage);
      if (last != pages_.end()) std::memset(fs_->memfile().at(last->second) + size % kPage, 0, kPage - size % kPage);
    }
  }
  size_ = size;
  return {};
}

Result<void> TmpfsInode::truncate(uint64_t size) {
  if (!S_ISREG(type_)) return Err(EINVAL);
  bool shrunk;
  {
    std::lock_guard lock(data_mu_);
    shrunk = size < size_;
    if (auto r = truncate_locked(size); !r) return r;
  }
  // Shared mappings let go of the pages past the new end: touching them
  // now raises SIGBUS, as on Linux.
  if (shrunk && shared_mapped_) mm::MemoryManager::forget_file_pages_everywhere(this, (size + kPage - 1) & ~(kPage - 1), ~uint64_t{0});
  std::lock_guard meta(fs_->mutex());
  touch_locked(true);
  return {};
}

Result<void> TmpfsInode::allocate(int mode, uint64_t offset, uint64_t length) {
  if (!S_ISREG(type_)) return Err(ENODEV);
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    if (auto r = punch_hole(offset, length); !r) return r;
    // Shared mappings let go of the whole pages that went (they read
    // zeroes again, from fresh pages the file and they share).
    const uint64_t first = (offset + kPage - 1) & ~(kPage - 1), last = (offset + length) & ~(kPage - 1);
    if (shared_mapped_ && first < last) mm::MemoryManager::forget_file_pages_everywhere(this, first, last);
    return {};
  }
  std::lock_guard lock(data_mu_);
  if (offset + length > kMaxFileSize) return Err(EFBIG);
  if (auto r = allocate_pages_locked(offset, length); !r) return r;
  if (!(mode & FALLOC_FL_KEEP_SIZE)) size_ = std::max(size_, offset + length);
  return {};
}

Result<void> TmpfsInode::punch_hole(uint64_t offset, uint64_t length) {
  std::lock_guard lock(data_mu_);
  {
    // Whole pages in the range go; partial ones at the edges are zeroed.
    const uint64_t end = std::min(offset + length, size_);
    for (uint64_t pos = offset; pos < end;) {
      const uint64_t in_page = pos % kPage;
      const uint64_t n = std::min(kPage - in_page, end - pos);
      auto page = pages_.find(pos / kPage);
      if (page != pages_.end()) {
        if (n == kPage) {
          fs_->memfile().release(page->second, kPage);
          pages_.erase(page);
          (void)fs_->charge(-1);
        } else {
          std::memset(fs_->memfile().at(page->second) + in_page, 0, n);
        }
      }
      pos += n;
    }
    return {};
  }
}

Result<uint64_t> TmpfsInode::shared_page(uint64_t offset) {
  if (!S_ISREG(type_)) return Err(ENODEV);
  std::lock_guard lock(data_mu_);
  if (offset >= ((size_ + kPage - 1) & ~(kPage - 1))) return Err(EFAULT);
  const uint64_t index = offset / kPage;
  auto page = pages_.find(index);
  if (page == pages_.end()) {
    if (auto r = fs_->charge(1); !r) return Err(r.error());
    auto fresh = fs_->memfile().allocate(kPage);
    if (!fresh) {
      (void)fs_->charge(-1);
      return Err(ENOMEM);
    }
    page = pages_.emplace(index, *fresh).first;
  }
  fs_->memfile().add_ref(page->second, kPage);
  shared_mapped_ = true;
  return page->second;
}

}  // namespace runsc::vfs
