// eventfd(2), eventfd2(2) and timerfd_create(2) with timerfd_settime(2)
// and timerfd_gettime(2). Both are host objects the Sentry holds, like
// pipes: the host kernel keeps the counter and the timer, and the
// application sees only our descriptors, which block interruptibly.
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "common/host_fds.h"
#include "syscalls/util.h"
#include "vfs/host_file.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

Result<uint64_t> install(Task& t, UniqueFd host, int status_flags, bool cloexec) {
  auto file = vfs::HostFileDescription::pipe_end(std::move(host), O_RDWR | status_flags);
  auto fd = t.fds().install(file, cloexec);
  if (!fd) return Err(fd.error());
  return static_cast<uint64_t>(*fd);
}

Result<uint64_t> do_eventfd(Task& t, uint32_t initval, int flags) {
  if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) return Err(EINVAL);
  UniqueFd host(::eventfd(initval, EFD_CLOEXEC | EFD_NONBLOCK | (flags & EFD_SEMAPHORE)));
  if (auto r = check_application_fd(host); !r) return Err(r.error());
  return install(t, std::move(host), (flags & EFD_NONBLOCK) ? O_NONBLOCK : 0, (flags & EFD_CLOEXEC) != 0);
}

Result<uint64_t> sys_eventfd(Task& t, const SyscallArgs& a) { return do_eventfd(t, static_cast<uint32_t>(a.u(0)), 0); }
Result<uint64_t> sys_eventfd2(Task& t, const SyscallArgs& a) {
  return do_eventfd(t, static_cast<uint32_t>(a.u(0)), a.i(1));
}

Result<uint64_t> sys_timerfd_create(Task& t, const SyscallArgs& a) {
  const int clock = a.i(0);
  const int flags = a.i(1);
  if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) return Err(EINVAL);
  if (clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) return Err(EPERM);  // CAP_WAKE_ALARM
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME) return Err(EINVAL);
  UniqueFd host(::timerfd_create(clock, TFD_CLOEXEC | TFD_NONBLOCK));
  if (auto r = check_application_fd(host); !r) return Err(r.error());
  return install(t, std::move(host), (flags & TFD_NONBLOCK) ? O_NONBLOCK : 0, (flags & TFD_CLOEXEC) != 0);
}

// The host timerfd behind an application FD: EBADF for no FD, EINVAL for
// an FD that is not a timerfd (timerfd_settime(2)).
Result<int> timerfd_host(Task& t, int fd) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  auto* host = dynamic_cast<vfs::HostFileDescription*>(f->get());
  if (!host || !host->is_timerfd()) return Err(EINVAL);
  return host->host_fd();
}

Result<uint64_t> sys_timerfd_settime(Task& t, const SyscallArgs& a) {
  auto host = timerfd_host(t, a.i(0));
  if (!host) return Err(host.error());
  itimerspec next, old{};
  if (auto r = t.mm().copy_in(a.u(2), &next, sizeof(next)); !r) return Err(r.error());
  if (::timerfd_settime(*host, a.i(1), &next, &old) != 0) return ErrFromErrno();
  if (a.u(3)) {
    if (auto r = t.mm().copy_out(a.u(3), &old, sizeof(old)); !r) return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_timerfd_gettime(Task& t, const SyscallArgs& a) {
  auto host = timerfd_host(t, a.i(0));
  if (!host) return Err(host.error());
  itimerspec now;
  if (::timerfd_gettime(*host, &now) != 0) return ErrFromErrno();
  if (auto r = t.mm().copy_out(a.u(1), &now, sizeof(now)); !r) return Err(r.error());
  return ok();
}

}  // namespace

void register_eventfd_timerfd(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_eventfd, "eventfd", sys_eventfd, {A::kInt});
  tb.set(SYS_eventfd2, "eventfd2", sys_eventfd2, {A::kInt, A::kHex});
  tb.set(SYS_timerfd_create, "timerfd_create", sys_timerfd_create, {A::kInt, A::kHex});
  tb.set(SYS_timerfd_settime, "timerfd_settime", sys_timerfd_settime, {A::kFd, A::kHex, A::kPtr, A::kPtr});
  tb.set(SYS_timerfd_gettime, "timerfd_gettime", sys_timerfd_gettime, {A::kFd, A::kPtr});
}

}  // namespace runsc::syscalls
