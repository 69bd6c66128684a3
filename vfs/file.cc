#include <algorithm>
#include "vfs/file.h"

#include <signal.h>

#include <dirent.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>

#include <cstring>
#include <deque>

#include "vfs/inotify.h"
#include "vfs/permissions.h"

namespace runsc::vfs {

Dentry::Dentry(std::string name, std::shared_ptr<Dentry> parent, std::shared_ptr<Inode> inode)
    : name_(std::move(name)), parent_(std::move(parent)), inode_(std::move(inode)) {
  if (parent_) mount_ = parent_->mount_;
}

std::mutex& Dentry::tree_mutex() {
  static std::mutex mu;
  return mu;
}

std::string Dentry::name() const {
  std::lock_guard lock(tree_mutex());
  return name_;
}

std::shared_ptr<Dentry> Dentry::parent() const {
  std::lock_guard lock(tree_mutex());
  return parent_;
}

Result<std::shared_ptr<Dentry>> Dentry::child(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = children_.find(std::string(name));
  if (it != children_.end()) return it->second;
  auto inode = inode_->lookup(name);
  if (!inode) return Err(inode.error());
  auto d = std::make_shared<Dentry>(std::string(name), shared_from_this(), std::move(*inode));
  if (d->inode().cacheable()) children_.emplace(std::string(name), d);
  return d;
}

std::shared_ptr<Dentry> Dentry::add_child(std::string_view name, std::shared_ptr<Inode> inode) {
  auto d = std::make_shared<Dentry>(std::string(name), shared_from_this(), std::move(inode));
  std::lock_guard lock(mu_);
  children_[std::string(name)] = d;
  return d;
}

void Dentry::remove_child(std::string_view name) {
  std::shared_ptr<Dentry> gone;
  {
    std::lock_guard lock(mu_);
    auto it = children_.find(std::string(name));
    if (it == children_.end()) return;
    gone = std::move(it->second);
    children_.erase(it);
  }
  std::lock_guard lock(tree_mutex());
  gone->deleted_ = true;
}

void Dentry::move_child(Dentry& old_parent, std::string_view old_name, Dentry& new_parent, std::string_view new_name,
                        bool exchange) {
  std::shared_ptr<Dentry> moved, replaced;
  // Lock the two child maps in a fixed order (by address) so that two
  // renames in opposite directions cannot deadlock.
  std::unique_lock<std::mutex> first, second;
  if (&old_parent == &new_parent) {
    first = std::unique_lock(old_parent.mu_);
  } else if (&old_parent < &new_parent) {
    first = std::unique_lock(old_parent.mu_);
    second = std::unique_lock(new_parent.mu_);
  } else {
    first = std::unique_lock(new_parent.mu_);
    second = std::unique_lock(old_parent.mu_);
  }
  if (auto it = old_parent.children_.find(std::string(old_name)); it != old_parent.children_.end()) {
    moved = std::move(it->second);
    old_parent.children_.erase(it);
  }
  if (auto it = new_parent.children_.find(std::string(new_name)); it != new_parent.children_.end()) {
    replaced = std::move(it->second);
    new_parent.children_.erase(it);
  }
  if (moved) new_parent.children_[std::string(new_name)] = moved;
  if (exchange && replaced) old_parent.children_[std::string(old_name)] = replaced;
  std::lock_guard tree(tree_mutex());
  if (moved) {
    moved->name_ = std::string(new_name);
    moved->parent_ = new_parent.shared_from_this();
  }
  if (replaced) {
    if (exchange) {
      replaced->name_ = std::string(old_name);
      replaced->parent_ = old_parent.shared_from_this();
    } else {
      replaced->deleted_ = true;
    }
  }
}

std::shared_ptr<Mount> Dentry::covering_mount() const {
  std::lock_guard lock(const_cast<std::mutex&>(mu_));
  return covering_;
}

void Dentry::set_covering_mount(std::shared_ptr<Mount> m) {
  std::lock_guard lock(mu_);
  covering_ = std::move(m);
}

std::string Dentry::path() const {
  std::lock_guard lock(tree_mutex());
  std::string out;
  const Dentry* d = this;
  for (;;) {
    if (!d->parent_) {
      // A filesystem's root: continue above its mount point, if any.
      if (d->mount_ && d->mount_->mountpoint) {
        d = d->mount_->mountpoint.get();
        continue;
      }
      break;
    }
    out.insert(0, "/" + d->name_);
    d = d->parent_.get();
  }
  return out.empty() ? "/" : out;
}

bool Dentry::is_descendant_of(const Dentry& ancestor) const {
  std::lock_guard lock(tree_mutex());
  for (const Dentry* d = this; d;) {
    if (d == &ancestor) return true;
    if (!d->parent_) {
      d = (d->mount_ && d->mount_->mountpoint) ? d->mount_->mountpoint.get() : nullptr;
    } else {
      d = d->parent_.get();
    }
  }
  return false;
}

namespace {
std::mutex mounts_mu;
std::vector<std::shared_ptr<Mount>>& mount_list() {
  static std::vector<std::shared_ptr<Mount>> mounts;
  return mounts;
}
}  // namespace

std::shared_ptr<Mount> mount(std::shared_ptr<Dentry> fs_root, std::shared_ptr<Dentry> mountpoint, std::string source,
                             std::string fstype, std::string options, bool read_only, unsigned flags) {
  auto m = std::make_shared<Mount>();
  m->root = std::move(fs_root);
  m->mountpoint = std::move(mountpoint);
  m->source = std::move(source);
  m->fstype = std::move(fstype);
  m->options = std::move(options);
  m->read_only = read_only;
  m->flags = flags;
  std::lock_guard lock(mounts_mu);
  auto& list = mount_list();
  // Mount IDs as /proc/self/mountinfo shows them; Linux's start at an
  // arbitrary number, ours after the host's usual few.
  m->id = 20 + static_cast<int>(list.size());
  m->parent_id = m->id;
  if (m->mountpoint && m->mountpoint->mount()) m->parent_id = m->mountpoint->mount()->id;
  m->root->set_mount(m.get());
  if (m->mountpoint) m->mountpoint->set_covering_mount(m);
  list.push_back(m);
  return m;
}

void Dentry::drop_cache() {
  std::unordered_map<std::string, std::shared_ptr<Dentry>> children;
  {
    std::lock_guard lock(mu_);
    children.swap(children_);
  }
  for (auto& [name, child] : children) child->drop_cache();
}

void unmount_tree(const std::shared_ptr<Dentry>& root) {
  Mount* top = root->mount();
  if (!top) return;
  std::vector<std::shared_ptr<Dentry>> roots;
  {
    std::lock_guard lock(mounts_mu);
    auto& list = mount_list();
    // The mount at `root` and every mount below it, by parent mount ID.
    std::vector<int> ids{top->id};
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& m : list) {
        const bool known = std::find(ids.begin(), ids.end(), m->id) != ids.end();
        if (!known && m->parent_id != m->id && std::find(ids.begin(), ids.end(), m->parent_id) != ids.end()) {
          ids.push_back(m->id);
          grew = true;
        }
      }
    }
    auto gone = [&](const std::shared_ptr<Mount>& m) { return std::find(ids.begin(), ids.end(), m->id) != ids.end(); };
    for (const auto& m : list) {
      if (!gone(m)) continue;
      if (m->mountpoint) m->mountpoint->set_covering_mount(nullptr);
      roots.push_back(m->root);
    }
    std::erase_if(list, gone);
  }
  // Outside the lock: freeing inodes may talk to their gofers.
  for (const auto& r : roots) r->drop_cache();
}

