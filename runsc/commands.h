// The runsc subcommands. Each returns the process exit status.
#pragma once

#include <string>
#include <vector>

#include "runsc/config.h"

namespace runsc::cli {

struct DoOptions {
  std::string root_dir;  // empty: the host's / (read-only)
  std::string cwd;       // empty: the caller's working directory
  std::vector<std::string> env;  // K=V added to (or replacing in) the caller's environment
  bool read_only = false;        // the root read-only, with no overlay (writes fail with EROFS)
  std::vector<std::string> argv;
};

int run_do(const GlobalFlags& flags, const DoOptions& options);

// The Sentry: `runsc boot --gofer-fd N --config-fd M`.
int run_boot(int gofer_fd, int config_fd);

// The gofer: `runsc gofer --root DIR --socket-fd N`.
int run_gofer(const std::string& root, int socket_fd, bool read_only);

}  // namespace runsc::cli
