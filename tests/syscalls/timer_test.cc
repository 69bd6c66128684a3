// Timers and clocks as alarm(2), setitimer(2)/getitimer(2), nanosleep(2),
// clock_nanosleep(2), clock_gettime(2)/clock_getres(2), times(2),
// getrusage(2) and timer_create(2)/timer_settime(2)/timer_delete(2)
// describe them. Waits for a timer's signal use sigsuspend(2) in a loop on
// a handler's count, so only the order of events matters, never how long
// they took.
#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <utility>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

constexpr long kNsPerSec = 1000000000L;

int64_t Ns(const struct timespec& ts) { return ts.tv_sec * kNsPerSec + ts.tv_nsec; }
int64_t Us(const struct timeval& tv) { return tv.tv_sec * 1000000L + tv.tv_usec; }

// What the handler saw.
std::atomic<int> g_count{0};
std::atomic<int> g_signo{0};
std::atomic<int> g_code{0};
std::atomic<int> g_value{0};
std::atomic<int> g_overrun{-1};
std::atomic<int> g_timerid{-1};

void InfoHandler(int sig, siginfo_t* si, void*) {
  g_signo = sig;
  g_code = si->si_code;
  g_value = si->si_value.sival_int;
  if (si->si_code == SI_TIMER) {
    g_overrun = si->si_overrun;
    g_timerid = si->si_timerid;
  }
  g_count.fetch_add(1);
}

void ResetRecord() {
  g_count = 0;
  g_signo = 0;
  g_code = 0;
  g_value = 0;
  g_overrun = -1;
  g_timerid = -1;
}

// Installs InfoHandler for sig for the scope of a test, with sig blocked
// outside of WaitForSignals() (so that delivery points are known).
class SignalScope {
 public:
  explicit SignalScope(int sig, int flags = 0) : action_(sig, Action(flags)) {
    ResetRecord();
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, sig);
    sigprocmask(SIG_BLOCK, &block, &wait_mask_);
    sigdelset(&wait_mask_, sig);
  }
  bool ok() const { return action_.ok(); }
  // Suspends until the handler has run n times in total.
  void WaitForSignals(int n) {
    while (g_count.load() < n) sigsuspend(&wait_mask_);
  }
  const sigset_t& wait_mask() const { return wait_mask_; }

 private:
  static struct sigaction Action(int flags) {
    struct sigaction sa {};
    sa.sa_sigaction = InfoHandler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    return sa;
  }
  ScopedSigaction action_;
  ScopedSigmask mask_;  // restored before action_: a pending signal still finds the handler
  sigset_t wait_mask_;
};

// Disarms ITIMER_REAL and alarm() at the end of a test.
struct DisarmRealTimer {
  ~DisarmRealTimer() {
    struct itimerval zero {};
    setitimer(ITIMER_REAL, &zero, nullptr);
  }
};

// ---------------------------------------------------------------------------
// alarm and interval timers

TEST(TimerTest, AlarmDeliversSigalrm) {
  DisarmRealTimer disarm;
  SignalScope s(SIGALRM);
  ASSERT_TRUE(s.ok());
  alarm(0);
  EXPECT_EQ(0u, alarm(1)) << "no alarm was pending";
  s.WaitForSignals(1);
  EXPECT_EQ(SIGALRM, g_signo.load());
  EXPECT_EQ(SI_KERNEL, g_code.load()) << "the kernel's own signal";
  EXPECT_EQ(0u, alarm(0)) << "a delivered alarm is no longer pending";
}

TEST(TimerTest, AlarmReturnsTheSecondsRemaining) {
  DisarmRealTimer disarm;
  alarm(0);
  EXPECT_EQ(0u, alarm(100));
  unsigned left = alarm(50);
  EXPECT_GE(left, 99u) << "replaced a 100 s alarm just set";
  EXPECT_LE(left, 100u);
  left = alarm(0);
  EXPECT_GE(left, 49u) << "cancelled a 50 s alarm just set";
  EXPECT_LE(left, 50u);
  EXPECT_EQ(0u, alarm(0)) << "cancelled";
  // alarm() and ITIMER_REAL are the same timer.
  ASSERT_EQ(0u, alarm(30));
  struct itimerval cur;
  ASSERT_EQ(0, getitimer(ITIMER_REAL, &cur));
  EXPECT_GT(Us(cur.it_value), 0);
  EXPECT_LE(Us(cur.it_value), 30 * 1000000L);
  EXPECT_EQ(0, Us(cur.it_interval));
}

