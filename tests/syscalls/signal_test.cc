// Signal delivery to handlers, as sigaction(2), sigprocmask(2),
// sigaltstack(2), sigreturn(2), sigsuspend(2), sigtimedwait(2),
// sigqueue(3)/rt_sigqueueinfo(2) and signal(7) describe it: siginfo
// contents, masks during and after handlers, ucontext (registers changed by a
// handler are what the interrupted code resumes with), hardware faults,
// alternate stacks, restarts and FPU state. All in the main (only) thread;
// cross-process cases fork.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <iterator>
#include <string>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

// ---------------------------------------------------------------------------
// What handlers saw. Written only by handlers, read after they return.

struct Record {
  int signo;
  siginfo_t info;
  sigset_t mask;         // sigprocmask() inside the handler
  sigset_t uc_mask;      // the ucontext's saved (interrupted) mask
  uintptr_t stack_addr;  // address of a local variable of the handler
  uintptr_t ip;          // the interrupted RIP (fault handlers)
  stack_t altstack;      // sigaltstack() query inside the handler
  int altstack_set_ret;  // sigaltstack() change attempt inside the handler
  int altstack_set_errno;
};

constexpr int kMaxRecords = 16;
Record g_records[kMaxRecords];
volatile sig_atomic_t g_count = 0;
// A log of handler entries (+sig) and exits (-sig), to check nesting.
int g_log[kMaxRecords];
volatile sig_atomic_t g_log_len = 0;

void Log(int v) {
  if (g_log_len < kMaxRecords) g_log[g_log_len] = v;
  g_log_len = g_log_len + 1;
}

Record* NextRecord(int sig, siginfo_t* si, void* ucv) {
  int i = g_count;
  g_count = i + 1;
  if (i >= kMaxRecords) return nullptr;
  Record* r = &g_records[i];
  r->signo = sig;
  if (si != nullptr) memcpy(&r->info, si, sizeof *si);
  sigprocmask(SIG_SETMASK, nullptr, &r->mask);
  if (ucv != nullptr) {
    memcpy(&r->uc_mask, &static_cast<ucontext_t*>(ucv)->uc_sigmask, sizeof r->uc_mask);
  }
  return r;
}

void RecordingHandler(int sig, siginfo_t* si, void* ucv) {
  Log(sig);
  volatile char local = 0;
  Record* r = NextRecord(sig, si, ucv);
  if (r != nullptr) {
    r->stack_addr = reinterpret_cast<uintptr_t>(&local);
    sigaltstack(nullptr, &r->altstack);
  }
  Log(-sig);
}

void ResetRecords() {
  memset(g_records, 0, sizeof g_records);
  g_count = 0;
  memset(g_log, 0, sizeof g_log);
  g_log_len = 0;
}

// The signals tests touch; their dispositions are restored after each test.
const int kTestSignals[] = {SIGUSR1, SIGUSR2, SIGSEGV, SIGFPE,  SIGILL,
                            SIGTRAP, SIGBUS,  SIGALRM, SIGPIPE, SIGCHLD};

alignas(16) char g_altstack[256 * 1024];

class SignalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sigprocmask(SIG_SETMASK, nullptr, &saved_mask_);
    for (size_t i = 0; i < std::size(kTestSignals); i++) {
      sigaction(kTestSignals[i], nullptr, &saved_actions_[i]);
    }
    for (int i = 0; i < 3; i++) sigaction(SIGRTMIN + i, nullptr, &saved_rt_[i]);
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, nullptr);
    ResetRecords();
  }

  void TearDown() override {
    // SIG_IGN discards whatever a test left pending, then restore.
    struct sigaction ign = {};
    ign.sa_handler = SIG_IGN;
    for (size_t i = 0; i < std::size(kTestSignals); i++) {
      if (kTestSignals[i] != SIGCHLD) sigaction(kTestSignals[i], &ign, nullptr);
      sigaction(kTestSignals[i], &saved_actions_[i], nullptr);
    }
    for (int i = 0; i < 3; i++) {
      sigaction(SIGRTMIN + i, &ign, nullptr);
      sigaction(SIGRTMIN + i, &saved_rt_[i], nullptr);
    }
    sigprocmask(SIG_SETMASK, &saved_mask_, nullptr);
    stack_t ss = {};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
  }

  // Installs RecordingHandler (or h) with SA_SIGINFO | flags and sa_mask.
  static void Install(int sig, int flags = 0, const sigset_t* mask = nullptr,
                      void (*h)(int, siginfo_t*, void*) = RecordingHandler) {
    struct sigaction sa = {};
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO | flags;
    if (mask != nullptr) {
      sa.sa_mask = *mask;
    } else {
      sigemptyset(&sa.sa_mask);
    }
    ASSERT_EQ(sigaction(sig, &sa, nullptr), 0) << "signal " << sig << ": " << strerror(errno);
  }

  static bool IsBlocked(int sig) {
    sigset_t cur;
    sigprocmask(SIG_SETMASK, nullptr, &cur);
    return sigismember(&cur, sig) == 1;
  }

  static bool IsPending(int sig) {
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig) == 1;
  }

  static void Block(int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, nullptr), 0);
  }

  static void Unblock(int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ASSERT_EQ(sigprocmask(SIG_UNBLOCK, &set, nullptr), 0);
  }

 private:
  sigset_t saved_mask_;
  struct sigaction saved_actions_[std::size(kTestSignals)];
  struct sigaction saved_rt_[3];
};

void OtherHandler(int, siginfo_t*, void*) {}

// ---------------------------------------------------------------------------
// sigaction(2)

TEST_F(SignalTest, SigactionReturnsThePreviousAction) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR2);
  Install(SIGUSR1, SA_RESTART, &mask);
  struct sigaction next = {};
  next.sa_sigaction = OtherHandler;
  next.sa_flags = SA_SIGINFO;
  struct sigaction old = {};
  ASSERT_EQ(sigaction(SIGUSR1, &next, &old), 0);
  EXPECT_EQ(old.sa_sigaction, RecordingHandler);
  EXPECT_TRUE(old.sa_flags & SA_SIGINFO);
  EXPECT_TRUE(old.sa_flags & SA_RESTART);
  EXPECT_FALSE(old.sa_flags & SA_NODEFER);
  EXPECT_EQ(sigismember(&old.sa_mask, SIGUSR2), 1);
  EXPECT_EQ(sigismember(&old.sa_mask, SIGALRM), 0);
  // A query (act == NULL) changes nothing.
  struct sigaction q1 = {}, q2 = {};
  ASSERT_EQ(sigaction(SIGUSR1, nullptr, &q1), 0);
  ASSERT_EQ(sigaction(SIGUSR1, nullptr, &q2), 0);
  EXPECT_EQ(q1.sa_sigaction, OtherHandler);
  EXPECT_EQ(q2.sa_sigaction, OtherHandler);
  EXPECT_FALSE(q2.sa_flags & SA_RESTART);
}

