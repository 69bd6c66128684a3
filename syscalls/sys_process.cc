// Process identity and lifecycle: exit, IDs, limits, uname, syslog, exec.
#include <sched.h>
#include <algorithm>
#include <asm/prctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <cstring>

#include "common/cpus.h"
#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

// exit(2) ends the calling thread; the process ends with its last thread.
Result<uint64_t> sys_exit(Task& t, const SyscallArgs& a) {
  t.exit_thread(a.i(0) & 0xff);
  return ok();
}
Result<uint64_t> sys_exit_group(Task& t, const SyscallArgs& a) {
  t.exit_group(kernel::ExitStatus{a.i(0) & 0xff, 0});
  return ok();
}

Result<uint64_t> sys_getpid(Task& t, const SyscallArgs&) { return static_cast<uint64_t>(t.pid()); }
Result<uint64_t> sys_gettid(Task& t, const SyscallArgs&) { return static_cast<uint64_t>(t.tid()); }
Result<uint64_t> sys_getppid(Task& t, const SyscallArgs&) { return static_cast<uint64_t>(t.ppid()); }
Result<uint64_t> sys_getuid(Task& t, const SyscallArgs&) { return t.creds().ruid; }
Result<uint64_t> sys_geteuid(Task& t, const SyscallArgs&) { return t.creds().euid; }
Result<uint64_t> sys_getgid(Task& t, const SyscallArgs&) { return t.creds().rgid; }
Result<uint64_t> sys_getegid(Task& t, const SyscallArgs&) { return t.creds().egid; }
Result<uint64_t> sys_getpgrp(Task& t, const SyscallArgs&) {
  std::lock_guard lock(t.kernel().tree_mutex());
  return static_cast<uint64_t>(t.group().pgid);
}

// The process `pid` names for getpgid/getsid/setpgid: 0 is the caller.
std::shared_ptr<kernel::ThreadGroup> process_for(Task& t, int pid) {
  if (pid == 0) return t.group_ptr();
  auto g = t.kernel().find_process_locked(pid);
  return g;
}

Result<uint64_t> sys_getpgid(Task& t, const SyscallArgs& a) {
  if (a.i(0) < 0) return Err(ESRCH);
  std::lock_guard lock(t.kernel().tree_mutex());
  auto g = process_for(t, a.i(0));
  if (!g) return Err(ESRCH);
  return static_cast<uint64_t>(g->pgid);
}

Result<uint64_t> sys_getsid(Task& t, const SyscallArgs& a) {
  if (a.i(0) < 0) return Err(ESRCH);
  std::lock_guard lock(t.kernel().tree_mutex());
  auto g = process_for(t, a.i(0));
  if (!g) return Err(ESRCH);
  return static_cast<uint64_t>(g->sid);
}

// setpgid(2), with the checks of kernel/sys.c in their order.
Result<uint64_t> sys_setpgid(Task& t, const SyscallArgs& a) {
  int pid = a.i(0);
  int pgid = a.i(1);
  if (pgid < 0 || pid < 0) return Err(EINVAL);
  kernel::Kernel& k = t.kernel();
  std::lock_guard lock(k.tree_mutex());
  kernel::ThreadGroup& self = t.group();
  if (pid == 0) pid = self.pid;
  if (pgid == 0) pgid = pid;
  auto target = k.find_process_locked(pid);
  if (!target || target->zombie) return Err(ESRCH);
  const bool is_child = target->parent.lock().get() == &self;
  if (target.get() != &self) {
    if (!is_child) return Err(ESRCH);
    if (target->sid != self.sid) return Err(EPERM);
    if (target->did_exec) return Err(EACCES);
  }
  if (target->sid == target->pid) return Err(EPERM);  // a session leader
  if (pgid != pid) {
    // Joining a group: it must exist in the caller's session.
    bool found = false;
    for (const auto& [p, g] : k.processes_locked()) {
      if (g->pgid == pgid && g->sid == self.sid && !g->zombie) found = true;
    }
    if (!found) return Err(EPERM);
  }
  target->pgid = pgid;
  return ok();
}

