#include "common/host_fds.h"
#include "netstack/hostinet/host_socket.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include <fmt/core.h>

#include "common/interrupt.h"
#include "common/log.h"

namespace runsc::netstack {
namespace {

constexpr SocketOption kOptions[] = {
    {SOL_SOCKET, SO_REUSEADDR, true},   {SOL_SOCKET, SO_REUSEPORT, true},   {SOL_SOCKET, SO_KEEPALIVE, true},
    {SOL_SOCKET, SO_LINGER, true},      {SOL_SOCKET, SO_BROADCAST, true},   {SOL_SOCKET, SO_SNDBUF, true},
    {SOL_SOCKET, SO_RCVBUF, true},      {SOL_SOCKET, SO_ERROR, false},      {SOL_SOCKET, SO_ACCEPTCONN, false},
    {SOL_SOCKET, SO_OOBINLINE, true},   {SOL_SOCKET, SO_PRIORITY, true},    {SOL_SOCKET, SO_RCVLOWAT, true},
    {SOL_SOCKET, SO_SNDLOWAT, false},   {SOL_SOCKET, SO_TIMESTAMP, true},   {SOL_SOCKET, SO_TIMESTAMPNS, true},
    {SOL_SOCKET, SO_DONTROUTE, true},   {SOL_SOCKET, SO_NO_CHECK, true},    {SOL_SOCKET, SO_INCOMING_CPU, false},
    {SOL_SOCKET, SO_PEERCRED, false},
    {IPPROTO_TCP, TCP_NODELAY, true},   {IPPROTO_TCP, TCP_MAXSEG, true},    {IPPROTO_TCP, TCP_CORK, true},
    {IPPROTO_TCP, TCP_KEEPIDLE, true},  {IPPROTO_TCP, TCP_KEEPINTVL, true}, {IPPROTO_TCP, TCP_KEEPCNT, true},
    {IPPROTO_TCP, TCP_SYNCNT, true},    {IPPROTO_TCP, TCP_LINGER2, true},   {IPPROTO_TCP, TCP_DEFER_ACCEPT, true},
    {IPPROTO_TCP, TCP_WINDOW_CLAMP, true}, {IPPROTO_TCP, TCP_INFO, false},  {IPPROTO_TCP, TCP_QUICKACK, true},
    {IPPROTO_TCP, TCP_CONGESTION, true}, {IPPROTO_TCP, TCP_USER_TIMEOUT, true},
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT, true}, {IPPROTO_TCP, TCP_FASTOPEN, true},
    {IPPROTO_TCP, TCP_FASTOPEN_CONNECT, true},
    {IPPROTO_IP, IP_TOS, true},         {IPPROTO_IP, IP_TTL, true},         {IPPROTO_IP, IP_PKTINFO, true},
    {IPPROTO_IP, IP_RECVTOS, true},     {IPPROTO_IP, IP_RECVTTL, true},     {IPPROTO_IP, IP_RECVERR, true},
    {IPPROTO_IP, IP_MTU_DISCOVER, true}, {IPPROTO_IP, IP_MTU, false},       {IPPROTO_IP, IP_MULTICAST_IF, true},
    {IPPROTO_IP, IP_MULTICAST_TTL, true}, {IPPROTO_IP, IP_MULTICAST_LOOP, true},
    {IPPROTO_IP, IP_ADD_MEMBERSHIP, true}, {IPPROTO_IP, IP_DROP_MEMBERSHIP, true},
    {IPPROTO_IP, IP_FREEBIND, true},    {IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, true},
    {IPPROTO_IP, IP_RECVORIGDSTADDR, true}, {IPPROTO_IP, IP_RETOPTS, true},
    {IPPROTO_IPV6, IPV6_V6ONLY, true},  {IPPROTO_IPV6, IPV6_UNICAST_HOPS, true},
    {IPPROTO_IPV6, IPV6_MULTICAST_IF, true}, {IPPROTO_IPV6, IPV6_MULTICAST_HOPS, true},
    {IPPROTO_IPV6, IPV6_MULTICAST_LOOP, true}, {IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, true},
    {IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP, true}, {IPPROTO_IPV6, IPV6_RECVPKTINFO, true},
    {IPPROTO_IPV6, IPV6_TCLASS, true},  {IPPROTO_IPV6, IPV6_RECVTCLASS, true},
    {IPPROTO_IPV6, IPV6_RECVHOPLIMIT, true}, {IPPROTO_IPV6, IPV6_RECVERR, true},
    {IPPROTO_IPV6, IPV6_MTU_DISCOVER, true}, {IPPROTO_IPV6, IPV6_MTU, false},
    {IPPROTO_UDP, UDP_CORK, true},
    // Raw ICMP sockets' type filters (raw(7), icmp6(7)): bitmaps.
    {SOL_RAW, ICMP_FILTER, true},       {IPPROTO_ICMPV6, ICMP6_FILTER, true},
    {SOL_RAW, IPV6_CHECKSUM, true},     {IPPROTO_IPV6, IPV6_CHECKSUM, true},
};

constexpr HostSocketKind kKinds[] = {
    {AF_INET, SOCK_STREAM, -1},          {AF_INET6, SOCK_STREAM, -1},
    {AF_INET, SOCK_DGRAM, -1},           {AF_INET6, SOCK_DGRAM, -1},
    {AF_INET, SOCK_RAW, IPPROTO_ICMP},   {AF_INET6, SOCK_RAW, IPPROTO_ICMPV6},
};

constexpr unsigned long kIoctls[] = {
    SIOCINQ, SIOCOUTQ, SIOCATMARK, SIOCOUTQNSD,
    SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK,
    SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFMETRIC, SIOCGIFTXQLEN, SIOCGIFMAP,
};

// A host option's value is at most this long (TCP_INFO is the largest).
constexpr size_t kMaxOptionLength = 256;

const SocketOption* find_option(int level, int name) {
  for (const auto& o : kOptions) {
    if (o.level == level && o.name == name) return &o;
  }
  return nullptr;
}

// The sockaddr_in6 of RFC 2133, without sin6_scope_id: Linux accepts it.
constexpr socklen_t kSin6LenRfc2133 = 24;

std::atomic<int> g_unprivileged_port_start{1024};

int wait_result(int rc) { return rc == ETIMEDOUT ? EAGAIN : rc; }

}  // namespace

