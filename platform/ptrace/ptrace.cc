#include "platform/ptrace/ptrace.h"

#include <elf.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/cpus.h"
#include "common/log.h"
#include "platform/ptrace/stub.h"

namespace runsc::platform {
namespace {

constexpr uint64_t kPageSize = 4096;
// Enough for every XSAVE component x86-64 defines today (AMX included).
constexpr size_t kMaxXstateSize = 16384;
// The signal interrupt() sends to a running stub thread. Any signal stops a
// tracee in signal-delivery-stop before it acts, and the tracer suppresses it.
constexpr int kInterruptSignal = SIGSTOP;

uint64_t stub_addr(const uint8_t* symbol) { return kStubAddr + static_cast<uint64_t>(symbol - runsc_stub_start); }
uint64_t stub_syscall_addr() { return stub_addr(runsc_stub_syscall); }

// The flags of a stub thread: a thread of the stub process, nothing else.
constexpr uint64_t kStubThreadFlags =
    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;

pid_t gettid_raw() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// A seccomp filter for the stub processes: a host syscall is allowed only
// when made from the stub page (the tracer's injections). Application
// syscalls never reach seccomp (PTRACE_SYSEMU skips them before seccomp
// runs), so this only matters if something bypasses the tracer: the
// kernel's vsyscall emulation is trapped (the Sentry emulates the call,
// sentry/kernel/task.cc); for anything else the whole stub dies.
struct StubFilter {
  sock_filter insns[14];
  sock_fprog prog;
};

StubFilter make_stub_filter() {
  const uint32_t ip_hi = static_cast<uint32_t>(kStubAddr >> 32);
  const uint32_t ip_lo = static_cast<uint32_t>(kStubAddr & 0xffffffffu);
  StubFilter f{};
  const sock_filter insns[14] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 11),       // else 13
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer) + 4),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip_hi, 0, 4),                    // else 8
      /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer)),
      // ip is the address after the syscall instruction: inside the page.
      /* 5 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, ip_lo, 0, 7),                    // else 13
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, ip_lo + static_cast<uint32_t>(kPageSize), 6, 0),  // 13 : 7
      /* 7 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // The host's emulation of a call into the vsyscall page (ip is the
      // entry point): a SIGSYS the Sentry turns into the emulated call.
      /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, 4),              // else 13
      /* 9 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer)),
      /* 10 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0xff600000u, 0, 2),            // else 13
      /* 11 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0xff601000u, 1, 0),            // 13 : 12
      /* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      /* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  std::memcpy(f.insns, insns, sizeof(insns));
  return f;
}

// One traced host thread inside a stub process.
struct StubThread {
  pid_t pid = -1;  // stub process (thread group)
  pid_t tid = -1;
  Registers base{};  // registers captured at creation: valid cs/ss/eflags for injections
  int cpu = -1;      // the CPU it is pinned to (that of its Sentry thread), -1: not yet
};

// Every trap is a round trip between a stub thread and the Sentry thread
// tracing it. On different CPUs each wake-up crosses CPUs, and an idle one
// must be woken first: on this project's 2-vCPU VM a getpid round trip
// took ~49 us that way and ~9 us with both on one CPU (bench/sysemu_floor
// under taskset). So each Sentry thread that runs tasks takes a CPU of the
// sandbox's set (round robin, so that threads of the application still
// run in parallel) and its stub threads are pinned to the same one.
int sentry_thread_cpu() {
  thread_local int cpu = -1;  // -2: pinning failed, leave the scheduler be
  if (cpu != -1) return cpu;
  static std::atomic<unsigned> next{0};
  if (sandbox_cpu_count() < 2) return cpu = -2;  // one CPU: nothing to gain
  const int chosen = sandbox_cpu(next.fetch_add(1));
  return cpu = pin_to_cpu(0, chosen) ? chosen : -2;
}

// Puts the stub thread on its Sentry thread's CPU (once per pairing).
void pin_with_sentry_thread(StubThread& t) {
  const int cpu = sentry_thread_cpu();
  if (cpu < 0 || t.cpu == cpu) return;
  t.cpu = pin_to_cpu(t.tid, cpu) ? cpu : -2;
}

// Waits for `tid` to stop or die. Returns the raw wait status.
Result<int> wait_stub(pid_t tid) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(tid, &status, __WALL);
    if (r == tid) return status;
    if (r < 0 && errno == EINTR) continue;
    return ErrFromErrno();
  }
}

class PtraceAddressSpace final : public AddressSpace {
 public:
  PtraceAddressSpace(int memfile_fd, const StubFilter* filter) : memfile_fd_(memfile_fd), filter_(filter) {}
  ~PtraceAddressSpace() override {
    if (main_.pid > 0) {
      ::kill(main_.pid, SIGKILL);
      // Reap the stub so no zombie remains. Threads still traced by this
      // Sentry thread must be reaped by it first: until they are, the
      // leader's exit is not reported.
      const pid_t self = gettid_raw();
      int status;
      for (const auto& [tracer, t] : threads_) {
        if (tracer != self || t.tid == main_.pid) continue;
        while (::waitpid(t.tid, &status, __WALL) < 0 && errno == EINTR) {
        }
      }
      while (::waitpid(main_.pid, &status, __WALL) < 0 && errno == EINTR) {
      }
    }
  }

  // The application's half of the address space ends at kMaxUserAddress;
  // the stub's own pages lie above it. No request the Sentry makes for the
  // application may reach them, whatever range the application gave.
  static bool in_user_range(uint64_t addr, uint64_t length) {
    return addr + length >= addr && addr + length <= kMaxUserAddress;
  }

  Result<void> map(uint64_t addr, uint64_t memfile_offset, uint64_t length, int prot) override {
    if (!in_user_range(addr, length)) return Err(EINVAL);
    auto r = inject(SYS_mmap, addr, length, static_cast<uint64_t>(prot), MAP_SHARED | MAP_FIXED,
                    static_cast<uint64_t>(memfile_fd_), memfile_offset);
    if (!r) return Err(r.error());
    return {};
  }
  Result<void> unmap(uint64_t addr, uint64_t length) override {
    if (!in_user_range(addr, length)) return Err(EINVAL);
    auto r = inject(SYS_munmap, addr, length);
    if (!r) return Err(r.error());
    return {};
  }
  Result<void> protect(uint64_t addr, uint64_t length, int prot) override {
    if (!in_user_range(addr, length)) return Err(EINVAL);
    auto r = inject(SYS_mprotect, addr, length, static_cast<uint64_t>(prot));
    if (!r) return Err(r.error());
    return {};
  }

  Result<void> spawn_thread() override {
    auto r = inject_at(stub_addr(runsc_stub_clone), SYS_clone, kStubThreadFlags);
    if (!r) return Err(r.error());
    std::lock_guard lock(mu_);
    parked_.push_back(static_cast<pid_t>(*r));
    return {};
  }

  void release_thread() override {
    const pid_t self = gettid_raw();
    StubThread t;
    {
      std::lock_guard lock(mu_);
      auto it = threads_.find(self);
      if (it == threads_.end()) return;
      t = it->second;
      threads_.erase(it);
    }
    // Park it in pause() untraced, for the next Sentry thread that needs one.
    Registers r = t.base;
    r.rip = stub_addr(runsc_stub_park);
    r.orig_rax = static_cast<uint64_t>(-1);
    if (::ptrace(PTRACE_SETREGS, t.tid, nullptr, &r) == 0 && ::ptrace(PTRACE_DETACH, t.tid, nullptr, nullptr) == 0) {
      std::lock_guard lock(mu_);
      parked_.push_back(t.tid);
    }
  }

  // The stub thread the calling Sentry thread traces. ptrace requests are
  // only accepted from the tracer thread, so each Sentry thread drives its
  // own stub thread: the first one creates the stub process; later ones
  // seize a parked thread that spawn_thread() made.
  // The calling Sentry thread's stub thread, on the same CPU as it.
  Result<StubThread*> thread_for_current() {
    auto thread = find_or_make_thread();
    if (thread) pin_with_sentry_thread(**thread);
    return thread;
  }

  Result<StubThread*> find_or_make_thread() {
    const pid_t self = gettid_raw();
    std::lock_guard lock(mu_);
    auto it = threads_.find(self);
    if (it != threads_.end()) return &it->second;
    if (main_.pid < 0) {
      auto created = create_stub();
      if (!created) return Err(created.error());
      return &threads_.emplace(self, main_).first->second;
    }
    if (parked_.empty()) {
      log::warn("ptrace: no stub thread for a new Sentry thread in stub process {}", main_.pid);
      return Err(ENOSYS);
    }
    const pid_t tid = parked_.back();
    parked_.pop_back();
    auto seized = seize(tid);
    if (!seized) return Err(seized.error());
    return &threads_.emplace(self, *seized).first->second;
  }

  Result<uint64_t> inject(uint64_t nr, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0,
                          uint64_t a5 = 0, uint64_t a6 = 0) {
    return inject_at(stub_syscall_addr(), nr, a1, a2, a3, a4, a5, a6);
  }

  // Runs one host syscall in the stub, from the stub page at `at`.
  Result<uint64_t> inject_at(uint64_t at, uint64_t nr, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
                             uint64_t a4 = 0, uint64_t a5 = 0, uint64_t a6 = 0) {
    auto thread = thread_for_current();
    if (!thread) return Err(thread.error());
    StubThread& t = **thread;
    Registers r = t.base;
    r.rip = at;
    r.rax = nr;
    r.orig_rax = static_cast<uint64_t>(-1);
    r.rdi = a1;
    r.rsi = a2;
    r.rdx = a3;
    r.r10 = a4;
    r.r8 = a5;
    r.r9 = a6;
    if (::ptrace(PTRACE_SETREGS, t.tid, nullptr, &r) < 0) return ErrFromErrno();
    if (::ptrace(PTRACE_CONT, t.tid, nullptr, nullptr) < 0) return ErrFromErrno();
    for (;;) {
      auto status = wait_stub(t.tid);
      if (!status) return Err(status.error());
      if (!WIFSTOPPED(*status)) return Err(ESRCH);
      int sig = WSTOPSIG(*status);
      if (sig == SIGTRAP) break;
      if (sig != kInterruptSignal) {
        siginfo_t si{};
        ::ptrace(PTRACE_GETSIGINFO, t.tid, nullptr, &si);
        Registers now{};
        ::ptrace(PTRACE_GETREGS, t.tid, nullptr, &now);
        log::error("ptrace: injected syscall {} faulted: signal {} code {} addr {} rip {:#x}", nr, sig, si.si_code,
                   si.si_addr, now.rip);
        return Err(EFAULT);
      }
      // Another signal (an interrupt) arrived mid-injection: suppress it and
      // let the injected syscall finish. interrupt() also left a flag, so
      // the interruption is not lost.
      if (::ptrace(PTRACE_CONT, t.tid, nullptr, nullptr) < 0) return ErrFromErrno();
    }
    if (::ptrace(PTRACE_GETREGS, t.tid, nullptr, &r) < 0) return ErrFromErrno();
    int64_t ret = static_cast<int64_t>(r.rax);
    if (ret < 0 && ret > -4096) return Err(static_cast<int>(-ret));
    return static_cast<uint64_t>(ret);
  }

 private:
  // Takes over a parked stub thread: PTRACE_SEIZE, then PTRACE_INTERRUPT
  // out of its pause() into a stop from which the Sentry can run it.
  Result<StubThread> seize(pid_t tid) {
    if (::ptrace(PTRACE_SEIZE, tid, nullptr, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0) return ErrFromErrno();
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) < 0) return ErrFromErrno();
    for (;;) {
      auto status = wait_stub(tid);
      if (!status) return Err(status.error());
      if (!WIFSTOPPED(*status)) return Err(ESRCH);
      if ((*status >> 16) == PTRACE_EVENT_STOP) break;
      // A signal stop (an interrupt racing with the handover): suppress it.
      if (::ptrace(PTRACE_CONT, tid, nullptr, nullptr) < 0) return ErrFromErrno();
    }
    StubThread t;
    t.pid = main_.pid;
    t.tid = tid;
    t.base = main_.base;
    log::debug("ptrace: Sentry thread {} runs stub thread {} of {}", gettid_raw(), tid, main_.pid);
    return t;
  }

  Result<void> create_stub() {
    // A raw fork: the child must only run code that needs no libc state,
    // because the parent is multi-threaded.
    const int memfd = memfile_fd_;
    const sock_fprog* prog = &filter_->prog;
    // glibc registers every thread for restartable sequences, and fork keeps
    // the registration. Once the stub unmaps the Sentry's memory the rseq
    // area is gone, and the kernel's next rseq update on return to user mode
    // fails and kills the stub with SIGSEGV (SI_KERNEL). So the child
    // unregisters first; rseq(2) needs the same pointer, length and
    // signature that glibc registered (glibc registers at least 32 bytes).
    void* rseq_area = __rseq_size > 0 ? static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset : nullptr;
    const unsigned rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
    // No capabilities for the stub (the Sentry may keep two, for the
    // host's network): prepared here, set by the child.
    __user_cap_header_struct cap_header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct no_caps[2] = {};
    long pid = ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) return ErrFromErrno();
    if (pid == 0) {
      if (::syscall(SYS_capset, &cap_header, no_caps) != 0) ::syscall(SYS_exit_group, 125);
      ::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
      if (rseq_area != nullptr && ::syscall(SYS_rseq, rseq_area, rseq_len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) != 0)
        ::syscall(SYS_exit_group, 126);
      // Keep only the memory file: the stub must hold nothing else.
      if (memfd > 0) ::syscall(SYS_close_range, 0, memfd - 1, 0);
      ::syscall(SYS_close_range, memfd + 1, ~0U, 0);
      ::syscall(SYS_prctl, PR_SET_NAME, "runsc-stub", 0, 0, 0);
      // A process group of its own: signals a host terminal sends to its
      // foreground group (^C, ^Z, SIGWINCH) reach the Sentry, which passes
      // them on inside the sandbox, and never the stubs.
      ::syscall(SYS_setpgid, 0, 0);
      ::syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) != 0) ::syscall(SYS_exit_group, 127);
      asm volatile("jmp *%0" : : "r"(kStubAddr) : "memory");
      __builtin_unreachable();
    }
    main_.pid = main_.tid = static_cast<pid_t>(pid);
    auto status = wait_stub(main_.tid);
    if (!status) return Err(status.error());
    if (!WIFSTOPPED(*status) || WSTOPSIG(*status) != SIGSTOP) {
      Registers regs{};
      ::ptrace(PTRACE_GETREGS, main_.tid, nullptr, &regs);
      siginfo_t si{};
      ::ptrace(PTRACE_GETSIGINFO, main_.tid, nullptr, &si);
      log::error("ptrace: stub {} did not stop as expected (status {:#x}, rip {:#x}, addr {})", pid, *status,
                 regs.rip, si.si_addr);
      ::kill(main_.pid, SIGKILL);
      (void)wait_stub(main_.tid);
      main_.pid = -1;
      return Err(ECHILD);
    }
    // EXITKILL: should the Sentry thread die, its stub must not run on untraced.
    if (::ptrace(PTRACE_SETOPTIONS, main_.tid, nullptr, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
      return ErrFromErrno();
    if (::ptrace(PTRACE_GETREGS, main_.tid, nullptr, &main_.base) < 0) return ErrFromErrno();
    log::debug("ptrace: new stub process {}", pid);
    return {};
  }

  int memfile_fd_;
  const StubFilter* filter_;
  std::mutex mu_;
  StubThread main_;                          // the stub process's first thread
  std::map<pid_t, StubThread> threads_;      // by the Sentry thread tracing it
  std::vector<pid_t> parked_;                // untraced, in pause(), for the taking
};

class PtraceContext final : public Context {
 public:
  SwitchResult switch_to(AddressSpace& as, Registers& regs) override {
    auto& pas = static_cast<PtraceAddressSpace&>(as);
    if (interrupt_pending_.exchange(false)) return {StopReason::kInterrupted};
    auto thread = pas.thread_for_current();
    if (!thread) return {StopReason::kDied};
    StubThread& t = **thread;
    last_pid_.store(t.pid);
    running_tid_.store(t.tid);
    // Re-check after publishing the tid so an interrupt() racing with us
    // either sees the tid (and signals) or left the flag (seen here).
    if (interrupt_pending_.exchange(false)) {
      running_tid_.store(-1);
      return {StopReason::kInterrupted};
    }
    SwitchResult result = run(t, regs);
    running_tid_.store(-1);
    return result;
  }

  Result<std::vector<uint8_t>> fpstate(AddressSpace& as) override {
    auto thread = static_cast<PtraceAddressSpace&>(as).thread_for_current();
    if (!thread) return Err(thread.error());
    std::vector<uint8_t> buf(kMaxXstateSize);
    iovec v{buf.data(), buf.size()};
    if (::ptrace(PTRACE_GETREGSET, (*thread)->tid, reinterpret_cast<void*>(NT_X86_XSTATE), &v) < 0)
      return ErrFromErrno();
    buf.resize(v.iov_len);
    return buf;
  }

  Result<void> set_fpstate(AddressSpace& as, std::span<const uint8_t> state) override {
    auto thread = static_cast<PtraceAddressSpace&>(as).thread_for_current();
    if (!thread) return Err(thread.error());
    iovec v{const_cast<uint8_t*>(state.data()), state.size()};
    if (::ptrace(PTRACE_SETREGSET, (*thread)->tid, reinterpret_cast<void*>(NT_X86_XSTATE), &v) < 0)
      return ErrFromErrno();
    return {};
  }

  int64_t cpu_time_ns() override {
    const pid_t pid = last_pid_.load();
    if (pid <= 0) return 0;
    // The host's CPU clock of the whole stub process
    // (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)): Linux lets a process
    // read another's process clock, but thread clocks only of its own
    // threads. Threads sharing the stub share this clock.
    const clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(pid) << 3) | 2);
    timespec ts;
    if (::clock_gettime(clock, &ts) != 0) return 0;
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
  }

  void interrupt() override {
    interrupt_pending_.store(true);
    pid_t tid = running_tid_.load();
    if (tid > 0) ::syscall(SYS_tgkill, tid, tid, kInterruptSignal);
  }

 private:
  SwitchResult run(StubThread& t, Registers& regs) {
    if (::ptrace(PTRACE_SETREGS, t.tid, nullptr, &regs) < 0) return {StopReason::kDied};
    if (::ptrace(PTRACE_SYSEMU, t.tid, nullptr, nullptr) < 0) return {StopReason::kDied};
    for (;;) {
      auto status = wait_stub(t.tid);
      if (!status || !WIFSTOPPED(*status)) return {StopReason::kDied};
      int sig = WSTOPSIG(*status);
      if (sig == (SIGTRAP | 0x80)) {
        if (::ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) < 0) return {StopReason::kDied};
        // The application jumped out of its half of the address space into
        // the stub page (which the stub process has mapped, the
        // application not): Linux would have faulted on the jump. Its
        // syscall is not run; it gets that SIGSEGV.
        if (regs.rip - 2 >= kMaxUserAddress) {
          SwitchResult fault{StopReason::kFault};
          fault.info.si_signo = SIGSEGV;
          fault.info.si_code = SEGV_MAPERR;
          fault.info.si_addr = reinterpret_cast<void*>(regs.rip - 2);
          return fault;
        }
        return {StopReason::kSyscall};
      }
      if (sig == kInterruptSignal) {
        if (::ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) < 0) return {StopReason::kDied};
        interrupt_pending_.store(false);
        return {StopReason::kInterrupted};
      }
      SwitchResult result{StopReason::kFault};
      if (::ptrace(PTRACE_GETSIGINFO, t.tid, nullptr, &result.info) < 0) return {StopReason::kDied};
      if (::ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) < 0) return {StopReason::kDied};
      return result;
    }
  }

  std::atomic<bool> interrupt_pending_{false};
  std::atomic<pid_t> running_tid_{-1};
  std::atomic<pid_t> last_pid_{-1};  // the stub process last run in, for cpu_time_ns()
};

class PtracePlatform final : public Platform {
 public:
  explicit PtracePlatform(int memfile_fd) : memfile_fd_(memfile_fd), filter_(make_stub_filter()) {
    (void)sandbox_cpus();  // read before any Sentry thread is pinned
    filter_.prog.len = sizeof(filter_.insns) / sizeof(filter_.insns[0]);
    filter_.prog.filter = filter_.insns;
  }
  std::string_view name() const override { return "ptrace"; }
  Result<std::unique_ptr<AddressSpace>> new_address_space() override {
    return std::make_unique<PtraceAddressSpace>(memfile_fd_, &filter_);
  }
  std::unique_ptr<Context> new_context() override { return std::make_unique<PtraceContext>(); }

  std::vector<seccomp::Rule> host_syscalls() const override {
    using seccomp::Rule;
    std::vector<Rule> rules = {
        // The tracer: stub creation, tracing, interruption, teardown.
        Rule{SYS_clone, {{0, SIGCHLD}}},  // a plain fork, nothing shared
        // The stub (PTRACE_TRACEME) and the tracer: only the requests
        // this file makes.
        // The stub page: new stub threads (runsc_stub_clone), which park in
        // pause() until seized.
        Rule{SYS_clone, {{0, kStubThreadFlags}}},
        Rule{SYS_pause},
        // waitpid(tid, &status, __WALL) on a stub thread.
        Rule{SYS_wait4, {{2, __WALL}}},
        // A Sentry thread and the stub threads it traces share one CPU.
        Rule{SYS_sched_setaffinity},
        // SIGKILL to a stub process (pid > 0: never a process group).
        Rule{SYS_kill, {{0, 0, 0x80000000}, {1, SIGKILL}}},
        Rule{SYS_tgkill, {{2, static_cast<uint64_t>(kInterruptSignal)}}},
        // The new stub, before it jumps to the stub page (create_stub).
        Rule{SYS_rseq, {{2, RSEQ_FLAG_UNREGISTER}}},
        Rule{SYS_capset},  // to none (a capset can only lower what is held)
        Rule{SYS_close_range},
        Rule{SYS_setpgid, {{0, 0}, {1, 0}}},  // its own process group
        Rule{SYS_prctl, {{0, PR_SET_NAME}}},
        Rule{SYS_prctl, {{0, PR_SET_NO_NEW_PRIVS}}},
        Rule{SYS_seccomp, {{0, SECCOMP_SET_MODE_FILTER}}},
        // The stub page: it unmaps the Sentry's memory, stops itself, and
        // runs the injected mmap/munmap/mprotect of the memory file.
        Rule{SYS_getpid},
        Rule{SYS_kill, {{0, 0, 0x80000000}, {1, SIGSTOP}}},
        // (Its mmap, munmap and mprotect: seccomp::memory_rules(true).)
        Rule{SYS_exit_group},
    };
    for (long request : {PTRACE_TRACEME, PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_CONT, PTRACE_SYSEMU, PTRACE_DETACH,
                         PTRACE_SETOPTIONS, PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_GETREGSET, PTRACE_SETREGSET,
                         PTRACE_GETSIGINFO})
      rules.push_back(Rule{SYS_ptrace, {{0, static_cast<uint64_t>(request)}}});
    return rules;
  }

 private:
  int memfile_fd_;
  StubFilter filter_;
};

// Places the stub code at kStubAddr in this (the Sentry's) address space,
// so that every stub forked from it finds the code there.
Result<void> install_stub_code() {
  static std::once_flag once;
  static int error = 0;
  std::call_once(once, [] {
    const size_t size = static_cast<size_t>(runsc_stub_end - runsc_stub_start);
    if (size > kPageSize) {
      error = E2BIG;
      return;
    }
    void* page = ::mmap(reinterpret_cast<void*>(kStubAddr), kPageSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page == MAP_FAILED || page != reinterpret_cast<void*>(kStubAddr)) {
      error = errno ? errno : EEXIST;
      return;
    }
    std::memcpy(page, runsc_stub_start, size);
    if (::mprotect(page, kPageSize, PROT_READ | PROT_EXEC) != 0) error = errno;
  });
  if (error != 0) return Err(error);
  return {};
}

}  // namespace

Result<std::unique_ptr<Platform>> make_ptrace_platform(int memfile_fd) {
  if (auto r = install_stub_code(); !r) {
    log::error("ptrace: cannot place the stub page at {:#x}: {}", kStubAddr, std::strerror(r.error()));
    return Err(r.error());
  }
  return std::unique_ptr<Platform>(std::make_unique<PtracePlatform>(memfile_fd));
}

}  // namespace runsc::platform
