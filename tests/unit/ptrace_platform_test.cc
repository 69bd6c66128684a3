// The ptrace platform on its own: a stub runs code from the memory file,
// every syscall it makes stops in the tracer without reaching the host, and
// faults come back with their siginfo.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "common/cpus.h"
#include "platform/ptrace/ptrace.h"
#include "sentry/mm/memory_file.h"

namespace runsc::platform {
namespace {

constexpr uint64_t kCodeAddr = 0x400000;

class PtracePlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = mm::MemoryFile::create(1 << 26);
    ASSERT_TRUE(f);
    memfile_ = std::move(*f);
    auto p = make_ptrace_platform(memfile_->fd());
    ASSERT_TRUE(p) << std::strerror(p.error());
    platform_ = std::move(*p);
    auto as = platform_->new_address_space();
    ASSERT_TRUE(as);
    as_ = std::move(*as);
    context_ = platform_->new_context();
  }

  // Places machine code at kCodeAddr (read+exec) and returns registers
  // ready to run it.
  Registers load(std::initializer_list<uint8_t> code) {
    auto off = memfile_->allocate(4096);
    EXPECT_TRUE(off);
    std::vector<uint8_t> bytes(code);
    std::memcpy(memfile_->at(*off), bytes.data(), bytes.size());
    EXPECT_TRUE(as_->map(kCodeAddr, *off, 4096, PROT_READ | PROT_EXEC));
    Registers r{};
    r.rip = kCodeAddr;
    r.cs = 0x33;
    r.ss = 0x2b;
    r.eflags = 0x202;
    return r;
  }

  std::unique_ptr<mm::MemoryFile> memfile_;
  std::unique_ptr<Platform> platform_;
  std::unique_ptr<AddressSpace> as_;
  std::unique_ptr<Context> context_;
};

TEST_F(PtracePlatformTest, SyscallsStopInTheTracerAndNeverRunOnTheHost) {
  // mov $60,%eax (exit); mov $3,%edi; syscall; int3
  Registers r = load({0xb8, 60, 0, 0, 0, 0xbf, 3, 0, 0, 0, 0x0f, 0x05, 0xcc});
  SwitchResult res = context_->switch_to(*as_, r);
  ASSERT_EQ(res.reason, StopReason::kSyscall);
  EXPECT_EQ(r.orig_rax, static_cast<uint64_t>(SYS_exit));
  EXPECT_EQ(r.rdi, 3u);
  // Had the host run exit(3), the stub would be gone; instead it continues
  // with our answer in %rax and stops at the int3.
  r.rax = 77;
  res = context_->switch_to(*as_, r);
  ASSERT_EQ(res.reason, StopReason::kFault);
  EXPECT_EQ(res.info.si_signo, SIGTRAP);
  EXPECT_EQ(r.rax, 77u);
}

TEST_F(PtracePlatformTest, TheStubRunsOnItsSentryThreadsCpu) {
  // Each trap is a round trip between the tracing Sentry thread and its
  // stub thread; the platform pins both to one CPU so that it never waits
  // for another (idle) CPU to wake. Run from a thread of its own, since
  // the pinning stays with the thread.
  if (sandbox_cpu_count() < 2) GTEST_SKIP() << "one CPU only: nothing is pinned";
  cpu_set_t sentry_cpus, stub_cpus;
  CPU_ZERO(&sentry_cpus);
  CPU_ZERO(&stub_cpus);
  pid_t stub = -1;
  StopReason reason = StopReason::kDied;
  int affinity_error = 0;
  // Everything on the runner: the stub is made by, traced by and dies with
  // the first Sentry thread that uses the address space.
  std::thread runner([&] {
    // mov $39,%eax (getpid); syscall; int3
    Registers r = load({0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xcc});
    reason = context_->switch_to(*as_, r).reason;
    ::sched_getaffinity(0, sizeof(sentry_cpus), &sentry_cpus);
    std::ifstream children("/proc/self/task/" + std::to_string(::gettid()) + "/children");
    children >> stub;
    if (stub > 0 && ::sched_getaffinity(stub, sizeof(stub_cpus), &stub_cpus) != 0) affinity_error = errno;
  });
  runner.join();
  ASSERT_EQ(reason, StopReason::kSyscall);
  ASSERT_GT(stub, 0) << "no stub process under the Sentry thread";
  ASSERT_EQ(affinity_error, 0) << std::strerror(affinity_error);
  EXPECT_EQ(CPU_COUNT(&sentry_cpus), 1) << "the Sentry thread is pinned";
  EXPECT_TRUE(CPU_EQUAL(&sentry_cpus, &stub_cpus)) << "the stub shares its CPU";
  EXPECT_GE(sandbox_cpu_count(), 2) << "what the sandbox reports stays every CPU";
}

