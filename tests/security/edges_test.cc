// The edges of the system call interface an attacker reaches for first:
// int 0x80 from a 64-bit process, address ranges that run into the top
// of the address space (where the ptrace platform's stub page lives),
// and TLS bases outside the user half. Each case asserts what Linux does
// natively and what the sandbox promises, which agree except where the
// sandbox has no IA32 emulation (int 0x80 is ENOSYS there); sysenter; and
// calls into the legacy vsyscall page, emulated as Linux does.
#include <asm/prctl.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <unistd.h>
#include <ctime>
#include <cstring>
#include <cstdlib>
#include <cstdio>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

// The top of the user address space on x86-64 (TASK_SIZE with 4-level
// page tables).
constexpr uint64_t kTaskSize = 0x7ffffffff000ULL;

TEST(EdgesTest, Int80NeverRunsTheSixtyFourBitCallOfTheSameNumber) {
  Pipe p(O_NONBLOCK);
  ASSERT_TRUE(p.ok());
  char byte = 'x';
  struct iovec iov = {&byte, 1};
  // eax=20 is getpid in the 32-bit table and writev in the 64-bit one;
  // the 64-bit registers are set up as a writev to the pipe would need.
  long result;
  register long rdi asm("rdi") = p.wr();
  register long rsi asm("rsi") = reinterpret_cast<long>(&iov);
  register long rdx asm("rdx") = 1;
  asm volatile("int $0x80"
               : "=a"(result)
               : "a"(20L), "r"(rdi), "r"(rsi), "r"(rdx), "b"(0L), "c"(0L)
               : "memory", "r8", "r9", "r10", "r11");
  // A kernel with IA32 emulation runs the 32-bit getpid; one without (the
  // sandbox) answers ENOSYS.
  EXPECT_TRUE(result == getpid() || result == -ENOSYS) << "int 0x80 returned " << result;
  char got;
  errno = 0;
  EXPECT_EQ(read(p.rd(), &got, 1), -1) << "the 64-bit writev ran";
  EXPECT_EQ(errno, EAGAIN);
}

TEST(EdgesTest, SysenterFromASixtyFourBitProcessRunsNoSyscall) {
  // sysenter in 64-bit mode: #UD on AMD (SIGILL); on Intel, a kernel with
  // IA32 emulation enters its 32-bit path and returns somewhere the
  // process cannot go on from (SIGSEGV), one without it has no SYSENTER
  // target (#GP, SIGSEGV). eax=60 is exit in the 64-bit table: were that
  // run, the child would exit with 42.
  int status = RunInChild([] {
    asm volatile("mov %%rsp, %%rbp\n\tsysenter" : : "a"(60L), "D"(42L) : "rbp", "rcx", "r11", "memory");
    return 0;
  });
  EXPECT_TRUE(status != -1 && WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGILL))
      << DescribeStatus(status);
}

// The legacy vsyscall page (Linux's vsyscall=emulate and xonly): a call to
// one of its three entry points runs that syscall and returns.
using VsyscallGettimeofday = long (*)(struct timeval*, void*);
using VsyscallTime = long (*)(long*);
using VsyscallGetcpu = long (*)(unsigned*, unsigned*, void*);
constexpr uint64_t kVsyscall = 0xffffffffff600000ULL;

// Whether this kernel has the page (vsyscall=none has not): /proc/self/maps.
bool HasVsyscallPage() {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == nullptr) return false;
  char line[512];
  bool found = false;
  while (!found && fgets(line, sizeof(line), f)) found = strstr(line, "[vsyscall]") != nullptr;
  fclose(f);
  return found;
}

