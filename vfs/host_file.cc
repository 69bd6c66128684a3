#include "vfs/host_file.h"

#include "vfs/line_discipline.h"
#include "vfs/shared_file_pages.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <vector>

#include "common/interrupt.h"
#include "sentry/mm/vma.h"

namespace runsc::vfs {
namespace {

// A host file's pages as mmap sees them: a private mapping gets a copy;
// a shared one, for a file with SharedFilePages (a writable gofer tree),
// the pages every mapping of the file shares.
class HostMappable final : public mm::Mappable {
 public:
  HostMappable(std::shared_ptr<UniqueFd> fd, std::shared_ptr<SharedFilePages> pages, bool writable)
      : fd_(std::move(fd)), pages_(std::move(pages)), writable_(writable) {}
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) override {
    // A private copy starts from what shared mappings stored, too.
    if (pages_ && !pages_->empty()) (void)pages_->write_back();
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_->get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrFromErrno();
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }
  Result<uint64_t> shared_page(uint64_t offset) override {
    if (!pages_) return Err(ENODEV);
    return pages_->page(fd_, writable_, offset);
  }
  const void* identity() const override { return pages_ ? static_cast<const void*>(pages_.get()) : this; }
  void sync() override {
    if (pages_) (void)pages_->write_back();
  }

 private:
  std::shared_ptr<UniqueFd> fd_;
  std::shared_ptr<SharedFilePages> pages_;
  bool writable_;
};

Result<size_t> retry(ssize_t (*fn)(int, const iovec*, int, off_t), int fd, std::span<const iovec> v, int64_t off) {
  for (;;) {
    ssize_t n = fn(fd, v.data(), static_cast<int>(v.size()), off);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrFromErrno();
  }
}

}  // namespace

