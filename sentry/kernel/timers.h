// TimerService: one Sentry thread that runs callbacks at CLOCK_MONOTONIC
// deadlines, for the application's timers (alarm, setitimer, timer_create).
// Callbacks run on that thread and must not block.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace runsc::kernel {

int64_t monotonic_now_ns();

class TimerService {
 public:
  using Callback = std::function<void()>;
  ~TimerService();
  // Runs `callback` once at `deadline_ns`; the id cancels it.
  uint64_t schedule(int64_t deadline_ns, Callback callback);
  void cancel(uint64_t id);

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::pair<int64_t, uint64_t>, Callback> queue_;  // (deadline, id)
  std::map<uint64_t, int64_t> deadlines_;                   // id -> deadline
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;  // started with the first timer
};

}  // namespace runsc::kernel
