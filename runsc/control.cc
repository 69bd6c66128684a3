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
#include <map>
#include <thread>
#include <utility>

#include <fmt/core.h>

#include "common/log.h"
#include "gofer/client.h"
#include "runsc/config.h"
#include "runsc/container_fs.h"
#include "runsc/sandbox_process.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "vfs/file.h"

namespace runsc::cli::control {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxMessage = 256 * 1024;
constexpr size_t kMaxFds = 64;  // stdio, a container's root gofer and its bind mounts' gofers

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

// The containers added to this sandbox after the first (CRI pods): each
// one's root, and its first process until `start_container` runs it.
struct Container {
  std::shared_ptr<vfs::Dentry> root;
  std::shared_ptr<kernel::Task> waiting;  // made and loaded, not started
};
std::mutex g_containers_mu;
std::map<std::string, Container> g_containers;

// A process from `config` with its program loaded, or an error reply sent.
std::shared_ptr<kernel::Task> new_process(kernel::Kernel& kernel, const std::shared_ptr<vfs::Dentry>& root, int conn,
                                          const BootConfig& config, const int stdio[3]) {
  std::string error;
  auto task = make_process(kernel, root, config, stdio, error);
  if (!task) {
    send(conn, {{"error", error}});
    return nullptr;
  }
  if (auto r = exec_program(**task, config); !r) {
    {
      std::lock_guard lock(kernel.tree_mutex());
      kernel.remove_task_locked((*task)->tid());
      kernel.remove_process_locked((*task)->pid());
    }
    send(conn, {{"error", config.argv[0] + ": " + std::strerror(r.error())}, {"errno", r.error()}});
    return nullptr;
  }
  return *task;
}

// The client on `conn` stands for the process: it hears its exit status,
// its signals are passed on, and if it goes first the process is killed.
// `started` says whether the process runs yet (a container's first one
// waits for start_container); if not, it is started to die.
void stand_for(kernel::Kernel& kernel, int conn, const std::shared_ptr<kernel::Task>& task, const std::string& container) {
  std::shared_ptr<kernel::ThreadGroup> group = task->group_ptr();
  const int pid = group->pid;
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
    if (op == "signal") kernel::post_external_signal(kernel, pid, sig);
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
  if (!ended) {
    kernel::post_external_signal(kernel, pid, SIGKILL);
    // Never started: it runs only to take the SIGKILL.
    std::shared_ptr<kernel::Task> waiting;
    if (!container.empty()) {
      std::lock_guard lock(g_containers_mu);
      auto it = g_containers.find(container);
      if (it != g_containers.end()) waiting = std::exchange(it->second.waiting, nullptr);
    }
    if (waiting) kernel::Task::start(waiting);
  }
  waiter.join();
  if (!container.empty()) {
    // The container is gone: so are its mounts, and with them its gofers'
    // connections (they exit when theirs closes).
    std::shared_ptr<vfs::Dentry> root;
    {
      std::lock_guard lock(g_containers_mu);
      auto it = g_containers.find(container);
      if (it != g_containers.end()) root = it->second.root;
      g_containers.erase(container);
    }
    if (root) vfs::unmount_tree(root);
  }
}

// exec: a new process from the request (in the named container's root, or
// the first container's), its exit status sent when it ends.
void exec(kernel::Kernel& kernel, std::shared_ptr<vfs::Dentry> root, int conn, const json& request,
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
  if (const std::string container = request.value("container", ""); !container.empty()) {
    std::lock_guard lock(g_containers_mu);
    auto it = g_containers.find(container);
    if (it == g_containers.end()) {
      send(conn, {{"error", "no container \"" + container + "\" in this sandbox"}});
      return;
    }
    root = it->second.root;
  }
  const int stdio[3] = {fds[0].get(), fds[1].get(), fds[2].get()};
  auto task = new_process(kernel, root, conn, *config, stdio);
  fds.clear();  // the process holds copies
  if (!task) return;
  kernel::Task::start(task);
  send(conn, {{"pid", task->pid()}});
  log::debug("control: exec of {} as pid {}", config->argv[0], task->pid());
  stand_for(kernel, conn, task, "");
}

// add_container: another container's filesystem (from the gofers whose
// sockets come after its stdio) and first process, loaded but waiting for
// start_container; then the client stands for that process.
void add_container(kernel::Kernel& kernel, int conn, const json& request, std::vector<UniqueFd>& fds) {
  const std::string id = request.value("id", "");
  auto config = boot_config_from_json(request.at("config").dump());
  if (id.empty() || !config) {
    send(conn, {{"error", "invalid container description"}});
    return;
  }
  if (fds.size() != 4 + config->bind_mounts.size()) {
    send(conn, {{"error", "add_container wants stdio, the root's gofer and one gofer per bind mount"}});
    return;
  }
  {
    std::lock_guard lock(g_containers_mu);
    if (g_containers.count(id)) {
      send(conn, {{"error", "container \"" + id + "\" exists in this sandbox"}});
      return;
    }
  }
  for (size_t i = 0; i < config->bind_mounts.size(); ++i) config->bind_mounts[i].gofer_fd = fds[4 + i].release();
  auto client = std::make_shared<gofer::Client>(std::move(fds[3]));
  auto root = build_root(client, kernel.memfile_ptr(), *config);
  std::string error;
  if (!root) {
    send(conn, {{"error", std::string("cannot build the container's filesystem: ") + std::strerror(root.error())}});
    return;
  }
  if (auto r = add_container_mounts(kernel, *root, *config, error); !r) {
    send(conn, {{"error", error}});
    return;
  }
  const int stdio[3] = {fds[0].get(), fds[1].get(), fds[2].get()};
  auto task = new_process(kernel, *root, conn, *config, stdio);
  fds.clear();
  if (!task) return;
  {
    std::lock_guard lock(g_containers_mu);
    g_containers[id] = Container{*root, task};
  }
  send(conn, {{"pid", task->pid()}});
  kernel.boot_log().add(fmt::format("Container {} added: its first process is pid {}", id, task->pid()));
  stand_for(kernel, conn, task, id);
}

json start_container(const json& request) {
  const std::string id = request.value("id", "");
  std::shared_ptr<kernel::Task> task;
  {
    std::lock_guard lock(g_containers_mu);
    auto it = g_containers.find(id);
    if (it == g_containers.end()) return {{"error", "no container \"" + id + "\" in this sandbox"}};
    task = std::exchange(it->second.waiting, nullptr);
  }
  if (!task) return {{"error", "container \"" + id + "\" has started already"}};
  kernel::Task::start(task);
  return {{"started", task->pid()}};
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
    } else if (op == "add_container") {
      add_container(kernel, conn.get(), request, got->fds);
    } else if (op == "start_container") {
      send(conn.get(), start_container(request));
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
      for (int pid : pids) signalled += kernel::post_external_signal(kernel, pid, sig) ? 1 : 0;
      send(conn.get(), {{"signalled", signalled}});
    } else if (op == "signal") {
      const bool sent = kernel::post_external_signal(kernel, request.value("pid", 1), request.at("signal").get<int>());
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

namespace {

// A SOCK_SEQPACKET socket, and listen() on `dir`/control or connect() to it.
Result<UniqueFd> control_socket(const std::string& state_dir, bool listen) {
  auto a = address_of(state_dir);
  if (!a) return Err(a.error());
  UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) return ErrFromErrno();
  auto* addr = reinterpret_cast<sockaddr*>(&a->addr);
  if (listen) {
    if (::bind(sock.get(), addr, sizeof(a->addr)) != 0 || ::listen(sock.get(), 16) != 0) return ErrFromErrno();
    return sock;
  }
  while (::connect(sock.get(), addr, sizeof(a->addr)) != 0) {
    if (errno != EINTR) return ErrFromErrno();
  }
  return sock;
}

}  // namespace

Result<UniqueFd> listen_at(const std::string& state_dir) { return control_socket(state_dir, true); }
Result<UniqueFd> connect_to(const std::string& state_dir) { return control_socket(state_dir, false); }

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
