// A container's filesystem tree in the Sentry: its root (an overlay over
// the gofer's tree, or that tree itself), /dev and /dev/shm, then its tmpfs
// and bind mounts, /proc and /sys. The first container's at boot, and
// each one added to a running sandbox.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "runsc/config.h"

namespace runsc::gofer {
class Client;
}
namespace runsc::mm {
class MemoryFile;
}
namespace runsc::kernel {
class Kernel;
}
namespace runsc::vfs {
class Dentry;
}

namespace runsc::cli {

// The root from the gofer at `client` as `config` says (read-only lower
// layer under an in-memory overlay of config.overlay_size bytes, or the
// tree itself), with /dev and /dev/shm.
Result<std::shared_ptr<vfs::Dentry>> build_root(const std::shared_ptr<gofer::Client>& client,
                                                const std::shared_ptr<mm::MemoryFile>& memfile,
                                                const BootConfig& config);

// The rest of `config`'s mounts on `root`: tmpfs, bind mounts (their
// gofer_fd taken over), /proc and /sys. `error` says which failed.
Result<void> add_container_mounts(kernel::Kernel& kernel, const std::shared_ptr<vfs::Dentry>& root,
                                  const BootConfig& config, std::string& error);

}  // namespace runsc::cli
