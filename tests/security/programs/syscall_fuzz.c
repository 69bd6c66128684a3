// syscall_fuzz: random system calls with random arguments, from forked
// children, inside the sandbox only (never run it natively: it would be
// the host kernel it throws garbage at). Children are forked one after
// another until CALLS calls were made in all; each has a watchdog (a
// 10 ms timer re-armed before every call) that ends it if a call blocks,
// and children may die of what they do to themselves (an unmapped
// stack...), which is fine. A child can also block legitimately where its
// own timer cannot end it (rt_sigsuspend or a blocking call after
// sigprocmask with SIGALRM blocked, as on Linux): the parent SIGKILLs a
// child still alive after 2 s, and only a child that SIGKILL does not end
// within 10 s more is a hang, a call the Sentry never lets go of. The test
// is that the Sentry survives, answers every call, ends every task it is
// told to, and still works afterwards. Deterministic for a given SEED.
//
// Left out, because they would hit the test itself rather than the
// Sentry: exit, signals to others, fork/clone/exec (the children do not
// multiply), and limits set on other processes (prlimit64 could lower
// the parent's). Calls that allocate by a size argument (mmap, mremap,
// brk, fallocate, ftruncate, mlock...) are in: the test runs the sandbox
// with a memory limit and a small overlay, so what they take is bounded
// there (ENOMEM, ENOSPC, or the sandbox's OOM killer ending a child).
// Sends to addresses are left to socket_fuzz, which keeps them on
// loopback.
// With a fourth argument, "pause", it prints "fuzz: start" and "fuzz: done"
// before the first and after the last child and waits each time for a
// line on stdin: the test script counts the Sentry's host FDs then (every
// child is gone by the second, so what they held must be gone too).
// Usage: syscall_fuzz MAX_CHILDREN CALLS [SEED [pause]]
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t state;
static uint64_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static int excluded(long nr) {
  switch (nr) {
    case SYS_exit: case SYS_exit_group: case SYS_kill: case SYS_tkill: case SYS_tgkill:
    case SYS_rt_sigqueueinfo: case SYS_rt_tgsigqueueinfo: case SYS_fork: case SYS_vfork: case SYS_clone:
    case SYS_clone3: case SYS_execve: case SYS_execveat: case SYS_connect: case SYS_sendto:
    case SYS_sendmsg: case SYS_sendmmsg: case SYS_pidfd_send_signal: case SYS_process_vm_writev:
    case SYS_setrlimit: case SYS_prlimit64: case SYS_rt_sigreturn: case SYS_vhangup:
      return 1;
    default:
      return 0;
  }
}

static uint8_t buf[65536];
static volatile long* calls_made;  // shared with the parent
static volatile uint64_t* last_call;  // [nr, args...]: what a hung child was doing

static uint64_t any_arg(void* bad) {
  switch (rnd() % 8) {
    case 0: return 0;
    case 1: return rnd() % 64;  // small numbers: FDs, flags, signals
    case 2: return (uint64_t)(uintptr_t)buf + rnd() % 1024;
    case 3: return (uint64_t)(uintptr_t)bad;
    case 4: return rnd();
    case 5: return (uint64_t)-1 - rnd() % 16;
    case 6: return 1ULL << (rnd() % 64);
    default: return rnd() % 4096;
  }
}

static void child(long calls) {
  signal(SIGALRM, SIG_DFL);
  int null_fd = open("/dev/null", O_RDWR);
  dup2(null_fd, 0);
  dup2(null_fd, 1);
  dup2(null_fd, 2);
  void* bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (long i = 0; i < calls; ++i) {
    for (size_t k = 0; k < 256; ++k) buf[k] = (uint8_t)rnd();
    long nr;
    do nr = (long)(rnd() % 335); while (excluded(nr));
    struct itimerval watchdog = {{0, 0}, {0, 10000}};
    setitimer(ITIMER_REAL, &watchdog, NULL);  // a call that blocks ends the child, not the test
    __atomic_add_fetch(calls_made, 1, __ATOMIC_RELAXED);
    uint64_t a[6];
    for (int k = 0; k < 6; ++k) a[k] = any_arg(bad);
    last_call[0] = (uint64_t)nr;
    for (int k = 0; k < 6; ++k) last_call[k + 1] = a[k];
    syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  _exit(0);
}

// waitpid with a deadline: the child's pid, or 0 if it is still running.
static pid_t wait_ms(pid_t pid, int* status, int limit_ms) {
  pid_t got;
  for (int waited_ms = 0; (got = waitpid(pid, status, WNOHANG)) == 0 && waited_ms < limit_ms; waited_ms += 5) usleep(5000);
  return got;
}

static void wait_for_line(const char* marker) {
  printf("%s\n", marker);
  fflush(stdout);
  char line[64];
  if (!fgets(line, sizeof line, stdin)) exit(1);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: syscall_fuzz MAX_CHILDREN CALLS [SEED]\n");
    return 2;
  }
  const int children = atoi(argv[1]);
  const long calls = atol(argv[2]);
  const uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
  const int pause_for_count = argc > 4 && strcmp(argv[4], "pause") == 0;
  int finished = 0, died = 0;
  calls_made = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (calls_made == MAP_FAILED) return 1;
  last_call = (volatile uint64_t*)(calls_made + 8);
  int hangs = 0, killed = 0;
  int c = 0;
  if (pause_for_count) wait_for_line("fuzz: start");
  for (; c < children && *calls_made < calls; ++c) {
    state = 0x9e3779b97f4a7c15ull ^ (seed * 0x2545f4914f6cdd1dull) ^ (uint64_t)(c + 1) * 0x100000001b3ull;
    pid_t pid = fork();
    if (pid == 0) child(calls - *calls_made);
    if (pid < 0) return 1;
    int status;
    pid_t got = wait_ms(pid, &status, 2000);
    if (got == 0) {
      // Blocked where its own timer cannot reach it: SIGKILL must.
      ++killed;
      kill(pid, SIGKILL);
      got = wait_ms(pid, &status, 10000);
    }
    if (got == 0) {
      fprintf(stderr, "syscall_fuzz: child %d survived SIGKILL in syscall %llu (%#llx, %#llx, %#llx, %#llx, %#llx, %#llx)\n", c,
              (unsigned long long)last_call[0], (unsigned long long)last_call[1], (unsigned long long)last_call[2],
              (unsigned long long)last_call[3], (unsigned long long)last_call[4], (unsigned long long)last_call[5],
              (unsigned long long)last_call[6]);
      ++hangs;
      continue;
    }
    if (got != pid) return 1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++finished;
    else ++died;
  }
  if (hangs) {
    fprintf(stderr, "syscall_fuzz: %d hung children\n", hangs);
    return 1;
  }
  if (pause_for_count) wait_for_line("fuzz: done");
  // Still working: a pipe, a file, a child.
  int p[2];
  char b = 0;
  if (pipe(p) != 0 || write(p[1], "k", 1) != 1 || read(p[0], &b, 1) != 1 || b != 'k') return 1;
  if (open("/etc/passwd", O_RDONLY) < 0) return 1;
  pid_t pid = fork();
  if (pid == 0) _exit(3);
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 3) return 1;
  printf("syscall_fuzz: %ld calls from %d children (%d finished, %d ended by what they did, %d of them by SIGKILL); "
         "still working\n", *calls_made, c, finished, died, killed);
  return 0;
}
