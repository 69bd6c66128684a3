#include "sentry/kernel/futex.h"

#include <time.h>

#include <algorithm>

#include "sentry/kernel/task.h"
#include "sentry/kernel/timers.h"

namespace runsc::kernel {
namespace {

int64_t now_ns(int clock) {
  if (clock == CLOCK_MONOTONIC) return monotonic_now_ns();
  timespec ts;
  ::clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

}  // namespace

Result<void> FutexTable::wait(Task& task, FutexKey key, uint32_t bitset,
                              const std::function<Result<bool>()>& still_expected, int clock, int64_t deadline_ns) {
  Waiter self{&task, bitset};
  {
    std::lock_guard lock(mu_);
    auto same = still_expected();
    if (!same) return Err(same.error());
    if (!*same) return Err(EAGAIN);
    queues_[key].push_back(&self);
  }
  int result = 0;
  for (;;) {
    int timeout_ms = -1;
    if (deadline_ns >= 0) {
      const int64_t left = deadline_ns - now_ns(clock);
      if (left <= 0) {
        result = ETIMEDOUT;
      } else {
        timeout_ms = static_cast<int>(std::min<int64_t>((left + 999999) / 1000000, 1 << 30));
      }
    }
    if (result == 0) {
      int e = task.block(timeout_ms);
      if (e == EINTR) result = EINTR;
    }
    std::lock_guard lock(mu_);
    if (self.woken) return {};  // a wake wins over a timeout or signal
    if (result != 0) {
      // Still queued (possibly requeued elsewhere): leave the queue we are in.
      for (auto it = queues_.begin(); it != queues_.end(); ++it) {
        auto& q = it->second;
        auto pos = std::find(q.begin(), q.end(), &self);
        if (pos == q.end()) continue;
        q.erase(pos);
        if (q.empty()) queues_.erase(it);
        break;
      }
      return Err(result);
    }
  }
}

Result<void> FutexTable::lock_pi(Task& task, FutexKey key, const std::function<Result<bool>()>& try_lock, int clock,
                                 int64_t deadline_ns) {
  // The attempt runs under the table lock right before queueing, so an
  // unlock cannot slip in between. Taking the lock ends the wait "with a
  // changed value" (EAGAIN from wait), which here means success; otherwise
  // the task sleeps until FUTEX_UNLOCK_PI makes it the owner.
  auto must_wait = [&]() -> Result<bool> {
    auto taken = try_lock();
    if (!taken) return Err(taken.error());
    return !*taken;
  };
  auto r = wait(task, key, ~0u, must_wait, clock, deadline_ns);
  if (!r && r.error() == EAGAIN) return {};
  return r;
}

Result<void> FutexTable::unlock_pi(FutexKey key, const std::function<Result<void>(int tid, bool more)>& hand_over) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(key);
  if (it == queues_.end() || it->second.empty()) return hand_over(0, false);
  Waiter* next = it->second.front();
  if (auto r = hand_over(next->task->tid(), it->second.size() > 1); !r) return r;
  it->second.pop_front();
  if (it->second.empty()) queues_.erase(it);
  next->woken = true;
  next->task->wake();
  return {};
}

int FutexTable::wake_locked(FutexKey key, int count, uint32_t bitset) {
  auto it = queues_.find(key);
  if (it == queues_.end()) return 0;
  int woken = 0;
  auto& q = it->second;
  for (auto w = q.begin(); w != q.end() && woken < count;) {
    if (((*w)->bitset & bitset) == 0) {
      ++w;
      continue;
    }
    (*w)->woken = true;
    (*w)->task->wake();
    w = q.erase(w);
    ++woken;
  }
  if (q.empty()) queues_.erase(it);
  return woken;
}

int FutexTable::wake(FutexKey key, int count, uint32_t bitset) {
  std::lock_guard lock(mu_);
  return wake_locked(key, count, bitset);
}

Result<int> FutexTable::requeue(FutexKey from, FutexKey to, int wake_count, int requeue_count,
                                const std::function<Result<bool>()>& check) {
  std::lock_guard lock(mu_);
  auto ok = check();
  if (!ok) return Err(ok.error());
  if (!*ok) return Err(EAGAIN);
  int done = wake_locked(from, wake_count, ~0u);
  auto it = queues_.find(from);
  if (it == queues_.end() || from == to) return done;
  auto& q = it->second;
  int moved = 0;
  while (!q.empty() && moved < requeue_count) {
    queues_[to].push_back(q.front());
    q.pop_front();
    ++moved;
  }
  if (q.empty()) queues_.erase(from);
  return done + moved;
}

Result<int> FutexTable::wake_op(FutexKey key1, FutexKey key2, int count1, int count2,
                                const std::function<Result<bool>()>& op) {
  std::lock_guard lock(mu_);
  auto cond = op();
  if (!cond) return Err(cond.error());
  int woken = wake_locked(key1, count1, ~0u);
  if (*cond) woken += wake_locked(key2, count2, ~0u);
  return woken;
}

}  // namespace runsc::kernel