// setsid(2): EPERM for a process group leader, or when a process group
// with the caller's pid as its ID exists.
Result<uint64_t> sys_setsid(Task& t, const SyscallArgs&) {
  kernel::Kernel& k = t.kernel();
  std::lock_guard lock(k.tree_mutex());
  kernel::ThreadGroup& self = t.group();
  for (const auto& [p, g] : k.processes_locked()) {
    if (g->pgid == self.pid) return Err(EPERM);
  }
  self.sid = self.pid;
  self.pgid = self.pid;
  self.ctty = 0;  // a new session has no controlling terminal (setsid(2))
  return static_cast<uint64_t>(self.pid);
}

Result<uint64_t> sys_getresuid(Task& t, const SyscallArgs& a) {
  uint32_t ids[3] = {t.creds().ruid, t.creds().euid, t.creds().suid};
  for (int i = 0; i < 3; ++i) {
    if (auto r = t.mm().copy_out(a.u(i), &ids[i], 4); !r) return Err(r.error());
  }
  return ok();
}
Result<uint64_t> sys_getresgid(Task& t, const SyscallArgs& a) {
  uint32_t ids[3] = {t.creds().rgid, t.creds().egid, t.creds().sgid};
  for (int i = 0; i < 3; ++i) {
    if (auto r = t.mm().copy_out(a.u(i), &ids[i], 4); !r) return Err(r.error());
  }
  return ok();
}
Result<uint64_t> sys_getgroups(Task& t, const SyscallArgs& a) {
  const auto& groups = t.creds().groups;
  int size = a.i(0);
  if (size < 0) return Err(EINVAL);
  if (size == 0) return groups.size();
  if (static_cast<size_t>(size) < groups.size()) return Err(EINVAL);
  if (!groups.empty()) {
    if (auto r = t.mm().copy_out(a.u(1), groups.data(), groups.size() * 4); !r) return Err(r.error());
  }
  return groups.size();
}

Result<uint64_t> sys_umask(Task& t, const SyscallArgs& a) {
  uint32_t old = t.fs().umask;
  t.fs().umask = static_cast<uint32_t>(a.u(0)) & 0777;
  return old;
}

Result<uint64_t> sys_set_tid_address(Task& t, const SyscallArgs& a) {
  t.clear_child_tid() = a.u(0);
  return static_cast<uint64_t>(t.tid());
}

Result<uint64_t> sys_set_robust_list(Task& t, const SyscallArgs& a) {
  // struct robust_list_head is 24 bytes on x86-64.
  if (a.u(1) != 24) return Err(EINVAL);
  t.robust_list() = a.u(0);
  return ok();
}

Result<uint64_t> sys_arch_prctl(Task& t, const SyscallArgs& a) {
  switch (a.i(0)) {
    case ARCH_SET_FS:
      if (a.u(1) >= platform::kMaxUserAddress) return Err(EPERM);
      t.regs().fs_base = a.u(1);
      return ok();
    case ARCH_GET_FS:
      return t.mm().copy_out(a.u(1), &t.regs().fs_base, 8) ? ok() : Err(EFAULT);
    case ARCH_SET_GS:
      if (a.u(1) >= platform::kMaxUserAddress) return Err(EPERM);
      t.regs().gs_base = a.u(1);
      return ok();
    case ARCH_GET_GS:
      return t.mm().copy_out(a.u(1), &t.regs().gs_base, 8) ? ok() : Err(EFAULT);
    case ARCH_GET_CPUID:
      return ok(1);  // cpuid is not faulting
    default:
      return Err(EINVAL);
  }
}

