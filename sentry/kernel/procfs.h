// procfs (proc(5)) and the part of sysfs programs read, made from the
// Sentry's own state: its processes, their memory maps, FDs and
// credentials, and the sandbox's mounts. Nothing comes from the host's
// /proc or /sys.
#pragma once

#include <memory>

#include "vfs/file.h"

namespace runsc::kernel {

class Kernel;

// The root of /proc for `kernel` (which must outlive it).
std::shared_ptr<vfs::Dentry> make_procfs(Kernel& kernel);
// The root of /sys: devices/system/cpu/{online,possible,present}, and
// empty fs/cgroup for mounts that expect it.
std::shared_ptr<vfs::Dentry> make_sysfs(Kernel& kernel);

}  // namespace runsc::kernel