std::span<const SocketOption> host_socket_options() { return kOptions; }
std::span<const HostSocketKind> host_socket_kinds() { return kKinds; }
std::span<const unsigned long> host_socket_ioctls() { return kIoctls; }
void set_unprivileged_port_start(int port) { g_unprivileged_port_start = port; }
int unprivileged_port_start() { return g_unprivileged_port_start.load(std::memory_order_relaxed); }

Result<std::shared_ptr<HostSocket>> HostSocket::create(int family, int type, int protocol, int flags,
                                                        const Caller& caller) {
  if (family != AF_INET && family != AF_INET6) return Err(EAFNOSUPPORT);
  // inet_create(): the protocol must fit the type.
  switch (type) {
    case SOCK_STREAM:
      if (protocol != 0 && protocol != IPPROTO_TCP) return Err(EPROTONOSUPPORT);
      break;
    case SOCK_DGRAM:
      if (protocol != 0 && protocol != IPPROTO_UDP &&
          protocol != (family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6}))
        return Err(EPROTONOSUPPORT);
      break;
    case SOCK_RAW:
      if (!caller.cap_net_raw) return Err(EPERM);
      if (protocol != (family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6})) {
        log::debug("socket: raw protocol {} is not offered", protocol);
        return Err(EPROTONOSUPPORT);
      }
      break;
    default:
      return Err(ESOCKTNOSUPPORT);
  }
  UniqueFd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol));
  if (auto r = check_application_fd(fd); !r) return Err(r.error());
  if (protocol == 0) protocol = type == SOCK_STREAM ? IPPROTO_TCP : (type == SOCK_DGRAM ? IPPROTO_UDP : protocol);
  auto s = std::make_shared<HostSocket>(std::move(fd), family, type, protocol, flags);
  remember(s);
  return s;
}

