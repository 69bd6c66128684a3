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

// `runsc install` / `runsc uninstall`: this binary as a Docker runtime in
// daemon.json.
struct InstallOptions {
  std::string runtime = "runsc";
  std::string config_file = "/etc/docker/daemon.json";
  std::vector<std::string> runtime_args;  // flags dockerd passes to runsc
};
int run_install(const InstallOptions& options);
int run_uninstall(const InstallOptions& options);

// `runsc spec [--bundle DIR]`: a starting config.json.
int run_spec(const std::string& bundle);

}  // namespace runsc::cli