TEST(TimerTest, PeriodicItimerRealDeliversRepeatedly) {
  DisarmRealTimer disarm;
  SignalScope s(SIGALRM);
  ASSERT_TRUE(s.ok());
  struct itimerval it = {{0, 10000}, {0, 10000}};
  ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, nullptr));
  s.WaitForSignals(4);
  struct itimerval old;
  struct itimerval zero {};
  ASSERT_EQ(0, setitimer(ITIMER_REAL, &zero, &old));
  EXPECT_EQ(10000, Us(old.it_interval)) << "the interval is kept across expirations";
  EXPECT_GT(Us(old.it_value), 0) << "a periodic timer is always armed";
  EXPECT_LE(Us(old.it_value), 10000);
  struct itimerval cur;
  ASSERT_EQ(0, getitimer(ITIMER_REAL, &cur));
  EXPECT_EQ(0, Us(cur.it_value)) << "disarmed";
  EXPECT_EQ(0, Us(cur.it_interval));
  EXPECT_GE(g_count.load(), 4);
}

TEST(TimerTest, GetitimerReportsAtMostWhatWasSet) {
  DisarmRealTimer disarm;
  struct itimerval it = {{2, 500000}, {10, 0}};
  struct itimerval old;
  ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, &old));
  struct itimerval cur;
  ASSERT_EQ(0, getitimer(ITIMER_REAL, &cur));
  EXPECT_GT(Us(cur.it_value), 0);
  EXPECT_LE(Us(cur.it_value), 10 * 1000000L);
  EXPECT_EQ(2500000, Us(cur.it_interval));
  // setitimer returns the previous setting.
  struct itimerval again = {{0, 0}, {5, 0}};
  ASSERT_EQ(0, setitimer(ITIMER_REAL, &again, &old));
  EXPECT_EQ(2500000, Us(old.it_interval));
  EXPECT_GT(Us(old.it_value), 0);
  EXPECT_LE(Us(old.it_value), 10 * 1000000L);
  // Errors.
  EXPECT_EQ(-1, getitimer(static_cast<__itimer_which>(7), &cur));
  EXPECT_EQ(EINVAL, errno);
  struct itimerval bad = {{0, 0}, {0, 1000000}};
  EXPECT_EQ(-1, setitimer(ITIMER_REAL, &bad, nullptr));
  EXPECT_EQ(EINVAL, errno) << "tv_usec out of range";
}

// ITIMER_VIRTUAL and ITIMER_PROF count CPU time; a busy loop makes them fire.
TEST(TimerTest, CpuTimeItimersFireWhileBusy) {
  for (auto [which, sig] : {std::pair{ITIMER_VIRTUAL, SIGVTALRM}, std::pair{ITIMER_PROF, SIGPROF}}) {
    SCOPED_TRACE(sig);
    SignalScope s(sig);
    ASSERT_TRUE(s.ok());
    struct itimerval it = {{0, 0}, {0, 20000}};
    ASSERT_EQ(0, setitimer(which, &it, nullptr));
    // Unblock and spin; give up (and fail) after 30 s of wall time.
    sigprocmask(SIG_SETMASK, &s.wait_mask(), nullptr);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    volatile uint64_t spin = 0;
    do {
      for (int i = 0; i < 100000; ++i) spin = spin + 1;
      clock_gettime(CLOCK_MONOTONIC, &now);
    } while (g_count.load() == 0 && Ns(now) - Ns(start) < 30 * kNsPerSec);
    struct itimerval zero {};
    setitimer(which, &zero, nullptr);
    EXPECT_EQ(1, g_count.load());
    EXPECT_EQ(sig, g_signo.load());
  }
}

