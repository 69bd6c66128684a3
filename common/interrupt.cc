#include "common/interrupt.h"

#include <errno.h>
#include <poll.h>

namespace runsc {

int& current_interrupt_fd() {
  thread_local int fd = -1;
  return fd;
}

int wait_fd_or_interrupt(int fd, short events, int timeout_ms) {
  pollfd fds[2] = {{fd, events, 0}, {current_interrupt_fd(), POLLIN, 0}};
  nfds_t n = fds[1].fd >= 0 ? 2 : 1;
  for (;;) {
    int r = ::poll(fds, n, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) return ETIMEDOUT;
    if (n == 2 && (fds[1].revents & POLLIN)) return EINTR;
    return 0;
  }
}

}  // namespace runsc
