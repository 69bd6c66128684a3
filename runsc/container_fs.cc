// A container's filesystem tree in the Sentry.
#include "runsc/container_fs.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cstring>
#include <fmt/core.h>
#include <tuple>

#include "gofer/client.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/procfs.h"
#include "vfs/devfs.h"
#include "vfs/devpts.h"
#include "vfs/gofer_fs.h"
#include "vfs/overlay.h"
#include "vfs/tmpfs.h"

namespace runsc::cli {
namespace {

// mkdir -p of `path` under `root` (following what is mounted on the way).
Result<void> mount_at_parents(const std::shared_ptr<vfs::Dentry>& root, const std::string& path) {
  std::shared_ptr<vfs::Dentry> dir = root;
  size_t start = 1;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string name = path.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    auto next = dir->child(name);
    if (!next && next.error() == ENOENT) {
      auto made = dir->inode().mkdir(name, 0755, vfs::Owner{});
      if (!made) return Err(made.error());
      dir->add_child(name, *made);
    }
    auto walked = vfs::resolve(root, dir, name);
    if (!walked) return Err(walked.error());
    if (!(*walked)->is_dir()) return Err(ENOTDIR);
    dir = *walked;
  }
  return {};
}

// Mounts `fs_root` at `path` under `root`, making the mount point in a
// writable root when the image lacks it: a directory, or an empty file for
// a filesystem whose root is a file (a bind mount of one file). As
// mount(2), a file cannot cover a directory nor a directory a file.
Result<void> mount_at(const std::shared_ptr<vfs::Dentry>& root, const std::string& path,
                      std::shared_ptr<vfs::Dentry> fs_root, const std::string& fstype, const std::string& options,
                      bool read_only = false) {
  auto slash = path.rfind('/');
  const std::string parent_path = slash == 0 ? "/" : path.substr(0, slash);
  auto parent = vfs::resolve(root, root, parent_path);
  if (!parent && parent.error() == ENOENT) {
    // As runc, the missing directories on the way are made (mkdir -p).
    if (auto r = mount_at_parents(root, parent_path); !r) return Err(r.error());
    parent = vfs::resolve(root, root, parent_path);
  }
  if (!parent) return Err(parent.error());
  const std::string name = path.substr(slash + 1);
  const bool dir = fs_root->is_dir();
  auto point = (*parent)->child(name);
  if (!point && point.error() == ENOENT) {
    auto made = dir ? (*parent)->inode().mkdir(name, 0755, vfs::Owner{})
                    : (*parent)->inode().mknod(name, S_IFREG | 0644, 0, vfs::Owner{});
    if (!made) return Err(made.error());
    (*parent)->add_child(name, *made);
    point = (*parent)->child(name);
  }
  if (!point) return Err(point.error());
  auto target = vfs::resolve(root, root, path);  // onto whatever is mounted there already
  if (!target) return Err(target.error());
  if ((*target)->is_dir() != dir) return Err(dir ? ENOTDIR : EISDIR);
  vfs::mount(std::move(fs_root), *target, fstype, fstype, options, read_only, MS_NOSUID);
  return {};
}

}  // namespace

// A tmpfs's size in bytes (0: no limit) from what its mount asked for:
// none is half of the sandbox's memory, as Linux's default is half of RAM;
// sizes are whole pages (Documentation/filesystems/tmpfs).
uint64_t tmpfs_size(const mm::MemoryFile& memfile, uint64_t asked) {
  constexpr uint64_t kPage = 4096;
  if (asked == TmpfsMount::kHalfOfMemory) return memfile.limit() / 2 & ~(kPage - 1);
  return (asked + kPage - 1) & ~(kPage - 1);
}

