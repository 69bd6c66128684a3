#include "vfs/overlay.h"

#include <dirent.h>
#include <linux/fs.h>
#include <sys/sysmacros.h>

#include <map>
#include <set>

#include "vfs/tmpfs.h"

namespace runsc::vfs {
namespace {

constexpr uint32_t kOverlayMagic = 0x794c7630;  // OVERLAYFS_SUPER_MAGIC
// Upper-only files get inode numbers above any a host filesystem hands
// out in practice, so they never collide with a lower file's (tar and
// find take equal st_dev/st_ino for the same file).
constexpr uint64_t kUpperInoBase = uint64_t{1} << 48;

struct OverlayFs {
  std::shared_ptr<TmpfsFilesystem> upper_fs;
  std::shared_ptr<TmpfsInode> upper_root;  // for statfs
  dev_t dev = 0;
  // One lock for the whole overlay: copy-up walks up through parents and
  // lookups consult both layers, so finer locks buy little here.
  std::recursive_mutex mu;
};

class OverlayInode final : public Inode, public std::enable_shared_from_this<OverlayInode> {
 public:
  OverlayInode(std::shared_ptr<OverlayFs> fs, std::shared_ptr<OverlayInode> parent, std::string name,
               std::shared_ptr<TmpfsInode> upper, std::shared_ptr<Inode> lower)
      : fs_(std::move(fs)), parent_(std::move(parent)), name_(std::move(name)),
        type_(upper ? upper->file_type() : lower->file_type()), upper_(std::move(upper)), lower_(std::move(lower)) {}

  Result<struct stat> stat() override {
    std::shared_ptr<TmpfsInode> upper;
    {
      std::lock_guard lock(fs_->mu);
      upper = upper_;
    }
    auto st = upper ? upper->stat() : lower_->stat();
    if (!st) return st;
    if (upper && lower_ && S_ISDIR(type_)) {
      // A merged directory shows the lower directory's size, link count
      // and blocks (the upper one holds only what changed); owner, mode
      // and times come from the upper copy, which starts as the lower's.
      auto lower_st = lower_->stat();
      if (!lower_st) return lower_st;
      const bool modified = st->st_mtim.tv_sec != lower_st->st_mtim.tv_sec ||
                            st->st_mtim.tv_nsec != lower_st->st_mtim.tv_nsec;
      lower_st->st_mode = st->st_mode;
      lower_st->st_uid = st->st_uid;
      lower_st->st_gid = st->st_gid;
      lower_st->st_atim = st->st_atim;
      lower_st->st_mtim = st->st_mtim;
      if (modified) lower_st->st_ctim = st->st_ctim;
      st = lower_st;
    }
    st->st_dev = fs_->dev;
    return st;
  }
  mode_t file_type() const override { return type_; }
  const void* filesystem() const override { return fs_.get(); }

  Result<struct statfs> statfs() override {
    auto out = fs_->upper_root->statfs();
    if (out) out->f_type = kOverlayMagic;
    return out;
  }

  Result<std::string> readlink() override {
    std::lock_guard lock(fs_->mu);
    return upper_ ? upper_->readlink() : lower_->readlink();
  }

  Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
    std::lock_guard lock(fs_->mu);
    auto child = child_locked(name);
    if (!child) return Err(child.error());
    return std::shared_ptr<Inode>(*child);
  }

  Result<std::vector<DirEntry>> list() override {
    if (!S_ISDIR(type_)) return Err(ENOTDIR);
    std::lock_guard lock(fs_->mu);
    return merged_list_locked();
  }

  Result<std::shared_ptr<FileDescription>> open(int flags) override {
    std::shared_ptr<TmpfsInode> upper;
    std::shared_ptr<Inode> lower;
    {
      std::lock_guard lock(fs_->mu);
      if (S_ISDIR(type_)) {
        if ((flags & O_ACCMODE) != O_RDONLY) return Err(EISDIR);
        return std::shared_ptr<FileDescription>(std::make_shared<DirectoryDescription>(shared_from_this(), flags));
      }
      const bool truncate = (flags & O_TRUNC) != 0;
      if (S_ISREG(type_) && ((flags & O_ACCMODE) != O_RDONLY || truncate)) {
        // The first open for writing copies the file up (O_TRUNC: without
        // its data, which would be thrown away).
        if (auto r = copy_up_locked(!truncate); !r) return Err(r.error());
      }
      upper = upper_;
      lower = lower_;
    }
    // Outside the overlay's lock: opening a FIFO waits for the other side,
    // which must be able to walk the overlay meanwhile.
    return upper ? upper->open(flags) : lower->open(flags);
  }

