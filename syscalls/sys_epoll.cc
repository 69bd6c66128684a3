// epoll(7): epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.
// The interest list is a host epoll instance over the host FDs behind the
// application's files (pipes, eventfds, timerfds, the caller's terminal),
// so level and edge triggering, EPOLLONESHOT and EPOLLEXCLUSIVE are the
// host kernel's. The event's data word is stored as given and comes back
// unchanged. Files that never block (regular files) cannot be added
// (EPERM), as on Linux.
#include <sys/epoll.h>
#include <sys/syscall.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "common/host_fds.h"
#include "sentry/kernel/timers.h"
#include "syscalls/util.h"
#include "vfs/host_file.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

class EpollDescription final : public vfs::FileDescription {
 public:
  // A watched file with no host FD (signalfd): its readiness is asked of
  // the file at each wait, level-triggered.
  struct SentryMember {
    std::weak_ptr<vfs::FileDescription> file;
    epoll_event event{};
    bool disabled = false;  // EPOLLONESHOT fired
    // EPOLLET: the file's poll_changes() when last reported; an event is
    // reported again only after another change.
    uint64_t reported_changes = ~uint64_t{0};
  };

  explicit EpollDescription(UniqueFd fd) : FileDescription(O_RDWR), fd_(std::move(fd)) {}
  int host_fd() const { return fd_.get(); }
  std::mutex& members_mutex() { return mu_; }
  std::map<vfs::FileDescription*, SentryMember>& sentry_members() { return sentry_members_; }
  int host_poll_fd() const override { return fd_.get(); }
  Result<struct stat> stat() override {
    struct stat st{};
    st.st_mode = 0600;  // an anonymous inode, as Linux's [eventpoll]
    st.st_nlink = 1;
    return st;
  }

 private:
  UniqueFd fd_;
  std::mutex mu_;
  std::map<vfs::FileDescription*, SentryMember> sentry_members_;
};

// The ready Sentry members' events, up to `max` (EPOLLONESHOT ones are
// disabled as they are reported).
std::vector<epoll_event> sentry_ready(EpollDescription& ep, size_t max) {
  std::vector<epoll_event> out;
  std::lock_guard lock(ep.members_mutex());
  for (auto it = ep.sentry_members().begin(); it != ep.sentry_members().end() && out.size() < max;) {
    auto file = it->second.file.lock();
    if (!file) {
      it = ep.sentry_members().erase(it);  // closed: epoll(7) forgets it
      continue;
    }
    EpollDescription::SentryMember& m = it->second;
    const uint64_t changes = file->poll_changes();
    const bool edge_seen = (m.event.events & EPOLLET) && changes == m.reported_changes;
    const short ready = (m.disabled || edge_seen) ? 0 : file->readiness(static_cast<short>(m.event.events));
    if (ready) {
      out.push_back({static_cast<uint32_t>(ready), m.event.data});
      if (m.event.events & EPOLLONESHOT) m.disabled = true;
      m.reported_changes = changes;
    }
    ++it;
  }
  return out;
}

Result<uint64_t> sys_epoll_create1(Task& t, const SyscallArgs& a) {
  if (a.i(0) & ~EPOLL_CLOEXEC) return Err(EINVAL);
  UniqueFd host(::epoll_create1(EPOLL_CLOEXEC));
  if (auto r = check_application_fd(host); !r) return Err(r.error());
  auto fd = t.fds().install(std::make_shared<EpollDescription>(std::move(host)), (a.i(0) & EPOLL_CLOEXEC) != 0);
  if (!fd) return Err(fd.error());
  return static_cast<uint64_t>(*fd);
}

Result<uint64_t> sys_epoll_create(Task& t, const SyscallArgs& a) {
  if (a.i(0) <= 0) return Err(EINVAL);
  return sys_epoll_create1(t, SyscallArgs{{0, 0, 0, 0, 0, 0}});
}

