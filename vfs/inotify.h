// inotify(7): watches on inodes and the instances that read their events.
// Events come from changes made inside the sandbox (the VFS reports them
// as it makes them); changes made on the host behind the gofer are not seen.
#pragma once

#include <sys/inotify.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "vfs/file.h"

namespace runsc::vfs {

class InotifyInstance;

// The watches on one inode, from any number of instances.
class InodeWatches {
 public:
  struct Watch {
    std::weak_ptr<InotifyInstance> instance;
    int wd = 0;
    uint32_t mask = 0;
  };
  // Queues `event` (an IN_* bit, possibly with IN_ISDIR) on every watch
  // whose mask wants it; `name` is set for events about a directory's entry.
  void notify(uint32_t event, uint32_t cookie, std::string_view name);
  void add_or_update(const std::shared_ptr<InotifyInstance>& instance, int wd, uint32_t mask, bool merge);
  void remove(const InotifyInstance* instance, int wd);
  bool empty();
  // The inode is gone (its last link removed): IN_DELETE_SELF, then
  // IN_IGNORED, and every watch on it ends.
  void end_all();

 private:
  std::mutex mu_;
  std::vector<Watch> watches_;
};

// An inotify instance: the FD inotify_init1(2) returns.
class InotifyInstance final : public FileDescription, public std::enable_shared_from_this<InotifyInstance> {
 public:
  static Result<std::shared_ptr<InotifyInstance>> create(int flags);
  ~InotifyInstance() override;

  // inotify_add_watch(2) on `inode`: the watch descriptor (the same one
  // again for an inode already watched, or EEXIST with `must_be_new`,
  // IN_MASK_CREATE).
  Result<int> add_watch(const std::shared_ptr<Inode>& inode, uint32_t mask, bool must_be_new);
  Result<void> remove_watch(int wd);
  // Called by InodeWatches: appends an event, merging it with an identical
  // last one as Linux does, or IN_Q_OVERFLOW past the queue limit.
  void queue(int wd, uint32_t mask, uint32_t cookie, std::string_view name);
  // A watch ended (IN_IGNORED already queued by the caller): forget it.
  void forget(int wd);

  Result<size_t> read(std::span<const iovec> dst, int64_t offset) override;
  Result<struct stat> stat() override;
  Result<int64_t> ioctl(uint64_t cmd, uint64_t arg, UserMemory& mem) override;
  int host_poll_fd() const override { return ready_.get(); }

 private:
  InotifyInstance(UniqueFd ready, int flags) : FileDescription(O_RDONLY | flags), ready_(std::move(ready)) {}
  size_t pending_bytes_locked() const;

  struct Event {
    int wd;
    uint32_t mask;
    uint32_t cookie;
    std::string name;
  };
  // A host eventfd that is readable while events are queued, so that
  // poll, select and epoll see the instance's readiness.
  UniqueFd ready_;
  std::mutex mu_;
  std::deque<Event> events_;
  std::map<int, std::shared_ptr<Inode>> watches_;  // wd -> watched inode
  int next_wd_ = 1;
};

// Reports an event on `d` (to its own watches) and, with its name, to the
// watches of its parent directory, as fsnotify does.
void notify(const Dentry& d, uint32_t event, uint32_t cookie = 0);
// An event about the entry `name` of directory `dir` only (create, delete).
void notify_entry(const Dentry& dir, std::string_view name, uint32_t event, bool is_dir, uint32_t cookie = 0);
// An event for `d`'s own watches only (IN_ATTRIB on a link count change,
// IN_MOVE_SELF).
void notify_self(const Dentry& d, uint32_t event);
// `d` lost its last name: IN_DELETE_SELF to its watches, which end.
void notify_deleted(const Dentry& d);
// A fresh cookie tying IN_MOVED_FROM to its IN_MOVED_TO.
uint32_t next_move_cookie();

}  // namespace runsc::vfs
