// `runsc do`: runs one command sandboxed with no bundle. It starts the
// gofer (serving the root) and the Sentry (in fresh namespaces, as pid 1 of
// its own PID namespace) and waits for the Sentry, whose exit status is the
// program's.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/unique_fd.h"
#include "runsc/commands.h"
#include "runsc/launch.h"

extern char** environ;

namespace runsc::cli {
namespace {

volatile sig_atomic_t g_sentry_pid = 0;

void forward_signal(int sig) {
  if (g_sentry_pid > 0) ::kill(g_sentry_pid, sig);
}

std::vector<std::string> merged_env(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  for (const auto& kv : overrides) {
    auto eq = kv.find('=');
    std::string key = kv.substr(0, eq);
    std::erase_if(env, [&](const std::string& e) { return e.compare(0, key.size() + 1, key + "=") == 0; });
    env.push_back(kv);
  }
  return env;
}

}  // namespace

Result<Gofers> start_gofers(const GlobalFlags& flags, BootConfig& config, const std::string& root, bool detach,
                            std::string& error) {
  auto exe = open_self();
  if (!exe) {
    error = "cannot find its own executable";
    return Err(exe.error());
  }
  Gofers g;
  auto start_gofer = [&](const std::string& served, bool writable) -> Result<int> {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) return ErrFromErrno();
    UniqueFd sentry_end(sp[0]), gofer_end(sp[1]);
    std::vector<std::string> gofer_argv{"runsc-gofer"};
    if (flags.debug) {
      gofer_argv.push_back("--debug");
      if (!flags.debug_log.empty()) gofer_argv.insert(gofer_argv.end(), {"--debug-log", flags.debug_log});
    }
    if (flags.seccomp_log) gofer_argv.push_back("--seccomp-log");
    gofer_argv.insert(gofer_argv.end(), {"gofer", "--root", served, "--socket-fd", std::to_string(gofer_end.get())});
    if (writable) gofer_argv.push_back("--writable");
    // Its own user namespace (the capabilities it keeps count only there),
    // mount namespace (it sees only what it serves), an empty network
    // namespace and a PID namespace where it is alone.
    SpawnOptions spawn;
    spawn.clone_flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    spawn.keep_fds = {gofer_end.get()};
    spawn.detached = detach;
    spawn.quiet = detach;
    spawn.user_ns = gofer_user_namespace();
    auto pid = spawn_self(exe->get(), gofer_argv, spawn);
    if (!pid) return Err(pid.error());
    g.pids.push_back(*pid);
    const int fd = sentry_end.get();
    g.sentry_ends.push_back(std::move(sentry_end));
    return fd;
  };
  auto fail = [&](const std::string& what, int e) -> Result<Gofers> {
    for (pid_t pid : g.pids) ::kill(pid, SIGKILL);
    error = what + ": " + std::strerror(e);
    return Err(e);
  };
  // Without the overlay and not read-only, the root's gofer makes the writes.
  if (auto fd = start_gofer(root, !config.overlay && !config.root_read_only); !fd)
    return fail("cannot start the gofer", fd.error());
  for (auto& m : config.bind_mounts) {
    auto fd = start_gofer(m.source, !m.read_only);
    if (!fd) return fail("cannot start the gofer for " + m.source, fd.error());
    m.gofer_fd = *fd;
  }
  return g;
}

int run_do(const GlobalFlags& flags, const DoOptions& options) {
  std::string root = options.root_dir.empty() ? "/" : options.root_dir;
  struct stat st;
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "runsc: root directory %s: %s\n", root.c_str(),
                 std::strerror(errno ? errno : ENOTDIR));
    return 1;
  }
  for (const auto& kv : options.env) {
    if (kv.find('=') == std::string::npos || kv.front() == '=') {
      std::fprintf(stderr, "runsc: --env wants KEY=VALUE, got \"%s\"\n", kv.c_str());
      return 1;
    }
  }

  BootConfig config;
  config.argv = options.argv;
  config.env = merged_env(options.env);
  if (!options.cwd.empty()) {
    config.cwd = options.cwd;
  } else if (options.root_dir.empty()) {
    char buf[PATH_MAX];
    config.cwd = ::getcwd(buf, sizeof(buf)) ? buf : "/";
  }
  config.uid = ::getuid();
  config.gid = ::getgid();
  gid_t groups[NGROUPS_MAX];
  int ngroups = ::getgroups(NGROUPS_MAX, groups);
  for (int i = 0; i < ngroups; ++i) config.groups.push_back(groups[i]);
  char host[HOST_NAME_MAX + 1] = {};
  ::gethostname(host, sizeof(host) - 1);
  config.hostname = host;
  config.strace = flags.strace;
  config.overlay = flags.overlay2 != "none" && !options.read_only;
  config.root_read_only = options.read_only;
  // Run from a terminal: it is the program's controlling terminal too.
  config.terminal = ::isatty(0) != 0;
  config.debug = flags.debug;
  // The Sentry logs (and --strace lines) go to --debug-log, else to --log,
  // else to stderr.
  config.debug_log = !flags.debug_log.empty() ? flags.debug_log : flags.log;
  config.log_format = flags.log_format;
  return run_sandbox(flags, config, root, {}, false);
}

