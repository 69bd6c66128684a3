// The ptrace platform: every application address space is a stub host
// process whose threads are traced with PTRACE_SYSEMU, so each system call
// the application makes stops before the host executes it and is answered
// by the Sentry instead.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "platform/platform.h"

namespace runsc::platform {

// Where the stub's single page of code lives in every stub process, just
// above kMaxUserAddress (with a guard page between).
constexpr uint64_t kStubAddr = 0x7fffffffe000;

// Creates the ptrace platform. `memfile_fd` is the Sentry's memory file,
// which every stub keeps open so pages can be mapped into it.
Result<std::unique_ptr<Platform>> make_ptrace_platform(int memfile_fd);

}  // namespace runsc::platform
