// The runsc subcommands. Each returns the process exit status.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/unique_fd.h"
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
// The gofers of a container: one for `root`, one per bind mount of
// `config` (whose gofer_fd is set to the Sentry's end of its socket).
// sentry_ends[0] is the root's.
struct Gofers {
  std::vector<pid_t> pids;
  std::vector<UniqueFd> sentry_ends;
};
Result<Gofers> start_gofers(const GlobalFlags& flags, BootConfig& config, const std::string& root, bool detach,
                            std::string& error);

// `reason`, if not empty when the sandbox was killed, is why (the caller
// killed it and says so itself).
int run_sandbox(const GlobalFlags& flags, BootConfig config, const std::string& root,
                const std::function<void(pid_t)>& started, bool detach, const std::string* reason = nullptr);

// The Sentry: `runsc boot --gofer-fd N --config-fd M`.
int run_boot(int gofer_fd, int config_fd);

// The gofer: `runsc gofer --root DIR --socket-fd N`.
int run_gofer(const std::string& root, int socket_fd, bool read_only, bool seccomp_log);

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
  std::string console_socket;  // process.terminal: where the pty's master goes
  bool detach = false;   // run --detach: create and start, then return
};
// The sandbox's configuration from a bundle's config.json, and the root
// directory it names; a one-line `error` for anything malformed or not
// supported yet. `spec`, if given, receives config.json as read.
Result<BootConfig> load_bundle(const std::string& bundle, std::string& root_dir, std::string& error,
                               nlohmann::ordered_json* spec = nullptr);
// config.json's process object into `c` (for `exec --process` too).
bool parse_process(const nlohmann::ordered_json& process, BootConfig& c, std::string& error);
// A container's OCI state from --root (status from whether its Sentry
// lives); false with `error` if there is no such container.
bool load_state(const GlobalFlags& flags, const std::string& id, nlohmann::ordered_json& state, std::string& error);
bool save_state(const GlobalFlags& flags, const std::string& id, const nlohmann::ordered_json& state);
// An exclusive flock on the container's state directory, held while a
// command reads, acts on and rewrites its state (start, kill, delete,
// pause, resume); an empty FD if there is no such container.
UniqueFd lock_container(const GlobalFlags& flags, const std::string& id);
int run_container(const GlobalFlags& flags, const RunOptions& options);
// create: the container made, its program waiting; start: it runs.
int run_create(const GlobalFlags& flags, const RunOptions& options);
int run_start(const GlobalFlags& flags, const std::string& id);
int run_state(const GlobalFlags& flags, const std::string& id);
int run_list(const GlobalFlags& flags, const std::string& format);
// A command's failure: one line on stderr, and in --log (where containerd's
// shim looks for it). Returns the exit status, 1.
int report_error(const std::string& message);
// A signal by name ("TERM", "SIGTERM") or number; 0 if unknown.
int parse_signal(std::string name);
int run_kill(const GlobalFlags& flags, const std::string& id, const std::string& signal_name);
int run_delete(const GlobalFlags& flags, const std::string& id, bool force);

// `runsc exec`: another process in a running container.
struct ExecOptions {
  std::string id;
  std::string process_file;  // --process: a config.json process object
  std::vector<std::string> argv;
  std::string cwd;
  std::vector<std::string> env;  // appended to the container's
  std::string user;              // UID[:GID]
  std::string pid_file;
  std::string console_socket;
  bool tty = false;
  bool detach = false;
};
int run_exec(const GlobalFlags& flags, const ExecOptions& options);
// The startContainer hooks of `spec`, run inside the (created) container
// with `state` on stdin; "" or what failed.
std::string run_start_container_hooks(const GlobalFlags& flags, const std::string& id,
                                      const nlohmann::ordered_json& spec, const nlohmann::ordered_json& state);
// Stands for a process of the sandbox whose control socket is in
// `control_dir`: sends `request` (exec or add_container) with `fds`, then
// passes our signals on (a terminal's as tty_signal) and returns its exit
// status. With `started` >= 0, writes there a NUL and the process's pid
// once it exists, or an error message.
int stand_in(const std::string& control_dir, const nlohmann::json& request, std::span<const int> fds, bool terminal,
             int started);
// `runsc ps ID`: the container's processes as the sandbox sees them
// (--format json: the host pids, as runc; here the Sentry's).
int run_ps(const GlobalFlags& flags, const std::string& id, const std::string& format);
// `runsc events [--stats] [--interval D] ID`: one JSON stats event, or
// one every `interval_ms` until the container stops.
int run_events(const GlobalFlags& flags, const std::string& id, bool stats_only, int interval_ms);
// `runsc wait ID`: blocks until the container's first process exits and
// prints {"id":ID,"exitStatus":N}.
int run_wait(const GlobalFlags& flags, const std::string& id);
// `runsc pause ID` / `runsc resume ID` (pause == false): the sandbox's
// freezer cgroup; the state says "paused" in between.
int run_pause(const GlobalFlags& flags, const std::string& id, bool pause);
// `kill --all`: the signal to every process of the container.
int run_kill_all(const GlobalFlags& flags, const std::string& id, int sig);

}  // namespace runsc::cli
