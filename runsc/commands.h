// The runsc subcommands. Each returns the process exit status.
#pragma once

#include <functional>
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

// Starts the gofer (serving `root`) and the Sentry for `config`, calls
// `started` with the Sentry's pid, and waits: the exit status is the
// program's, or 128+N when signal N ended it. With `detach` it returns 0
// at once and the sandbox runs on in a session of its own.
int run_sandbox(const GlobalFlags& flags, BootConfig config, const std::string& root,
                const std::function<void(pid_t)>& started, bool detach);

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

// The OCI commands (runc's command line): run in the foreground, and the
// state store under --root.
struct RunOptions {
  std::string id;
  std::string bundle;    // default: the current directory
  std::string pid_file;  // the Sentry's pid, which runs as the container's init
  bool detach = false;   // run --detach: create and start, then return
};
// The sandbox's configuration from a bundle's config.json, and the root
// directory it names; a one-line `error` for anything malformed or not
// supported yet.
Result<BootConfig> load_bundle(const std::string& bundle, std::string& root_dir, std::string& error);
int run_container(const GlobalFlags& flags, const RunOptions& options);
// create: the container made, its program waiting; start: it runs.
int run_create(const GlobalFlags& flags, const RunOptions& options);
int run_start(const GlobalFlags& flags, const std::string& id);
int run_state(const GlobalFlags& flags, const std::string& id);
int run_list(const GlobalFlags& flags, const std::string& format);
int run_kill(const GlobalFlags& flags, const std::string& id, const std::string& signal_name);
int run_delete(const GlobalFlags& flags, const std::string& id, bool force);

}  // namespace runsc::cli
