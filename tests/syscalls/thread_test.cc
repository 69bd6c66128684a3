// Threads, as pthreads(7), clone(2), gettid(2), tgkill(2), exit_group(2),
// _exit(2), fork(2), execve(2) and signal(7) describe them: creation and
// join, shared memory and locks, thread ids, CLONE_CHILD_CLEARTID, signals
// directed at one thread or at the whole process, whole-process exit from
// any thread, and fork/execve from a thread that is not the main one.
//
// Cases that need a process to end (exit_group, execve) run in a forked
// child; such children arm alarm() so that a broken kernel fails them with
// SIGALRM rather than hanging the suite.
#include <dirent.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

int Tgkill(pid_t tgid, pid_t tid, int sig) {
  return static_cast<int>(syscall(SYS_tgkill, tgid, tid, sig));
}

// A one-shot event: Set() once, Wait() until set.
class Event {
 public:
  void Set() {
    std::lock_guard<std::mutex> l(mu_);
    set_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// The kernel clears a thread's tid word (what pthread_join waits for) a
// little before the thread is fully gone: polls until tgkill(2) with signal 0
// reports ESRCH for it, for up to 10 seconds.
bool TidGoesAway(pid_t tid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Tgkill(getpid(), tid, 0) == -1 && errno == ESRCH) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// Arms a SIGALRM that kills a forked child which would otherwise hang.
constexpr unsigned kChildAlarmSeconds = 60;

// ---------------------------------------------------------------------------
// Creation, join, shared state.

TEST(ThreadTest, JoinReturnsEachThreadsResult) {
  constexpr int kThreads = 6;
  pthread_t t[kThreads];
  for (intptr_t i = 0; i < kThreads; ++i) {
    ASSERT_EQ(0, pthread_create(
                     &t[i], nullptr,
                     [](void* arg) -> void* {
                       return reinterpret_cast<void*>(reinterpret_cast<intptr_t>(arg) * 3 + 1);
                     },
                     reinterpret_cast<void*>(i)));
  }
  // Joined in reverse creation order: the order of exits does not matter.
  for (intptr_t i = kThreads - 1; i >= 0; --i) {
    void* ret = nullptr;
    ASSERT_EQ(0, pthread_join(t[i], &ret));
    EXPECT_EQ(i * 3 + 1, reinterpret_cast<intptr_t>(ret)) << "thread " << i;
  }
}

TEST(ThreadTest, MutexProtectedCounterFromEightThreads) {
  constexpr int kThreads = 8;
  constexpr int kIncrements = 10000;
  std::mutex mu;
  volatile long counter = 0;  // read-modify-write races would lose updates
  std::atomic<int> arrived{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      // All threads start incrementing together.
      arrived.fetch_add(1);
      while (arrived.load() < kThreads) sched_yield();
      for (int j = 0; j < kIncrements; ++j) {
        std::lock_guard<std::mutex> l(mu);
        counter = counter + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(static_cast<long>(kThreads) * kIncrements, counter);
}

TEST(ThreadTest, ThreadIdsAreDistinctAndPidIsShared) {
  constexpr int kThreads = 8;
  pid_t tids[kThreads] = {};
  pid_t pids[kThreads] = {};
  std::atomic<int> arrived{0};
  Event release;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      tids[i] = Tid();
      pids[i] = getpid();
      arrived.fetch_add(1);
      release.Wait();  // all alive at once: no tid can have been reused
    });
  }
  while (arrived.load() < kThreads) sched_yield();
  release.Set();
  for (auto& t : threads) t.join();

  EXPECT_EQ(getpid(), Tid()) << "the main thread's tid is the process id";
  std::set<pid_t> seen{Tid()};
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(getpid(), pids[i]) << "thread " << i << " has the process's pid";
    EXPECT_GT(tids[i], 0);
    EXPECT_NE(getpid(), tids[i]) << "thread " << i << " has its own tid";
    seen.insert(tids[i]);
  }
  EXPECT_EQ(static_cast<size_t>(kThreads) + 1, seen.size()) << "all tids distinct";
}

