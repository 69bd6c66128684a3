// Named pipes (fifo(7)): the pipe behind a FIFO node, made by the Sentry
// when the FIFO is opened. Opening for reading waits for a writer and
// opening for writing waits for a reader, unless O_NONBLOCK (then a
// writer without a reader gets ENXIO); O_RDWR never waits.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "common/unique_fd.h"
#include "vfs/file.h"

namespace runsc::vfs {

class Fifo : public std::enable_shared_from_this<Fifo> {
 public:
  // A description of the FIFO for `flags` (O_ACCMODE, O_NONBLOCK).
  Result<std::shared_ptr<FileDescription>> open(int flags, std::shared_ptr<Inode> inode);

  // Called as descriptions go.
  void closed(bool reader, bool writer);
  // Bumped at every open and close; wait_fifo() returns at once if it
  // moved past what the caller saw before checking the counts.
  uint64_t generation() const {
    std::lock_guard lock(mu_);
    return generation_;
  }
  // For wait_fifo: an eventfd that becomes readable at the next change;
  // false (not added) if a change already happened after `seen`.
  bool add_waiter(int fd, uint64_t seen);
  void remove_waiter(int fd);
  int writers() const {
    std::lock_guard lock(mu_);
    return writers_;
  }
  int readers() const {
    std::lock_guard lock(mu_);
    return readers_;
  }

 private:
  Result<void> ensure_pipe_locked();

  void wake_all_locked();
  // Blocks until `ready()` holds (checked under the lock) or a signal.
  Result<void> wait(std::unique_lock<std::mutex>& lock, const std::function<bool()>& ready);

  mutable std::mutex mu_;
  int readers_ = 0;
  int writers_ = 0;
  // Opens ever made of each side: a waiting opener is released by the
  // other side's arrival even if it left again before the waiter ran
  // (Linux's wait_for_partner() waits on these counters, too).
  uint64_t reader_opens_ = 0, writer_opens_ = 0;
  uint64_t generation_ = 0;
  // The host pipe (non-blocking ends), made at the first open and
  // dropped, with what it held, when the last opener closes (pipe(7)).
  // The FIFO holds both ends, so end of file and EPIPE follow the reader
  // and writer counts rather than the host's view.
  std::shared_ptr<UniqueFd> read_end_, write_end_;
  // Tasks waiting for the counts to change: an eventfd each.
  std::vector<int> waiters_;
};

// Waits until `fd` is ready for `events`, `fifo`'s counts change after
// generation `seen`, or a signal arrives (EINTR).
int wait_fifo(Fifo& fifo, int fd, short events, uint64_t seen);

}  // namespace runsc::vfs