  Result<std::shared_ptr<Inode>> mknod(std::string_view name, mode_t mode, dev_t rdev, const Owner& owner) override {
    std::lock_guard lock(fs_->mu);
    auto made = create_locked(name, [&](TmpfsInode& dir) { return dir.mknod(name, mode, rdev, owner); });
    if (!made) return Err(made.error());
    return std::shared_ptr<Inode>(*made);
  }

  Result<std::shared_ptr<Inode>> mkdir(std::string_view name, mode_t mode, const Owner& owner) override {
    std::lock_guard lock(fs_->mu);
    auto made = create_locked(name, [&](TmpfsInode& dir) { return dir.mkdir(name, mode, owner); });
    if (!made) return Err(made.error());
    // A new directory never shows a lower one of the same name (one
    // that was removed before): it is opaque.
    if ((*made)->upper_) (*made)->upper_->set_opaque(true);
    return std::shared_ptr<Inode>(*made);
  }

  Result<std::shared_ptr<Inode>> symlink(std::string_view name, std::string_view target, const Owner& owner) override {
    std::lock_guard lock(fs_->mu);
    auto made = create_locked(name, [&](TmpfsInode& dir) { return dir.symlink(name, target, owner); });
    if (!made) return Err(made.error());
    return std::shared_ptr<Inode>(*made);
  }

  Result<std::shared_ptr<Inode>> make_tmpfile(mode_t mode, const Owner& owner, bool linkable) override {
    std::lock_guard lock(fs_->mu);
    if (!S_ISDIR(type_)) return Err(ENOTDIR);
    if (auto r = copy_up_locked(true); !r) return Err(r.error());
    auto made = upper_->make_tmpfile(mode, owner, linkable);
    if (!made) return Err(made.error());
    auto upper = std::static_pointer_cast<TmpfsInode>(*made);
    return std::shared_ptr<Inode>(std::make_shared<OverlayInode>(fs_, shared_from_this(), "", std::move(upper), nullptr));
  }

  Result<std::shared_ptr<Inode>> link(std::string_view name, const std::shared_ptr<Inode>& target) override {
    auto other = std::dynamic_pointer_cast<OverlayInode>(target);
    if (!other || other->fs_ != fs_) return Err(EXDEV);
    std::lock_guard lock(fs_->mu);
    if (auto r = other->copy_up_locked(true); !r) return Err(r.error());
    if (auto r = prepare_create_locked(name); !r) return Err(r.error());
    if (auto r = upper_->link(name, other->upper_); !r) return Err(r.error());
    if (other->name_.empty()) {
      // An O_TMPFILE file getting its first name.
      other->parent_ = shared_from_this();
      other->name_ = std::string(name);
    }
    children_[std::string(name)] = other;
    return target;
  }

  Result<void> unlink(std::string_view name, bool is_dir) override {
    std::lock_guard lock(fs_->mu);
    auto child = child_locked(name);
    if (!child) return Err(child.error());
    OverlayInode& victim = **child;
    if (is_dir) {
      if (!S_ISDIR(victim.type_)) return Err(ENOTDIR);
      auto entries = victim.merged_list_locked();
      if (!entries) return Err(entries.error());
      if (!entries->empty()) return Err(ENOTEMPTY);
    } else if (S_ISDIR(victim.type_)) {
      return Err(EISDIR);
    }
    if (auto r = copy_up_locked(true); !r) return r;
    const bool lower_has_name = lower_name_exists_locked(name);
    if (victim.upper_) {
      if (is_dir) victim.clear_whiteouts_locked();
      if (auto r = upper_->unlink(name, is_dir); !r) return r;
    }
    if (lower_has_name) {
      if (auto r = make_whiteout_locked(name); !r) return r;
    }
    // Open files keep the victim as it was; the name is free again.
    children_.erase(std::string(name));
    return {};
  }

