#include "sentry/kernel/timers.h"

#include <time.h>

namespace runsc::kernel {

int64_t monotonic_now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

TimerService::~TimerService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t TimerService::schedule(int64_t deadline_ns, Callback callback) {
  std::lock_guard lock(mu_);
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  const uint64_t id = next_id_++;
  queue_.emplace(std::make_pair(deadline_ns, id), std::move(callback));
  deadlines_[id] = deadline_ns;
  changed_.notify_all();
  return id;
}

void TimerService::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return;
  queue_.erase(std::make_pair(it->second, id));
  deadlines_.erase(it);
}

void TimerService::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      changed_.wait(lock);
      continue;
    }
    auto first = queue_.begin();
    const int64_t now = monotonic_now_ns();
    if (first->first.first > now) {
      changed_.wait_for(lock, std::chrono::nanoseconds(first->first.first - now));
      continue;
    }
    Callback cb = std::move(first->second);
    deadlines_.erase(first->first.second);
    queue_.erase(first);
    lock.unlock();
    cb();  // may schedule again (periodic timers)
    lock.lock();
  }
}

}  // namespace runsc::kernel
