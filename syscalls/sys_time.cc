// Time: clocks and sleeping. Clocks read the host's (through the vDSO, no
// host syscall); sleeps wait on the task's interrupt FD so signals end them.
#include <poll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "common/interrupt.h"
#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

bool valid_clock(int id) {
  switch (id) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
    case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM: case CLOCK_TAI:
      return true;
    default:
      return false;
  }
}

Result<timespec> read_clock(Task& t, int id) {
  if (!valid_clock(id)) return Err(EINVAL);
  // The CPU-time clocks: the application's host CPU time plus what its
  // Sentry threads spent (the process's, or the calling thread's).
  if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID) {
    const int64_t ns = id == CLOCK_PROCESS_CPUTIME_ID ? process_cpu_ns(t) : t.user_time_ns() + t.sys_time_ns();
    return timespec{ns / 1000000000, ns % 1000000000};
  }
  if (id == CLOCK_REALTIME_ALARM) id = CLOCK_REALTIME;
  if (id == CLOCK_BOOTTIME_ALARM) id = CLOCK_BOOTTIME;
  timespec ts;
  if (::clock_gettime(id, &ts) != 0) return ErrFromErrno();
  return ts;
}

Result<uint64_t> sys_clock_gettime(Task& t, const SyscallArgs& a) {
  auto ts = read_clock(t, a.i(0));
  if (!ts) return Err(ts.error());
  if (auto r = t.mm().copy_out(a.u(1), &*ts, sizeof(*ts)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_clock_getres(Task& t, const SyscallArgs& a) {
  if (!valid_clock(a.i(0))) return Err(EINVAL);
  if (a.u(1) == 0) return ok();
  timespec res{0, 1};
  if (a.i(0) == CLOCK_REALTIME_COARSE || a.i(0) == CLOCK_MONOTONIC_COARSE) res.tv_nsec = 4000000;
  if (auto r = t.mm().copy_out(a.u(1), &res, sizeof(res)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_gettimeofday(Task& t, const SyscallArgs& a) {
  if (a.u(0)) {
    timeval tv;
    ::gettimeofday(&tv, nullptr);
    if (auto r = t.mm().copy_out(a.u(0), &tv, sizeof(tv)); !r) return Err(r.error());
  }
  if (a.u(1)) {
    struct timezone tz {0, 0};
    if (auto r = t.mm().copy_out(a.u(1), &tz, sizeof(tz)); !r) return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_time(Task& t, const SyscallArgs& a) {
  time_t now = ::time(nullptr);
  if (a.u(0)) {
    if (auto r = t.mm().copy_out(a.u(0), &now, sizeof(now)); !r) return Err(r.error());
  }
  return static_cast<uint64_t>(now);
}

Result<uint64_t> do_nanosleep(Task& t, int clock, int flags, uint64_t req_addr, uint64_t rem_addr) {
  timespec req;
  if (auto r = t.mm().copy_in(req_addr, &req, sizeof(req)); !r) return Err(r.error());
  if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= 1000000000) return Err(EINVAL);
  if (clock == CLOCK_THREAD_CPUTIME_ID) return Err(EINVAL);
  if (!valid_clock(clock)) return Err(EINVAL);
  int host_clock = (clock == CLOCK_REALTIME || clock == CLOCK_TAI) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
  timespec now;
  ::clock_gettime(host_clock, &now);
  bool absolute = flags & TIMER_ABSTIME;
  int64_t deadline = absolute ? to_ns(req) : to_ns(now) + to_ns(req);
  // Restarted after an interruption no handler saw: sleep only what was
  // left, as Linux's restart_syscall(2) does for nanosleep.
  if (t.restarted_syscall() && t.sleep_deadline()) deadline = *t.sleep_deadline();
  t.sleep_deadline().reset();
  int64_t left = 0;
  if (sleep_until(host_clock, deadline, &left) == EINTR) {
    t.sleep_deadline() = deadline;
    if (!absolute && rem_addr) {
      timespec rem{left / 1000000000, left % 1000000000};
      (void)t.mm().copy_out(rem_addr, &rem, sizeof(rem));
    }
    return Err(EINTR);
  }
  return ok();
}

Result<uint64_t> sys_nanosleep(Task& t, const SyscallArgs& a) {
  return do_nanosleep(t, CLOCK_MONOTONIC, 0, a.u(0), a.u(1));
}
Result<uint64_t> sys_clock_nanosleep(Task& t, const SyscallArgs& a) {
  auto r = do_nanosleep(t, a.i(0), a.i(1), a.u(2), a.u(3));
  // clock_nanosleep returns the error number instead of setting errno, but
  // the raw syscall reports it as a negative value like the others.
  return r;
}

}  // namespace

int64_t to_ns(const timespec& ts) { return ts.tv_sec * 1000000000LL + ts.tv_nsec; }

// Sleeps until `clock` reaches `deadline_ns`. EINTR when interrupted, with
// the time left in *left_ns.
// Sleeps on the task's interrupt FD until the deadline; 0 when it passed,
// EINTR (with the time left) when the task was interrupted.
int sleep_until(int clock, int64_t deadline_ns, int64_t* left_ns) {
  for (;;) {
    timespec now;
    ::clock_gettime(clock, &now);
    int64_t left = deadline_ns - to_ns(now);
    if (left <= 0) return 0;
    // poll's millisecond timeout rounds up so we never wake early.
    int ms = static_cast<int>(std::min<int64_t>((left + 999999) / 1000000, 1 << 30));
    int e = wait_fd_or_interrupt(current_interrupt_fd(), POLLIN, ms);
    if (e == EINTR || e == 0) {
      *left_ns = left;
      return EINTR;
    }
  }
}

void register_time(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_clock_gettime, "clock_gettime", sys_clock_gettime, {A::kInt, A::kPtr});
  tb.set(SYS_clock_getres, "clock_getres", sys_clock_getres, {A::kInt, A::kPtr});
  tb.set(SYS_gettimeofday, "gettimeofday", sys_gettimeofday, {A::kPtr, A::kPtr});
  tb.set(SYS_time, "time", sys_time, {A::kPtr});
  tb.set(SYS_nanosleep, "nanosleep", sys_nanosleep, {A::kPtr, A::kPtr});
  tb.set(SYS_clock_nanosleep, "clock_nanosleep", sys_clock_nanosleep, {A::kInt, A::kHex, A::kPtr, A::kPtr});
}

}  // namespace runsc::syscalls
