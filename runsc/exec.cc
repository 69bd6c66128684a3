// The commands that talk to a running sandbox over its control socket
// (runsc/control.h): exec, ps, events and kill --all.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

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

// One request, one reply.
// A pod's container (state "sandbox") is reached through its sandbox.
Result<nlohmann::json> ask(const GlobalFlags& flags, const std::string& id, const json& state,
                           const nlohmann::json& request, std::string& error) {
  const std::string owner = state.contains("sandbox") ? state["sandbox"].get<std::string>() : id;
  auto conn = control::connect_to(flags.root_state + "/" + owner);
  if (!conn) {
    error = "cannot reach the sandbox of \"" + id + "\": " + std::strerror(conn.error());
    return Err(conn.error());
  }
  if (int e = control::send(conn->get(), request)) {
    error = std::string("cannot reach the sandbox: ") + std::strerror(e);
    return Err(e);
  }
  auto got = control::receive(conn->get());
  if (!got || got->closed) {
    error = "the sandbox did not answer";
    return Err(EIO);
  }
  auto reply = nlohmann::json::parse(got->text, nullptr, false);
  if (!reply.is_object()) {
    error = "the sandbox answered nonsense";
    return Err(EIO);
  }
  if (reply.contains("error")) {
    error = reply["error"].get<std::string>();
    return Err(EINVAL);
  }
  return reply;
}

// A running (or created) container's state, or a one-line error.
bool live_state(const GlobalFlags& flags, const std::string& id, const char* command, json& state, int& rc) {
  std::string error;
  if (!load_state(flags, id, state, error)) {
    rc = fail(std::string(command) + ": " + error);
    return false;
  }
  if (state["status"] == "stopped") {
    rc = fail(std::string(command) + ": container \"" + id + "\" is not running");
    return false;
  }
  return true;
}

// The process to exec: the container's own process as the base (its env,
// user, capabilities...), as runc exec does, then --process or the
// command line.
bool exec_config(const ExecOptions& o, const json& state, BootConfig& c, std::string& error) {
  json spec;
  {
    std::ifstream in(state.value("bundle", std::string()) + "/config.json");
    std::stringstream text;
    text << in.rdbuf();
    spec = json::parse(text.str(), nullptr, false);
  }
  if (!o.process_file.empty()) {
    std::ifstream in(o.process_file);
    if (!in) {
      error = "cannot read " + o.process_file + ": " + std::strerror(errno);
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    json process = json::parse(text.str(), nullptr, false);
    if (!process.is_object()) {
      error = o.process_file + " is not a JSON object";
      return false;
    }
    if (!parse_process(process, c, error)) {
      error = o.process_file + ": " + error;
      return false;
    }
  } else {
    if (o.argv.empty()) {
      error = "missing PROGRAM (usage: runsc exec [OPTIONS] ID PROGRAM ARGS...)";
      return false;
    }
    if (spec.is_object() && spec.contains("process")) {
      json base = spec["process"];
      base["args"] = o.argv;
      if (!parse_process(base, c, error)) return false;
    }
    c.argv = o.argv;
  }
  if (!o.cwd.empty()) c.cwd = o.cwd;
  for (const auto& kv : o.env) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "--env wants KEY=VALUE, got \"" + kv + "\"";
      return false;
    }
    std::erase_if(c.env, [&](const std::string& e) { return e.compare(0, eq + 1, kv, 0, eq + 1) == 0; });
    c.env.push_back(kv);
  }
  if (!o.user.empty()) {
    unsigned uid = 0, gid = 0;
    char extra = 0;
    const int n = std::sscanf(o.user.c_str(), "%u:%u%c", &uid, &gid, &extra);
    if (n < 1 || n > 2) {
      error = "--user wants UID[:GID], got \"" + o.user + "\"";
      return false;
    }
    c.uid = uid;
    c.gid = n == 2 ? gid : 0;
    c.groups.clear();
  }
  return true;
}

// Asks the Sentry to start the process with our stdio, tells `started`
// (if >= 0) its pid, then passes on our signals until it ends. Returns
// its exit status.
}  // namespace

