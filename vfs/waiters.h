// Waiters: the tasks blocked on, or polling, a file whose state the
// Sentry keeps itself (sockets, ptys). Each waiter is a host eventfd; a
// change writes to every one. A blocked call adds its eventfd under the
// lock that guards the state it checked, so a change between the check
// and the wait is never lost. The count of changes lets epoll report
// edge-triggered events only for changes it has not reported (epoll(7):
// EPOLLET reports "only when changes occur on the monitored file").
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/interrupt.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc::vfs {

class Waiters {
 public:
  void add(int fd) {
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
  }
  void remove(int fd) {
    std::lock_guard lock(mu_);
    if (auto it = std::find(fds_.begin(), fds_.end(), fd); it != fds_.end()) fds_.erase(it);
  }
  // Something changed: every waiter looks again.
  void notify() {
    changes_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    const uint64_t one = 1;
    for (int fd : fds_) (void)!::write(fd, &one, sizeof(one));
  }
  uint64_t changes() const { return changes_.load(std::memory_order_relaxed); }

  // Waits with `lock` released until notify(), a signal (EINTR) or
  // `timeout_ms` (ETIMEDOUT; < 0 none); 0 when woken.
  template <class Lock>
  int wait(Lock& lock, int timeout_ms = -1) {
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake) return errno;
    add(wake.get());
    lock.unlock();
    const int rc = wait_fd_or_interrupt(wake.get(), POLLIN, timeout_ms);
    remove(wake.get());
    lock.lock();
    return rc;
  }

 private:
  std::mutex mu_;
  std::vector<int> fds_;
  std::atomic<uint64_t> changes_{0};
};

}  // namespace runsc::vfs
