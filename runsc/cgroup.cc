#include "runsc/cgroup.h"

#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"

namespace runsc::cli {
namespace {

constexpr const char* kRoot = "/sys/fs/cgroup";
// The controllers the sandbox is put under: the ones linux.resources
// names, and the freezer for pause/resume.
constexpr const char* kControllers[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"};

std::string dir_of(const char* controller, const std::string& path) { return std::string(kRoot) + "/" + controller + path; }

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<void> write_file(const std::string& file, const std::string& value, std::string& error) {
  std::ofstream out(file);
  out << value;
  out.flush();
  if (!out) {
    const int e = errno ? errno : EIO;
    error = "cannot write " + value + " to " + file + ": " + std::strerror(e);
    return Err(e);
  }
  return {};
}

std::string read_file(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// mkdir -p, and for cpuset, each new level inherits its parent's cpus and
// mems (a new cpuset starts empty and takes no tasks until they are set).
Result<void> make(const char* controller, const std::string& path, std::string& error) {
  std::string dir = std::string(kRoot) + "/" + controller;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string parent = dir;
    if (end > start) {
      dir += "/" + path.substr(start, end - start);
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        error = "cannot make " + dir + ": " + std::strerror(errno);
        return ErrFromErrno();
      }
      if (std::string(controller) == "cpuset") {
        for (const char* f : {"/cpuset.cpus", "/cpuset.mems"}) {
          if (read_file(dir + f).empty()) {
            if (auto r = write_file(dir + f, read_file(parent + f), error); !r) return r;
          }
        }
      }
    }
    start = end + 1;
  }
  return {};
}

}  // namespace

bool Resources::any() const {
  return memory_limit || memory_reservation || memory_swap || cpu_shares || cpu_period || cpu_quota || cpuset_cpus ||
         cpuset_mems || pids_limit;
}

std::string Cgroup::path_for(const std::string& cgroups_path, const std::string& id) {
  if (cgroups_path.empty()) return "/runsc/" + id;
  if (cgroups_path.front() == '/') return cgroups_path;
  // slice:prefix:name (runc's systemd driver).
  const auto first = cgroups_path.find(':'), second = cgroups_path.find(':', first + 1);
  if (first != std::string::npos && second != std::string::npos) {
    const std::string slice = cgroups_path.substr(0, first), prefix = cgroups_path.substr(first + 1, second - first - 1),
                      name = cgroups_path.substr(second + 1);
    return "/" + (slice.empty() ? std::string("system.slice") : slice) + "/" + prefix + "-" + name + ".scope";
  }
  return "/" + cgroups_path;
}

Result<void> Cgroup::enter(const Resources& r, std::string& error) {
  struct statfs fs;
  if (::statfs(kRoot, &fs) != 0 || !exists(std::string(kRoot) + "/freezer")) {
    error = std::string("no cgroup v1 hierarchies under ") + kRoot + " (cgroup v2 hosts are not supported yet)";
    return Err(ENOTSUP);
  }
  for (const char* c : kControllers) {
    if (!exists(std::string(kRoot) + "/" + c)) continue;
    if (auto m = make(c, path_, error); !m) return m;
  }
  auto set = [&](const char* controller, const char* file, const std::string& value) -> Result<void> {
    return write_file(dir_of(controller, path_) + "/" + file, value, error);
  };
  // The limits before anyone is inside (runc does the same).
  if (r.memory_limit) {
    if (auto w = set("memory", "memory.limit_in_bytes", std::to_string(*r.memory_limit)); !w) return w;
  }
  if (r.memory_reservation) {
    if (auto w = set("memory", "memory.soft_limit_in_bytes", std::to_string(*r.memory_reservation)); !w) return w;
  }
  if (r.memory_swap && exists(dir_of("memory", path_) + "/memory.memsw.limit_in_bytes")) {
    if (auto w = set("memory", "memory.memsw.limit_in_bytes", std::to_string(*r.memory_swap)); !w) return w;
  }
  if (r.cpu_shares) {
    if (auto w = set("cpu", "cpu.shares", std::to_string(*r.cpu_shares)); !w) return w;
  }
  if (r.cpu_period) {
    if (auto w = set("cpu", "cpu.cfs_period_us", std::to_string(*r.cpu_period)); !w) return w;
  }
  if (r.cpu_quota) {
    if (auto w = set("cpu", "cpu.cfs_quota_us", std::to_string(*r.cpu_quota)); !w) return w;
  }
  if (r.cpuset_cpus) {
    if (auto w = set("cpuset", "cpuset.cpus", *r.cpuset_cpus); !w) return w;
  }
  if (r.cpuset_mems) {
    if (auto w = set("cpuset", "cpuset.mems", *r.cpuset_mems); !w) return w;
  }
  if (r.pids_limit) {
    const std::string value = *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max";
    if (auto w = set("pids", "pids.max", value); !w) return w;
  }
  // Where we are now, from /proc/self/cgroup ("ID:controllers:path").
  original_.clear();
  {
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string controllers = line.substr(a + 1, b - a - 1);
      for (const char* c : kControllers) {
        if (("," + controllers + ",").find(std::string(",") + c + ",") != std::string::npos)
          original_.emplace_back(c, line.substr(b + 1));
      }
    }
  }
  const std::string self = std::to_string(::getpid());
  for (const char* c : kControllers) {
    if (!exists(dir_of(c, path_))) continue;
    if (auto w = set(c, "cgroup.procs", self); !w) return w;
  }
  return {};
}

void Cgroup::leave() {
  std::string ignored;
  for (const auto& [controller, path] : original_)
    (void)write_file(dir_of(controller.c_str(), path) + "/cgroup.procs", std::to_string(::getpid()), ignored);
}

Result<void> Cgroup::freeze(bool frozen, std::string& error) {
  const std::string file = dir_of("freezer", path_) + "/freezer.state";
  if (!exists(file)) {
    error = "the sandbox has no freezer cgroup (" + file + ")";
    return Err(ENOENT);
  }
  const std::string want = frozen ? "FROZEN" : "THAWED";
  if (auto w = write_file(file, want, error); !w) return w;
  // FREEZING until every task has stopped (freezer-subsystem.txt).
  for (int tries = 0; tries < 1000; ++tries) {
    if (read_file(file) == want) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (frozen && tries % 50 == 49) (void)write_file(file, want, error);
  }
  error = "the sandbox did not become " + want;
  return Err(EBUSY);
}

void Cgroup::remove() {
  for (const char* c : kControllers) {
    const std::string dir = dir_of(c, path_);
    if (!exists(dir)) continue;
    // rmdir succeeds once the last process has left (exited and been reaped).
    for (int tries = 0; ::rmdir(dir.c_str()) != 0 && errno == EBUSY && tries < 200; ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (exists(dir)) log::warn("cannot remove the cgroup {}: {}", dir, std::strerror(errno));
  }
}

}  // namespace runsc::cli
