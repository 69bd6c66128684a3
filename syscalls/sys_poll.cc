// poll(2), ppoll(2), select(2), pselect6(2). Files backed by a host FD
// (pipes, the caller's terminal) are polled on the host together with the
// task's interrupt FD; files that never block are ready at once.
#include <poll.h>
#include <sys/select.h>
#include <sys/syscall.h>

#include <algorithm>
#include <vector>

#include "sentry/kernel/timers.h"
#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

constexpr int64_t kForever = -1;


// Fills `revents` of every entry; returns how many have any. Waits until
// one is ready, the deadline (CLOCK_MONOTONIC ns; kForever: none) passes,
// or the task is interrupted (EINTR).
Result<int> poll_files(Task& t, std::vector<pollfd>& entries, int64_t deadline) {
  std::vector<std::shared_ptr<vfs::FileDescription>> files(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].fd >= 0) files[i] = t.fds().get(entries[i].fd);
  }
  constexpr short kAlways = POLLERR | POLLHUP | POLLNVAL;
  std::vector<std::shared_ptr<vfs::FileDescription>> sentry_files;
  for (const auto& f : files) {
    if (f && f->host_poll_fd() < 0 && f->sentry_pollable()) sentry_files.push_back(f);
  }
  PollWakeRegistration registration(t.wake_fd(), std::move(sentry_files));
  for (;;) {
    int ready = 0;
    std::vector<pollfd> host;
    std::vector<size_t> host_index;
    for (size_t i = 0; i < entries.size(); ++i) {
      pollfd& e = entries[i];
      e.revents = 0;
      if (e.fd < 0) continue;
      if (!files[i]) {
        e.revents = POLLNVAL;
      } else if (int fd = files[i]->host_poll_fd(); fd >= 0) {
        host.push_back({fd, e.events, 0});
        host_index.push_back(i);
      } else {
        e.revents = files[i]->readiness(e.events);
      }
      if (e.revents) ++ready;
    }
    // With something ready already, only look at the host FDs, do not wait.
    int timeout_ms = 0;
    if (ready == 0 && deadline != 0) {
      if (deadline == kForever) {
        timeout_ms = -1;
      } else {
        int64_t left = deadline - kernel::monotonic_now_ns();
        timeout_ms = left <= 0 ? 0 : static_cast<int>(std::min<int64_t>((left + 999999) / 1000000, 1 << 30));
      }
    }
    host.push_back({t.wake_fd(), POLLIN, 0});  // readiness of Sentry files may have changed
    host.push_back({t.interrupt_fd(), POLLIN, 0});
    int n = ::poll(host.data(), host.size(), timeout_ms);
    if (host[host.size() - 2].revents & POLLIN) {
      uint64_t drained;
      (void)!::read(t.wake_fd(), &drained, sizeof(drained));
    }
    if (n < 0 && errno != EINTR) return ErrFromErrno();
    for (size_t h = 0; n > 0 && h < host_index.size(); ++h) {
      pollfd& e = entries[host_index[h]];
      e.revents = host[h].revents & (e.events | kAlways);
      if (e.revents) ++ready;
    }
    if (ready > 0) return ready;
    if (host.back().revents & POLLIN) return Err(EINTR);
    if (deadline != kForever && kernel::monotonic_now_ns() >= deadline) return 0;
  }
}

Result<int64_t> deadline_from_timespec(Task& t, uint64_t addr) {
  if (addr == 0) return kForever;
  timespec ts;
  if (auto r = t.mm().copy_in(addr, &ts, sizeof(ts)); !r) return Err(r.error());
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Err(EINVAL);
  if (ts.tv_sec == 0 && ts.tv_nsec == 0) return 0;
  return kernel::monotonic_now_ns() + to_ns(ts);
}

