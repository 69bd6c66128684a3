// /dev as the Sentry makes it: a tmpfs holding the device nodes the Sentry
// implements and the usual links, never the host's /dev.
#pragma once

#include <memory>

#include "vfs/file.h"

namespace runsc::mm {
class MemoryFile;
}

namespace runsc::vfs {

// The root of a fresh /dev: null, zero, full, random, urandom, tty (0666),
// fd, stdin, stdout, stderr (links into /proc/self/fd), ptmx (a link to
// pts/ptmx, as in a container), and empty shm and pts directories for the
// mounts that go there.
Result<std::shared_ptr<Dentry>> make_devfs(std::shared_ptr<mm::MemoryFile> memfile);

}  // namespace runsc::vfs