int stand_in(const std::string& control_dir, const nlohmann::json& request, std::span<const int> fds, bool terminal,
             int started) {
  auto report = [&](const std::string& message, int status = 1) {
    if (started >= 0) {
      (void)!::write(started, message.data(), message.size());
      return status;
    }
    fail("exec: " + message);
    return status;
  };
  // Signals for the process: blocked here, read from a signalfd.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGTSTP})
    sigaddset(&forwarded, s);
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
  auto conn = control::connect_to(control_dir);
  if (!conn) return report("cannot reach the sandbox: " + std::string(std::strerror(conn.error())));
  if (int e = control::send(conn->get(), request, fds))
    return report("cannot reach the sandbox: " + std::string(std::strerror(e)));
  auto got = control::receive(conn->get());
  if (!got || got->closed) return report("the sandbox did not answer");
  auto reply = nlohmann::json::parse(got->text, nullptr, false);
  if (!reply.is_object() || !reply.contains("pid")) {
    if (!reply.is_object() || !reply.contains("error")) return report("the sandbox answered nonsense");
    // What shells answer: 127 for a missing program, 126 when it cannot run.
    const int error = reply.value("errno", 0);
    return report(reply["error"].get<std::string>(), error == 0 ? 1 : error == ENOENT ? 127 : 126);
  }
  if (started >= 0) {
    // A NUL byte, then the process's pid in the sandbox: started.
    const std::string ok = std::string(1, '\0') + std::to_string(reply["pid"].get<int>());
    (void)!::write(started, ok.data(), ok.size());
    ::close(started);
  }
  // With a terminal of its own (we lead a session: exec --detach), we
  // take it as ours so the host tty's ^C, ^\\, ^Z and size changes come
  // here, for the process's foreground group inside.
  if (terminal && ::getsid(0) == ::getpid() && ::ioctl(0, TIOCSCTTY, 0) == 0) (void)::tcsetpgrp(0, ::getpgrp());
  for (;;) {
    pollfd p[2] = {{conn->get(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[1].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(signals.get(), &si, sizeof(si)) == sizeof(si)) {
        const int sig = static_cast<int>(si.ssi_signo);
        const bool from_terminal = sig == SIGINT || sig == SIGQUIT || sig == SIGTSTP || sig == SIGWINCH;
        (void)control::send(conn->get(), {{"op", terminal && from_terminal ? "tty_signal" : "signal"}, {"signal", sig}});
      }
    }
    if (p[0].revents) {
      auto message = control::receive(conn->get());
      if (!message || message->closed) {
        std::fprintf(stderr, "runsc: exec: the sandbox went away\n");
        return 255;
      }
      auto m = nlohmann::json::parse(message->text, nullptr, false);
      if (m.is_object() && m.contains("exit")) return m["exit"].get<int>();
    }
  }
}


namespace {

// exec: the process in the container `id` (its sandbox's, for a container
// added to a pod's sandbox), with our stdio.
int exec_and_wait(const GlobalFlags& flags, const std::string& id, const json& state, const BootConfig& c,
                  int started) {
  nlohmann::json request = {{"op", "exec"}, {"process", nlohmann::json::parse(to_json(c))}};
  std::string dir = flags.root_state + "/" + id;
  if (state.contains("sandbox")) {
    dir = flags.root_state + "/" + state["sandbox"].get<std::string>();
    request["container"] = id;
  }
  const int stdio[3] = {0, 1, 2};
  return stand_in(dir, request, stdio, c.terminal, started);
}

}  // namespace

std::string run_start_container_hooks(const GlobalFlags& flags, const std::string& id,
                                      const nlohmann::ordered_json& spec, const nlohmann::ordered_json& state) {
  if (!has_hooks(spec, "startContainer")) return "";
  const std::string text = state.dump();
  for (const auto& hook : spec["hooks"]["startContainer"]) {
    // Inside the container: its root, the hook's own args and env.
    BootConfig c;
    c.program = hook.value("path", std::string());
    c.argv = hook.value("args", std::vector<std::string>{c.program});
    if (c.argv.empty()) c.argv.push_back(c.program);
    c.env = hook.value("env", std::vector<std::string>{});
    const int timeout = hook.value("timeout", 0);
    const std::string what = "startContainer hook " + c.program;
    auto io = hook_io(text);
    if (!io) return what + ": " + std::strerror(io.error());
    const UniqueFd in = std::move(io->in), out = std::move(io->out);
    auto conn = control::connect_to(flags.root_state + "/" + id);
    if (!conn) return what + ": cannot reach the sandbox";
    const int stdio[3] = {in.get(), out.get(), out.get()};
    if (control::send(conn->get(), {{"op", "exec"}, {"process", nlohmann::json::parse(to_json(c))}}, stdio) != 0)
      return what + ": cannot reach the sandbox";
    auto reply = control::receive(conn->get());
    auto started = reply && !reply->closed ? nlohmann::json::parse(reply->text, nullptr, false) : nlohmann::json();
    if (!started.is_object() || !started.contains("pid"))
      return what + ": " + (started.is_object() && started.contains("error") ? started["error"].get<std::string>() : "did not start");
    // Its exit status, within its timeout (then it is killed).
    pollfd p{conn->get(), POLLIN, 0};
    int ready;
    while ((ready = ::poll(&p, 1, timeout > 0 ? timeout * 1000 : -1)) < 0 && errno == EINTR) {
    }
    if (ready == 0) return what + " timed out after " + std::to_string(timeout) + "s";  // closing the connection kills it
    auto ended = control::receive(conn->get());
    auto status = ended && !ended->closed ? nlohmann::json::parse(ended->text, nullptr, false) : nlohmann::json();
    if (!status.is_object() || !status.contains("exit")) return what + ": the sandbox went away";
    if (const int code = status["exit"].get<int>(); code != 0) {
      return what + " exited with status " + std::to_string(code) + hook_output(out.get());
    }
  }
  return "";
}

int run_exec(const GlobalFlags& flags, const ExecOptions& options) {
  json state;
  int rc = 1;
  if (!live_state(flags, options.id, "exec", state, rc)) return rc;
  BootConfig c;
  std::string error;
  if (!exec_config(options, state, c, error)) return fail("exec: " + error);
  // --tty (or a --process with terminal): a pty whose master goes over
  // --console-socket, or the terminal we run in.
  c.terminal = c.terminal || options.tty;
  if (c.terminal) {
    if (!options.console_socket.empty()) {
      auto slave = open_console(options.console_socket, {}, error);
      if (!slave) return fail("exec: " + error);
      if (auto r = use_as_stdio(slave->get()); !r) return fail("exec: cannot use the terminal");
    } else if (!::isatty(0)) {
      return fail("exec: --tty needs --console-socket or a terminal");
    }
  } else if (!options.console_socket.empty()) {
    return fail("exec: --console-socket needs --tty");
  }
  if (!options.detach) {
    if (!options.pid_file.empty()) std::ofstream(options.pid_file) << ::getpid();
    return exec_and_wait(flags, options.id, state, c, -1);
  }
  // --detach: a child of ours stands for the process (containerd's shim,
  // a subreaper, inherits it and takes its exit status as the process's);
  // we return once it started, with its pid in --pid-file.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail("exec: pipe: " + std::string(std::strerror(errno)));
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  const pid_t child = ::fork();
  if (child < 0) return fail("exec: fork: " + std::string(std::strerror(errno)));
  if (child == 0) {
    read_end.reset();
    ::setsid();
    ::_exit(exec_and_wait(flags, options.id, state, c, write_end.release()));
  }
  write_end.reset();
  std::string answer;
  char buf[512];
  ssize_t n;
  while ((n = ::read(read_end.get(), buf, sizeof(buf))) > 0) answer.append(buf, static_cast<size_t>(n));
  if (answer.empty() || answer[0] != '\0') return fail("exec: " + (answer.empty() ? "the process did not start" : answer));
  if (!options.pid_file.empty()) {
    std::ofstream out(options.pid_file);
    out << child;
    if (!out.flush()) return fail("exec: cannot write " + options.pid_file);
  }
  return 0;
}

int run_ps(const GlobalFlags& flags, const std::string& id, const std::string& format) {
  json state;
  int rc = 1;
  if (!live_state(flags, id, "ps", state, rc)) return rc;
  if (format == "json") {
    // runc prints the container's host pids, which containerd's shim
    // (docker top) looks up in the host's ps. On the host the container's
    // processes are one: the Sentry, which runs them all.
    std::printf("[%d]\n", state["pid"].get<int>());
    return 0;
  }
  std::string error;
  auto reply = ask(flags, id, state, {{"op", "ps"}}, error);
  if (!reply) return fail("ps: " + error);
  const auto& processes = (*reply)["processes"];
  std::printf("%-8s %-8s %-8s %-8s %s\n", "UID", "PID", "PPID", "THREADS", "CMD");
  for (const auto& p : processes) {
    std::printf("%-8u %-8d %-8d %-8zu %s\n", p["uid"].get<unsigned>(), p["pid"].get<int>(), p["ppid"].get<int>(),
                p["threads"].get<size_t>(), p["comm"].get<std::string>().c_str());
  }
  return 0;
}

int run_events(const GlobalFlags& flags, const std::string& id, bool stats_only, int interval_ms) {
  for (;;) {
    json state;
    int rc = 1;
    if (!live_state(flags, id, "events", state, rc)) return stats_only ? rc : 0;
    std::string error;
    auto reply = ask(flags, id, state, {{"op", "stats"}}, error);
    if (!reply) return stats_only ? fail("events: " + error) : 0;
    // runc's stats event: the fields a reader of `runc events` looks for.
    const json event = {{"type", "stats"},
                        {"id", id},
                        {"data",
                         {{"cpu", {{"usage", {{"total", (*reply)["cpu_ns"]}}}}},
                          {"memory", {{"usage", {{"usage", (*reply)["memory_bytes"]}}}}},
                          {"pids", {{"current", (*reply)["pids"]}}}}}};
    std::printf("%s\n", event.dump().c_str());
    std::fflush(stdout);
    if (stats_only) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
}

int run_wait(const GlobalFlags& flags, const std::string& id) {
  json state;
  int rc = 1;
  if (!live_state(flags, id, "wait", state, rc)) return rc;
  if (state.contains("sandbox"))
    return fail("wait: \"" + id + "\" is a container of the pod sandbox \"" + state["sandbox"].get<std::string>() +
                "\": its pid file's process stands for it");
  std::string error;
  auto reply = ask(flags, id, state, {{"op", "wait"}}, error);
  if (!reply) {
    if (error == "the sandbox did not answer") error = "the sandbox ended without reporting an exit status";
    return fail("wait: " + error);
  }
  const json out = {{"id", id}, {"exitStatus", (*reply)["exit"]}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int run_pause(const GlobalFlags& flags, const std::string& id, bool pause) {
  const char* command = pause ? "pause" : "resume";
  json state;
  std::string error;
  const UniqueFd lock = lock_container(flags, id);
  if (!load_state(flags, id, state, error)) return fail(std::string(command) + ": " + error);
  const std::string want = pause ? "running" : "paused";
  if (state["status"] != want)
    return fail(std::string(command) + ": container \"" + id + "\" is " + state["status"].get<std::string>() + ", not " + want);
  if (!state.contains("cgroup")) return fail(std::string(command) + ": the sandbox has no cgroup to freeze");
  // The freezer stops the Sentry, its stubs and gofers at once: the
  // application's clocks go on, as with runc.
  if (auto r = Cgroup(state["cgroup"].get<std::string>()).freeze(pause, error); !r) return fail(std::string(command) + ": " + error);
  state["status"] = pause ? "paused" : "running";
  if (!save_state(flags, id, state)) return fail(std::string(command) + ": cannot update the state of \"" + id + "\"");
  return 0;
}

int run_kill_all(const GlobalFlags& flags, const std::string& id, int sig) {
  json state;
  int rc = 1;
  if (!live_state(flags, id, "kill", state, rc)) return rc;
  std::string error;
  // A pod's container: its first process (the sandbox's other processes
  // are other containers').
  const nlohmann::json request = state.contains("sandbox")
                                     ? nlohmann::json{{"op", "signal"}, {"pid", state["sandbox_pid"]}, {"signal", sig}}
                                     : nlohmann::json{{"op", "signal_all"}, {"signal", sig}};
  if (state["status"] == "created" || !ask(flags, id, state, request, error)) {
    // Nothing runs yet (or the sandbox cannot answer): the signal goes to
    // the Sentry, which stands for the whole container.
    if (::kill(state["pid"].get<int>(), sig) != 0) return fail("kill: " + std::string(std::strerror(errno)));
  }
  return 0;
}

}  // namespace runsc::cli
