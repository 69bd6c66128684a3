// Plain values shared by the gofer client (in the Sentry), the server and
// the wire protocol. Kept free of heavy includes: vfs/ includes it through
// gofer/client.h.
#pragma once

#include <cstdint>
#include <string>

struct stat;

namespace runsc::gofer {

// A server-side reference to one file of the served tree (an O_PATH FD in
// the gofer). Ids are never reused within a connection.
using Handle = uint64_t;

// The root of the served tree: valid for the whole connection and never
// released.
inline constexpr Handle kRootHandle = 0;
// A gofer serving one file (a bind mount of a regular file) serves a
// directory holding only that file, under this name.
inline constexpr const char* kFileMountName = "file";

// The fields of struct stat, with fixed widths so that they travel unchanged.
struct FileStat {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t nlink = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t rdev = 0;
  int64_t size = 0;
  int64_t blksize = 0;
  int64_t blocks = 0;
  int64_t atime_sec = 0;
  int64_t atime_nsec = 0;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;
  int64_t ctime_sec = 0;
  int64_t ctime_nsec = 0;

  bool operator==(const FileStat&) const = default;
};

// Converts what the host's fstat() filled in.
FileStat file_stat_from_host(const struct stat& st);

struct WalkResult {
  Handle handle = 0;
  FileStat stat;

  bool operator==(const WalkResult&) const = default;
};

// One directory entry as getdents64 reports it: `type` is a DT_* value.
// "." and ".." are never sent; the Sentry synthesizes them.
struct DirEntry {
  uint64_t ino = 0;
  uint8_t type = 0;
  std::string name;

  bool operator==(const DirEntry&) const = default;
};

}  // namespace runsc::gofer