TEST_F(SignalTest, SigactionRejectsInvalidSignals) {
  struct sigaction sa = {};
  sa.sa_handler = SIG_IGN;
  errno = 0;
  EXPECT_EQ(sigaction(0, &sa, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  // The raw system call: signal 65 and a wrong sigsetsize.
  struct KernelSigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    uint64_t mask;
  } ksa = {reinterpret_cast<void*>(SIG_IGN), 0, nullptr, 0}, kold = {};
  errno = 0;
  EXPECT_EQ(syscall(SYS_rt_sigaction, 65, &ksa, nullptr, 8), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(syscall(SYS_rt_sigaction, SIGUSR1, nullptr, &kold, 4), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(syscall(SYS_rt_sigaction, SIGUSR1, nullptr, &kold, 8), 0);
}

TEST_F(SignalTest, SigkillAndSigstopCannotBeCaughtOrIgnored) {
  struct sigaction sa = {};
  sa.sa_sigaction = RecordingHandler;
  sa.sa_flags = SA_SIGINFO;
  for (int sig : {SIGKILL, SIGSTOP}) {
    errno = 0;
    EXPECT_EQ(sigaction(sig, &sa, nullptr), -1) << "signal " << sig;
    EXPECT_EQ(errno, EINVAL);
    struct sigaction ign = {};
    ign.sa_handler = SIG_IGN;
    errno = 0;
    EXPECT_EQ(sigaction(sig, &ign, nullptr), -1) << "signal " << sig;
    EXPECT_EQ(errno, EINVAL);
    // Querying them is fine, and they are at their default.
    struct sigaction old = {};
    EXPECT_EQ(sigaction(sig, nullptr, &old), 0);
    EXPECT_EQ(old.sa_handler, SIG_DFL);
  }
}

TEST_F(SignalTest, IgnoredSignalIsDiscarded) {
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGUSR1, &ign, nullptr), 0);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  EXPECT_FALSE(IsPending(SIGUSR1));
}

TEST_F(SignalTest, BlockedIgnoredSignalStaysPendingUntilUnblocked) {
  // POSIX leaves it open; Linux never ignores a blocked signal at generation
  // (the disposition may change before it is unblocked): it is pending, and
  // is discarded when unblocked while still ignored.
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGUSR1, &ign, nullptr), 0);
  Block(SIGUSR1);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  EXPECT_TRUE(IsPending(SIGUSR1));
  Unblock(SIGUSR1);
  EXPECT_FALSE(IsPending(SIGUSR1));
  // Changing the disposition to a handler before unblocking delivers it.
  Block(SIGUSR1);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  Install(SIGUSR1);
  Unblock(SIGUSR1);
  EXPECT_EQ(g_count, 1);
}

TEST_F(SignalTest, SettingSigIgnDiscardsAPendingSignal) {
  Install(SIGUSR1);
  Block(SIGUSR1);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  ASSERT_TRUE(IsPending(SIGUSR1));
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGUSR1, &ign, nullptr), 0);
  EXPECT_FALSE(IsPending(SIGUSR1));
  Install(SIGUSR1);
  Unblock(SIGUSR1);
  EXPECT_EQ(g_count, 0);
}

// ---------------------------------------------------------------------------
// siginfo for signals sent by processes

TEST_F(SignalTest, KillGivesSiUserWithSendersPidAndUid) {
  Install(SIGUSR1);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  // A signal sent to oneself and not blocked is delivered before kill returns.
  ASSERT_EQ(g_count, 1);
  const siginfo_t& si = g_records[0].info;
  EXPECT_EQ(si.si_signo, SIGUSR1);
  EXPECT_EQ(si.si_code, SI_USER);
  EXPECT_EQ(si.si_pid, getpid());
  EXPECT_EQ(si.si_uid, getuid());
}

TEST_F(SignalTest, TgkillGivesSiTkill) {
  Install(SIGUSR2);
  ASSERT_EQ(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2), 0) << strerror(errno);
  ASSERT_EQ(g_count, 1);
  const siginfo_t& si = g_records[0].info;
  EXPECT_EQ(si.si_signo, SIGUSR2);
  EXPECT_EQ(si.si_code, SI_TKILL);
  EXPECT_EQ(si.si_pid, getpid());
  EXPECT_EQ(si.si_uid, getuid());
  errno = 0;
  EXPECT_EQ(syscall(SYS_tgkill, getpid(), ReapedPid(), SIGUSR2), -1) << "no such thread";
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(SignalTest, SigqueueGivesSiQueueAndValue) {
  Install(SIGUSR1);
  union sigval v;
  v.sival_int = 1234;
  ASSERT_EQ(sigqueue(getpid(), SIGUSR1, v), 0) << strerror(errno);
  ASSERT_EQ(g_count, 1);
  const siginfo_t& si = g_records[0].info;
  EXPECT_EQ(si.si_signo, SIGUSR1);
  EXPECT_EQ(si.si_code, SI_QUEUE);
  EXPECT_EQ(si.si_value.sival_int, 1234);
  EXPECT_EQ(si.si_pid, getpid());
}

TEST_F(SignalTest, RtSigqueueinfoToSelfKeepsTheGivenSiginfo) {
  Install(SIGUSR2);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGUSR2;
  si.si_code = -10;  // any negative code may be sent
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = 77;
  ASSERT_EQ(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, &si), 0) << strerror(errno);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_records[0].info.si_code, -10);
  EXPECT_EQ(g_records[0].info.si_value.sival_int, 77);
  EXPECT_EQ(g_records[0].info.si_pid, getpid());
}

