#include "vfs/file.h"

#include <fcntl.h>
#include <limits.h>

#include <cstring>
#include <deque>

namespace runsc::vfs {

Result<std::shared_ptr<Dentry>> Dentry::child(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = children_.find(std::string(name));
  if (it != children_.end()) return it->second;
  auto inode = inode_->lookup(name);
  if (!inode) return Err(inode.error());
  auto d = std::make_shared<Dentry>(std::string(name), shared_from_this(), std::move(*inode));
  children_.emplace(std::string(name), d);
  return d;
}

std::string Dentry::path() const {
  if (!parent_) return "/";
  std::string out;
  for (const Dentry* d = this; d->parent_; d = d->parent_.get()) out.insert(0, "/" + d->name_);
  return out;
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
  std::shared_ptr<Dentry> cur = path.front() == '/' ? root : start;

  while (!parts.empty()) {
    std::string name = std::move(parts.front());
    parts.pop_front();
    if (name.size() > NAME_MAX) return Err(ENAMETOOLONG);
    if (!cur->is_dir()) return Err(ENOTDIR);
    if (name == ".") continue;
    if (name == "..") {
      if (cur != root && cur->parent()) cur = cur->parent();
      continue;
    }
    auto next = cur->child(name);
    if (!next) return Err(next.error());
    bool last = parts.empty();
    if ((*next)->is_symlink() && (!last || options.follow_final_symlink || trailing_slash)) {
      if (++symlinks > kMaxSymlinks) return Err(ELOOP);
      auto target = (*next)->inode().readlink();
      if (!target) return Err(target.error());
      if (target->empty()) return Err(ENOENT);
      push_path(*target, true);
      if (target->front() == '/') cur = root;
      continue;
    }
    cur = *next;
  }
  if ((trailing_slash || options.must_be_dir) && !cur->is_dir()) return Err(ENOTDIR);
  return cur;
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
