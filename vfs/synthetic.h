// Building blocks for filesystems whose files are made up from the
// Sentry's state when read (procfs, sysfs): a file whose contents a
// function produces at open, a symlink whose target a function gives,
// and a directory whose entries functions list and look up. None of them
// is cached in the dentry tree, so every walk sees the state of the moment.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "vfs/file.h"

namespace runsc::vfs {

// The owner and device numbers the entries of one synthetic filesystem share.
struct SyntheticIds {
  dev_t dev = 0;
  std::function<Owner()> owner;  // null: root
};

class SyntheticFile final : public Inode, public std::enable_shared_from_this<SyntheticFile> {
 public:
  using Reader = std::function<Result<std::string>()>;
  using Writer = std::function<Result<void>(std::string_view)>;
  // `write` null makes the file read-only (mode 0444 is then typical).
  SyntheticFile(SyntheticIds ids, uint64_t ino, mode_t mode, Reader read, Writer write = nullptr)
      : ids_(std::move(ids)), ino_(ino), mode_(mode), read_(std::move(read)), write_(std::move(write)) {}

  Result<struct stat> stat() override;
  mode_t file_type() const override { return S_IFREG; }
  Result<std::shared_ptr<FileDescription>> open(int flags) override;
  bool cacheable() const override { return false; }
  Result<void> setattr(const SetAttr& attr) override;

 private:
  SyntheticIds ids_;
  uint64_t ino_;
  mode_t mode_;
  Reader read_;
  Writer write_;
};

class SyntheticSymlink final : public Inode {
 public:
  using Target = std::function<Result<std::string>()>;
  // `follow`, when set, makes this a "magic link" (proc(5) /proc/pid/fd):
  // a walk through it lands on what it returns, not on its target text.
  using Follow = std::function<Result<std::shared_ptr<Dentry>>()>;
  SyntheticSymlink(SyntheticIds ids, uint64_t ino, Target target, Follow follow = nullptr)
      : ids_(std::move(ids)), ino_(ino), target_(std::move(target)), follow_(std::move(follow)) {}

  Result<struct stat> stat() override;
  mode_t file_type() const override { return S_IFLNK; }
  Result<std::string> readlink() override { return target_(); }
  Result<std::shared_ptr<FileDescription>> open(int) override { return Err(ELOOP); }
  bool cacheable() const override { return false; }
  Result<std::shared_ptr<Dentry>> follow_magic() override;

 private:
  SyntheticIds ids_;
  uint64_t ino_;
  Target target_;
  Follow follow_;
};

class SyntheticDir final : public Inode, public std::enable_shared_from_this<SyntheticDir> {
 public:
  using Lookup = std::function<Result<std::shared_ptr<Inode>>(std::string_view)>;
  using List = std::function<Result<std::vector<DirEntry>>()>;
  SyntheticDir(SyntheticIds ids, uint64_t ino, mode_t mode, Lookup lookup, List list)
      : ids_(std::move(ids)), ino_(ino), mode_(mode), lookup_(std::move(lookup)), list_(std::move(list)) {}

  Result<struct stat> stat() override;
  mode_t file_type() const override { return S_IFDIR; }
  Result<std::shared_ptr<Inode>> lookup(std::string_view name) override { return lookup_(name); }
  Result<std::vector<DirEntry>> list() override { return list_(); }
  Result<std::shared_ptr<FileDescription>> open(int flags) override;
  bool cacheable() const override { return false; }
  Result<void> setattr(const SetAttr&) override { return Err(EPERM); }

 private:
  SyntheticIds ids_;
  uint64_t ino_;
  mode_t mode_;
  Lookup lookup_;
  List list_;
};

// A fixed directory of named entries made once (/proc/sys, /sys/devices...).
struct StaticEntry {
  std::string name;
  std::shared_ptr<Inode> inode;
};
std::shared_ptr<SyntheticDir> make_static_dir(SyntheticIds ids, uint64_t ino, std::vector<StaticEntry> entries);

// An inode number from a name (stable across walks of the same path).
uint64_t synthetic_ino(std::string_view path);

}  // namespace runsc::vfs
