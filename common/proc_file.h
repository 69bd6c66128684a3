// Reading and writing the small files of /proc and /proc/sys: one read,
// one write (the kernel parses some, uid_map among them, whole and only
// once).
#pragma once

#include <string>

#include "common/result.h"

namespace runsc {

// Up to 4 KiB of `path`.
Result<std::string> read_proc_file(const std::string& path);
// `text` to `path` in a single write(2).
Result<void> write_proc_file(const std::string& path, const std::string& text);

}  // namespace runsc
