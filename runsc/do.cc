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
#include <string>

#include "common/log.h"
#include "common/unique_fd.h"
#include "runsc/commands.h"

extern char** environ;

namespace runsc::cli {
namespace {

volatile sig_atomic_t g_sentry_pid = 0;

void forward_signal(int sig) {
  if (g_sentry_pid > 0) ::kill(g_sentry_pid, sig);
}

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

// Starts `argv` (our own binary) in a child with `clone_flags` namespaces,
// keeping `keep_fds` open across exec. Returns the child's pid.
Result<pid_t> spawn_self(const std::string& exe, const std::vector<std::string>& argv, int clone_flags,
                         const std::vector<int>& keep_fds, bool detached = false, bool own_process_group = true,
                         int netns_fd = -1, bool quiet = false) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  long pid = ::syscall(SYS_clone, SIGCHLD | clone_flags, 0, 0, 0, 0);
  if (pid < 0) return ErrFromErrno();
  if (pid == 0) {
    if (detached) {
      // `runsc create`: the sandbox outlives the command, in a session of
      // its own (containerd's shim, a subreaper, becomes its parent).
      ::setsid();
    } else {
      // Die with runsc: nothing of the sandbox outlives the command.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      // Out of our terminal's foreground process group: what its ^C means
      // reaches the sandbox through us (or, sharing the terminal, the
      // Sentry), never a gofer.
      if (own_process_group) ::setpgid(0, 0);
    }
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "runsc: cannot join the network namespace: %s\n", std::strerror(errno));
      ::_exit(128);
    }
    if (quiet) {
      // A detached gofer must not hold the container's stdio (a pipe its
      // reader waits on to close): it may outlive the container's process.
      const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; fd < 3 && null_fd >= 0; ++fd) ::dup2(null_fd, fd);
    }
    for (int fd : keep_fds) {
      int flags = ::fcntl(fd, F_GETFD);
      ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(exe.c_str(), cargv.data(), environ);
    std::fprintf(stderr, "runsc: cannot re-execute %s: %s\n", exe.c_str(), std::strerror(errno));
    ::_exit(128);
  }
  return static_cast<pid_t>(pid);
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
  const std::string exe = self_exe();
  if (exe.empty()) {
    error = "cannot find its own executable";
    return Err(ENOENT);
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
    gofer_argv.insert(gofer_argv.end(), {"gofer", "--root", served, "--socket-fd", std::to_string(gofer_end.get())});
    if (writable) gofer_argv.push_back("--writable");
    auto pid = spawn_self(exe, gofer_argv, CLONE_NEWNS, {gofer_end.get()}, detach, true, -1, /*quiet=*/detach);
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

namespace {

}  // namespace

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
  std::string exe = self_exe();
  if (exe.empty()) {
    std::fprintf(stderr, "runsc: cannot find its own executable\n");
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
  // The configuration travels in a sealed-off memfd, read by the Sentry.
  UniqueFd config_fd(::memfd_create("runsc-config", MFD_CLOEXEC));
  std::string json = to_json(config);
  if (!config_fd || ::write(config_fd.get(), json.data(), json.size()) != static_cast<ssize_t>(json.size()) ||
      ::lseek(config_fd.get(), 0, SEEK_SET) != 0) {
    kill_gofers();
    std::fprintf(stderr, "runsc: cannot pass the configuration: %s\n", std::strerror(errno));
    return 1;
  }

  int ns = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  // A network namespace of its own, or the one the bundle names (a pod's),
  // or the host's with --network=host.
  UniqueFd netns;
  if (!config.network_namespace.empty()) {
    netns.reset(::open(config.network_namespace.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) {
      kill_gofers();
      std::fprintf(stderr, "runsc: network namespace %s: %s\n", config.network_namespace.c_str(), std::strerror(errno));
      return 1;
    }
  } else if (flags.network != "host") {
    ns |= CLONE_NEWNET;
  }
  std::vector<std::string> boot_argv{"runsc-sentry", "boot", "--gofer-fd", std::to_string(root_gofer),
                                     "--config-fd", std::to_string(config_fd.get())};
  std::vector<int> sentry_fds{config_fd.get()};
  if (config.control_fd >= 0) sentry_fds.push_back(config.control_fd);
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
  auto sentry = spawn_self(exe, boot_argv, ns, sentry_fds, detach, /*own_process_group=*/!config.terminal, netns.get());
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
