// Moving data between FDs without the application's buffer: sendfile,
// copy_file_range, splice, tee, vmsplice. The Sentry moves the bytes
// itself (read from one description, write to the other); tee, which
// must copy a pipe's bytes without consuming them, uses the host's tee(2)
// on the host pipes behind the two ends.
#include <sys/syscall.h>
#include <sys/uio.h>

#include <fcntl.h>

#include <vector>

#include "common/interrupt.h"
#include "syscalls/util.h"
#include "vfs/host_file.h"

namespace runsc::syscalls {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr uint64_t kMaxRwCount = 0x7ffff000;

bool is_pipe(vfs::FileDescription& f) {
  auto st = f.stat();
  return st && S_ISFIFO(st->st_mode);
}

// Copies up to `length` bytes; `in_off`/`out_off` < 0 use and advance the
// descriptions' own offsets. With `once`, stops after the first read (as
// splice(2) returns after one transfer). An error after some bytes moved
// returns the count, as write(2) does.
Result<uint64_t> transfer(vfs::FileDescription& in, int64_t* in_off, vfs::FileDescription& out, int64_t* out_off,
                          uint64_t length, bool once) {
  std::vector<uint8_t> buffer(static_cast<size_t>(std::min<uint64_t>(length, kChunk)));
  uint64_t done = 0;
  while (done < length) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length - done, buffer.size()));
    iovec in_vec{buffer.data(), want};
    auto got = in.read(std::span<const iovec>(&in_vec, 1), in_off ? *in_off : -1);
    if (!got) {
      if (done) break;
      return Err(got.error());
    }
    if (*got == 0) break;
    if (in_off) *in_off += static_cast<int64_t>(*got);
    size_t written = 0;
    while (written < *got) {
      iovec out_vec{buffer.data() + written, *got - written};
      auto w = out.write(std::span<const iovec>(&out_vec, 1), out_off ? *out_off : -1);
      if (!w) {
        if (done + written) return done + written;
        return Err(w.error());
      }
      if (out_off) *out_off += static_cast<int64_t>(*w);
      written += *w;
    }
    done += *got;
    if (once || *got < want) break;
  }
  return done;
}

Result<std::optional<int64_t>> offset_arg(Task& t, uint64_t addr) {
  if (!addr) return std::optional<int64_t>{};
  int64_t v;
  if (auto r = t.mm().copy_in(addr, &v, sizeof(v)); !r) return Err(r.error());
  if (v < 0) return Err(EINVAL);
  return std::optional<int64_t>{v};
}

Result<uint64_t> sys_sendfile(Task& t, const SyscallArgs& a) {
  auto out = get_file(t, a.i(0));
  if (!out) return Err(out.error());
  auto in = get_file(t, a.i(1));
  if (!in) return Err(in.error());
  if (!(*in)->readable() || !(*out)->writable()) return Err(EBADF);
  // sendfile(2): the input must support mmap-like access (a regular file).
  if (!(*in)->seekable() || is_pipe(**in)) return Err(EINVAL);
  if ((*out)->flags() & O_APPEND) return Err(EINVAL);
  auto offset = offset_arg(t, a.u(2));
  if (!offset) return Err(offset.error());
  const uint64_t count = std::min<uint64_t>(a.u(3), kMaxRwCount);
  int64_t position = offset->value_or(0);
  auto n = transfer(**in, *offset ? &position : nullptr, **out, nullptr, count, false);
  if (!n) return Err(n.error() == EPIPE ? (t.send_signal(SIGPIPE), EPIPE) : n.error());
  if (*offset) {
    if (auto r = t.mm().copy_out(a.u(2), &position, sizeof(position)); !r) return Err(r.error());
  }
  return *n;
}