TEST(ThreadTest, ConditionVariablePingPong) {
  constexpr int kRounds = 1000;
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;  // whose turn: 0 or 1
  std::vector<int> log;
  log.reserve(2 * kRounds);
  auto player = [&](int me) {
    for (int r = 0; r < kRounds; ++r) {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return turn == me; });
      log.push_back(me);
      turn = 1 - me;
      cv.notify_all();
    }
  };
  std::thread pong(player, 1);
  std::thread ping(player, 0);
  ping.join();
  pong.join();
  ASSERT_EQ(static_cast<size_t>(2 * kRounds), log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    ASSERT_EQ(static_cast<int>(i % 2), log[i]) << "entry " << i << " out of turn";
  }
}

// pthread_exit(3) from a nested call ends only that thread: cleanup handlers
// and thread_local destructors run and the joiner gets the value, while the
// main thread carries on.
std::atomic<int> g_tls_destructed{0};
struct TlsWithDestructor {
  int value = 0;
  ~TlsWithDestructor() {
    if (value == 77) g_tls_destructed.fetch_add(1);
  }
};
thread_local TlsWithDestructor t_with_destructor;

[[noreturn]] void ExitFromNestedCall(int depth) {
  if (depth == 0) pthread_exit(reinterpret_cast<void*>(intptr_t{42}));
  ExitFromNestedCall(depth - 1);
}

TEST(ThreadTest, PthreadExitEndsOnlyThatThread) {
  g_tls_destructed = 0;
  static std::atomic<int> cleanup_ran;
  cleanup_ran = 0;
  Event exited_soon;
  pthread_t t;
  ASSERT_EQ(0, pthread_create(
                   &t, nullptr,
                   [](void* arg) -> void* {
                     t_with_destructor.value = 77;
                     pthread_cleanup_push([](void*) { cleanup_ran.fetch_add(1); }, nullptr);
                     static_cast<Event*>(arg)->Set();
                     ExitFromNestedCall(3);
                     pthread_cleanup_pop(0);
                     return nullptr;
                   },
                   &exited_soon));
  exited_soon.Wait();
  // The main thread keeps running and can create and join other threads.
  int other = 0;
  std::thread([&] { other = 5; }).join();
  EXPECT_EQ(5, other);
  void* ret = nullptr;
  ASSERT_EQ(0, pthread_join(t, &ret));
  EXPECT_EQ(42, reinterpret_cast<intptr_t>(ret));
  EXPECT_EQ(1, cleanup_ran.load()) << "cleanup handler ran once";
  EXPECT_EQ(1, g_tls_destructed.load()) << "thread_local destructor ran at pthread_exit";
  EXPECT_EQ(getpid(), Tid());
}

// pthread_join relies on CLONE_CHILD_CLEARTID: the kernel zeroes the
// thread's tid word and futex-wakes it when the thread exits. Many short
// threads, created and joined in batches.
TEST(ThreadTest, ManyShortThreadsJoinedInBatches) {
  constexpr int kTotal = 200;
  constexpr int kBatch = 25;
  std::vector<int> done(kTotal, 0);
  int joined = 0;
  for (int base = 0; base < kTotal; base += kBatch) {
    pthread_t t[kBatch];
    struct Arg {
      int* slot;
      int index;
    } args[kBatch];
    for (int i = 0; i < kBatch; ++i) {
      args[i] = {&done[base + i], base + i};
      ASSERT_EQ(0, pthread_create(
                       &t[i], nullptr,
                       [](void* p) -> void* {
                         Arg* a = static_cast<Arg*>(p);
                         *a->slot = a->index + 1;
                         return reinterpret_cast<void*>(static_cast<intptr_t>(a->index));
                       },
                       &args[i]))
          << "thread " << base + i;
    }
    for (int i = 0; i < kBatch; ++i) {
      void* ret = nullptr;
      ASSERT_EQ(0, pthread_join(t[i], &ret));
      EXPECT_EQ(base + i, reinterpret_cast<intptr_t>(ret));
      // What the thread wrote before exiting is visible after join.
      EXPECT_EQ(base + i + 1, done[base + i]);
      ++joined;
    }
  }
  EXPECT_EQ(kTotal, joined);
}

