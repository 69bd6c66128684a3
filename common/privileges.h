// Least privilege for the sandbox's own processes: user-namespace ID maps
// and dropping capabilities (capabilities(7), user_namespaces(7)).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/result.h"

namespace runsc::privileges {

// The host user and group the Sentry runs as when runsc is root: nobody
// and nogroup, as gVisor's sandbox does, so a compromised Sentry owns no
// host file and can signal no process but its own kind.
constexpr uid_t kSandboxHostUid = 65534;
constexpr gid_t kSandboxHostGid = 65534;

// Capability bits (linux/capability.h), as masks.
constexpr uint64_t cap_bit(int cap) { return uint64_t{1} << cap; }

// One line of /proc/PID/uid_map or gid_map: `count` IDs from `inside` in
// the namespace are `outside` in the parent.
struct IdMap {
  uint32_t inside = 0, outside = 0, count = 1;
  std::string line() const;
};

// Whether the calling process is in the initial user namespace (its
// uid_map is the identity over every ID, "0 0 4294967295").
bool in_initial_user_namespace();

// Writes the user namespace's maps of `pid` (a child just cloned with
// CLONE_NEWUSER). `deny_setgroups`: an unprivileged writer must deny
// setgroups(2) before it may write gid_map (user_namespaces(7)).
Result<void> write_id_maps(pid_t pid, const IdMap& uid, const IdMap& gid, bool deny_setgroups);

// Leaves the calling thread (and every thread it makes afterwards) with
// exactly the capabilities in `keep`, in its effective, permitted and
// bounding sets; inheritable and ambient empty. With `lock_root`, uid 0
// gains nothing by execve(2) again (SECBIT_NOROOT, locked). Needs
// CAP_SETPCAP in the current user namespace to shrink the bounding set.
// Call it before the process has other threads: capabilities are per
// thread.
Result<void> drop_capabilities(uint64_t keep, bool lock_root = true);

// Makes the thread's effective set its permitted set (after a change of
// IDs under PR_SET_KEEPCAPS, which clears the effective set).
Result<void> raise_effective();

// The thread's effective capabilities (capget(2)).
Result<uint64_t> effective_capabilities();

}  // namespace runsc::privileges
