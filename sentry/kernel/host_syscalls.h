// The host syscalls the Sentry itself makes once it runs applications: its
// seccomp allowlist (the platform adds its own, Platform::host_syscalls()).
#pragma once

#include <vector>

#include "common/seccomp.h"

namespace runsc::kernel {

std::vector<seccomp::Rule> sentry_host_syscalls();

}  // namespace runsc::kernel