// The same, without pthreads: a raw clone(CLONE_THREAD | CLONE_PARENT_SETTID
// | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) thread. The parent tid word
// gets the new tid, the child tid word too, and it becomes 0 (with a futex
// wake) when the thread exits.
struct RawThreadState {
  alignas(4) volatile pid_t ptid;
  alignas(4) volatile pid_t ctid;
  volatile pid_t seen_tid;
  volatile pid_t seen_pid;
  volatile int ran;
};

int RawThreadMain(void* arg) {
  // Runs on the parent's TLS: only raw syscalls and plain stores here.
  auto* s = static_cast<RawThreadState*>(arg);
  s->seen_tid = static_cast<pid_t>(syscall(SYS_gettid));
  s->seen_pid = static_cast<pid_t>(syscall(SYS_getpid));
  s->ran = 1;
  return 0;  // glibc's clone() then makes the exit (not exit_group) syscall
}

TEST(ThreadTest, RawCloneChildClearTidWakesJoiner) {
  constexpr size_t kStack = 256 * 1024;
  void* stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(MAP_FAILED, stack) << strerror(errno);
  static RawThreadState s;
  s.ptid = -1;
  s.ctid = -1;
  s.seen_tid = 0;
  s.seen_pid = 0;
  s.ran = 0;
  int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
              CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
  int tid = clone(RawThreadMain, static_cast<char*>(stack) + kStack, flags, &s,
                  const_cast<pid_t*>(&s.ptid), nullptr, const_cast<pid_t*>(&s.ctid));
  ASSERT_GT(tid, 0) << strerror(errno);
  EXPECT_EQ(tid, s.ptid) << "CLONE_PARENT_SETTID stores the tid before clone returns";
  // Wait for the kernel to clear ctid, as pthread_join does.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    pid_t v = s.ctid;
    if (v == 0) break;
    if (std::chrono::steady_clock::now() > deadline) break;
    struct timespec ts = {1, 0};
    syscall(SYS_futex, &s.ctid, FUTEX_WAIT, v, &ts, nullptr, 0);
  }
  ASSERT_EQ(0, s.ctid) << "CLONE_CHILD_CLEARTID: the tid word is zeroed at thread exit";
  EXPECT_EQ(1, s.ran);
  EXPECT_EQ(tid, s.seen_tid) << "gettid() in the new thread";
  EXPECT_EQ(getpid(), s.seen_pid) << "getpid() in the new thread";
  // The thread is gone: nothing answers to its tid in our thread group.
  EXPECT_TRUE(TidGoesAway(tid)) << "tgkill(getpid(), exited thread's tid, 0) never failed with ESRCH";
  munmap(stack, kStack);
}

TEST(ThreadTest, ThreadBlockedInReadIsWokenByWriteFromAnotherThread) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  std::atomic<bool> returned{false};
  ssize_t n = -2;
  char buf[16] = {};
  std::thread reader([&] {
    n = read(p.rd(), buf, sizeof buf);
    returned = true;
  });
  // Gives the reader time to block; it cannot return before the write.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(returned.load()) << "read() on an empty pipe returned early";
  ASSERT_TRUE(WriteAll(p.wr(), "wake", 4));
  reader.join();
  EXPECT_EQ(4, n);
  EXPECT_EQ(std::string("wake"), std::string(buf, 4));
}

