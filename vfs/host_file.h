// A FileDescription backed directly by a host FD: a file the gofer donated,
// or one of the stdio FDs the sandbox was started with. Reads and writes are
// plain readv/preadv on that FD, with no copy through the Sentry.
#pragma once

#include <memory>

#include "common/unique_fd.h"
#include "vfs/file.h"

namespace runsc::vfs {

class SharedFilePages;

class HostFileDescription final : public FileDescription {
 public:
  // `tty_ioctls`: the host FD is the sandbox's terminal (stdio that is a
  // tty): termios and window size ioctls go to it (the host's line
  // discipline does the editing and echo); job control is the Sentry's
  // (syscalls/sys_tty.cc).
  HostFileDescription(UniqueFd fd, int flags, bool tty_ioctls = false);
  // One end of a pipe the Sentry made with pipe2(O_NONBLOCK) on the host:
  // blocking reads and writes wait interruptibly and retry, so several
  // tasks sharing the pipe never block uninterruptibly in the host.
  static std::shared_ptr<HostFileDescription> pipe_end(UniqueFd fd, int flags);

  Result<size_t> read(std::span<const iovec> dst, int64_t offset) override;
  Result<size_t> write(std::span<const iovec> src, int64_t offset) override;
  Result<int64_t> seek(int64_t offset, int whence) override;
  Result<struct stat> stat() override;
  Result<int64_t> ioctl(uint64_t cmd, uint64_t arg, UserMemory& mem) override;
  std::shared_ptr<mm::Mappable> mappable() override;
  // A regular file of a writable gofer tree: ftruncate(2) and fsync(2) on
  // the host FD.
  Result<void> truncate(int64_t size) override;
  // fallocate(2) on a regular host file (a writable gofer tree's).
  Result<void> allocate(int mode, int64_t offset, int64_t length) override;
  Result<void> sync() override;
  bool seekable() const override { return is_regular_; }
  int host_fd() const { return fd_.get(); }
  // Whether the host FD is a timerfd (timerfd_settime(2) needs one).
  bool is_timerfd() const;
  // F_GETPIPE_SZ (new_size < 0) and F_SETPIPE_SZ on a pipe end; EBADF
  // for anything else, as fcntl(2) says.
  Result<int> pipe_size(int new_size);
  // Regular files never block; everything else is polled on the host.
  int host_poll_fd() const override { return is_regular_ ? -1 : fd_.get(); }
  uint64_t terminal_device() const override { return terminal_device_; }
  // The file's pages that shared mappings share (a writable gofer tree's
  // regular file): mmap(MAP_SHARED) maps them, read and write stay
  // coherent with them.
  void set_shared_pages(std::shared_ptr<SharedFilePages> pages) { shared_pages_ = std::move(pages); }
  // A terminal's host FD duplicated into a description of its own.
  Result<std::shared_ptr<FileDescription>> reopen_terminal(int flags) override;

 private:
  Result<size_t> write_nonblocking_host(std::span<const iovec> src);
  Result<size_t> write_shared(std::span<const iovec> src, int64_t offset);
  Result<size_t> retry_writev(std::span<const iovec> src);

  // Shared with the Mappable view handed to mmap, which may outlive this.
  std::shared_ptr<UniqueFd> shared_fd_;
  UniqueFd& fd_;
  bool tty_ioctls_;
  bool is_regular_ = false;
  bool host_nonblocking_ = false;
  uint64_t terminal_device_ = 0;
  std::shared_ptr<SharedFilePages> shared_pages_;
};

}  // namespace runsc::vfs
