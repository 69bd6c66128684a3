// The sandbox's processes as config.json (or `runsc exec`) describes them.
#include "runsc/sandbox_process.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/unique_fd.h"
#include "sentry/kernel/task.h"
#include "vfs/host_file.h"

namespace runsc::cli {
namespace {

std::string env_value(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')
      return kv.substr(key.size() + 1);
  }
  return {};
}

// execvp's search, done inside the sandbox's own filesystem.
std::string find_program(kernel::Task& task, const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = env_value(env, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find(':', i);
    if (j == std::string::npos) j = path.size();
    std::string dir = path.substr(i, j - i);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    auto d = vfs::resolve(task.fs().root, task.fs().cwd, candidate);
    if (d && !(*d)->is_dir()) {
      auto st = (*d)->inode().stat();
      if (st && (st->st_mode & 0111)) return candidate;
    }
    i = j + 1;
  }
  return name;
}

std::shared_ptr<vfs::FileDescription> stdio_file(int fd, int flags) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!copy) return nullptr;
  bool tty = ::isatty(copy.get());
  return std::make_shared<vfs::HostFileDescription>(std::move(copy), flags, tty);
}

}  // namespace

Result<std::shared_ptr<kernel::Task>> make_process(kernel::Kernel& kernel, const std::shared_ptr<vfs::Dentry>& root,
                                                   const BootConfig& c, const int stdio[3], std::string& error) {
  const int pid = kernel.allocate_tid();
  auto task = std::make_shared<kernel::Task>(kernel, pid, std::make_shared<kernel::ThreadGroup>(pid));
  task->group().leader = task;
  task->group().tasks.push_back(task);
  kernel::Task& t = *task;
  t.creds().ruid = t.creds().euid = t.creds().suid = t.creds().fsuid = c.uid;
  t.creds().rgid = t.creds().egid = t.creds().sgid = t.creds().fsgid = c.gid;
  t.creds().groups = c.groups;
  if (c.capabilities_set) {
    // process.capabilities (runtime-spec config.md).
    t.creds().cap_effective = c.cap_effective;
    t.creds().cap_permitted = c.cap_permitted;
    t.creds().cap_inheritable = c.cap_inheritable;
  } else if (c.uid != 0) {
    // A non-root program starts without capabilities (capabilities(7)).
    t.creds().cap_effective = t.creds().cap_permitted = 0;
  }
  if (c.no_new_privileges) t.set_no_new_privs();
  t.group().oom_score_adj = c.oom_score_adj;
  for (const auto& r : c.rlimits) {
    if (r.resource >= 0 && r.resource < RLIM_NLIMITS) t.rlimits()[static_cast<size_t>(r.resource)] = {r.soft, r.hard};
    if (r.resource == RLIMIT_NOFILE) t.fds().set_limit(static_cast<int>(std::min<uint64_t>(r.soft, 1 << 20)));
  }
  auto fs = std::make_shared<kernel::FsContext>();
  fs->root = root;
  auto cwd = vfs::resolve(root, root, c.cwd);
  if (!cwd || !(*cwd)->is_dir()) {
    error = "working directory " + c.cwd + ": " + std::strerror(cwd ? ENOTDIR : cwd.error());
    return Err(cwd ? ENOTDIR : cwd.error());
  }
  fs->cwd = *cwd;
  t.set_fs(fs);
  const int stdio_flags[3] = {O_RDONLY, O_WRONLY, O_WRONLY};
  for (int fd = 0; fd < 3; ++fd) {
    if (stdio[fd] < 0) continue;
    const int host_flags = ::fcntl(stdio[fd], F_GETFL);
    if (host_flags < 0) continue;
    // The access mode the host FD really has (a terminal is read-write).
    const int flags = (host_flags & O_ACCMODE) == O_RDWR ? O_RDWR : stdio_flags[fd];
    if (auto f = stdio_file(stdio[fd], flags | (host_flags & O_APPEND))) (void)t.fds().install_at(fd, f, false);
  }
  {
    std::lock_guard lock(kernel.tree_mutex());
    kernel.add_task_locked(task);
    // process.terminal: the new process leads a session of its own whose
    // controlling terminal is its stdin, in the foreground (as runc's init
    // does setsid() and TIOCSCTTY).
    if (auto in = c.terminal ? t.fds().get(0) : nullptr) {
      if (const uint64_t device = in->terminal_device()) {
        t.group().ctty = device;
        kernel.terminal_locked(device) = {t.group().sid, t.group().pgid, in};
        if (kernel.console_locked() == 0) kernel.set_console_locked(device);
      }
    }
  }
  return task;
}

Result<void> exec_program(kernel::Task& task, const BootConfig& config) {
  const std::string program = config.program.empty() ? find_program(task, config.argv[0], config.env) : config.program;
  return task.exec(kernel::ExecRequest{program, config.argv, config.env});
}

}  // namespace runsc::cli