TEST_F(SignalTest, RtSigqueueinfoWithKernelCodeToAnotherProcessGivesEperm) {
  BlockedChild c = ForkBlockedChild(0);
  ASSERT_GT(c.pid, 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGUSR1;
  si.si_code = SI_USER;  // >= 0: reserved for the kernel
  si.si_pid = getpid();
  errno = 0;
  EXPECT_EQ(syscall(SYS_rt_sigqueueinfo, c.pid, SIGUSR1, &si), -1);
  EXPECT_EQ(errno, EPERM);
  si.si_code = SI_TKILL;
  errno = 0;
  EXPECT_EQ(syscall(SYS_rt_sigqueueinfo, c.pid, SIGUSR1, &si), -1);
  EXPECT_EQ(errno, EPERM);
  c.Release();
  EXPECT_EXITED_WITH(WaitStatus(c.pid), 0) << "nothing was sent";
}

TEST_F(SignalTest, SigqueueToAnotherProcessCarriesValueAndSender) {
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  pid_t parent = getpid();
  pid_t pid = ForkChild([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHILD_CHECK(sigprocmask(SIG_BLOCK, &set, nullptr) == 0);
    CHILD_CHECK(WriteAll(ready.wr(), "r", 1));
    siginfo_t si;
    CHILD_CHECK(sigwaitinfo(&set, &si) == SIGUSR1);
    CHILD_CHECK(si.si_code == SI_QUEUE);
    CHILD_CHECK(si.si_pid == parent);
    CHILD_CHECK(si.si_uid == getuid());
    CHILD_CHECK(si.si_value.sival_int == 99);
    return 0;
  });
  ASSERT_GT(pid, 0);
  char b;
  ASSERT_TRUE(ReadFull(ready.rd(), &b, 1));
  union sigval v;
  v.sival_int = 99;
  ASSERT_EQ(sigqueue(pid, SIGUSR1, v), 0);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST_F(SignalTest, SignalFromAnotherProcessNamesIt) {
  // A handler, though the signal is taken by sigtimedwait: as pid 1 (in a
  // sandbox) nothing else then depends on the init-process rules.
  Install(SIGUSR2);
  Block(SIGUSR2);
  pid_t pid = ForkChild([] { return kill(getppid(), SIGUSR2) == 0 ? 0 : 1; });
  ASSERT_GT(pid, 0);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  siginfo_t si;
  struct timespec timeout = {10, 0};
  ASSERT_EQ(sigtimedwait(&set, &si, &timeout), SIGUSR2) << strerror(errno);
  EXPECT_EQ(si.si_code, SI_USER);
  EXPECT_EQ(si.si_pid, pid);
}

TEST_F(SignalTest, SigtimedwaitTakesASignalWhoseDefaultIsToIgnoreIt) {
  // SIGWINCH's default action is to ignore it, but a blocked signal is
  // never discarded, not even while sigtimedwait(2) waits for it (Linux
  // keeps the mask before the wait in real_blocked for sig_ignored()). The
  // child sends it once the parent is likely waiting already.
  Block(SIGWINCH);
  pid_t pid = ForkChild([] {
    usleep(100 * 1000);
    return kill(getppid(), SIGWINCH) == 0 ? 0 : 1;
  });
  ASSERT_GT(pid, 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  siginfo_t si;
  struct timespec timeout = {10, 0};
  EXPECT_EQ(sigtimedwait(&set, &si, &timeout), SIGWINCH) << strerror(errno);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

// ---------------------------------------------------------------------------
// Masks during and after handlers

TEST_F(SignalTest, SignalIsBlockedInsideItsOwnHandler) {
  Install(SIGUSR1);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(sigismember(&g_records[0].mask, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&g_records[0].uc_mask, SIGUSR1), 0) << "the interrupted mask";
  EXPECT_FALSE(IsBlocked(SIGUSR1)) << "the mask is restored when the handler returns";
}

TEST_F(SignalTest, SaNodeferLeavesTheSignalUnblocked) {
  Install(SIGUSR1, SA_NODEFER);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(sigismember(&g_records[0].mask, SIGUSR1), 0);
}

TEST_F(SignalTest, SaMaskIsBlockedDuringTheHandlerOnly) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR2);
  sigaddset(&mask, SIGALRM);
  Install(SIGUSR1, 0, &mask);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(sigismember(&g_records[0].mask, SIGUSR2), 1);
  EXPECT_EQ(sigismember(&g_records[0].mask, SIGALRM), 1);
  EXPECT_EQ(sigismember(&g_records[0].mask, SIGUSR1), 1);
  EXPECT_FALSE(IsBlocked(SIGUSR2));
  EXPECT_FALSE(IsBlocked(SIGALRM));
}

TEST_F(SignalTest, SaResethandRestoresTheDefaultOnDelivery) {
  Install(SIGUSR2, SA_RESETHAND);
  ASSERT_EQ(raise(SIGUSR2), 0);
  ASSERT_EQ(g_count, 1);
  struct sigaction now = {};
  ASSERT_EQ(sigaction(SIGUSR2, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  // The default action (terminate) applies to the next one: in a child.
  int status = RunInChild([] {
    raise(SIGUSR2);
    return kChildFailed;
  });
  EXPECT_KILLED_BY(status, SIGUSR2);
}

sigset_t g_add_to_uc_mask;

void AddToUcMaskHandler(int sig, siginfo_t* si, void* ucv) {
  NextRecord(sig, si, ucv);
  ucontext_t* uc = static_cast<ucontext_t*>(ucv);
  for (int s = 1; s < NSIG; s++) {
    if (sigismember(&g_add_to_uc_mask, s) == 1) sigaddset(&uc->uc_sigmask, s);
  }
}

TEST_F(SignalTest, UcSigmaskIsTheInterruptedMaskAndIsRestoredOnReturn) {
  Block(SIGALRM);
  sigemptyset(&g_add_to_uc_mask);
  sigaddset(&g_add_to_uc_mask, SIGUSR2);
  Install(SIGUSR1, 0, nullptr, AddToUcMaskHandler);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(sigismember(&g_records[0].uc_mask, SIGALRM), 1);
  EXPECT_EQ(sigismember(&g_records[0].uc_mask, SIGUSR1), 0);
  EXPECT_EQ(sigismember(&g_records[0].uc_mask, SIGUSR2), 0);
  // sigreturn installs the (modified) saved mask.
  EXPECT_TRUE(IsBlocked(SIGUSR2)) << "the handler's change to uc_sigmask was ignored";
  EXPECT_TRUE(IsBlocked(SIGALRM));
  EXPECT_FALSE(IsBlocked(SIGUSR1));
}

void NestingHandler(int sig, siginfo_t*, void*) {
  Log(sig);
  if (sig == SIGUSR1) raise(SIGUSR2);
  Log(-sig);
}

TEST_F(SignalTest, SignalRaisedInAHandlerNestsInsideIt) {
  Install(SIGUSR1, 0, nullptr, NestingHandler);
  Install(SIGUSR2, 0, nullptr, NestingHandler);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_log_len, 4);
  EXPECT_EQ(g_log[0], SIGUSR1);
  EXPECT_EQ(g_log[1], SIGUSR2);
  EXPECT_EQ(g_log[2], -SIGUSR2);
  EXPECT_EQ(g_log[3], -SIGUSR1);
}

TEST_F(SignalTest, SignalBlockedByTheHandlerWaitsUntilItReturns) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR2);
  Install(SIGUSR1, 0, &mask, NestingHandler);
  Install(SIGUSR2, 0, nullptr, NestingHandler);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_log_len, 4);
  EXPECT_EQ(g_log[0], SIGUSR1);
  EXPECT_EQ(g_log[1], -SIGUSR1);
  EXPECT_EQ(g_log[2], SIGUSR2);
  EXPECT_EQ(g_log[3], -SIGUSR2);
}

// ---------------------------------------------------------------------------
// sigprocmask(2), sigpending(2)

TEST_F(SignalTest, BlockedSignalIsPendingAndDeliveredOnUnblock) {
  Install(SIGUSR1);
  Block(SIGUSR1);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  EXPECT_EQ(g_count, 0);
  EXPECT_TRUE(IsPending(SIGUSR1));
  Unblock(SIGUSR1);  // delivered before sigprocmask returns
  EXPECT_EQ(g_count, 1);
  EXPECT_FALSE(IsPending(SIGUSR1));
}

TEST_F(SignalTest, BlockedSignalWithDefaultActionIsQueued) {
  // A blocked signal is never discarded at generation, whatever its
  // disposition, and this holds for pid 1 of a pid namespace too (which
  // otherwise never gets signals it has no handler for from inside).
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  ASSERT_EQ(sigaction(SIGUSR2, &dfl, nullptr), 0);
  int rt = SIGRTMIN + 1;
  ASSERT_EQ(sigaction(rt, &dfl, nullptr), 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, rt);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, nullptr), 0);
  ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
  union sigval v;
  v.sival_int = 5;
  ASSERT_EQ(sigqueue(getpid(), rt, v), 0);
  EXPECT_TRUE(IsPending(SIGUSR2));
  EXPECT_TRUE(IsPending(rt));
  struct timespec zero = {0, 0};
  siginfo_t si;
  EXPECT_EQ(sigtimedwait(&set, &si, &zero), SIGUSR2);
  EXPECT_EQ(sigtimedwait(&set, &si, &zero), rt);
  EXPECT_EQ(si.si_value.sival_int, 5);
}

