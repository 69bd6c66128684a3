#include "runsc/hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

namespace runsc::cli {
namespace {

using json = nlohmann::ordered_json;

std::string run_one(const json& hook, const char* kind, const std::string& state) {
  const std::string path = hook.value("path", std::string());
  if (path.empty() || path.front() != '/') return std::string(kind) + " hook: path \"" + path + "\" is not absolute";
  std::vector<std::string> args = hook.value("args", std::vector<std::string>{});
  if (args.empty()) args.push_back(path);
  const std::vector<std::string> env = hook.value("env", std::vector<std::string>{});
  const int timeout = hook.value("timeout", 0);
  if (hook.contains("timeout") && timeout <= 0) return std::string(kind) + " hook " + path + ": timeout must be positive";

  // stdin: the state, in a memfd (no pipe to fill and block on); stdout and
  // stderr: another, read back if the hook fails. Our own stdio may be the
  // container's, which the hook's chatter must not reach.
  auto io = hook_io(state);
  if (!io) return std::string(kind) + " hook: " + std::strerror(io.error());
  UniqueFd in = std::move(io->in), out = std::move(io->out);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return std::string(kind) + " hook: fork: " + std::strerror(errno);
  if (pid == 0) {
    ::dup2(in.get(), 0);
    ::dup2(out.get(), 1);
    ::dup2(out.get(), 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, timeout > 0 ? WNOHANG : 0);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return std::string(kind) + " hook " + path + ": " + std::strerror(errno);
    if (timeout > 0 && std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return std::string(kind) + " hook " + path + " timed out after " + std::to_string(timeout) + "s";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  return std::string(kind) + " hook " + path + " " + how + hook_output(out.get());
}

}  // namespace

Result<HookIo> hook_io(const std::string& state) {
  HookIo io{UniqueFd(::memfd_create("runsc-hook-state", MFD_CLOEXEC)),
            UniqueFd(::memfd_create("runsc-hook-output", MFD_CLOEXEC))};
  if (!io.in || !io.out || ::write(io.in.get(), state.data(), state.size()) != static_cast<ssize_t>(state.size()) ||
      ::lseek(io.in.get(), 0, SEEK_SET) != 0)
    return ErrFromErrno();
  return io;
}

std::string hook_output(int fd) {
  std::string out(4096, '\0');
  const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out.empty() ? "" : ": " + out;
}

bool has_hooks(const json& spec, const char* kind) {
  return spec.contains("hooks") && spec.at("hooks").is_object() && spec.at("hooks").contains(kind) &&
         !spec.at("hooks").at(kind).empty();
}

std::string run_hooks(const json& spec, const char* kind, const json& state) {
  if (!has_hooks(spec, kind)) return "";
  const std::string text = state.dump();
  for (const auto& hook : spec.at("hooks").at(kind)) {
    if (std::string error = run_one(hook, kind, text); !error.empty()) return error;
  }
  return "";
}

}  // namespace runsc::cli
