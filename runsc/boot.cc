// `runsc boot`: the Sentry. It confines itself (its own namespaces, root
// pivoted to an empty read-only tmpfs), builds the kernel, and runs the
// first program as pid 1 until it exits.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <malloc.h>
#include <signal.h>
#include <poll.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "common/host_fds.h"
#include "common/crash.h"
#include "common/privileges.h"
#include "common/log.h"

#include <fmt/core.h>
#include "gofer/client.h"
#include "netstack/hostinet/host_socket.h"
#include "platform/ptrace/ptrace.h"
#include "runsc/commands.h"
#include "runsc/container_fs.h"
#include "runsc/control.h"
#include "runsc/launch.h"
#include "runsc/sandbox_process.h"
#include "sentry/kernel/host_syscalls.h"
#include "sentry/kernel/task.h"
#include "syscalls/util.h"
#include "sentry/kernel/procfs.h"
#include "vfs/devfs.h"
#include "vfs/gofer_fs.h"
#include "vfs/overlay.h"
#include "vfs/tmpfs.h"
#include "vfs/host_file.h"

namespace runsc::cli {
namespace {

// Memory file size: virtual, sparse.
constexpr uint64_t kMemoryFileCapacity = 64ULL << 30;

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Leaves the Sentry with an empty, read-only root: after this it can reach
// no host path at all, only what the gofer hands it.
Result<void> pivot_to_empty_root() {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return ErrFromErrno();
  const char* dir = "/tmp";
  struct stat st;
  if (::stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) dir = "/mnt";
  if (::mount("runsc-root", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") != 0)
    return ErrFromErrno();
  if (::chdir(dir) != 0) return ErrFromErrno();
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return ErrFromErrno();
  if (::umount2(".", MNT_DETACH) != 0) return ErrFromErrno();
  if (::chdir("/") != 0) return ErrFromErrno();
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return ErrFromErrno();
  return {};
}

// The Sentry's host privileges, once it has confined itself: in its own
// user namespace, none at all; for the host network, nobody's IDs and the
// two capabilities the host's network checks (raw sockets, ports below
// ip_unprivileged_port_start), which the Sentry grants the application
// only as Linux would. Stubs, forked later, inherit the result.
Result<void> drop_privileges(SentryPrivileges privileges) {
  using privileges::cap_bit;
  uint64_t keep = 0;
  if (privileges == SentryPrivileges::kHostNobody) {
    keep = cap_bit(CAP_NET_RAW) | cap_bit(CAP_NET_BIND_SERVICE);
    // Keep the permitted set across the change of IDs, then take nobody's.
    // The change also clears the parent-death signal (PR_SET_PDEATHSIG),
    // by which the Sentry of `runsc do` dies with runsc: it is set again.
    int death_signal = 0;
    if (::prctl(PR_GET_PDEATHSIG, &death_signal, 0, 0, 0) != 0) return ErrFromErrno();
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return ErrFromErrno();
    if (::setgroups(0, nullptr) != 0 || ::setresgid(privileges::kSandboxHostGid, privileges::kSandboxHostGid,
                                                     privileges::kSandboxHostGid) != 0 ||
        ::setresuid(privileges::kSandboxHostUid, privileges::kSandboxHostUid, privileges::kSandboxHostUid) != 0)
      return ErrFromErrno();
    // KEEPCAPS kept the permitted set only: the effective one, which the
    // drop below needs (CAP_SETPCAP), is raised from it again.
    if (auto r = privileges::raise_effective(); !r) return r;
    if (death_signal != 0 && ::prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0) return ErrFromErrno();
  }
  if (auto r = privileges::drop_capabilities(keep); !r) return r;
  if (privileges == SentryPrivileges::kHostNobody) {
    // A change of IDs makes the process undumpable, and then its stubs
    // (forks of it) cannot be traced by the Sentry's other threads
    // (ptrace(2), "Ptrace access mode checking"). The two capabilities it
    // keeps still keep a same-uid process without them from tracing it.
    if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return ErrFromErrno();
  }
  return {};
}

}  // namespace

int run_boot(int gofer_fd, int config_fd) {
  auto config = boot_config_from_json(read_all(config_fd));
  ::close(config_fd);
  if (!config) {
    std::fprintf(stderr, "runsc boot: invalid sandbox configuration\n");
    return 128;
  }
  log::Level level = config->debug ? log::Level::kDebug : (config->strace ? log::Level::kInfo : log::Level::kWarn);
  auto logged = config->debug_log_fd >= 0
                    ? log::init_fd(level, UniqueFd(config->debug_log_fd), config->log_format == "json")
                    : log::init(level, config->debug_log, config->log_format == "json");
  if (!logged) {
    std::fprintf(stderr, "runsc: cannot open log file %s: %s\n", config->debug_log.c_str(),
                 std::strerror(logged.error()));
    return 128;
  }

  // A failure of the Sentry's own code is reported as one (common/crash.h).
  crash::install_handlers("sentry");

  // Signals from runsc (forwarded SIGINT, SIGTERM...) are taken by a
  // dedicated thread; every other thread keeps them blocked.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGTSTP, SIGWINCH}) sigaddset(&forwarded, s);
  pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);
  // The Sentry's own writes to its terminal must never stop it.
  ::signal(SIGTTOU, SIG_IGN);
  ::signal(SIGTTIN, SIG_IGN);

  // A write to a closed pipe (the caller's stdout, an application pipe) is
  // an EPIPE for the Sentry to pass on, never a host SIGPIPE that kills it.
  ::signal(SIGPIPE, SIG_IGN);

  // glibc sizes its malloc arenas from the CPU count the first time a
  // second thread allocates, by opening /sys/devices/system/cpu/online: a
  // host path, which the seccomp allowlist refuses. A fixed limit means
  // it never asks.
  ::mallopt(M_ARENA_MAX, 8);

  // Local time for log lines is read now, while /etc/localtime is reachable.
  ::tzset();
  // `runsc create`: the FIFO `runsc start` will write to, opened by runsc.
  UniqueFd start_read(config->start_read_fd), start_write(config->start_write_fd);
  // Rootless, the network namespace is the Sentry's user namespace's, and
  // the Sentry prepares it (as root, runsc did: runsc/launch.h).
  if (config->setup_network) {
    std::string error;
    if (auto r = prepare_network_namespace(*config, ::getegid(), error); !r) {
      std::fprintf(stderr, "runsc: the sandbox's network: %s\n", error.c_str());
      return 128;
    }
  }
  netstack::set_unprivileged_port_start(config->unprivileged_port_start);
  // The application's host objects stay below a ceiling; the rest of the
  // Sentry's FDs are its own reserve (common/host_fds.h).
  log::debug("boot: application host FDs below {}", init_application_fd_ceiling());
  if (auto r = pivot_to_empty_root(); !r) {
    log::error("boot: cannot confine the Sentry's filesystem view: {}", std::strerror(r.error()));
    std::fprintf(stderr, "runsc: cannot confine the sandbox: %s\n", std::strerror(r.error()));
    return 128;
  }
  if (auto r = drop_privileges(config->privileges); !r) {
    std::fprintf(stderr, "runsc: cannot drop the Sentry's privileges: %s\n", std::strerror(r.error()));
    return 128;
  }

  auto memfile = mm::MemoryFile::create(kMemoryFileCapacity);
  if (!memfile) {
    std::fprintf(stderr, "runsc: cannot create the memory file: %s\n", std::strerror(memfile.error()));
    return 128;
  }
  // The sandbox's memory: the configured limit, else the host's RAM (a
  // sandbox cannot hold more than the machine has without the host's OOM
  // killer choosing whom to end).
  uint64_t total_memory = config->total_memory;
  if (total_memory == 0) {
    struct sysinfo si {};
    total_memory = ::sysinfo(&si) == 0 ? static_cast<uint64_t>(si.totalram) * si.mem_unit : kMemoryFileCapacity;
  }
  (*memfile)->set_limit(total_memory);
  auto platform = platform::make_ptrace_platform((*memfile)->fd());
  if (!platform) {
    std::fprintf(stderr, "runsc: cannot start the ptrace platform: %s\n", std::strerror(platform.error()));
    return 128;
  }
  std::shared_ptr<mm::MemoryFile> shared_memfile = std::move(*memfile);
  auto client = std::make_shared<gofer::Client>(UniqueFd(gofer_fd));
  auto root = build_root(client, shared_memfile, *config);
  if (!root) {
    std::fprintf(stderr, "runsc: cannot build the sandbox's filesystem: %s\n", std::strerror(root.error()));
    return 128;
  }

  kernel::KernelOptions options;
  options.hostname = config->hostname;
  options.strace = config->strace;
  options.max_tasks = config->total_tasks;
  kernel::Kernel kernel(options, shared_memfile, std::move(*platform), *root, syscalls::syscall_table());
  kernel.boot_log().add("Starting runsc-cpp, an application kernel in user space...");
  kernel.boot_log().add("Linux version 4.4.0 as presented to the application; x86_64");
  kernel.boot_log().add("Platform: ptrace (PTRACE_SYSEMU), every system call answered by the Sentry");
  kernel.boot_log().add("Memory file ready; application memory is served from it");
  kernel.boot_log().add(config->overlay          ? "Root filesystem: the gofer's tree under an overlay kept in sandbox memory"
                        : config->root_read_only ? "Root filesystem mounted through the gofer, read-only"
                                                 : "Root filesystem mounted through the gofer, writable");
  kernel.boot_log().add("Mounted devtmpfs on /dev and tmpfs on /dev/shm");
  std::string error;
  if (auto r = add_container_mounts(kernel, *root, *config, error); !r) {
    std::fprintf(stderr, "runsc: %s\n", error.c_str());
    return 128;
  }
  kernel.boot_log().add("Mounted proc on /proc and sysfs on /sys");
  kernel.boot_log().add("Starting the first program as pid 1");

  const int stdio[3] = {0, 1, 2};
  auto made = make_process(kernel, *root, *config, stdio, error);
  if (!made) {
    std::fprintf(stderr, "runsc: %s\n", error.c_str());
    return 128;
  }
  kernel::Task& init = **made;
  // process.terminal: the host tty's signals (^C, ^\\, ^Z, window size
  // changes) come to the Sentry, for the terminal's foreground process
  // group inside. Taking the tty as our controlling terminal needs a
  // session of our own (runsc create); `runsc do` and `run` from a user's
  // terminal get them as members of its foreground process group.
  uint64_t console = 0;
  if (config->terminal) {
    struct stat st;
    if (::fstat(0, &st) == 0 && ::isatty(0)) console = st.st_rdev;
    if (console && ::getsid(0) == ::getpid() && ::ioctl(0, TIOCSCTTY, 0) == 0) (void)::tcsetpgrp(0, ::getpgrp());
  }
  // A forwarded signal goes to a live thread of pid 1.
  const int init_pid = init.pid();
  auto post = [&kernel, init_pid](int sig) { kernel::post_external_signal(kernel, init_pid, sig); };
  std::thread signal_thread([post, forwarded, console, &kernel] {
    // pid 1 only takes the signals it handles (pid_namespaces(7)), so a
    // program without a SIGTERM handler outlives the first SIGTERM, as in
    // a container. A second SIGINT, SIGTERM, SIGHUP or SIGQUIT means it:
    // pid 1 gets SIGKILL, which comes from outside and cannot be refused.
    int termination_requests = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&forwarded, &sig) != 0) continue;
      if (sig == SIGINT || sig == SIGQUIT || sig == SIGTSTP || sig == SIGWINCH) {
        if (console) {
          // The terminal's: to its foreground process group, as the line
          // discipline sends them (n_tty's isig()).
          int fg;
          {
            std::lock_guard lock(kernel.tree_mutex());
            fg = kernel.terminal_locked(console).fg_pgrp;
          }
          log::debug("boot: terminal signal {} to process group {}", sig, fg);
          if (fg > 0) kernel::signal_process_group(kernel, fg, sig);
          continue;
        }
        if (sig == SIGTSTP || sig == SIGWINCH) continue;  // no terminal: nobody to tell
      }
      if (sig != SIGUSR1 && sig != SIGUSR2 && ++termination_requests > 1) {
        log::debug("boot: second termination signal ({}): SIGKILL to pid 1", sig);
        post(SIGKILL);
        continue;
      }
      log::debug("boot: forwarding signal {} to pid 1", sig);
      post(sig);
    }
  });
  signal_thread.detach();

  // From here on the Sentry makes only the host syscalls it lists; every
  // thread (the signal thread too) is covered.
  auto allow = kernel::sentry_host_syscalls();
  for (auto& rule : kernel.platform().host_syscalls()) allow.push_back(std::move(rule));
  const auto enforcement = config->seccomp_log ? seccomp::Enforcement::kLog : seccomp::Enforcement::kKill;
  if (auto r = seccomp::install_allowlist(allow, "sentry", enforcement); !r) {
    std::fprintf(stderr, "runsc: cannot install the Sentry's seccomp allowlist: %s\n", std::strerror(r.error()));
    return 128;
  }

  if (config->control_fd >= 0) control::serve(UniqueFd(config->control_fd), kernel, *root);
  if (start_read) {
    // Created: the program waits here until `runsc start`.
    pollfd p{start_read.get(), POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    char byte;
    (void)!::read(start_read.get(), &byte, 1);
    start_read.reset();
    start_write.reset();
  }
  if (auto r = exec_program(init, *config); !r) {
    std::fprintf(stderr, "runsc: %s: %s\n", config->argv[0].c_str(), std::strerror(r.error()));
    // What shells report: 127 for a missing program, 126 when not runnable.
    return r.error() == ENOENT ? 127 : 126;
  }

  init.run();
  // pid 1's first thread may end before its process does (exit(2) in the
  // main thread): the sandbox lasts as long as the process.
  kernel.wait_for_exit(init.group());
  kernel::ExitStatus status;
  {
    std::lock_guard lock(kernel.tree_mutex());
    status = init.group().exit_status;
  }
  log::debug("boot: pid 1 exited, status {} signal {}", status.code, status.signal);
  control::finish(status.shell_status());
  std::fflush(stdout);
  // Leave at once: the signal thread never returns, and nothing is left to tear down.
  ::_exit(status.shell_status());
}

}  // namespace runsc::cli
