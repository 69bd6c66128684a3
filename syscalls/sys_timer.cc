// Timers: alarm(2), setitimer(2)/getitimer(2), the POSIX timers of
// timer_create(2), and the accounting calls times(2) and getrusage(2).
// Timers run on the kernel's TimerService and send their signal to the
// process (or, with SIGEV_THREAD_ID, to one thread) when they expire.
// ITIMER_VIRTUAL and ITIMER_PROF count the process's CPU time (user, and
// user plus system): their deadlines are CPU-clock values, checked at wall
// times no later than the CPU clock could reach them.
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>

#include <sched.h>

#include "common/cpus.h"
#include "common/log.h"
#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;
using kernel::ThreadGroup;
using Timer = ThreadGroup::Timer;

constexpr int kItimerSignals[3] = {SIGALRM, SIGVTALRM, SIGPROF};
constexpr int kItimerBase = 1 << 20;  // timer keys for itimers; POSIX timer ids are below

int64_t tv_ns(const timeval& tv) { return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; }
timeval ns_tv(int64_t ns) { return timeval{ns / 1000000000, (ns % 1000000000) / 1000}; }
timespec ns_ts(int64_t ns) { return timespec{ns / 1000000000, ns % 1000000000}; }

bool is_cpu_itimer(int key) { return key == kItimerBase + ITIMER_VIRTUAL || key == kItimerBase + ITIMER_PROF; }

// The process's CPU time as ITIMER_VIRTUAL (user) or ITIMER_PROF (user +
// system) counts it: the exited threads' and the live ones' (as
// process_times() reads them, but from any thread).
int64_t group_cpu_ns(kernel::Kernel& k, ThreadGroup& g, bool with_system) {
  std::vector<std::shared_ptr<Task>> live;
  int64_t user = 0, user_max = 0, sys = 0;
  {
    std::lock_guard lock(k.tree_mutex());
    user = g.dead_user_ns;
    user_max = g.departed_user_ns;
    sys = g.dead_sys_ns;
    for (const auto& w : g.tasks) {
      if (auto task = w.lock()) live.push_back(std::move(task));
    }
  }
  for (auto& task : live) {
    user_max = std::max(user_max, task->user_time_ns());
    sys += task->sys_time_ns();
  }
  return user + user_max + (with_system ? sys : 0);
}

// When to look again at a CPU-time deadline `left` ns away: the process's
// threads together advance its CPU clock by at most the number of CPUs
// times the wall time.
int64_t cpu_check_after(int64_t left) {
  const int64_t cpus = sandbox_cpu_count();
  return std::max<int64_t>(left / cpus, 1000000);
}

Timer* find_timer_locked(ThreadGroup& g, int key) {
  if (key >= kItimerBase) return &g.itimers[key - kItimerBase];
  auto it = g.posix_timers.find(key);
  return it == g.posix_timers.end() ? nullptr : &it->second;
}

void arm_locked(kernel::Kernel& k, const std::shared_ptr<ThreadGroup>& g, Timer& tm, int key, int64_t when_ns);

