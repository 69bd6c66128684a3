// net_bench: socket throughput and round trips between two processes of
// one sandbox (or natively), timed inside the program.
//
//   net_bench unix_stream MiB     AF_UNIX stream socketpair, 64 KiB writes: MiB/s
//   net_bench unix_rtt N          AF_UNIX stream, 1 byte each way: us per round trip
//   net_bench tcp_stream MiB      TCP over 127.0.0.1, 64 KiB writes: MiB/s
//   net_bench tcp_rtt N           TCP over 127.0.0.1 (TCP_NODELAY), 1 byte each way: us
//
// Prints one line: "<mode> <value> <unit>".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

// A connected pair: a unix socketpair, or a TCP connection over loopback.
static void make_pair(int tcp, int fds[2]) {
  if (!tcp) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) die("socketpair");
    return;
  }
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  if (l < 0 || bind(l, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(l, 1) != 0) die("listen");
  if (getsockname(l, (struct sockaddr*)&a, &len) != 0) die("getsockname");
  fds[0] = socket(AF_INET, SOCK_STREAM, 0);
  if (fds[0] < 0 || connect(fds[0], (struct sockaddr*)&a, sizeof(a)) != 0) die("connect");
  fds[1] = accept(l, NULL, NULL);
  if (fds[1] < 0) die("accept");
  close(l);
  int one = 1;
  setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void full_read(int fd, char* buf, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, buf, n);
    if (r <= 0) die("read");
    buf += r;
    n -= (size_t)r;
  }
}

static double stream(int tcp, long mib) {
  int fds[2];
  make_pair(tcp, fds);
  static char buf[65536];
  const long total = mib << 20;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    long got = 0;
    while (got < total) {
      ssize_t r = read(fds[1], buf, sizeof(buf));
      if (r <= 0) _exit(1);
      got += r;
    }
    (void)!write(fds[1], "k", 1);  // all arrived
    _exit(0);
  }
  close(fds[1]);
  memset(buf, 'x', sizeof(buf));
  const double start = now_s();
  for (long sent = 0; sent < total;) {
    ssize_t w = write(fds[0], buf, sizeof(buf));
    if (w <= 0) die("write");
    sent += w;
  }
  char k;
  full_read(fds[0], &k, 1);
  const double secs = now_s() - start;
  waitpid(pid, NULL, 0);
  return (double)mib / secs;
}

static double rtt(int tcp, long n) {
  int fds[2];
  make_pair(tcp, fds);
  pid_t pid = fork();
  char b = 'x';
  if (pid == 0) {
    close(fds[0]);
    for (long i = 0; i < n; ++i) {
      full_read(fds[1], &b, 1);
      if (write(fds[1], &b, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  close(fds[1]);
  const double start = now_s();
  for (long i = 0; i < n; ++i) {
    if (write(fds[0], &b, 1) != 1) die("write");
    full_read(fds[0], &b, 1);
  }
  const double secs = now_s() - start;
  waitpid(pid, NULL, 0);
  return secs / (double)n * 1e6;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: net_bench unix_stream|unix_rtt|tcp_stream|tcp_rtt COUNT\n");
    return 2;
  }
  const char* mode = argv[1];
  const long count = atol(argv[2]);
  if (strcmp(mode, "unix_stream") == 0) printf("%s %.1f MiB/s\n", mode, stream(0, count));
  else if (strcmp(mode, "tcp_stream") == 0) printf("%s %.1f MiB/s\n", mode, stream(1, count));
  else if (strcmp(mode, "unix_rtt") == 0) printf("%s %.2f us\n", mode, rtt(0, count));
  else if (strcmp(mode, "tcp_rtt") == 0) printf("%s %.2f us\n", mode, rtt(1, count));
  else {
    fprintf(stderr, "net_bench: unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
