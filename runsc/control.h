// The control socket of a running sandbox: how `runsc exec`, `ps`,
// `kill --all` and `events` reach its Sentry. A SOCK_SEQPACKET socket
// bound at <state dir>/control by runsc create (the Sentry, pivoted into
// an empty root, could not bind a path), listened on by the Sentry.
// Each message is one JSON object; host FDs travel with it (SCM_RIGHTS).
//
// Requests and replies:
//   {"op":"exec","process":<BootConfig JSON>} + FDs stdin, stdout, stderr
//       -> {"pid":N} or {"error":"..."}; later {"exit":STATUS} (a shell's
//       status: 128+N for signal N). Meanwhile the client may send
//       {"op":"signal","signal":S} for that process, or {"op":"tty_signal",
//       "signal":S} for the foreground group of its terminal; if the client
//       goes away first, the process is killed.
//   {"op":"add_container","id":ID,"config":<BootConfig JSON>} + FDs stdin,
//       stdout, stderr, the root's gofer, one gofer per bind mount
//       -> {"pid":N} (its first process, loaded, not started) or
//       {"error":...}; then as exec (exit, signals, killed if the client
//       goes away). exec takes "container":ID to run in its root.
//   {"op":"start_container","id":ID} -> {"started":PID} or {"error":...}
//   {"op":"ps"} -> {"processes":[{"pid","ppid","uid","comm","threads"}...]}
//   {"op":"signal","pid":P,"signal":S} -> {"signalled":0|1}
//   {"op":"signal_all","signal":S} -> {"signalled":N}
//   {"op":"stats"} -> {"pids":N,"memory_bytes":N,"cpu_ns":N}
//   {"op":"wait"} -> {"exit":STATUS} when the container's pid 1 exits
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc::kernel {
class Kernel;
}
namespace runsc::vfs {
class Dentry;
}

namespace runsc::cli::control {

// 0 or the errno of sendmsg.
int send(int sock, const nlohmann::json& message, std::span<const int> fds = {});
struct Received {
  bool closed = false;  // the peer is gone
  std::string text;     // the JSON text (parse with nlohmann::json::parse)
  std::vector<UniqueFd> fds;
};
Result<Received> receive(int sock);

// runsc create: the listening socket, bound at `state_dir`/control.
Result<UniqueFd> listen_at(const std::string& state_dir);
// A connection to the sandbox whose state is in `state_dir`.
Result<UniqueFd> connect_to(const std::string& state_dir);

// The Sentry: answers requests on `listener`, a thread per connection.
void serve(UniqueFd listener, kernel::Kernel& kernel, std::shared_ptr<vfs::Dentry> root);
// The Sentry, as pid 1 exited with `status`: answers the `wait` requests.
void finish(int status);

}  // namespace runsc::cli::control