HostFileDescription::HostFileDescription(UniqueFd fd, int flags, bool tty_ioctls)
    : FileDescription(flags), shared_fd_(std::make_shared<UniqueFd>(std::move(fd))), fd_(*shared_fd_),
      tty_ioctls_(tty_ioctls) {
  struct stat st;
  is_regular_ = ::fstat(fd_.get(), &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
  if (tty_ioctls_ && S_ISCHR(st.st_mode)) terminal_device_ = st.st_rdev;
}

std::shared_ptr<HostFileDescription> HostFileDescription::pipe_end(UniqueFd fd, int flags) {
  auto f = std::make_shared<HostFileDescription>(std::move(fd), flags);
  f->host_nonblocking_ = true;
  return f;
}

Result<size_t> HostFileDescription::read(std::span<const iovec> dst, int64_t offset) {
  if (!readable()) return Err(EBADF);
  // What shared mappings stored reaches the host file before it is read.
  if (shared_pages_ && !shared_pages_->empty()) (void)shared_pages_->write_back();
  if (offset >= 0) return retry(::preadv, fd_.get(), dst, offset);
  if (host_nonblocking_) {
    for (;;) {
      ssize_t n = ::readv(fd_.get(), dst.data(), static_cast<int>(dst.size()));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (errno != EAGAIN || (flags_ & O_NONBLOCK)) return ErrFromErrno();
      if (int e = wait_fd_or_interrupt(fd_.get(), POLLIN); e != 0) return Err(e);
    }
  }
  // Pipes and terminals may block: wait interruptibly first.
  if (!is_regular_) {
    if (int e = wait_fd_or_interrupt(fd_.get(), POLLIN); e != 0) return Err(e);
  }
  for (;;) {
    ssize_t n = ::readv(fd_.get(), dst.data(), static_cast<int>(dst.size()));
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrFromErrno();
  }
}

Result<size_t> HostFileDescription::write(std::span<const iovec> src, int64_t offset) {
  if (!writable()) return Err(EBADF);
  if (shared_pages_ && !shared_pages_->empty()) return write_shared(src, offset);
  if (offset >= 0) return retry(::pwritev, fd_.get(), src, offset);
  if (host_nonblocking_) return write_nonblocking_host(src);
  if (!is_regular_) {
    if (int e = wait_fd_or_interrupt(fd_.get(), POLLOUT); e != 0) return Err(e);
  }
  return retry_writev(src);
}

// A write to a file that shared mappings map: the cached pages take the
// bytes too, so the mappings see them at once (one page cache on Linux).
Result<size_t> HostFileDescription::write_shared(std::span<const iovec> src, int64_t offset) {
  Result<size_t> n = offset >= 0 ? retry(::pwritev, fd_.get(), src, offset) : retry_writev(src);
  if (!n || *n == 0) return n;
  // Where it went: `offset`, or just before the position it left.
  int64_t at = offset;
  if (at < 0) {
    const off_t end = ::lseek(fd_.get(), 0, SEEK_CUR);
    if (end < 0) return n;
    at = end - static_cast<int64_t>(*n);
  }
  shared_pages_->written(static_cast<uint64_t>(at), src, *n);
  return n;
}

Result<size_t> HostFileDescription::retry_writev(std::span<const iovec> src) {
  for (;;) {
    ssize_t n = ::writev(fd_.get(), src.data(), static_cast<int>(src.size()));
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrFromErrno();
  }
}

// pipe(7): a blocking write returns once everything is written, waiting
// for room as often as needed; an interruption after some bytes went
// returns that count. Writes of at most PIPE_BUF bytes are atomic because
// the host pipe makes them so: all or EAGAIN.
Result<size_t> HostFileDescription::write_nonblocking_host(std::span<const iovec> src) {
  std::vector<iovec> rest(src.begin(), src.end());
  size_t total = 0;
  for (const auto& v : rest) total += v.iov_len;
  size_t done = 0;
  while (done < total || total == 0) {
    ssize_t n = ::writev(fd_.get(), rest.data(), static_cast<int>(rest.size()));
    if (n >= 0) {
      done += static_cast<size_t>(n);
      if (total == 0 || (flags_ & O_NONBLOCK)) break;
      drop_front(rest, static_cast<size_t>(n));  // what was written goes
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN || (flags_ & O_NONBLOCK)) {
      if (done > 0) break;
      return ErrFromErrno();
    }
    if (int e = wait_fd_or_interrupt(fd_.get(), POLLOUT); e != 0) {
      if (done > 0) break;
      return Err(e);
    }
  }
  return done;
}

bool HostFileDescription::is_timerfd() const {
  // timerfd_gettime(2) succeeds only on a timerfd.
  itimerspec unused;
  return host_nonblocking_ && ::timerfd_gettime(fd_.get(), &unused) == 0;
}

Result<int> HostFileDescription::pipe_size(int new_size) {
  if (!host_nonblocking_) return Err(EBADF);
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) return Err(EBADF);
  int r = new_size < 0 ? ::fcntl(fd_.get(), F_GETPIPE_SZ) : ::fcntl(fd_.get(), F_SETPIPE_SZ, new_size);
  if (r < 0) return ErrFromErrno();
  return r;
}

Result<int64_t> HostFileDescription::seek(int64_t offset, int whence) {
  off_t r = ::lseek(fd_.get(), offset, whence);
  if (r < 0) return ErrFromErrno();
  return r;
}

Result<struct stat> HostFileDescription::stat() {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) return ErrFromErrno();
  return st;
}