  Result<void> rename(std::string_view old_name, Inode& new_dir_inode, std::string_view new_name,
                      unsigned flags) override {
    auto* new_dir = dynamic_cast<OverlayInode*>(&new_dir_inode);
    if (!new_dir || new_dir->fs_ != fs_) return Err(EXDEV);
    if (flags & RENAME_WHITEOUT) return Err(EINVAL);
    std::lock_guard lock(fs_->mu);
    auto src = child_locked(old_name);
    if (!src) return Err(src.error());
    auto dst = new_dir->child_locked(new_name);
    if (!dst && dst.error() != ENOENT) return Err(dst.error());
    std::shared_ptr<OverlayInode> moved = *src;
    std::shared_ptr<OverlayInode> replaced = dst ? *dst : nullptr;
    if (replaced == moved) return {};  // the same file under both names
    // Renaming a directory that has lower contents would need overlayfs's
    // redirect_dir; like overlayfs without it, refuse with EXDEV, which
    // makes mv(1) copy and delete instead.
    if (S_ISDIR(moved->type_) && moved->lower_) return Err(EXDEV);
    if (flags & RENAME_EXCHANGE) {
      if (!replaced) return Err(ENOENT);
      if (S_ISDIR(replaced->type_) && replaced->lower_) return Err(EXDEV);
    } else if (replaced) {
      if (flags & RENAME_NOREPLACE) return Err(EEXIST);
      if (S_ISDIR(moved->type_) != S_ISDIR(replaced->type_)) {
        return Err(S_ISDIR(moved->type_) ? ENOTDIR : EISDIR);
      }
      if (S_ISDIR(replaced->type_)) {
        auto entries = replaced->merged_list_locked();
        if (!entries) return Err(entries.error());
        if (!entries->empty()) return Err(ENOTEMPTY);
      }
    }
    if (auto r = moved->copy_up_locked(true); !r) return r;
    if (auto r = new_dir->copy_up_locked(true); !r) return r;
    if ((flags & RENAME_EXCHANGE)) {
      if (auto r = replaced->copy_up_locked(true); !r) return r;
    } else if (replaced && S_ISDIR(replaced->type_) && replaced->upper_) {
      replaced->clear_whiteouts_locked();
    }
    const bool old_lower_has_name = lower_name_exists_locked(old_name);
    if (auto w = new_dir->upper_->entry(new_name); w && w->is_whiteout()) {
      if (auto r = new_dir->upper_->unlink(new_name, false); !r) return r;
    }
    if (!replaced || !replaced->upper_) {
      // Nothing in the upper layer at the new name: a plain move there.
      if (auto r = upper_->rename(old_name, *new_dir->upper_, new_name, flags & ~RENAME_NOREPLACE); !r) return r;
    } else {
      if (auto r = upper_->rename(old_name, *new_dir->upper_, new_name, flags); !r) return r;
    }
    // A moved directory hides any lower one at its new name.
    if (S_ISDIR(moved->type_)) moved->upper_->set_opaque(true);
    if (!(flags & RENAME_EXCHANGE) && old_lower_has_name) {
      if (auto r = make_whiteout_locked(old_name); !r) return r;
    }
    children_.erase(std::string(old_name));
    if (flags & RENAME_EXCHANGE) {
      if (S_ISDIR(replaced->type_)) replaced->upper_->set_opaque(true);
      replaced->parent_ = shared_from_this();
      replaced->name_ = std::string(old_name);
      children_[std::string(old_name)] = replaced;
    }
    moved->parent_ = new_dir->shared_from_this();
    moved->name_ = std::string(new_name);
    new_dir->children_[std::string(new_name)] = moved;
    return {};
  }

  Result<std::string> getxattr(std::string_view name) override {
    std::lock_guard lock(fs_->mu);
    return upper_ ? upper_->getxattr(name) : lower_->getxattr(name);
  }
  Result<std::vector<std::string>> listxattr() override {
    std::lock_guard lock(fs_->mu);
    return upper_ ? upper_->listxattr() : lower_->listxattr();
  }
  Result<void> setxattr(std::string_view name, std::string_view value, int flags) override {
    std::lock_guard lock(fs_->mu);
    if (auto r = copy_up_locked(true); !r) return r;
    return upper_->setxattr(name, value, flags);
  }
  Result<void> removexattr(std::string_view name) override {
    std::lock_guard lock(fs_->mu);
    if (auto r = copy_up_locked(true); !r) return r;
    return upper_->removexattr(name);
  }

