#include "runsc/control.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "runsc/config.h"
#include "runsc/sandbox_process.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace runsc::cli::control {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxMessage = 256 * 1024;
constexpr size_t kMaxFds = 3;

// A unix socket address for `dir`/control however long `dir` is: through
// an FD of the directory (sun_path holds only 108 bytes).
struct Address {
  UniqueFd dir;
  sockaddr_un addr{};
};
Result<Address> address_of(const std::string& state_dir) {
  Address a;
  a.dir.reset(::open(state_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!a.dir) return ErrFromErrno();
  a.addr.sun_family = AF_UNIX;
  std::snprintf(a.addr.sun_path, sizeof(a.addr.sun_path), "/proc/self/fd/%d/control", a.dir.get());
  return a;
}

// A signal from outside to process `pid` of the sandbox; false if it is gone.
bool signal_process(kernel::Kernel& kernel, int pid, int sig) {
  if (sig < 1 || sig > 64) return false;
  std::shared_ptr<kernel::Task> target;
  {
    std::lock_guard lock(kernel.tree_mutex());
    auto group = kernel.find_process_locked(pid);
    if (!group || group->zombie) return false;
    target = kernel::signal_target_locked(*group, sig);
  }
  if (target) target->post_external_signal(sig);
  return target != nullptr;
}

json ps(kernel::Kernel& kernel) {
  json list = json::array();
  std::lock_guard lock(kernel.tree_mutex());
  for (const auto& [pid, group] : kernel.processes_locked()) {
    if (group->zombie) continue;
    auto leader = group->leader.lock();
    auto parent = group->parent.lock();
    list.push_back({{"pid", pid},
                    {"ppid", parent ? parent->pid : 0},
                    {"uid", leader ? leader->creds().ruid : 0},
                    {"comm", leader ? leader->comm() : std::string()},
                    {"threads", group->tasks.size()}});
  }
  return list;
}

json stats(kernel::Kernel& kernel) {
  uint64_t pids = 0;
  int64_t cpu_ns = 0;
  // Per process, as group_cpu_ns() in sys_timer counts it: the threads of
  // one address space share one stub's user time; system time adds up.
  std::vector<std::vector<std::shared_ptr<kernel::Task>>> live;
  {
    std::lock_guard lock(kernel.tree_mutex());
    for (const auto& [pid, group] : kernel.processes_locked()) {
      cpu_ns += group->dead_user_ns + group->dead_sys_ns + group->children_user_ns + group->children_sys_ns;
      if (group->zombie) continue;
      auto& tasks = live.emplace_back();
      for (const auto& w : group->tasks) {
        if (auto t = w.lock()) tasks.push_back(std::move(t));
      }
      pids += tasks.size();
    }
  }
  for (const auto& tasks : live) {
    int64_t user_max = 0;
    for (const auto& t : tasks) {
      user_max = std::max(user_max, t->user_time_ns());
      cpu_ns += t->sys_time_ns();
    }
    cpu_ns += user_max;
  }
  return {{"pids", pids}, {"memory_bytes", kernel.memfile().allocated_bytes()}, {"cpu_ns", cpu_ns}};
}

// exec: a new process from the request, its exit status sent when it ends.
void exec(kernel::Kernel& kernel, const std::shared_ptr<vfs::Dentry>& root, int conn, const json& request,
          std::vector<UniqueFd>& fds) {
  auto config = boot_config_from_json(request.at("process").dump());
  if (!config) {
    send(conn, {{"error", "invalid process description"}});
    return;
  }
  if (fds.size() != 3) {
    send(conn, {{"error", "exec wants exactly three FDs: stdin, stdout, stderr"}});
    return;
  }
  const int stdio[3] = {fds[0].get(), fds[1].get(), fds[2].get()};
  std::string error;
  auto task = make_process(kernel, root, *config, stdio, error);
  fds.clear();  // the process holds copies
  if (!task) {
    send(conn, {{"error", error}});
    return;
  }
  if (auto r = exec_program(**task, *config); !r) {
    {
      std::lock_guard lock(kernel.tree_mutex());
      kernel.remove_task_locked((*task)->tid());
      kernel.remove_process_locked((*task)->pid());
    }
    send(conn, {{"error", config->argv[0] + ": " + std::strerror(r.error())}, {"errno", r.error()}});
    return;
  }
  std::shared_ptr<kernel::ThreadGroup> group = (*task)->group_ptr();
  const int pid = group->pid;
  kernel::Task::start(*task);
  send(conn, {{"pid", pid}});
  log::debug("control: exec of {} as pid {}", config->argv[0], pid);
  // The waiter reports the end; this thread passes on the client's
  // signals until then, and kills the process if the client goes first.
  std::thread waiter([&kernel, group, conn] {
    kernel.wait_for_exit(*group);
    kernel::ExitStatus status;
    {
      std::lock_guard lock(kernel.tree_mutex());
      status = group->exit_status;
    }
    send(conn, {{"exit", status.shell_status()}});
    ::shutdown(conn, SHUT_RDWR);
  });
  for (;;) {
    auto got = receive(conn);
    if (!got || got->closed) break;
    auto message = json::parse(got->text, nullptr, false);
    if (!message.is_object()) continue;
    const std::string op = message.value("op", "");
    const int sig = message.value("signal", 0);
    if (sig < 1 || sig > 64) continue;
    if (op == "signal") signal_process(kernel, pid, sig);
    if (op == "tty_signal") {
      // From the process's terminal: for its foreground process group.
      int fg = 0;
      {
        std::lock_guard lock(kernel.tree_mutex());
        if (group->ctty) fg = kernel.terminal_locked(group->ctty).fg_pgrp;
      }
      if (fg > 0) kernel::signal_process_group(kernel, fg, sig);
    }
  }
  bool ended;
  {
    std::lock_guard lock(kernel.tree_mutex());
    ended = group->zombie;
  }
  if (!ended) signal_process(kernel, pid, SIGKILL);
  waiter.join();
}

// `runsc wait` connections, answered by finish() when pid 1 exits.
std::mutex g_waiters_mu;
std::vector<UniqueFd> g_waiters;

void handle(kernel::Kernel& kernel, std::shared_ptr<vfs::Dentry> root, UniqueFd conn) {
  auto got = receive(conn.get());
  if (!got || got->closed) return;
  auto request = json::parse(got->text, nullptr, false);
  if (!request.is_object()) {
    send(conn.get(), {{"error", "malformed request"}});
    return;
  }
  const std::string op = request.value("op", "");
  try {
    if (op == "exec") {
      exec(kernel, root, conn.get(), request, got->fds);
    } else if (op == "ps") {
      send(conn.get(), {{"processes", ps(kernel)}});
    } else if (op == "signal_all") {
      const int sig = request.at("signal").get<int>();
      std::vector<int> pids;
      {
        std::lock_guard lock(kernel.tree_mutex());
        for (const auto& [pid, group] : kernel.processes_locked()) pids.push_back(pid);
      }
      int signalled = 0;
      for (int pid : pids) signalled += signal_process(kernel, pid, sig) ? 1 : 0;
      send(conn.get(), {{"signalled", signalled}});
    } else if (op == "signal") {
      const bool sent = signal_process(kernel, request.value("pid", 1), request.at("signal").get<int>());
      send(conn.get(), {{"signalled", sent ? 1 : 0}});
    } else if (op == "wait") {
      std::lock_guard lock(g_waiters_mu);
      g_waiters.push_back(std::move(conn));
    } else if (op == "stats") {
      send(conn.get(), stats(kernel));
    } else {
      send(conn.get(), {{"error", "unknown request \"" + op + "\""}});
    }
  } catch (const json::exception& e) {
    send(conn.get(), {{"error", std::string("malformed request: ") + e.what()}});
  }
}

}  // namespace