TEST_F(SignalTest, StandardSignalsDoNotQueue) {
  Install(SIGUSR1);
  Block(SIGUSR1);
  for (int i = 0; i < 3; i++) ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  Unblock(SIGUSR1);
  EXPECT_EQ(g_count, 1);
}

// Queues value 100 on hi, then 1, 2, 3 on lo, all blocked.
void QueueRealtimeSignals(int lo, int hi) {
  union sigval v;
  v.sival_int = 100;
  ASSERT_EQ(sigqueue(getpid(), hi, v), 0) << strerror(errno);
  for (int i = 1; i <= 3; i++) {
    v.sival_int = i;
    ASSERT_EQ(sigqueue(getpid(), lo, v), 0) << strerror(errno);
  }
}

TEST_F(SignalTest, RealtimeSignalsQueueAndAreTakenLowestNumberFirst) {
  int lo = SIGRTMIN + 1, hi = SIGRTMIN + 2;
  Install(lo);  // see SignalFromAnotherProcessNamesIt
  Install(hi);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, lo);
  sigaddset(&set, hi);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, nullptr), 0);
  QueueRealtimeSignals(lo, hi);
  struct timespec zero = {0, 0};
  for (int i = 1; i <= 3; i++) {
    siginfo_t si;
    ASSERT_EQ(sigtimedwait(&set, &si, &zero), lo) << "round " << i;
    EXPECT_EQ(si.si_value.sival_int, i) << "queued in order";
    EXPECT_EQ(si.si_code, SI_QUEUE);
  }
  siginfo_t si;
  ASSERT_EQ(sigtimedwait(&set, &si, &zero), hi);
  EXPECT_EQ(si.si_value.sival_int, 100);
  errno = 0;
  EXPECT_EQ(sigtimedwait(&set, &si, &zero), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(SignalTest, QueuedRealtimeSignalsRunTheirHandlerOncePerSignal) {
  int lo = SIGRTMIN + 1, hi = SIGRTMIN + 2;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, lo);
  sigaddset(&set, hi);
  // Each handler blocks the other signal, so that handlers run one at a
  // time (otherwise Linux stacks a frame for each deliverable signal before
  // returning to user mode, and the last one set up runs first).
  Install(lo, 0, &set);
  Install(hi, 0, &set);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, nullptr), 0);
  QueueRealtimeSignals(lo, hi);
  ASSERT_EQ(sigprocmask(SIG_UNBLOCK, &set, nullptr), 0);
  ASSERT_EQ(g_count, 4);
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(g_records[i].signo, lo) << i;
    EXPECT_EQ(g_records[i].info.si_value.sival_int, i + 1) << "queued in order";
  }
  EXPECT_EQ(g_records[3].signo, hi);
  EXPECT_EQ(g_records[3].info.si_value.sival_int, 100);
}

TEST_F(SignalTest, SigprocmaskHowSemanticsAndOldSet) {
  sigset_t a, old;
  sigemptyset(&a);
  sigaddset(&a, SIGUSR1);
  sigaddset(&a, SIGUSR2);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &a, &old), 0);
  EXPECT_EQ(sigismember(&old, SIGUSR1), 0);
  sigset_t b;
  sigemptyset(&b);
  sigaddset(&b, SIGUSR1);
  ASSERT_EQ(sigprocmask(SIG_UNBLOCK, &b, &old), 0);
  EXPECT_EQ(sigismember(&old, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&old, SIGUSR2), 1);
  EXPECT_FALSE(IsBlocked(SIGUSR1));
  EXPECT_TRUE(IsBlocked(SIGUSR2));
  ASSERT_EQ(sigprocmask(SIG_SETMASK, &b, &old), 0);
  EXPECT_TRUE(IsBlocked(SIGUSR1));
  EXPECT_FALSE(IsBlocked(SIGUSR2));
  errno = 0;
  EXPECT_EQ(syscall(SYS_rt_sigprocmask, 99, &a, nullptr, 8), -1) << "invalid how";
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &a, nullptr, 4), -1) << "bad sigsetsize";
  EXPECT_EQ(errno, EINVAL);
  EXPECT_TRUE(IsBlocked(SIGUSR1)) << "the failed calls changed nothing";
  EXPECT_FALSE(IsBlocked(SIGUSR2));
}

TEST_F(SignalTest, SigkillAndSigstopCannotBeBlocked) {
  uint64_t all = ~0ull, now = 0;
  ASSERT_EQ(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, 8), 0);
  ASSERT_EQ(syscall(SYS_rt_sigprocmask, SIG_SETMASK, nullptr, &now, 8), 0);
  EXPECT_EQ(now & (1ull << (SIGKILL - 1)), 0u);
  EXPECT_EQ(now & (1ull << (SIGSTOP - 1)), 0u);
  EXPECT_NE(now & (1ull << (SIGUSR1 - 1)), 0u);
  EXPECT_NE(now & (1ull << (SIGRTMIN - 1)), 0u);
}

// ---------------------------------------------------------------------------
// sigsuspend(2), sigtimedwait(2)

TEST_F(SignalTest, SigsuspendReturnsEintrAfterTheHandlerAndRestoresTheMask) {
  Install(SIGUSR1);
  Block(SIGUSR1);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  ASSERT_EQ(g_count, 0);
  sigset_t during;
  sigemptyset(&during);
  sigaddset(&during, SIGUSR2);
  errno = 0;
  EXPECT_EQ(sigsuspend(&during), -1);
  EXPECT_EQ(errno, EINTR);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(sigismember(&g_records[0].mask, SIGUSR2), 1) << "the handler ran with the suspend mask";
  // The frame saves the mask from before sigsuspend: sigreturn restores it.
  EXPECT_EQ(sigismember(&g_records[0].uc_mask, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&g_records[0].uc_mask, SIGUSR2), 0);
  EXPECT_TRUE(IsBlocked(SIGUSR1)) << "sigsuspend restores the mask from before the call";
  EXPECT_FALSE(IsBlocked(SIGUSR2));
}

TEST_F(SignalTest, SigsuspendWakesForASignalFromAnotherProcess) {
  Install(SIGUSR2);
  Block(SIGUSR2);
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  pid_t pid = ForkChild([&] {
    char b;
    CHILD_CHECK(ReadFull(ready.rd(), &b, 1));
    // Ordering only: whether or not the parent is already suspended, the
    // signal stays pending until it is.
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, nullptr);
    CHILD_CHECK(kill(getppid(), SIGUSR2) == 0);
    return 0;
  });
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WriteAll(ready.wr(), "r", 1));
  sigset_t none;
  sigemptyset(&none);
  errno = 0;
  EXPECT_EQ(sigsuspend(&none), -1);
  EXPECT_EQ(errno, EINTR);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_records[0].info.si_pid, pid);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST_F(SignalTest, SigtimedwaitTakesAPendingSignalWithoutRunningTheHandler) {
  Install(SIGUSR2);
  Block(SIGUSR2);
  ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  struct timespec zero = {0, 0};
  EXPECT_EQ(sigtimedwait(&set, &si, &zero), SIGUSR2);
  EXPECT_EQ(si.si_signo, SIGUSR2);
  EXPECT_EQ(si.si_code, SI_USER);
  EXPECT_EQ(si.si_pid, getpid());
  EXPECT_FALSE(IsPending(SIGUSR2));
  Unblock(SIGUSR2);
  EXPECT_EQ(g_count, 0) << "the signal was consumed, not delivered";
}

