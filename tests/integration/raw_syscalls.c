// Issues raw `syscall` instructions (no libc wrappers) and checks that the
// Sentry answers them: run it only under `runsc do --root-dir DIR`, where
// DIR holds just this binary. Exits 0 when every check holds.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

static long raw(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

static long raw5(long nr, long a, long b, long c, long d, long e) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                   : "rcx", "r11", "memory");
  return ret;
}

static int failures;
static void check(int ok, const char* what, long got) {
  if (!ok) {
    failures++;
    printf("FAIL: %s (got %ld)\n", what, got);
  } else {
    printf("ok: %s\n", what);
  }
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "crash") == 0) {
    volatile int* volatile bad = (volatile int*)8;
    *bad = 1;  // SIGSEGV: the sandbox must report 128+11
  }
  long pid = raw(SYS_getpid, 0, 0, 0);
  check(pid == 1, "getpid() is 1 inside the sandbox", pid);
  long ppid = raw(SYS_getppid, 0, 0, 0);
  check(ppid == 0, "getppid() of pid 1 is 0", ppid);
  long fd = raw(SYS_openat, AT_FDCWD, (long)"/etc/passwd", O_RDONLY);
  check(fd == -ENOENT, "open of a host path outside the root fails with ENOENT", fd);
  fd = raw(SYS_openat, AT_FDCWD, (long)"/../../../etc/hostname", O_RDONLY);
  check(fd == -ENOENT, "'..' cannot climb out of the root", fd);
  fd = raw(SYS_openat, AT_FDCWD, (long)"/raw_syscalls", O_RDONLY);
  check(fd >= 0, "open of a file inside the root works", fd);
  // The root is an overlay: writes succeed inside the sandbox and never
  // reach the host (sandbox_test.sh hashes the host file around this run).
  long w = raw(SYS_openat, AT_FDCWD, (long)"/raw_syscalls", O_WRONLY | O_TRUNC);
  check(w >= 0, "opening a root file for writing works (overlay)", w);
  long written = raw(SYS_write, w, (long)"overwritten", 11);
  check(written == 11, "writing it works", written);
  // No filesystem in the sandbox exports file handles (name_to_handle_at(2)).
  char handle_buf[128] = {0};
  int mount_id = 0;
  ((unsigned int*)handle_buf)[0] = 64;  // struct file_handle.handle_bytes
  long handle = raw5(SYS_name_to_handle_at, AT_FDCWD, (long)"/raw_syscalls", (long)handle_buf, (long)&mount_id, 0);
  check(handle == -EOPNOTSUPP, "name_to_handle_at is EOPNOTSUPP", handle);
  long bad = raw(SYS_write, 1, 0x10, 5);
  check(bad == -EFAULT, "write from an unmapped pointer is EFAULT", bad);
  long nosys = raw(433 /* fspick */, 0, 0, 0);  // a real syscall the Sentry does not implement
  check(nosys == -ENOSYS, "an unimplemented syscall (fspick) is ENOSYS", nosys);
  long uname_ret;
  char uts[6 * 65];
  uname_ret = raw(SYS_uname, (long)uts, 0, 0);
  check(uname_ret == 0 && strcmp(uts + 2 * 65, "4.4.0") == 0, "uname release is 4.4.0", uname_ret);
  printf("%s\n", failures ? "SOME CHECKS FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