TEST(EdgesTest, VsyscallEntryPointsAreEmulated) {
  if (!HasVsyscallPage()) GTEST_SKIP() << "no [vsyscall] in /proc/self/maps (vsyscall=none)";
  struct timeval tv {};
  EXPECT_EQ(reinterpret_cast<VsyscallGettimeofday>(kVsyscall)(&tv, nullptr), 0);
  const long now = time(nullptr);
  EXPECT_LE(std::labs(tv.tv_sec - now), 2) << "gettimeofday through the vsyscall page";
  long stored = 0;
  const long t = reinterpret_cast<VsyscallTime>(kVsyscall + 0x400)(&stored);
  EXPECT_EQ(t, stored);
  EXPECT_LE(std::labs(t - now), 2) << "time through the vsyscall page";
  unsigned cpu = ~0u, node = ~0u;
  EXPECT_EQ(reinterpret_cast<VsyscallGetcpu>(kVsyscall + 0x800)(&cpu, &node, nullptr), 0);
  EXPECT_LT(cpu, static_cast<unsigned>(CPU_SETSIZE));
  EXPECT_EQ(node, 0u);
}

TEST(EdgesTest, VsyscallMisuseIsASegfault) {
  if (!HasVsyscallPage()) GTEST_SKIP() << "no [vsyscall] in /proc/self/maps (vsyscall=none)";
  // An address in the page that is no entry point ("misaligned vsyscall").
  EXPECT_KILLED_BY(RunInChild([] {
                     reinterpret_cast<VsyscallTime>(kVsyscall + 0x100)(nullptr);
                     return 0;
                   }),
                   SIGSEGV);
  // An entry point with a pointer it cannot write: SIGSEGV, not EFAULT
  // (write_ok_or_segv()).
  EXPECT_KILLED_BY(RunInChild([] {
                     reinterpret_cast<VsyscallGettimeofday>(kVsyscall)(reinterpret_cast<struct timeval*>(8), nullptr);
                     return 0;
                   }),
                   SIGSEGV);
}

TEST(EdgesTest, UnmapPastTheTopOfTheAddressSpaceIsEinval) {
  // do_vmi_munmap(): an end beyond TASK_SIZE is EINVAL, whatever is there.
  errno = 0;
  EXPECT_EQ(syscall(SYS_munmap, kTaskSize - 0x1000, 0x2000), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(syscall(SYS_mprotect, kTaskSize - 0x1000, 0x2000, PROT_READ), -1);
  EXPECT_TRUE(errno == EINVAL || errno == ENOMEM) << strerror(errno);
}

TEST(EdgesTest, UnmappingEverythingKillsOnlyTheCaller) {
  // munmap(0, just under TASK_SIZE) takes the whole address space away:
  // the caller dies of SIGSEGV at its next instruction. In the sandbox the
  // platform's stub page, which lies above the application's range, must
  // survive it: the rest of the sandbox goes on, and so does this test.
  for (int round = 0; round < 3; ++round) {
    pid_t pid = ForkChild([] {
      syscall(SYS_munmap, 0, 0x7fffffffeb18UL);
      return 0;  // never reached: the code is gone
    });
    ASSERT_GT(pid, 0);
    EXPECT_KILLED_BY(WaitStatus(pid), SIGSEGV);
  }
  Pipe p;
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(write(p.wr(), "ok", 2), 2);
}

TEST(EdgesTest, CloneWithANonCanonicalTlsBaseIsEperm) {
  // set_new_tls() -> do_arch_prctl_64(): a base at or above TASK_SIZE_MAX.
  errno = 0;
  long r = syscall(SYS_clone, CLONE_SETTLS | SIGCHLD, 0, 0, 0, 1UL << 63);
  if (r == 0) _exit(0);  // the child, had it been made
  if (r > 0) WaitStatus(static_cast<pid_t>(r));
  EXPECT_EQ(r, -1);
  EXPECT_EQ(errno, EPERM);
}

TEST(EdgesTest, ArchPrctlWithANonCanonicalBaseIsEperm) {
  for (int code : {ARCH_SET_FS, ARCH_SET_GS}) {
    errno = 0;
    EXPECT_EQ(syscall(SYS_arch_prctl, code, 1UL << 63), -1) << code;
    EXPECT_EQ(errno, EPERM) << code;
  }
}

}  // namespace
}  // namespace syscall_test
