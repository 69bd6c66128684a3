#include "runsc/config.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace runsc::cli {

Result<uint64_t> parse_size(const std::string& text) {
  if (text.empty()) return Err(EINVAL);
  uint64_t multiplier = 1;
  std::string digits = text;
  switch (std::tolower(static_cast<unsigned char>(digits.back()))) {
    case 'k': multiplier = 1ull << 10; break;
    case 'm': multiplier = 1ull << 20; break;
    case 'g': multiplier = 1ull << 30; break;
    case 't': multiplier = 1ull << 40; break;
    default: break;
  }
  if (multiplier != 1) digits.pop_back();
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 15)
    return Err(EINVAL);
  const uint64_t value = std::stoull(digits);
  if (value > UINT64_MAX / multiplier / 2) return Err(EINVAL);  // far past any memory, and no overflow
  return value * multiplier;
}

std::string to_json(const BootConfig& c) {
  nlohmann::json j;
  j["argv"] = c.argv;
  j["program"] = c.program;
  j["env"] = c.env;
  j["cwd"] = c.cwd;
  j["uid"] = c.uid;
  j["gid"] = c.gid;
  j["groups"] = c.groups;
  j["hostname"] = c.hostname;
  j["strace"] = c.strace;
  j["overlay"] = c.overlay;
  j["root_read_only"] = c.root_read_only;
  j["total_memory"] = c.total_memory;
  j["overlay_size"] = c.overlay_size;
  j["total_tasks"] = c.total_tasks;
  j["start_fifo"] = c.start_fifo;
  j["control_fd"] = c.control_fd;
  j["capabilities_set"] = c.capabilities_set;
  j["no_new_privileges"] = c.no_new_privileges;
  j["oom_score_adj"] = c.oom_score_adj;
  j["net_sysctls"] = c.net_sysctls;
  j["privileges"] = c.privileges == SentryPrivileges::kUserNamespace ? "userns" : "host-nobody";
  j["setup_network"] = c.setup_network;
  j["unprivileged_port_start"] = c.unprivileged_port_start;
  j["debug_log_fd"] = c.debug_log_fd;
  j["seccomp_log"] = c.seccomp_log;
  j["start_read_fd"] = c.start_read_fd;
  j["start_write_fd"] = c.start_write_fd;
  j["terminal"] = c.terminal;
  j["cap_effective"] = c.cap_effective;
  j["cap_permitted"] = c.cap_permitted;
  j["cap_inheritable"] = c.cap_inheritable;
  j["rlimits"] = nlohmann::json::array();
  for (const auto& r : c.rlimits) j["rlimits"].push_back({r.resource, r.soft, r.hard});
  j["tmpfs_mounts"] = nlohmann::json::array();
  for (const auto& m : c.tmpfs_mounts)
    j["tmpfs_mounts"].push_back({{"destination", m.destination}, {"mode", m.mode}, {"size", m.size}});
  j["bind_mounts"] = nlohmann::json::array();
  for (const auto& m : c.bind_mounts) {
    j["bind_mounts"].push_back({{"source", m.source}, {"destination", m.destination}, {"read_only", m.read_only},
                                {"file", m.file}, {"gofer_fd", m.gofer_fd}});
  }
  j["debug"] = c.debug;
  j["debug_log"] = c.debug_log;
  j["log_format"] = c.log_format;
  return j.dump();
}

Result<BootConfig> boot_config_from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Err(EINVAL);
  try {
    BootConfig c;
    c.argv = j.at("argv").get<std::vector<std::string>>();
    c.program = j.value("program", std::string());
    c.env = j.at("env").get<std::vector<std::string>>();
    c.cwd = j.at("cwd").get<std::string>();
    c.uid = j.at("uid").get<uint32_t>();
    c.gid = j.at("gid").get<uint32_t>();
    c.groups = j.at("groups").get<std::vector<uint32_t>>();
    c.hostname = j.at("hostname").get<std::string>();
    c.strace = j.at("strace").get<bool>();
    c.overlay = j.value("overlay", true);
    c.root_read_only = j.value("root_read_only", false);
    c.total_memory = j.value("total_memory", uint64_t{0});
    c.overlay_size = j.value("overlay_size", TmpfsMount::kHalfOfMemory);
    c.total_tasks = j.value("total_tasks", 0);
    c.start_fifo = j.value("start_fifo", std::string());
    c.control_fd = j.value("control_fd", -1);
    c.capabilities_set = j.value("capabilities_set", false);
    c.no_new_privileges = j.value("no_new_privileges", false);
    c.oom_score_adj = j.value("oom_score_adj", 0);
    c.net_sysctls = j.value("net_sysctls", decltype(c.net_sysctls){});
    c.privileges = j.value("privileges", std::string("userns")) == "userns" ? SentryPrivileges::kUserNamespace
                                                                           : SentryPrivileges::kHostNobody;
    c.setup_network = j.value("setup_network", false);
    c.unprivileged_port_start = j.value("unprivileged_port_start", 1024);
    c.debug_log_fd = j.value("debug_log_fd", -1);
    c.seccomp_log = j.value("seccomp_log", false);
    c.start_read_fd = j.value("start_read_fd", -1);
    c.start_write_fd = j.value("start_write_fd", -1);
    c.terminal = j.value("terminal", false);
    c.cap_effective = j.value("cap_effective", uint64_t{0});
    c.cap_permitted = j.value("cap_permitted", uint64_t{0});
    c.cap_inheritable = j.value("cap_inheritable", uint64_t{0});
    for (const auto& r : j.value("rlimits", nlohmann::json::array())) {
      c.rlimits.push_back({r.at(0).get<int>(), r.at(1).get<uint64_t>(), r.at(2).get<uint64_t>()});
    }
    for (const auto& m : j.value("tmpfs_mounts", nlohmann::json::array())) {
      c.tmpfs_mounts.push_back({m.at("destination").get<std::string>(), m.at("mode").get<uint32_t>(),
                                m.at("size").get<uint64_t>()});
    }
    for (const auto& m : j.value("bind_mounts", nlohmann::json::array())) {
      c.bind_mounts.push_back({m.at("source").get<std::string>(), m.at("destination").get<std::string>(),
                               m.at("read_only").get<bool>(), m.at("file").get<bool>(), m.at("gofer_fd").get<int>()});
    }
    c.debug = j.at("debug").get<bool>();
    c.debug_log = j.at("debug_log").get<std::string>();
    c.log_format = j.at("log_format").get<std::string>();
    if (c.argv.empty()) return Err(EINVAL);
    return c;
  } catch (const nlohmann::json::exception&) {
    return Err(EINVAL);
  }
}

}  // namespace runsc::cli
