#include "runsc/launch.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <grp.h>

#include "common/log.h"
#include "common/proc_file.h"

extern char** environ;

namespace runsc::cli {
namespace {

// A network namespace of the sandbox's own starts with `lo` down; Linux
// containers (and gVisor's netstack) give the application a loopback that
// works.
Result<void> bring_loopback_up() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrFromErrno();
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &req) != 0) return ErrFromErrno();
  if (req.ifr_flags & IFF_UP) return {};
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (::ioctl(fd.get(), SIOCSIFFLAGS, &req) != 0) return ErrFromErrno();
  return {};
}

constexpr const char* kUnprivilegedPortStart = "/proc/sys/net/ipv4/ip_unprivileged_port_start";

}  // namespace

Result<UniqueFd> open_self() {
  UniqueFd fd(::open("/proc/self/exe", O_PATH | O_CLOEXEC));
  if (!fd) return ErrFromErrno();
  return fd;
}

bool rootless() {
  // Root of a user namespace other than the initial one (runsc in a
  // container, or under `unshare --user`) may do to namespaces it does
  // not own what an ordinary user may. Read once: it cannot change.
  static const bool value = ::geteuid() != 0 || !privileges::in_initial_user_namespace();
  return value;
}

UserNamespace gofer_user_namespace() {
  UserNamespace ns;
  if (!rootless()) {
    // Every ID of the initial namespace, 0..2^32-2 (4294967295 is
    // (uid_t)-1, never an ID).
    ns.uid = {0, 0, 4294967295U};
    ns.gid = {0, 0, 4294967295U};
  } else {
    ns.uid = {0, static_cast<uint32_t>(::geteuid()), 1};
    ns.gid = {0, static_cast<uint32_t>(::getegid()), 1};
    ns.deny_setgroups = true;
  }
  return ns;
}

uid_t sentry_host_uid() { return rootless() ? ::geteuid() : privileges::kSandboxHostUid; }
gid_t sentry_host_gid() { return rootless() ? ::getegid() : privileges::kSandboxHostGid; }

UserNamespace sentry_user_namespace() {
  UserNamespace ns;
  ns.uid = {0, static_cast<uint32_t>(sentry_host_uid()), 1};
  ns.gid = {0, static_cast<uint32_t>(sentry_host_gid()), 1};
  ns.deny_setgroups = rootless();
  return ns;
}

