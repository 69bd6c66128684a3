// WaitQueue: tasks blocked in the Sentry until something changes (a child
// exits, a vfork child execs). A waiter adds itself, re-checks its
// condition, then blocks in Task::block(); notify_all() wakes every waiter
// through its wake eventfd, so a wake-up between the check and the block is
// never lost.
#pragma once

#include <algorithm>
#include <mutex>
#include <vector>

namespace runsc::kernel {

class Task;

class WaitQueue {
 public:
  void add(Task* task);
  void remove(Task* task);
  void notify_all();

 private:
  std::mutex mu_;
  std::vector<Task*> waiters_;
};

}  // namespace runsc::kernel