TEST_F(SignalTest, SigtimedwaitTimesOutWithEagain) {
  Block(SIGUSR1);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  struct timespec zero = {0, 0};
  errno = 0;
  EXPECT_EQ(sigtimedwait(&set, nullptr, &zero), -1);
  EXPECT_EQ(errno, EAGAIN);
  struct timespec short_wait = {0, 20 * 1000 * 1000};
  errno = 0;
  EXPECT_EQ(sigtimedwait(&set, nullptr, &short_wait), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(SignalTest, SigtimedwaitRejectsAnInvalidTimeout) {
  Block(SIGUSR1);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  struct timespec bad = {0, 2000000000L};
  errno = 0;
  EXPECT_EQ(sigtimedwait(&set, nullptr, &bad), -1);
  EXPECT_EQ(errno, EINVAL);
  struct timespec negative = {-1, 0};
  errno = 0;
  EXPECT_EQ(sigtimedwait(&set, nullptr, &negative), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(SignalTest, SigtimedwaitIsInterruptedByAHandledSignal) {
  Install(SIGUSR2);
  Block(SIGUSR1);
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  pid_t pid = ForkChild([&] {
    char b;
    CHILD_CHECK(ReadFull(ready.rd(), &b, 1));
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, nullptr);
    CHILD_CHECK(kill(getppid(), SIGUSR2) == 0);
    return 0;
  });
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WriteAll(ready.wr(), "r", 1));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  struct timespec timeout = {60, 0};
  errno = 0;
  EXPECT_EQ(sigtimedwait(&set, nullptr, &timeout), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(g_count, 1);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

// ---------------------------------------------------------------------------
// SA_RESTART

TEST_F(SignalTest, ReadIsRestartedWithSaRestart) {
  Install(SIGUSR1, SA_RESTART);
  Pipe data, ready;
  ASSERT_TRUE(data.ok() && ready.ok());
  pid_t pid = ForkChild([&] {
    char b;
    CHILD_CHECK(ReadFull(ready.rd(), &b, 1));
    // Sleeps only order events: the signal lands while the parent is (very
    // likely) blocked in read; the data comes after it.
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, nullptr);
    CHILD_CHECK(kill(getppid(), SIGUSR1) == 0);
    nanosleep(&ts, nullptr);
    CHILD_CHECK(WriteAll(data.wr(), "late", 4));
    return 0;
  });
  ASSERT_GT(pid, 0);
  data.CloseWrite();
  ASSERT_TRUE(WriteAll(ready.wr(), "r", 1));
  char buf[8];
  ssize_t n = read(data.rd(), buf, sizeof buf);
  ASSERT_EQ(n, 4) << "read was not restarted: " << strerror(errno);
  EXPECT_EQ(std::string(buf, 4), "late");
  EXPECT_EQ(g_count, 1);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST_F(SignalTest, ReadFailsWithEintrWithoutSaRestart) {
  Install(SIGUSR1);
  Pipe data, ready, ack(O_NONBLOCK);
  ASSERT_TRUE(data.ok() && ready.ok() && ack.ok());
  pid_t pid = ForkChild([&] {
    char b;
    CHILD_CHECK(ReadFull(ready.rd(), &b, 1));
    // Signal the parent every 50ms until it says its read was interrupted:
    // however the first signal races with its read(), a later one lands in it.
    struct timespec ts = {0, 50 * 1000 * 1000};
    for (int i = 0; i < 1200; i++) {
      CHILD_CHECK(kill(getppid(), SIGUSR1) == 0);
      nanosleep(&ts, nullptr);
      if (read(ack.rd(), &b, 1) == 1) return 0;
    }
    return 1;
  });
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WriteAll(ready.wr(), "r", 1));
  char buf[8];
  errno = 0;
  ssize_t n = read(data.rd(), buf, sizeof buf);
  int read_errno = errno;
  ASSERT_TRUE(WriteAll(ack.wr(), "a", 1));
  EXPECT_EQ(n, -1);
  EXPECT_EQ(read_errno, EINTR);
  EXPECT_GE(g_count, 1);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

// ---------------------------------------------------------------------------
// Hardware faults: siginfo, and ucontext changes honoured by sigreturn

char* volatile g_fault_page = nullptr;
greg_t g_fault_err = 0, g_fault_trapno = 0;

void MprotectOnSegv(int sig, siginfo_t* si, void* ucv) {
  NextRecord(sig, si, ucv);
  ucontext_t* uc = static_cast<ucontext_t*>(ucv);
  g_fault_err = uc->uc_mcontext.gregs[REG_ERR];
  g_fault_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
  mprotect(g_fault_page, 4096, PROT_READ | PROT_WRITE);
}

TEST_F(SignalTest, WriteToReadOnlyPageGivesSegvAccerrAndIsRetried) {
  void* p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  g_fault_page = static_cast<char*>(p);
  Install(SIGSEGV, 0, nullptr, MprotectOnSegv);
  volatile int* target = reinterpret_cast<volatile int*>(g_fault_page + 24);
  EXPECT_EQ(*target, 0) << "readable";
  *target = 42;  // faults once; the handler makes the page writable
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(*target, 42) << "the faulting store was retried";
  const siginfo_t& si = g_records[0].info;
  EXPECT_EQ(si.si_signo, SIGSEGV);
  EXPECT_EQ(si.si_code, SEGV_ACCERR);
  EXPECT_EQ(si.si_addr, g_fault_page + 24);
  munmap(p, 4096);
}

TEST_F(SignalTest, SegvUcontextHasTrapNumberAndPageFaultErrorCode) {
  void* p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  g_fault_page = static_cast<char*>(p);
  Install(SIGSEGV, 0, nullptr, MprotectOnSegv);
  *reinterpret_cast<volatile int*>(g_fault_page) = 1;
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_fault_trapno, 14) << "#PF";
  // The x86 page-fault error code: write (2) | user (4).
  EXPECT_EQ(g_fault_err & 6, 6);
  munmap(p, 4096);
}

void MapOnSegv(int sig, siginfo_t* si, void* ucv) {
  NextRecord(sig, si, ucv);
  ucontext_t* uc = static_cast<ucontext_t*>(ucv);
  g_fault_err = uc->uc_mcontext.gregs[REG_ERR];
  void* page = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(si->si_addr) & ~uintptr_t{4095});
  void* p =
      mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p != MAP_FAILED) static_cast<char*>(p)[100] = 'm';
}

TEST_F(SignalTest, ReadOfUnmappedAddressGivesSegvMaperrAndIsRetried) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(munmap(p, 4096), 0);
  Install(SIGSEGV, 0, nullptr, MapOnSegv);
  volatile char* target = static_cast<volatile char*>(p) + 100;
  char c = *target;  // faults; the handler maps the page back
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(c, 'm') << "the faulting load was retried against the new page";
  EXPECT_EQ(g_records[0].info.si_code, SEGV_MAPERR);
  EXPECT_EQ(g_records[0].info.si_addr, p == nullptr ? nullptr : static_cast<char*>(p) + 100);
  EXPECT_EQ(g_fault_err & 3, 0) << "a read of a non-present page";
  munmap(p, 4096);
}