// A sleeping process uses no CPU: its ITIMER_VIRTUAL does not run down,
// whatever wall-clock time passes (setitimer(2): "decrements only when the
// process is executing").
TEST(TimerTest, VirtualItimerDoesNotRunWhileTheProcessSleeps) {
  SignalScope s(SIGVTALRM);
  ASSERT_TRUE(s.ok());
  sigprocmask(SIG_SETMASK, &s.wait_mask(), nullptr);
  struct itimerval it = {{0, 0}, {0, 50000}};  // 50 ms of CPU time
  ASSERT_EQ(0, setitimer(ITIMER_VIRTUAL, &it, nullptr));
  struct timespec nap = {0, 300 * 1000 * 1000};  // 300 ms asleep
  while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
  }
  struct itimerval left {};
  ASSERT_EQ(0, getitimer(ITIMER_VIRTUAL, &left));
  struct itimerval zero {};
  setitimer(ITIMER_VIRTUAL, &zero, nullptr);
  EXPECT_EQ(0, g_count.load()) << "the timer fired although the process slept";
  EXPECT_GT(Us(left.it_value), 0) << "the timer expired although the process slept";
}

// ---------------------------------------------------------------------------
// Sleeping

TEST(TimerTest, NanosleepInterruptedByAHandlerReportsTheRemainder) {
  DisarmRealTimer disarm;
  SignalScope s(SIGALRM, SA_RESTART);  // nanosleep is never restarted
  ASSERT_TRUE(s.ok());
  sigprocmask(SIG_SETMASK, &s.wait_mask(), nullptr);
  struct itimerval it = {{0, 0}, {0, 50000}};
  ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, nullptr));
  struct timespec req = {30, 0};
  struct timespec rem = {-1, -1};
  EXPECT_EQ(-1, nanosleep(&req, &rem));
  EXPECT_EQ(EINTR, errno);
  EXPECT_EQ(1, g_count.load());
  EXPECT_GT(Ns(rem), 0) << "it did not sleep for 30 s";
  EXPECT_LT(Ns(rem), Ns(req)) << "it slept until the alarm";
  EXPECT_LT(rem.tv_nsec, kNsPerSec);
}

TEST(TimerTest, ClockNanosleepRelativeAndAbsolute) {
  struct timespec req = {0, 1000000};
  EXPECT_EQ(0, clock_nanosleep(CLOCK_MONOTONIC, 0, &req, nullptr));
  struct timespec before, after;
  ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &before));
  struct timespec deadline = before;
  deadline.tv_nsec += 20 * 1000 * 1000;
  if (deadline.tv_nsec >= kNsPerSec) {
    deadline.tv_nsec -= kNsPerSec;
    deadline.tv_sec += 1;
  }
  EXPECT_EQ(0, clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr));
  ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &after));
  EXPECT_GE(Ns(after), Ns(deadline)) << "an absolute sleep ends no earlier than its deadline";
  // A deadline in the past returns at once.
  struct timespec past = {0, 0};
  EXPECT_EQ(0, clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, nullptr));
  // Errors are returned, not put in errno.
  struct timespec bad = {0, kNsPerSec};
  EXPECT_EQ(EINVAL, clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr));
  EXPECT_EQ(-1, nanosleep(&bad, nullptr));
  EXPECT_EQ(EINVAL, errno);
  struct timespec negative = {-1, 0};
  EXPECT_EQ(-1, nanosleep(&negative, nullptr));
  EXPECT_EQ(EINVAL, errno);
}

// ---------------------------------------------------------------------------
// Clocks and accounting

TEST(ClockTest, MonotonicClockNeverGoesBackwards) {
  for (bool raw : {false, true}) {
    SCOPED_TRACE(raw ? "raw syscall" : "libc (vDSO)");
    struct timespec prev = {0, 0};
    for (int i = 0; i < 20000; ++i) {
      struct timespec now;
      int r = raw ? static_cast<int>(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now))
                  : clock_gettime(CLOCK_MONOTONIC, &now);
      ASSERT_EQ(0, r);
      ASSERT_GE(now.tv_nsec, 0);
      ASSERT_LT(now.tv_nsec, kNsPerSec);
      ASSERT_GE(Ns(now), Ns(prev)) << "iteration " << i;
      prev = now;
    }
  }
}

