/* Every call that would modify a read-only filesystem, and the errno Linux
 * gives for it. Run in a directory holding a file "f", a directory "d" and
 * a symlink "l" -> "f", on a read-only mount: natively on a read-only bind
 * mount, and under runsc do whose root is read-only. Prints one line per
 * call; the two outputs must be identical. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static void report(const char* what, int rc) {
  printf("%-28s %s\n", what, rc == 0 ? "ok" : strerrorname_np(errno));
}
#define CALL(expr) report(#expr, (errno = 0, (expr)) < 0 ? -1 : 0)

int main(int argc, char** argv) {
  if (argc > 1 && chdir(argv[1]) != 0) return 2;
  int dirfd = open("d", O_RDONLY | O_DIRECTORY);
  if (dirfd < 0) return 3;
  CALL(mkdir("new", 0755));
  CALL(mkdir("d", 0755));
  CALL(mkdir("f", 0755));
  CALL(mkdir("missing/new", 0755));
  CALL(mkdir("f/new", 0755));
  CALL(mkdirat(dirfd, "new", 0755));
  CALL(mkdirat(dirfd, "..", 0755));
  CALL(mknod("fifo", S_IFIFO | 0644, 0));
  CALL(mknod("f", S_IFIFO | 0644, 0));
  CALL(symlink("f", "newlink"));
  CALL(symlink("f", "l"));
  CALL(link("f", "newhard"));
  CALL(link("missing", "newhard"));
  CALL(link("f", "d"));
  CALL(unlink("f"));
  CALL(unlink("missing"));
  CALL(unlink("d"));
  CALL(unlinkat(dirfd, "x", AT_REMOVEDIR));
  CALL(rmdir("d"));
  CALL(rmdir("missing"));
  CALL(rmdir("."));
  CALL(rename("f", "g"));
  CALL(rename("missing", "g"));
  CALL(renameat2(AT_FDCWD, "f", AT_FDCWD, "d", RENAME_NOREPLACE));
  CALL(chmod("f", 0600));
  CALL(chmod("missing", 0600));
  CALL(fchmodat(AT_FDCWD, "l", 0600, 0));
  CALL(chown("f", 1, 1));
  CALL(lchown("l", 1, 1));
  CALL(chown("missing", 1, 1));
  CALL(fchownat(dirfd, "", 1, 1, AT_EMPTY_PATH));
  CALL(truncate("f", 0));
  CALL(truncate("d", 0));
  CALL(truncate("missing", 0));
  CALL(utimensat(AT_FDCWD, "f", NULL, 0));
  CALL(utimensat(AT_FDCWD, "missing", NULL, 0));
  CALL(utimes("f", NULL));
  CALL(open("f", O_WRONLY));
  CALL(open("new", O_WRONLY | O_CREAT, 0644));
  CALL(open("f", O_WRONLY | O_CREAT | O_EXCL, 0644));
  return 0;
}