TEST(ThreadTest, SchedYieldAndYieldingPingPong) {
  EXPECT_EQ(0, sched_yield());
  // Two threads take turns by spinning on sched_yield(): this finishes only
  // if a yielding thread lets the other one run.
  constexpr int kRounds = 500;
  std::atomic<int> turn{0};
  std::atomic<int> steps{0};
  auto player = [&](int me) {
    for (int r = 0; r < kRounds; ++r) {
      while (turn.load() != me) {
        if (sched_yield() != 0) return;
      }
      steps.fetch_add(1);
      turn.store(1 - me);
    }
  };
  std::thread a(player, 0);
  std::thread b(player, 1);
  a.join();
  b.join();
  EXPECT_EQ(2 * kRounds, steps.load());
}

thread_local int t_value = 7;

TEST(ThreadTest, ThreadLocalVariablesAreDistinctPerThread) {
  t_value = 1000;  // the main thread's copy
  constexpr int kThreads = 6;
  int initial[kThreads] = {};
  int final_value[kThreads] = {};
  uintptr_t addr[kThreads] = {};
  std::atomic<int> arrived{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      initial[i] = t_value;
      addr[i] = reinterpret_cast<uintptr_t>(&t_value);
      t_value = i;
      arrived.fetch_add(1);
      // Everyone has written its own copy before anyone reads it back.
      while (arrived.load() < kThreads) sched_yield();
      final_value[i] = t_value;
    });
  }
  for (auto& t : threads) t.join();
  std::set<uintptr_t> addrs{reinterpret_cast<uintptr_t>(&t_value)};
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(7, initial[i]) << "a new thread starts with the initializer's value";
    EXPECT_EQ(i, final_value[i]) << "thread " << i << "'s copy changed under it";
    addrs.insert(addr[i]);
  }
  EXPECT_EQ(static_cast<size_t>(kThreads) + 1, addrs.size()) << "one copy per thread";
  EXPECT_EQ(1000, t_value) << "the main thread's copy is untouched";
}

// ---------------------------------------------------------------------------
// Signals and threads.

std::atomic<pid_t> g_handler_tid{0};
std::atomic<int> g_handler_count{0};

void RecordTidHandler(int) {
  g_handler_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  g_handler_count.fetch_add(1);
}

struct sigaction HandlerAction(void (*fn)(int)) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  return sa;
}

TEST(ThreadTest, TgkillRunsHandlerOnTheTargetThread) {
  ScopedSigaction action(SIGUSR1, HandlerAction(RecordTidHandler));
  ASSERT_TRUE(action.ok());
  g_handler_tid = 0;
  g_handler_count = 0;
  std::atomic<pid_t> worker_tid{0};
  std::thread worker([&] {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    worker_tid = Tid();
    sigset_t wait_mask = old;
    sigdelset(&wait_mask, SIGUSR1);
    // A signal sent before we get here stays pending on this thread.
    while (g_handler_count.load() == 0) sigsuspend(&wait_mask);
  });
  while (worker_tid.load() == 0) sched_yield();
  // The main thread has SIGUSR1 unblocked: only the tid decides.
  ASSERT_EQ(0, Tgkill(getpid(), worker_tid, SIGUSR1)) << strerror(errno);
  worker.join();
  EXPECT_EQ(1, g_handler_count.load());
  EXPECT_EQ(worker_tid.load(), g_handler_tid.load()) << "the handler ran on the target thread";
  EXPECT_NE(Tid(), g_handler_tid.load());
}