HostSocket::HostSocket(UniqueFd fd, int family, int type, int protocol, int flags)
    : Socket(family, type, protocol, flags), fd_(std::move(fd)) {}

Result<void> HostSocket::check_address(const Address& addr, bool allow_unspec) const {
  if (allow_unspec && addr.length >= sizeof(sa_family_t) && addr.family() == AF_UNSPEC) return {};
  if (family() == AF_INET) {
    if (addr.length < sizeof(sockaddr_in)) return Err(EINVAL);
    if (addr.family() != AF_INET) return Err(EAFNOSUPPORT);
  } else {
    if (addr.length < kSin6LenRfc2133) return Err(EINVAL);
    if (addr.family() != AF_INET6) return Err(EAFNOSUPPORT);
  }
  return {};
}

Result<void> HostSocket::bind(const Address& addr, const Caller& caller) {
  // inet_bind(): AF_UNSPEC is taken as AF_INET for INADDR_ANY only.
  if (family() == AF_INET && addr.length >= sizeof(sockaddr_in) && addr.family() == AF_UNSPEC) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&addr.storage);
    if (sin->sin_addr.s_addr != htonl(INADDR_ANY)) return Err(EAFNOSUPPORT);
  } else if (auto r = check_address(addr, false); !r) {
    return r;
  }
  // inet_bind(): a port below ip_unprivileged_port_start needs
  // CAP_NET_BIND_SERVICE (sin_port and sin6_port are at the same offset).
  uint16_t port_be;
  std::memcpy(&port_be, reinterpret_cast<const char*>(&addr.storage) + offsetof(sockaddr_in, sin_port), sizeof(port_be));
  const int port = ntohs(port_be);
  if (port != 0 && port < g_unprivileged_port_start.load(std::memory_order_relaxed) && !caller.cap_net_bind_service)
    return Err(EACCES);
  if (::bind(fd_.get(), addr.sa(), addr.length) != 0) return ErrFromErrno();
  return {};
}

Result<void> HostSocket::listen(int backlog, const Caller& caller) {
  (void)caller;
  if (::listen(fd_.get(), backlog) != 0) return ErrFromErrno();
  return {};
}