  Result<void> setattr(const SetAttr& attr) override {
    std::lock_guard lock(fs_->mu);
    const bool data_needed = !(attr.size && *attr.size == 0);
    if (auto r = copy_up_locked(data_needed); !r) return r;
    return upper_->setattr(attr);
  }

  // Makes this file exist in the upper layer, its parents first.
  Result<void> copy_up_locked(bool with_data) {
    if (upper_) return {};
    if (!parent_) return Err(EIO);  // the root always has an upper directory
    if (auto r = parent_->copy_up_locked(true); !r) return r;
    auto st = lower_->stat();
    if (!st) return Err(st.error());
    const Owner owner{st->st_uid, st->st_gid};
    Result<std::shared_ptr<Inode>> made = Err(EIO);
    TmpfsInode& dir = *parent_->upper_;
    switch (type_) {
      case S_IFDIR: made = dir.mkdir(name_, st->st_mode & 07777, owner); break;
      case S_IFLNK: {
        auto target = lower_->readlink();
        if (!target) return Err(target.error());
        made = dir.symlink(name_, *target, owner);
        break;
      }
      default: made = dir.mknod(name_, st->st_mode, st->st_rdev, owner); break;
    }
    if (!made) return Err(made.error());
    auto upper = std::static_pointer_cast<TmpfsInode>(*made);
    if (S_ISREG(type_) && with_data) {
      if (auto r = copy_data(*upper); !r) {
        (void)dir.unlink(name_, false);
        return r;
      }
    }
    SetAttr times;
    times.atime = st->st_atim;
    times.mtime = st->st_mtim;
    if (!S_ISLNK(type_)) times.mode = st->st_mode & 07777;
    (void)upper->setattr(times);
    // The file keeps its inode number, unless it has other names in the
    // lower layer: those stay behind as a different file, and two files
    // with one number would look like hard links to tar, cp and mv.
    if (S_ISDIR(type_) || st->st_nlink <= 1) upper->set_ino(st->st_ino);
    upper_ = std::move(upper);
    return {};
  }

  std::shared_ptr<TmpfsInode> upper() const { return upper_; }

 private:
  Result<void> copy_data(TmpfsInode& upper) {
    auto file = lower_->open(O_RDONLY);
    if (!file) return Err(file.error());
    std::vector<uint8_t> buffer(1 << 20);
    uint64_t offset = 0;
    for (;;) {
      iovec in{buffer.data(), buffer.size()};
      auto n = (*file)->read(std::span<const iovec>(&in, 1), static_cast<int64_t>(offset));
      if (!n) return Err(n.error());
      if (*n == 0) return {};
      iovec out{buffer.data(), *n};
      auto w = upper.write_data(std::span<const iovec>(&out, 1), offset, false);
      if (!w) return Err(w.error());
      offset += *n;
    }
  }

  // The merged child `name`: the one object per name while it lives.
  Result<std::shared_ptr<OverlayInode>> child_locked(std::string_view name) {
    if (!S_ISDIR(type_)) return Err(ENOTDIR);
    if (auto it = children_.find(name); it != children_.end()) {
      if (auto live = it->second.lock()) return live;
    }
    std::shared_ptr<TmpfsInode> upper;
    bool hide_lower = false;
    if (upper_) {
      upper = upper_->entry(name);
      if (upper && upper->is_whiteout()) return Err(ENOENT);
      hide_lower = upper_->opaque();
    }
    std::shared_ptr<Inode> lower;
    if (lower_ && !hide_lower && (!upper || (S_ISDIR(upper->file_type()) && !upper->opaque()))) {
      auto found = lower_->lookup(name);
      if (found) lower = std::move(*found);
      else if (found.error() != ENOENT && !upper) return Err(found.error());
    }
    // Only two directories merge; otherwise the upper file hides the lower.
    if (upper && lower && !(S_ISDIR(upper->file_type()) && S_ISDIR(lower->file_type()))) lower = nullptr;
    if (!upper && !lower) return Err(ENOENT);
    auto child = std::make_shared<OverlayInode>(fs_, shared_from_this(), std::string(name), std::move(upper),
                                                std::move(lower));
    children_[std::string(name)] = child;
    return child;
  }

