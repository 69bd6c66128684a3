#include "common/host_fds.h"
#include "vfs/inotify.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "common/interrupt.h"

namespace runsc::vfs {
namespace {

// /proc/sys/fs/inotify/max_queued_events's default.
constexpr size_t kMaxQueuedEvents = 16384;

// Set once any watch exists: until then reporting an event costs one load,
// which keeps read(2) and write(2) free of the dentry lookups below.
std::atomic<bool> any_watch{false};

size_t record_size(const std::string& name) {
  // struct inotify_event plus the name, NUL-padded to a multiple of the
  // struct's alignment (Linux pads names to 16 bytes... of its own choice;
  // any padding with a terminating NUL is valid per inotify(7)).
  if (name.empty()) return sizeof(inotify_event);
  return sizeof(inotify_event) + ((name.size() + 1 + 15) & ~size_t{15});
}

}  // namespace

void InodeWatches::notify(uint32_t event, uint32_t cookie, std::string_view name) {
  std::vector<std::pair<std::shared_ptr<InotifyInstance>, Watch>> targets;
  {
    std::lock_guard lock(mu_);
    const uint32_t kind = event & ~static_cast<uint32_t>(IN_ISDIR);
    for (auto it = watches_.begin(); it != watches_.end();) {
      auto instance = it->instance.lock();
      if (!instance) {
        it = watches_.erase(it);
        continue;
      }
      // Self events (IN_DELETE_SELF, IN_MOVE_SELF, IN_IGNORED) always
      // reach the watch's owner when asked for; IN_IGNORED always.
      if ((it->mask & kind) || kind == IN_IGNORED) targets.emplace_back(std::move(instance), *it);
      ++it;
    }
  }
  for (auto& [instance, watch] : targets) {
    instance->queue(watch.wd, event, cookie, name);
    if (watch.mask & IN_ONESHOT) {
      instance->queue(watch.wd, IN_IGNORED, 0, {});
      remove(instance.get(), watch.wd);
      instance->forget(watch.wd);
    }
  }
}

void InodeWatches::add_or_update(const std::shared_ptr<InotifyInstance>& instance, int wd, uint32_t mask, bool merge) {
  std::lock_guard lock(mu_);
  for (auto& w : watches_) {
    if (w.instance.lock() == instance && w.wd == wd) {
      w.mask = merge ? (w.mask | mask) : mask;
      return;
    }
  }
  watches_.push_back({instance, wd, mask});
  any_watch.store(true, std::memory_order_relaxed);
}

void InodeWatches::remove(const InotifyInstance* instance, int wd) {
  std::lock_guard lock(mu_);
  std::erase_if(watches_, [&](const Watch& w) { return w.wd == wd && w.instance.lock().get() == instance; });
}

void InodeWatches::end_all() {
  std::vector<Watch> ending;
  {
    std::lock_guard lock(mu_);
    ending.swap(watches_);
  }
  for (const Watch& w : ending) {
    auto instance = w.instance.lock();
    if (!instance) continue;
    if (w.mask & IN_DELETE_SELF) instance->queue(w.wd, IN_DELETE_SELF, 0, {});
    instance->queue(w.wd, IN_IGNORED, 0, {});
    instance->forget(w.wd);
  }
}

bool InodeWatches::empty() {
  std::lock_guard lock(mu_);
  return watches_.empty();
}

Result<std::shared_ptr<InotifyInstance>> InotifyInstance::create(int flags) {
  UniqueFd ready(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (auto r = check_application_fd(ready); !r) return Err(r.error());
  return std::shared_ptr<InotifyInstance>(new InotifyInstance(std::move(ready), flags & O_NONBLOCK));
}

InotifyInstance::~InotifyInstance() {
  for (auto& [wd, inode] : watches_) {
    if (auto* w = inode->existing_watches()) w->remove(this, wd);
  }
}

Result<int> InotifyInstance::add_watch(const std::shared_ptr<Inode>& inode, uint32_t mask, bool must_be_new) {
  std::unique_lock lock(mu_);
  int wd = 0;
  for (const auto& [existing_wd, watched] : watches_) {
    if (watched == inode) wd = existing_wd;
  }
  if (wd != 0 && must_be_new) return Err(EEXIST);
  if (wd == 0) {
    wd = next_wd_++;
    watches_[wd] = inode;
  }
  lock.unlock();
  // IN_MASK_ADD ORs into the existing mask instead of replacing it.
  inode->watches().add_or_update(shared_from_this(), wd, mask & ~static_cast<uint32_t>(IN_MASK_ADD),
                                 (mask & IN_MASK_ADD) != 0);
  return wd;
}

Result<void> InotifyInstance::remove_watch(int wd) {
  std::shared_ptr<Inode> inode;
  {
    std::lock_guard lock(mu_);
    auto it = watches_.find(wd);
    if (it == watches_.end()) return Err(EINVAL);
    inode = std::move(it->second);
    watches_.erase(it);
  }
  if (auto* w = inode->existing_watches()) w->remove(this, wd);
  queue(wd, IN_IGNORED, 0, {});
  return {};
}

void InotifyInstance::forget(int wd) {
  std::lock_guard lock(mu_);
  watches_.erase(wd);
}

void InotifyInstance::queue(int wd, uint32_t mask, uint32_t cookie, std::string_view name) {
  std::lock_guard lock(mu_);
  // inotify(7): a new event identical to the last unread one is dropped.
  if (!events_.empty()) {
    const Event& last = events_.back();
    if (last.wd == wd && last.mask == mask && last.cookie == cookie && last.name == name) return;
  }
  if (events_.size() >= kMaxQueuedEvents) {
    if (events_.back().mask != IN_Q_OVERFLOW) events_.push_back({-1, IN_Q_OVERFLOW, 0, {}});
  } else {
    events_.push_back({wd, mask, cookie, std::string(name)});
  }
  const uint64_t one = 1;
  (void)!::write(ready_.get(), &one, sizeof(one));
}

size_t InotifyInstance::pending_bytes_locked() const {
  size_t total = 0;
  for (const Event& e : events_) total += record_size(e.name);
  return total;
}

Result<size_t> InotifyInstance::read(std::span<const iovec> dst, int64_t) {
  size_t capacity = 0;
  for (const iovec& v : dst) capacity += v.iov_len;
  std::vector<uint8_t> out;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (!events_.empty()) {
        // Whole events only; EINVAL if even the first does not fit.
        if (record_size(events_.front().name) > capacity) return Err(EINVAL);
        while (!events_.empty() && out.size() + record_size(events_.front().name) <= capacity) {
          const Event& e = events_.front();
          const size_t size = record_size(e.name);
          const size_t at = out.size();
          out.resize(at + size, 0);
          inotify_event header{};
          header.wd = e.wd;
          header.mask = e.mask;
          header.cookie = e.cookie;
          header.len = static_cast<uint32_t>(size - sizeof(inotify_event));
          std::memcpy(out.data() + at, &header, sizeof(header));
          std::memcpy(out.data() + at + sizeof(header), e.name.data(), e.name.size());
          events_.pop_front();
        }
        if (events_.empty()) {
          uint64_t drained;
          (void)!::read(ready_.get(), &drained, sizeof(drained));
        }
        break;
      }
      if (flags_ & O_NONBLOCK) return Err(EAGAIN);
    }
    if (int e = wait_fd_or_interrupt(ready_.get(), POLLIN); e != 0) return Err(e);
  }
  size_t copied = 0;
  for (const iovec& v : dst) {
    const size_t n = std::min(v.iov_len, out.size() - copied);
    std::memcpy(v.iov_base, out.data() + copied, n);
    copied += n;
    if (copied == out.size()) break;
  }
  return copied;
}