Result<uint64_t> sys_prlimit64(Task& t, const SyscallArgs& a) {
  int pid = a.i(0);
  if (pid != 0 && pid != t.pid()) return Err(ESRCH);
  uint32_t resource = static_cast<uint32_t>(a.u(1));
  if (resource >= RLIM_NLIMITS) return Err(EINVAL);
  rlimit& lim = t.rlimits()[resource];
  rlimit old = lim;
  if (a.u(2)) {
    rlimit next;
    if (auto r = t.mm().copy_in(a.u(2), &next, sizeof(next)); !r) return Err(r.error());
    if (next.rlim_cur > next.rlim_max) return Err(EINVAL);
    // Raising the hard limit needs CAP_SYS_RESOURCE (root has it).
    if (next.rlim_max > old.rlim_max && t.creds().euid != 0) return Err(EPERM);
    if (resource == RLIMIT_NOFILE && next.rlim_max > (1 << 20)) return Err(EPERM);
    lim = next;
    if (resource == RLIMIT_NOFILE) t.fds().set_limit(static_cast<int>(next.rlim_cur));
  }
  if (a.u(3)) {
    if (auto r = t.mm().copy_out(a.u(3), &old, sizeof(old)); !r) return Err(r.error());
  }
  return ok();
}
Result<uint64_t> sys_getrlimit(Task& t, const SyscallArgs& a) {
  return sys_prlimit64(t, SyscallArgs{{0, a.u(0), 0, a.u(1), 0, 0}});
}
Result<uint64_t> sys_setrlimit(Task& t, const SyscallArgs& a) {
  return sys_prlimit64(t, SyscallArgs{{0, a.u(0), a.u(1), 0, 0, 0}});
}

