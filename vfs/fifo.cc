#include "common/host_fds.h"
#include "vfs/fifo.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "common/interrupt.h"
#include "vfs/host_file.h"

namespace runsc::vfs {
namespace {

size_t total_length(std::span<const iovec> v) {
  size_t n = 0;
  for (const auto& e : v) n += e.iov_len;
  return n;
}

// An open FIFO: I/O on its own copy of a host pipe end, with the FIFO's
// reader and writer counts deciding EOF and EPIPE as pipe(7) says.
class FifoDescription final : public FileDescription {
 public:
  FifoDescription(std::shared_ptr<Fifo> fifo, std::shared_ptr<Inode> inode, std::shared_ptr<UniqueFd> read_end,
                  std::shared_ptr<UniqueFd> write_end, int flags)
      : FileDescription(flags), fifo_(std::move(fifo)), inode_(std::move(inode)), read_end_(std::move(read_end)),
        write_end_(std::move(write_end)) {}
  ~FifoDescription() override { fifo_->closed(read_end_ != nullptr, write_end_ != nullptr); }

  Result<struct stat> stat() override { return inode_->stat(); }
  int host_poll_fd() const override { return read_end_ ? read_end_->get() : write_end_->get(); }

  Result<size_t> read(std::span<const iovec> dst, int64_t) override {
    if (!read_end_) return Err(EBADF);
    const int fd = read_end_->get();
    for (;;) {
      const uint64_t seen = fifo_->generation();
      ssize_t n = ::readv(fd, dst.data(), static_cast<int>(dst.size()));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return ErrFromErrno();
      // Empty: end of file when nobody can write any more.
      if (fifo_->writers() == 0) return size_t{0};
      if (flags_ & O_NONBLOCK) return Err(EAGAIN);
      if (int e = wait_fifo(*fifo_, fd, POLLIN, seen); e != 0) return Err(e);
    }
  }

  Result<size_t> write(std::span<const iovec> src, int64_t) override {
    if (!write_end_) return Err(EBADF);
    const int fd = write_end_->get();
    std::vector<iovec> rest(src.begin(), src.end());
    const size_t total = total_length(src);
    size_t done = 0;
    for (;;) {
      const uint64_t seen = fifo_->generation();
      // Nobody left to read: EPIPE (the caller raises SIGPIPE).
      if (fifo_->readers() == 0) return done ? Result<size_t>(done) : Err(EPIPE);
      ssize_t n = ::writev(fd, rest.data(), static_cast<int>(rest.size()));
      if (n >= 0) {
        done += static_cast<size_t>(n);
        if (done >= total || (flags_ & O_NONBLOCK)) return done;
        drop_front(rest, static_cast<size_t>(n));
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN || (flags_ & O_NONBLOCK)) return done ? Result<size_t>(done) : ErrFromErrno();
      if (int e = wait_fifo(*fifo_, fd, POLLOUT, seen); e != 0) return done ? Result<size_t>(done) : Err(e);
    }
  }

 private:
  std::shared_ptr<Fifo> fifo_;
  std::shared_ptr<Inode> inode_;
  std::shared_ptr<UniqueFd> read_end_, write_end_;  // null for the side this opener lacks
};

}  // namespace

Result<void> Fifo::ensure_pipe_locked() {
  if (read_end_) return {};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return ErrFromErrno();
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  if (auto r = check_application_fd(read_end); !r) return r;
  if (auto r = check_application_fd(write_end); !r) return r;
  read_end_ = std::make_shared<UniqueFd>(std::move(read_end));
  write_end_ = std::make_shared<UniqueFd>(std::move(write_end));
  return {};
}

void Fifo::wake_all_locked() {
  ++generation_;
  const uint64_t one = 1;
  for (int fd : waiters_) (void)!::write(fd, &one, sizeof(one));
}

Result<void> Fifo::wait(std::unique_lock<std::mutex>& lock, const std::function<bool()>& ready) {
  while (!ready()) {
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake) return ErrFromErrno();
    waiters_.push_back(wake.get());
    lock.unlock();
    const int e = wait_fd_or_interrupt(wake.get(), POLLIN);
    lock.lock();
    std::erase(waiters_, wake.get());
    if (e != 0) return Err(e);
  }
  return {};
}

Result<std::shared_ptr<FileDescription>> Fifo::open(int flags, std::shared_ptr<Inode> inode) {
  const int accmode = flags & O_ACCMODE;
  const bool reader = accmode == O_RDONLY || accmode == O_RDWR;
  const bool writer = accmode == O_WRONLY || accmode == O_RDWR;
  std::unique_lock lock(mu_);
  // fifo(7): a writer opening with O_NONBLOCK and no reader fails.
  if (accmode == O_WRONLY && (flags & O_NONBLOCK) && readers_ == 0) return Err(ENXIO);
  if (auto r = ensure_pipe_locked(); !r) return Err(r.error());
  std::shared_ptr<UniqueFd> read_end = reader ? read_end_ : nullptr;
  std::shared_ptr<UniqueFd> write_end = writer ? write_end_ : nullptr;
  readers_ += reader ? 1 : 0;
  writers_ += writer ? 1 : 0;
  reader_opens_ += reader ? 1 : 0;
  writer_opens_ += writer ? 1 : 0;
  wake_all_locked();
  // Wait for the other side unless O_NONBLOCK or O_RDWR.
  if (!(flags & O_NONBLOCK) && accmode != O_RDWR) {
    const uint64_t partner_opens = reader ? writer_opens_ : reader_opens_;
    auto other_side = [&] {
      return reader ? (writers_ > 0 || writer_opens_ != partner_opens)
                    : (readers_ > 0 || reader_opens_ != partner_opens);
    };
    if (auto r = wait(lock, other_side); !r) {
      readers_ -= reader ? 1 : 0;
      writers_ -= writer ? 1 : 0;
      if (readers_ == 0 && writers_ == 0) read_end_.reset(), write_end_.reset();
      wake_all_locked();
      return Err(r.error());
    }
  }
  lock.unlock();
  return std::shared_ptr<FileDescription>(
      std::make_shared<FifoDescription>(shared_from_this(), std::move(inode), std::move(read_end),
                                        std::move(write_end), flags & ~(O_CREAT | O_EXCL | O_TRUNC)));
}

void Fifo::closed(bool reader, bool writer) {
  std::lock_guard lock(mu_);
  readers_ -= reader ? 1 : 0;
  writers_ -= writer ? 1 : 0;
  // The last close throws away what was written and not read.
  if (readers_ == 0 && writers_ == 0) read_end_.reset(), write_end_.reset();
  wake_all_locked();
}

bool Fifo::add_waiter(int fd, uint64_t seen) {
  std::lock_guard lock(mu_);
  if (generation_ != seen) return false;
  waiters_.push_back(fd);
  return true;
}

void Fifo::remove_waiter(int fd) {
  std::lock_guard lock(mu_);
  std::erase(waiters_, fd);
}

int wait_fifo(Fifo& fifo, int fd, short events, uint64_t seen) {
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return errno;
  if (!fifo.add_waiter(wake.get(), seen)) return 0;  // something changed: look again
  pollfd fds[3] = {{fd, events, 0}, {wake.get(), POLLIN, 0}, {current_interrupt_fd(), POLLIN, 0}};
  const nfds_t n = fds[2].fd >= 0 ? 3 : 2;
  int rc;
  do {
    rc = ::poll(fds, n, -1);
  } while (rc < 0 && errno == EINTR);
  fifo.remove_waiter(wake.get());
  if (n == 3 && (fds[2].revents & POLLIN)) return EINTR;
  return 0;
}

}  // namespace runsc::vfs