TEST(ClockTest, ClocksAreReadableAndInvalidOnesRejected) {
  for (clockid_t id : {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,
                       CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_REALTIME_COARSE,
                       CLOCK_MONOTONIC_COARSE}) {
    SCOPED_TRACE(id);
    struct timespec ts = {-1, -1};
    ASSERT_EQ(0, clock_gettime(id, &ts)) << strerror(errno);
    EXPECT_GE(ts.tv_sec, 0);
    EXPECT_GE(ts.tv_nsec, 0);
    EXPECT_LT(ts.tv_nsec, kNsPerSec);
  }
  struct timespec ts;
  EXPECT_EQ(-1, syscall(SYS_clock_gettime, 100, &ts));
  EXPECT_EQ(EINVAL, errno);
  // Wall-clock time agrees with gettimeofday (to within a minute).
  struct timeval tv;
  ASSERT_EQ(0, gettimeofday(&tv, nullptr));
  ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &ts));
  EXPECT_LT(std::abs(ts.tv_sec - tv.tv_sec), 60);
}

TEST(ClockTest, ClockGetres) {
  for (clockid_t id :
       {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID}) {
    SCOPED_TRACE(id);
    struct timespec res = {-1, -1};
    ASSERT_EQ(0, clock_getres(id, &res)) << strerror(errno);
    EXPECT_EQ(0, res.tv_sec);
    EXPECT_GT(res.tv_nsec, 0);
    EXPECT_LE(res.tv_nsec, 10 * 1000 * 1000) << "high-resolution clocks";
    EXPECT_EQ(0, clock_getres(id, nullptr)) << "res may be NULL";
  }
  struct timespec res;
  EXPECT_EQ(-1, syscall(SYS_clock_getres, 100, &res));
  EXPECT_EQ(EINVAL, errno);
}

// Burns CPU until this process's CPU clock has advanced by ns.
void BurnCpu(int64_t ns) {
  struct timespec start, now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
  volatile uint64_t spin = 0;
  do {
    for (int i = 0; i < 10000; ++i) spin = spin + 1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  } while (Ns(now) - Ns(start) < ns);
}

TEST(ClockTest, TimesAndGetrusageForSelf) {
  BurnCpu(100 * 1000 * 1000);
  struct tms t;
  clock_t r = times(&t);
  EXPECT_NE(static_cast<clock_t>(-1), r) << strerror(errno);
  EXPECT_GE(t.tms_utime, 0);
  EXPECT_GE(t.tms_stime, 0);
  EXPECT_GE(t.tms_cutime, 0);
  EXPECT_GE(t.tms_cstime, 0);
  long hz = sysconf(_SC_CLK_TCK);
  EXPECT_GT(hz, 0);
  EXPECT_GE(t.tms_utime + t.tms_stime, hz / 100) << "at least 10 ms of the 100 ms burnt";

  for (int who : {RUSAGE_SELF, RUSAGE_THREAD}) {
    SCOPED_TRACE(who);
    struct rusage ru;
    ASSERT_EQ(0, getrusage(who, &ru));
    EXPECT_GE(ru.ru_utime.tv_sec, 0);
    EXPECT_GE(ru.ru_utime.tv_usec, 0);
    EXPECT_LT(ru.ru_utime.tv_usec, 1000000);
    EXPECT_GE(ru.ru_stime.tv_sec, 0);
    EXPECT_GE(ru.ru_stime.tv_usec, 0);
    EXPECT_LT(ru.ru_stime.tv_usec, 1000000);
    EXPECT_GE(Us(ru.ru_utime) + Us(ru.ru_stime), 50000) << "at least 50 ms of the 100 ms burnt";
    EXPECT_GT(ru.ru_maxrss, 0) << "some memory is resident";
  }
  struct rusage ru;
  EXPECT_EQ(-1, getrusage(42, &ru));
  EXPECT_EQ(EINVAL, errno);
}

