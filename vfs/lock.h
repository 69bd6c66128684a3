// Advisory file locks, kept per inode: flock(2) locks (whole file, owned
// by an open file description) and fcntl(2) record locks, either
// process-associated (F_SETLK: owned by the process, dropped when it
// closes any FD of the file) or open-file-description locks (F_OFD_SETLK).
// On Linux the two families never conflict with each other.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "common/result.h"

namespace runsc::vfs {

inline constexpr uint64_t kLockToEnd = UINT64_MAX;

// Who holds a record lock: a process (pid) or an open file description.
struct LockOwner {
  uintptr_t id = 0;  // the pid, or the description's address
  bool ofd = false;
  int pid = 0;       // reported by F_GETLK (-1 for OFD locks)
  bool operator==(const LockOwner& o) const { return id == o.id && ofd == o.ofd; }
};

struct RecordLock {
  LockOwner owner;
  bool write = false;
  uint64_t start = 0;
  uint64_t end = kLockToEnd;  // exclusive
};

class FileLocks {
 public:
  // flock(2): `exclusive` or shared, or unlock; EWOULDBLOCK on conflict.
  // Converting an existing lock drops it first, as Linux does.
  Result<void> try_flock(const void* description, bool exclusive);
  void flock_unlock(const void* description);

  // F_SETLK: sets (or with `unlock`, clears) [start, end) for `owner`,
  // splitting and merging the owner's own ranges; EAGAIN on conflict.
  Result<void> try_set(const LockOwner& owner, bool write, bool unlock, uint64_t start, uint64_t end);
  // F_GETLK: the first lock of another owner that would conflict.
  std::optional<RecordLock> test(const LockOwner& owner, bool write, uint64_t start, uint64_t end);

  // Drops every lock `description` holds (its flock and OFD locks), when
  // the description is freed.
  void release_description(const void* description);
  // Drops the process-associated record locks of `pid` (close(2), exit).
  void release_process(int pid);

  // Called whenever locks are dropped, so that blocked lockers retry.
  uint64_t add_waker(std::function<void()> wake);
  void remove_waker(uint64_t id);

 private:
  void wake_all_locked();

  std::mutex mu_;
  std::map<const void*, bool> flocks_;  // description -> exclusive
  std::vector<RecordLock> records_;
  std::map<uint64_t, std::function<void()>> wakers_;
  uint64_t next_waker_ = 1;
};

}  // namespace runsc::vfs
