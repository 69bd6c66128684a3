// "#!" interpreter lines, parsed the way Linux's fs/binfmt_script.c does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"

namespace runsc::loader {

// fs/exec.c's BINPRM_BUF_SIZE: how much of the file the kernel looks at.
inline constexpr size_t kBinprmBufSize = 256;

struct Shebang {
  std::string interpreter;
  // Everything after the interpreter, trimmed of spaces/tabs, as ONE
  // argument (Linux does not split it). May be present but empty.
  std::optional<std::string> argument;
};

// `head` is the first bytes of the file (at most kBinprmBufSize are looked
// at; a shorter head reads as if padded with NULs, as for a short file).
// nullopt: not a script. ENOEXEC: no interpreter name, or a name that may be
// truncated (no newline and no space/tab/NUL after it within the buffer).
// ENOENT: the name is empty because a NUL follows "#!" (Linux's
// open_exec("") answer).
Result<std::optional<Shebang>> parse_shebang(std::span<const uint8_t> head);

}  // namespace runsc::loader