Result<EpollDescription*> epoll_of(Task& t, int fd, std::shared_ptr<vfs::FileDescription>& keep) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  keep = *f;
  auto* ep = dynamic_cast<EpollDescription*>(keep.get());
  if (!ep) return Err(EINVAL);
  return ep;
}

Result<uint64_t> sys_epoll_ctl(Task& t, const SyscallArgs& a) {
  std::shared_ptr<vfs::FileDescription> keep_ep;
  auto ep = epoll_of(t, a.i(0), keep_ep);
  auto target = get_file(t, a.i(2));
  if (!ep && ep.error() == EBADF) return Err(EBADF);
  if (!target) return Err(target.error());
  if (!ep) return Err(EINVAL);
  if (target->get() == keep_ep.get()) return Err(EINVAL);  // itself
  const int op = a.i(1);
  epoll_event ev{};
  if (op != EPOLL_CTL_DEL) {
    if (auto r = t.mm().copy_in(a.u(3), &ev, sizeof(ev)); !r) return Err(r.error());
  }
  const int host = (*target)->host_poll_fd();
  if (host < 0 && (*target)->sentry_pollable()) {
    std::lock_guard lock((*ep)->members_mutex());
    auto& members = (*ep)->sentry_members();
    auto it = members.find(target->get());
    const bool present = it != members.end() && !it->second.file.expired();
    switch (op) {
      case EPOLL_CTL_ADD:
        if (present) return Err(EEXIST);
        members[target->get()] = {*target, ev, false, ~uint64_t{0}};
        return ok();
      case EPOLL_CTL_MOD:
        if (!present) return Err(ENOENT);
        it->second.event = ev;
        it->second.disabled = false;
        it->second.reported_changes = ~uint64_t{0};
        return ok();
      case EPOLL_CTL_DEL:
        if (!present) return Err(ENOENT);
        members.erase(it);
        return ok();
      default:
        return Err(EINVAL);
    }
  }
  if (host < 0) return Err(EPERM);  // files that are always ready
  if (::epoll_ctl((*ep)->host_fd(), op, host, op == EPOLL_CTL_DEL ? nullptr : &ev) != 0) return ErrFromErrno();
  return ok();
}


// Waits (deadline: CLOCK_MONOTONIC ns, -1 none, 0 poll) for events, and
// copies them out. EINTR when the task is interrupted.
Result<uint64_t> do_epoll_wait(Task& t, int epfd, uint64_t events_addr, int max, int64_t deadline,
                               std::optional<uint64_t> mask) {
  if (max <= 0 || static_cast<size_t>(max) > INT32_MAX / sizeof(epoll_event)) return Err(EINVAL);
  std::shared_ptr<vfs::FileDescription> keep;
  auto ep = epoll_of(t, epfd, keep);
  if (!ep) return Err(ep.error());
  if (mask) t.set_temporary_mask(*mask);
  std::vector<std::shared_ptr<vfs::FileDescription>> members;
  {
    std::lock_guard lock((*ep)->members_mutex());
    for (const auto& [key, m] : (*ep)->sentry_members()) {
      if (auto f = m.file.lock()) members.push_back(std::move(f));
    }
  }
  PollWakeRegistration registration(t.wake_fd(), std::move(members));
  std::vector<epoll_event> events(static_cast<size_t>(std::min(max, 1024)));
  for (;;) {
    // The Sentry's own members first, then the host's, into one list.
    std::vector<epoll_event> sentry = sentry_ready(**ep, events.size());
    std::copy(sentry.begin(), sentry.end(), events.begin());
    int n = static_cast<int>(sentry.size());
    if (static_cast<size_t>(n) < events.size()) {
      int host = ::epoll_wait((*ep)->host_fd(), events.data() + n, static_cast<int>(events.size()) - n, 0);
      if (host < 0 && errno != EINTR) return ErrFromErrno();
      if (host > 0) n += host;
    }
    if (n > 0) {
      if (mask) t.restore_temporary_mask();
      if (auto r = t.mm().copy_out(events_addr, events.data(), static_cast<size_t>(n) * sizeof(epoll_event)); !r)
        return Err(r.error());
      return static_cast<uint64_t>(n);
    }
    int timeout_ms = -1;
    if (deadline == 0) {
      timeout_ms = 0;
    } else if (deadline > 0) {
      const int64_t left = deadline - kernel::monotonic_now_ns();
      timeout_ms = left <= 0 ? 0 : static_cast<int>(std::min<int64_t>((left + 999999) / 1000000, 1 << 30));
    }
    if (timeout_ms == 0) {
      if (mask) t.restore_temporary_mask();
      return ok(0);
    }
    // The task's wake FD too: a Sentry member's readiness may change
    // (a signal the signalfd reports arrives).
    pollfd fds[3] = {{(*ep)->host_fd(), POLLIN, 0}, {t.interrupt_fd(), POLLIN, 0}, {t.wake_fd(), POLLIN, 0}};
    int r = ::poll(fds, 3, timeout_ms);
    if (r < 0 && errno != EINTR) return ErrFromErrno();
    if (fds[2].revents & POLLIN) {
      uint64_t drained;
      (void)!::read(t.wake_fd(), &drained, sizeof(drained));
    }
    // With a temporary mask the handler's frame restores the old one.
    if (fds[1].revents & POLLIN) return Err(EINTR);
  }
}