Result<pid_t> spawn_self(int exe_fd, const std::vector<std::string>& argv, const SpawnOptions& options) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  // The child waits on this pipe until the parent has written its maps
  // (and done `prepare`); end-of-file without a byte means "give up".
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return ErrFromErrno();
  UniqueFd go_read(go[0]), go_write(go[1]);
  const int flags = options.clone_flags | (options.user_ns ? CLONE_NEWUSER : 0);
  long pid = ::syscall(SYS_clone, SIGCHLD | flags, 0, 0, 0, 0);
  if (pid < 0) return ErrFromErrno();
  if (pid == 0) {
    go_write.reset();
    char byte = 0;
    ssize_t n;
    while ((n = ::read(go_read.get(), &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) ::_exit(128);
    if (options.user_ns) {
      // Root of the new namespace (what the maps make 0), with no
      // supplementary group of the host's left over.
      if (::setresgid(0, 0, 0) != 0 || (!options.user_ns->deny_setgroups && ::setgroups(0, nullptr) != 0) ||
          ::setresuid(0, 0, 0) != 0) {
        std::fprintf(stderr, "runsc: cannot take the sandbox's user namespace IDs: %s\n", std::strerror(errno));
        ::_exit(128);
      }
    }
    if (options.detached) {
      // `runsc create`: the sandbox outlives the command, in a session of
      // its own (containerd's shim, a subreaper, becomes its parent).
      ::setsid();
    } else {
      // Die with runsc: nothing of the sandbox outlives the command.
      // (Set after the IDs change, which would clear it.)
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      // Out of our terminal's foreground process group: what its ^C means
      // reaches the sandbox through us (or, sharing the terminal, the
      // Sentry), never a gofer.
      if (options.own_process_group) ::setpgid(0, 0);
    }
    if (options.quiet) {
      // A detached gofer must not hold the container's stdio (a pipe its
      // reader waits on to close): it may outlive the container's process.
      const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; fd < 3 && null_fd >= 0; ++fd) ::dup2(null_fd, fd);
    }
    for (int fd : options.keep_fds) {
      int fd_flags = ::fcntl(fd, F_GETFD);
      ::fcntl(fd, F_SETFD, fd_flags & ~FD_CLOEXEC);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::syscall(SYS_execveat, exe_fd, "", cargv.data(), environ, AT_EMPTY_PATH);
    std::fprintf(stderr, "runsc: cannot re-execute itself: %s\n", std::strerror(errno));
    ::_exit(128);
  }
  go_read.reset();
  auto give_up = [&](int e) -> Result<pid_t> {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    go_write.reset();
    while (::waitpid(static_cast<pid_t>(pid), nullptr, 0) < 0 && errno == EINTR) {
    }
    return Err(e);
  };
  if (options.user_ns) {
    const auto& ns = *options.user_ns;
    if (auto r = privileges::write_id_maps(static_cast<pid_t>(pid), ns.uid, ns.gid, ns.deny_setgroups); !r) {
      log::error("launch: cannot write the user namespace maps of {}: {}", pid, std::strerror(r.error()));
      return give_up(r.error());
    }
  }
  if (options.prepare) {
    if (auto r = options.prepare(static_cast<pid_t>(pid)); !r) return give_up(r.error());
  }
  if (::write(go_write.get(), "g", 1) != 1) return give_up(errno);
  return static_cast<pid_t>(pid);
}

Result<void> prepare_network_namespace(BootConfig& config, gid_t sentry_gid, std::string& error) {
  if (auto r = bring_loopback_up(); !r) {
    error = std::string("cannot bring lo up: ") + std::strerror(r.error());
    return r;
  }
  // OCI net.* sysctls, in the namespace the inet sockets live in, as runc
  // writes them in the container's (/proc/sys/net/..., checked names).
  for (const auto& [key, value] : config.net_sysctls) {
    std::string path = "/proc/sys/" + key;
    std::replace(path.begin(), path.end(), '.', '/');
    if (auto r = write_proc_file(path, value); !r) {
      error = "sysctl " + key + "=" + value + ": " + std::strerror(r.error());
      return r;
    }
  }
  // Ping sockets (ICMP datagram sockets, icmp(7)) for the Sentry, unless
  // the bundle chose a range: they are how the application's ping works,
  // raw sockets needing a capability the Sentry does not have. (Docker
  // gives its containers all groups, "0 2147483647".)
  const bool bundle_sets_ping_range =
      std::any_of(config.net_sysctls.begin(), config.net_sysctls.end(),
                  [](const auto& kv) { return kv.first == "net.ipv4.ping_group_range"; });
  if (!bundle_sets_ping_range) {
    const std::string range = std::to_string(sentry_gid) + " " + std::to_string(sentry_gid);
    if (auto r = write_proc_file("/proc/sys/net/ipv4/ping_group_range", range); !r) {
      error = std::string("cannot write net.ipv4.ping_group_range: ") + std::strerror(r.error());
      return r;
    }
  }
  auto start = read_unprivileged_port_start();
  if (!start) {
    error = std::string("cannot read ") + kUnprivilegedPortStart + ": " + std::strerror(start.error());
    return Err(start.error());
  }
  config.unprivileged_port_start = *start;
  if (auto r = write_proc_file(kUnprivilegedPortStart, "0"); !r) {
    error = std::string("cannot write ") + kUnprivilegedPortStart + ": " + std::strerror(r.error());
    return r;
  }
  return {};
}

bool is_own_network_namespace(const std::string& path) {
  struct stat named, own;
  if (path.empty() || ::stat(path.c_str(), &named) != 0 || ::stat("/proc/thread-self/ns/net", &own) != 0) return false;
  return named.st_dev == own.st_dev && named.st_ino == own.st_ino;
}

Result<int> read_unprivileged_port_start() {
  auto text = read_proc_file(kUnprivilegedPortStart);
  if (!text) return Err(text.error());
  return std::atoi(text->c_str());
}

Result<NetworkNamespaceScope> NetworkNamespaceScope::enter(const std::string& path) {
  UniqueFd previous(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!previous) return ErrFromErrno();
  if (path.empty()) {
    if (::unshare(CLONE_NEWNET) != 0) return ErrFromErrno();
  } else {
    UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target) return ErrFromErrno();
    if (::setns(target.get(), CLONE_NEWNET) != 0) return ErrFromErrno();
  }
  return NetworkNamespaceScope(std::move(previous));
}

NetworkNamespaceScope::~NetworkNamespaceScope() {
  if (previous_ && ::setns(previous_.get(), CLONE_NEWNET) != 0)
    log::error("launch: cannot return to runsc's network namespace: {}", std::strerror(errno));
}

}  // namespace runsc::cli
