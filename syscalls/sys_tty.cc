// Job control on the sandbox's terminals (credentials(7), termios(3),
// tty_ioctl(4)): the controlling terminal of a session, its foreground
// process group, and SIGTTIN/SIGTTOU for background processes. The
// terminal itself (settings, editing, echo) is the host tty's.
#include <signal.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include <cstring>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "syscalls/util.h"
#include "vfs/host_file.h"

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
    struct {
      uint32_t iflag, oflag, cflag, lflag;
      uint8_t rest[20];
    } tio{};  // the kernel's struct termios
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
  auto* host = dynamic_cast<vfs::HostFileDescription*>(term.get());
  if (!host) return Result<std::shared_ptr<vfs::FileDescription>>(Err(ENXIO));
  UniqueFd copy(::fcntl(host->host_fd(), F_DUPFD_CLOEXEC, 3));
  if (!copy) return Result<std::shared_ptr<vfs::FileDescription>>(Err(errno));
  // A description of its own (flags, O_NONBLOCK) on the same terminal.
  return Result<std::shared_ptr<vfs::FileDescription>>(std::make_shared<vfs::HostFileDescription>(
      std::move(copy), flags & (O_ACCMODE | O_APPEND | O_NONBLOCK), true));
}

std::optional<Result<uint64_t>> tty_ioctl(Task& t, const std::shared_ptr<vfs::FileDescription>& f, uint64_t cmd,
                                          uint64_t arg) {
  const uint64_t device = f->terminal_device();
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
        for (const auto& [pid, g] : k.processes_locked()) {
          if (g->sid == term.sid && g->ctty == device) g->ctty = 0;
        }
      }
      self.ctty = device;
      term.sid = self.sid;
      term.fg_pgrp = self.pgid;
      term.file = f;
      return ok();
    }
    case TIOCNOTTY: {
      std::lock_guard lock(k.tree_mutex());
      kernel::ThreadGroup& self = t.group();
      if (self.ctty != device) return Err(ENOTTY);
      self.ctty = 0;
      if (self.sid == self.pid) {
        // The session leader lets go: the whole session loses it.
        auto& term = k.terminal_locked(device);
        for (const auto& [pid, g] : k.processes_locked()) {
          if (g->sid == self.sid) g->ctty = 0;
        }
        term = {};
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