sigjmp_buf g_jmp;

void LongjmpHandler(int sig, siginfo_t* si, void* ucv) {
  NextRecord(sig, si, ucv);
  siglongjmp(g_jmp, 1);
}

TEST_F(SignalTest, SiglongjmpOutOfASegvHandlerRestoresTheMask) {
  Install(SIGSEGV, 0, nullptr, LongjmpHandler);
  if (sigsetjmp(g_jmp, 1) == 0) {
    *static_cast<volatile int*>(nullptr) = 1;
    FAIL() << "the store to NULL did not fault";
  }
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_records[0].info.si_code, SEGV_MAPERR);
  EXPECT_EQ(g_records[0].info.si_addr, nullptr);
  EXPECT_EQ(sigismember(&g_records[0].mask, SIGSEGV), 1);
  EXPECT_FALSE(IsBlocked(SIGSEGV)) << "siglongjmp restored the sigsetjmp mask";
}

// idivl %ecx is F7 F9: the handler checks the bytes and steps over them,
// setting the quotient (eax) to a marker.
int DivideByEcx(int a, int b) {
  int q;
  asm volatile("cltd\n\tidivl %%ecx" : "=a"(q) : "a"(a), "c"(b) : "rdx", "cc");
  return q;
}

void SkipIdivHandler(int sig, siginfo_t* si, void* ucv) {
  Record* r = NextRecord(sig, si, ucv);
  ucontext_t* uc = static_cast<ucontext_t*>(ucv);
  const unsigned char* ip = reinterpret_cast<const unsigned char*>(uc->uc_mcontext.gregs[REG_RIP]);
  if (r != nullptr) r->ip = reinterpret_cast<uintptr_t>(ip);
  if (ip[0] == 0xf7 && ip[1] == 0xf9) {
    uc->uc_mcontext.gregs[REG_RIP] += 2;
    uc->uc_mcontext.gregs[REG_RAX] = -12345;
  } else {
    _exit(kChildFailed);  // cannot continue safely
  }
}

TEST_F(SignalTest, IntegerDivisionByZeroGivesFpeIntdivAndHandlerCanSkipIt) {
  Install(SIGFPE, 0, nullptr, SkipIdivHandler);
  volatile int zero = 0;
  int q = DivideByEcx(7, zero);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(q, -12345) << "the handler's RAX and RIP were not honoured";
  const siginfo_t& si = g_records[0].info;
  EXPECT_EQ(si.si_signo, SIGFPE);
  EXPECT_EQ(si.si_code, FPE_INTDIV);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(si.si_addr), g_records[0].ip)
      << "si_addr is the faulting instruction";
  // INT_MIN / -1 overflows: the same #DE, reported the same way on Linux.
  volatile int minus_one = -1;
  q = DivideByEcx(INT32_MIN, minus_one);
  ASSERT_EQ(g_count, 2);
  EXPECT_EQ(q, -12345);
  EXPECT_EQ(g_records[1].info.si_code, FPE_INTDIV);
  // And a normal division still works.
  EXPECT_EQ(DivideByEcx(42, 5), 8);
}

void SkipUd2Handler(int sig, siginfo_t* si, void* ucv) {
  Record* r = NextRecord(sig, si, ucv);
  ucontext_t* uc = static_cast<ucontext_t*>(ucv);
  const unsigned char* ip = reinterpret_cast<const unsigned char*>(uc->uc_mcontext.gregs[REG_RIP]);
  if (r != nullptr) r->ip = reinterpret_cast<uintptr_t>(ip);
  if (ip[0] != 0x0f || ip[1] != 0x0b) _exit(kChildFailed);
  uc->uc_mcontext.gregs[REG_RIP] += 2;
}

TEST_F(SignalTest, Ud2GivesSigillIllopnAndHandlerCanSkipIt) {
  Install(SIGILL, 0, nullptr, SkipUd2Handler);
  asm volatile("ud2");
  ASSERT_EQ(g_count, 1);
  const siginfo_t& si = g_records[0].info;
  EXPECT_EQ(si.si_signo, SIGILL);
  EXPECT_EQ(si.si_code, ILL_ILLOPN);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(si.si_addr), g_records[0].ip);
}

void TrapHandler(int sig, siginfo_t* si, void* ucv) {
  Record* r = NextRecord(sig, si, ucv);
  ucontext_t* uc = static_cast<ucontext_t*>(ucv);
  if (r != nullptr) r->ip = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
}

TEST_F(SignalTest, Int3GivesSigtrapWithRipAfterTheInstruction) {
  Install(SIGTRAP, 0, nullptr, TrapHandler);
  asm volatile("int3");
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_records[0].info.si_signo, SIGTRAP);
  EXPECT_EQ(g_records[0].info.si_code, SI_KERNEL);
  const unsigned char* ip = reinterpret_cast<const unsigned char*>(g_records[0].ip);
  EXPECT_EQ(ip[-1], 0xcc) << "RIP is just past the int3";
}

TEST_F(SignalTest, AccessBeyondTheEndOfASharedMemfdMappingGivesSigbus) {
  // No file is written: a memfd is anonymous memory with file semantics.
  int fd = memfd_create("sigbus", MFD_CLOEXEC);
  ASSERT_GE(fd, 0) << "memfd_create: " << strerror(errno);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  void* p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  ASSERT_NE(p, MAP_FAILED);
  volatile char* base = static_cast<volatile char*>(p);
  base[0] = 'x';  // within the file: fine
  Install(SIGBUS, 0, nullptr, LongjmpHandler);
  if (sigsetjmp(g_jmp, 1) == 0) {
    base[4096 + 8] = 'y';
    ADD_FAILURE() << "the store past the end of the file did not fault";
  }
  munmap(p, 8192);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_records[0].info.si_signo, SIGBUS);
  EXPECT_EQ(g_records[0].info.si_code, BUS_ADRERR);
  EXPECT_EQ(g_records[0].info.si_addr, static_cast<char*>(p) + 4096 + 8);
}

// ---------------------------------------------------------------------------
// sigaltstack(2)

void SetAltStack(size_t size = sizeof g_altstack) {
  stack_t ss = {};
  ss.ss_sp = g_altstack;
  ss.ss_size = size;
  ss.ss_flags = 0;
  ASSERT_EQ(sigaltstack(&ss, nullptr), 0) << strerror(errno);
}

bool OnAltStack(uintptr_t addr) {
  uintptr_t lo = reinterpret_cast<uintptr_t>(g_altstack);
  return addr >= lo && addr < lo + sizeof g_altstack;
}

