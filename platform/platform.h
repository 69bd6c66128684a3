// The seam between the Sentry and the machinery that runs application code.
// The Sentry never knows whether a task runs under ptrace, systrap or KVM:
// it asks a Platform for AddressSpaces and Contexts and runs tasks through
// Context::switch_to.
#pragma once

#include <signal.h>
#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/seccomp.h"

namespace runsc::platform {

// The x86-64 general registers of one application thread, as Linux lays
// them out for ptrace (struct user_regs_struct, with fs_base/gs_base).
using Registers = user_regs_struct;

// The highest address (exclusive) the application may use. The platform
// reserves what lies above it (the ptrace stub lives there).
constexpr uint64_t kMaxUserAddress = 0x7fffffffd000;

class AddressSpace {
 public:
  virtual ~AddressSpace() = default;
  // Maps [addr, addr+length) to the memory file at `memfile_offset` with
  // `prot` (PROT_*). Replaces what was mapped there.
  virtual Result<void> map(uint64_t addr, uint64_t memfile_offset, uint64_t length, int prot) = 0;
  virtual Result<void> unmap(uint64_t addr, uint64_t length) = 0;
  virtual Result<void> protect(uint64_t addr, uint64_t length, int prot) = 0;
  // Threads (CLONE_VM): called by a Sentry thread already running a task in
  // this address space, prepares room for one more Sentry thread to run
  // another task in it (the ptrace platform starts a stub thread).
  virtual Result<void> spawn_thread() = 0;
  // The calling Sentry thread stops running tasks in this address space
  // (its task exits or execs while others still use it).
  virtual void release_thread() = 0;
};

enum class StopReason {
  kSyscall,      // the application made a system call; registers hold it
  kFault,        // a synchronous fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP); see `info`
  kInterrupted,  // interrupt() was called from another thread
  kDied,         // the host process backing the context is gone (killed)
};

struct SwitchResult {
  StopReason reason;
  siginfo_t info{};  // for kFault
};

class Context {
 public:
  virtual ~Context() = default;
  // Runs the application thread with `regs` in `as` until it makes a
  // syscall, faults or is interrupted. `regs` is updated in place.
  virtual SwitchResult switch_to(AddressSpace& as, Registers& regs) = 0;
  // Makes a concurrent or the next switch_to return kInterrupted. Safe to
  // call from any thread.
  virtual void interrupt() = 0;
  // Releases per-thread platform resources (a stub thread) tied to this context.
  virtual void release() {}
  // The thread's FPU/SSE/AVX state in the XSAVE layout Linux puts in a
  // signal frame (legacy area with its software bytes, XSAVE header and
  // components), and setting it back (rt_sigreturn).
  virtual Result<std::vector<uint8_t>> fpstate(AddressSpace& as) = 0;
  virtual Result<void> set_fpstate(AddressSpace& as, std::span<const uint8_t> state) = 0;
  // CPU time the application has used on the host so far in the address
  // space this context last ran in (all its threads together: what user
  // time means for a sandboxed process). Callable from any thread.
  virtual int64_t cpu_time_ns() = 0;
};

class Platform {
 public:
  virtual ~Platform() = default;
  virtual std::string_view name() const = 0;
  virtual Result<std::unique_ptr<AddressSpace>> new_address_space() = 0;
  virtual std::unique_ptr<Context> new_context() = 0;
  // The host syscalls this platform makes from the Sentry and from the
  // processes it forks (which inherit the Sentry's seccomp filter), for the
  // Sentry's allowlist.
  virtual std::vector<seccomp::Rule> host_syscalls() const = 0;
};

}  // namespace runsc::platform
