#include "common/privileges.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "common/proc_file.h"

namespace runsc::privileges {
namespace {

// The highest capability number this kernel knows; the bounding set has
// one bit per number up to it.
int last_capability() {
  auto text = read_proc_file("/proc/sys/kernel/cap_last_cap");
  const int last = text ? std::atoi(text->c_str()) : CAP_LAST_CAP;
  return last > 0 && last < 64 ? last : CAP_LAST_CAP;
}

}  // namespace

std::string IdMap::line() const {
  return std::to_string(inside) + " " + std::to_string(outside) + " " + std::to_string(count) + "\n";
}

bool in_initial_user_namespace() {
  auto map = read_proc_file("/proc/self/uid_map");
  if (!map) return false;
  const char* buf = map->c_str();
  unsigned long inside = 1, outside = 1, count = 0;
  int used = 0;
  if (std::sscanf(buf, " %lu %lu %lu%n", &inside, &outside, &count, &used) != 3) return false;
  // One line only: another would follow what was read.
  unsigned long more;
  return inside == 0 && outside == 0 && count == 4294967295UL && std::sscanf(buf + used, " %lu", &more) != 1;
}

Result<void> write_id_maps(pid_t pid, const IdMap& uid, const IdMap& gid, bool deny_setgroups) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/";
  if (auto r = write_proc_file(dir + "uid_map", uid.line()); !r) return r;
  if (deny_setgroups) {
    if (auto r = write_proc_file(dir + "setgroups", "deny"); !r) return r;
  }
  return write_proc_file(dir + "gid_map", gid.line());
}

Result<void> drop_capabilities(uint64_t keep, bool lock_root) {
  // The bounding set first (it needs CAP_SETPCAP, which goes below).
  const int last = last_capability();
  for (int cap = 0; cap <= last; ++cap) {
    if (keep & cap_bit(cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return ErrFromErrno();
  }
  if (lock_root) {
    // Without SECBIT_NOROOT an execve by uid 0 would fill the permitted set
    // again from the bounding set (capabilities(7), "Capabilities and
    // execution of programs by root"); locked, nothing may undo it.
    const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                               SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                               SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    if (::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) return ErrFromErrno();
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return ErrFromErrno();
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    const auto word = static_cast<uint32_t>(keep >> (32 * i));
    data[i].effective = word;
    data[i].permitted = word;
    data[i].inheritable = 0;
  }
  if (::syscall(SYS_capset, &header, data) != 0) return ErrFromErrno();
  return {};
}

Result<void> raise_effective() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return ErrFromErrno();
  for (auto& d : data) d.effective = d.permitted;
  if (::syscall(SYS_capset, &header, data) != 0) return ErrFromErrno();
  return {};
}

Result<uint64_t> effective_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return ErrFromErrno();
  return uint64_t{data[0].effective} | (uint64_t{data[1].effective} << 32);
}

}  // namespace runsc::privileges