// A signal sent while its target unblocks it (sigsuspend) is never lost:
// whichever comes first, the handler runs once. Repeated, because the
// window is a few instructions wide.
TEST(ThreadTest, TgkillRacingSigsuspendIsNeverLost) {
  ScopedSigaction action(SIGUSR1, HandlerAction(RecordTidHandler));
  ASSERT_TRUE(action.ok());
  for (int round = 0; round < 200; ++round) {
    g_handler_count = 0;
    std::atomic<pid_t> worker_tid{0};
    std::thread worker([&] {
      sigset_t block, old;
      sigemptyset(&block);
      sigaddset(&block, SIGUSR1);
      pthread_sigmask(SIG_BLOCK, &block, &old);
      worker_tid = Tid();
      sigset_t wait_mask = old;
      sigdelset(&wait_mask, SIGUSR1);
      while (g_handler_count.load() == 0) sigsuspend(&wait_mask);
    });
    while (worker_tid.load() == 0) sched_yield();
    ASSERT_EQ(0, Tgkill(getpid(), worker_tid, SIGUSR1)) << strerror(errno);
    worker.join();
    ASSERT_EQ(1, g_handler_count.load()) << "round " << round;
  }
}

TEST(ThreadTest, TgkillFromAThreadToTheMainThread) {
  ScopedSigaction action(SIGUSR1, HandlerAction(RecordTidHandler));
  ASSERT_TRUE(action.ok());
  ScopedSigmask mask;
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, &old));
  g_handler_tid = 0;
  g_handler_count = 0;
  pid_t main_tid = Tid();
  int sent = -1;
  int sent_errno = 0;
  std::thread worker([&] {
    // This thread inherited the blocked mask; the signal is not for it.
    sent = Tgkill(getpid(), main_tid, SIGUSR1);
    sent_errno = errno;
  });
  worker.join();
  ASSERT_EQ(0, sent) << strerror(sent_errno);
  EXPECT_EQ(0, g_handler_count.load()) << "delivered while blocked";
  sigset_t pending;
  ASSERT_EQ(0, sigpending(&pending));
  EXPECT_TRUE(sigismember(&pending, SIGUSR1)) << "pending on the main thread";
  sigset_t wait_mask = old;
  sigdelset(&wait_mask, SIGUSR1);
  while (g_handler_count.load() == 0) sigsuspend(&wait_mask);
  EXPECT_EQ(1, g_handler_count.load());
  EXPECT_EQ(main_tid, g_handler_tid.load());
}

TEST(ThreadTest, TgkillErrors) {
  EXPECT_EQ(0, Tgkill(getpid(), Tid(), 0)) << "signal 0 checks the thread exists";
  // A thread that has exited and been joined.
  std::atomic<pid_t> dead_tid{0};
  std::thread([&] { dead_tid = Tid(); }).join();
  EXPECT_TRUE(TidGoesAway(dead_tid)) << "tgkill(getpid(), joined thread's tid, 0) never failed with ESRCH";
  // A live thread of ours named with another process's tgid.
  BlockedChild other = ForkBlockedChild(0);
  ASSERT_GT(other.pid, 0);
  EXPECT_EQ(-1, Tgkill(other.pid, Tid(), 0));
  EXPECT_EQ(ESRCH, errno) << "tid not in that thread group";
  other.Release();
  EXPECT_EXITED_WITH(WaitStatus(other.pid), 0);
  EXPECT_EQ(-1, Tgkill(0, Tid(), 0));
  EXPECT_EQ(EINVAL, errno) << "tgid 0";
  EXPECT_EQ(-1, Tgkill(getpid(), 0, 0));
  EXPECT_EQ(EINVAL, errno) << "tid 0";
  EXPECT_EQ(-1, Tgkill(getpid(), Tid(), 65));
  EXPECT_EQ(EINVAL, errno) << "signal 65";
}

