// futex(2) through the raw system call, as the Linux man page describes it:
// FUTEX_WAIT/FUTEX_WAKE and their bitset, requeue and wake-op variants,
// timeouts, errors, process-private versus shared futexes (across fork) and
// interruption by signals (see signal(7) on SA_RESTART).
//
// Waiters are threads. Where a case needs a waiter to be asleep in the
// kernel before it acts, it either retries the wake until it reports the
// waiter (WakeUntil) or, when a wake must find nobody or only some, gives
// the waiters a generous margin to block first (Settle).
#include <errno.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

long Futex(void* uaddr, int op, uint32_t val, const struct timespec* timeout = nullptr,
           void* uaddr2 = nullptr, uint32_t val3 = 0) {
  return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

// The operations that take a count (val2) where the timeout usually goes.
long FutexVal2(void* uaddr, int op, uint32_t val, uint32_t val2, void* uaddr2, uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, reinterpret_cast<void*>(static_cast<uintptr_t>(val2)),
                 uaddr2, val3);
}

pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// A futex word of its own cache line.
struct alignas(64) Word {
  std::atomic<uint32_t> v{0};
  uint32_t* p() { return reinterpret_cast<uint32_t*>(&v); }
};

void Settle() { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

// Repeats a wake of up to (want - woken so far) waiters until `want` have
// been woken in total or 10 seconds have passed; returns the total.
long WakeUntil(uint32_t* addr, long want, int op = FUTEX_WAKE,
               uint32_t bitset = FUTEX_BITSET_MATCH_ANY) {
  long total = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (total < want && std::chrono::steady_clock::now() < deadline) {
    long n = Futex(addr, op, static_cast<uint32_t>(want - total), nullptr, nullptr, bitset);
    if (n < 0) return n;
    total += n;
    if (total < want) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return total;
}

// A thread that makes one futex wait call and records its result. The
// destructor wakes it (on every address it may have been requeued to) and
// joins it, so that a failed case does not leave it blocked.
class Waiter {
 public:
  Waiter(uint32_t* addr, int op, uint32_t val, uint32_t bitset = FUTEX_BITSET_MATCH_ANY,
         const struct timespec* timeout = nullptr)
      : addr_(addr) {
    if (timeout != nullptr) {
      timeout_ = *timeout;
      has_timeout_ = true;
    }
    thread_ = std::thread([this, op, val, bitset] {
      tid_ = Tid();
      started_ = true;
      long r = Futex(addr_, op, val, has_timeout_ ? &timeout_ : nullptr, nullptr, bitset);
      err_ = r < 0 ? errno : 0;
      ret_ = r;
      done_ = true;
    });
    while (!started_) std::this_thread::yield();
  }
  ~Waiter() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      for (uint32_t* a : {addr_, also_}) {
        if (a == nullptr) continue;
        Futex(a, FUTEX_WAKE, INT_MAX);
        Futex(a, FUTEX_WAKE_PRIVATE, INT_MAX);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (done_) {
      thread_.join();
    } else {
      ADD_FAILURE() << "waiter thread could not be woken";
      thread_.detach();
    }
  }
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Another address the destructor wakes (a requeue target).
  void AlsoWake(uint32_t* a) { also_ = a; }
  bool done() const { return done_; }
  pid_t tid() const { return tid_; }
  // Waits up to 10 seconds for the futex call to return.
  bool WaitDone() const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done_;
  }
  long ret() const { return ret_; }
  int err() const { return err_; }

 private:
  uint32_t* addr_;
  uint32_t* also_ = nullptr;
  struct timespec timeout_ {};
  bool has_timeout_ = false;
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> done_{false};
  std::atomic<pid_t> tid_{0};
  std::atomic<long> ret_{0};
  std::atomic<int> err_{0};
};

int CountDone(std::initializer_list<const Waiter*> ws) {
  int n = 0;
  for (const Waiter* w : ws) n += w->done() ? 1 : 0;
  return n;
}

// ---------------------------------------------------------------------------
// Errors and timeouts (no other thread involved).

TEST(FutexTest, WaitWithAValueThatDiffersFailsWithEagain) {
  Word w;
  w.v = 5;
  for (int op : {FUTEX_WAIT, FUTEX_WAIT_PRIVATE}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(-1, Futex(w.p(), op, 6));
    EXPECT_EQ(EAGAIN, errno);
  }
  for (int op : {FUTEX_WAIT_BITSET, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(-1, Futex(w.p(), op, 4, nullptr, nullptr, FUTEX_BITSET_MATCH_ANY));
    EXPECT_EQ(EAGAIN, errno);
  }
}

TEST(FutexTest, MisalignedAddressFailsWithEinval) {
  Word w;
  char* misaligned = reinterpret_cast<char*>(w.p()) + 1;
  struct timespec ts = {0, 1000000};
  EXPECT_EQ(-1, Futex(misaligned, FUTEX_WAIT, 0, &ts));
  EXPECT_EQ(EINVAL, errno);
  EXPECT_EQ(-1, Futex(misaligned, FUTEX_WAIT_PRIVATE, 0, &ts));
  EXPECT_EQ(EINVAL, errno);
  EXPECT_EQ(-1, Futex(misaligned, FUTEX_WAKE, 1));
  EXPECT_EQ(EINVAL, errno);
  EXPECT_EQ(-1, Futex(misaligned, FUTEX_WAKE_PRIVATE, 1));
  EXPECT_EQ(EINVAL, errno);
}

TEST(FutexTest, WaitOnAnUnmappedAddressFailsWithEfault) {
  long page = sysconf(_SC_PAGESIZE);
  void* m = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(MAP_FAILED, m);
  ASSERT_EQ(0, munmap(m, page));
  struct timespec ts = {0, 1000000};
  EXPECT_EQ(-1, Futex(m, FUTEX_WAIT_PRIVATE, 0, &ts));
  EXPECT_EQ(EFAULT, errno);
  EXPECT_EQ(-1, Futex(nullptr, FUTEX_WAIT, 0, &ts));
  EXPECT_EQ(EFAULT, errno);
}

TEST(FutexTest, InvalidArguments) {
  Word w;
  struct timespec bad_nsec = {0, 1000000000};
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT, 0, &bad_nsec));
  EXPECT_EQ(EINVAL, errno) << "tv_nsec out of range";
  struct timespec negative = {-1, 0};
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT, 0, &negative));
  EXPECT_EQ(EINVAL, errno) << "negative tv_sec";
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT_BITSET, 0, nullptr, nullptr, 0));
  EXPECT_EQ(EINVAL, errno) << "WAIT_BITSET with an empty bitset";
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAKE_BITSET, 1, nullptr, nullptr, 0));
  EXPECT_EQ(EINVAL, errno) << "WAKE_BITSET with an empty bitset";
  EXPECT_EQ(-1, Futex(w.p(), 99, 0));
  EXPECT_EQ(ENOSYS, errno) << "unknown operation";
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1));
  EXPECT_EQ(ENOSYS, errno) << "FUTEX_CLOCK_REALTIME with an operation that takes no timeout";
}