TEST(ClockTest, RusageChildrenCountsReapedChildren) {
  struct rusage before;
  ASSERT_EQ(0, getrusage(RUSAGE_CHILDREN, &before));
  EXPECT_GE(Us(before.ru_utime), 0);
  EXPECT_GE(Us(before.ru_stime), 0);
  pid_t pid = ForkChild([] {
    BurnCpu(100 * 1000 * 1000);
    return 0;
  });
  ASSERT_GT(pid, 0);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
  struct rusage after;
  ASSERT_EQ(0, getrusage(RUSAGE_CHILDREN, &after));
  int64_t gained = Us(after.ru_utime) + Us(after.ru_stime) - Us(before.ru_utime) - Us(before.ru_stime);
  EXPECT_GE(gained, 50000) << "the reaped child's 100 ms of CPU";
  EXPECT_LT(after.ru_utime.tv_usec, 1000000);
  EXPECT_LT(after.ru_stime.tv_usec, 1000000);
  struct tms t;
  ASSERT_NE(static_cast<clock_t>(-1), times(&t));
  EXPECT_GE(t.tms_cutime + t.tms_cstime, sysconf(_SC_CLK_TCK) / 20) << "at least 50 ms";
}

// ---------------------------------------------------------------------------
// POSIX timers

TEST(PosixTimerTest, SigevSignalDeliversSiTimerWithTheValue) {
  SignalScope s(SIGUSR1);
  ASSERT_TRUE(s.ok());
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  sev.sigev_value.sival_int = 0x1234;
  timer_t timer;
  ASSERT_EQ(0, timer_create(CLOCK_MONOTONIC, &sev, &timer)) << strerror(errno);
  struct itimerspec its = {{0, 0}, {0, 10 * 1000 * 1000}};
  ASSERT_EQ(0, timer_settime(timer, 0, &its, nullptr));
  s.WaitForSignals(1);
  EXPECT_EQ(SIGUSR1, g_signo.load());
  EXPECT_EQ(SI_TIMER, g_code.load());
  EXPECT_EQ(0x1234, g_value.load());
  EXPECT_EQ(0, g_overrun.load()) << "one-shot: no overruns";
  EXPECT_EQ(static_cast<int>(reinterpret_cast<intptr_t>(timer)), g_timerid.load())
      << "si_timerid is the kernel's timer id (what glibc returns)";
  struct itimerspec cur;
  ASSERT_EQ(0, timer_gettime(timer, &cur));
  EXPECT_EQ(0, Ns(cur.it_value)) << "a fired one-shot timer is disarmed";
  EXPECT_EQ(0, timer_delete(timer));
}

TEST(PosixTimerTest, PeriodicTimerAndDisarm) {
  SignalScope s(SIGUSR2);
  ASSERT_TRUE(s.ok());
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR2;
  sev.sigev_value.sival_int = 77;
  timer_t timer;
  ASSERT_EQ(0, timer_create(CLOCK_REALTIME, &sev, &timer));
  struct itimerspec its = {{0, 5 * 1000 * 1000}, {0, 5 * 1000 * 1000}};
  ASSERT_EQ(0, timer_settime(timer, 0, &its, nullptr));
  s.WaitForSignals(3);
  EXPECT_EQ(77, g_value.load());
  EXPECT_EQ(SI_TIMER, g_code.load());
  EXPECT_GE(timer_getoverrun(timer), 0);
  struct itimerspec zero {};
  struct itimerspec old;
  ASSERT_EQ(0, timer_settime(timer, 0, &zero, &old));
  EXPECT_EQ(5 * 1000 * 1000, Ns(old.it_interval));
  EXPECT_GT(Ns(old.it_value), 0);
  EXPECT_LE(Ns(old.it_value), 5 * 1000 * 1000);
  struct itimerspec cur;
  ASSERT_EQ(0, timer_gettime(timer, &cur));
  EXPECT_EQ(0, Ns(cur.it_value));
  EXPECT_EQ(0, Ns(cur.it_interval));
  EXPECT_EQ(0, timer_delete(timer));
}

