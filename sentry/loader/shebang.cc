// "#!" parsing with the semantics of Linux's load_script() (fs/binfmt_script.c,
// as reworked in 5.0/5.1): only the first BINPRM_BUF_SIZE bytes are looked
// at; the interpreter name ends at a space, tab or NUL; everything after it
// up to the end of the line, trimmed, is one argument; a line that runs off
// the end of the buffer is accepted only if the name itself is complete.
#include "sentry/loader/shebang.h"

#include <algorithm>
#include <array>
#include <cerrno>

namespace runsc::loader {
namespace {

constexpr size_t kNone = static_cast<size_t>(-1);

bool spacetab(uint8_t c) { return c == ' ' || c == '\t'; }

using Buf = std::array<uint8_t, kBinprmBufSize>;

// First index in [first, last] (inclusive, as in Linux) that is not a
// space or tab.
size_t next_non_spacetab(const Buf& b, size_t first, size_t last) {
  for (; first <= last; ++first) {
    if (!spacetab(b[first])) return first;
  }
  return kNone;
}

// First index in [first, last] that ends a name: space, tab or NUL.
size_t next_terminator(const Buf& b, size_t first, size_t last) {
  for (; first <= last; ++first) {
    if (spacetab(b[first]) || b[first] == '\0') return first;
  }
  return kNone;
}

// The C string starting at `from`, cut at `end` or at an earlier NUL, the
// way the kernel's copy_string_kernel()/open_exec() would read it.
std::string c_string(const Buf& b, size_t from, size_t end) {
  auto first = b.begin() + static_cast<std::ptrdiff_t>(from);
  auto last = std::find(first, b.begin() + static_cast<std::ptrdiff_t>(end), '\0');
  return std::string(first, last);
}

}  // namespace

Result<std::optional<Shebang>> parse_shebang(std::span<const uint8_t> head) {
  // The kernel's buffer is zero-filled past the end of a short file.
  Buf b{};
  std::copy_n(head.begin(), std::min(head.size(), b.size()), b.begin());
  if (b[0] != '#' || b[1] != '!') return std::optional<Shebang>{};

  const size_t buf_end = b.size() - 1;
  size_t end;  // one past the last byte of the line (Linux's i_end)
  auto newline = std::find(b.begin(), b.end(), '\n');
  if (newline != b.end()) {
    end = static_cast<size_t>(newline - b.begin());
  } else {
    // No newline: the line may be cut short. That is fine for the
    // argument (the interpreter re-reads the script) but not for the name,
    // so it must be followed by a space, tab or NUL inside the buffer.
    size_t start = next_non_spacetab(b, 2, buf_end);
    if (start == kNone) return Err(ENOEXEC);  // nothing but spaces/tabs
    if (next_terminator(b, start, buf_end) == kNone) return Err(ENOEXEC);
    // The last byte is sacrificed to the terminating NUL, as in Linux.
    end = buf_end;
  }
  // Trailing spaces/tabs are not part of the argument. b[1] is '!', so
  // this stops by index 2 at the latest.
  while (spacetab(b[end - 1])) --end;

  size_t name = next_non_spacetab(b, 2, end);
  if (name == kNone || name == end) return Err(ENOEXEC);  // no interpreter name

  // The separator is searched up to and including `end`, before the NUL
  // goes there; a NUL separator means there is no argument even if more
  // text follows it.
  size_t arg = kNone;
  size_t sep = next_terminator(b, name, end);
  if (sep != kNone && b[sep] != '\0') arg = next_non_spacetab(b, sep, end);

  Shebang out;
  if (arg != kNone) {
    out.interpreter = c_string(b, name, sep);
    out.argument = c_string(b, arg, end);
  } else {
    out.interpreter = c_string(b, name, end);
  }
  // "#!\0...": Linux goes on to open_exec(""), which fails with ENOENT.
  if (out.interpreter.empty()) return Err(ENOENT);
  return std::optional<Shebang>{std::move(out)};
}

}  // namespace runsc::loader
