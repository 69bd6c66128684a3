// The edges of the system call interface an attacker reaches for first:
// int 0x80 from a 64-bit process, address ranges that run into the top
// of the address space (where the ptrace platform's stub page lives),
// and TLS bases outside the user half. Each case asserts what Linux does
// natively and what the sandbox promises, which agree except where the
// sandbox has no IA32 emulation (int 0x80 is ENOSYS there).
#include <asm/prctl.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

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
