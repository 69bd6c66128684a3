// pipe_pingpong: two processes bounce one byte over a pair of pipes.
//
//   pipe_pingpong [ROUND_TRIPS]   (default 20000)
//
// Prints "ns_per_roundtrip=<float> round_trips=<N>". Each round trip is two
// writes and two reads, and two wake-ups of a blocked reader.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  if (n <= 0) return 2;
  int ping[2], pong[2];
  if (pipe(ping) != 0 || pipe(pong) != 0) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  char c = 'x';
  if (pid == 0) {
    for (long i = 0; i < n; ++i) {
      if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; ++i) {
    if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n;
  printf("ns_per_roundtrip=%.1f round_trips=%ld\n", ns, n);
  return 0;
}
