// `runsc spec`: writes a starting config.json for a bundle, as `runc spec`
// does: `sh` in a read-only `rootfs` with a terminal, the usual mounts and
// namespaces (OCI runtime spec, config.md and config-linux.md).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "runsc/commands.h"

namespace runsc::cli {
namespace {

using json = nlohmann::ordered_json;

json default_spec() {
  const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  json mounts = json::array();
  auto mount = [&](const char* destination, const char* type, const char* source, json options) {
    mounts.push_back({{"destination", destination}, {"type", type}, {"source", source}, {"options", options}});
  };
  mount("/proc", "proc", "proc", json::array());
  mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"});
  mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
  mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"});
  mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"});
  mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"});
  json namespaces = json::array();
  for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) namespaces.push_back({{"type", ns}});
  return {
      {"ociVersion", "1.1.0"},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "runsc"},
      {"mounts", mounts},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces", namespaces},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
}

}  // namespace

int run_spec(const std::string& bundle) {
  const std::string path = (bundle.empty() ? std::string(".") : bundle) + "/config.json";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    std::fprintf(stderr, "runsc: spec: %s exists; remove it first\n", path.c_str());
    return 1;
  }
  std::ofstream out(path);
  if (!out) {
    std::fprintf(stderr, "runsc: spec: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    return 1;
  }
  out << default_spec().dump(4) << "\n";
  if (!out.flush()) {
    std::fprintf(stderr, "runsc: spec: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    return 1;
  }
  return 0;
}

}  // namespace runsc::cli
