// A bounded fork bomb: forks until the host says no (a pids cgroup limit
// the test sets), then kills its children and checks fork works again.
// Prints what happened; exits 0 unless fork never failed.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  int made = 0, err = 0;
  pid_t kids[200];
  for (int i = 0; i < 200; ++i) {
    pid_t p = fork();
    if (p == 0) { pause(); _exit(0); }
    if (p < 0) { err = errno; break; }
    kids[made++] = p;
  }
  printf("made %d, then %s\n", made, err ? strerror(err) : "no error");
  for (int i = 0; i < made; ++i) kill(kids[i], 9);
  for (int i = 0; i < made; ++i) waitpid(kids[i], 0, 0);
  // Still working afterwards.
  pid_t p = fork();
  if (p == 0) _exit(7);
  int st; waitpid(p, &st, 0);
  printf("after: child exit %d\n", WEXITSTATUS(st));
  return err == EAGAIN ? 0 : 1;
}
