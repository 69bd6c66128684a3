// The sandbox's host cgroup: where linux.resources (memory, CPU, pids)
// bound the Sentry, its gofers and stubs together, and the freezer that
// pauses them. cgroup v1 (one hierarchy per controller under
// /sys/fs/cgroup), as runc's cgroupfs driver uses it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace runsc::cli {

struct Resources {
  std::optional<int64_t> memory_limit, memory_reservation, memory_swap;  // bytes (-1: unlimited)
  std::optional<uint64_t> cpu_shares, cpu_period;
  std::optional<int64_t> cpu_quota;  // µs per period (-1: unlimited)
  std::optional<std::string> cpuset_cpus, cpuset_mems;
  std::optional<int64_t> pids_limit;  // 0 or -1: unlimited
  bool any() const;
};

class Cgroup {
 public:
  // linux.cgroupsPath ("/docker/ID"), or the systemd form
  // ("system.slice:docker:ID") turned into the path systemd would use
  // ("/system.slice/docker-ID.scope") when there is no systemd to ask.
  static std::string path_for(const std::string& cgroups_path, const std::string& id);
  explicit Cgroup(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // Makes the cgroup in each controller, writes `r`, and moves this process
  // into it, so that everything it starts from now on is inside. `error`
  // says which file refused what.
  Result<void> enter(const Resources& r, std::string& error);
  // Moves this process back where enter() found it (so that remove() can
  // succeed while it lives on).
  void leave();
  // freezer.state: FROZEN (pause) or THAWED (resume), waiting until the
  // kernel has done it.
  Result<void> freeze(bool frozen, std::string& error);
  // Removes the cgroup once its processes are gone (waits a little for
  // them to leave). Best effort: what remains is logged.
  void remove();

 private:
  std::string path_;
  std::vector<std::pair<std::string, std::string>> original_;  // controller, path before enter()
};

}  // namespace runsc::cli