Result<std::shared_ptr<Socket>> HostSocket::accept(Address* peer, const Caller& caller) {
  (void)caller;
  for (;;) {
    Address a;
    a.length = sizeof(a.storage);
    UniqueFd fd(::accept4(fd_.get(), a.sa(), &a.length, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd && fd.get() >= application_fd_ceiling()) return Err(ENFILE);  // the connection is dropped
    if (fd) {
      if (peer) *peer = a;
      auto s = std::make_shared<HostSocket>(std::move(fd), family(), type(), protocol(), 0);
      remember(s);
      return std::static_pointer_cast<Socket>(s);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN || (flags_ & O_NONBLOCK)) return ErrFromErrno();
    if (const int rc = wait_fd_or_interrupt(fd_.get(), POLLIN, receive_timeout_ms()); rc != 0)
      return Err(wait_result(rc));
  }
}

Result<void> HostSocket::connect(const Address& addr, const Caller& caller) {
  (void)caller;
  if (auto r = check_address(addr, true); !r) return r;
  if (::connect(fd_.get(), addr.sa(), addr.length) == 0) return {};
  const int e = errno;
  // A blocking connect waits for the handshake; one restarted after a
  // signal finds it under way (EALREADY) and waits again.
  if ((e != EINPROGRESS && e != EALREADY) || (flags_ & O_NONBLOCK)) return Err(e);
  if (const int rc = wait_fd_or_interrupt(fd_.get(), POLLOUT, send_timeout_ms()); rc != 0)
    return Err(rc == ETIMEDOUT ? EINPROGRESS : rc);
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return ErrFromErrno();
  if (err != 0) {
    // A blocking connect that failed leaves the socket free to try again
    // (inet_stream_connect() resets it); the host socket, driven
    // non-blocking, would say ECONNABORTED unless disconnected.
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    (void)::connect(fd_.get(), &unspec, sizeof(unspec));
    return Err(err);
  }
  return {};
}

Result<void> HostSocket::shutdown(int how) {
  if (::shutdown(fd_.get(), how) != 0) return ErrFromErrno();
  return {};
}

Result<Address> HostSocket::local_address() {
  Address a;
  a.length = sizeof(a.storage);
  if (::getsockname(fd_.get(), a.sa(), &a.length) != 0) return ErrFromErrno();
  return a;
}

Result<Address> HostSocket::peer_address() {
  Address a;
  a.length = sizeof(a.storage);
  if (::getpeername(fd_.get(), a.sa(), &a.length) != 0) return ErrFromErrno();
  return a;
}

Result<size_t> HostSocket::sendmsg(std::span<const iovec> src, const Address* to, Control control, int flags,
                                   const Caller& caller) {
  (void)caller;
  if (!control.rights.empty() || control.credentials) return Err(EINVAL);  // not for inet sockets
  if (to && to->length) {
    if (auto r = check_address(*to, false); !r) return Err(r.error());
  }
  constexpr int kPassed = MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE | MSG_CONFIRM;
  const int host_flags = (flags & kPassed) | MSG_DONTWAIT | MSG_NOSIGNAL;
  std::vector<iovec> rest(src.begin(), src.end());
  size_t total = 0;
  for (const auto& v : src) total += v.iov_len;
  size_t done = 0;
  for (;;) {
    msghdr m{};
    m.msg_iov = rest.data();
    m.msg_iovlen = rest.size();
    if (to && to->length) {
      m.msg_name = const_cast<sockaddr*>(to->sa());
      m.msg_namelen = to->length;
    }
    if (!control.raw.empty() && done == 0) {
      m.msg_control = control.raw.data();
      m.msg_controllen = control.raw.size();
    }
    ssize_t n = ::sendmsg(fd_.get(), &m, host_flags);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      // A blocking stream send goes on until everything is sent.
      if (type() != SOCK_STREAM || done >= total || nonblocking(flags)) return done;
      vfs::drop_front(rest, static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN || nonblocking(flags)) return done ? Result<size_t>(done) : ErrFromErrno();
    if (const int rc = wait_fd_or_interrupt(fd_.get(), POLLOUT, send_timeout_ms()); rc != 0)
      return done ? Result<size_t>(done) : Err(wait_result(rc));
  }
}

Result<size_t> HostSocket::recvmsg(std::span<const iovec> dst, int flags, Received& out) {
  constexpr int kPassed = MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE;
  const int host_flags = (flags & kPassed) | MSG_DONTWAIT;
  const bool waitall = (flags & MSG_WAITALL) && type() == SOCK_STREAM && !(flags & MSG_PEEK);
  std::vector<iovec> rest(dst.begin(), dst.end());
  size_t total = 0;
  for (const auto& v : dst) total += v.iov_len;
  size_t done = 0;
  std::vector<uint8_t> control(std::min<size_t>(out.control_room, 65536));
  for (;;) {
    msghdr m{};
    m.msg_iov = rest.data();
    m.msg_iovlen = rest.size();
    m.msg_name = out.from.sa();
    m.msg_namelen = sizeof(out.from.storage);
    m.msg_control = control.empty() ? nullptr : control.data();
    m.msg_controllen = control.size();
    ssize_t n = ::recvmsg(fd_.get(), &m, host_flags);
    if (n >= 0) {
      if (done == 0) {
        out.from.length = m.msg_namelen;
        out.flags = m.msg_flags & (MSG_TRUNC | MSG_CTRUNC | MSG_EOR | MSG_OOB | MSG_ERRQUEUE);
        control.resize(m.msg_controllen);
        out.control.raw = control;
      }
      done += static_cast<size_t>(n);
      if (!waitall || n == 0 || done >= total) return done;
      vfs::drop_front(rest, static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN || nonblocking(flags) || (flags & MSG_ERRQUEUE)) {
      return done ? Result<size_t>(done) : ErrFromErrno();
    }
    if (const int rc = wait_fd_or_interrupt(fd_.get(), POLLIN, receive_timeout_ms()); rc != 0)
      return done ? Result<size_t>(done) : Err(wait_result(rc));
  }
}

short HostSocket::readiness(short events) const {
  pollfd p{fd_.get(), events, 0};
  if (::poll(&p, 1, 0) < 0) return 0;
  return p.revents;
}

Result<std::vector<uint8_t>> HostSocket::family_getsockopt(int level, int name, size_t optlen) {
  const SocketOption* o = find_option(level, name);
  if (!o) {
    log::debug("getsockopt: level {} option {} is not passed to the host", level, name);
    // An IPv4 socket hands levels its protocol does not know to the IP
    // layer, which answers EOPNOTSUPP (ip_getsockopt()); known levels and
    // IPv6 sockets say ENOPROTOOPT.
    const bool own_level = level == SOL_SOCKET || level == IPPROTO_IP ||
                           (level == IPPROTO_TCP && type() == SOCK_STREAM) ||
                           (level == IPPROTO_UDP && type() == SOCK_DGRAM) || level == SOL_RAW;
    return Err(family() == AF_INET && !own_level ? EOPNOTSUPP : ENOPROTOOPT);
  }
  std::vector<uint8_t> value(std::min(std::max<size_t>(optlen, sizeof(int)), kMaxOptionLength));
  socklen_t len = static_cast<socklen_t>(std::min(optlen, value.size()));
  if (::getsockopt(fd_.get(), level, name, value.data(), &len) != 0) return ErrFromErrno();
  value.resize(len);
  return value;
}

Result<void> HostSocket::family_setsockopt(int level, int name, std::span<const uint8_t> value) {
  const SocketOption* o = find_option(level, name);
  if (!o || !o->settable) {
    log::debug("setsockopt: level {} option {} is not passed to the host", level, name);
    return Err(o ? ENOPROTOOPT : ENOPROTOOPT);
  }
  if (value.size() > kMaxOptionLength) return Err(EINVAL);
  if (::setsockopt(fd_.get(), level, name, value.data(), static_cast<socklen_t>(value.size())) != 0)
    return ErrFromErrno();
  return {};
}

Result<int64_t> HostSocket::ioctl(uint64_t cmd, uint64_t arg, vfs::UserMemory& mem) {
  switch (cmd) {
    case SIOCINQ: case SIOCOUTQ: case SIOCATMARK: case SIOCOUTQNSD: {
      int value = 0;
      if (::ioctl(fd_.get(), cmd, &value) != 0) return ErrFromErrno();
      if (auto r = mem.copy_out(arg, &value, sizeof(value)); !r) return Err(r.error());
      return 0;
    }
    default:
      return Err(ENOTTY);
  }
}

namespace {

// A host socket only for the interface ioctls, made once.
int ioctl_socket() {
  static const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return fd;
}

}  // namespace

std::optional<Result<int64_t>> interface_ioctl(uint64_t cmd, uint64_t arg, vfs::UserMemory& mem) {
  switch (cmd) {
    case SIOCGIFFLAGS: case SIOCGIFADDR: case SIOCGIFDSTADDR: case SIOCGIFBRDADDR: case SIOCGIFNETMASK:
    case SIOCGIFMTU: case SIOCGIFHWADDR: case SIOCGIFINDEX: case SIOCGIFNAME: case SIOCGIFMETRIC:
    case SIOCGIFTXQLEN: case SIOCGIFMAP: {
      ifreq req{};
      if (auto r = mem.copy_in(arg, &req, sizeof(req)); !r) return Result<int64_t>(Err(r.error()));
      req.ifr_name[IFNAMSIZ - 1] = '\0';
      if (::ioctl(ioctl_socket(), cmd, &req) != 0) return Result<int64_t>(ErrFromErrno());
      if (auto r = mem.copy_out(arg, &req, sizeof(req)); !r) return Result<int64_t>(Err(r.error()));
      return Result<int64_t>(0);
    }
    case SIOCGIFCONF: {
      ifconf conf{};
      if (auto r = mem.copy_in(arg, &conf, sizeof(conf)); !r) return Result<int64_t>(Err(r.error()));
      if (conf.ifc_len < 0) return Result<int64_t>(Err(EINVAL));
      const uint64_t app_buf = reinterpret_cast<uint64_t>(conf.ifc_buf);
      // At most as many entries as the host has interfaces, whatever
      // length the application claims.
      std::vector<ifreq> reqs(std::min<size_t>(static_cast<size_t>(conf.ifc_len) / sizeof(ifreq), 4096));
      ifconf host{};
      if (app_buf && reqs.empty()) {
        // Room for no entry: nothing is written (dev_ifconf()).
        host.ifc_len = 0;
      } else {
        // A null buffer asks only for the length needed.
        host.ifc_len = app_buf ? static_cast<int>(reqs.size() * sizeof(ifreq)) : 0;
        host.ifc_req = app_buf ? reqs.data() : nullptr;
        if (::ioctl(ioctl_socket(), SIOCGIFCONF, &host) != 0) return Result<int64_t>(ErrFromErrno());
      }
      if (app_buf && host.ifc_len > 0) {
        const size_t n = std::min(static_cast<size_t>(host.ifc_len), reqs.size() * sizeof(ifreq));
        if (auto r = mem.copy_out(app_buf, reqs.data(), n); !r) return Result<int64_t>(Err(r.error()));
      }
      conf.ifc_len = host.ifc_len;
      if (auto r = mem.copy_out(arg, &conf.ifc_len, sizeof(conf.ifc_len)); !r) return Result<int64_t>(Err(r.error()));
      return Result<int64_t>(0);
    }
    default:
      return std::nullopt;
  }
}

std::string proc_net_inet(int family, int type) {
  // The format of Linux's tcp4_seq_show()/udp4_format_sock() and their v6
  // forms; addresses as the kernel's hex of the network-order words.
  const bool v6 = family == AF_INET6;
  std::string out = v6 ? "  sl  local_address                         remote_address                        st tx_queue "
                         "rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                       : "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
                         "inode\n";
  auto hex_addr = [&](const Address& a) {
    if (v6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
      uint32_t w[4];
      std::memcpy(w, &sin6->sin6_addr, sizeof(w));
      return fmt::format("{:08X}{:08X}{:08X}{:08X}:{:04X}", w[0], w[1], w[2], w[3], ntohs(sin6->sin6_port));
    }
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&a.storage);
    return fmt::format("{:08X}:{:04X}", sin->sin_addr.s_addr, ntohs(sin->sin_port));
  };
  int slot = 0;
  for (const auto& s : Socket::all()) {
    auto* h = dynamic_cast<HostSocket*>(s.get());
    if (!h || h->family() != family || h->type() != type) continue;
    Address local, remote;
    local.length = remote.length = sizeof(local.storage);
    if (::getsockname(h->host_fd(), local.sa(), &local.length) != 0) continue;
    if (::getpeername(h->host_fd(), remote.sa(), &remote.length) != 0) {
      remote = Address{};
      remote.storage.ss_family = static_cast<sa_family_t>(family);
    }
    int state = 7;  // TCP_CLOSE, as an unconnected UDP socket shows
    if (type == SOCK_STREAM) {
      tcp_info info{};
      socklen_t len = sizeof(info);
      if (::getsockopt(h->host_fd(), IPPROTO_TCP, TCP_INFO, &info, &len) == 0) state = info.tcpi_state;
    } else if (remote.length > sizeof(sa_family_t)) {
      state = 1;  // TCP_ESTABLISHED: a connected UDP socket
    }
    int inq = 0, outq = 0;
    (void)::ioctl(h->host_fd(), SIOCINQ, &inq);
    (void)::ioctl(h->host_fd(), SIOCOUTQ, &outq);
    out += fmt::format("{:4}: {} {} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:5} {:8} {} 1 0000000000000000\n",
                       slot++, hex_addr(local), hex_addr(remote), state, outq, inq, 0, 0, h->inode_number());
  }
  return out;
}

}  // namespace runsc::netstack