  bool lower_name_exists_locked(std::string_view name) {
    if (!lower_ || (upper_ && upper_->opaque())) return false;
    return static_cast<bool>(lower_->lookup(name));
  }

  Result<void> make_whiteout_locked(std::string_view name) {
    auto r = upper_->mknod(name, S_IFCHR, makedev(0, 0), Owner{});
    if (!r) return Err(r.error());
    return {};
  }

  void clear_whiteouts_locked() {
    auto entries = upper_->list();
    if (!entries) return;
    for (const auto& e : *entries) {
      if (auto w = upper_->entry(e.name); w && w->is_whiteout()) (void)upper_->unlink(e.name, false);
    }
  }

  // Copies this directory up, refuses an existing name, clears a
  // whiteout there. Returns whether one was cleared.
  Result<void> prepare_create_locked(std::string_view name) {
    if (!S_ISDIR(type_)) return Err(ENOTDIR);
    if (child_locked(name)) return Err(EEXIST);
    if (auto r = copy_up_locked(true); !r) return r;
    if (auto w = upper_->entry(name); w && w->is_whiteout()) {
      if (auto r = upper_->unlink(name, false); !r) return r;
    }
    return {};
  }

  template <typename Make>
  Result<std::shared_ptr<OverlayInode>> create_locked(std::string_view name, Make make) {
    if (auto r = prepare_create_locked(name); !r) return Err(r.error());
    auto made = make(*upper_);
    if (!made) return Err(made.error());
    auto upper = std::static_pointer_cast<TmpfsInode>(*made);
    auto child = std::make_shared<OverlayInode>(fs_, shared_from_this(), std::string(name), std::move(upper), nullptr);
    children_[std::string(name)] = child;
    return child;
  }

  Result<std::vector<DirEntry>> merged_list_locked() {
    std::vector<DirEntry> out;
    std::set<std::string, std::less<>> seen;
    bool hide_lower = false;
    if (upper_) {
      auto entries = upper_->list();
      if (!entries) return Err(entries.error());
      for (auto& e : *entries) {
        seen.insert(e.name);
        auto inode = upper_->entry(e.name);
        if (inode && inode->is_whiteout()) continue;
        out.push_back(std::move(e));
      }
      hide_lower = upper_->opaque();
    }
    if (lower_ && !hide_lower) {
      auto entries = lower_->list();
      if (!entries) return Err(entries.error());
      for (auto& e : *entries) {
        if (!seen.contains(e.name)) out.push_back(std::move(e));
      }
    }
    return out;
  }

  std::shared_ptr<OverlayFs> fs_;
  std::shared_ptr<OverlayInode> parent_;  // null for the root
  std::string name_;
  const mode_t type_;
  std::shared_ptr<TmpfsInode> upper_;
  std::shared_ptr<Inode> lower_;
  std::map<std::string, std::weak_ptr<OverlayInode>, std::less<>> children_;
};

}  // namespace

Result<std::shared_ptr<Inode>> make_overlay_root(std::shared_ptr<Inode> lower, std::shared_ptr<mm::MemoryFile> memfile,
                                                 uint64_t upper_size) {
  if (!S_ISDIR(lower->file_type())) return Err(ENOTDIR);
  auto st = lower->stat();
  if (!st) return Err(st.error());
  auto fs = std::make_shared<OverlayFs>();
  fs->upper_fs = TmpfsFilesystem::create(std::move(memfile), upper_size);
  fs->upper_fs->set_first_ino(kUpperInoBase);
  fs->dev = fs->upper_fs->dev();
  auto upper_root = fs->upper_fs->make_root(st->st_mode & 07777, Owner{st->st_uid, st->st_gid});
  upper_root->set_ino(st->st_ino);
  SetAttr times;
  times.atime = st->st_atim;
  times.mtime = st->st_mtim;
  (void)upper_root->setattr(times);
  fs->upper_root = upper_root;
  return std::shared_ptr<Inode>(std::make_shared<OverlayInode>(fs, nullptr, "", std::move(upper_root), std::move(lower)));
}

}  // namespace runsc::vfs