Result<uint64_t> sys_uname(Task& t, const SyscallArgs& a) {
  utsname u = t.kernel().uts();
  if (auto r = t.mm().copy_out(a.u(0), &u, sizeof(u)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_sysinfo(Task& t, const SyscallArgs& a) {
  struct sysinfo info {};
  info.uptime = t.kernel().monotonic_ns() / 1000000000;
  // The sandbox's memory limit (the host's RAM unless configured) is its
  // RAM, as /proc/meminfo says; nothing of it is asked of the host.
  const mm::MemoryFile& memory = t.kernel().memfile();
  const uint64_t total = memory.limit(), used = memory.allocated_bytes();
  info.totalram = total;
  info.freeram = total > used ? total - used : 0;
  info.mem_unit = 1;
  {
    // Linux reports nr_threads: every task, threads included.
    std::lock_guard lock(t.kernel().tree_mutex());
    info.procs = static_cast<uint16_t>(std::min(t.kernel().task_count_locked(), 0xffff));
  }
  if (auto r = t.mm().copy_out(a.u(0), &info, sizeof(info)); !r) return Err(r.error());
  return ok();
}

// syslog(2): the kernel log is the Sentry's own boot log.
Result<uint64_t> sys_syslog(Task& t, const SyscallArgs& a) {
  constexpr int kLogBufferSize = 1 << 17;
  int type = a.i(0);
  std::string log = t.kernel().boot_log().contents();
  switch (type) {
    case 0: case 1: case 6: case 7: case 8:  // close, open, console controls
      return ok();
    case 2: case 3: case 4: {  // read, read all, read and clear
      int len = a.i(2);
      if (len < 0) return Err(EINVAL);
      if (len == 0) return ok();
      size_t n = std::min(log.size(), static_cast<size_t>(len));
      // READ_ALL returns the newest `len` bytes.
      const char* from = log.data() + (log.size() - n);
      if (auto r = t.mm().copy_out(a.u(1), from, n); !r) return Err(r.error());
      return n;
    }
    case 5:  // clear
      return ok();
    case 9:  // bytes unread
      return log.size();
    case 10:  // buffer size
      return kLogBufferSize;
    default:
      return Err(EINVAL);
  }
}

Result<uint64_t> sys_getrandom(Task& t, const SyscallArgs& a) {
  if (a.u(2) & ~static_cast<uint64_t>(GRND_NONBLOCK | GRND_RANDOM | 0x4 /*GRND_INSECURE*/)) return Err(EINVAL);
  size_t n = std::min<uint64_t>(a.u(1), 1 << 25);
  auto spans = t.mm().io_spans(a.u(0), n, true);
  if (!spans) return Err(spans.error());
  for (const iovec& v : *spans) {
    size_t done = 0;
    while (done < v.iov_len) {
      ssize_t r = ::getrandom(static_cast<uint8_t*>(v.iov_base) + done, v.iov_len - done, 0);
      if (r < 0) return ErrFromErrno();
      done += static_cast<size_t>(r);
    }
  }
  return n;
}

Result<std::vector<std::string>> string_array(Task& t, uint64_t addr) {
  std::vector<std::string> out;
  if (addr == 0) return out;
  for (size_t i = 0;; ++i) {
    if (i >= 0x7fffffff / 8) return Err(E2BIG);
    uint64_t p;
    if (auto r = t.mm().copy_in(addr + i * 8, &p, 8); !r) return Err(r.error());
    if (p == 0) break;
    // MAX_ARG_STRLEN: one string may be at most 32 pages.
    auto s = t.mm().copy_in_string(p, 32 * 4096);
    if (!s) return Err(s.error() == ENAMETOOLONG ? E2BIG : s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

Result<uint64_t> sys_execve(Task& t, const SyscallArgs& a) {
  auto path = path_arg(t, a.u(0));
  if (!path) return Err(path.error());
  if (path->empty()) return Err(ENOENT);
  auto argv = string_array(t, a.u(1));
  if (!argv) return Err(argv.error());
  auto envp = string_array(t, a.u(2));
  if (!envp) return Err(envp.error());
  if (auto r = t.exec(kernel::ExecRequest{*path, std::move(*argv), std::move(*envp)}); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_prctl(Task& t, const SyscallArgs& a) {
  switch (a.i(0)) {
    case PR_SET_NAME: {
      auto s = t.mm().copy_in_string(a.u(1), 4096);
      if (!s && s.error() != ENAMETOOLONG) return Err(s.error());
      t.comm() = s ? s->substr(0, 15) : std::string();
      return ok();
    }
    case PR_GET_NAME: {
      char name[16] = {};
      std::strncpy(name, t.comm().c_str(), 15);
      return t.mm().copy_out(a.u(1), name, 16) ? ok() : Err(EFAULT);
    }
    case PR_GET_DUMPABLE:
      return ok(1);
    case PR_SET_CHILD_SUBREAPER: {
      std::lock_guard lock(t.kernel().tree_mutex());
      t.group().child_subreaper = a.u(1) != 0;
      return ok();
    }
    case PR_GET_CHILD_SUBREAPER: {
      int32_t value;
      {
        std::lock_guard lock(t.kernel().tree_mutex());
        value = t.group().child_subreaper ? 1 : 0;
      }
      return t.mm().copy_out(a.u(1), &value, sizeof(value)) ? ok() : Err(EFAULT);
    }
    case PR_SET_NO_NEW_PRIVS:
      // prctl(2): arg2 must be 1 and the rest 0; the flag can never be unset.
      if (a.u(1) != 1 || a.u(2) || a.u(3) || a.u(4)) return Err(EINVAL);
      t.set_no_new_privs();
      return ok();
    case PR_GET_NO_NEW_PRIVS:
      if (a.u(1) || a.u(2) || a.u(3) || a.u(4)) return Err(EINVAL);
      return ok(t.no_new_privs() ? 1 : 0);
    case PR_SET_DUMPABLE:
    case PR_SET_PDEATHSIG:
      return ok();
    case PR_SET_KEEPCAPS:
      if (a.u(1) > 1) return Err(EINVAL);
      t.creds().keep_caps = a.u(1) == 1;
      return ok();
    case PR_GET_KEEPCAPS:
      return ok(t.creds().keep_caps ? 1 : 0);
    case PR_CAPBSET_READ:
      // Nothing drops capabilities from the bounding set in the sandbox
      // (PR_CAPBSET_DROP is not offered), so every capability Linux 4.4
      // knows is in it; EINVAL past the last one, as cap_valid() says.
      if (a.u(1) > 37) return Err(EINVAL);
      return ok(1);
    default:
      return Err(EINVAL);
  }
}

Result<uint64_t> sys_sched_yield(Task&, const SyscallArgs&) { return ok(); }

Result<uint64_t> sys_sched_getaffinity(Task& t, const SyscallArgs& a) {
  // All host CPUs the sandbox may use.
  const cpu_set_t set = sandbox_cpus();
  size_t len = a.u(1);
  if (len < sizeof(uint64_t) || len % sizeof(uint64_t)) return Err(EINVAL);
  size_t n = std::min(len, sizeof(set));
  if (auto r = t.mm().copy_out(a.u(2), &set, n); !r) return Err(r.error());
  return n;
}

// getcpu(2): the CPU the caller runs on, which is its Sentry thread's
// (a task's stub thread is pinned beside it, platform/ptrace), and NUMA
// node 0; either pointer may be NULL. The third argument is unused
// since Linux 2.6.24.
Result<uint64_t> sys_getcpu(Task& t, const SyscallArgs& a) {
  const int on = ::sched_getcpu();
  const unsigned cpu = on < 0 ? 0u : static_cast<unsigned>(on), node = 0;
  if (a.u(0) != 0) {
    if (auto r = t.mm().copy_out(a.u(0), &cpu, sizeof(cpu)); !r) return Err(r.error());
  }
  if (a.u(1) != 0) {
    if (auto r = t.mm().copy_out(a.u(1), &node, sizeof(node)); !r) return Err(r.error());
  }
  return ok();
}

}  // namespace

void register_process(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_exit, "exit", sys_exit, {A::kInt});
  tb.set(SYS_exit_group, "exit_group", sys_exit_group, {A::kInt});
  tb.set(SYS_getpid, "getpid", sys_getpid);
  tb.set(SYS_gettid, "gettid", sys_gettid);
  tb.set(SYS_getppid, "getppid", sys_getppid);
  tb.set(SYS_getuid, "getuid", sys_getuid);
  tb.set(SYS_geteuid, "geteuid", sys_geteuid);
  tb.set(SYS_getgid, "getgid", sys_getgid);
  tb.set(SYS_getegid, "getegid", sys_getegid);
  tb.set(SYS_getpgrp, "getpgrp", sys_getpgrp);
  tb.set(SYS_getpgid, "getpgid", sys_getpgid, {A::kInt});
  tb.set(SYS_getsid, "getsid", sys_getsid, {A::kInt});
  tb.set(SYS_setpgid, "setpgid", sys_setpgid, {A::kInt, A::kInt});
  tb.set(SYS_setsid, "setsid", sys_setsid);
  tb.set(SYS_getresuid, "getresuid", sys_getresuid, {A::kPtr, A::kPtr, A::kPtr});
  tb.set(SYS_getresgid, "getresgid", sys_getresgid, {A::kPtr, A::kPtr, A::kPtr});
  tb.set(SYS_getgroups, "getgroups", sys_getgroups, {A::kInt, A::kPtr});
  tb.set(SYS_umask, "umask", sys_umask, {A::kOct});
  tb.set(SYS_set_tid_address, "set_tid_address", sys_set_tid_address, {A::kPtr});
  tb.set(SYS_set_robust_list, "set_robust_list", sys_set_robust_list, {A::kPtr, A::kInt});
  tb.set(SYS_arch_prctl, "arch_prctl", sys_arch_prctl, {A::kHex, A::kHex});
  tb.set(SYS_prlimit64, "prlimit64", sys_prlimit64, {A::kInt, A::kInt, A::kPtr, A::kPtr});
  tb.set(SYS_getrlimit, "getrlimit", sys_getrlimit, {A::kInt, A::kPtr});
  tb.set(SYS_setrlimit, "setrlimit", sys_setrlimit, {A::kInt, A::kPtr});
  tb.set(SYS_uname, "uname", sys_uname, {A::kPtr});
  tb.set(SYS_sysinfo, "sysinfo", sys_sysinfo, {A::kPtr});
  tb.set(SYS_syslog, "syslog", sys_syslog, {A::kInt, A::kPtr, A::kInt});
  tb.set(SYS_getrandom, "getrandom", sys_getrandom, {A::kPtr, A::kInt, A::kHex});
  tb.set(SYS_execve, "execve", sys_execve, {A::kPath, A::kPtr, A::kPtr});
  tb.set(SYS_prctl, "prctl", sys_prctl, {A::kInt, A::kHex, A::kHex, A::kHex, A::kHex});
  tb.set(SYS_sched_yield, "sched_yield", sys_sched_yield);
  tb.set(SYS_sched_getaffinity, "sched_getaffinity", sys_sched_getaffinity, {A::kInt, A::kInt, A::kPtr});
  tb.set(SYS_getcpu, "getcpu", sys_getcpu, {A::kPtr, A::kPtr, A::kPtr});
}

}  // namespace runsc::syscalls