// The sandbox's mount table: the root (an overlay of the gofer's tree, or
// that tree read-only), /dev made by the Sentry, and /dev/shm.
Result<std::shared_ptr<vfs::Dentry>> build_root(const std::shared_ptr<gofer::Client>& client,
                                                  const std::shared_ptr<mm::MemoryFile>& memfile,
                                                  const BootConfig& config) {
  const bool overlay = config.overlay, read_only = config.root_read_only;
  auto lower = vfs::make_gofer_root(client, /*writable=*/!overlay && !read_only, memfile);
  if (!lower) return Err(lower.error());
  std::shared_ptr<vfs::Dentry> root;
  if (overlay) {
    auto inode = vfs::make_overlay_root((*lower)->inode_ptr(), memfile, tmpfs_size(*memfile, config.overlay_size));
    if (!inode) return Err(inode.error());
    root = std::make_shared<vfs::Dentry>("", nullptr, std::move(*inode));
    vfs::mount(root, nullptr, "overlay", "overlay", "", false);
  } else {
    root = *lower;
    vfs::mount(root, nullptr, "runsc-root", "9p", "", read_only);
  }
  auto dev = vfs::make_devfs(memfile);
  if (!dev) return Err(dev.error());
  // A read-only root without /dev keeps the image's (empty) view.
  if (auto r = mount_at(root, "/dev", *dev, "devtmpfs", "mode=755"); !r) {
    if (r.error() == EROFS) return root;
    return Err(r.error());
  }
  auto shm_fs = vfs::TmpfsFilesystem::create(memfile, tmpfs_size(*memfile, TmpfsMount::kHalfOfMemory));
  auto shm = std::make_shared<vfs::Dentry>("", nullptr, shm_fs->make_root(01777, vfs::Owner{}));
  if (auto r = mount_at(root, "/dev/shm", shm, "tmpfs", "mode=1777"); !r) return Err(r.error());
  // The sandbox's own ptys, with the options a container's /dev/pts has.
  if (auto r = mount_at(root, "/dev/pts", vfs::make_devpts(), "devpts", "gid=5,mode=620,ptmxmode=666"); !r)
    return Err(r.error());
  return root;
}

Result<void> add_container_mounts(kernel::Kernel& kernel, const std::shared_ptr<vfs::Dentry>& root,
                                  const BootConfig& config, std::string& error) {
  // The container's own tmpfs mounts (/tmp, /run...).
  for (const auto& m : config.tmpfs_mounts) {
    auto fs = vfs::TmpfsFilesystem::create(kernel.memfile_ptr(), tmpfs_size(kernel.memfile(), m.size));
    auto fs_root = std::make_shared<vfs::Dentry>("", nullptr, fs->make_root(m.mode & 07777, vfs::Owner{}));
    if (auto r = mount_at(root, m.destination, fs_root, "tmpfs", fmt::format("mode={:o}", m.mode & 07777)); !r) {
      error = "cannot mount tmpfs on " + m.destination + ": " + std::strerror(r.error());
      return Err(r.error());
    }
  }
  // Bind mounts: each from a gofer of its own, read-only if the bundle says.
  for (const auto& m : config.bind_mounts) {
    auto mount_client = std::make_shared<gofer::Client>(UniqueFd(m.gofer_fd));
    auto served = vfs::make_gofer_root(mount_client, /*writable=*/!m.read_only, kernel.memfile_ptr());
    // A file's gofer serves a directory holding just that file.
    if (served && m.file) served = (*served)->child(gofer::kFileMountName);
    Result<void> mounted = served ? mount_at(root, m.destination, *served, "bind", m.read_only ? "ro" : "rw",
                                             m.read_only)
                                  : Result<void>(Err(served.error()));
    if (!mounted) {
      error = "cannot bind-mount " + m.source + " on " + m.destination + ": " + std::strerror(mounted.error());
      return Err(mounted.error());
    }
    kernel.boot_log().add(fmt::format("Bind-mounted {} on {}{}", m.source, m.destination, m.read_only ? " read-only" : ""));
  }
  // /proc and /sys show the kernel's own state, so they come with it.
  for (auto [path, fs, type] : {std::tuple{"/proc", kernel::make_procfs(kernel), "proc"},
                                std::tuple{"/sys", kernel::make_sysfs(kernel), "sysfs"}}) {
    if (auto r = mount_at(root, path, fs, type, ""); !r && r.error() != EROFS) {
      error = std::string("cannot mount ") + path + ": " + std::strerror(r.error());
      return Err(r.error());
    }
  }
  return {};
}

}  // namespace runsc::cli