TEST_F(SignalTest, SigaltstackSetQueryAndDisable) {
  SetAltStack();
  stack_t q = {};
  ASSERT_EQ(sigaltstack(nullptr, &q), 0);
  EXPECT_EQ(q.ss_sp, g_altstack);
  EXPECT_EQ(q.ss_size, sizeof g_altstack);
  EXPECT_EQ(q.ss_flags, 0) << "set, and not on it";
  stack_t off = {};
  off.ss_flags = SS_DISABLE;
  stack_t old = {};
  ASSERT_EQ(sigaltstack(&off, &old), 0);
  EXPECT_EQ(old.ss_sp, g_altstack) << "the old stack is returned";
  ASSERT_EQ(sigaltstack(nullptr, &q), 0);
  EXPECT_EQ(q.ss_flags, SS_DISABLE);
}

TEST_F(SignalTest, SigaltstackRejectsTinyStacksAndBadFlags) {
  stack_t ss = {};
  ss.ss_sp = g_altstack;
  ss.ss_size = 1024;  // below MINSIGSTKSZ (2048)
  errno = 0;
  EXPECT_EQ(sigaltstack(&ss, nullptr), -1);
  EXPECT_EQ(errno, ENOMEM);
  ss.ss_size = sizeof g_altstack;
  ss.ss_flags = 0x1234;
  errno = 0;
  EXPECT_EQ(sigaltstack(&ss, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(syscall(SYS_sigaltstack, reinterpret_cast<void*>(8), nullptr), -1);
  EXPECT_EQ(errno, EFAULT);
}

void AltStackHandler(int sig, siginfo_t* si, void* ucv) {
  volatile char local = 0;
  Record* r = NextRecord(sig, si, ucv);
  if (r == nullptr) return;
  r->stack_addr = reinterpret_cast<uintptr_t>(&local);
  sigaltstack(nullptr, &r->altstack);
  stack_t other = {};
  other.ss_sp = g_altstack;
  other.ss_size = 64 * 1024;
  errno = 0;
  r->altstack_set_ret = sigaltstack(&other, nullptr);
  r->altstack_set_errno = errno;
}

TEST_F(SignalTest, SaOnstackHandlerRunsOnTheAlternateStack) {
  SetAltStack();
  Install(SIGUSR1, SA_ONSTACK, nullptr, AltStackHandler);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_count, 1);
  EXPECT_TRUE(OnAltStack(g_records[0].stack_addr)) << std::hex << g_records[0].stack_addr;
  EXPECT_EQ(g_records[0].altstack.ss_flags, SS_ONSTACK);
  EXPECT_EQ(g_records[0].altstack_set_ret, -1) << "changing the stack while on it";
  EXPECT_EQ(g_records[0].altstack_set_errno, EPERM);
  stack_t q = {};
  ASSERT_EQ(sigaltstack(nullptr, &q), 0);
  EXPECT_EQ(q.ss_flags, 0) << "no longer on it after the handler";
  EXPECT_EQ(q.ss_size, sizeof g_altstack) << "the failed change changed nothing";
}

TEST_F(SignalTest, HandlerWithoutSaOnstackUsesTheNormalStack) {
  SetAltStack();
  Install(SIGUSR1, 0, nullptr, AltStackHandler);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_count, 1);
  EXPECT_FALSE(OnAltStack(g_records[0].stack_addr));
  EXPECT_EQ(g_records[0].altstack.ss_flags, 0);
  EXPECT_EQ(g_records[0].altstack_set_ret, 0) << "not on it: may change it";
}

TEST_F(SignalTest, DisabledAlternateStackIsNotUsed) {
  SetAltStack();
  stack_t off = {};
  off.ss_flags = SS_DISABLE;
  ASSERT_EQ(sigaltstack(&off, nullptr), 0);
  Install(SIGUSR1, SA_ONSTACK, nullptr, AltStackHandler);
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_EQ(g_count, 1);
  EXPECT_FALSE(OnAltStack(g_records[0].stack_addr));
  EXPECT_EQ(g_records[0].altstack.ss_flags, SS_DISABLE);
}

volatile int g_recursion_limit = 1 << 30;

int Recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth >= g_recursion_limit) return frame[0];
  return Recurse(depth + 1) + frame[0];
}

void OverflowHandler(int, siginfo_t* si, void*) {
  volatile char local = 0;
  bool on_alt = OnAltStack(reinterpret_cast<uintptr_t>(&local));
  _exit(si->si_signo == SIGSEGV && on_alt ? 0 : 3);
}