TEST(FutexTest, WaitWithARelativeTimeoutTimesOut) {
  Word w;
  struct timespec ts = {0, 20 * 1000 * 1000};
  for (int op : {FUTEX_WAIT, FUTEX_WAIT_PRIVATE}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(-1, Futex(w.p(), op, 0, &ts));
    EXPECT_EQ(ETIMEDOUT, errno);
  }
  struct timespec zero = {0, 0};
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT, 0, &zero));
  EXPECT_EQ(ETIMEDOUT, errno) << "zero timeout";
  // The timeout is not even looked at when the value differs.
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT, 1, &ts));
  EXPECT_EQ(EAGAIN, errno);
}

TEST(FutexTest, WaitBitsetWithAnAbsoluteTimeoutInThePast) {
  Word w;
  struct timespec now;
  ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &now));
  struct timespec past = now;
  past.tv_sec -= 1;
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT_BITSET, 0, &past, nullptr, FUTEX_BITSET_MATCH_ANY));
  EXPECT_EQ(ETIMEDOUT, errno) << "CLOCK_MONOTONIC deadline already passed";
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT_BITSET_PRIVATE, 0, &now, nullptr, 1));
  EXPECT_EQ(ETIMEDOUT, errno) << "deadline = the time read before the call";
  ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &now));
  now.tv_sec -= 1;
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &now, nullptr,
                      FUTEX_BITSET_MATCH_ANY));
  EXPECT_EQ(ETIMEDOUT, errno) << "CLOCK_REALTIME deadline already passed";
  // A deadline an hour away on the monotonic clock (a relative reading of it
  // would be just a second and change) with a value mismatch: EAGAIN first.
  ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &now));
  now.tv_sec += 3600;
  EXPECT_EQ(-1, Futex(w.p(), FUTEX_WAIT_BITSET, 1, &now, nullptr, FUTEX_BITSET_MATCH_ANY));
  EXPECT_EQ(EAGAIN, errno);
}