std::vector<std::shared_ptr<Mount>> all_mounts() {
  std::lock_guard lock(mounts_mu);
  return mount_list();
}

bool on_read_only_mount(const Dentry& d) {
  return (d.mount() && d.mount()->read_only) || d.inode().read_only();
}

Result<struct statfs> Inode::statfs() {
  struct statfs out {};
  out.f_type = 0x01021994;  // TMPFS_MAGIC: what a filesystem with no backing store reports
  out.f_bsize = 4096;
  out.f_namelen = NAME_MAX;
  out.f_frsize = 4096;
  return out;
}

Result<int64_t> DirectoryDescription::seek(int64_t offset, int whence) {
  std::lock_guard lock(mu_);
  if (whence == SEEK_SET && offset >= 0) {
    position_ = static_cast<size_t>(offset);
    if (offset == 0) entries_.reset();  // rewinddir sees a fresh listing
    return offset;
  }
  if (whence == SEEK_CUR) {
    int64_t next = static_cast<int64_t>(position_) + offset;
    if (next < 0) return Err(EINVAL);
    position_ = static_cast<size_t>(next);
    return next;
  }
  return Err(EINVAL);
}

Result<size_t> DirectoryDescription::getdents64(std::span<uint8_t> out) {
  std::lock_guard lock(mu_);
  if (!entries_) {
    auto listed = inode_->list();
    if (!listed) return Err(listed.error());
    auto st = inode_->stat();
    uint64_t self_ino = st ? st->st_ino : 1;
    // ".." is the parent's inode (the directory itself at a root).
    uint64_t parent_ino = self_ino;
    if (dentry_) {
      if (auto parent = dentry_->parent()) {
        if (auto pst = parent->inode().stat()) parent_ino = pst->st_ino;
      }
    }
    std::vector<DirEntry> all;
    all.push_back({self_ino, DT_DIR, "."});
    all.push_back({parent_ino, DT_DIR, ".."});
    for (auto& e : *listed) all.push_back(std::move(e));
    entries_ = std::move(all);
  }
  size_t written = 0;
  while (position_ < entries_->size()) {
    const DirEntry& e = (*entries_)[position_];
    size_t n = put_dirent64(out.subspan(written), e.ino, static_cast<int64_t>(position_ + 1), e.type, e.name);
    if (n == 0) {
      if (written == 0) return Err(EINVAL);  // buffer too small for one entry
      break;
    }
    written += n;
    ++position_;
  }
  return written;
}

