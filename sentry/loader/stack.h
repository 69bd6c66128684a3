// The initial process stack of a new program (SysV x86-64 ABI, section
// 3.4.1), byte for byte as Linux's fs/exec.c and create_elf_tables() in
// fs/binfmt_elf.c lay it out, without the random stack offset (as with
// randomize_va_space=0). Pure: the caller copies `bytes` to `sp`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace runsc::loader {

// fs/exec.c: no single argument or environment string (with its NUL) may
// be longer than 32 pages.
inline constexpr uint64_t kMaxArgStrlen = 32 * 4096;

struct AuxEntry {
  uint64_t key;
  uint64_t value;
};

struct StackInput {
  uint64_t stack_top;  // highest address (exclusive), page aligned
  // An empty argv gets "" as argv[0], as Linux does since 5.18.
  std::vector<std::string> argv, envp;
  std::string execfn;                // AT_EXECFN string (the filename given to execve)
  std::string platform = "x86_64";   // AT_PLATFORM string; empty: no AT_PLATFORM
  std::array<uint8_t, 16> random{};  // AT_RANDOM bytes
  // Entries the caller computes (AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ,
  // AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, ..., AT_SYSINFO_EHDR,
  // AT_MINSIGSTKSZ), in the order they should appear. Must not contain
  // AT_NULL, AT_RANDOM, AT_EXECFN or AT_PLATFORM: build_stack adds those.
  std::vector<AuxEntry> auxv;
  // RLIMIT_STACK's soft limit, which bounds the argument strings.
  uint64_t stack_rlimit = 8 << 20;
};

struct StackImage {
  uint64_t sp;                 // initial %rsp: points at argc; 16-byte aligned
  std::vector<uint8_t> bytes;  // exactly the bytes of [sp, stack_top)
  // [start, end) of the argv and envp strings, NULs included (Linux's
  // mm->arg_start/arg_end/env_start/env_end, for /proc/pid/cmdline, environ).
  uint64_t argv_start, argv_end, envp_start, envp_end;
  uint64_t execfn_addr, random_addr;
  uint64_t platform_addr;  // 0 when platform is empty
};

// E2BIG: a string longer than kMaxArgStrlen, or the strings plus the argv
// and envp pointers exceed Linux's bound (a quarter of stack_rlimit, capped
// at 6 MiB, but never below 128 KiB). EINVAL: stack_top not page aligned, a
// string with an embedded NUL, or auxv holding an entry build_stack owns.
// EFAULT: the image does not fit below stack_top.
Result<StackImage> build_stack(const StackInput& in);

}  // namespace runsc::loader
