// Job control on the controlling terminal, run as the session leader on a
// pty (by script(1)) natively and under `runsc do`; both must print the
// same lines. Checks tcgetpgrp/tcgetsid, TIOCSCTTY's rules, tcsetpgrp's
// errors, SIGTTIN for a background reader, handing the terminal to a job
// and taking it back with SIGTTOU blocked (as shells do), and termios and
// window size settings that stick.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int failures;
static void check(int ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (!isatty(0)) {
    printf("stdin is not a terminal\n");
    return 2;
  }
  check(getsid(0) == getpid(), "we lead our session");
  check(tcgetpgrp(0) == getpgrp(), "our process group is in the foreground");
  check(tcgetsid(0) == getsid(0), "the terminal's session is ours");
  check(ioctl(0, TIOCSCTTY, 0) == 0, "TIOCSCTTY on our own terminal is a no-op");
  errno = 0;
  check(tcsetpgrp(0, 999999) == -1 && errno == ESRCH, "tcsetpgrp to a missing group: ESRCH");
  errno = 0;
  check(tcsetpgrp(0, -1) == -1 && errno == EINVAL, "tcsetpgrp to a negative group: EINVAL");

  // /dev/tty is the controlling terminal, opened anew (tty(4)); a new
  // session has none: ENXIO.
  int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
  check(tty >= 0 && isatty(tty) && tcgetpgrp(tty) == getpgrp(), "/dev/tty opens our controlling terminal");
  if (tty >= 0) close(tty);
  pid_t loner = fork();
  if (loner == 0) {
    setsid();
    errno = 0;
    _exit(open("/dev/tty", O_RDWR) == -1 && errno == ENXIO ? 0 : 1);
  }
  int loner_status = 0;
  check(waitpid(loner, &loner_status, 0) == loner && WIFEXITED(loner_status) && WEXITSTATUS(loner_status) == 0,
        "/dev/tty without a controlling terminal: ENXIO");

  // termios and window size settings stick.
  struct termios saved, t;
  check(tcgetattr(0, &saved) == 0, "tcgetattr");
  t = saved;
  t.c_lflag &= ~ECHO;
  check(tcsetattr(0, TCSANOW, &t) == 0, "tcsetattr");
  struct termios again;
  check(tcgetattr(0, &again) == 0 && !(again.c_lflag & ECHO), "ECHO off sticks");
  tcsetattr(0, TCSANOW, &saved);
  struct winsize w = {.ws_row = 40, .ws_col = 100}, r;
  check(ioctl(0, TIOCSWINSZ, &w) == 0 && ioctl(0, TIOCGWINSZ, &r) == 0 && r.ws_row == 40 && r.ws_col == 100,
        "TIOCSWINSZ then TIOCGWINSZ");

  // A child in a background group: its read stops it with SIGTTIN.
  int ready[2];
  if (pipe(ready) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    char c;
    // Not a session leader: it may not take the terminal.
    errno = 0;
    int e = ioctl(0, TIOCSCTTY, 0) == -1 ? errno : 0;
    if (write(ready[1], &e, sizeof(e)) != sizeof(e)) _exit(3);
    (void)read(0, &c, 1);  // stops with SIGTTIN until it is in the foreground
    // Continued in the foreground: the terminal says so.
    _exit(tcgetpgrp(0) == getpgrp() ? 0 : 1);
  }
  setpgid(child, child);
  int e = -1;
  check(read(ready[0], &e, sizeof(e)) == sizeof(e) && e == EPERM, "TIOCSCTTY by a non-leader: EPERM");
  int status = 0;
  check(waitpid(child, &status, WUNTRACED) == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTTIN,
        "a background reader stops with SIGTTIN");
  check(tcsetpgrp(0, child) == 0 && tcgetpgrp(0) == child, "tcsetpgrp hands the terminal to the job");
  kill(child, SIGCONT);
  // In the foreground it reads the line the harness typed ahead.
  check(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "the job, continued in the foreground, reads and sees itself there");
  // Back to us from the background: with SIGTTOU blocked, as shells do.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTTOU);
  sigprocmask(SIG_BLOCK, &block, &old);
  check(tcsetpgrp(0, getpgrp()) == 0 && tcgetpgrp(0) == getpgrp(), "tcsetpgrp from the background with SIGTTOU blocked");
  sigprocmask(SIG_SETMASK, &old, NULL);
  printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