Result<struct stat> InotifyInstance::stat() {
  struct stat st {};
  st.st_mode = 0600;  // an anonymous inode, as Linux's anon_inodefs gives
  st.st_blksize = 4096;
  return st;
}

Result<int64_t> InotifyInstance::ioctl(uint64_t cmd, uint64_t arg, UserMemory& mem) {
  if (cmd != FIONREAD) return Err(EINVAL);
  int pending;
  {
    std::lock_guard lock(mu_);
    pending = static_cast<int>(pending_bytes_locked());
  }
  if (auto r = mem.copy_out(arg, &pending, sizeof(pending)); !r) return Err(r.error());
  return 0;
}

void notify(const Dentry& d, uint32_t event, uint32_t cookie) {
  if (!any_watch.load(std::memory_order_relaxed)) return;
  const uint32_t dir_bit = d.is_dir() ? IN_ISDIR : 0;
  if (auto* own = d.inode().existing_watches()) own->notify(event | dir_bit, cookie, {});
  if (auto parent = d.parent()) {
    if (auto* w = parent->inode().existing_watches()) w->notify(event | dir_bit, cookie, d.name());
  }
}

void notify_entry(const Dentry& dir, std::string_view name, uint32_t event, bool is_dir, uint32_t cookie) {
  if (!any_watch.load(std::memory_order_relaxed)) return;
  if (auto* w = dir.inode().existing_watches()) w->notify(event | (is_dir ? IN_ISDIR : 0), cookie, name);
}

void notify_self(const Dentry& d, uint32_t event) {
  if (!any_watch.load(std::memory_order_relaxed)) return;
  if (auto* own = d.inode().existing_watches()) own->notify(event | (d.is_dir() ? IN_ISDIR : 0), 0, {});
}

void notify_deleted(const Dentry& d) {
  if (!any_watch.load(std::memory_order_relaxed)) return;
  if (auto* own = d.inode().existing_watches()) own->end_all();
}

uint32_t next_move_cookie() {
  static std::atomic<uint32_t> cookie{1};
  return cookie++;
}

}  // namespace runsc::vfs