TEST_F(SignalTest, StackOverflowIsHandledOnTheAlternateStack) {
  int status = RunInChild([] {
    struct rlimit rl = {1 << 20, 1 << 20};  // a 1 MiB stack overflows quickly
    CHILD_CHECK(setrlimit(RLIMIT_STACK, &rl) == 0);
    stack_t ss = {};
    ss.ss_sp = g_altstack;
    ss.ss_size = sizeof g_altstack;
    CHILD_CHECK(sigaltstack(&ss, nullptr) == 0);
    struct sigaction sa = {};
    sa.sa_sigaction = OverflowHandler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHILD_CHECK(sigaction(SIGSEGV, &sa, nullptr) == 0);
    return Recurse(0) == 0 ? 4 : 5;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// ---------------------------------------------------------------------------
// FPU and vector state across handlers (saved in the signal frame, restored
// by sigreturn)

struct Xmm {
  uint64_t lo, hi;
};

#define XMM_LOAD(n) "movdqu " #n "*16(%[in]), %%xmm" #n "\n\t"
#define XMM_STORE(n) "movdqu %%xmm" #n ", " #n "*16(%[out])\n\t"
#define XMM_ALL(M) \
  M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)

// Loads xmm0-15 from in[], sends itself sig with a tgkill issued from this
// asm (the handler runs on its return), stores xmm0-15 to out[].
long TgkillKeepingXmm(const Xmm* in, Xmm* out, int sig) {
  long ret;
  long pid = getpid(), tid = gettid();
  asm volatile(XMM_ALL(XMM_LOAD) "syscall\n\t" XMM_ALL(XMM_STORE)
               : "=a"(ret)
               : "0"(static_cast<long>(SYS_tgkill)), "D"(pid), "S"(tid),
                 "d"(static_cast<long>(sig)), [in] "r"(in), [out] "r"(out)
               : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
                 "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  return ret;
}

void ClobberXmmHandler(int sig, siginfo_t* si, void* ucv) {
  NextRecord(sig, si, ucv);
  asm volatile(
      "pcmpeqd %%xmm0, %%xmm0\n\t"
      "pcmpeqd %%xmm1, %%xmm1\n\t"
      "pxor %%xmm2, %%xmm2\n\t"
      "pxor %%xmm7, %%xmm7\n\t"
      "pcmpeqd %%xmm8, %%xmm8\n\t"
      "pxor %%xmm15, %%xmm15\n\t" ::
          : "xmm0", "xmm1", "xmm2", "xmm7", "xmm8", "xmm15");
  // Rewrite xmm15 in the saved frame: sigreturn must restore that value.
  ucontext_t* uc = static_cast<ucontext_t*>(ucv);
  if (uc->uc_mcontext.fpregs != nullptr) {
    uc->uc_mcontext.fpregs->_xmm[15].element[0] = 0x5eadbeef;
    uc->uc_mcontext.fpregs->_xmm[15].element[1] = 0x1;
    uc->uc_mcontext.fpregs->_xmm[15].element[2] = 0x2;
    uc->uc_mcontext.fpregs->_xmm[15].element[3] = 0x3;
  }
}

TEST_F(SignalTest, XmmRegistersSurviveAHandlerAndSigreturnUsesTheFrame) {
  Install(SIGUSR1, 0, nullptr, ClobberXmmHandler);
  alignas(16) Xmm in[16], out[16];
  for (int i = 0; i < 16; i++) {
    in[i] = {0x0123456789abcdefull * static_cast<uint64_t>(i + 1),
             0xfeedf00d00000000ull | static_cast<uint64_t>(i)};
  }
  memset(out, 0, sizeof out);
  ASSERT_EQ(TgkillKeepingXmm(in, out, SIGUSR1), 0);
  ASSERT_EQ(g_count, 1);
  for (int i = 0; i < 15; i++) {
    EXPECT_EQ(out[i].lo, in[i].lo) << "xmm" << i;
    EXPECT_EQ(out[i].hi, in[i].hi) << "xmm" << i;
  }
  EXPECT_EQ(out[15].lo, 0x000000015eadbeefull) << "xmm15 from the signal frame";
  EXPECT_EQ(out[15].hi, 0x0000000300000002ull);
}

uint32_t g_handler_mxcsr = 0, g_frame_mxcsr = 0;
uint16_t g_handler_fcw = 0;

void FpControlHandler(int sig, siginfo_t* si, void* ucv) {
  NextRecord(sig, si, ucv);
  uint32_t mxcsr;
  uint16_t fcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fcw));
  g_handler_mxcsr = mxcsr;
  g_handler_fcw = fcw;
  ucontext_t* uc = static_cast<ucontext_t*>(ucv);
  if (uc->uc_mcontext.fpregs != nullptr) g_frame_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
  // Change both in the handler: this must not leak out.
  uint32_t other = 0x1f80 | 0x2000;  // round down
  uint16_t other_fcw = 0x7f;         // single precision
  asm volatile("ldmxcsr %0" ::"m"(other));
  asm volatile("fldcw %0" ::"m"(other_fcw));
}

struct FpControl {
  uint32_t mxcsr;
  uint16_t fcw;
};

FpControl GetFpControl() {
  FpControl c;
  asm volatile("stmxcsr %0" : "=m"(c.mxcsr));
  asm volatile("fnstcw %0" : "=m"(c.fcw));
  return c;
}

void SetFpControl(FpControl c) {
  asm volatile("ldmxcsr %0" ::"m"(c.mxcsr));
  asm volatile("fldcw %0" ::"m"(c.fcw));
}

// Raises SIGUSR2 (handled by FpControlHandler) with MXCSR rounding toward
// zero and x87 precision at 53 bits; returns what was in force before and
// after the handler ran, restoring the original.
void RaiseWithCustomFpControl(FpControl* mine, FpControl* after) {
  FpControl saved = GetFpControl();
  mine->mxcsr = (saved.mxcsr & ~0x6000u) | 0x6000u;
  mine->fcw = static_cast<uint16_t>((saved.fcw & ~0x300) | 0x200);
  SetFpControl(*mine);
  raise(SIGUSR2);
  *after = GetFpControl();
  SetFpControl(saved);
}

TEST_F(SignalTest, FpControlChangesInAHandlerDoNotLeak) {
  Install(SIGUSR2, 0, nullptr, FpControlHandler);
  FpControl mine, after;
  RaiseWithCustomFpControl(&mine, &after);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(after.mxcsr & 0xffc0, mine.mxcsr & 0xffc0) << "MXCSR control bits after the handler";
  EXPECT_EQ(after.fcw, mine.fcw) << "x87 control word after the handler";
  EXPECT_EQ(g_frame_mxcsr & 0xffc0, mine.mxcsr & 0xffc0) << "the frame holds the interrupted MXCSR";
}

TEST_F(SignalTest, HandlerStartsWithDefaultFpControl) {
  // Linux resets the FPU to its initial state for a handler.
  Install(SIGUSR2, 0, nullptr, FpControlHandler);
  FpControl mine, after;
  RaiseWithCustomFpControl(&mine, &after);
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(g_handler_mxcsr, 0x1f80u) << "the default MXCSR";
  EXPECT_EQ(g_handler_fcw, 0x37f) << "the default x87 control word";
}

void ClobberYmmHandler(int sig, siginfo_t* si, void* ucv) {
  NextRecord(sig, si, ucv);
  asm volatile(
      "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
      "vpcmpeqd %%ymm9, %%ymm9, %%ymm9\n\t" ::
          : "xmm0", "xmm9");
}

TEST_F(SignalTest, YmmUpperHalvesSurviveAHandler) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx")) GTEST_SKIP() << "no AVX";
  Install(SIGUSR1, 0, nullptr, ClobberYmmHandler);
  alignas(32) uint64_t in[8] = {1, 2, 3, 4, 0x1111, 0x2222, 0x3333, 0x4444};
  alignas(32) uint64_t out[8] = {};
  long ret;
  long pid = getpid(), tid = gettid();
  asm volatile(
      "vmovdqu 0(%[in]), %%ymm0\n\t"
      "vmovdqu 32(%[in]), %%ymm9\n\t"
      "syscall\n\t"
      "vmovdqu %%ymm0, 0(%[out])\n\t"
      "vmovdqu %%ymm9, 32(%[out])\n\t"
      "vzeroupper\n\t"
      : "=a"(ret)
      : "0"(static_cast<long>(SYS_tgkill)), "D"(pid), "S"(tid),
        "d"(static_cast<long>(SIGUSR1)), [in] "r"(in), [out] "r"(out)
      : "rcx", "r11", "memory", "xmm0", "xmm9");
  ASSERT_EQ(ret, 0);
  ASSERT_EQ(g_count, 1);
  for (int i = 0; i < 8; i++) EXPECT_EQ(out[i], in[i]) << "quadword " << i;
}

double g_handler_result = 0;

void FloatingPointHandler(int sig, siginfo_t* si, void* ucv) {
  NextRecord(sig, si, ucv);
  volatile double x = 3.0;
  for (int i = 0; i < 10; i++) x = x * 1.5 + 0.25;
  g_handler_result = x;
}

TEST_F(SignalTest, DoubleArithmeticIsUnaffectedByAHandlerUsingTheFpu) {
  Install(SIGUSR1, 0, nullptr, FloatingPointHandler);
  volatile double a = 1.0 / 3.0;
  volatile double b = 2.0 / 7.0;
  double sum = a + b;
  raise(SIGUSR1);
  double product = a * b;
  ASSERT_EQ(g_count, 1);
  EXPECT_EQ(sum, 1.0 / 3.0 + 2.0 / 7.0);
  EXPECT_EQ(product, (1.0 / 3.0) * (2.0 / 7.0));
  EXPECT_GT(g_handler_result, 100.0);
}

}  // namespace
}  // namespace syscall_test