int run_sandbox(const GlobalFlags& flags, BootConfig config, const std::string& root,
                const std::function<void(pid_t)>& started, bool detach, const std::string* reason) {
  auto exe = open_self();
  if (!exe) {
    std::fprintf(stderr, "runsc: cannot find its own executable: %s\n", std::strerror(exe.error()));
    return 1;
  }
  // One gofer for the root and one per bind mount, each confined to what
  // it serves; the Sentry gets its end of each socket.
  std::string error;
  auto gofers = start_gofers(flags, config, root, detach, error);
  if (!gofers) {
    std::fprintf(stderr, "runsc: %s\n", error.c_str());
    return 1;
  }
  auto kill_gofers = [&] {
    for (pid_t pid : gofers->pids) ::kill(pid, SIGKILL);
  };
  std::vector<UniqueFd>& sentry_ends = gofers->sentry_ends;
  const int root_gofer = sentry_ends.front().get();

  if (config.total_memory == 0) config.total_memory = flags.total_memory;
  if (config.overlay_size == TmpfsMount::kHalfOfMemory) config.overlay_size = flags.overlay_size;
  if (config.total_tasks == 0) config.total_tasks = flags.total_tasks;
  config.seccomp_log = flags.seccomp_log;
  // The Sentry's namespaces: its own user namespace (nobody on the host,
  // every capability dropped once it has set up), mount, PID, IPC and UTS.
  // The network is the host's with --network=host; otherwise the bundle's
  // namespace (a pod's, Docker's) or a new one, which runsc, as root,
  // prepares before the Sentry starts, since the Sentry will hold no
  // capability over it. Rootless, the namespace is made with the Sentry's
  // user namespace, which owns it, and the Sentry prepares it itself.
  SpawnOptions spawn;
  spawn.clone_flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  spawn.user_ns = sentry_user_namespace();
  // The host's network: --network=host, or a bundle naming runsc's own
  // namespace by path (Docker's --network host does). Nothing may be
  // prepared there: its sysctls are the host's.
  const bool host_network = (flags.network == "host" && config.network_namespace.empty()) ||
                            is_own_network_namespace(config.network_namespace);
  if (host_network) config.network_namespace.clear();
  if (host_network && !config.net_sysctls.empty()) {
    // As runc: net.* sysctls would be the host's.
    kill_gofers();
    std::fprintf(stderr, "runsc: sysctl %s is not allowed in the host's network namespace\n",
                 config.net_sysctls.front().first.c_str());
    return 1;
  }
  std::optional<NetworkNamespaceScope> network_scope;
  if (host_network) {
    if (!rootless()) {
      // The host network's privileged operations (raw sockets, low ports)
      // need the host's capabilities: no user namespace, as gVisor's host
      // network mode; the Sentry becomes nobody with just those two.
      spawn.user_ns.reset();
      config.privileges = SentryPrivileges::kHostNobody;
    }
    if (auto start = read_unprivileged_port_start()) config.unprivileged_port_start = *start;
  } else if (rootless()) {
    if (!config.network_namespace.empty()) {
      kill_gofers();
      std::fprintf(stderr, "runsc: joining network namespace %s needs root\n", config.network_namespace.c_str());
      return 1;
    }
    spawn.clone_flags |= CLONE_NEWNET;
    config.setup_network = true;
  } else {
    auto scope = NetworkNamespaceScope::enter(config.network_namespace);
    if (!scope) {
      kill_gofers();
      std::fprintf(stderr, "runsc: network namespace %s: %s\n",
                   config.network_namespace.empty() ? "(new)" : config.network_namespace.c_str(),
                   std::strerror(scope.error()));
      return 1;
    }
    network_scope.emplace(std::move(*scope));
    std::string net_error;
    if (auto r = prepare_network_namespace(config, sentry_host_gid(), net_error); !r) {
      kill_gofers();
      std::fprintf(stderr, "runsc: the sandbox's network: %s\n", net_error.c_str());
      return 1;
    }
  }
  // The debug log, which the Sentry (nobody) may not be allowed to open.
  UniqueFd log_fd;
  if (!config.debug_log.empty()) {
    log_fd.reset(::open(config.debug_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!log_fd) {
      kill_gofers();
      std::fprintf(stderr, "runsc: cannot open log file %s: %s\n", config.debug_log.c_str(), std::strerror(errno));
      return 1;
    }
    config.debug_log_fd = log_fd.get();
  }
  // `runsc create`'s FIFO, which the Sentry waits on. Holding a write end
  // too keeps it from reporting end-of-file before anyone wrote.
  UniqueFd start_read, start_write;
  if (!config.start_fifo.empty()) {
    start_read.reset(::open(config.start_fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (start_read) start_write.reset(::open(config.start_fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!start_read || !start_write) {
      kill_gofers();
      std::fprintf(stderr, "runsc: cannot open %s: %s\n", config.start_fifo.c_str(), std::strerror(errno));
      return 1;
    }
    config.start_read_fd = start_read.get();
    config.start_write_fd = start_write.get();
  }
  // The configuration travels in a sealed-off memfd, read by the Sentry.
  UniqueFd config_fd(::memfd_create("runsc-config", MFD_CLOEXEC));
  std::string json = to_json(config);
  if (!config_fd || ::write(config_fd.get(), json.data(), json.size()) != static_cast<ssize_t>(json.size()) ||
      ::lseek(config_fd.get(), 0, SEEK_SET) != 0) {
    kill_gofers();
    std::fprintf(stderr, "runsc: cannot pass the configuration: %s\n", std::strerror(errno));
    return 1;
  }
  std::vector<std::string> boot_argv{"runsc-sentry", "boot", "--gofer-fd", std::to_string(root_gofer),
                                     "--config-fd", std::to_string(config_fd.get())};
  std::vector<int> sentry_fds{config_fd.get()};
  if (config.control_fd >= 0) sentry_fds.push_back(config.control_fd);
  for (const UniqueFd* fd : {&log_fd, &start_read, &start_write})
    if (*fd) sentry_fds.push_back(fd->get());
  for (const auto& end : sentry_ends) sentry_fds.push_back(end.get());
  // Forward the signals a user sends to `runsc do` to the Sentry, which
  // passes them to the application.
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigset_t block, old;
  sigemptyset(&block);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    sigaction(s, &sa, nullptr);
    sigaddset(&block, s);
  }
  if (config.terminal && !detach) {
    // Sharing our terminal, the Sentry is in its foreground process group
    // and gets ^C, ^\\ and ^Z from it directly (for the sandbox's own
    // foreground job): we pass none on, and are not stopped by ^Z.
    struct sigaction quiet {};
    quiet.sa_handler = [](int) {};
    sigemptyset(&quiet.sa_mask);
    quiet.sa_flags = SA_RESTART;
    for (int s : {SIGINT, SIGQUIT, SIGTSTP}) sigaction(s, &quiet, nullptr);
  }
  ::sigprocmask(SIG_BLOCK, &block, &old);
  // A Sentry sharing our terminal stays in its foreground process group,
  // to read from it and get its signals.
  spawn.keep_fds = sentry_fds;
  spawn.detached = detach;
  spawn.own_process_group = !config.terminal;
  // process.oomScoreAdj: the host's OOM killer weighs the whole sandbox by
  // it (the Sentry holds the container's memory), as runc sets it on the
  // container's process. runsc writes it: lowering it takes a capability
  // the Sentry does not have.
  const int oom_score_adj = config.oom_score_adj;
  spawn.prepare = [oom_score_adj](pid_t pid) -> Result<void> {
    if (oom_score_adj == 0) return {};
    const std::string path = "/proc/" + std::to_string(pid) + "/oom_score_adj";
    const std::string value = std::to_string(oom_score_adj);
    UniqueFd adj(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!adj || ::write(adj.get(), value.data(), value.size()) < 0)
      log::warn("cannot set the sandbox's oom_score_adj to {}: {}", value, std::strerror(errno));
    return {};
  };
  auto sentry = spawn_self(exe->get(), boot_argv, spawn);
  network_scope.reset();
  log_fd.reset();
  start_read.reset();
  start_write.reset();
  if (!sentry) {
    kill_gofers();
    std::fprintf(stderr, "runsc: cannot start the sandbox: %s\n", std::strerror(sentry.error()));
    return 1;
  }
  g_sentry_pid = *sentry;
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  sentry_ends.clear();
  config_fd.reset();
  if (started) started(*sentry);
  if (detach) return 0;  // the sandbox runs on; its parent reaps it

  int status = 0;
  while (::waitpid(*sentry, &status, 0) < 0 && errno == EINTR) {
  }
  g_sentry_pid = 0;
  // Each gofer ends when the Sentry's end of its socket closes.
  for (pid_t pid : gofers->pids) {
    int gofer_status = 0;
    while (::waitpid(pid, &gofer_status, 0) < 0 && errno == EINTR) {
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    // Unless we killed it ourselves, with our reason to give.
    if (!reason || reason->empty()) std::fprintf(stderr, "runsc: the sandbox was killed by signal %d\n", WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return 1;
}

}  // namespace runsc::cli
