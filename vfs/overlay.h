// The overlay root: a read-only lower tree (the gofer's) under a tmpfs
// upper layer inside the sandbox, merged as Linux's overlayfs merges them
// (Documentation/filesystems/overlayfs.rst): lookups prefer the upper
// layer, a file is copied up on its first modification, removing a lower
// name leaves a whiteout, and directory listings merge both layers. The
// lower tree is never written.
#pragma once

#include <memory>

#include "vfs/file.h"

namespace runsc::mm {
class MemoryFile;
}

namespace runsc::vfs {

// The root inode of an overlay of `lower` (a directory) under a fresh
// tmpfs upper layer whose pages come from `memfile`.
// `upper_size`: bytes the upper layer may hold (copy-ups and new files);
// past it writes are ENOSPC. 0: no limit but the memory file's.
Result<std::shared_ptr<Inode>> make_overlay_root(std::shared_ptr<Inode> lower, std::shared_ptr<mm::MemoryFile> memfile,
                                                 uint64_t upper_size = 0);

}  // namespace runsc::vfs
