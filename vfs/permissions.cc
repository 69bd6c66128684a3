#include "vfs/permissions.h"

#include <algorithm>

namespace runsc::vfs {

bool Caller::in_group(uint32_t gid) const {
  return gid == fsgid || std::find(groups.begin(), groups.end(), gid) != groups.end();
}

Result<void> may_access(const Caller& caller, const struct stat& st, int mask) {
  mask &= kMayRead | kMayWrite | kMayExec;
  int bits;
  if (st.st_uid == caller.fsuid) bits = (st.st_mode >> 6) & 7;
  else if (caller.in_group(st.st_gid)) bits = (st.st_mode >> 3) & 7;
  else bits = st.st_mode & 7;
  if ((bits & mask) == mask) return {};
  const bool is_dir = S_ISDIR(st.st_mode);
  if (caller.cap_dac_override) {
    // Execute is granted only if some execute bit is set, or for directories.
    if (!(mask & kMayExec) || is_dir || (st.st_mode & 0111)) return {};
  }
  if (caller.cap_dac_read_search) {
    if (mask == kMayRead || (is_dir && !(mask & kMayWrite))) return {};
  }
  return Err(EACCES);
}

bool owner_or_capable(const Caller& caller, const struct stat& st) {
  return st.st_uid == caller.fsuid || caller.cap_fowner;
}

Result<void> check_sticky(const Caller& caller, const struct stat& dir, const struct stat& victim) {
  if (!(dir.st_mode & S_ISVTX)) return {};
  if (victim.st_uid == caller.fsuid || dir.st_uid == caller.fsuid || caller.cap_fowner) return {};
  return Err(EPERM);
}

}  // namespace runsc::vfs
