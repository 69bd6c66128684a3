// Blocking host calls made on behalf of a task wait on the task's interrupt
// eventfd as well, so a signal can cut them short (EINTR). The task loop
// publishes that FD for the Sentry thread running it.
#pragma once

#include <poll.h>

namespace runsc {

// -1 when the calling thread runs no task.
int& current_interrupt_fd();

// Waits until `fd` is ready for `events` (POLLIN/POLLOUT) or the current
// task is interrupted; returns 0, or EINTR. `timeout_ms` < 0 waits forever;
// ETIMEDOUT when it elapses.
int wait_fd_or_interrupt(int fd, short events, int timeout_ms = -1);

}  // namespace runsc
