// memfd_create(2): an anonymous tmpfs file, its pages in the memory file
// like any tmpfs file, so MAP_SHARED mappings of it are shared memory.
#include <linux/memfd.h>
#include <sys/syscall.h>

#include <mutex>

#include "sentry/kernel/kernel.h"
#include "syscalls/util.h"
#include "vfs/tmpfs.h"

namespace runsc::syscalls {
namespace {

// The hidden tmpfs the memfds live in, one per sandbox; its files are
// never linked anywhere a path could reach.
std::shared_ptr<vfs::Dentry> memfd_root(Task& t) {
  static std::once_flag once;
  static std::shared_ptr<vfs::Dentry> root;
  std::call_once(once, [&t] {
    auto fs = vfs::TmpfsFilesystem::create(t.kernel().memfile_ptr());
    root = std::make_shared<vfs::Dentry>("", nullptr, fs->make_root(01777, vfs::Owner{}));
  });
  return root;
}

Result<uint64_t> sys_memfd_create(Task& t, const SyscallArgs& a) {
  const unsigned flags = static_cast<unsigned>(a.u(1));
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB)) return Err(EINVAL);
  // Huge pages are not offered (the Sentry's memory file has 4 KiB pages).
  if (flags & MFD_HUGETLB) return Err(EINVAL);
  // memfd_create(2): the name is at most 249 bytes ("memfd:" + name fits NAME_MAX).
  auto name = t.mm().copy_in_string(a.u(0), 250);
  if (!name) return Err(name.error() == ENAMETOOLONG ? EINVAL : name.error());
  if (name->size() > 249) return Err(EINVAL);
  auto root = memfd_root(t);
  const std::string entry = "memfd:" + *name;
  auto inode = root->inode().mknod(entry, S_IFREG | 0777, 0, vfs::Owner{t.creds().fsuid, t.creds().fsgid});
  if (!inode) return Err(inode.error());
  // Named only for /proc/pid/fd ("/memfd:NAME (deleted)"), then unlinked.
  auto dentry = root->add_child(entry, *inode);
  (void)root->inode().unlink(entry, false);
  root->remove_child(entry);
  auto file = (*inode)->open(O_RDWR);
  if (!file) return Err(file.error());
  (*file)->set_dentry(dentry);
  auto fd = t.fds().install(std::move(*file), (flags & MFD_CLOEXEC) != 0);
  if (!fd) return Err(fd.error());
  return static_cast<uint64_t>(*fd);
}

}  // namespace

void register_memfd(kernel::SyscallTable& tb) {
  tb.set(SYS_memfd_create, "memfd_create", sys_memfd_create, {kernel::Arg::kPath, kernel::Arg::kHex});
}

}  // namespace runsc::syscalls
