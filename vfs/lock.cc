#include "vfs/lock.h"

#include <algorithm>

namespace runsc::vfs {
namespace {

bool overlaps(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end) {
  return a_start < b_end && b_start < a_end;
}

}  // namespace

Result<void> FileLocks::try_flock(const void* description, bool exclusive) {
  std::lock_guard lock(mu_);
  // A conversion is not atomic on Linux: the old lock goes first.
  if (flocks_.erase(description)) wake_all_locked();
  for (const auto& [holder, held_exclusive] : flocks_) {
    if (exclusive || held_exclusive) return Err(EWOULDBLOCK);
  }
  flocks_[description] = exclusive;
  return {};
}

void FileLocks::flock_unlock(const void* description) {
  std::lock_guard lock(mu_);
  if (flocks_.erase(description)) wake_all_locked();
}

std::optional<RecordLock> FileLocks::test(const LockOwner& owner, bool write, uint64_t start, uint64_t end) {
  std::lock_guard lock(mu_);
  for (const RecordLock& l : records_) {
    if (l.owner == owner || !overlaps(l.start, l.end, start, end)) continue;
    if (write || l.write) return l;
  }
  return std::nullopt;
}

Result<void> FileLocks::try_set(const LockOwner& owner, bool write, bool unlock, uint64_t start, uint64_t end) {
  std::lock_guard lock(mu_);
  if (!unlock) {
    for (const RecordLock& l : records_) {
      if (!(l.owner == owner) && overlaps(l.start, l.end, start, end) && (write || l.write)) return Err(EAGAIN);
    }
  }
  // Cut the owner's existing ranges around [start, end): what lies
  // outside stays with its old type (fcntl(2): locks split and merge).
  std::vector<RecordLock> next;
  bool released = false;
  for (const RecordLock& l : records_) {
    if (!(l.owner == owner) || !overlaps(l.start, l.end, start, end)) {
      next.push_back(l);
      continue;
    }
    released = released || l.write != write || unlock;
    if (l.start < start) {
      RecordLock left = l;
      left.end = start;
      next.push_back(left);
    }
    if (l.end > end) {
      RecordLock right = l;
      right.start = end;
      next.push_back(right);
    }
  }
  if (!unlock) {
    RecordLock added{owner, write, start, end};
    // Merge with the owner's adjacent ranges of the same type.
    for (auto it = next.begin(); it != next.end();) {
      if (it->owner == owner && it->write == write && (it->end == added.start || added.end == it->start)) {
        added.start = std::min(added.start, it->start);
        added.end = std::max(added.end, it->end);
        it = next.erase(it);
      } else {
        ++it;
      }
    }
    next.push_back(added);
  }
  records_ = std::move(next);
  if (released) wake_all_locked();
  return {};
}

void FileLocks::release_description(const void* description) {
  std::lock_guard lock(mu_);
  bool any = flocks_.erase(description) > 0;
  const auto id = reinterpret_cast<uintptr_t>(description);
  auto gone = std::remove_if(records_.begin(), records_.end(),
                             [&](const RecordLock& l) { return l.owner.ofd && l.owner.id == id; });
  any = any || gone != records_.end();
  records_.erase(gone, records_.end());
  if (any) wake_all_locked();
}

void FileLocks::release_process(int pid) {
  std::lock_guard lock(mu_);
  auto gone = std::remove_if(records_.begin(), records_.end(), [&](const RecordLock& l) {
    return !l.owner.ofd && l.owner.id == static_cast<uintptr_t>(pid);
  });
  if (gone == records_.end()) return;
  records_.erase(gone, records_.end());
  wake_all_locked();
}

uint64_t FileLocks::add_waker(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_waker_++;
  wakers_.emplace(id, std::move(wake));
  return id;
}

void FileLocks::remove_waker(uint64_t id) {
  std::lock_guard lock(mu_);
  wakers_.erase(id);
}

void FileLocks::wake_all_locked() {
  for (auto& [id, wake] : wakers_) wake();
}

}  // namespace runsc::vfs