Result<uint64_t> sys_copy_file_range(Task& t, const SyscallArgs& a) {
  if (a.u(5) != 0) return Err(EINVAL);  // no flags are defined
  auto in = get_file(t, a.i(0));
  if (!in) return Err(in.error());
  auto out = get_file(t, a.i(2));
  if (!out) return Err(out.error());
  if (!(*in)->readable() || !(*out)->writable() || ((*out)->flags() & O_APPEND)) return Err(EBADF);
  auto in_st = (*in)->stat();
  auto out_st = (*out)->stat();
  if (!in_st || !out_st) return Err(EIO);
  if (S_ISDIR(in_st->st_mode) || S_ISDIR(out_st->st_mode)) return Err(EISDIR);
  if (!S_ISREG(in_st->st_mode) || !S_ISREG(out_st->st_mode)) return Err(EINVAL);
  auto in_off = offset_arg(t, a.u(1));
  if (!in_off) return Err(in_off.error());
  auto out_off = offset_arg(t, a.u(3));
  if (!out_off) return Err(out_off.error());
  const uint64_t length = std::min<uint64_t>(a.u(4), kMaxRwCount);
  int64_t in_pos = 0, out_pos = 0;
  if (*in_off) in_pos = **in_off;
  else if (auto p = (*in)->seek(0, SEEK_CUR)) in_pos = *p;
  if (*out_off) out_pos = **out_off;
  else if (auto p = (*out)->seek(0, SEEK_CUR)) out_pos = *p;
  // The same file with overlapping ranges is refused (copy_file_range(2)).
  const bool same_file = (*in)->dentry() && (*in)->dentry() == (*out)->dentry();
  if (same_file && in_pos < out_pos + static_cast<int64_t>(length) && out_pos < in_pos + static_cast<int64_t>(length))
    return Err(EINVAL);
  auto n = transfer(**in, &in_pos, **out, &out_pos, length, false);
  if (!n) return Err(n.error());
  if (*in_off) {
    if (auto r = t.mm().copy_out(a.u(1), &in_pos, sizeof(in_pos)); !r) return Err(r.error());
  } else {
    (void)(*in)->seek(in_pos, SEEK_SET);
  }
  if (*out_off) {
    if (auto r = t.mm().copy_out(a.u(3), &out_pos, sizeof(out_pos)); !r) return Err(r.error());
  } else {
    (void)(*out)->seek(out_pos, SEEK_SET);
  }
  return *n;
}

Result<uint64_t> sys_splice(Task& t, const SyscallArgs& a) {
  auto in = get_file(t, a.i(0));
  if (!in) return Err(in.error());
  auto out = get_file(t, a.i(2));
  if (!out) return Err(out.error());
  const unsigned flags = static_cast<unsigned>(a.u(5));
  if (flags & ~(SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT)) return Err(EINVAL);
  if (!(*in)->readable() || !(*out)->writable()) return Err(EBADF);
  const bool in_pipe = is_pipe(**in), out_pipe = is_pipe(**out);
  // splice(2): one end must be a pipe, and a pipe end takes no offset.
  if (!in_pipe && !out_pipe) return Err(EINVAL);
  if ((in_pipe && a.u(1)) || (out_pipe && a.u(3))) return Err(ESPIPE);
  if (in_pipe && out_pipe && (*in)->dentry() == nullptr && in->get() == out->get()) return Err(EINVAL);
  if ((*out)->flags() & O_APPEND) return Err(EINVAL);
  auto in_off = offset_arg(t, a.u(1));
  if (!in_off) return Err(in_off.error());
  auto out_off = offset_arg(t, a.u(3));
  if (!out_off) return Err(out_off.error());
  if ((*in_off && !(*in)->seekable()) || (*out_off && !(*out)->seekable())) return Err(ESPIPE);
  const uint64_t length = std::min<uint64_t>(a.u(4), kMaxRwCount);
  if (length == 0) return ok(0);
  if ((flags & SPLICE_F_NONBLOCK) && in_pipe) {
    // Only the pipe side is non-blocking: nothing in it means EAGAIN.
    pollfd p{(*in)->host_poll_fd(), POLLIN, 0};
    if (p.fd >= 0 && ::poll(&p, 1, 0) == 0) return Err(EAGAIN);
  }
  int64_t in_pos = in_off->value_or(0), out_pos = out_off->value_or(0);
  auto n = transfer(**in, *in_off ? &in_pos : nullptr, **out, *out_off ? &out_pos : nullptr, length, true);
  if (!n) {
    if (n.error() == EPIPE) t.send_signal(SIGPIPE);
    return Err(n.error());
  }
  if (*in_off) {
    if (auto r = t.mm().copy_out(a.u(1), &in_pos, sizeof(in_pos)); !r) return Err(r.error());
  }
  if (*out_off) {
    if (auto r = t.mm().copy_out(a.u(3), &out_pos, sizeof(out_pos)); !r) return Err(r.error());
  }
  return *n;
}

