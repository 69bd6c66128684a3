// Stress: "threads": 200 threads, each futex-waking the next one 1000
// times and waiting until it has been woken as often; "forks": 100
// sequential fork + exec + wait of /bin/true. Prints a summary a native
// run prints identically.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kThreads = 200, kRounds = 1000 };
static _Atomic unsigned counters[kThreads];

static long futex(_Atomic unsigned* addr, int op, unsigned val) {
  return syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void* ring(void* arg) {
  const long i = (long)arg;
  _Atomic unsigned* next = &counters[(i + 1) % kThreads];
  for (int r = 0; r < kRounds; ++r) {
    atomic_fetch_add(next, 1);
    futex(next, FUTEX_WAKE, 1);
  }
  // Wait until our predecessor has woken us kRounds times.
  for (;;) {
    unsigned seen = atomic_load(&counters[i]);
    if (seen >= kRounds) break;
    futex(&counters[i], FUTEX_WAIT, seen);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "threads") == 0) {
    pthread_t t[kThreads];
    for (long i = 0; i < kThreads; ++i) {
      if (pthread_create(&t[i], NULL, ring, (void*)i) != 0) return 2;
    }
    unsigned long total = 0;
    for (int i = 0; i < kThreads; ++i) pthread_join(t[i], NULL);
    for (int i = 0; i < kThreads; ++i) total += counters[i];
    printf("%d threads, %lu wakes\n", kThreads, total);
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "forks") == 0) {
    int ok = 0;
    for (int i = 0; i < 100; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        execl("/bin/true", "true", (char*)NULL);
        _exit(127);
      }
      int status;
      if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) ++ok;
    }
    printf("%d of 100 fork+exec+wait ok\n", ok);
    return 0;
  }
  fprintf(stderr, "usage: stress threads|forks\n");
  return 2;
}