// The TimerService callback: sends the signal and re-arms a periodic timer.
void fire(kernel::Kernel& k, const std::weak_ptr<ThreadGroup>& weak, int key, uint64_t generation) {
  auto g = weak.lock();
  log::debug("timer {} fires (process {})", key, g ? g->pid : 0);
  if (!g) return;
  siginfo_t info{};
  int target_tid = 0;
  {
    std::lock_guard lock(g->timers_mu);
    Timer* tm = find_timer_locked(*g, key);
    if (!tm || tm->generation != generation || tm->deadline_ns == 0) return;
    if (is_cpu_itimer(key)) {
      // A CPU-time deadline: not reached yet means look again later.
      const int64_t cpu = group_cpu_ns(k, *g, key == kItimerBase + ITIMER_PROF);
      if (cpu < tm->deadline_ns) {
        arm_locked(k, g, *tm, key, kernel::monotonic_now_ns() + cpu_check_after(tm->deadline_ns - cpu));
        return;
      }
      if (tm->interval_ns > 0) {
        int64_t next = tm->deadline_ns + tm->interval_ns;
        while (next <= cpu) next += tm->interval_ns;
        tm->deadline_ns = next;
        arm_locked(k, g, *tm, key, kernel::monotonic_now_ns() + cpu_check_after(next - cpu));
      } else {
        tm->deadline_ns = 0;
      }
    } else if (tm->interval_ns > 0) {
      // Expirations missed while the signal was on its way are overruns.
      const int64_t now = kernel::monotonic_now_ns();
      int64_t next = tm->deadline_ns + tm->interval_ns;
      int missed = 0;
      while (next <= now) {
        next += tm->interval_ns;
        ++missed;
      }
      tm->overrun = missed;
      tm->deadline_ns = next;
      arm_locked(k, g, *tm, key, tm->deadline_ns);
    } else {
      tm->deadline_ns = 0;
    }
    if (tm->notify == SIGEV_NONE) return;
    info.si_signo = tm->signo;
    if (key >= kItimerBase) {
      info.si_code = SI_KERNEL;
    } else {
      info.si_code = SI_TIMER;
      info.si_timerid = key;
      info.si_overrun = tm->overrun;
      info.si_value.sival_ptr = reinterpret_cast<void*>(tm->value);
    }
    target_tid = tm->notify == SIGEV_THREAD_ID ? tm->target_tid : 0;
  }
  if (target_tid) {
    std::shared_ptr<Task> target;
    {
      std::lock_guard lock(k.tree_mutex());
      target = k.find_task_locked(target_tid);
    }
    if (target) target->send_signal(info);
    return;
  }
  kernel::send_group_signal(k, *g, info);
}

// Schedules fire() at wall (monotonic) time `when_ns`: the deadline for
// wall-clock timers, the next look at the CPU clock for CPU-time ones.
void arm_locked(kernel::Kernel& k, const std::shared_ptr<ThreadGroup>& g, Timer& tm, int key, int64_t when_ns) {
  const uint64_t generation = tm.generation;
  std::weak_ptr<ThreadGroup> weak = g;
  tm.service_id = k.timers().schedule(when_ns, [&k, weak, key, generation] { fire(k, weak, key, generation); });
}

// Disarms, then arms with `value_ns` from now (0: stays disarmed). Returns
// the old (remaining, interval).
std::pair<int64_t, int64_t> set_timer_locked(kernel::Kernel& k, const std::shared_ptr<ThreadGroup>& g, Timer& tm,
                                             int key, int64_t value_ns, int64_t interval_ns, bool absolute) {
  const bool cpu_clock = is_cpu_itimer(key);
  // "Now" on the timer's own clock: the process's CPU time, or wall time.
  const int64_t now = cpu_clock ? group_cpu_ns(k, *g, key == kItimerBase + ITIMER_PROF) : kernel::monotonic_now_ns();
  std::pair<int64_t, int64_t> old{tm.deadline_ns ? std::max<int64_t>(tm.deadline_ns - now, 1) : 0, tm.interval_ns};
  if (tm.service_id) k.timers().cancel(tm.service_id);
  tm.service_id = 0;
  ++tm.generation;
  tm.deadline_ns = 0;
  tm.interval_ns = interval_ns;
  tm.overrun = 0;
  if (value_ns > 0) {
    tm.deadline_ns = absolute ? std::max(value_ns, now) : now + value_ns;
    const int64_t when = cpu_clock ? kernel::monotonic_now_ns() + cpu_check_after(tm.deadline_ns - now) : tm.deadline_ns;
    arm_locked(k, g, tm, key, when);
  }
  return old;
}

