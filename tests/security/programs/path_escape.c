// Tries, from inside the sandbox, to read a host file outside the
// sandbox's root: through "..", absolute and relative symlinks, /proc's
// magic links (root, cwd, fd), openat from directory FDs, and a rename
// race (a directory swapped with a symlink to the host path while another
// thread opens through it). Every attempt that opens something reads it
// and looks for the secret. Prints each escape and a summary; exits 1 if
// any attempt reached the secret.
// Usage: path_escape HOST_DIR SECRET [BASE]
//   HOST_DIR/secret holds SECRET on the host; what the program makes
//   (symlinks, the race's directory) goes under BASE (default "/", the
//   sandbox's root; the native control run gives its scratch directory).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char* g_secret;
static long g_attempts, g_escapes;

// Opens `path` relative to `dirfd`; if that works, reads it and counts an
// escape if the secret is in it.
static void try_open(int dirfd, const char* path, const char* how) {
  ++g_attempts;
  int fd = openat(dirfd, path, O_RDONLY);
  if (fd < 0) return;
  char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  if (strstr(buf, g_secret)) {
    ++g_escapes;
    printf("ESCAPE: %s (%s)\n", path, how);
  }
}

static atomic_int g_stop;

// Swaps /race/d (a directory) and /race/s (a symlink to the host's
// directory) over and over.
static char g_race_d[2048], g_race_s[2048];
static void* swapper(void* arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) renameat2(AT_FDCWD, g_race_d, AT_FDCWD, g_race_s, RENAME_EXCHANGE);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: path_escape HOST_DIR SECRET [BASE]\n");
    return 2;
  }
  const char* host_dir = argv[1];
  g_secret = argv[2];
  const char* base = argc == 4 ? argv[3] : "";
  char path[4096], at[4096];
#define UNDER(name) (snprintf(at, sizeof(at), "%s%s", base, name), at)

  // "..": never above the root.
  snprintf(path, sizeof(path), "/../../../../../..%s/secret", host_dir);
  try_open(AT_FDCWD, path, "dot-dot from the root");
  snprintf(path, sizeof(path), "../../../../../..%s/secret", host_dir);
  try_open(AT_FDCWD, path, "dot-dot from the working directory");
  try_open(AT_FDCWD, "/../secret", "dot-dot to the root's parent");

  // Symlinks made in the sandbox (the tree may be read-only: then the
  // ones the test script put in the root are used).
  snprintf(path, sizeof(path), "%s/secret", host_dir);
  (void)symlink(path, UNDER("/abs"));
  (void)symlink("../../../../../../secret", UNDER("/up"));
  (void)symlink("../../../../..", UNDER("/updir"));
  try_open(AT_FDCWD, UNDER("/abs"), "an absolute symlink to the host path");
  try_open(AT_FDCWD, UNDER("/up"), "a relative symlink climbing out");
  snprintf(path, sizeof(path), "%s/updir%s/secret", base, host_dir);
  try_open(AT_FDCWD, path, "a symlink to the root's parent, then the host path");

  // /proc's magic links.
  snprintf(path, sizeof(path), "/proc/self/root/../../..%s/secret", host_dir);
  try_open(AT_FDCWD, path, "/proc/self/root");
  snprintf(path, sizeof(path), "/proc/1/root%s/secret", host_dir);
  try_open(AT_FDCWD, path, "/proc/1/root");
  snprintf(path, sizeof(path), "/proc/self/cwd/../../../..%s/secret", host_dir);
  try_open(AT_FDCWD, path, "/proc/self/cwd");
  int rootfd = open("/", O_PATH | O_DIRECTORY);
  if (rootfd >= 0) {
    snprintf(path, sizeof(path), "/proc/self/fd/%d/../../..%s/secret", rootfd, host_dir);
    try_open(AT_FDCWD, path, "/proc/self/fd of the root");
    snprintf(path, sizeof(path), "../../../..%s/secret", host_dir);
    try_open(rootfd, path, "openat from the root's FD");
    try_open(rootfd, "../secret", "openat from the root's FD, one up");
  }
  for (int fd = 0; fd < 64; ++fd) {
    snprintf(path, sizeof(path), "/proc/self/fd/%d/..%s/secret", fd, host_dir);
    try_open(AT_FDCWD, path, "each FD's magic link");
  }

  // The rename race, where the tree is writable.
  char race[1024], race_secret_d[4096], race_secret_s[4096];
  snprintf(race, sizeof(race), "%s/race.%d", base, (int)getpid());
  snprintf(g_race_d, sizeof(g_race_d), "%s/d", race);
  snprintf(g_race_s, sizeof(g_race_s), "%s/s", race);
  snprintf(race_secret_d, sizeof(race_secret_d), "%s/secret", g_race_d);
  snprintf(race_secret_s, sizeof(race_secret_s), "%s/secret", g_race_s);
  if (mkdir(race, 0755) == 0 && mkdir(g_race_d, 0755) == 0 && symlink(host_dir, g_race_s) == 0) {
    int fd = open(race_secret_d, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) close(fd);  // an empty decoy with the same name
    pthread_t thread;
    pthread_create(&thread, NULL, swapper, NULL);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long rounds = 0;
    do {
      try_open(AT_FDCWD, race_secret_d, "a rename race: a directory swapped with a symlink");
      try_open(AT_FDCWD, race_secret_s, "a rename race: the symlink's side");
      if (chdir(g_race_d) == 0) {
        try_open(AT_FDCWD, "secret", "a rename race: relative to a working directory swapped away");
        (void)chdir("/");
      }
      ++rounds;
      clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < 2);
    atomic_store(&g_stop, 1);
    pthread_join(thread, NULL);
    printf("rename race: %ld rounds\n", rounds);
    // Leave nothing behind (a writable root is the host's directory),
    // never following the symlink (whichever name it ended under).
    const char* names[2] = {g_race_d, g_race_s};
    for (int i = 0; i < 2; ++i) {
      struct stat st;
      if (lstat(names[i], &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        char decoy[4096];
        snprintf(decoy, sizeof(decoy), "%s/secret", names[i]);
        unlink(decoy);
        rmdir(names[i]);
      } else {
        unlink(names[i]);
      }
    }
    rmdir(race);
  } else {
    printf("rename race: skipped, the tree is not writable (%s)\n", strerror(errno));
  }
  printf("%ld attempts, %ld escapes\n", g_attempts, g_escapes);
  return g_escapes == 0 ? 0 : 1;
}
