// memory_bounds: what the sandbox's memory limit does to an application
// that reaches it (issue 15, item 3). Run under `runsc --total-memory 256m
// --overlay-size 8m do`; prints one line per check for the script to
// assert:
//   overlay fallocate: ENOSPC          (the 2.7 GB fallocate)
//   overlay write: ENOSPC              (bytes past --overlay-size)
//   shm fallocate: ENOSPC              (a tmpfs: half of the memory)
//   oom child: SIGKILL                 (touching more than the memory)
//   dmesg: Out of memory: Killed process N (memory_bounds)
//   meminfo total: 262144 kB
//   after: ok                          (a file, a pipe, a child still work)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* outcome(int r) { return r == 0 ? "ok" : strerrorname_np(errno); }

static void report_fallocate(const char* what, const char* path) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    printf("%s fallocate: open %s\n", what, strerrorname_np(errno));
    return;
  }
  printf("%s fallocate: %s\n", what, outcome(fallocate(fd, 0, 3200000000LL, 2700000000LL)));
  close(fd);
  unlink(path);
}

int main(void) {
  report_fallocate("overlay", "/big-file");
  // Writes: 1 MiB at a time until the upper layer is full.
  static char chunk[1 << 20];
  memset(chunk, 'x', sizeof chunk);
  int fd = open("/filler", O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err = 0;
  for (int i = 0; i < 64 && !err; ++i)
    if (write(fd, chunk, sizeof chunk) < 0) err = errno;
  printf("overlay write: %s\n", err ? strerrorname_np(err) : "no error after 64 MiB");
  close(fd);
  unlink("/filler");
  report_fallocate("shm", "/dev/shm/big-file");
  fflush(stdout);

  pid_t pid = fork();
  if (pid == 0) {
    const size_t n = 1ull << 30;
    char* m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) _exit(2);
    for (size_t i = 0; i < n; i += 4096) m[i] = 1;
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) printf("oom child: SIG%s\n", sigabbrev_np(WTERMSIG(status)));
  else printf("oom child: exit %d\n", WEXITSTATUS(status));

  static char log[1 << 17];
  int n = klogctl(3, log, sizeof log - 1);
  if (n > 0) {
    log[n] = 0;
    char* line = strstr(log, "Out of memory: ");
    if (line) {
      *strchrnul(line, '\n') = 0;
      printf("dmesg: %s\n", line);
    }
  }
  FILE* meminfo = fopen("/proc/meminfo", "r");
  unsigned long total_kb = 0;
  if (meminfo && fscanf(meminfo, "MemTotal: %lu kB", &total_kb) == 1) printf("meminfo total: %lu kB\n", total_kb);

  int p[2];
  char b = 0;
  int file = open("/after", O_RDWR | O_CREAT, 0600);
  pid_t child = fork();
  if (child == 0) _exit(3);
  int ok = file >= 0 && write(file, "k", 1) == 1 && pipe(p) == 0 && write(p[1], "k", 1) == 1 && read(p[0], &b, 1) == 1 &&
           waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 3;
  printf("after: %s\n", ok ? "ok" : "broken");
  return 0;
}
