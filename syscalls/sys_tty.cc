// Job control on the sandbox's terminals (credentials(7), termios(3),
// tty_ioctl(4)): the controlling terminal of a session, its foreground
// process group, and SIGTTIN/SIGTTOU for background processes. The
// terminal itself (settings, editing, echo) is the host tty's or, for the
// sandbox's own ptys, vfs/devpts.cc's; and the kernel's side of a pty
// (signals from its line discipline, its hangup).
#include <signal.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include <cstring>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "syscalls/util.h"
#include "vfs/devpts.h"
#include "vfs/line_discipline.h"

namespace runsc::syscalls {
namespace {

using kernel::Task;

// The Sentry's own memory as UserMemory, for asking a terminal something.
struct SentryMemory final : vfs::UserMemory {
  Result<void> copy_out(uint64_t addr, const void* src, size_t length) override {
    std::memcpy(reinterpret_cast<void*>(addr), src, length);
    return {};
  }
  Result<void> copy_in(uint64_t addr, void* dst, size_t length) override {
    std::memcpy(dst, reinterpret_cast<const void*>(addr), length);
    return {};
  }
};

// Whether `signo` would do nothing to the caller: ignored or blocked.
bool ignored_or_blocked(Task& t, int signo) {
  if (t.signal_mask() & (uint64_t{1} << (signo - 1))) return true;
  std::lock_guard lock(t.signal_mutex());
  return t.signal_actions()[static_cast<size_t>(signo - 1)].handler == reinterpret_cast<uint64_t>(SIG_IGN);
}

}  // namespace

Result<void> tty_check_access(Task& t, vfs::FileDescription& f, bool write) {
  const uint64_t device = f.terminal_device();
  int pgid;
  {
    kernel::Kernel& k = t.kernel();
    std::lock_guard lock(k.tree_mutex());
    if (t.group().ctty != device) return {};  // not our controlling terminal: no job control
    const auto& term = k.terminal_locked(device);
    if (term.fg_pgrp == 0 || t.group().pgid == term.fg_pgrp) return {};
    pgid = t.group().pgid;
  }
  // A background process: reading stops its group with SIGTTIN; writing
  // does with SIGTTOU only under TOSTOP (termios(3), "Job control"). If the
  // signal would do nothing, a read fails with EIO and a write goes on.
  const int signo = write ? SIGTTOU : SIGTTIN;
  if (write) {
    vfs::KernelTermios tio{};
    SentryMemory sentry;
    if (auto r = f.ioctl(TCGETS, reinterpret_cast<uint64_t>(&tio), sentry); !r || !(tio.lflag & TOSTOP)) return {};
  }
  if (ignored_or_blocked(t, signo)) return write ? Result<void>{} : Result<void>(Err(EIO));
  kernel::signal_process_group(t.kernel(), pgid, signo);
  return Err(EINTR);  // restarted once the group is continued in the foreground
}

std::optional<Result<std::shared_ptr<vfs::FileDescription>>> open_terminal_device(Task& t, dev_t rdev, int flags) {
  if (major(rdev) != 5 || (minor(rdev) != 0 && minor(rdev) != 1)) return std::nullopt;
  std::shared_ptr<vfs::FileDescription> term;
  {
    kernel::Kernel& k = t.kernel();
    std::lock_guard lock(k.tree_mutex());
    // /dev/tty: the caller's controlling terminal; /dev/console: the
    // sandbox's (tty(4), console(4)). Without one: ENXIO, as Linux.
    const uint64_t device = minor(rdev) == 0 ? t.group().ctty : k.console_locked();
    if (device != 0) term = k.terminal_locked(device).file.lock();
  }
  if (!term) return Result<std::shared_ptr<vfs::FileDescription>>(Err(ENXIO));
  return term->reopen_terminal(flags);
}

void tty_open_set_ctty(Task& t, const std::shared_ptr<vfs::FileDescription>& f) {
  const uint64_t device = f->terminal_device();
  if (device == 0) return;
  kernel::Kernel& k = t.kernel();
  std::lock_guard lock(k.tree_mutex());
  kernel::ThreadGroup& self = t.group();
  // tty_open_proc_set_tty(): a session leader without a controlling
  // terminal takes the one it opens, if no session has it.
  if (self.sid != self.pid || self.ctty != 0) return;
  if (k.terminal_locked(device).sid != 0) return;
  k.attach_terminal_locked(self, device, f);
}

namespace {

// A pty master's job-control ioctls, which ask about its slave (tty_ioctl(4):
// the master may read the slave's session and foreground group without
// being anyone's controlling terminal), and TIOCGPTPEER.
std::optional<Result<uint64_t>> pty_master_ioctl(Task& t, vfs::FileDescription& master, uint64_t slave,
                                                 uint64_t cmd, uint64_t arg) {
  switch (cmd) {
    case TIOCGPGRP:
    case TIOCGSID: {
      int value;
      {
        kernel::Kernel& k = t.kernel();
        std::lock_guard lock(k.tree_mutex());
        const auto& term = k.terminal_locked(slave);
        if (term.sid == 0) return Err(ENOTTY);  // no session has the slave
        value = cmd == TIOCGPGRP ? term.fg_pgrp : term.sid;
      }
      if (auto r = t.mm().copy_out(arg, &value, sizeof(value)); !r) return Err(r.error());
      return ok();
    }
    case TIOCGPTPEER: {
      // ioctl_tty(2): opens the slave with `arg` as open(2) flags.
      const int flags = static_cast<int>(arg);
      if (flags & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) return Err(EINVAL);
      auto peer = vfs::open_pty_peer(master, flags & (O_ACCMODE | O_NONBLOCK));
      if (!peer) return Err(peer.error());
      auto fd = t.fds().install(std::move(*peer), (flags & O_CLOEXEC) != 0);
      if (!fd) return Err(fd.error());
      return static_cast<uint64_t>(*fd);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<Result<uint64_t>> tty_ioctl(Task& t, const std::shared_ptr<vfs::FileDescription>& f, uint64_t cmd,
                                          uint64_t arg) {
  if (auto slave = vfs::pty_master_peer(*f)) return pty_master_ioctl(t, *f, *slave, cmd, arg);
  const uint64_t device = f->terminal_device();
  if (device == 0) return std::nullopt;
  kernel::Kernel& k = t.kernel();
  switch (cmd) {
    case TIOCSCTTY: {
      std::lock_guard lock(k.tree_mutex());
      kernel::ThreadGroup& self = t.group();
      auto& term = k.terminal_locked(device);
      // Already its controlling terminal: fine for the session leader
      // (tiocsctty()); anyone else may not ask.
      if (self.ctty == device && self.sid == self.pid) return ok();
      // Only a session leader without a terminal takes one that no other
      // session holds (stealing needs arg 1 and CAP_SYS_ADMIN).
      if (self.sid != self.pid || self.ctty != 0) return Err(EPERM);
      if (term.sid != 0 && term.sid != self.sid) {
        if (arg != 1 || !((t.creds().cap_effective >> 21) & 1)) return Err(EPERM);
        k.detach_terminal_locked(device);
      }
      k.attach_terminal_locked(self, device, f);
      return ok();
    }
    case TIOCNOTTY: {
      int foreground = 0;
      {
        std::lock_guard lock(k.tree_mutex());
        kernel::ThreadGroup& self = t.group();
        if (self.ctty != device) return Err(ENOTTY);
        self.ctty = 0;
        // The session leader lets go: the whole session loses it, and its
        // foreground group gets SIGHUP and SIGCONT (ioctl_tty(2)).
        if (self.sid == self.pid) foreground = k.detach_terminal_locked(device).fg_pgrp;
      }
      if (foreground) {
        kernel::signal_process_group(k, foreground, SIGHUP);
        kernel::signal_process_group(k, foreground, SIGCONT);
      }
      return ok();
    }
    case TIOCGPGRP:
    case TIOCGSID: {
      int value;
      {
        std::lock_guard lock(k.tree_mutex());
        if (t.group().ctty != device) return Err(ENOTTY);
        const auto& term = k.terminal_locked(device);
        value = cmd == TIOCGPGRP ? term.fg_pgrp : term.sid;
      }
      if (auto r = t.mm().copy_out(arg, &value, sizeof(value)); !r) return Err(r.error());
      return ok();
    }
    case TIOCSPGRP: {
      int pgrp;
      if (auto r = t.mm().copy_in(arg, &pgrp, sizeof(pgrp)); !r) return Err(r.error());
      if (pgrp < 0) return Err(EINVAL);
      bool background;
      {
        std::lock_guard lock(k.tree_mutex());
        kernel::ThreadGroup& self = t.group();
        if (self.ctty != device) return Err(ENOTTY);
        auto& term = k.terminal_locked(device);
        if (term.sid != self.sid) return Err(ENOTTY);
        bool exists = false, same_session = false;
        for (const auto& [pid, g] : k.processes_locked()) {
          if (g->pgid != pgrp || g->zombie) continue;
          exists = true;
          same_session |= g->sid == self.sid;
        }
        if (!exists) return Err(ESRCH);
        if (!same_session) return Err(EPERM);
        background = term.fg_pgrp != 0 && self.pgid != term.fg_pgrp;
        // tcsetpgrp(3) from the background: SIGTTOU first, unless it is
        // blocked or ignored (a shell handing the terminal back blocks it).
        if (!background || ignored_or_blocked(t, SIGTTOU)) {
          term.fg_pgrp = pgrp;
          return ok();
        }
      }
      kernel::signal_process_group(k, t.group().pgid, SIGTTOU);
      return Err(EINTR);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace runsc::syscalls
