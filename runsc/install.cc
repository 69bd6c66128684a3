// `runsc install` and `runsc uninstall`: add or remove this binary as a
// Docker runtime in daemon.json, keeping every other key, and replacing the
// file atomically so that dockerd never reads half of it.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/unique_fd.h"
#include "runsc/commands.h"

namespace runsc::cli {
namespace {

using json = nlohmann::ordered_json;

// The file's JSON: an empty object when it does not exist yet. Errors are
// one line for the user.
bool load(const std::string& path, json& out, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) {
      out = json::object();
      return true;
    }
    error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find_first_not_of(" \t\r\n") == std::string::npos) {
    out = json::object();  // an empty file holds no settings
    return true;
  }
  try {
    out = json::parse(text.str());
  } catch (const json::exception& e) {
    // nlohmann's messages are one line: "[json.exception.parse_error.101] ..."
    error = path + " is not valid JSON: " + e.what();
    return false;
  }
  if (!out.is_object()) {
    error = path + " does not hold a JSON object";
    return false;
  }
  return true;
}

// Writes `j` next to `path` and renames it over `path`: readers see the
// old file or the new one, never a mix. The old file's mode is kept.
bool store(const std::string& path, const json& j, std::string& error) {
  mode_t mode = 0644;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    error = "cannot create " + dir + ": " + std::strerror(errno);
    return false;
  }
  std::string tmp = path + ".runsc-XXXXXX";
  UniqueFd fd(::mkstemp(tmp.data()));
  if (!fd) {
    error = "cannot write next to " + path + ": " + std::strerror(errno);
    return false;
  }
  const std::string text = j.dump(4) + "\n";
  bool ok = ::fchmod(fd.get(), mode) == 0 &&
            ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd.get()) == 0;
  if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "runsc";
  return std::string(buf, static_cast<size_t>(n));
}

int fail(const char* command, const std::string& error) {
  std::fprintf(stderr, "runsc: %s: %s\n", command, error.c_str());
  return 1;
}

}  // namespace

int run_install(const InstallOptions& options) {
  json config;
  std::string error;
  if (!load(options.config_file, config, error)) return fail("install", error);
  if (config.contains("runtimes") && !config["runtimes"].is_object())
    return fail("install", options.config_file + ": \"runtimes\" is not an object");
  json runtime = {{"path", self_path()}};
  if (!options.runtime_args.empty()) runtime["runtimeArgs"] = options.runtime_args;
  config["runtimes"][options.runtime] = runtime;
  if (!store(options.config_file, config, error)) return fail("install", error);
  std::printf("runsc: runtime \"%s\" added to %s; reload dockerd (systemctl reload docker) to use it\n",
              options.runtime.c_str(), options.config_file.c_str());
  return 0;
}

int run_uninstall(const InstallOptions& options) {
  json config;
  std::string error;
  if (!load(options.config_file, config, error)) return fail("uninstall", error);
  if (!config.contains("runtimes") || !config["runtimes"].is_object() ||
      !config["runtimes"].contains(options.runtime)) {
    return fail("uninstall", "runtime \"" + options.runtime + "\" is not in " + options.config_file);
  }
  config["runtimes"].erase(options.runtime);
  if (config["runtimes"].empty()) config.erase("runtimes");
  if (!store(options.config_file, config, error)) return fail("uninstall", error);
  std::printf("runsc: runtime \"%s\" removed from %s\n", options.runtime.c_str(), options.config_file.c_str());
  return 0;
}

}  // namespace runsc::cli
