// The OCI runtime commands (runc's command line): create, start, run,
// state, list, kill, delete, over a state directory per container under
// --root (runtime-spec runtime.md), and the bundle's config.json read into
// the sandbox's BootConfig.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "common/log.h"
#include "common/unique_fd.h"
#include "runsc/cgroup.h"
#include "runsc/commands.h"
#include "runsc/console.h"
#include "runsc/control.h"
#include "runsc/hooks.h"

namespace runsc::cli {
namespace {

using json = nlohmann::ordered_json;

int fail(const std::string& message) { return report_error(message); }

std::string absolute(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

bool read_json(const std::string& path, json& out, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    out = json::parse(text.str());
  } catch (const json::exception& e) {
    error = path + " is not valid JSON: " + e.what();
    return false;
  }
  return true;
}

}  // namespace

// "TERM", "SIGTERM" or "15" (kill(1)'s forms, as runc kill takes them).
int parse_signal(std::string name) {
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
    const int n = std::atoi(name.c_str());
    return n > 0 && n < NSIG ? n : 0;
  }
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (int s = 1; s < NSIG; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev && name == abbrev) return s;
  }
  return 0;
}

namespace {

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

// The OCI state of a container from its state file: "running" while its
// Sentry lives, "stopped" after.
bool load_state(const GlobalFlags& flags, const std::string& id, json& state, std::string& error) {
  if (!read_json(flags.root_state + "/" + id + "/state.json", state, error)) {
    error = "container \"" + id + "\" does not exist";
    return false;
  }
  const int pid = state.value("pid", 0);
  bool alive = pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
  if (alive) {
    // A zombie (exited, not yet reaped by its parent) has stopped too.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') alive = false;
  }
  // Alive: "created" until `runsc start`, then "running".
  if (!alive) {
    state["status"] = "stopped";
    state["pid"] = 0;
  }
  return true;
}

UniqueFd lock_container(const GlobalFlags& flags, const std::string& id) {
  UniqueFd dir(::open((flags.root_state + "/" + id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) {
    while (::flock(dir.get(), LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  return dir;
}

bool save_state(const GlobalFlags& flags, const std::string& id, const json& state) {
  const std::string path = flags.root_state + "/" + id + "/state.json";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << state.dump() << "\n";
    if (!out.flush()) return false;
  }
  return ::rename(tmp.c_str(), path.c_str()) == 0;
}

namespace {

void remove_state(const GlobalFlags& flags, const std::string& id) {
  const std::string dir = flags.root_state + "/" + id;
  ::unlink((dir + "/state.json").c_str());
  ::unlink((dir + "/start").c_str());
  ::unlink((dir + "/control").c_str());
  ::rmdir(dir.c_str());
}

// A mount the Sentry provides itself: accepted as the spec's default
// config.json asks for it.
bool sentry_provided(const std::string& type, const std::string& destination) {
  return (type == "proc" && destination == "/proc") || (type == "sysfs" && destination == "/sys") ||
         (type == "devpts" && destination == "/dev/pts") || (type == "mqueue" && destination == "/dev/mqueue") ||
         (type == "cgroup" && destination == "/sys/fs/cgroup") || (type == "tmpfs" && destination == "/dev") ||
         (type == "tmpfs" && destination == "/dev/shm");
}

// config.json's process object (also `runsc exec --process FILE`) into
// `c`; throws std::runtime_error (or json's errors) naming what is wrong.
void read_process(const json& process, BootConfig& c) {
  c.argv = process.at("args").get<std::vector<std::string>>();
  if (c.argv.empty()) throw std::runtime_error("process.args must not be empty");
  c.env = process.value("env", std::vector<std::string>{});
  for (const auto& kv : c.env) {
    if (kv.find('=') == std::string::npos) throw std::runtime_error("process.env entry \"" + kv + "\" is not KEY=VALUE");
  }
  c.cwd = process.value("cwd", std::string("/"));
  if (c.cwd.empty() || c.cwd.front() != '/') throw std::runtime_error("process.cwd must be an absolute path");
  if (process.contains("capabilities")) {
    // Names as capabilities(7) spells them; an unknown one is refused.
    static const char* kNames[] = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
                                   "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
                                   "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
                                   "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
                                   "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
                                   "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
                                   "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
                                   "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
                                   "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
                                   "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ"};
    auto mask = [&](const char* set) {
      uint64_t bits = 0;
      for (const auto& name : process.at("capabilities").value(set, std::vector<std::string>{})) {
        const auto it = std::find_if(std::begin(kNames), std::end(kNames),
                                     [&](const char* known) { return name == known; });
        if (it == std::end(kNames)) throw std::runtime_error("unknown capability \"" + name + "\"");
        bits |= uint64_t{1} << (it - std::begin(kNames));
      }
      return bits;
    };
    c.capabilities_set = true;
    c.cap_effective = mask("effective");
    c.cap_permitted = mask("permitted");
    c.cap_inheritable = mask("inheritable");
  }
  for (const auto& r : process.value("rlimits", json::array())) {
    static const std::pair<const char*, int> kLimits[] = {
        {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_LOCKS", RLIMIT_LOCKS},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME}};
    const std::string type = r.at("type").get<std::string>();
    const auto* it = std::find_if(std::begin(kLimits), std::end(kLimits), [&](const auto& l) { return type == l.first; });
    if (it == std::end(kLimits)) throw std::runtime_error("unknown rlimit \"" + type + "\"");
    const uint64_t soft = r.at("soft").get<uint64_t>(), hard = r.at("hard").get<uint64_t>();
    if (soft > hard) throw std::runtime_error(type + ": soft limit above the hard limit");
    c.rlimits.push_back({it->second, soft, hard});
  }
  c.no_new_privileges = process.value("noNewPrivileges", false);
  if (process.contains("user")) {
    const json& user = process.at("user");
    c.uid = user.value("uid", 0u);
    c.gid = user.value("gid", 0u);
    c.groups = user.value("additionalGids", std::vector<uint32_t>{});
  }
  c.oom_score_adj = process.value("oomScoreAdj", 0);
  c.terminal = process.value("terminal", false);
}

// linux.resources, as far as the sandbox's cgroup applies them; throws
// for what it cannot (runtime-spec config-linux.md, "Control groups").
Resources read_resources(const json& linux_spec) {
  Resources r;
  const json resources = linux_spec.value("resources", json::object());
  for (const auto& [key, value] : resources.items()) {
    if (key == "devices") continue;  // no host device reaches the sandbox: nothing to allow or deny
    if (key == "blockIO") {
      // Docker sends {"weight": 0} (unset); real block I/O limits are not applied yet.
      for (const auto& [k, v] : value.items()) {
        if (!(k == "weight" && v.is_number() && v.get<int>() == 0))
          throw std::runtime_error("linux.resources.blockIO." + k + " is not supported yet");
      }
      continue;
    }
    if (key == "memory") {
      for (const auto& [k, v] : value.items()) {
        if (k == "limit") r.memory_limit = v.get<int64_t>();
        else if (k == "reservation") r.memory_reservation = v.get<int64_t>();
        else if (k == "swap") r.memory_swap = v.get<int64_t>();
        else if (k == "disableOOMKiller" && !v.get<bool>()) continue;
        else if (k == "swappiness" || k == "kernel" || k == "kernelTCP") continue;  // advisory, or gone from recent kernels
        else throw std::runtime_error("linux.resources.memory." + k + " is not supported yet");
      }
      continue;
    }
    if (key == "cpu") {
      for (const auto& [k, v] : value.items()) {
        if (k == "shares") {
          if (v.get<uint64_t>() != 0) r.cpu_shares = v.get<uint64_t>();
        } else if (k == "quota") {
          if (v.get<int64_t>() != 0) r.cpu_quota = v.get<int64_t>();
        } else if (k == "period") {
          if (v.get<uint64_t>() != 0) r.cpu_period = v.get<uint64_t>();
        } else if (k == "cpus") {
          if (!v.get<std::string>().empty()) r.cpuset_cpus = v.get<std::string>();
        } else if (k == "mems") {
          if (!v.get<std::string>().empty()) r.cpuset_mems = v.get<std::string>();
        } else {
          throw std::runtime_error("linux.resources.cpu." + k + " is not supported yet");
        }
      }
      continue;
    }
    if (key == "pids") {
      r.pids_limit = value.value("limit", int64_t{0});
      continue;
    }
    throw std::runtime_error("linux.resources." + key + " is not supported yet");
  }
  return r;
}

}  // namespace

bool parse_process(const nlohmann::ordered_json& process, BootConfig& c, std::string& error) {
  try {
    read_process(process, c);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

Result<BootConfig> load_bundle(const std::string& bundle, std::string& root_dir, std::string& error,
                               nlohmann::ordered_json* spec_out) {
  json local_spec;
  json& spec = spec_out ? *spec_out : local_spec;
  if (!read_json(bundle + "/config.json", spec, error)) return Err(EINVAL);
  try {
    if (!spec.is_object()) throw std::runtime_error("config.json does not hold a JSON object");
    BootConfig c;
    if (!spec.contains("process")) throw std::runtime_error("config.json has no \"process\"");
    read_process(spec.at("process"), c);
    const json& root = spec.at("root");
    std::string path = root.at("path").get<std::string>();
    root_dir = path.front() == '/' ? path : bundle + "/" + path;
    struct stat st;
    if (::stat(root_dir.c_str(), &st) != 0) throw std::runtime_error("root.path " + root_dir + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) throw std::runtime_error("root.path " + root_dir + " is not a directory");
    // A read-only root has no overlay; a writable one keeps its writes in
    // the sandbox (gVisor's default overlay for the root).
    c.root_read_only = root.value("readonly", false);
    c.overlay = !c.root_read_only;
    c.hostname = spec.value("hostname", std::string("runsc"));
    for (const auto& m : spec.value("mounts", json::array())) {
      const std::string destination = m.at("destination").get<std::string>();
      const std::string type = m.value("type", std::string());
      if (sentry_provided(type, destination)) continue;
      if (type == "tmpfs") {
        TmpfsMount t{destination, 01777, 0};
        for (const auto& o : m.value("options", std::vector<std::string>{})) {
          if (o.rfind("mode=", 0) == 0) t.mode = static_cast<uint32_t>(std::stoul(o.substr(5), nullptr, 8));
          if (o.rfind("size=", 0) == 0) {
            auto size = parse_size(o.substr(5));
            if (!size) throw std::runtime_error("mount " + destination + ": bad tmpfs option " + o);
            t.size = *size;
          }
        }
        c.tmpfs_mounts.push_back(t);
        continue;
      }
      const auto options = m.value("options", std::vector<std::string>{});
      auto has = [&](const char* o) { return std::find(options.begin(), options.end(), o) != options.end(); };
      if (type == "bind" || ((type.empty() || type == "none") && (has("bind") || has("rbind")))) {
        std::string source = m.value("source", std::string());
        if (source.empty()) throw std::runtime_error("bind mount on " + destination + " has no source");
        if (source.front() != '/') source = bundle + "/" + source;
        struct stat st;
        if (::stat(source.c_str(), &st) != 0)
          throw std::runtime_error("bind mount source " + source + ": " + std::strerror(errno));
        if (destination.empty() || destination.front() != '/')
          throw std::runtime_error("mount destination \"" + destination + "\" is not an absolute path");
        // Propagation options (rprivate, rslave...) mean nothing for a
        // mount only the sandbox sees; nosuid/nodev/noexec always hold
        // for gofer-served files.
        c.bind_mounts.push_back({absolute(source), destination, has("ro"), !S_ISDIR(st.st_mode), -1});
        continue;
      }
      throw std::runtime_error("mount of type \"" + type + "\" on " + destination + " is not supported yet");
    }
    if (spec.contains("hooks")) {
      const json& hooks = spec.at("hooks");
      if (!hooks.is_object()) throw std::runtime_error("hooks must be an object");
      for (const auto& [kind, list] : hooks.items()) {
        static const char* kKinds[] = {"prestart", "createRuntime", "createContainer", "startContainer",
                                       "poststart", "poststop"};
        if (std::find_if(std::begin(kKinds), std::end(kKinds), [&](const char* k) { return kind == k; }) ==
            std::end(kKinds))
          throw std::runtime_error("unknown hook kind \"" + kind + "\"");
        for (const auto& hook : list) {
          if (hook.value("path", std::string()).rfind('/', 0) != 0)
            throw std::runtime_error(kind + " hook: path must be absolute");
        }
      }
    }
    if (spec.contains("linux")) {
      const json& linux_spec = spec.at("linux");
      // A pod's container (CRI annotations) goes into the pod's sandbox,
      // whose Sentry is the namespaces the CRI names by path (the pause
      // container's network, IPC, UTS, and PID with shareProcessNamespace).
      const bool joins_pod = spec.value("annotations", json::object())
                                 .value("io.kubernetes.cri.container-type", std::string()) == "container";
      for (const auto& ns : linux_spec.value("namespaces", json::array())) {
        if (!ns.contains("path")) continue;
        const std::string type = ns.value("type", std::string("?")), path = ns.at("path").get<std::string>();
        if (joins_pod && (type == "network" || type == "ipc" || type == "uts" || type == "pid")) continue;
        if (type != "network") {
          // Outside a pod this would mean sharing another container's
          // sandbox without saying which: refused.
          throw std::runtime_error("joining the " + type + " namespace at a path is not supported yet");
        }
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("network namespace " + path + ": " + std::strerror(errno));
        c.network_namespace = path;
      }
      // The container's memory limit is the sandbox's, inside as well as
      // by the host's cgroup: the OOM killer acts within the sandbox.
      const Resources resources = read_resources(linux_spec);
      if (resources.memory_limit && *resources.memory_limit > 0)
        c.total_memory = static_cast<uint64_t>(*resources.memory_limit);
      // pids.limit, likewise: a fork bomb gets EAGAIN from the Sentry
      // before the host's pids cgroup has to refuse it a thread.
      if (resources.pids_limit && *resources.pids_limit > 0 && *resources.pids_limit < (1 << 30))
        c.total_tasks = static_cast<int>(*resources.pids_limit);
      // An OCI seccomp profile would filter the application's system calls
      // on the host; here none reach the host, and the Sentry's own filter
      // is fixed. Said in the log rather than refused: Docker always sends
      // one (gVisor does the same by default).
      if (linux_spec.contains("seccomp"))
        log::warn("linux.seccomp is not applied: the application's system calls never reach the host");
      const json sysctl = linux_spec.value("sysctl", json::object());
      // net.* keys (Docker always sets ip_unprivileged_port_start and
      // ping_group_range) apply to the namespace the sandbox's inet
      // sockets live in; any other key is refused until the Sentry
      // emulates it.
      for (const auto& [key, value] : sysctl.items()) {
        if (key.rfind("net.", 0) != 0) throw std::runtime_error("sysctl " + key + " is not emulated by the sandbox");
        if (key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") != std::string::npos ||
            key.find("..") != std::string::npos)
          throw std::runtime_error("sysctl " + key + " is not a sysctl name");
        c.net_sysctls.emplace_back(key, value.get<std::string>());
      }
    }
    return c;
  } catch (const std::exception& e) {
    // nlohmann's type and key errors name what is wrong in one line.
    error = bundle + "/config.json: " + e.what();
    return Err(EINVAL);
  }
}

namespace {

// create (or run) of a container in the running sandbox `sandbox` (a
// pod's): its gofers start here, the Sentry builds its filesystem and
// first process, and a child of ours stands for that process (its pid is
// the container's, for containerd's shim to wait on).
int launch_in_sandbox(const GlobalFlags& flags, const RunOptions& options, bool create, const std::string& sandbox,
                      const std::string& bundle, const std::string& root_dir, BootConfig config,
                      const json& annotations) {
  json sandbox_state;
  std::string error;
  if (sandbox.empty() || !load_state(flags, sandbox, sandbox_state, error) || sandbox_state["status"] != "running" ||
      sandbox_state.contains("sandbox")) {
    remove_state(flags, options.id);
    return fail("create: the pod's sandbox \"" + sandbox + "\" is not a running sandbox here");
  }
  auto gofers = start_gofers(flags, config, absolute(root_dir), /*detach=*/true, error);
  if (!gofers) {
    remove_state(flags, options.id);
    return fail("create: " + error);
  }
  std::vector<int> fds{0, 1, 2};
  for (const auto& end : gofers->sentry_ends) fds.push_back(end.get());
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail("create: pipe: " + std::string(std::strerror(errno)));
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  const nlohmann::json request = {{"op", "add_container"}, {"id", options.id}, {"config", nlohmann::json::parse(to_json(config))}};
  const pid_t child = ::fork();
  if (child < 0) return fail("create: fork: " + std::string(std::strerror(errno)));
  if (child == 0) {
    read_end.reset();
    ::setsid();
    ::_exit(stand_in(flags.root_state + "/" + sandbox, request, fds, false, write_end.release()));
  }
  write_end.reset();
  gofers->sentry_ends.clear();  // the child holds them until the Sentry has its own
  std::string answer;
  char buf[512];
  ssize_t n;
  while ((n = ::read(read_end.get(), buf, sizeof(buf))) > 0) answer.append(buf, static_cast<size_t>(n));
  if (answer.empty() || answer[0] != '\0') {
    for (pid_t pid : gofers->pids) ::kill(pid, SIGKILL);
    remove_state(flags, options.id);
    return fail("create: " + (answer.empty() ? std::string("the container's process did not start") : answer));
  }
  json state = {{"ociVersion", "1.1.0"}, {"id", options.id},   {"status", "created"},     {"pid", child},
                {"bundle", bundle},      {"rootfs", absolute(root_dir)}, {"created", now_rfc3339()},
                {"annotations", annotations}, {"sandbox", sandbox}, {"sandbox_pid", std::stoi(answer.substr(1))}};
  if (!save_state(flags, options.id, state)) return fail("create: cannot save the state of \"" + options.id + "\"");
  if (!options.pid_file.empty()) std::ofstream(options.pid_file) << child;
  if (create) return 0;
  if (int rc = run_start(flags, options.id); rc != 0) return rc;
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  remove_state(flags, options.id);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// run (create == false) or create: the container from the bundle, its
// state under --root; create leaves its program waiting on a FIFO.
int launch(const GlobalFlags& flags, const RunOptions& options, bool create) {
  static const std::regex kValidId("^[\\w+\\-\\.]+$");
  if (!std::regex_match(options.id, kValidId)) return fail("run: invalid container ID \"" + options.id + "\"");
  const std::string bundle = absolute(options.bundle.empty() ? "." : options.bundle);
  std::string root_dir, error;
  json spec;  // config.json, read once
  auto config = load_bundle(bundle, root_dir, error, &spec);
  if (!config) return fail("run: " + error);
  if (config->terminal) {
    // process.terminal: a pty whose master goes to the caller (containerd's
    // shim) over --console-socket; a foreground run may share its own.
    if (!options.console_socket.empty()) {
      ConsoleSize size;
      if (spec.contains("process") && spec["process"].contains("consoleSize")) {
        size.rows = spec["process"]["consoleSize"].value("height", 0);
        size.columns = spec["process"]["consoleSize"].value("width", 0);
      }
      auto slave = open_console(options.console_socket, size, error);
      if (!slave) return fail("run: " + error);
      if (auto r = use_as_stdio(slave->get()); !r) return fail("run: cannot use the terminal: " + std::string(std::strerror(r.error())));
    } else if (create || !::isatty(0)) {
      return fail("run: process.terminal needs --console-socket (or, for run, a terminal to share)");
    }
  } else if (!options.console_socket.empty()) {
    return fail("run: --console-socket needs process.terminal in config.json");
  }
  config->strace = flags.strace;
  config->debug = flags.debug;
  config->debug_log = !flags.debug_log.empty() ? flags.debug_log : flags.log;
  config->log_format = flags.log_format;
  // As runc, the --root directory is made with its parents.
  for (size_t slash = flags.root_state.find('/', 1);; slash = flags.root_state.find('/', slash + 1)) {
    const std::string dir = flags.root_state.substr(0, slash);
    if (::mkdir(dir.c_str(), 0711) != 0 && errno != EEXIST)
      return fail("run: cannot create " + dir + ": " + std::strerror(errno));
    if (slash == std::string::npos) break;
  }
  const std::string state_dir = flags.root_state + "/" + options.id;
  // mkdir is the lock: two runs of one ID cannot both create it.
  if (::mkdir(state_dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return fail("run: container \"" + options.id + "\" already exists");
    return fail("run: cannot create " + state_dir + ": " + std::strerror(errno));
  }
  {
    // A pod's container (containerd's CRI annotations): it joins the
    // sandbox its pod's first container made instead of starting one.
    const json annotations = spec.value("annotations", json::object());
    if (annotations.value("io.kubernetes.cri.container-type", std::string()) == "container") {
      const std::string sandbox = annotations.value("io.kubernetes.cri.sandbox-id", std::string());
      return launch_in_sandbox(flags, options, create, sandbox, bundle, root_dir, *config, annotations);
    }
  }
  // The control socket runsc exec, ps and kill --all talk to the Sentry by.
  auto control_listener = control::listen_at(state_dir);
  if (!control_listener) {
    const std::string why = std::strerror(control_listener.error());
    remove_state(flags, options.id);
    return fail("run: cannot make the control socket in " + state_dir + ": " + why);
  }
  config->control_fd = control_listener->get();
  if (create) {
    config->start_fifo = state_dir + "/start";
    if (::mkfifo(config->start_fifo.c_str(), 0600) != 0) {
      const std::string why = std::strerror(errno);
      remove_state(flags, options.id);
      return fail("create: cannot make " + config->start_fifo + ": " + why);
    }
  }
  const json annotations = spec.value("annotations", json::object());
  // The hooks that run before the program does need it held back, as
  // create holds it, until they are done.
  const bool hooks_first = has_hooks(spec, "prestart") || has_hooks(spec, "createRuntime") ||
                           has_hooks(spec, "createContainer") || has_hooks(spec, "startContainer");
  if (!create && hooks_first) {
    config->start_fifo = state_dir + "/start";
    if (::mkfifo(config->start_fifo.c_str(), 0600) != 0) {
      const std::string why = std::strerror(errno);
      remove_state(flags, options.id);
      return fail("run: cannot make " + config->start_fifo + ": " + why);
    }
  }
  json state = {{"ociVersion", "1.1.0"}, {"id", options.id},   {"status", "created"},
                {"pid", 0},              {"bundle", bundle},   {"rootfs", absolute(root_dir)},
                {"created", now_rfc3339()}, {"annotations", annotations}};
  std::string hook_error;
  // Created means ready: the Sentry holds the FIFO open for reading once it
  // waits for `start` (a non-blocking open for writing succeeds then). Then
  // the hooks of creation run, with the sandbox's pid in the state.
  auto created = [&](pid_t pid) -> bool {
    for (int tries = 0;; ++tries) {
      UniqueFd probe(::open(config->start_fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
      if (probe) break;
      const bool alive = ::kill(pid, 0) == 0;
      if (errno != ENXIO || !alive || tries > 2000) {
        hook_error = "the sandbox did not start";
        return false;
      }
      ::usleep(5000);
    }
    // prestart (deprecated, kept for Docker's libnetwork), createRuntime and
    // createContainer: after the sandbox exists, before its program runs.
    for (const char* kind : {"prestart", "createRuntime", "createContainer"}) {
      hook_error = run_hooks(spec, kind, state);
      if (!hook_error.empty()) return false;
    }
    return true;
  };
  auto started = [&](pid_t pid) {
    state["pid"] = pid;
    state["status"] = create || hooks_first ? "created" : "running";
    (void)save_state(flags, options.id, state);
    if (!options.pid_file.empty()) std::ofstream(options.pid_file) << pid;
    if (create || !hooks_first) return;
    // run: the hooks, then the program.
    if (!created(pid)) {
      ::kill(pid, SIGKILL);
      return;
    }
    hook_error = run_start_container_hooks(flags, options.id, spec, state);
    if (!hook_error.empty()) {
      ::kill(pid, SIGKILL);
      return;
    }
    UniqueFd go(::open(config->start_fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!go || ::write(go.get(), "s", 1) != 1) {
      hook_error = "cannot start the program: " + std::string(std::strerror(errno));
      return;
    }
    state["status"] = "running";
    (void)save_state(flags, options.id, state);
    if (std::string error = run_hooks(spec, "poststart", state); !error.empty()) log::warn("run: {}", error);
  };
  // The sandbox's host cgroup (linux.cgroupsPath): we enter it first, so
  // the gofers, the Sentry and its stubs all start inside.
  Resources resources;
  try {
    resources = read_resources(spec.value("linux", json::object()));
  } catch (const std::exception&) {
  }
  std::string cgroups_path;
  if (spec.contains("linux") && spec["linux"].contains("cgroupsPath")) cgroups_path = spec["linux"]["cgroupsPath"];
  Cgroup cgroup(Cgroup::path_for(cgroups_path, options.id));
  if (auto r = cgroup.enter(resources, error); r) {
    state["cgroup"] = cgroup.path();
  } else {
    if (resources.any()) {
      cgroup.leave();
      cgroup.remove();
      remove_state(flags, options.id);
      return fail("run: linux.resources: " + error);
    }
    log::debug("run: no cgroup for the sandbox: {}", error);
  }
  int status = run_sandbox(flags, *config, absolute(root_dir), started, create, &hook_error);
  cgroup.leave();
  if (create && status == 0) {
    if (!created(state.value("pid", 0))) {
      ::kill(state.value("pid", 0), SIGKILL);
      remove_state(flags, options.id);
      if (state.contains("cgroup")) cgroup.remove();
      return fail("create: " + hook_error);
    }
    return 0;
  }
  // runc run deletes the container once its process is gone; a created
  // one stays until `runsc delete`.
  remove_state(flags, options.id);
  if (state.contains("cgroup")) cgroup.remove();
  if (!hook_error.empty()) return fail("run: " + hook_error);
  state["status"] = "stopped";
  if (std::string error = run_hooks(spec, "poststop", state); !error.empty()) log::warn("run: {}", error);
  return status;
}

}  // namespace

int run_container(const GlobalFlags& flags, const RunOptions& options) {
  if (!options.detach) return launch(flags, options, false);
  // run --detach: create, start, and return.
  if (int rc = launch(flags, options, true); rc != 0) return rc;
  return run_start(flags, options.id);
}

int run_create(const GlobalFlags& flags, const RunOptions& options) { return launch(flags, options, true); }

int run_start(const GlobalFlags& flags, const std::string& id) {
  json state;
  std::string error;
  const UniqueFd lock = lock_container(flags, id);  // against a concurrent runsc on this container
  if (!load_state(flags, id, state, error)) return fail("start: " + error);
  if (state["status"] != "created")
    return fail("start: container \"" + id + "\" is " + state["status"].get<std::string>() + ", not created");
  json spec;
  (void)read_json(state.value("bundle", std::string()) + "/config.json", spec, error);
  if (state.contains("sandbox")) {
    // A container of a pod's sandbox: its Sentry starts the process.
    auto conn = control::connect_to(flags.root_state + "/" + state["sandbox"].get<std::string>());
    const nlohmann::json request = {{"op", "start_container"}, {"id", id}};
    if (!conn || control::send(conn->get(), request) != 0) return fail("start: cannot reach the pod's sandbox");
    auto reply = control::receive(conn->get());
    auto answer = reply && !reply->closed ? nlohmann::json::parse(reply->text, nullptr, false) : nlohmann::json();
    if (!answer.is_object() || !answer.contains("started"))
      return fail("start: " + (answer.is_object() && answer.contains("error") ? answer["error"].get<std::string>()
                                                                               : std::string("the sandbox did not answer")));
    state["status"] = "running";
    if (!save_state(flags, id, state)) return fail("start: cannot update the state of \"" + id + "\"");
    return 0;
  }
  // startContainer: inside the container, before its program; a failure
  // stops the container (runtime-spec runtime.md, "Lifecycle" step 7).
  if (std::string hook_error = run_start_container_hooks(flags, id, spec, state); !hook_error.empty()) {
    ::kill(state["pid"].get<int>(), SIGKILL);
    return fail("start: " + hook_error);
  }
  const std::string fifo = flags.root_state + "/" + id + "/start";
  UniqueFd fd(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd || ::write(fd.get(), "s", 1) != 1) return fail("start: cannot reach the container: " + std::string(std::strerror(errno)));
  state["status"] = "running";
  if (!save_state(flags, id, state)) return fail("start: cannot update the state of \"" + id + "\"");
  // poststart: after the program started; a failure is only logged
  // (runtime-spec runtime.md, "Lifecycle" step 10).
  if (spec.is_object()) {
    if (std::string hook_error = run_hooks(spec, "poststart", state); !hook_error.empty())
      log::warn("start: {}", hook_error);
  }
  return 0;
}


int run_state(const GlobalFlags& flags, const std::string& id) {
  json state;
  std::string error;
  if (!load_state(flags, id, state, error)) return fail("state: " + error);
  std::printf("%s\n", state.dump(2).c_str());
  return 0;
}

int run_list(const GlobalFlags& flags, const std::string& format) {
  json all = json::array();
  if (DIR* d = ::opendir(flags.root_state.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      json state;
      std::string error;
      if (load_state(flags, e->d_name, state, error)) all.push_back(state);
    }
    ::closedir(d);
  }
  if (format == "json") {
    std::printf("%s\n", all.dump().c_str());
    return 0;
  }
  std::printf("%-12s %-8s %-10s %-40s %-20s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  for (const auto& s : all) {
    std::printf("%-12s %-8d %-10s %-40s %-20s\n", s.value("id", "").c_str(), s.value("pid", 0),
                s.value("status", "").c_str(), s.value("bundle", "").c_str(), s.value("created", "").c_str());
  }
  return 0;
}

int run_kill(const GlobalFlags& flags, const std::string& id, const std::string& signal_name) {
  json state;
  std::string error;
  const int sig = parse_signal(signal_name.empty() ? "TERM" : signal_name);
  if (sig == 0) return fail("kill: unknown signal \"" + signal_name + "\"");
  const UniqueFd lock = lock_container(flags, id);  // against a concurrent runsc on this container
  if (!load_state(flags, id, state, error)) return fail("kill: " + error);
  if (state["status"] == "stopped") return fail("kill: container \"" + id + "\" is not running");
  const pid_t sandbox = state["pid"].get<int>();
  if (state["status"] == "paused") {
    // Frozen, the Sentry cannot take a signal for the container; SIGKILL
    // still ends the sandbox, once thawed.
    if (sig != SIGKILL) return fail("kill: container \"" + id + "\" is paused; resume it first (only KILL reaches it)");
    ::kill(sandbox, SIGKILL);
    if (state.contains("cgroup")) (void)Cgroup(state["cgroup"].get<std::string>()).freeze(false, error);
    return 0;
  }
  if (state["status"] == "created") {
    // The program never ran: a signal that would end it ends the sandbox;
    // others have nobody to reach.
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) ::kill(sandbox, SIGKILL);
    return 0;
  }
  // The signal goes to the container's pid 1 inside the sandbox (never
  // to the Sentry's host process, which a SIGSTOP or SIGALRM would stop or
  // kill): pid 1 takes it only if it handles it, SIGKILL aside.
  // A pod's container: its first process, in the pod's sandbox.
  const bool in_pod = state.contains("sandbox");
  auto conn = control::connect_to(flags.root_state + "/" + (in_pod ? state["sandbox"].get<std::string>() : id));
  nlohmann::json request = {{"op", "signal"}, {"pid", in_pod ? state["sandbox_pid"].get<int>() : 1}, {"signal", sig}};
  if (conn && control::send(conn->get(), request) == 0) {
    auto reply = control::receive(conn->get());
    if (reply && !reply->closed) return 0;
  }
  // The Sentry cannot answer: SIGKILL still ends the sandbox.
  if (sig != SIGKILL) return fail("kill: cannot reach the sandbox of \"" + id + "\"");
  if (::kill(sandbox, SIGKILL) != 0) return fail("kill: " + std::string(std::strerror(errno)));
  return 0;
}

int run_delete(const GlobalFlags& flags, const std::string& id, bool force) {
  json state;
  std::string error;
  const UniqueFd lock = lock_container(flags, id);  // against a concurrent runsc on this container
  if (!load_state(flags, id, state, error)) return fail("delete: " + error);
  if (state["status"] == "running" || state["status"] == "paused") {
    if (!force) return fail("delete: container \"" + id + "\" is " + state["status"].get<std::string>() + "; stop it or use --force");
    ::kill(state["pid"].get<int>(), SIGKILL);
    if (state["status"] == "paused" && state.contains("cgroup"))
      (void)Cgroup(state["cgroup"].get<std::string>()).freeze(false, error);
  } else if (state["status"] == "created") {
    // Its program never ran: the sandbox waiting for `start` goes.
    ::kill(state["pid"].get<int>(), SIGKILL);
  }
  remove_state(flags, id);
  if (state.contains("cgroup")) Cgroup(state["cgroup"].get<std::string>()).remove();
  // poststop: once the container is deleted; a failure is only logged.
  json spec;
  if (read_json(state.value("bundle", std::string()) + "/config.json", spec, error)) {
    if (std::string hook_error = run_hooks(spec, "poststop", state); !hook_error.empty())
      log::warn("delete: {}", hook_error);
  }
  return 0;
}

int report_error(const std::string& message) {
  // containerd's shim reports the last error line of --log (runc does the
  // same); a person at a terminal reads stderr.
  if (log::to_file()) log::error("{}", message);
  std::fprintf(stderr, "runsc: %s\n", message.c_str());
  return 1;
}

}  // namespace runsc::cli
