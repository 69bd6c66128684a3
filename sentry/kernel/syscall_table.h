// The system call table: data, filled in by syscalls/ (one file per family)
// and consulted by the dispatcher for every trapped syscall.
#pragma once

#include <array>
#include <cstdint>

#include "common/result.h"

namespace runsc::kernel {

class Task;

struct SyscallArgs {
  uint64_t v[6];
  int32_t i(int n) const { return static_cast<int32_t>(v[n]); }
  uint64_t u(int n) const { return v[n]; }
};

using SyscallFn = Result<uint64_t> (*)(Task&, const SyscallArgs&);

// How --strace prints an argument.
enum class Arg : uint8_t { kNone, kInt, kHex, kFd, kPath, kPtr, kOct, kBuf };

// What happens to a syscall a signal interrupted (EINTR) once a handler
// runs: restarted if the handler has SA_RESTART (read, write, wait4,
// futex... as signal(7) lists them), or never (poll, select, sigsuspend,
// nanosleep...). With no handler to run, every interrupted call restarts.
enum class Restart : uint8_t { kNone, kIfSaRestart, kNever };

struct SyscallInfo {
  const char* name = nullptr;
  SyscallFn fn = nullptr;  // null: not implemented, ENOSYS
  std::array<Arg, 6> args{};
  Restart restart = Restart::kNever;
};

constexpr int kMaxSyscall = 512;

struct SyscallTable {
  std::array<SyscallInfo, kMaxSyscall> entries{};
  void set(int nr, const char* name, SyscallFn fn, std::array<Arg, 6> args = {}) {
    entries[static_cast<size_t>(nr)] = SyscallInfo{name, fn, args};
  }
  void set_restart(int nr, Restart restart) { entries[static_cast<size_t>(nr)].restart = restart; }
};

}  // namespace runsc::kernel