Result<uint64_t> sys_epoll_wait(Task& t, const SyscallArgs& a) {
  const int timeout = a.i(3);
  const int64_t deadline = timeout < 0 ? -1 : (timeout == 0 ? 0 : kernel::monotonic_now_ns() + int64_t{timeout} * 1000000);
  return do_epoll_wait(t, a.i(0), a.u(1), a.i(2), deadline, std::nullopt);
}

Result<uint64_t> sys_epoll_pwait(Task& t, const SyscallArgs& a) {
  auto mask = sigmask_arg(t, a.u(4), a.u(5));
  if (!mask) return Err(mask.error());
  const int timeout = a.i(3);
  const int64_t deadline = timeout < 0 ? -1 : (timeout == 0 ? 0 : kernel::monotonic_now_ns() + int64_t{timeout} * 1000000);
  return do_epoll_wait(t, a.i(0), a.u(1), a.i(2), deadline, *mask);
}

Result<uint64_t> sys_epoll_pwait2(Task& t, const SyscallArgs& a) {
  auto mask = sigmask_arg(t, a.u(4), a.u(5));
  if (!mask) return Err(mask.error());
  int64_t deadline = -1;
  if (a.u(3)) {
    timespec ts;
    if (auto r = t.mm().copy_in(a.u(3), &ts, sizeof(ts)); !r) return Err(r.error());
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Err(EINVAL);
    deadline = to_ns(ts) == 0 ? 0 : kernel::monotonic_now_ns() + to_ns(ts);
  }
  return do_epoll_wait(t, a.i(0), a.u(1), a.i(2), deadline, *mask);
}

}  // namespace

void register_epoll(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_epoll_create, "epoll_create", sys_epoll_create, {A::kInt});
  tb.set(SYS_epoll_create1, "epoll_create1", sys_epoll_create1, {A::kHex});
  tb.set(SYS_epoll_ctl, "epoll_ctl", sys_epoll_ctl, {A::kFd, A::kInt, A::kFd, A::kPtr});
  tb.set(SYS_epoll_wait, "epoll_wait", sys_epoll_wait, {A::kFd, A::kPtr, A::kInt, A::kInt});
  tb.set(SYS_epoll_pwait, "epoll_pwait", sys_epoll_pwait, {A::kFd, A::kPtr, A::kInt, A::kInt, A::kPtr, A::kInt});
  tb.set(SYS_epoll_pwait2, "epoll_pwait2", sys_epoll_pwait2, {A::kFd, A::kPtr, A::kInt, A::kPtr, A::kPtr, A::kInt});
}

}  // namespace runsc::syscalls