TEST(FutexTest, WakeWithNoWaitersReturnsZero) {
  Word w;
  EXPECT_EQ(0, Futex(w.p(), FUTEX_WAKE, 1));
  EXPECT_EQ(0, Futex(w.p(), FUTEX_WAKE_PRIVATE, INT_MAX));
  EXPECT_EQ(0, Futex(w.p(), FUTEX_WAKE_BITSET, 1, nullptr, nullptr, FUTEX_BITSET_MATCH_ANY));
}

// ---------------------------------------------------------------------------
// Waking.

TEST(FutexTest, WakeWakesAWaiter) {
  for (auto [wait_op, wake_op] : {std::pair{FUTEX_WAIT, FUTEX_WAKE},
                                  std::pair{FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE}}) {
    SCOPED_TRACE(wait_op);
    Word w;
    Waiter waiter(w.p(), wait_op, 0);
    EXPECT_EQ(1, WakeUntil(w.p(), 1, wake_op)) << "FUTEX_WAKE returns the number woken";
    ASSERT_TRUE(waiter.WaitDone());
    EXPECT_EQ(0, waiter.ret()) << strerror(waiter.err());
    EXPECT_EQ(0, Futex(w.p(), wake_op, 1)) << "nobody left";
  }
}

TEST(FutexTest, WakeOfOneWakesOnlyOneOfTwoWaiters) {
  Word w;
  Waiter a(w.p(), FUTEX_WAIT_PRIVATE, 0);
  Waiter b(w.p(), FUTEX_WAIT_PRIVATE, 0);
  Settle();
  EXPECT_EQ(0, CountDone({&a, &b}));
  EXPECT_EQ(1, Futex(w.p(), FUTEX_WAKE_PRIVATE, 1));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (CountDone({&a, &b}) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Settle();
  EXPECT_EQ(1, CountDone({&a, &b})) << "a wake of 1 woke " << CountDone({&a, &b});
  EXPECT_EQ(1, WakeUntil(w.p(), 1, FUTEX_WAKE_PRIVATE));
  ASSERT_TRUE(a.WaitDone());
  ASSERT_TRUE(b.WaitDone());
  EXPECT_EQ(0, a.ret());
  EXPECT_EQ(0, b.ret());
}

TEST(FutexTest, BitsetsMustIntersectToWake) {
  Word w;
  Waiter waiter(w.p(), FUTEX_WAIT_BITSET_PRIVATE, 0, 0x1);
  Settle();
  EXPECT_EQ(0, Futex(w.p(), FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr, nullptr, 0x6))
      << "disjoint bitset woke the waiter";
  Settle();
  EXPECT_FALSE(waiter.done());
  EXPECT_EQ(1, WakeUntil(w.p(), 1, FUTEX_WAKE_BITSET_PRIVATE, 0x3));
  ASSERT_TRUE(waiter.WaitDone());
  EXPECT_EQ(0, waiter.ret());

  // A plain FUTEX_WAKE matches any bitset; a plain FUTEX_WAIT waits with all
  // bits set.
  Waiter bitset_waiter(w.p(), FUTEX_WAIT_BITSET_PRIVATE, 0, 0x80000000u);
  EXPECT_EQ(1, WakeUntil(w.p(), 1, FUTEX_WAKE_PRIVATE));
  ASSERT_TRUE(bitset_waiter.WaitDone());
  Waiter plain_waiter(w.p(), FUTEX_WAIT_PRIVATE, 0);
  EXPECT_EQ(1, WakeUntil(w.p(), 1, FUTEX_WAKE_BITSET_PRIVATE, 0x100));
  ASSERT_TRUE(plain_waiter.WaitDone());
  EXPECT_EQ(0, plain_waiter.ret());
}

TEST(FutexTest, CmpRequeueMovesWaitersToAnotherFutex) {
  Word a, b;
  Waiter w1(a.p(), FUTEX_WAIT_PRIVATE, 0);
  Waiter w2(a.p(), FUTEX_WAIT_PRIVATE, 0);
  w1.AlsoWake(b.p());
  w2.AlsoWake(b.p());
  // val3 must match *uaddr.
  EXPECT_EQ(-1, FutexVal2(a.p(), FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, b.p(), 1));
  EXPECT_EQ(EAGAIN, errno);
  // Wake none, requeue all: returns the number requeued. Repeated until both
  // waiters (whenever they block) have been moved.
  long moved = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (moved < 2 && std::chrono::steady_clock::now() < deadline) {
    long n = FutexVal2(a.p(), FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, b.p(), 0);
    ASSERT_GE(n, 0) << strerror(errno);
    moved += n;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(2, moved);
  EXPECT_EQ(0, CountDone({&w1, &w2})) << "requeued waiters keep sleeping";
  EXPECT_EQ(0, Futex(a.p(), FUTEX_WAKE_PRIVATE, INT_MAX)) << "nobody left on the source";
  EXPECT_EQ(2, WakeUntil(b.p(), 2, FUTEX_WAKE_PRIVATE));
  ASSERT_TRUE(w1.WaitDone());
  ASSERT_TRUE(w2.WaitDone());
  EXPECT_EQ(0, w1.ret());
  EXPECT_EQ(0, w2.ret());
}

TEST(FutexTest, RequeueWakesSomeAndMovesTheRest) {
  Word a, b;
  Waiter w1(a.p(), FUTEX_WAIT_PRIVATE, 0);
  Waiter w2(a.p(), FUTEX_WAIT_PRIVATE, 0);
  Waiter w3(a.p(), FUTEX_WAIT_PRIVATE, 0);
  for (Waiter* w : {&w1, &w2, &w3}) w->AlsoWake(b.p());
  Settle();
  // Wake 1, requeue at most 1 (val3 ignored): Linux returns woken + requeued
  // for FUTEX_REQUEUE as for FUTEX_CMP_REQUEUE.
  EXPECT_EQ(2, FutexVal2(a.p(), FUTEX_REQUEUE_PRIVATE, 1, 1, b.p(), 12345));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (CountDone({&w1, &w2, &w3}) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Settle();
  EXPECT_EQ(1, CountDone({&w1, &w2, &w3}));
  EXPECT_EQ(1, Futex(b.p(), FUTEX_WAKE_PRIVATE, INT_MAX)) << "one was requeued to b";
  EXPECT_EQ(1, Futex(a.p(), FUTEX_WAKE_PRIVATE, INT_MAX)) << "one stayed on a";
  for (Waiter* w : {&w1, &w2, &w3}) {
    ASSERT_TRUE(w->WaitDone());
    EXPECT_EQ(0, w->ret());
  }
}

uint32_t WakeOp(int op, int oparg, int cmp, int cmparg) {
  return FUTEX_OP(op, oparg, cmp, cmparg);
}

TEST(FutexTest, WakeOpUpdatesTheSecondWord) {
  Word a, b;
  struct Case {
    int op;
    int oparg;
    uint32_t before;
    uint32_t after;
  } cases[] = {
      {FUTEX_OP_SET, 7, 100, 7},
      {FUTEX_OP_ADD, 5, 100, 105},
      {FUTEX_OP_OR, 0x0f, 0x30, 0x3f},
      {FUTEX_OP_ANDN, 0x0f, 0xff, 0xf0},
      {FUTEX_OP_XOR, 0x0f, 0xff, 0xf0},
      {FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, 0, 16},
      {FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 3, 1, 9},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    b.v = c.before;
    EXPECT_EQ(0, FutexVal2(a.p(), FUTEX_WAKE_OP_PRIVATE, 1, 1, b.p(),
                           WakeOp(c.op, c.oparg, FUTEX_OP_CMP_EQ, 0)))
        << "no waiters on either word";
    EXPECT_EQ(c.after, b.v.load());
  }
}

TEST(FutexTest, WakeOpWakesTheSecondWordOnlyWhenTheComparisonHolds) {
  Word a, b;
  Waiter on_a(a.p(), FUTEX_WAIT_PRIVATE, 0);
  Waiter on_b(b.p(), FUTEX_WAIT_PRIVATE, 0);
  Settle();
  // Old value 0 is not == 1: wakes only the waiter on a; b becomes 5.
  EXPECT_EQ(1, FutexVal2(a.p(), FUTEX_WAKE_OP_PRIVATE, 1, 1, b.p(),
                         WakeOp(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 1)));
  EXPECT_EQ(5u, b.v.load());
  ASSERT_TRUE(on_a.WaitDone());
  EXPECT_EQ(0, on_a.ret());
  Settle();
  EXPECT_FALSE(on_b.done());
  // Old value 5 is > 4: wakes the waiter on b (a has none left); b becomes 6.
  EXPECT_EQ(1, FutexVal2(a.p(), FUTEX_WAKE_OP_PRIVATE, 1, 1, b.p(),
                         WakeOp(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 4)));
  EXPECT_EQ(6u, b.v.load());
  ASSERT_TRUE(on_b.WaitDone());
  EXPECT_EQ(0, on_b.ret());
}

// A futex in MAP_SHARED memory is the same futex in parent and child, for
// the shared (non-private) operations only.
TEST(FutexTest, SharedMappingFutexWakesAnotherProcess) {
  struct Shared {
    std::atomic<uint32_t> word;
    std::atomic<int> ready;
    std::atomic<long> ret;
  };
  void* m = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                 0);
  ASSERT_NE(MAP_FAILED, m);
  auto* s = new (m) Shared{};
  s->ret = -2;
  pid_t pid = ForkChild([s] {
    alarm(60);
    s->ready = 1;
    long r = Futex(&s->word, FUTEX_WAIT, 0);
    s->ret = r < 0 ? -errno : r;
    return 0;
  });
  ASSERT_GT(pid, 0);
  while (s->ready.load() == 0) std::this_thread::yield();
  Settle();
  uint32_t* word = reinterpret_cast<uint32_t*>(&s->word);
  EXPECT_EQ(0, Futex(word, FUTEX_WAKE_PRIVATE, 1)) << "a private wake reached another process";
  long woken = WakeUntil(word, 1, FUTEX_WAKE);
  EXPECT_EQ(1, woken);
  if (woken != 1) kill(pid, SIGKILL);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
  EXPECT_EQ(0, s->ret.load()) << "the child's FUTEX_WAIT result (negated errno)";
  munmap(m, sizeof(Shared));
}

// ---------------------------------------------------------------------------
// Signals.

std::atomic<int> g_handled{0};
void CountingHandler(int) { g_handled.fetch_add(1); }

struct sigaction Handler(int flags) {
  struct sigaction sa {};
  sa.sa_handler = CountingHandler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sa;
}

bool WaitHandled(int n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (g_handled.load() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return g_handled.load() >= n;
}

// signal(7): FUTEX_WAIT fails with EINTR after a handler without SA_RESTART.
TEST(FutexTest, SignalHandlerWithoutSaRestartInterruptsWaitWithEintr) {
  ScopedSigaction action(SIGUSR1, Handler(0));
  ASSERT_TRUE(action.ok());
  g_handled = 0;
  Word w;
  Waiter waiter(w.p(), FUTEX_WAIT_PRIVATE, 0);
  Settle();
  ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), waiter.tid(), SIGUSR1));
  ASSERT_TRUE(waiter.WaitDone());
  EXPECT_EQ(1, g_handled.load());
  EXPECT_EQ(-1, waiter.ret());
  EXPECT_EQ(EINTR, waiter.err());
}

