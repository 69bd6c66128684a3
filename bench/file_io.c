// file_io: sequential file read/write throughput and stat() latency.
//
//   file_io MODE DIR [-s MIB] [-b KIB] [-n FILES]
//
// MODE is one of:
//   seq_write     create DIR/bench.dat, write MIB MiB (default 256) in 1 MiB
//                 writes, fsync, close; prints
//                   write_mib_s=<f> write_nosync_mib_s=<f> bytes=<n>
//                 write_mib_s covers the writes and the fsync;
//                 write_nosync_mib_s stops at the last write (before fsync).
//   seq_read      read DIR/bench.dat to its end in 1 MiB reads; prints
//                   read_mib_s=<f> bytes=<n>
//   write_read    seq_write, then seq_read of the file just written, in one
//                 process (under `runsc do`: a file of the tmpfs upper layer);
//                 prints both lines.
//   mkfiles       create DIR/f00000 .. DIR/f<FILES-1> (default 10000), empty;
//                 prints created=<n>.  Not timed: it prepares `stat`.
//   stat          stat() every DIR/fNNNNN twice; prints
//                   stat_us=<f> stat2_us=<f> files=<n>
//                 (microseconds per stat() in the first and the second pass).
//   mkfiles_stat  mkfiles (timed separately), then stat, in one process;
//                 prints create_us=<f> (per open(O_CREAT) + close) and the
//                 stat line.
//
// -b KIB changes the size of each read and write (default 1024 = 1 MiB;
// MIB * 1024 must be a multiple of it).
//
// DIR is created if missing (one level).  Only the named operations are
// inside the clock_gettime(CLOCK_MONOTONIC) brackets: opening the data file,
// allocating and touching the 1 MiB buffer and formatting the paths are not.
// Any failing call, or a short file, prints the reason on stderr and exits 1
// without a result, so scripts can report "n/a".  No result is checked for
// being "fast enough": this is a benchmark, not a test.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { kMiB = 1 << 20 };
static size_t chunk = kMiB;  // bytes per read() / write()

static void usage(void) {
  fprintf(stderr,
          "usage: file_io {seq_write|seq_read|write_read|mkfiles|stat|mkfiles_stat} DIR "
          "[-s MIB] [-b KIB] [-n FILES]\n");
  exit(2);
}

static void die(const char* what, const char* path) {
  fprintf(stderr, "file_io: %s %s: %s\n", what, path ? path : "", strerror(errno));
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long parse_pos(const char* s) {
  char* end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v <= 0) usage();
  return v;
}

// The read/write buffer, touched so that its pages exist before any timing starts
// (under the Sentry: mapped into the stub before the first read or write).
static char* chunk_buffer(void) {
  void* p = NULL;
  if (posix_memalign(&p, 4096, chunk) != 0) {
    fprintf(stderr, "file_io: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < chunk; ++i) ((char*)p)[i] = (char)(i * 131 + 7);
  return p;
}

static void seq_write(const char* path, long mib) {
  char* buf = chunk_buffer();
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open", path);
  const double t0 = now_s();
  const long chunks = mib * (long)(kMiB / chunk);
  for (long i = 0; i < chunks; ++i) {
    size_t done = 0;
    while (done < chunk) {
      ssize_t n = write(fd, buf + done, chunk - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("write", path);
      }
      done += (size_t)n;
    }
  }
  const double t1 = now_s();
  if (fsync(fd) != 0) die("fsync", path);
  const double t2 = now_s();
  if (close(fd) != 0) die("close", path);
  printf("write_mib_s=%.1f write_nosync_mib_s=%.1f bytes=%ld\n", (double)mib / (t2 - t0),
         (double)mib / (t1 - t0), mib * (long)kMiB);
  free(buf);
}

static void seq_read(const char* path, long mib) {
  char* buf = chunk_buffer();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open", path);
  long long total = 0;
  const double t0 = now_s();
  for (;;) {
    ssize_t n = read(fd, buf, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("read", path);
    }
    if (n == 0) break;
    total += n;
  }
  const double t1 = now_s();
  close(fd);
  if (total < (long long)mib * kMiB) {
    fprintf(stderr, "file_io: %s has %lld bytes, expected %ld MiB\n", path, total, mib);
    exit(1);
  }
  printf("read_mib_s=%.1f bytes=%lld\n", (double)total / kMiB / (t1 - t0), total);
  free(buf);
}

static char** file_paths(const char* dir, long n) {
  char** paths = calloc((size_t)n, sizeof(char*));
  if (!paths) die("calloc", NULL);
  for (long i = 0; i < n; ++i) {
    if (asprintf(&paths[i], "%s/f%05ld", dir, i) < 0) die("asprintf", NULL);
  }
  return paths;
}

static double make_files(char** paths, long n) {
  const double t0 = now_s();
  for (long i = 0; i < n; ++i) {
    int fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("open", paths[i]);
    if (close(fd) != 0) die("close", paths[i]);
  }
  return (now_s() - t0) / (double)n * 1e6;
}

static double stat_pass(char** paths, long n) {
  struct stat st;
  const double t0 = now_s();
  for (long i = 0; i < n; ++i) {
    if (stat(paths[i], &st) != 0) die("stat", paths[i]);
  }
  return (now_s() - t0) / (double)n * 1e6;
}

static void stat_files(char** paths, long n) {
  const double first = stat_pass(paths, n);
  const double second = stat_pass(paths, n);
  printf("stat_us=%.3f stat2_us=%.3f files=%ld\n", first, second, n);
}

int main(int argc, char** argv) {
  if (argc < 3) usage();
  const char* mode = argv[1];
  const char* dir = argv[2];
  long mib = 256;
  long files = 10000;
  for (int i = 3; i < argc; ++i) {
    if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
      mib = parse_pos(argv[++i]);
    } else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc) {
      long kib = parse_pos(argv[++i]);
      if (kib > 1024 * 1024) usage();
      chunk = (size_t)kib * 1024;
    } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      files = parse_pos(argv[++i]);
      if (files > 100000) usage();
    } else {
      usage();
    }
  }
  if (((size_t)mib * kMiB) % chunk != 0) usage();
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("mkdir", dir);
  char* data = NULL;
  if (asprintf(&data, "%s/bench.dat", dir) < 0) die("asprintf", NULL);

  if (strcmp(mode, "seq_write") == 0) {
    seq_write(data, mib);
  } else if (strcmp(mode, "seq_read") == 0) {
    seq_read(data, mib);
  } else if (strcmp(mode, "write_read") == 0) {
    seq_write(data, mib);
    seq_read(data, mib);
  } else if (strcmp(mode, "mkfiles") == 0) {
    char** paths = file_paths(dir, files);
    make_files(paths, files);
    printf("created=%ld\n", files);
  } else if (strcmp(mode, "stat") == 0) {
    stat_files(file_paths(dir, files), files);
  } else if (strcmp(mode, "mkfiles_stat") == 0) {
    char** paths = file_paths(dir, files);
    printf("create_us=%.3f\n", make_files(paths, files));
    stat_files(paths, files);
  } else {
    usage();
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
