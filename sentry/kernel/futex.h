// The futex wait queues (futex(2)): tasks blocked in FUTEX_WAIT, keyed by
// the futex word. A private futex is named by (address space, address); a
// shared one in MAP_SHARED memory by its page in the memory file, so
// processes sharing the memory find each other.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>

#include "common/result.h"

namespace runsc::kernel {

class Task;

struct FutexKey {
  uintptr_t space;  // the MemoryManager, or 0 for a memory-file offset
  uint64_t addr;    // the address, or the memory-file offset
  auto operator<=>(const FutexKey&) const = default;
};

class FutexTable {
 public:
  // FUTEX_WAIT: if `still_expected()` (the word still holds the expected
  // value, checked under the table lock) the task sleeps until woken (0),
  // interrupted (EINTR) or past `deadline_ns` on `clock` (ETIMEDOUT; a
  // negative deadline is none). EAGAIN when the value differs.
  Result<void> wait(Task& task, FutexKey key, uint32_t bitset, const std::function<Result<bool>()>& still_expected,
                    int clock, int64_t deadline_ns);
  // Wakes up to `count` waiters on `key` whose bitset intersects `bitset`.
  int wake(FutexKey key, int count, uint32_t bitset);
  // FUTEX_CMP_REQUEUE's core: wakes `wake_count` waiters on `from` and
  // moves up to `requeue_count` of the rest to `to`, if `check()` (the
  // value comparison) holds under the lock. Returns woken + moved.
  Result<int> requeue(FutexKey from, FutexKey to, int wake_count, int requeue_count,
                      const std::function<Result<bool>()>& check);
  // FUTEX_LOCK_PI: `try_lock()` runs under the table lock and either takes
  // the lock word (true) or marks it FUTEX_WAITERS (false); then the task
  // sleeps until FUTEX_UNLOCK_PI hands the lock over to it (0), or EINTR /
  // ETIMEDOUT.
  Result<void> lock_pi(Task& task, FutexKey key, const std::function<Result<bool>()>& try_lock, int clock,
                       int64_t deadline_ns);
  // FUTEX_UNLOCK_PI: `hand_over(tid, more)` writes the word for the next
  // owner (tid 0: nobody waits) under the table lock; that waiter wakes.
  Result<void> unlock_pi(FutexKey key, const std::function<Result<void>(int tid, bool more)>& hand_over);
  // FUTEX_WAKE_OP: `op()` updates the second word under the lock and says
  // whether waiters on `key2` are woken too.
  Result<int> wake_op(FutexKey key1, FutexKey key2, int count1, int count2, const std::function<Result<bool>()>& op);

 private:
  struct Waiter {
    Task* task;
    uint32_t bitset;
    bool woken = false;
  };
  int wake_locked(FutexKey key, int count, uint32_t bitset);

  std::mutex mu_;
  std::map<FutexKey, std::list<Waiter*>> queues_;
};

}  // namespace runsc::kernel