Inode::Inode() = default;
Inode::~Inode() = default;

InodeWatches& Inode::watches() {
  std::call_once(watches_once_, [this] {
    watches_ = std::make_unique<InodeWatches>();
    watches_ready_ = true;
  });
  return *watches_;
}

FileLocks& Inode::locks() {
  std::call_once(locks_once_, [this] {
    locks_ = std::make_unique<FileLocks>();
    locks_ready_ = true;
  });
  return *locks_;
}

FileDescription::~FileDescription() {
  if (!dentry_) return;
  if (FileLocks* locks = dentry_->inode().existing_locks()) locks->release_description(this);
  // The last close of an open file (inotify(7) IN_CLOSE_*).
  if (!(flags_ & O_PATH)) notify(*dentry_, writable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
}

namespace {
void (*async_signal_sender)(int owner, int signo, int band) = nullptr;
}  // namespace

void set_async_signal_sender(void (*send)(int owner, int signo, int band)) { async_signal_sender = send; }

void FileDescription::notify_async(int band) const {
  const int owner = owner_.load();
  if (!(flags_ & O_ASYNC) || owner == 0 || !async_signal_sender) return;
  const int signo = async_signal_.load();
  async_signal_sender(owner, signo ? signo : SIGIO, band);
}

void FileDescription::set_status_flags(int flags) {
  // F_SETFL changes only these (fcntl(2)); the access mode stays.
  constexpr int kSettable = O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK;
  flags_ = (flags_ & ~kSettable) | (flags & kSettable);
}

Result<std::shared_ptr<Dentry>> resolve(const std::shared_ptr<Dentry>& root, const std::shared_ptr<Dentry>& start,
                                        std::string_view path, ResolveOptions options) {
  if (path.empty()) return Err(ENOENT);
  if (path.size() >= PATH_MAX) return Err(ENAMETOOLONG);
  // Linux gives up after 40 symlinks in one lookup (ELOOP).
  constexpr int kMaxSymlinks = 40;
  int symlinks = 0;
  bool trailing_slash = path.back() == '/';

  std::deque<std::string> parts;
  auto push_path = [&](std::string_view p, bool front) {
    std::deque<std::string> split;
    size_t i = 0;
    while (i < p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string_view::npos) j = p.size();
      if (j > i) split.emplace_back(p.substr(i, j - i));
      i = j + 1;
    }
    if (front) parts.insert(parts.begin(), split.begin(), split.end());
    else parts = std::move(split);
  };
  push_path(path, false);
  const uint64_t confine = options.restrict_flags;
  const bool beneath = confine & RESOLVE_BENEATH;
  // RESOLVE_IN_ROOT: absolute paths and ".." stop at `start` as at a root.
  const std::shared_ptr<Dentry>& top = (confine & RESOLVE_IN_ROOT) ? start : root;
  if (beneath && path.front() == '/') return Err(EXDEV);
  std::shared_ptr<Dentry> cur = path.front() == '/' ? top : start;
  // Only a caller without the DAC overrides can be refused a search.
  const bool check_search =
      options.caller && !options.caller->cap_dac_override && !options.caller->cap_dac_read_search;
  // ".." stays at the caller's root and climbs out of a mounted
  // filesystem's root to its mount point first (follow_dotdot()).
  auto dotdot = [&](std::shared_ptr<Dentry> d) {
    for (;;) {
      if (d == top) return d;
      if (auto parent = d->parent()) return parent;
      Mount* m = d->mount();
      if (!m || !m->mountpoint) return d;
      d = m->mountpoint;
    }
  };

  while (!parts.empty()) {
    std::string name = std::move(parts.front());
    parts.pop_front();
    if (name.size() > NAME_MAX) return Err(ENAMETOOLONG);
    if (!cur->is_dir()) return Err(ENOTDIR);
    if (check_search) {
      auto st = cur->inode().stat();
      if (!st) return Err(st.error());
      if (auto r = may_access(*options.caller, *st, kMayExec); !r) return Err(r.error());
    }
    if (name == ".") continue;
    if (name == "..") {
      // RESOLVE_BENEATH: climbing above the starting point leaves it.
      if (beneath && cur == start) return Err(EXDEV);
      auto up = dotdot(cur);
      if ((confine & RESOLVE_NO_XDEV) && up->mount() != cur->mount()) return Err(EXDEV);
      cur = std::move(up);
      continue;
    }
    auto next = cur->child(name);
    if (!next) return Err(next.error());
    // Step onto whatever is mounted here (and on top of that).
    while (auto covering = (*next)->covering_mount()) {
      if (confine & RESOLVE_NO_XDEV) return Err(EXDEV);
      *next = covering->root;
    }
    bool last = parts.empty();
    if ((*next)->is_symlink() && (!last || options.follow_final_symlink || trailing_slash)) {
      if (confine & RESOLVE_NO_SYMLINKS) return Err(ELOOP);
      if (++symlinks > kMaxSymlinks) return Err(ELOOP);
      auto magic = (*next)->inode().follow_magic();
      if (!magic) return Err(magic.error());
      if (*magic) {
        // Magic links jump anywhere: never while confined (openat2(2)).
        if (confine & (RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT)) return Err(confine & RESOLVE_NO_MAGICLINKS ? ELOOP : EXDEV);
        cur = std::move(*magic);
        continue;
      }
      auto target = (*next)->inode().readlink();
      if (!target) return Err(target.error());
      if (target->empty()) return Err(ENOENT);
      if (beneath && target->front() == '/') return Err(EXDEV);
      push_path(*target, true);
      if (target->front() == '/') cur = top;
      continue;
    }
    cur = *next;
  }
  if ((trailing_slash || options.must_be_dir) && !cur->is_dir()) return Err(ENOTDIR);
  return cur;
}

void drop_front(std::vector<iovec>& v, size_t n) {
  while (!v.empty() && n >= v.front().iov_len) {
    n -= v.front().iov_len;
    v.erase(v.begin());
  }
  if (!v.empty()) {
    v.front().iov_base = static_cast<uint8_t*>(v.front().iov_base) + n;
    v.front().iov_len -= n;
  }
}

size_t put_dirent64(std::span<uint8_t> out, uint64_t ino, int64_t next_offset, uint8_t type, std::string_view name) {
  // struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name[], padded to 8.
  size_t reclen = (19 + name.size() + 1 + 7) & ~size_t{7};
  if (reclen > out.size()) return 0;
  std::memset(out.data(), 0, reclen);
  uint16_t rl = static_cast<uint16_t>(reclen);
  std::memcpy(out.data(), &ino, 8);
  std::memcpy(out.data() + 8, &next_offset, 8);
  std::memcpy(out.data() + 16, &rl, 2);
  out[18] = type;
  std::memcpy(out.data() + 19, name.data(), name.size());
  return reclen;
}

}  // namespace runsc::vfs