Result<int64_t> HostFileDescription::ioctl(uint64_t cmd, uint64_t arg, UserMemory& mem) {
  if ((host_nonblocking_ || tty_ioctls_) && cmd == FIONREAD) {
    // The bytes waiting in the pipe (pipe(7)) or the terminal's input.
    int n = 0;
    if (::ioctl(fd_.get(), FIONREAD, &n) != 0) return ErrFromErrno();
    if (auto r = mem.copy_out(arg, &n, sizeof(n)); !r) return Err(r.error());
    return 0;
  }
  if (!tty_ioctls_) return Err(ENOTTY);
  // The terminal's settings and window size live in the host tty (whose
  // line discipline does the editing, echo and signal characters); these
  // reach it, nothing else about the host terminal does.
  switch (cmd) {
    case TCGETS: {
      KernelTermios t;
      if (::ioctl(fd_.get(), TCGETS, &t) != 0) return ErrFromErrno();
      if (auto r = mem.copy_out(arg, &t, sizeof(t)); !r) return Err(r.error());
      return 0;
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF: {
      KernelTermios t;
      if (auto r = mem.copy_in(arg, &t, sizeof(t)); !r) return Err(r.error());
      if (::ioctl(fd_.get(), cmd, &t) != 0) return ErrFromErrno();
      return 0;
    }
    case TIOCGWINSZ: {
      winsize w;
      if (::ioctl(fd_.get(), TIOCGWINSZ, &w) != 0) return ErrFromErrno();
      if (auto r = mem.copy_out(arg, &w, sizeof(w)); !r) return Err(r.error());
      return 0;
    }
    case TIOCSWINSZ: {
      winsize w;
      if (auto r = mem.copy_in(arg, &w, sizeof(w)); !r) return Err(r.error());
      if (::ioctl(fd_.get(), TIOCSWINSZ, &w) != 0) return ErrFromErrno();
      return 0;
    }
    case TCFLSH:
    case TCXONC:
      // Integer arguments: queue selectors and flow actions.
      if (::ioctl(fd_.get(), cmd, static_cast<int>(arg)) != 0) return ErrFromErrno();
      return 0;
    default:
      return Err(ENOTTY);
  }
}

Result<std::shared_ptr<FileDescription>> HostFileDescription::reopen_terminal(int flags) {
  if (terminal_device_ == 0) return Err(ENXIO);
  UniqueFd copy(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 3));
  if (!copy) return ErrFromErrno();
  // Its own flags (O_NONBLOCK) on the same terminal.
  return std::shared_ptr<FileDescription>(
      std::make_shared<HostFileDescription>(std::move(copy), flags & (O_ACCMODE | O_APPEND | O_NONBLOCK), true));
}

std::shared_ptr<mm::Mappable> HostFileDescription::mappable() {
  return std::make_shared<HostMappable>(shared_fd_, shared_pages_, writable());
}

Result<void> HostFileDescription::truncate(int64_t size) {
  if (!is_regular_) return Err(EINVAL);
  if (::ftruncate(fd_.get(), size) != 0) return ErrFromErrno();
  if (shared_pages_) shared_pages_->truncated(static_cast<uint64_t>(size));
  return {};
}

Result<void> HostFileDescription::allocate(int mode, int64_t offset, int64_t length) {
  if (!is_regular_) return Err(ENODEV);
  // On the host file as fallocate(2) says, for the modes that keep every
  // byte where it is (collapsing or inserting ranges is not passed on).
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) return Err(EOPNOTSUPP);
  const bool zeroes = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE);
  // What mappings stored outside the range must not be lost.
  if (zeroes && shared_pages_ && !shared_pages_->empty()) (void)shared_pages_->write_back();
  if (::fallocate(fd_.get(), mode, offset, length) != 0) return ErrFromErrno();
  if (zeroes && shared_pages_) shared_pages_->zeroed(static_cast<uint64_t>(offset), static_cast<uint64_t>(length));
  return {};
}

Result<void> HostFileDescription::sync() {
  // fsync(2): EINVAL for pipes and other files that cannot be synced.
  if (!is_regular_) return Err(EINVAL);
  if (shared_pages_) {
    if (auto r = shared_pages_->write_back(); !r) return r;
  }
  if (::fdatasync(fd_.get()) != 0) return ErrFromErrno();
  return {};
}

}  // namespace runsc::vfs
