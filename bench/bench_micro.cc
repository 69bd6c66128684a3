// bench_micro: Google Benchmark micro-benchmarks of the host primitives the
// ptrace platform is built on.  Run it directly:
//
//   build/bench/bench_micro [--benchmark_filter=REGEX] ...
//
//   BM_getpid_raw            one getpid through the `syscall` instruction
//   BM_getpid_libc           one getpid through syscall(2)
//   BM_clock_gettime         CLOCK_MONOTONIC through the vDSO
//   BM_ptrace_sysemu_getpid  one emulated getpid as a ptrace Sentry sees it:
//                            PTRACE_SYSEMU + waitpid + GETREGS + SETREGS
//   BM_ptrace_syscall_getpid one getpid traced with PTRACE_SYSCALL (entry and
//                            exit stop, host runs it; what classic tracers
//                            such as proot without seccomp pay)
//   BM_fork_wait             fork + _exit + waitpid
#include <benchmark/benchmark.h>

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

inline long raw_getpid() {
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "0"(static_cast<long>(SYS_getpid))
               : "rcx", "r11", "memory");
  return ret;
}

void BM_getpid_raw(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(raw_getpid());
  }
}
BENCHMARK(BM_getpid_raw);

void BM_getpid_libc(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(syscall(SYS_getpid));
  }
}
BENCHMARK(BM_getpid_libc);

void BM_clock_gettime(benchmark::State& state) {
  timespec ts{};
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_clock_gettime);

// A forked child that stops itself and then calls getpid forever, traced by
// this thread.  The child only makes raw system calls after fork, so it is
// safe even if the benchmark library has started threads.
class GetpidTracee {
 public:
  GetpidTracee() {
    pid_ = fork();
    if (pid_ < 0) {
      error_ = std::string("fork: ") + std::strerror(errno);
      return;
    }
    if (pid_ == 0) {
      if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
        _exit(1);
      }
      kill(static_cast<pid_t>(raw_getpid()), SIGSTOP);
      for (;;) {
        raw_getpid();
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_ || !WIFSTOPPED(status)) {
      error_ = "tracee did not stop (is ptrace allowed here?)";
      return;
    }
    const long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
    if (ptrace(PTRACE_SETOPTIONS, pid_, nullptr,
               reinterpret_cast<void*>(options)) != 0) {
      error_ = std::string("PTRACE_SETOPTIONS: ") + std::strerror(errno);
    }
  }

  ~GetpidTracee() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }

  GetpidTracee(const GetpidTracee&) = delete;
  GetpidTracee& operator=(const GetpidTracee&) = delete;

  const std::string& error() const { return error_; }

  // Resumes with `request` and waits for the next syscall stop.
  bool step(__ptrace_request request) {
    if (ptrace(request, pid_, nullptr, nullptr) != 0) {
      error_ = std::string("resume: ") + std::strerror(errno);
      return false;
    }
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_ || !WIFSTOPPED(status) ||
        WSTOPSIG(status) != (SIGTRAP | 0x80)) {
      error_ = "unexpected stop";
      return false;
    }
    return true;
  }

  bool get_regs(user_regs_struct& regs) {
    return ptrace(PTRACE_GETREGS, pid_, nullptr, &regs) == 0;
  }
  bool set_regs(const user_regs_struct& regs) {
    return ptrace(PTRACE_SETREGS, pid_, nullptr, &regs) == 0;
  }

 private:
  pid_t pid_ = -1;
  std::string error_;
};

void BM_ptrace_sysemu_getpid(benchmark::State& state) {
  GetpidTracee tracee;
  // Reach the first syscall stop (a getpid of the loop) outside the timing.
  if (!tracee.error().empty() || !tracee.step(PTRACE_SYSEMU)) {
    state.SkipWithError(tracee.error().c_str());
    return;
  }
  user_regs_struct regs{};
  for (auto _ : state) {
    // Emulate the stopped getpid and run to the next one.
    if (!tracee.get_regs(regs) || regs.orig_rax != SYS_getpid) {
      state.SkipWithError("GETREGS failed or not at getpid");
      break;
    }
    regs.rax = 1;
    if (!tracee.set_regs(regs)) {
      state.SkipWithError("SETREGS failed");
      break;
    }
    if (!tracee.step(PTRACE_SYSEMU)) {
      state.SkipWithError(tracee.error().c_str());
      break;
    }
  }
}
BENCHMARK(BM_ptrace_sysemu_getpid);

void BM_ptrace_syscall_getpid(benchmark::State& state) {
  GetpidTracee tracee;
  // Reach the first syscall-entry stop outside the timing.
  if (!tracee.error().empty() || !tracee.step(PTRACE_SYSCALL)) {
    state.SkipWithError(tracee.error().c_str());
    return;
  }
  for (auto _ : state) {
    // Let the host finish this getpid (exit stop), then run to the next
    // entry stop.
    if (!tracee.step(PTRACE_SYSCALL) || !tracee.step(PTRACE_SYSCALL)) {
      state.SkipWithError(tracee.error().c_str());
      break;
    }
  }
}
BENCHMARK(BM_ptrace_syscall_getpid);

void BM_fork_wait(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) {
      _exit(0);
    }
    if (pid < 0) {
      state.SkipWithError("fork failed");
      break;
    }
    int status = 0;
    waitpid(pid, &status, 0);
  }
}
BENCHMARK(BM_fork_wait)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