// signal(7): FUTEX_WAIT (without a timeout) is restarted after a handler
// with SA_RESTART; the waiter keeps sleeping until woken.
TEST(FutexTest, SignalHandlerWithSaRestartRestartsAnUntimedWait) {
  ScopedSigaction action(SIGUSR1, Handler(SA_RESTART));
  ASSERT_TRUE(action.ok());
  g_handled = 0;
  Word w;
  Waiter waiter(w.p(), FUTEX_WAIT_PRIVATE, 0);
  Settle();
  ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), waiter.tid(), SIGUSR1));
  ASSERT_TRUE(WaitHandled(1));
  Settle();
  EXPECT_FALSE(waiter.done()) << "returned " << waiter.ret() << " (" << strerror(waiter.err())
                              << ") instead of restarting";
  EXPECT_EQ(1, WakeUntil(w.p(), 1, FUTEX_WAKE_PRIVATE));
  ASSERT_TRUE(waiter.WaitDone());
  EXPECT_EQ(0, waiter.ret());
}

// With a timeout, Linux returns EINTR to a handled signal even with
// SA_RESTART (the restart goes through restart_syscall, which a handler
// turns into EINTR).
TEST(FutexTest, SignalHandlerInterruptsATimedWaitEvenWithSaRestart) {
  ScopedSigaction action(SIGUSR1, Handler(SA_RESTART));
  ASSERT_TRUE(action.ok());
  g_handled = 0;
  Word w;
  struct timespec ts = {60, 0};
  Waiter waiter(w.p(), FUTEX_WAIT_PRIVATE, 0, FUTEX_BITSET_MATCH_ANY, &ts);
  Settle();
  ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), waiter.tid(), SIGUSR1));
  ASSERT_TRUE(waiter.WaitDone());
  EXPECT_EQ(1, g_handled.load());
  EXPECT_EQ(-1, waiter.ret());
  EXPECT_EQ(EINTR, waiter.err());
}

}  // namespace
}  // namespace syscall_test