TEST_F(PtracePlatformTest, FaultsReportTheAddress) {
  // mov 0x12345000,%eax (load from an unmapped address)
  Registers r = load({0x8b, 0x04, 0x25, 0x00, 0x50, 0x34, 0x12});
  SwitchResult res = context_->switch_to(*as_, r);
  ASSERT_EQ(res.reason, StopReason::kFault);
  EXPECT_EQ(res.info.si_signo, SIGSEGV);
  EXPECT_EQ(reinterpret_cast<uint64_t>(res.info.si_addr), 0x12345000u);
}

TEST_F(PtracePlatformTest, MappedMemoryFilePagesAreSharedWithTheSentry) {
  auto data = memfile_->allocate(4096);
  ASSERT_TRUE(data);
  std::memcpy(memfile_->at(*data), "\x2a\0\0\0", 4);
  ASSERT_TRUE(as_->map(0x500000, *data, 4096, PROT_READ | PROT_WRITE));
  // mov 0x500000,%eax; add $1,%eax; mov %eax,0x500000; int3
  Registers r = load({0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00, 0x83, 0xc0, 0x01, 0x89, 0x04, 0x25, 0x00, 0x00,
                      0x50, 0x00, 0xcc});
  SwitchResult res = context_->switch_to(*as_, r);
  ASSERT_EQ(res.reason, StopReason::kFault);
  EXPECT_EQ(res.info.si_signo, SIGTRAP);
  EXPECT_EQ(r.rax, 43u);
  EXPECT_EQ(*reinterpret_cast<uint32_t*>(memfile_->at(*data)), 43u);
}

TEST_F(PtracePlatformTest, HostSyscallsOutsideTheStubPageAreRefused) {
  // call *%rax with %rax = the vsyscall page's gettimeofday: the kernel
  // would emulate it as a host syscall without a syscall instruction. The
  // stub's seccomp filter must kill the stub (or, with vsyscall=none, the
  // call faults). It must never return with a result.
  // movabs $0xffffffffff600000,%rax; call *%rax; int3
  Registers r = load({0x48, 0xb8, 0x00, 0x00, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xd0, 0xcc});
  r.rsp = 0;  // no stack: the call's push would fault too, either way no host syscall
  SwitchResult res = context_->switch_to(*as_, r);
  EXPECT_TRUE(res.reason == StopReason::kDied || (res.reason == StopReason::kFault && res.info.si_signo == SIGSEGV))
      << "reason " << static_cast<int>(res.reason) << " signal " << res.info.si_signo;
}

TEST_F(PtracePlatformTest, InterruptFromAnotherThreadStopsARunningContext) {
  // jmp . (spin forever)
  Registers r = load({0xeb, 0xfe});
  std::thread t([&] {
    usleep(50000);
    context_->interrupt();
  });
  SwitchResult res = context_->switch_to(*as_, r);
  t.join();
  EXPECT_EQ(res.reason, StopReason::kInterrupted);
}

}  // namespace
}  // namespace runsc::platform
