// Starting the sandbox's host processes (the gofers and the Sentry) with
// least privilege: each in namespaces of its own, a user namespace among
// them, so that what it keeps of its privileges it holds only there.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/privileges.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "runsc/config.h"

namespace runsc::cli {

// The user namespace a child gets (CLONE_NEWUSER): its maps, written by
// the parent before the child runs on. The child is uid and gid 0 inside.
struct UserNamespace {
  privileges::IdMap uid, gid;
  bool deny_setgroups = false;  // an unprivileged parent must
};

struct SpawnOptions {
  int clone_flags = 0;          // CLONE_NEW* besides CLONE_NEWUSER
  std::vector<int> keep_fds;    // left open across execve
  bool detached = false;        // a session of its own, outliving runsc
  bool own_process_group = true;
  bool quiet = false;           // stdio to /dev/null
  std::optional<UserNamespace> user_ns;
  // Parent side, once the maps are written and before the child execs.
  std::function<Result<void>(pid_t)> prepare;
};

// Starts `argv` (this binary, by the FD `exe_fd`, so that a user who may
// not walk to its path can still run it) in a child. Returns its pid.
Result<pid_t> spawn_self(int exe_fd, const std::vector<std::string>& argv, const SpawnOptions& options);

// This binary, opened for spawn_self().
Result<UniqueFd> open_self();

// Whether runsc runs as root of the initial user namespace (privileged),
// or as an ordinary user, or root of a nested user namespace (rootless:
// user namespaces are what it has).
bool rootless();

// The user namespace of a gofer: as root, every host ID mapped to itself,
// so that it reads and writes files of any owner with the few capabilities
// it keeps (they count only for IDs its namespace maps); rootless, the
// user's own IDs as 0.
UserNamespace gofer_user_namespace();

// The user namespace of the Sentry: as root, uid and gid 0 inside are
// nobody and nogroup on the host; rootless, the user's own.
UserNamespace sentry_user_namespace();

// The Sentry's host uid and gid (what it owns, e.g. `runsc create`'s FIFO).
uid_t sentry_host_uid();
gid_t sentry_host_gid();

// The sandbox's network namespace made ready for an unprivileged Sentry:
// `lo` up, the bundle's net.* sysctls written, and the ports below
// net.ipv4.ip_unprivileged_port_start opened to anyone (the Sentry, which
// holds no capability, binds for the application and itself refuses the
// application a port it may not have: `config.unprivileged_port_start`
// keeps the namespace's value), and, unless the bundle sets the range,
// ping sockets to the Sentry's group `sentry_gid` (as the caller's user
// namespace sees it). Run in the namespace; `error` says what failed.
Result<void> prepare_network_namespace(BootConfig& config, gid_t sentry_gid, std::string& error);

// Whether `path` names the calling thread's own network namespace (false
// for an empty path or one that cannot be read).
bool is_own_network_namespace(const std::string& path);

// net.ipv4.ip_unprivileged_port_start of the calling thread's network namespace.
Result<int> read_unprivileged_port_start();

// Enters a network namespace on the calling thread until destroyed: the
// one at `path`, or (empty path) a new one. The thread returns to its
// previous namespace afterwards.
class NetworkNamespaceScope {
 public:
  static Result<NetworkNamespaceScope> enter(const std::string& path);
  NetworkNamespaceScope(NetworkNamespaceScope&&) = default;
  ~NetworkNamespaceScope();

 private:
  explicit NetworkNamespaceScope(UniqueFd previous) : previous_(std::move(previous)) {}
  UniqueFd previous_;
};

}  // namespace runsc::cli
