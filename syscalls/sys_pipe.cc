// pipe(2) and pipe2(2). The Sentry makes a host pipe and keeps both ends
// itself: the host kernel provides pipe(7)'s semantics (capacity, PIPE_BUF
// atomicity, EOF, EPIPE), and the application only ever sees our FDs.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/host_fds.h"
#include "syscalls/util.h"
#include "vfs/host_file.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

Result<uint64_t> do_pipe2(Task& t, uint64_t fds_addr, int flags) {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) return Err(EINVAL);
  int host[2];
  if (::pipe2(host, O_CLOEXEC | O_NONBLOCK | (flags & O_DIRECT)) != 0) return ErrFromErrno();
  UniqueFd read_end(host[0]), write_end(host[1]);
  if (auto r = check_application_fd(read_end); !r) return Err(r.error());
  if (auto r = check_application_fd(write_end); !r) return Err(r.error());
  const int status = flags & (O_NONBLOCK | O_DIRECT);
  auto reader = vfs::HostFileDescription::pipe_end(std::move(read_end), O_RDONLY | status);
  auto writer = vfs::HostFileDescription::pipe_end(std::move(write_end), O_WRONLY | status);
  const bool cloexec = (flags & O_CLOEXEC) != 0;
  auto rfd = t.fds().install(reader, cloexec);
  if (!rfd) return Err(rfd.error());
  auto wfd = t.fds().install(writer, cloexec);
  if (!wfd) {
    (void)t.fds().close(*rfd);
    return Err(wfd.error());
  }
  const int32_t out[2] = {*rfd, *wfd};
  if (auto r = t.mm().copy_out(fds_addr, out, sizeof(out)); !r) {
    (void)t.fds().close(*rfd);
    (void)t.fds().close(*wfd);
    return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_pipe(Task& t, const SyscallArgs& a) { return do_pipe2(t, a.u(0), 0); }
Result<uint64_t> sys_pipe2(Task& t, const SyscallArgs& a) { return do_pipe2(t, a.u(0), a.i(1)); }

}  // namespace

void register_pipe(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_pipe, "pipe", sys_pipe, {A::kPtr});
  tb.set(SYS_pipe2, "pipe2", sys_pipe2, {A::kPtr, A::kHex});
}

}  // namespace runsc::syscalls