// A process-directed signal goes to a thread that does not block it: with
// SIGUSR2 blocked in all threads but one, that one runs the handler.
TEST(ThreadTest, ProcessDirectedSignalGoesToTheOnlyThreadNotBlockingIt) {
  ScopedSigaction action(SIGUSR2, HandlerAction(RecordTidHandler));
  ASSERT_TRUE(action.ok());
  ScopedSigmask mask;
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, nullptr));  // inherited by the threads

  constexpr int kThreads = 4;
  for (int chosen = 0; chosen < kThreads; ++chosen) {
    SCOPED_TRACE("unblocked in thread " + std::to_string(chosen));
    g_handler_tid = 0;
    g_handler_count = 0;
    std::atomic<pid_t> tids[kThreads] = {};
    Event release;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        tids[i] = Tid();
        if (i == chosen) {
          sigset_t wait_mask;
          pthread_sigmask(SIG_SETMASK, nullptr, &wait_mask);
          sigdelset(&wait_mask, SIGUSR2);
          while (g_handler_count.load() == 0) sigsuspend(&wait_mask);
        } else {
          release.Wait();
        }
      });
    }
    for (int i = 0; i < kThreads; ++i) {
      while (tids[i].load() == 0) sched_yield();
    }
    ASSERT_EQ(0, kill(getpid(), SIGUSR2));
    threads[chosen].join();
    release.Set();
    for (int i = 0; i < kThreads; ++i) {
      if (i != chosen) threads[i].join();
    }
    EXPECT_EQ(1, g_handler_count.load());
    EXPECT_EQ(tids[chosen].load(), g_handler_tid.load());
    sigset_t pending;
    sigpending(&pending);
    EXPECT_FALSE(sigismember(&pending, SIGUSR2)) << "delivered once, not left pending";
  }
}

TEST(ThreadTest, SignalMaskIsPerThreadAndInheritedDispositionsShared) {
  ScopedSigmask mask;
  ScopedSigaction saved(SIGUSR2);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, nullptr));
  bool inherited_usr1 = false;
  bool own_usr2 = false;
  std::thread([&] {
    sigset_t m;
    pthread_sigmask(SIG_SETMASK, nullptr, &m);
    inherited_usr1 = sigismember(&m, SIGUSR1);
    sigset_t change;
    sigemptyset(&change);
    sigaddset(&change, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &change, nullptr);
    sigemptyset(&change);
    sigaddset(&change, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &change, nullptr);
    pthread_sigmask(SIG_SETMASK, nullptr, &m);
    own_usr2 = sigismember(&m, SIGUSR2) && !sigismember(&m, SIGUSR1);
    // Dispositions are per process: this one is seen by the main thread.
    struct sigaction sa = HandlerAction(RecordTidHandler);
    sigaction(SIGUSR2, &sa, nullptr);
  }).join();
  EXPECT_TRUE(inherited_usr1) << "a new thread starts with its creator's mask";
  EXPECT_TRUE(own_usr2) << "the thread changed its own mask";
  sigset_t m;
  ASSERT_EQ(0, sigprocmask(SIG_SETMASK, nullptr, &m));
  EXPECT_TRUE(sigismember(&m, SIGUSR1)) << "main thread's mask unchanged by the thread";
  EXPECT_FALSE(sigismember(&m, SIGUSR2)) << "main thread's mask unchanged by the thread";
  struct sigaction now {};
  ASSERT_EQ(0, sigaction(SIGUSR2, nullptr, &now));
  EXPECT_EQ(reinterpret_cast<void*>(RecordTidHandler), reinterpret_cast<void*>(now.sa_handler))
      << "a handler installed by one thread is the process's";
}

// ---------------------------------------------------------------------------
// Process-wide effects from other threads (in forked children).

TEST(ThreadTest, ExitGroupFromANonMainThreadEndsTheProcess) {
  int status = RunInChild([] {
    alarm(kChildAlarmSeconds);
    Pipe never;  // a third thread blocks reading it, forever
    CHILD_CHECK(never.ok());
    std::thread blocked([&] {
      char c;
      (void)!read(never.rd(), &c, 1);
    });
    blocked.detach();
    std::thread exiter([] { _exit(42); });
    exiter.detach();
    for (;;) pause();  // the main thread only goes when the group does
    return 0;
  });
  EXPECT_EXITED_WITH(status, 42);
}

