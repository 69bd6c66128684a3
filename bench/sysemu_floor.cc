// sysemu_floor: the cheapest possible PTRACE_SYSEMU "Sentry".
//
//   sysemu_floor [-v] [--] PROGRAM [ARGS...]
//
// Forks, traces and execs PROGRAM (which inherits stdin/stdout/stderr) and
// stops it at every system call with PTRACE_SYSEMU.  getpid is emulated in the
// tracer: one waitpid + PTRACE_GETREGS + PTRACE_SETREGS (rax = 1) +
// PTRACE_SYSEMU per call, which is the floor a ptrace-based Sentry cannot go
// below.  Every other system call is handed to the host kernel: the tracee is
// rewound onto its `syscall` instruction and resumed with PTRACE_SYSCALL for
// that one call (entry stop, exit stop), then put back under PTRACE_SYSEMU.
//
// The exit status of PROGRAM is passed through (128+signal if it was killed).
// With -v a summary of the stops is printed on stderr at the end.
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unistd.h>

namespace {

// Length of the x86-64 `syscall` instruction (0f 05).
constexpr unsigned long kSyscallInsnLen = 2;
// What the emulated getpid answers: the sandbox's init.
constexpr unsigned long long kEmulatedPid = 1;
// SIGTRAP | 0x80: a syscall stop under PTRACE_O_TRACESYSGOOD.
constexpr int kSyscallStopSig = SIGTRAP | 0x80;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "sysemu_floor: %s: %s\n", what, std::strerror(errno));
  std::exit(125);
}

void usage() {
  std::fprintf(stderr, "usage: sysemu_floor [-v] [--] PROGRAM [ARGS...]\n");
  std::exit(125);
}

// Where the tracee is with respect to the system call being passed through.
enum class State {
  kEmulating,     // resumed with PTRACE_SYSEMU; next syscall stop is an entry
  kPassingEntry,  // rewound and resumed with PTRACE_SYSCALL; expect entry stop
  kPassingExit,   // host is running the syscall; expect exit stop
};

struct Stats {
  unsigned long long emulated = 0;
  unsigned long long passed = 0;
  unsigned long long signals = 0;
  unsigned long long events = 0;
};

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false;
  int first = 1;
  for (; first < argc; ++first) {
    std::string_view arg = argv[first];
    if (arg == "-v") {
      verbose = true;
    } else if (arg == "--") {
      ++first;
      break;
    } else if (!arg.empty() && arg[0] == '-') {
      usage();
    } else {
      break;
    }
  }
  if (first >= argc) {
    usage();
  }

  pid_t child = fork();
  if (child < 0) {
    die("fork");
  }
  if (child == 0) {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
      std::perror("sysemu_floor: PTRACE_TRACEME");
      _exit(125);
    }
    // Stop so the parent can set options before exec; everything from here
    // on (including the execve) goes through the SYSEMU loop below.
    raise(SIGSTOP);
    execvp(argv[first], &argv[first]);
    std::perror("sysemu_floor: execvp");
    _exit(127);
  }

  int status = 0;
  if (waitpid(child, &status, 0) != child) {
    die("waitpid");
  }
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
    std::fprintf(stderr, "sysemu_floor: child did not stop (status 0x%x)\n",
                 status);
    return 125;
  }
  const long options =
      PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SETOPTIONS, child, nullptr,
             reinterpret_cast<void*>(options)) != 0) {
    die("PTRACE_SETOPTIONS");
  }

  State state = State::kEmulating;
  Stats stats;
  int inject = 0;  // signal to deliver on the next resume
  user_regs_struct regs{};

  for (;;) {
    const auto request = state == State::kEmulating ? PTRACE_SYSEMU
                                                    : PTRACE_SYSCALL;
    if (ptrace(request, child, nullptr,
               reinterpret_cast<void*>(static_cast<long>(inject))) != 0) {
      die("resume");
    }
    inject = 0;

    if (waitpid(child, &status, __WALL) != child) {
      die("waitpid");
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      break;
    }
    if (!WIFSTOPPED(status)) {
      continue;
    }

    const int sig = WSTOPSIG(status);
    if (sig == kSyscallStopSig) {
      switch (state) {
        case State::kEmulating:
          if (ptrace(PTRACE_GETREGS, child, nullptr, &regs) != 0) {
            die("PTRACE_GETREGS");
          }
          if (regs.orig_rax == SYS_getpid) {
            regs.rax = kEmulatedPid;
            ++stats.emulated;
          } else {
            // SYSEMU has already decided to skip this call; run the
            // `syscall` instruction again, this time traced by PTRACE_SYSCALL
            // so the host executes it.
            regs.rip -= kSyscallInsnLen;
            regs.rax = regs.orig_rax;
            state = State::kPassingEntry;
            ++stats.passed;
          }
          if (ptrace(PTRACE_SETREGS, child, nullptr, &regs) != 0) {
            die("PTRACE_SETREGS");
          }
          break;
        case State::kPassingEntry:
          state = State::kPassingExit;
          break;
        case State::kPassingExit:
          state = State::kEmulating;
          break;
      }
    } else if ((status >> 16) != 0) {
      // PTRACE_EVENT_EXEC (and any other event stop): just resume.
      ++stats.events;
    } else {
      // A real signal for the tracee: deliver it.
      ++stats.signals;
      inject = sig;
    }
  }

  if (verbose) {
    std::fprintf(stderr,
                 "sysemu_floor: emulated %llu getpid, passed through %llu "
                 "syscalls, %llu signals, %llu ptrace events\n",
                 stats.emulated, stats.passed, stats.signals, stats.events);
  }
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 128 + WTERMSIG(status);
}