Result<uint64_t> sys_tee(Task& t, const SyscallArgs& a) {
  auto in = get_file(t, a.i(0));
  if (!in) return Err(in.error());
  auto out = get_file(t, a.i(1));
  if (!out) return Err(out.error());
  const unsigned flags = static_cast<unsigned>(a.u(3));
  if (flags & ~(SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT)) return Err(EINVAL);
  auto* in_host = dynamic_cast<vfs::HostFileDescription*>(in->get());
  auto* out_host = dynamic_cast<vfs::HostFileDescription*>(out->get());
  // tee(2): both ends pipes, and not the same pipe.
  if (!in_host || !out_host || !is_pipe(**in) || !is_pipe(**out)) return Err(EINVAL);
  if (!(*in)->readable() || !(*out)->writable()) return Err(EBADF);
  const size_t length = static_cast<size_t>(std::min<uint64_t>(a.u(2), kMaxRwCount));
  for (;;) {
    ssize_t n = ::tee(in_host->host_fd(), out_host->host_fd(), length, SPLICE_F_NONBLOCK);
    if (n >= 0) return static_cast<uint64_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN || (flags & SPLICE_F_NONBLOCK)) return ErrFromErrno();
    // Nothing to copy yet, or no room: wait for either side.
    pollfd p{in_host->host_fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) {
      if (int e = wait_fd_or_interrupt(in_host->host_fd(), POLLIN); e != 0) return Err(e);
    } else if (int e = wait_fd_or_interrupt(out_host->host_fd(), POLLOUT); e != 0) {
      return Err(e);
    }
  }
}

// vmsplice(2) without page gifting: a writev into the pipe, or a readv
// out of it.
Result<uint64_t> sys_vmsplice(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  if (!is_pipe(**f)) return Err(EBADF);
  if (a.u(2) > 1024) return Err(EINVAL);
  std::vector<iovec> app(a.u(2));
  if (!app.empty()) {
    if (auto r = t.mm().copy_in(a.u(1), app.data(), app.size() * sizeof(iovec)); !r) return Err(r.error());
  }
  const bool to_pipe = (*f)->writable();
  std::vector<iovec> spans;
  for (const iovec& v : app) {
    if (v.iov_len == 0) continue;
    auto s = t.mm().io_spans(reinterpret_cast<uint64_t>(v.iov_base), v.iov_len, !to_pipe);
    if (!s) return Err(s.error());
    spans.insert(spans.end(), s->begin(), s->end());
  }
  if (spans.empty()) return ok(0);
  auto n = to_pipe ? (*f)->write(spans, -1) : (*f)->read(spans, -1);
  if (!n) {
    if (n.error() == EPIPE) t.send_signal(SIGPIPE);
    return Err(n.error());
  }
  return *n;
}

}  // namespace

void register_splice(kernel::SyscallTable& tb) {
  using A = kernel::Arg;
  tb.set(SYS_sendfile, "sendfile", sys_sendfile, {A::kFd, A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_copy_file_range, "copy_file_range", sys_copy_file_range,
         {A::kFd, A::kPtr, A::kFd, A::kPtr, A::kInt, A::kHex});
  tb.set(SYS_splice, "splice", sys_splice, {A::kFd, A::kPtr, A::kFd, A::kPtr, A::kInt, A::kHex});
  tb.set(SYS_tee, "tee", sys_tee, {A::kFd, A::kFd, A::kInt, A::kHex});
  tb.set(SYS_vmsplice, "vmsplice", sys_vmsplice, {A::kFd, A::kPtr, A::kInt, A::kHex});
}

}  // namespace runsc::syscalls