int send(int sock, const json& message, std::span<const int> fds) {
  const std::string text = message.dump();
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  if (!fds.empty()) {
    if (fds.size() > kMaxFds) return EINVAL;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

Result<Received> receive(int sock) {
  Received r;
  r.text.resize(kMaxMessage);
  iovec iov{r.text.data(), r.text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  while ((n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return ErrFromErrno();
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      r.fds.emplace_back(fd);
    }
  }
  if (n == 0) {
    r.closed = true;
    r.text.clear();
    return r;
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return Err(EMSGSIZE);
  r.text.resize(static_cast<size_t>(n));
  return r;
}

Result<UniqueFd> listen_at(const std::string& state_dir) {
  auto a = address_of(state_dir);
  if (!a) return Err(a.error());
  UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) return ErrFromErrno();
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&a->addr), sizeof(a->addr)) != 0) return ErrFromErrno();
  if (::listen(sock.get(), 16) != 0) return ErrFromErrno();
  return sock;
}

Result<UniqueFd> connect_to(const std::string& state_dir) {
  auto a = address_of(state_dir);
  if (!a) return Err(a.error());
  UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) return ErrFromErrno();
  while (::connect(sock.get(), reinterpret_cast<sockaddr*>(&a->addr), sizeof(a->addr)) != 0) {
    if (errno != EINTR) return ErrFromErrno();
  }
  return sock;
}

void finish(int status) {
  std::lock_guard lock(g_waiters_mu);
  for (const auto& conn : g_waiters) send(conn.get(), {{"exit", status}});
  g_waiters.clear();
}

void serve(UniqueFd listener, kernel::Kernel& kernel, std::shared_ptr<vfs::Dentry> root) {
  std::thread([listener = std::move(listener), &kernel, root = std::move(root)] {
    for (;;) {
      UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        log::warn("control: accept: {}", std::strerror(errno));
        return;
      }
      std::thread(handle, std::ref(kernel), root, std::move(conn)).detach();
    }
  }).detach();
}

}  // namespace runsc::cli::control
