// The host FDs the Sentry makes for the application's own objects (pipes,
// eventfds, timerfds, epoll instances, inotify instances, inet sockets)
// stay below a ceiling under the Sentry's RLIMIT_NOFILE. What is left
// above it is a reserve for the Sentry itself: the FDs the gofer donates
// with its replies, the platform's stubs, the control socket. However
// many objects the application holds, a gofer reply still finds room for
// its FD, and the application gets ENFILE (the system-wide table is full,
// open(2)) instead of the Sentry losing FDs it needs.
#pragma once

#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc {

// Sets the ceiling from the Sentry's RLIMIT_NOFILE (raising the soft
// limit to the hard one first); returns the ceiling.
int init_application_fd_ceiling();
void set_application_fd_ceiling(int ceiling);
int application_fd_ceiling();

// A host FD just made for the application: ENFILE if it lies at or above
// the ceiling. The kernel hands out the lowest free number, so an FD
// numbered N means at least N+1 are open; `fd` is closed by its owner.
Result<void> check_application_fd(const UniqueFd& fd);

}  // namespace runsc
