// The gofer server: serves one directory tree to one Sentry over a
// SOCK_SEQPACKET socket (see gofer/protocol.h), handing out host FDs.
#pragma once

#include <string>
#include <vector>

#include "common/seccomp.h"

namespace runsc::gofer {

struct ServerOptions {
  // The directory served as handle 0. gofer_main() serves "/" after it has
  // pivoted into the container root.
  std::string root = "/";
  // Refuse Open flags that would write (EROFS).
  bool read_only = true;
};

// Serves requests on `socket_fd` (not closed) one at a time until the peer
// closes its end; returns 0 then, or a positive errno if the root cannot be
// opened or the socket fails.
int serve(int socket_fd, const ServerOptions& options);

struct GoferConfig {
  std::string root;
  int socket_fd = -1;
  bool read_only = true;
  bool seccomp_log = false;  // log, not refuse, host syscalls outside the allowlist
};

// The `runsc gofer` process: confines itself to `config.root` (own mount
// namespace, pivot_root into a nosuid, nodev and, if read_only, read-only
// bind mount of it), then serves. Returns the process exit code: 0 when the
// Sentry closed the socket, 1 on any failure.
int gofer_main(const GoferConfig& config);

// The host syscalls serve() makes: the gofer's seccomp allowlist, installed
// by gofer_main() once it is confined. Only a `writable` gofer may change
// the tree.
std::vector<seccomp::Rule> gofer_host_syscalls(bool writable = false);

}  // namespace runsc::gofer
