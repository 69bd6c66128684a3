#include "gofer/transport.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace runsc::gofer {
namespace {

// Room for a few FDs, so that a peer attaching more than the one we expect
// has them delivered (and closed by us) rather than relying on the kernel
// to drop the overflow.
constexpr size_t kMaxFdsPerMessage = 16;

int wait_for(int socket, short events) {
  pollfd p{socket, events, 0};
  while (::poll(&p, 1, -1) < 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

}  // namespace

int send_message(int socket, std::span<const uint8_t> message, int fd) {
  iovec iov{const_cast<uint8_t*>(message.data()), message.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    // SOCK_SEQPACKET sends a packet whole or not at all.
    if (::sendmsg(socket, &msg, MSG_NOSIGNAL) >= 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (int e = wait_for(socket, POLLOUT)) return e;
      continue;
    }
    return errno;
  }
}

Result<Received> receive_message(int socket, std::span<uint8_t> buffer, bool accept_fd) {
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  if (accept_fd) {
    // Without a control buffer Linux discards (closes) any FDs that came
    // with the packet and sets MSG_CTRUNC, which is what the server wants.
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
  }
  ssize_t n;
  for (;;) {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (int e = wait_for(socket, POLLIN)) return Err(e);
      continue;
    }
    return ErrFromErrno();
  }
  Received out;
  out.size = static_cast<size_t>(n);
  if (n == 0) {
    // recvmsg(2) returns 0 both at end of file and for an empty packet, which
    // a hostile peer may send. Only at end of file is the receive side shut
    // down; Linux marks it so when the peer of a SOCK_SEQPACKET pair closes
    // or calls shutdown(SHUT_WR).
    pollfd p{socket, POLLRDHUP, 0};
    out.closed = ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)) != 0;
  }
  out.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  if (accept_fd) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (!out.fd) {
          out.fd.reset(fd);
        } else {
          ::close(fd);
        }
      }
    }
  }
  return out;
}

}  // namespace runsc::gofer
