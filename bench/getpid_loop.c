// getpid_loop: time N raw getpid system calls and print the mean cost.
//
//   getpid_loop [N]            (default N = 200000)
//
// Prints exactly one line on stdout: "ns_per_call=<float>".
//
// Built static so that it runs the same way natively, under `runsc do`,
// under the sysemu_floor tracer and under proot.  After the static glibc
// startup it only makes the system calls a minimal sandbox has: getpid (the
// loop), clock_gettime (twice; through the vDSO when one is mapped, as a real
// syscall otherwise), write (the result) and exit_group.  stdio is avoided on
// purpose: printf on stdout would fstat() it first.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// One getpid through the `syscall` instruction.  asm volatile with a
// "memory" clobber: the compiler may neither drop nor hoist it out of the loop.
static inline long raw_getpid(void) {
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "0"((long)SYS_getpid)
                   : "rcx", "r11", "memory");
  return ret;
}

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n <= 0) {
      return;
    }
    buf += n;
    len -= (size_t)n;
  }
}

static void die(const char *msg) {
  write_all(2, msg, strlen(msg));
  _exit(2);
}

static int64_t now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    die("getpid_loop: clock_gettime failed\n");
  }
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  long long n = 200000;
  if (argc > 2) {
    die("usage: getpid_loop [N]\n");
  }
  if (argc == 2) {
    char *end = NULL;
    n = strtoll(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || n <= 0) {
      die("getpid_loop: N must be a positive integer\n");
    }
  }

  long sink = 0;
  int64_t start = now_ns();
  for (long long i = 0; i < n; i++) {
    sink ^= raw_getpid();
  }
  int64_t end = now_ns();

  // Use the result so the loop is observably needed (it is anyway: volatile).
  if (sink == -1) {
    die("getpid_loop: impossible getpid result\n");
  }

  char line[64];
  int len = snprintf(line, sizeof line, "ns_per_call=%.2f\n",
                     (double)(end - start) / (double)n);
  if (len <= 0 || (size_t)len >= sizeof line) {
    die("getpid_loop: formatting failed\n");
  }
  write_all(1, line, (size_t)len);
  return 0;
}
