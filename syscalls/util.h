// Helpers shared by the syscall families.
#pragma once

#include <fcntl.h>
#include <limits.h>
#include <time.h>

#include <memory>
#include <optional>
#include <string>

#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/task.h"
#include "vfs/permissions.h"

namespace runsc::syscalls {

using kernel::SyscallArgs;
using kernel::Task;

// A path argument: ENAMETOOLONG past PATH_MAX, EFAULT for a bad pointer.
Result<std::string> path_arg(Task& t, uint64_t addr);

// The description behind `fd`, or EBADF.
Result<std::shared_ptr<vfs::FileDescription>> get_file(Task& t, int fd);

// Resolves `path` relative to `dirfd` (AT_FDCWD or an open directory), as
// the *at() calls do. With `empty_path_ok` an empty path names dirfd itself
// (AT_EMPTY_PATH).
Result<std::shared_ptr<vfs::Dentry>> resolve_at(Task& t, int dirfd, const std::string& path, bool follow,
                                                bool empty_path_ok = false, uint64_t restrict_flags = 0);

// The caller's filesystem credentials, for permission checks.
vfs::Caller caller_of(Task& t);

// The parent directory and last component of a path (filename_parentat()).
struct ParentAndName {
  enum class Kind { kNormal, kDot, kDotDot, kRoot };
  std::shared_ptr<vfs::Dentry> dir;
  std::string name;
  Kind kind = Kind::kNormal;
  bool trailing_slash = false;
};
Result<ParentAndName> resolve_parent(Task& t, int dirfd, const std::string& path, uint64_t restrict_flags = 0);
// The same for a path relative to `start` (a symlink's target, from the
// directory holding the link).
Result<ParentAndName> resolve_parent_in(Task& t, const std::shared_ptr<vfs::Dentry>& start, const std::string& path);

// The owner of a file the caller creates in `dir` (inode_init_owner()):
// the caller's fsuid, and the directory's group if it is set-group-ID.
vfs::Owner new_file_owner(Task& t, const struct stat& dir);

// fcntl(2)'s record-lock commands (F_GETLK, F_SETLK(W), F_OFD_*).
Result<uint64_t> fcntl_lock(Task& t, int fd, int cmd, uint64_t arg);
// close(2) of any FD of a file drops the process's record locks on it.
void release_posix_locks(Task& t, const vfs::FileDescription& file);

// What a file's mode becomes when someone without CAP_FSETID writes or
// truncates it (set-user-ID and executable set-group-ID dropped), or
// nothing if it stays.
std::optional<mode_t> mode_after_kill_privs(const vfs::Caller& caller, const struct stat& st);

inline Result<uint64_t> ok(uint64_t v = 0) { return v; }

// The host iovecs (into the memory file) behind an application's iovec
// array, for readv/writev-like calls: EINVAL past UIO_MAXIOV or for a
// negative length, EFAULT for unmapped memory; the total is capped at
// MAX_RW_COUNT.
Result<std::vector<iovec>> spans_for_iovecs(Task& t, uint64_t iov_addr, uint64_t count, bool to_app);

// mknodat(2)'s creation of `path` (relative to `dirfd`) with `mode` (type
// and permission bits, before the umask), with its checks and errnos; the
// new dentry. bind(2) makes unix sockets' nodes with it.
Result<std::shared_ptr<vfs::Dentry>> make_node(Task& t, int dirfd, const std::string& path, uint32_t mode);

int64_t to_ns(const timespec& ts);
// Sleeps until `deadline_ns` on host clock `clock`, waking early if the
// task is interrupted: 0 when the deadline passed, EINTR (time left in
// *left_ns) when interrupted.
int sleep_until(int clock, int64_t deadline_ns, int64_t* left_ns);

// A temporary signal mask argument (ppoll, pselect6, epoll_pwait): none
// for a null pointer, EINVAL unless sigsetsize is 8.
Result<std::optional<uint64_t>> sigmask_arg(Task& t, uint64_t addr, uint64_t size);

// CPU time of the caller's process (user + system, every thread, the
// exited ones too), for CLOCK_PROCESS_CPUTIME_ID.
int64_t process_cpu_ns(Task& t);

// Job control on a terminal (sys_tty.cc): before a read or write of `f`,
// EIO or EINTR (after SIGTTIN/SIGTTOU to the caller's group) for a
// background process of the terminal's session; and the job-control
// ioctls (TIOCSCTTY, TIOCNOTTY, TIOCGPGRP, TIOCSPGRP, TIOCGSID, and a pty
// master's TIOCGPGRP, TIOCGSID, TIOCGPTPEER), nullopt for any other
// ioctl or file.
Result<void> tty_check_access(kernel::Task& t, vfs::FileDescription& f, bool write);
std::optional<Result<uint64_t>> tty_ioctl(kernel::Task& t, const std::shared_ptr<vfs::FileDescription>& f, uint64_t cmd,
                                          uint64_t arg);
// While a task waits in poll or epoll: its wake FD is registered with the
// Sentry-pollable files it watches, so a change they see wakes it.
class PollWakeRegistration {
 public:
  PollWakeRegistration(int wake_fd, std::vector<std::shared_ptr<vfs::FileDescription>> files)
      : wake_fd_(wake_fd), files_(std::move(files)) {
    for (const auto& f : files_) f->add_poll_waiter(wake_fd_);
  }
  ~PollWakeRegistration() {
    for (const auto& f : files_) f->remove_poll_waiter(wake_fd_);
  }
  PollWakeRegistration(const PollWakeRegistration&) = delete;
  PollWakeRegistration& operator=(const PollWakeRegistration&) = delete;

 private:
  int wake_fd_;
  std::vector<std::shared_ptr<vfs::FileDescription>> files_;
};

// After open(2) without O_NOCTTY: a session leader without a controlling
// terminal takes the terminal it opened if no session has it.
void tty_open_set_ctty(kernel::Task& t, const std::shared_ptr<vfs::FileDescription>& f);
// open(2) of /dev/tty (5,0) or /dev/console (5,1): a new description of
// that terminal, or ENXIO without one; nullopt for any other device.
std::optional<Result<std::shared_ptr<vfs::FileDescription>>> open_terminal_device(kernel::Task& t, dev_t rdev, int flags);

// Registration of each family into the table.
void register_names(kernel::SyscallTable& table);
void register_file(kernel::SyscallTable& table);
void register_mmap(kernel::SyscallTable& table);
void register_process(kernel::SyscallTable& table);
void register_time(kernel::SyscallTable& table);
void register_signal(kernel::SyscallTable& table);
void register_futex(kernel::SyscallTable& table);
void register_dir_ops(kernel::SyscallTable& table);
void register_attr(kernel::SyscallTable& table);
void register_xattr(kernel::SyscallTable& table);
void register_lock(kernel::SyscallTable& table);
void register_memfd(kernel::SyscallTable& table);
void register_splice(kernel::SyscallTable& table);
void register_inotify(kernel::SyscallTable& table);
void register_clone(kernel::SyscallTable& table);
void register_wait(kernel::SyscallTable& table);
void register_pipe(kernel::SyscallTable& table);
void register_poll(kernel::SyscallTable& table);
void register_timer(kernel::SyscallTable& table);
void register_creds(kernel::SyscallTable& table);
void register_eventfd_timerfd(kernel::SyscallTable& table);
void register_epoll(kernel::SyscallTable& table);
void register_signalfd(kernel::SyscallTable& table);
void register_socket(kernel::SyscallTable& table);

// The whole x86-64 table, built once.
const kernel::SyscallTable& syscall_table();

}  // namespace runsc::syscalls
