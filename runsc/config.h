// What `runsc do` (and later the OCI commands) hand to `runsc boot`: the
// process to run and the sandbox's settings, as JSON over an FD.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace runsc::cli {

struct GlobalFlags {
  std::string root_state = "/var/run/runsc";
  std::string log;
  std::string log_format = "text";
  bool debug = false;
  std::string debug_log;
  bool strace = false;
  bool seccomp_log = false;  // log, not refuse, host syscalls outside the allowlists
  std::string platform = "ptrace";
  std::string network = "sandbox";
  bool systemd_cgroup = false;
  // "root:memory": the root is an overlay with its upper layer in sandbox
  // memory (the default); "none": the root is the gofer's tree itself.
  std::string overlay2 = "root:memory";
  // Sandbox memory (bytes, 0: the host's RAM) and the root overlay's size
  // (unset: half of that, as a tmpfs without size= is half of RAM).
  uint64_t total_memory = 0;
  uint64_t overlay_size = ~uint64_t{0};  // TmpfsMount::kHalfOfMemory
  int total_tasks = 0;  // the sandbox's task limit, threads included (0: none)
};

// "512m", "2G", "65536k", "4096": bytes, with tmpfs's suffixes k, m, g, t
// in either case; EINVAL for anything else.
Result<uint64_t> parse_size(const std::string& text);

// A tmpfs the Sentry mounts for the container (an OCI mount of type tmpfs).
struct TmpfsMount {
  // No size= given: half of the sandbox's memory, Linux's default.
  static constexpr uint64_t kHalfOfMemory = ~uint64_t{0};
  std::string destination;
  uint32_t mode = 01777;
  uint64_t size = kHalfOfMemory;  // bytes; 0 (size=0): no limit, as Linux
};

// A host file or directory the container sees at `destination` (an OCI
// mount of type bind), served by a gofer of its own.
struct BindMount {
  std::string source;  // host path, absolute
  std::string destination;
  bool read_only = false;
  bool file = false;   // a regular file (or other non-directory)
  int gofer_fd = -1;   // the Sentry's end of that gofer's socket (set by run_sandbox)
};

// How the Sentry sheds its host privileges once it has set up.
enum class SentryPrivileges {
  // In a user namespace of its own (nobody on the host): every
  // capability dropped.
  kUserNamespace,
  // In the host's user namespace, for the host's network (whose
  // privileged operations only the host's capabilities allow): it becomes
  // nobody and keeps CAP_NET_RAW and CAP_NET_BIND_SERVICE alone.
  kHostNobody,
};

struct BootConfig {
  std::vector<std::string> argv;
  std::string program;  // the file to run; empty: argv[0], searched in PATH
  std::vector<std::string> env;
  std::string cwd = "/";
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> groups;
  std::string hostname = "runsc";
  bool strace = false;
  bool overlay = true;  // root overlay with an in-memory upper layer
  bool root_read_only = false;  // without the overlay: the gofer refuses writes
  uint64_t total_memory = 0;    // the memory file's limit; 0: the host's RAM
  uint64_t overlay_size = TmpfsMount::kHalfOfMemory;  // the root overlay's upper layer, as a tmpfs size
  int total_tasks = 0;          // tasks (threads included) in the sandbox; 0: no limit
  std::vector<TmpfsMount> tmpfs_mounts;
  std::vector<BindMount> bind_mounts;  // in the order the bundle lists them
  // linux.namespaces' network path (a pod's network namespace): the Sentry
  // joins it instead of making a new one. For runsc's use, not the Sentry's.
  std::string network_namespace;
  // process.capabilities (bit masks of CAP_*), when the bundle gives them;
  // otherwise root starts with all and anyone else with none.
  bool capabilities_set = false;
  uint64_t cap_effective = 0, cap_permitted = 0, cap_inheritable = 0;
  // process.rlimits: (resource, soft, hard).
  struct Rlimit {
    int resource = 0;
    uint64_t soft = 0, hard = 0;
  };
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;  // process.noNewPrivileges
  // process.terminal: stdio is a terminal that becomes the process's
  // controlling terminal, with job control in the sandbox.
  bool terminal = false;
  int oom_score_adj = 0;           // process.oomScoreAdj: the Sentry's on the host, pid 1's inside
  // linux.sysctl's net.* keys: written in the Sentry's network namespace,
  // where the sandbox's inet sockets live (hostinet), as runc writes them
  // in the container's.
  std::vector<std::pair<std::string, std::string>> net_sysctls;
  SentryPrivileges privileges = SentryPrivileges::kUserNamespace;
  // The Sentry prepares its network namespace itself (lo up, net_sysctls):
  // rootless, where the namespace is its user namespace's. Otherwise runsc
  // did (runsc/launch.h).
  bool setup_network = false;
  // net.ipv4.ip_unprivileged_port_start as the application sees it: a bind
  // below it needs CAP_NET_BIND_SERVICE (the host's check is opened to the
  // Sentry, which makes this one for the application).
  int unprivileged_port_start = 1024;
  // The debug log, opened by runsc (the Sentry, nobody on the host, may
  // not be allowed to open the path itself); -1: `debug_log` or stderr.
  int debug_log_fd = -1;
  // `runsc create`: a FIFO the Sentry waits on before running the
  // program, until `runsc start` writes to it. Empty: run at once.
  std::string start_fifo;
  // Its two ends, opened by runsc for the Sentry (which, nobody on the
  // host, may not open the path): -1 when there is none.
  int start_read_fd = -1, start_write_fd = -1;
  // The listening control socket (runsc/control.h) the Sentry serves; -1
  // for `runsc do`, which nobody else talks to.
  int control_fd = -1;
  bool debug = false;
  std::string debug_log;
  std::string log_format = "text";
  bool seccomp_log = false;  // --seccomp-log
};

std::string to_json(const BootConfig& config);
Result<BootConfig> boot_config_from_json(const std::string& text);

}  // namespace runsc::cli
