#include "common/host_fds.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <climits>

namespace runsc {
namespace {

std::atomic<int> ceiling{INT_MAX};

}  // namespace

int init_application_fd_ceiling() {
  struct rlimit nofile;
  if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0) return ceiling.load();
  if (nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &nofile);
    (void)::getrlimit(RLIMIT_NOFILE, &nofile);
  }
  const uint64_t limit = std::min<uint64_t>(nofile.rlim_cur, INT_MAX);
  // An eighth of the limit, and at least 256, is the Sentry's reserve.
  const uint64_t reserve = std::max<uint64_t>(256, limit / 8);
  set_application_fd_ceiling(static_cast<int>(limit > reserve * 2 ? limit - reserve : limit / 2));
  return ceiling.load();
}

void set_application_fd_ceiling(int value) { ceiling.store(value); }
int application_fd_ceiling() { return ceiling.load(); }

Result<void> check_application_fd(const UniqueFd& fd) {
  if (!fd) return ErrFromErrno();
  if (fd.get() >= ceiling.load()) return Err(ENFILE);
  return {};
}

}  // namespace runsc