Result<uint64_t> sys_setitimer(Task& t, const SyscallArgs& a) {
  const int which = a.i(0);
  if (which < 0 || which > 2) return Err(EINVAL);
  itimerval next{};
  if (a.u(1)) {
    if (auto r = t.mm().copy_in(a.u(1), &next, sizeof(next)); !r) return Err(r.error());
    auto bad = [](const timeval& tv) { return tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000; };
    if (bad(next.it_value) || bad(next.it_interval)) return Err(EINVAL);
  }
  std::pair<int64_t, int64_t> old;
  {
    std::lock_guard lock(t.group().timers_mu);
    Timer& tm = t.group().itimers[which];
    tm.signo = kItimerSignals[which];
    tm.notify = SIGEV_SIGNAL;
    old = set_timer_locked(t.kernel(), t.group_ptr(), tm, kItimerBase + which, tv_ns(next.it_value),
                           tv_ns(next.it_interval), false);
  }
  if (a.u(2)) {
    itimerval out{ns_tv(old.second), ns_tv(old.first)};
    if (auto r = t.mm().copy_out(a.u(2), &out, sizeof(out)); !r) return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_getitimer(Task& t, const SyscallArgs& a) {
  const int which = a.i(0);
  if (which < 0 || which > 2) return Err(EINVAL);
  itimerval out{};
  {
    std::lock_guard lock(t.group().timers_mu);
    const Timer& tm = t.group().itimers[which];
    const int64_t now = which == ITIMER_REAL ? kernel::monotonic_now_ns()
                                             : group_cpu_ns(t.kernel(), t.group(), which == ITIMER_PROF);
    out.it_interval = ns_tv(tm.interval_ns);
    if (tm.deadline_ns) out.it_value = ns_tv(std::max<int64_t>(tm.deadline_ns - now, 1000));
  }
  if (auto r = t.mm().copy_out(a.u(1), &out, sizeof(out)); !r) return Err(r.error());
  return ok();
}

// alarm(2): ITIMER_REAL in whole seconds; returns the seconds that were
// left, rounded to nearest, but at least 1 if any time was (kernel/time/itimer.c).
Result<uint64_t> sys_alarm(Task& t, const SyscallArgs& a) {
  const int64_t secs = static_cast<int64_t>(static_cast<uint32_t>(a.u(0)));
  std::pair<int64_t, int64_t> old;
  {
    std::lock_guard lock(t.group().timers_mu);
    Timer& tm = t.group().itimers[ITIMER_REAL];
    tm.signo = SIGALRM;
    tm.notify = SIGEV_SIGNAL;
    old = set_timer_locked(t.kernel(), t.group_ptr(), tm, kItimerBase + ITIMER_REAL, secs * 1000000000LL, 0, false);
  }
  if (old.first == 0) return ok(0);
  timeval left = ns_tv(old.first);
  uint64_t result = static_cast<uint64_t>(left.tv_sec);
  if ((result == 0 && left.tv_usec) || left.tv_usec >= 500000) ++result;
  return result;
}

// timer_create(2): SIGEV_SIGNAL, SIGEV_NONE and SIGEV_THREAD_ID (which
// glibc's SIGEV_THREAD is built on) on the monotonic and realtime clocks.
Result<uint64_t> sys_timer_create(Task& t, const SyscallArgs& a) {
  const int clock = a.i(0);
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME &&
      clock != CLOCK_PROCESS_CPUTIME_ID && clock != CLOCK_THREAD_CPUTIME_ID)
    return Err(EINVAL);
  Timer tm;
  tm.notify = SIGEV_SIGNAL;
  tm.signo = SIGALRM;
  if (a.u(1)) {
    sigevent ev{};
    if (auto r = t.mm().copy_in(a.u(1), &ev, sizeof(ev)); !r) return Err(r.error());
    tm.notify = ev.sigev_notify;
    tm.signo = ev.sigev_signo;
    tm.value = reinterpret_cast<uint64_t>(ev.sigev_value.sival_ptr);
    if (tm.notify != SIGEV_SIGNAL && tm.notify != SIGEV_NONE && tm.notify != SIGEV_THREAD_ID) return Err(EINVAL);
    if (tm.notify != SIGEV_NONE && (tm.signo < 1 || tm.signo > 64)) return Err(EINVAL);
    if (tm.notify == SIGEV_THREAD_ID) {
      tm.target_tid = ev._sigev_un._tid;
      std::lock_guard lock(t.kernel().tree_mutex());
      auto target = t.kernel().find_task_locked(tm.target_tid);
      if (!target || target->pid() != t.pid()) return Err(EINVAL);
    }
  }
  int id;
  {
    std::lock_guard lock(t.group().timers_mu);
    id = t.group().next_timer_id++;
    // Without a sigevent the value is the timer's own id (timer_create(2)).
    if (!a.u(1)) tm.value = static_cast<uint64_t>(id);
    t.group().posix_timers.emplace(id, tm);
  }
  const int32_t out = id;
  if (auto r = t.mm().copy_out(a.u(2), &out, sizeof(out)); !r) {
    std::lock_guard lock(t.group().timers_mu);
    t.group().posix_timers.erase(id);
    return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_timer_settime(Task& t, const SyscallArgs& a) {
  itimerspec next;
  if (auto r = t.mm().copy_in(a.u(2), &next, sizeof(next)); !r) return Err(r.error());
  auto bad = [](const timespec& ts) { return ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000; };
  if (bad(next.it_value) || bad(next.it_interval)) return Err(EINVAL);
  const bool absolute = (a.i(1) & TIMER_ABSTIME) != 0;
  int64_t value = to_ns(next.it_value);
  if (absolute && value > 0) {
    // Absolute times are on the timer's clock; CLOCK_REALTIME is converted
    // to the monotonic deadline the service runs on.
    timespec real, mono;
    ::clock_gettime(CLOCK_REALTIME, &real);
    ::clock_gettime(CLOCK_MONOTONIC, &mono);
    value = value - to_ns(real) + to_ns(mono);
    if (value <= 0) value = 1;
  }
  std::pair<int64_t, int64_t> old;
  {
    std::lock_guard lock(t.group().timers_mu);
    auto it = t.group().posix_timers.find(a.i(0));
    if (it == t.group().posix_timers.end()) return Err(EINVAL);
    old = set_timer_locked(t.kernel(), t.group_ptr(), it->second, a.i(0), value, to_ns(next.it_interval), absolute);
  }
  if (a.u(3)) {
    itimerspec out{ns_ts(old.second), ns_ts(old.first)};
    if (auto r = t.mm().copy_out(a.u(3), &out, sizeof(out)); !r) return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_timer_gettime(Task& t, const SyscallArgs& a) {
  itimerspec out{};
  {
    std::lock_guard lock(t.group().timers_mu);
    auto it = t.group().posix_timers.find(a.i(0));
    if (it == t.group().posix_timers.end()) return Err(EINVAL);
    const Timer& tm = it->second;
    out.it_interval = ns_ts(tm.interval_ns);
    if (tm.deadline_ns) {
      // Expired but not yet delivered: 0 for SIGEV_NONE, else 1 ns
      // (common_timer_get()).
      const int64_t left = tm.deadline_ns - kernel::monotonic_now_ns();
      out.it_value = ns_ts(left > 0 ? left : (tm.notify == SIGEV_NONE ? 0 : 1));
    }
  }
  if (auto r = t.mm().copy_out(a.u(1), &out, sizeof(out)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_timer_getoverrun(Task& t, const SyscallArgs& a) {
  std::lock_guard lock(t.group().timers_mu);
  auto it = t.group().posix_timers.find(a.i(0));
  if (it == t.group().posix_timers.end()) return Err(EINVAL);
  return static_cast<uint64_t>(it->second.overrun);
}

Result<uint64_t> sys_timer_delete(Task& t, const SyscallArgs& a) {
  std::lock_guard lock(t.group().timers_mu);
  auto it = t.group().posix_timers.find(a.i(0));
  if (it == t.group().posix_timers.end()) return Err(EINVAL);
  if (it->second.service_id) t.kernel().timers().cancel(it->second.service_id);
  t.group().posix_timers.erase(it);
  return ok();
}

struct CpuTimes {
  int64_t user_ns = 0, sys_ns = 0;
  uint64_t max_rss_kb = 0;
};

// RUSAGE_SELF: every live thread of the process plus those that exited.
CpuTimes process_times(Task& t) {
  std::vector<std::shared_ptr<Task>> live;
  CpuTimes out;
  int64_t user_max = 0;
  {
    std::lock_guard lock(t.kernel().tree_mutex());
    out.user_ns = t.group().dead_user_ns;
    user_max = t.group().departed_user_ns;
    out.sys_ns = t.group().dead_sys_ns;
    out.max_rss_kb = t.group().max_rss_kb;
    for (const auto& w : t.group().tasks) {
      if (auto task = w.lock()) live.push_back(std::move(task));
    }
  }
  // The threads read one shared clock: the process's user time is the
  // largest reading; system time is each Sentry thread's own.
  for (auto& task : live) {
    user_max = std::max(user_max, task->user_time_ns());
    out.sys_ns += task->sys_time_ns();
  }
  out.user_ns += user_max;
  out.max_rss_kb = std::max<uint64_t>(out.max_rss_kb, t.mm().resident_bytes() / 1024);
  return out;
}

CpuTimes children_times(Task& t) {
  std::lock_guard lock(t.kernel().tree_mutex());
  return CpuTimes{t.group().children_user_ns, t.group().children_sys_ns, t.group().children_max_rss_kb};
}

// times(2): clock ticks (USER_HZ, 100) since boot, and the CPU times:
// user time is what the application ran on the host, system time what its
// Sentry threads spent on its behalf.
Result<uint64_t> sys_times(Task& t, const SyscallArgs& a) {
  if (a.u(0)) {
    const CpuTimes self = process_times(t), children = children_times(t);
    constexpr int64_t kTick = 10000000;
    tms out{self.user_ns / kTick, self.sys_ns / kTick, children.user_ns / kTick, children.sys_ns / kTick};
    if (auto r = t.mm().copy_out(a.u(0), &out, sizeof(out)); !r) return Err(r.error());
  }
  return static_cast<uint64_t>(t.kernel().monotonic_ns() / 10000000);
}

Result<uint64_t> sys_getrusage(Task& t, const SyscallArgs& a) {
  const int who = a.i(0);
  CpuTimes times;
  switch (who) {
    case RUSAGE_SELF: times = process_times(t); break;
    case RUSAGE_CHILDREN: times = children_times(t); break;
    case RUSAGE_THREAD:
      times = CpuTimes{t.user_time_ns(), t.sys_time_ns(), t.mm().resident_bytes() / 1024};
      break;
    default: return Err(EINVAL);
  }
  rusage out{};
  out.ru_utime = ns_tv(times.user_ns);
  out.ru_stime = ns_tv(times.sys_ns);
  out.ru_maxrss = static_cast<long>(times.max_rss_kb);
  if (auto r = t.mm().copy_out(a.u(1), &out, sizeof(out)); !r) return Err(r.error());
  return ok();
}

}  // namespace

int64_t process_cpu_ns(Task& t) {
  const CpuTimes times = process_times(t);
  return times.user_ns + times.sys_ns;
}

void register_timer(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_setitimer, "setitimer", sys_setitimer, {A::kInt, A::kPtr, A::kPtr});
  tb.set(SYS_getitimer, "getitimer", sys_getitimer, {A::kInt, A::kPtr});
  tb.set(SYS_alarm, "alarm", sys_alarm, {A::kInt});
  tb.set(SYS_timer_create, "timer_create", sys_timer_create, {A::kInt, A::kPtr, A::kPtr});
  tb.set(SYS_timer_settime, "timer_settime", sys_timer_settime, {A::kInt, A::kHex, A::kPtr, A::kPtr});
  tb.set(SYS_timer_gettime, "timer_gettime", sys_timer_gettime, {A::kInt, A::kPtr});
  tb.set(SYS_timer_getoverrun, "timer_getoverrun", sys_timer_getoverrun, {A::kInt});
  tb.set(SYS_timer_delete, "timer_delete", sys_timer_delete, {A::kInt});
  tb.set(SYS_times, "times", sys_times, {A::kPtr});
  tb.set(SYS_getrusage, "getrusage", sys_getrusage, {A::kInt, A::kPtr});
}

}  // namespace runsc::syscalls