TEST(ThreadTest, MainThreadExitLeavesTheProcessRunning) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    alarm(kChildAlarmSeconds);
    p.CloseRead();
    pthread_t main_thread = pthread_self();
    pid_t pid_before = getpid();
    int wr = p.wr();
    std::thread worker([=] {
      // Returns once the kernel has cleared the main thread's tid word.
      void* ret;
      CHILD_CHECK(pthread_join(main_thread, &ret) == 0);
      CHILD_CHECK(getpid() == pid_before);
      CHILD_CHECK(WriteAll(wr, "alive", 5));
      exit(5);
    });
    worker.detach();
    // The exit (not exit_group) syscall: only this thread ends.
    syscall(SYS_exit, 0);
    return 98;
  });
  ASSERT_GT(pid, 0);
  p.CloseWrite();
  EXPECT_EQ("alive", ReadToEof(p.rd()));
  EXPECT_EXITED_WITH(WaitStatus(pid), 5);
}

TEST(ThreadTest, ForkFromANonMainThreadGivesASingleThreadedChild) {
  Pipe hold;  // idle threads block reading it until the end
  ASSERT_TRUE(hold.ok());
  std::vector<std::thread> idle;
  for (int i = 0; i < 3; ++i) {
    idle.emplace_back([&] {
      char c;
      (void)!read(hold.rd(), &c, 1);
    });
  }
  pid_t parent = getpid();
  int status = -1;
  pid_t child = -1;
  std::thread forker([&] {
    fflush(nullptr);
    child = fork();
    if (child == 0) {
      alarm(kChildAlarmSeconds);
      // The forking thread is the child's only (and so main) thread.
      CHILD_CHECK(static_cast<pid_t>(syscall(SYS_gettid)) == getpid());
      CHILD_CHECK(getppid() == parent);
      DIR* d = opendir("/proc/self/task");
      if (d != nullptr) {  // /proc may be absent; when present, one task
        int n = 0;
        while (struct dirent* e = readdir(d)) {
          if (e->d_name[0] != '.') ++n;
        }
        closedir(d);
        CHILD_CHECK(n == 1);
      }
      // The child can create, join and lock like any process.
      std::mutex mu;
      int v = 0;
      std::thread([&] {
        std::lock_guard<std::mutex> l(mu);
        v = 3;
      }).join();
      std::lock_guard<std::mutex> l(mu);
      CHILD_CHECK(v == 3);
      _exit(7);
    }
    if (child > 0) status = WaitStatus(child);
  });
  forker.join();
  for (size_t i = 0; i < idle.size(); ++i) (void)!write(hold.wr(), "x", 1);
  for (auto& t : idle) t.join();
  ASSERT_GT(child, 0) << "fork from a thread failed";
  EXPECT_EXITED_WITH(status, 7);
}

// execve(2) from a non-main thread: the other threads are killed, the
// execing thread takes over the thread group id.
TEST(ThreadTest, ExecveFromANonMainThread) {
  int status = RunInChild([] {
    alarm(kChildAlarmSeconds);
    std::thread execer([] {
      char* const argv[] = {const_cast<char*>("true"), nullptr};
      execve("/bin/true", argv, environ);
      _exit(98);
    });
    execer.detach();
    for (;;) pause();
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(ThreadTest, ExecveFromANonMainThreadKeepsTheProcessId) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    alarm(kChildAlarmSeconds);
    CHILD_CHECK(dup2(p.wr(), 1) == 1);
    p.CloseRead();
    p.CloseWrite();
    std::thread execer([] {
      char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                            const_cast<char*>("echo $$"), nullptr};
      execve("/bin/sh", argv, environ);
      _exit(98);
    });
    execer.detach();
    for (;;) pause();
    return 0;
  });
  ASSERT_GT(pid, 0);
  p.CloseWrite();
  std::string out = ReadToEof(p.rd());
  EXPECT_EQ(std::to_string(pid) + "\n", out) << "the new program runs with the old pid";
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

}  // namespace
}  // namespace syscall_test