// ppoll and pselect6 write back the time left (Linux's poll_select_finish()).
void write_time_left(Task& t, uint64_t addr, int64_t deadline, bool as_timeval) {
  if (addr == 0 || deadline == kForever || deadline == 0) return;
  int64_t left = std::max<int64_t>(0, deadline - kernel::monotonic_now_ns());
  if (as_timeval) {
    timeval tv{left / 1000000000, (left % 1000000000) / 1000};
    (void)t.mm().copy_out(addr, &tv, sizeof(tv));
  } else {
    timespec ts{left / 1000000000, left % 1000000000};
    (void)t.mm().copy_out(addr, &ts, sizeof(ts));
  }
}

// A temporary signal mask for the wait (ppoll, pselect6): if the wait
// ends with EINTR the handler's frame restores the old mask after the
// handler ran; otherwise it comes back at once.
class ScopedMask {
 public:
  ScopedMask(Task& t, std::optional<uint64_t> mask) : t_(t), active_(mask.has_value()) {
    if (active_) t_.set_temporary_mask(*mask);
  }
  void interrupted() { active_ = false; }
  ~ScopedMask() {
    if (active_) t_.restore_temporary_mask();
  }

 private:
  Task& t_;
  bool active_;
};

Result<uint64_t> do_poll(Task& t, uint64_t fds_addr, uint64_t nfds, int64_t deadline, std::optional<uint64_t> mask) {
  if (nfds > static_cast<uint64_t>(t.rlimits()[RLIMIT_NOFILE].rlim_cur)) return Err(EINVAL);
  std::vector<pollfd> entries(nfds);
  if (nfds) {
    if (auto r = t.mm().copy_in(fds_addr, entries.data(), nfds * sizeof(pollfd)); !r) return Err(r.error());
  }
  ScopedMask scoped(t, mask);
  auto ready = poll_files(t, entries, deadline);
  if (!ready) {
    if (ready.error() == EINTR) scoped.interrupted();
    return Err(ready.error());
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    // Only revents is written back (poll(2) leaves fd and events alone).
    const uint64_t at = fds_addr + i * sizeof(pollfd) + offsetof(pollfd, revents);
    if (auto r = t.mm().copy_out(at, &entries[i].revents, sizeof(short)); !r) return Err(r.error());
  }
  return static_cast<uint64_t>(*ready);
}

Result<uint64_t> sys_poll(Task& t, const SyscallArgs& a) {
  const int timeout_ms = a.i(2);
  int64_t deadline = timeout_ms < 0 ? kForever : (timeout_ms == 0 ? 0 : kernel::monotonic_now_ns() + int64_t{timeout_ms} * 1000000);
  return do_poll(t, a.u(0), a.u(1), deadline, std::nullopt);
}

Result<uint64_t> sys_ppoll(Task& t, const SyscallArgs& a) {
  auto deadline = deadline_from_timespec(t, a.u(2));
  if (!deadline) return Err(deadline.error());
  auto mask = sigmask_arg(t, a.u(3), a.u(4));
  if (!mask) return Err(mask.error());
  auto r = do_poll(t, a.u(0), a.u(1), *deadline, *mask);
  write_time_left(t, a.u(2), *deadline, false);
  return r;
}

