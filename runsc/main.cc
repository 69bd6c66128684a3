// runsc: the command line. Global flags as runc has them, plus ours; the
// subcommands live in their own files.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "runsc/commands.h"

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kOciVersion = "1.1.0";

}  // namespace

int main(int argc, char** argv) {
  using namespace runsc::cli;
  CLI::App app{"runsc: an application kernel that runs containers in a user-space sandbox", "runsc"};
  app.set_version_flag("-v,--version",
                       std::string("runsc version ") + kVersion + "\nspec: " + kOciVersion);
  // At most one command; none is reported after parsing, so that an
  // unknown flag or command is what the error names.
  app.require_subcommand(0, 1);

  GlobalFlags g;
  app.add_option("--root", g.root_state, "directory for container state")->capture_default_str();
  app.add_option("--log", g.log, "file to write runtime logs to");
  app.add_option("--log-format", g.log_format, "log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "enable debug logging");
  app.add_option("--debug-log", g.debug_log, "file for debug logs (default: stderr)");
  app.add_flag("--strace", g.strace, "print every system call the application makes");
  app.add_flag("--seccomp-log", g.seccomp_log,
               "debugging only: host syscalls outside the Sentry's and gofers' seccomp allowlists are logged "
               "(dmesg) and run, instead of stopping the sandbox");
  app.add_option("--platform", g.platform, "platform: ptrace")->check(CLI::IsMember({"ptrace"}));
  app.add_option("--network", g.network, "network: sandbox, host or none")
      ->check(CLI::IsMember({"sandbox", "host", "none"}));
  app.add_option("--overlay2", g.overlay2,
                 "root overlay: root:memory (writes stay in sandbox memory) or none (the root as the gofer serves it)")
      ->check(CLI::IsMember({"root:memory", "none"}))
      ->capture_default_str();
  // Sizes as tmpfs takes them (512m, 2g): parsed here so a bad one is a
  // usage error before anything starts.
  auto size_option = [&app](const char* name, uint64_t& target, const char* help) {
    app.add_option_function<std::string>(
           name,
           [&target](const std::string& v) {
             auto size = parse_size(v);
             if (!size || *size == 0) throw CLI::ValidationError("not a size (e.g. 512m, 2g): " + v);
             target = *size;
           },
           help)
        ->type_name("SIZE");
  };
  size_option("--total-memory", g.total_memory,
              "the sandbox's memory; past it a page fault is the OOM killer's SIGKILL and tmpfs writes ENOSPC "
              "(default: the host's RAM, or linux.resources.memory.limit)");
  size_option("--overlay-size", g.overlay_size,
              "the root overlay's upper layer; past it writes are ENOSPC (default: half of the sandbox's memory)");
  app.add_option("--total-tasks", g.total_tasks,
                 "the sandbox's task limit, threads included: past it clone and fork are EAGAIN "
                 "(default: none, or linux.resources.pids.limit)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "accepted for compatibility with runc");

  DoOptions do_opts;
  auto* do_cmd = app.add_subcommand("do", "run a command sandboxed; the root's changes stay in the sandbox (overlay)");
  do_cmd->add_option("--root-dir", do_opts.root_dir, "the sandbox's root directory (default: the host's /)");
  do_cmd->add_option("--cwd", do_opts.cwd, "working directory inside the sandbox");
  do_cmd->add_option("--env", do_opts.env, "KEY=VALUE to set in the environment (repeatable)")
      ->allow_extra_args(false);
  do_cmd->add_flag("--read-only", do_opts.read_only,
                   "make the root read-only (no overlay): every write fails with EROFS");
  // PROGRAM ARGS... are not parsed as options: they are the first
  // positional argument and everything after it (or after `--`).
  do_cmd->prefix_command();
  do_cmd->footer("PROGRAM ARGS...: the command to run (after `--` or the options)");

  InstallOptions install_opts;
  auto* install_cmd = app.add_subcommand("install", "add runsc as a runtime to Docker's daemon.json");
  install_cmd->add_option("--runtime", install_opts.runtime, "the runtime's name")->capture_default_str();
  install_cmd->add_option("--config-file", install_opts.config_file, "the daemon.json to edit")
      ->capture_default_str();
  install_cmd->footer("-- FLAGS...: runsc flags dockerd passes on every call (e.g. -- --debug --strace)");
  install_cmd->prefix_command();
  InstallOptions uninstall_opts;
  auto* uninstall_cmd = app.add_subcommand("uninstall", "remove runsc's runtime from Docker's daemon.json");
  uninstall_cmd->add_option("--runtime", uninstall_opts.runtime, "the runtime's name")->capture_default_str();
  uninstall_cmd->add_option("--config-file", uninstall_opts.config_file, "the daemon.json to edit")
      ->capture_default_str();
  std::string spec_bundle = ".";
  auto* spec_cmd = app.add_subcommand("spec", "write a starting config.json for a bundle");
  spec_cmd->add_option("-b,--bundle", spec_bundle, "the bundle directory")->capture_default_str();

  RunOptions run_opts, create_opts;
  auto* run_cmd = app.add_subcommand("run", "create and run a container from a bundle, in the foreground");
  run_cmd->add_flag("-d,--detach", run_opts.detach, "create and start the container, then return");
  auto* create_cmd = app.add_subcommand("create", "create a container whose program waits for `start`");
  // runc's create/run flags that callers pass and that mean nothing here:
  // the gofer always pivots into the root, and keyrings are the Sentry's.
  // --preserve-fds passes no extra FDs yet, so only 0 is accepted.
  int preserve_fds = 0;
  bool ignored_flag = false;
  for (auto [cmd, opts] : {std::pair{run_cmd, &run_opts}, std::pair{create_cmd, &create_opts}}) {
    cmd->add_option("-b,--bundle", opts->bundle, "the bundle directory (default: the current directory)");
    cmd->add_option("--pid-file", opts->pid_file, "file to write the container's pid to");
    cmd->add_option("--console-socket", opts->console_socket, "unix socket to send the terminal's master to");
    cmd->add_option("id", opts->id, "the container ID")->required();
    cmd->add_flag("--no-pivot", ignored_flag, "accepted for runc compatibility (the gofer always pivots)");
    cmd->add_flag("--no-new-keyring", ignored_flag, "accepted for runc compatibility");
    cmd->add_option("--preserve-fds", preserve_fds, "extra FDs to pass on (only 0 is supported)")
        ->check([](const std::string& v) {
          return v == "0" ? std::string() : std::string("only 0 (no extra FDs) is supported yet");
        });
  }
  std::string start_id;
  auto* start_cmd = app.add_subcommand("start", "run a created container's program");
  start_cmd->add_option("id", start_id, "the container ID")->required();
  std::string state_id;
  auto* state_cmd = app.add_subcommand("state", "print a container's OCI state as JSON");
  state_cmd->add_option("id", state_id, "the container ID")->required();
  std::string list_format = "table";
  auto* list_cmd = app.add_subcommand("list", "list the containers under --root");
  list_cmd->add_option("-f,--format", list_format, "table or json")->check(CLI::IsMember({"table", "json"}));
  std::string kill_id, kill_signal;
  auto* kill_cmd = app.add_subcommand("kill", "send a signal (default TERM) to a container's first process");
  kill_cmd->add_option("id", kill_id, "the container ID")->required();
  kill_cmd->add_option("signal", kill_signal, "a signal name or number");
  bool kill_all = false;
  kill_cmd->add_flag("-a,--all", kill_all, "send the signal to every process of the container");
  ExecOptions exec_opts;
  auto* exec_cmd = app.add_subcommand("exec", "run another process in a running container");
  exec_cmd->add_option("-p,--process", exec_opts.process_file, "a JSON file with the process (config.json's process)");
  exec_cmd->add_option("--cwd", exec_opts.cwd, "working directory inside the container");
  exec_cmd->add_option("-e,--env", exec_opts.env, "KEY=VALUE to add to the environment (repeatable)")
      ->allow_extra_args(false);
  exec_cmd->add_option("-u,--user", exec_opts.user, "UID[:GID] to run as");
  exec_cmd->add_option("--pid-file", exec_opts.pid_file, "file to write the process's pid to");
  exec_cmd->add_option("--console-socket", exec_opts.console_socket, "unix socket to send a terminal's master to");
  exec_cmd->add_flag("-t,--tty", exec_opts.tty, "give the process a terminal");
  exec_cmd->add_flag("-d,--detach", exec_opts.detach, "return once the process started");
  exec_cmd->prefix_command();
  exec_cmd->footer("ID PROGRAM ARGS...: the container and the command (or --process)");
  std::string ps_id, ps_format = "table";
  auto* ps_cmd = app.add_subcommand("ps", "list a container's processes");
  ps_cmd->add_option("-f,--format", ps_format, "table or json")->check(CLI::IsMember({"table", "json"}));
  ps_cmd->add_option("id", ps_id, "the container ID")->required();
  std::string events_id;
  bool events_stats = false;
  auto* events_cmd = app.add_subcommand("events", "print a container's resource usage (every 5 s, or once with --stats)");
  events_cmd->add_flag("--stats", events_stats, "print one stats event and exit");
  std::string events_interval = "5s";
  events_cmd->add_option("--interval", events_interval, "time between events, e.g. 5s or 500ms")
      ->capture_default_str()
      ->check([](const std::string& v) {
        return std::regex_match(v, std::regex("^[0-9]+(ms|s)?$")) && std::stoll(v) > 0 ? std::string()
                                                                                      : "a positive duration like 5s or 500ms";
      });
  events_cmd->add_option("id", events_id, "the container ID")->required();
  std::string pause_id, resume_id;
  auto* pause_cmd = app.add_subcommand("pause", "freeze every process of a running container");
  pause_cmd->add_option("id", pause_id, "the container ID")->required();
  auto* resume_cmd = app.add_subcommand("resume", "thaw a paused container");
  resume_cmd->add_option("id", resume_id, "the container ID")->required();
  std::string wait_id;
  auto* wait_cmd = app.add_subcommand("wait", "wait for a container's first process to exit; print its status");
  wait_cmd->add_option("id", wait_id, "the container ID")->required();
  std::string delete_id;
  bool delete_force = false;
  auto* delete_cmd = app.add_subcommand("delete", "forget a stopped container (--force: kill a running one)");
  delete_cmd->add_option("id", delete_id, "the container ID")->required();
  delete_cmd->add_flag("-f,--force", delete_force, "kill the container first if it runs");

  int gofer_fd = -1, config_fd = -1;
  auto* boot_cmd = app.add_subcommand("boot", "start a Sentry (internal)");
  boot_cmd->group("");
  boot_cmd->add_option("--gofer-fd", gofer_fd)->required();
  boot_cmd->add_option("--config-fd", config_fd)->required();

  std::string gofer_root;
  int socket_fd = -1;
  auto* gofer_cmd = app.add_subcommand("gofer", "serve a root directory to a Sentry (internal)");
  gofer_cmd->group("");
  gofer_cmd->add_option("--root", gofer_root)->required();
  gofer_cmd->add_option("--socket-fd", socket_fd)->required();
  bool gofer_writable = false;
  gofer_cmd->add_flag("--writable", gofer_writable);

  // `--` ends runsc's own arguments: what follows is the program's argv,
  // passed untouched (CLI11 would otherwise reorder or keep the `--`).
  int own_argc = argc;
  std::vector<std::string> program_after_dashes;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      own_argc = i;
      program_after_dashes.assign(argv + i + 1, argv + argc);
      break;
    }
  }

  try {
    app.parse(own_argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "runsc: %s\n", e.what());
    return 1;
  }

  if (app.get_subcommands().empty()) {
    std::fprintf(stderr, "runsc: no command given (runsc --help lists them)\n");
    return 1;
  }
  auto level = g.debug ? runsc::log::Level::kDebug : runsc::log::Level::kWarn;
  const std::string& log_file = (g.debug && !g.debug_log.empty()) ? g.debug_log : g.log;
  if (auto r = runsc::log::init(level, log_file, g.log_format == "json"); !r) {
    std::fprintf(stderr, "runsc: cannot open log file %s: %s\n", log_file.c_str(), std::strerror(r.error()));
    return 1;
  }

  if (*do_cmd) {
    do_opts.argv = do_cmd->remaining();
    // `runsc do prog -- x`: that `--` was the program's own argument.
    if (!do_opts.argv.empty() && own_argc != argc) do_opts.argv.push_back("--");
    do_opts.argv.insert(do_opts.argv.end(), program_after_dashes.begin(), program_after_dashes.end());
    if (do_opts.argv.empty()) {
      std::fprintf(stderr, "runsc: do: missing PROGRAM (usage: runsc do [OPTIONS] -- PROGRAM ARGS...)\n");
      return 1;
    }
    return run_do(g, do_opts);
  }
  if (*install_cmd) {
    // Everything after the options (and after `--`) is passed on as flags.
    install_opts.runtime_args = install_cmd->remaining();
    install_opts.runtime_args.insert(install_opts.runtime_args.end(), program_after_dashes.begin(),
                                     program_after_dashes.end());
    return run_install(install_opts);
  }
  if (*uninstall_cmd) return run_uninstall(uninstall_opts);
  if (*run_cmd) return run_container(g, run_opts);
  if (*create_cmd) return run_create(g, create_opts);
  if (*start_cmd) return run_start(g, start_id);
  if (*state_cmd) return run_state(g, state_id);
  if (*list_cmd) return run_list(g, list_format);
  if (*kill_cmd) {
    if (!kill_all) return run_kill(g, kill_id, kill_signal);
    const int sig = parse_signal(kill_signal.empty() ? "TERM" : kill_signal);
    if (sig == 0) {
      std::fprintf(stderr, "runsc: kill: unknown signal \"%s\"\n", kill_signal.c_str());
      return 1;
    }
    return run_kill_all(g, kill_id, sig);
  }
  if (*exec_cmd) {
    auto rest = exec_cmd->remaining();
    if (rest.empty()) {
      std::fprintf(stderr, "runsc: exec: missing container ID (usage: runsc exec [OPTIONS] ID PROGRAM ARGS...)\n");
      return 1;
    }
    exec_opts.id = rest.front();
    exec_opts.argv.assign(rest.begin() + 1, rest.end());
    exec_opts.argv.insert(exec_opts.argv.end(), program_after_dashes.begin(), program_after_dashes.end());
    return run_exec(g, exec_opts);
  }
  if (*wait_cmd) return run_wait(g, wait_id);
  if (*pause_cmd) return run_pause(g, pause_id, true);
  if (*resume_cmd) return run_pause(g, resume_id, false);
  if (*ps_cmd) return run_ps(g, ps_id, ps_format);
  if (*events_cmd) {
    const long long n = std::stoll(events_interval);
    const bool ms = events_interval.size() > 2 && events_interval.compare(events_interval.size() - 2, 2, "ms") == 0;
    return run_events(g, events_id, events_stats, static_cast<int>(ms ? n : n * 1000));
  }
  if (*delete_cmd) return run_delete(g, delete_id, delete_force);
  if (*spec_cmd) return run_spec(spec_bundle);
  if (*boot_cmd) return run_boot(gofer_fd, config_fd);
  if (*gofer_cmd) return run_gofer(gofer_root, socket_fd, /*read_only=*/!gofer_writable, g.seccomp_log);
  return 1;
}
