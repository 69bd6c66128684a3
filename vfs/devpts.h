// devpts (pty(7)): Unix 98 pseudo-terminals made by the Sentry. Opening
// /dev/pts/ptmx makes a master and its slave /dev/pts/N (locked until
// unlockpt(3)); what is written to the master reaches slave readers through
// the line discipline (vfs/line_discipline.h), and the slave's output comes
// out of the master. No host terminal is involved.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "common/result.h"
#include "vfs/file.h"

namespace runsc::vfs {

// What a terminal needs of the kernel, which vfs does not know: the
// sessions and process groups behind job control.
class TerminalControl {
 public:
  virtual ~TerminalControl() = default;
  // ISIG characters and window size changes: `signo` to the foreground
  // process group of the session `device` controls, if any.
  virtual void signal_foreground(uint64_t device, int signo) = 0;
  // The master of `device` closed (Linux's tty_vhangup()): the session's
  // leader gets SIGHUP and SIGCONT and the session loses the terminal.
  virtual void hang_up(uint64_t device) = 0;
};
// Set once by the kernel; null (the default) drops those signals.
void set_terminal_control(TerminalControl* control);

struct DevptsOptions {
  mode_t mode = 0620;       // a new slave's permissions (mode=)
  mode_t ptmx_mode = 0666;  // ptmxmode=
  std::optional<uint32_t> gid = 5;  // a new slave's group (gid=; unset: the opener's)
};

// The root of a new devpts instance (mount -t devpts -o newinstance).
std::shared_ptr<Dentry> make_devpts(const DevptsOptions& options = {});

// ioctl(TIOCGPTPEER): a description of the slave of the master `master`,
// opened with `flags`; ENOTTY if `master` is not a pty master.
Result<std::shared_ptr<FileDescription>> open_pty_peer(FileDescription& master, int flags);

// Whether `f` is a pty master, and its slave's device number (for the
// master's job-control ioctls, which act on the slave: tty_ioctl(4)).
std::optional<uint64_t> pty_master_peer(const FileDescription& f);

}  // namespace runsc::vfs