// select(2)'s three fd_sets become poll entries, and back.
Result<uint64_t> do_select(Task& t, int nfds, uint64_t rd, uint64_t wr, uint64_t ex, int64_t deadline,
                           std::optional<uint64_t> mask) {
  if (nfds < 0 || static_cast<rlim_t>(nfds) > t.rlimits()[RLIMIT_NOFILE].rlim_cur) return Err(EINVAL);
  const size_t bytes = (static_cast<size_t>(nfds) + 63) / 64 * 8;
  std::vector<uint64_t> in[3];
  const uint64_t addrs[3] = {rd, wr, ex};
  for (int s = 0; s < 3; ++s) {
    in[s].assign(bytes / 8, 0);
    if (addrs[s] && bytes) {
      if (auto r = t.mm().copy_in(addrs[s], in[s].data(), bytes); !r) return Err(r.error());
    }
  }
  constexpr short kRead = POLLIN | POLLRDNORM | POLLHUP | POLLERR;
  constexpr short kWrite = POLLOUT | POLLWRNORM | POLLERR;
  constexpr short kExcept = POLLPRI;
  std::vector<pollfd> entries;
  for (int fd = 0; fd < nfds; ++fd) {
    const uint64_t bit = 1ULL << (fd % 64);
    short events = 0;
    if (in[0][fd / 64] & bit) events |= POLLIN;
    if (in[1][fd / 64] & bit) events |= POLLOUT;
    if (in[2][fd / 64] & bit) events |= POLLPRI;
    if (!events) continue;
    if (!t.fds().get(fd)) return Err(EBADF);
    entries.push_back({fd, events, 0});
  }
  ScopedMask scoped(t, mask);
  auto ready = poll_files(t, entries, deadline);
  if (!ready) {
    if (ready.error() == EINTR) scoped.interrupted();
    return Err(ready.error());
  }
  std::vector<uint64_t> out[3];
  for (auto& o : out) o.assign(bytes / 8, 0);
  int count = 0;
  for (const auto& e : entries) {
    const uint64_t bit = 1ULL << (e.fd % 64);
    const size_t word = static_cast<size_t>(e.fd / 64);
    if ((e.events & POLLIN) && (e.revents & kRead)) out[0][word] |= bit, ++count;
    if ((e.events & POLLOUT) && (e.revents & kWrite)) out[1][word] |= bit, ++count;
    if ((e.events & POLLPRI) && (e.revents & kExcept)) out[2][word] |= bit, ++count;
  }
  for (int s = 0; s < 3; ++s) {
    if (addrs[s] && bytes) {
      if (auto r = t.mm().copy_out(addrs[s], out[s].data(), bytes); !r) return Err(r.error());
    }
  }
  return static_cast<uint64_t>(count);
}

Result<uint64_t> sys_select(Task& t, const SyscallArgs& a) {
  int64_t deadline = kForever;
  if (a.u(4)) {
    timeval tv;
    if (auto r = t.mm().copy_in(a.u(4), &tv, sizeof(tv)); !r) return Err(r.error());
    if (tv.tv_sec < 0 || tv.tv_usec < 0) return Err(EINVAL);
    // select(2) normalises large tv_usec values rather than failing.
    const int64_t ns = tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
    deadline = ns == 0 ? 0 : kernel::monotonic_now_ns() + ns;
  }
  auto r = do_select(t, a.i(0), a.u(1), a.u(2), a.u(3), deadline, std::nullopt);
  write_time_left(t, a.u(4), deadline, true);
  return r;
}

Result<uint64_t> sys_pselect6(Task& t, const SyscallArgs& a) {
  auto deadline = deadline_from_timespec(t, a.u(4));
  if (!deadline) return Err(deadline.error());
  std::optional<uint64_t> mask;
  if (a.u(5)) {
    // The sixth argument points at {const sigset_t *ss; size_t ss_len}.
    uint64_t pair[2];
    if (auto r = t.mm().copy_in(a.u(5), pair, sizeof(pair)); !r) return Err(r.error());
    auto m = sigmask_arg(t, pair[0], pair[1]);
    if (!m) return Err(m.error());
    mask = *m;
  }
  auto r = do_select(t, a.i(0), a.u(1), a.u(2), a.u(3), *deadline, mask);
  write_time_left(t, a.u(4), *deadline, false);
  return r;
}

}  // namespace

void register_poll(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_poll, "poll", sys_poll, {A::kPtr, A::kInt, A::kInt});
  tb.set(SYS_ppoll, "ppoll", sys_ppoll, {A::kPtr, A::kInt, A::kPtr, A::kPtr, A::kInt});
  tb.set(SYS_select, "select", sys_select, {A::kInt, A::kPtr, A::kPtr, A::kPtr, A::kPtr});
  tb.set(SYS_pselect6, "pselect6", sys_pselect6, {A::kInt, A::kPtr, A::kPtr, A::kPtr, A::kPtr, A::kPtr});
}

}  // namespace runsc::syscalls
