#include "sentry/kernel/wait_queue.h"

#include "sentry/kernel/task.h"

namespace runsc::kernel {

void WaitQueue::add(Task* task) {
  std::lock_guard lock(mu_);
  waiters_.push_back(task);
}

void WaitQueue::remove(Task* task) {
  std::lock_guard lock(mu_);
  std::erase(waiters_, task);
}

void WaitQueue::notify_all() {
  std::lock_guard lock(mu_);
  for (Task* t : waiters_) t->wake();
}

}  // namespace runsc::kernel
