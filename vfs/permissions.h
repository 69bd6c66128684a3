// Discretionary access control as Linux applies it (path_resolution(7),
// "Permissions"; capabilities(7) for the overrides).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <vector>

#include "common/result.h"

namespace runsc::vfs {

// The credentials a file operation is checked against: the filesystem
// IDs and the capabilities that override file permissions.
struct Caller {
  uint32_t fsuid = 0;
  uint32_t fsgid = 0;
  std::vector<uint32_t> groups;
  bool cap_chown = false;
  bool cap_dac_override = false;
  bool cap_dac_read_search = false;
  bool cap_fowner = false;
  bool cap_fsetid = false;
  bool cap_mknod = false;

  bool in_group(uint32_t gid) const;
};

// MAY_READ/MAY_WRITE/MAY_EXEC as the R_OK/W_OK/X_OK bits.
inline constexpr int kMayRead = 4, kMayWrite = 2, kMayExec = 1;

// generic_permission(): the owner, group or other bits that apply to the
// caller, then CAP_DAC_OVERRIDE (everything but executing a file with no
// execute bit) and CAP_DAC_READ_SEARCH (reading, and searching
// directories). EACCES when refused.
Result<void> may_access(const Caller& caller, const struct stat& st, int mask);

// Whether the caller owns the file or has CAP_FOWNER (inode_owner_or_capable()).
bool owner_or_capable(const Caller& caller, const struct stat& st);

// The sticky-bit rule for removing or renaming `victim` from `dir`
// (check_sticky()): EPERM unless the caller owns one of them or has CAP_FOWNER.
Result<void> check_sticky(const Caller& caller, const struct stat& dir, const struct stat& victim);

}  // namespace runsc::vfs