TEST(PosixTimerTest, GettimeCountsDownAndDeleteRemovesTheTimer) {
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_NONE;  // never signals; still counts down
  timer_t timer;
  ASSERT_EQ(0, timer_create(CLOCK_MONOTONIC, &sev, &timer)) << strerror(errno);
  struct itimerspec its = {{1, 0}, {10, 0}};
  ASSERT_EQ(0, timer_settime(timer, 0, &its, nullptr));
  struct itimerspec cur;
  ASSERT_EQ(0, timer_gettime(timer, &cur));
  EXPECT_GT(Ns(cur.it_value), 0);
  EXPECT_LE(Ns(cur.it_value), 10 * kNsPerSec);
  EXPECT_EQ(kNsPerSec, Ns(cur.it_interval));
  // An absolute expiry in the past fires at once (SIGEV_NONE: no signal)
  // and leaves a one-shot timer disarmed.
  struct timespec now;
  ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &now));
  its = {{0, 0}, now};
  ASSERT_EQ(0, timer_settime(timer, TIMER_ABSTIME, &its, nullptr));
  ASSERT_EQ(0, timer_gettime(timer, &cur));
  EXPECT_EQ(0, Ns(cur.it_value)) << "expired one-shot";

  EXPECT_EQ(0, timer_delete(timer));
  EXPECT_EQ(-1, timer_gettime(timer, &cur));
  EXPECT_EQ(EINVAL, errno) << "deleted timer";
  EXPECT_EQ(-1, timer_delete(timer));
  EXPECT_EQ(EINVAL, errno) << "deleted twice";
}

TEST(PosixTimerTest, DeletedTimerDoesNotFire) {
  SignalScope s(SIGUSR1);
  ASSERT_TRUE(s.ok());
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  timer_t timer;
  ASSERT_EQ(0, timer_create(CLOCK_MONOTONIC, &sev, &timer));
  struct itimerspec its = {{0, 0}, {0, 50 * 1000 * 1000}};
  ASSERT_EQ(0, timer_settime(timer, 0, &its, nullptr));
  ASSERT_EQ(0, timer_delete(timer));
  // A real-time timer that fires well after the deleted one would have.
  DisarmRealTimer disarm;
  SignalScope alrm(SIGALRM);
  struct itimerval later = {{0, 0}, {0, 300000}};
  ASSERT_EQ(0, setitimer(ITIMER_REAL, &later, nullptr));
  sigset_t wait_mask = alrm.wait_mask();
  sigdelset(&wait_mask, SIGUSR1);  // a SIGUSR1 would be delivered here too
  while (g_count.load() == 0) sigsuspend(&wait_mask);
  EXPECT_EQ(SIGALRM, g_signo.load()) << "the deleted timer fired";
  EXPECT_EQ(1, g_count.load());
}

TEST(PosixTimerTest, CreateErrors) {
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = 0;
  timer_t timer;
  EXPECT_EQ(-1, timer_create(CLOCK_MONOTONIC, &sev, &timer));
  EXPECT_EQ(EINVAL, errno) << "signal 0";
  sev.sigev_signo = 65;
  EXPECT_EQ(-1, timer_create(CLOCK_MONOTONIC, &sev, &timer));
  EXPECT_EQ(EINVAL, errno) << "signal 65";
  sev.sigev_signo = SIGUSR1;
  EXPECT_EQ(-1, syscall(SYS_timer_create, 100, &sev, &timer));
  EXPECT_EQ(EINVAL, errno) << "bad clock";
  // A NULL sigevent means SIGEV_SIGNAL with SIGALRM.
  ASSERT_EQ(0, timer_create(CLOCK_MONOTONIC, nullptr, &timer));
  EXPECT_EQ(0, timer_delete(timer));
}

}  // namespace
}  // namespace syscall_test
