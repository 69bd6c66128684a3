#include "vfs/devfs.h"

#include <sys/sysmacros.h>

#include "vfs/tmpfs.h"

namespace runsc::vfs {

Result<std::shared_ptr<Dentry>> make_devfs(std::shared_ptr<mm::MemoryFile> memfile) {
  auto fs = TmpfsFilesystem::create(std::move(memfile));
  auto root = fs->make_root(0755, Owner{});
  // The memory devices (devices.txt: major 1).
  struct Node {
    const char* name;
    unsigned minor;
  };
  for (const Node& n : {Node{"null", 3}, Node{"zero", 5}, Node{"full", 7}, Node{"random", 8}, Node{"urandom", 9}}) {
    if (auto r = root->mknod(n.name, S_IFCHR | 0666, makedev(1, n.minor), Owner{}); !r) return Err(r.error());
  }
  // /dev/tty names the caller's controlling terminal and /dev/console the
  // sandbox's (ENXIO without one, as on Linux; syscalls/sys_tty.cc).
  if (auto r = root->mknod("tty", S_IFCHR | 0666, makedev(5, 0), Owner{}); !r) return Err(r.error());
  if (auto r = root->mknod("console", S_IFCHR | 0620, makedev(5, 1), Owner{}); !r) return Err(r.error());
  struct Link {
    const char* name;
    const char* target;
  };
  for (const Link& l : {Link{"fd", "/proc/self/fd"}, Link{"stdin", "/proc/self/fd/0"},
                        Link{"stdout", "/proc/self/fd/1"}, Link{"stderr", "/proc/self/fd/2"},
                        Link{"ptmx", "pts/ptmx"}}) {
    if (auto r = root->symlink(l.name, l.target, Owner{}); !r) return Err(r.error());
  }
  if (auto r = root->mkdir("shm", 01777, Owner{}); !r) return Err(r.error());
  if (auto r = root->mkdir("pts", 0755, Owner{}); !r) return Err(r.error());
  return std::make_shared<Dentry>("", nullptr, std::move(root));
}

}  // namespace runsc::vfs
