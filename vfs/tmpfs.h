// tmpfs: a filesystem that lives entirely in the Sentry. File data is
// kept in pages of the memory file, so that a MAP_SHARED mapping of a
// tmpfs file maps the file's own pages and stays coherent with read(2)
// and write(2) (tmpfs(5)).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "vfs/fifo.h"
#include "vfs/file.h"

namespace runsc::mm {
class MemoryFile;
}

namespace runsc::vfs {

class TmpfsInode;

// One mounted instance: its device number, inode numbers and size limit.
class TmpfsFilesystem : public std::enable_shared_from_this<TmpfsFilesystem> {
 public:
  // `size_limit` in bytes, 0 for no limit (mount option size=).
  static std::shared_ptr<TmpfsFilesystem> create(std::shared_ptr<mm::MemoryFile> memfile, uint64_t size_limit = 0);

  // The root directory, owned by `owner` with permission bits `mode`.
  std::shared_ptr<TmpfsInode> make_root(mode_t mode, const Owner& owner);

  mm::MemoryFile& memfile() { return *memfile_; }
  dev_t dev() const { return dev_; }
  uint64_t next_ino() { return next_ino_++; }
  // Where inode numbers start (an overlay keeps its upper layer's apart).
  void set_first_ino(uint64_t ino) { next_ino_ = ino; }
  // Accounts `pages` more (or fewer) pages of file data: ENOSPC past the limit.
  Result<void> charge(int64_t pages);
  uint64_t size_limit() const { return size_limit_; }
  uint64_t pages_used() const { return pages_used_.load(); }
  // Guards every directory's entries and every inode's metadata.
  std::mutex& mutex() { return mu_; }

 private:
  TmpfsFilesystem(std::shared_ptr<mm::MemoryFile> memfile, uint64_t size_limit);
  std::shared_ptr<mm::MemoryFile> memfile_;
  dev_t dev_;
  uint64_t size_limit_;
  std::atomic<uint64_t> next_ino_{1};
  std::atomic<int64_t> pages_used_{0};
  std::mutex mu_;
};

class TmpfsInode final : public Inode, public std::enable_shared_from_this<TmpfsInode> {
 public:
  TmpfsInode(std::shared_ptr<TmpfsFilesystem> fs, mode_t mode, const Owner& owner, dev_t rdev = 0);
  ~TmpfsInode() override;

  Result<struct stat> stat() override;
  mode_t file_type() const override { return type_; }
  Result<std::shared_ptr<Inode>> lookup(std::string_view name) override;
  Result<std::string> readlink() override;
  Result<std::vector<DirEntry>> list() override;
  Result<std::shared_ptr<FileDescription>> open(int flags) override;
  Result<std::shared_ptr<Inode>> mknod(std::string_view name, mode_t mode, dev_t rdev, const Owner& owner) override;
  Result<std::shared_ptr<Inode>> mkdir(std::string_view name, mode_t mode, const Owner& owner) override;
  Result<std::shared_ptr<Inode>> symlink(std::string_view name, std::string_view target, const Owner& owner) override;
  Result<std::shared_ptr<Inode>> make_tmpfile(mode_t mode, const Owner& owner, bool linkable) override;
  Result<std::shared_ptr<Inode>> link(std::string_view name, const std::shared_ptr<Inode>& target) override;
  Result<void> unlink(std::string_view name, bool is_dir) override;
  Result<void> rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) override;
  Result<void> setattr(const SetAttr& attr) override;
  const void* filesystem() const override { return fs_.get(); }
  Result<struct statfs> statfs() override;
  Result<std::string> getxattr(std::string_view name) override;
  Result<void> setxattr(std::string_view name, std::string_view value, int flags) override;
  Result<std::vector<std::string>> listxattr() override;
  Result<void> removexattr(std::string_view name) override;

  // File data, for descriptions and mappings of a regular file.
  Result<size_t> read_data(std::span<const iovec> dst, uint64_t offset);
  // Writes at `offset`, or at the end with `append`; returns the count
  // and the offset just past what was written.
  Result<std::pair<size_t, uint64_t>> write_data(std::span<const iovec> src, uint64_t offset, bool append);
  Result<void> truncate(uint64_t size);
  Result<void> allocate(int mode, uint64_t offset, uint64_t length);
  uint64_t size();
  // The memory-file offset of the page holding `offset`, allocated if it
  // is a hole, with one more reference the caller releases (MAP_SHARED).
  // EFAULT past the end of the file (where Linux raises SIGBUS).
  Result<uint64_t> shared_page(uint64_t offset);
  // fallocate(2) FALLOC_FL_PUNCH_HOLE: whole pages go, partial ones are zeroed.
  Result<void> punch_hole(uint64_t offset, uint64_t length);

  // For the overlay: an upper directory that hides the lower one, and a
  // whiteout (a 0/0 character device, as Linux's overlayfs marks them).
  bool opaque() const { return opaque_; }
  void set_opaque(bool v) { opaque_ = v; }
  bool is_whiteout() const { return S_ISCHR(type_) && rdev_ == 0; }
  // The directory entry, without the lookup's whiteout-blind ENOENT.
  std::shared_ptr<TmpfsInode> entry(std::string_view name);
  // Keeps an inode number from a lower layer after copy-up.
  void set_ino(uint64_t ino) { ino_ = ino; }

 private:
  Result<std::shared_ptr<TmpfsInode>> add_entry_locked(std::string_view name, mode_t mode, const Owner& owner,
                                                       dev_t rdev);
  void touch_locked(bool modify);
  uint64_t contiguous_bytes_locked(std::map<uint64_t, uint64_t>::const_iterator it, uint64_t offset,
                                   uint64_t limit) const;
  Result<void> truncate_locked(uint64_t size);
  // Gives [offset, offset + length) memory-file pages where it has holes,
  // charged to the filesystem's size limit (ENOSPC).
  Result<void> allocate_pages_locked(uint64_t offset, uint64_t length);

  std::shared_ptr<TmpfsFilesystem> fs_;
  const mode_t type_;
  // Metadata, guarded by fs_->mutex().
  mode_t mode_;
  uint32_t uid_, gid_;
  uint64_t ino_;
  uint64_t nlink_ = 1;
  dev_t rdev_;
  timespec atime_, mtime_, ctime_;
  bool opaque_ = false;
  bool linkable_ = false;  // an O_TMPFILE file that linkat(2) may still name
  std::map<std::string, std::shared_ptr<TmpfsInode>, std::less<>> entries_;  // directories
  std::string target_;                                                        // symlinks
  std::shared_ptr<Fifo> fifo_;                                                // FIFOs
  std::map<std::string, std::string, std::less<>> xattrs_;
  // Regular file data, guarded by data_mu_: page index -> memory-file offset.
  std::mutex data_mu_;
  // Set once a shared mapping took one of the pages: a truncate or hole
  // punch must then take them back from address spaces (mm::MemoryManager).
  std::atomic<bool> shared_mapped_{false};
  std::map<uint64_t, uint64_t> pages_;
  uint64_t size_ = 0;
};

}  // namespace runsc::vfs
