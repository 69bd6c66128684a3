// signalfd(2) and signalfd4(2): a file from which the reading thread takes
// its pending signals in the file's mask (its own first, then its
// process's) as struct signalfd_siginfo records. Readable in poll(2) and
// select(2) when such a signal is pending for the polling thread. It has
// no host file behind it, so epoll(7) refuses it (EPERM) for now.
#include <sys/signalfd.h>
#include <sys/syscall.h>

#include <cstring>

#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

constexpr uint64_t kUnblockable = (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1));

signalfd_siginfo to_record(const siginfo_t& info) {
  signalfd_siginfo r{};
  r.ssi_signo = static_cast<uint32_t>(info.si_signo);
  r.ssi_errno = info.si_errno;
  r.ssi_code = info.si_code;
  switch (info.si_signo) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP:
      if (info.si_code > 0 && info.si_code != SI_KERNEL) {
        r.ssi_addr = reinterpret_cast<uint64_t>(info.si_addr);
        break;
      }
      [[fallthrough]];
    default:
      if (info.si_code == SI_TIMER) {
        r.ssi_tid = static_cast<uint32_t>(info.si_timerid);
        r.ssi_overrun = static_cast<uint32_t>(info.si_overrun);
      } else {
        r.ssi_pid = static_cast<uint32_t>(info.si_pid);
        r.ssi_uid = info.si_uid;
      }
      if (info.si_signo == SIGCHLD) r.ssi_status = info.si_status;
      r.ssi_int = info.si_value.sival_int;
      r.ssi_ptr = reinterpret_cast<uint64_t>(info.si_value.sival_ptr);
      break;
  }
  return r;
}

class SignalfdDescription final : public vfs::FileDescription {
 public:
  SignalfdDescription(uint64_t mask, int flags) : FileDescription(O_RDWR | flags), mask_(mask) {}
  void set_mask(uint64_t mask) { mask_.store(mask); }

  Result<size_t> read(std::span<const iovec> dst, int64_t) override {
    Task* t = kernel::current_task();
    if (!t) return Err(EINVAL);
    size_t room = 0;
    for (const auto& v : dst) room += v.iov_len;
    if (room < sizeof(signalfd_siginfo)) return Err(EINVAL);
    std::vector<uint8_t> out;
    for (;;) {
      while (out.size() + sizeof(signalfd_siginfo) <= room) {
        auto info = t->dequeue_signal(mask_.load());
        if (!info) break;
        const signalfd_siginfo record = to_record(*info);
        const auto* bytes = reinterpret_cast<const uint8_t*>(&record);
        out.insert(out.end(), bytes, bytes + sizeof(record));
      }
      if (!out.empty()) break;
      if (flags_ & O_NONBLOCK) return Err(EAGAIN);
      // Senders wake this thread for signals it blocks.
      if (t->block() == EINTR) return Err(EINTR);
    }
    size_t done = 0;
    for (const auto& v : dst) {
      const size_t n = std::min(v.iov_len, out.size() - done);
      std::memcpy(v.iov_base, out.data() + done, n);
      done += n;
      if (done == out.size()) break;
    }
    return done;
  }

  bool sentry_pollable() const override { return true; }
  short readiness(short events) const override {
    Task* t = kernel::current_task();
    short ready = 0;
    if (t && (t->pending_signals() & mask_.load())) ready |= events & (POLLIN | POLLRDNORM);
    return ready;
  }

  Result<struct stat> stat() override {
    struct stat st{};
    st.st_mode = 0600;  // an anonymous inode, as Linux's [signalfd]
    st.st_nlink = 1;
    return st;
  }

 private:
  std::atomic<uint64_t> mask_;
};

Result<uint64_t> do_signalfd4(Task& t, int fd, uint64_t mask_addr, uint64_t size, int flags) {
  if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) return Err(EINVAL);
  if (size != 8) return Err(EINVAL);
  uint64_t mask;
  if (auto r = t.mm().copy_in(mask_addr, &mask, sizeof(mask)); !r) return Err(r.error());
  mask &= ~kUnblockable;  // signalfd(2): SIGKILL and SIGSTOP are silently ignored
  if (fd != -1) {
    auto f = get_file(t, fd);
    if (!f) return Err(f.error());
    auto* sfd = dynamic_cast<SignalfdDescription*>(f->get());
    if (!sfd) return Err(EINVAL);
    sfd->set_mask(mask);
    return static_cast<uint64_t>(fd);
  }
  auto file = std::make_shared<SignalfdDescription>(mask, (flags & SFD_NONBLOCK) ? O_NONBLOCK : 0);
  auto installed = t.fds().install(file, (flags & SFD_CLOEXEC) != 0);
  if (!installed) return Err(installed.error());
  return static_cast<uint64_t>(*installed);
}

Result<uint64_t> sys_signalfd(Task& t, const SyscallArgs& a) { return do_signalfd4(t, a.i(0), a.u(1), a.u(2), 0); }
Result<uint64_t> sys_signalfd4(Task& t, const SyscallArgs& a) {
  return do_signalfd4(t, a.i(0), a.u(1), a.u(2), a.i(3));
}

}  // namespace

void register_signalfd(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_signalfd, "signalfd", sys_signalfd, {A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_signalfd4, "signalfd4", sys_signalfd4, {A::kFd, A::kPtr, A::kInt, A::kHex});
}

}  // namespace runsc::syscalls
