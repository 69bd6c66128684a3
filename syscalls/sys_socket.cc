// The socket calls (socket(2), bind(2), sendmsg(2)...): arguments copied
// in and checked here, with Linux's errnos for bad ones (a short or huge
// address, a cmsg that lies about its length, an FD that is not open),
// then handed to the socket's family (netstack/). AF_UNIX path names are
// walked here, because sockets never walk paths.
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "netstack/hostinet/host_socket.h"
#include "netstack/netlink/route.h"
#include "netstack/unix/unix_socket.h"
#include "sentry/kernel/timers.h"
#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;
using netstack::Address;
using netstack::Socket;

// SCM_MAX_FD, and net.core.optmem_max: the most control data one
// sendmsg(2) may carry (ENOBUFS past it).
constexpr size_t kScmMaxFd = 253;
constexpr size_t kOptmemMax = 20480;
constexpr uint64_t kMaxIov = 1024;  // UIO_MAXIOV

netstack::Caller caller_of_socket(Task& t) {
  const auto& c = t.creds();
  auto has = [&](int cap) { return ((c.cap_effective >> cap) & 1) != 0; };
  netstack::Caller out;
  out.pid = t.pid();
  out.uid = c.euid;
  out.gid = c.egid;
  out.nofile_limit = t.rlimits()[RLIMIT_NOFILE].rlim_cur;
  out.cap_setgid = has(6);
  out.cap_setuid = has(7);
  out.cap_net_bind_service = has(10);
  out.cap_net_admin = has(12);
  out.cap_net_raw = has(13);
  out.cap_sys_admin = has(21);
  return out;
}

// The socket behind `fd`: EBADF, or ENOTSOCK for another kind of file.
Result<std::shared_ptr<Socket>> socket_of(Task& t, int fd) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  auto s = std::dynamic_pointer_cast<Socket>(*f);
  if (!s) return Err(ENOTSOCK);
  return s;
}

// move_addr_to_kernel(): EINVAL for a length beyond sockaddr_storage.
Result<Address> address_arg(Task& t, uint64_t addr, uint64_t len) {
  const int64_t n = static_cast<int32_t>(len);
  if (n < 0 || static_cast<size_t>(n) > sizeof(sockaddr_storage)) return Err(EINVAL);
  Address a;
  a.length = static_cast<socklen_t>(n);
  if (n > 0) {
    if (auto r = t.mm().copy_in(addr, &a.storage, static_cast<size_t>(n)); !r) return Err(r.error());
  }
  return a;
}

// The path of an AF_UNIX address, if it names one (not abstract, not empty).
std::optional<std::string> unix_path(const Address& a) {
  if (a.family() != AF_UNIX || a.length <= offsetof(sockaddr_un, sun_path)) return std::nullopt;
  const auto* sun = reinterpret_cast<const sockaddr_un*>(&a.storage);
  if (sun->sun_path[0] == '\0') return std::nullopt;
  return std::string(sun->sun_path, strnlen(sun->sun_path, a.length - offsetof(sockaddr_un, sun_path)));
}

// unix_find_bsd(): the socket node a path names; the caller needs write
// permission on it, and a node that is not a socket refuses (ECONNREFUSED).
Result<void> find_unix_node(Task& t, Address& a) {
  auto path = unix_path(a);
  if (!path) return {};
  auto d = resolve_at(t, AT_FDCWD, *path, true);
  if (!d) return Err(d.error());
  auto st = (*d)->inode().stat();
  if (!st) return Err(st.error());
  if (auto r = vfs::may_access(caller_of(t), *st, vfs::kMayWrite); !r) return Err(r.error());
  if (!S_ISSOCK(st->st_mode)) return Err(ECONNREFUSED);
  a.node = netstack::NodeKey{st->st_dev, st->st_ino};
  return {};
}

// unix_bind_bsd(): the socket's node, made with the socket's mode (0777)
// less the umask; an existing name is EADDRINUSE.
Result<void> make_unix_node(Task& t, Address& a, Socket& s) {
  auto path = unix_path(a);
  if (!path) return {};
  if (auto* u = dynamic_cast<netstack::UnixSocket*>(&s); u && u->bound()) return Err(EINVAL);
  auto d = make_node(t, AT_FDCWD, *path, S_IFSOCK | 0777);
  if (!d) return Err(d.error() == EEXIST ? EADDRINUSE : d.error());
  auto st = (*d)->inode().stat();
  if (!st) return Err(st.error());
  a.node = netstack::NodeKey{st->st_dev, st->st_ino};
  return {};
}

// Writes an address back as move_addr_to_user() does: cut to the
// caller's buffer, the real length in *lenptr.
Result<void> copy_out_address(Task& t, const Address& a, uint64_t addr, uint64_t lenptr) {
  if (addr == 0 || lenptr == 0) return {};
  int32_t room;
  if (auto r = t.mm().copy_in(lenptr, &room, sizeof(room)); !r) return Err(r.error());
  if (room < 0) return Err(EINVAL);
  const size_t n = std::min<size_t>(static_cast<size_t>(room), a.length);
  if (n) {
    if (auto r = t.mm().copy_out(addr, &a.storage, n); !r) return Err(r.error());
  }
  const int32_t full = static_cast<int32_t>(a.length);
  return t.mm().copy_out(lenptr, &full, sizeof(full));
}

// signal(7): socket calls on a socket with a timeout (SO_RCVTIMEO,
// SO_SNDTIMEO) are never restarted after a handler; they fail with EINTR.
template <class T>
Result<T> interruptible(Task& t, int timeout_ms, Result<T> r) {
  if (!r && r.error() == EINTR && timeout_ms >= 0) t.no_restart_after_handler();
  return r;
}

Result<uint64_t> install(Task& t, std::shared_ptr<Socket> s, bool cloexec) {
  auto fd = t.fds().install(std::move(s), cloexec);
  if (!fd) return Err(fd.error());
  return static_cast<uint64_t>(*fd);
}

// A new socket of the family asked for; the others get EAFNOSUPPORT
// with one debug line, as unimplemented syscalls do.
Result<std::shared_ptr<Socket>> make_socket(Task& t, int domain, int type, int protocol, int flags) {
  switch (domain) {
    case AF_UNIX: {
      auto s = netstack::UnixSocket::create(type, protocol, flags);
      if (!s) return Err(s.error());
      return std::static_pointer_cast<Socket>(*s);
    }
    case AF_INET:
    case AF_INET6: {
      auto s = netstack::HostSocket::create(domain, type, protocol, flags, caller_of_socket(t));
      if (!s) return Err(s.error());
      return std::static_pointer_cast<Socket>(*s);
    }
    case AF_NETLINK: {
      auto s = netstack::NetlinkRouteSocket::create(type, protocol, flags, t.pid());
      if (!s) return Err(s.error());
      return std::static_pointer_cast<Socket>(*s);
    }
    default:
      log::debug("socket: address family {} is not implemented", domain);
      return Err(EAFNOSUPPORT);
  }
}

// The type argument: the base type and SOCK_NONBLOCK/SOCK_CLOEXEC.
Result<std::pair<int, int>> split_type(int domain, uint64_t type_arg) {
  const int type = static_cast<int>(type_arg);
  const int flags = type & ~0xf;
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return Err(EINVAL);
  if ((type & 0xf) >= 11 /* SOCK_MAX */) return Err(EINVAL);
  if (domain < 0 || domain >= AF_MAX) return Err(EAFNOSUPPORT);
  return std::pair{type & 0xf, flags};
}

Result<uint64_t> sys_socket(Task& t, const SyscallArgs& a) {
  auto split = split_type(a.i(0), a.u(1));
  if (!split) return Err(split.error());
  auto [type, flags] = *split;
  auto s = make_socket(t, a.i(0), type, a.i(2), (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
  if (!s) return Err(s.error());
  return install(t, std::move(*s), flags & SOCK_CLOEXEC);
}

Result<uint64_t> sys_socketpair(Task& t, const SyscallArgs& a) {
  auto split = split_type(a.i(0), a.u(1));
  if (!split) return Err(split.error());
  auto [type, flags] = *split;
  if (a.i(0) != AF_UNIX) {
    // Other families have no pairs (EOPNOTSUPP) or are not implemented.
    if (a.i(0) == AF_INET || a.i(0) == AF_INET6 || a.i(0) == AF_NETLINK) return Err(EOPNOTSUPP);
    log::debug("socketpair: address family {} is not implemented", a.i(0));
    return Err(EAFNOSUPPORT);
  }
  auto pair = netstack::UnixSocket::pair(type, a.i(2), (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0, caller_of_socket(t));
  if (!pair) return Err(pair.error());
  const bool cloexec = flags & SOCK_CLOEXEC;
  auto fd0 = t.fds().install(pair->first, cloexec);
  if (!fd0) return Err(fd0.error());
  auto fd1 = t.fds().install(pair->second, cloexec);
  if (!fd1) {
    (void)t.fds().close(*fd0);
    return Err(fd1.error());
  }
  const int32_t out[2] = {*fd0, *fd1};
  if (auto r = t.mm().copy_out(a.u(3), out, sizeof(out)); !r) {
    (void)t.fds().close(*fd0);
    (void)t.fds().close(*fd1);
    return Err(r.error());
  }
  return ok();
}

Result<uint64_t> sys_bind(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  auto addr = address_arg(t, a.u(1), a.u(2));
  if (!addr) return Err(addr.error());
  if ((*s)->family() == AF_UNIX) {
    if (addr->length >= sizeof(sa_family_t) && addr->family() != AF_UNIX) return Err(EINVAL);
    if (auto r = make_unix_node(t, *addr, **s); !r) return Err(r.error());
  }
  if (auto r = (*s)->bind(*addr, caller_of_socket(t)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_listen(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  if (auto r = (*s)->listen(a.i(1), caller_of_socket(t)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> do_accept(Task& t, int fd, uint64_t addr, uint64_t lenptr, int flags) {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return Err(EINVAL);
  auto s = socket_of(t, fd);
  if (!s) return Err(s.error());
  if (addr && lenptr) {
    int32_t room;
    if (auto r = t.mm().copy_in(lenptr, &room, sizeof(room)); !r) return Err(r.error());
    if (room < 0) return Err(EINVAL);
  }
  Address peer;
  auto conn = interruptible(t, (*s)->receive_timeout_ms(), (*s)->accept(&peer, caller_of_socket(t)));
  if (!conn) return Err(conn.error());
  (*conn)->set_status_flags((flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
  auto newfd = t.fds().install(*conn, flags & SOCK_CLOEXEC);
  if (!newfd) return Err(newfd.error());
  if (auto r = copy_out_address(t, peer, addr, lenptr); !r) {
    (void)t.fds().close(*newfd);
    return Err(r.error());
  }
  return static_cast<uint64_t>(*newfd);
}

Result<uint64_t> sys_accept(Task& t, const SyscallArgs& a) { return do_accept(t, a.i(0), a.u(1), a.u(2), 0); }
Result<uint64_t> sys_accept4(Task& t, const SyscallArgs& a) { return do_accept(t, a.i(0), a.u(1), a.u(2), a.i(3)); }

Result<uint64_t> sys_connect(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  auto addr = address_arg(t, a.u(1), a.u(2));
  if (!addr) return Err(addr.error());
  if ((*s)->family() == AF_UNIX) {
    if (auto r = find_unix_node(t, *addr); !r) return Err(r.error());
  }
  if (auto r = interruptible(t, (*s)->send_timeout_ms(), (*s)->connect(*addr, caller_of_socket(t))); !r)
    return Err(r.error());
  return ok();
}

Result<uint64_t> sys_shutdown(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  if (auto r = (*s)->shutdown(a.i(1)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> do_getname(Task& t, const SyscallArgs& a, bool peer) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  int32_t room;
  if (auto r = t.mm().copy_in(a.u(2), &room, sizeof(room)); !r) return Err(r.error());
  if (room < 0) return Err(EINVAL);
  auto addr = peer ? (*s)->peer_address() : (*s)->local_address();
  if (!addr) return Err(addr.error());
  if (auto r = copy_out_address(t, *addr, a.u(1), a.u(2)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_getsockname(Task& t, const SyscallArgs& a) { return do_getname(t, a, false); }
Result<uint64_t> sys_getpeername(Task& t, const SyscallArgs& a) { return do_getname(t, a, true); }

Result<uint64_t> sys_getsockopt(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  int32_t len;
  if (auto r = t.mm().copy_in(a.u(4), &len, sizeof(len)); !r) return Err(r.error());
  if (len < 0) return Err(EINVAL);
  auto value = (*s)->getsockopt(a.i(1), a.i(2), static_cast<size_t>(len));
  if (!value) return Err(value.error());
  const size_t n = std::min(value->size(), static_cast<size_t>(len));
  if (n) {
    if (auto r = t.mm().copy_out(a.u(3), value->data(), n); !r) return Err(r.error());
  }
  const int32_t out = static_cast<int32_t>(n);
  if (auto r = t.mm().copy_out(a.u(4), &out, sizeof(out)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_setsockopt(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  const int32_t len = a.i(4);
  if (len < 0) return Err(EINVAL);
  std::vector<uint8_t> value(std::min<size_t>(static_cast<size_t>(len), 65536));
  if (!value.empty()) {
    if (auto r = t.mm().copy_in(a.u(3), value.data(), value.size()); !r) return Err(r.error());
  }
  if (auto r = (*s)->setsockopt(a.i(1), a.i(2), value); !r) return Err(r.error());
  return ok();
}

// Control data of a sendmsg(2), parsed (cmsg(3)): SCM_RIGHTS and
// SCM_CREDENTIALS for unix sockets; for inet sockets the IP-level
// messages go to the host as they are.
Result<netstack::Control> control_in(Task& t, Socket& s, uint64_t addr, uint64_t len) {
  netstack::Control out;
  if (len == 0) return out;
  if (len > INT32_MAX || len > kOptmemMax) return Err(ENOBUFS);
  if (len < sizeof(cmsghdr)) return Err(EINVAL);
  std::vector<uint8_t> buf(len);
  if (auto r = t.mm().copy_in(addr, buf.data(), len); !r) return Err(r.error());
  size_t at = 0;
  while (at + sizeof(cmsghdr) <= len) {
    cmsghdr h;
    std::memcpy(&h, buf.data() + at, sizeof(h));
    // __scm_send(): a cmsg_len shorter than its header or past the buffer is EINVAL.
    if (h.cmsg_len < sizeof(cmsghdr) || h.cmsg_len > len - at) return Err(EINVAL);
    const uint8_t* data = buf.data() + at + CMSG_LEN(0);
    const size_t data_len = h.cmsg_len - CMSG_LEN(0);
    if (s.family() == AF_UNIX || h.cmsg_level == SOL_SOCKET) {
      if (h.cmsg_level == SOL_SOCKET) {
        if (s.family() != AF_UNIX) return Err(EINVAL);
        if (h.cmsg_type == SCM_RIGHTS) {
          const size_t n = data_len / sizeof(int);
          if (n == 0) return Err(EINVAL);
          if (n + out.rights.size() > kScmMaxFd) return Err(EINVAL);
          for (size_t i = 0; i < n; ++i) {
            int fd;
            std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
            auto f = t.fds().get(fd);
            if (!f) return Err(EBADF);
            out.rights.push_back(std::move(f));
          }
        } else if (h.cmsg_type == SCM_CREDENTIALS) {
          if (h.cmsg_len != CMSG_LEN(sizeof(ucred))) return Err(EINVAL);
          ucred c;
          std::memcpy(&c, data, sizeof(c));
          out.credentials = c;
        } else {
          return Err(EINVAL);
        }
      }
      // unix sockets ignore messages of other levels.
    } else if (s.family() == AF_INET || s.family() == AF_INET6) {
      if (h.cmsg_level != IPPROTO_IP && h.cmsg_level != IPPROTO_IPV6 && h.cmsg_level != IPPROTO_UDP) return Err(EINVAL);
      const size_t space = std::min<size_t>(CMSG_ALIGN(h.cmsg_len), len - at);
      out.raw.insert(out.raw.end(), buf.begin() + static_cast<ptrdiff_t>(at),
                     buf.begin() + static_cast<ptrdiff_t>(at + space));
    }
    at += CMSG_ALIGN(h.cmsg_len);
  }
  return out;
}

// Writes received control data into the application's buffer as
// put_cmsg() and scm_detach_fds() do: credentials first, then as many
// FDs as fit (MSG_CTRUNC for the rest, which are closed). Returns the
// length used; sets MSG_CTRUNC in *flags.
Result<size_t> control_out(Task& t, netstack::Control& control, uint64_t addr, size_t room, bool cloexec, int* flags) {
  std::vector<uint8_t> buf;
  auto put = [&](int level, int type, const void* data, size_t n) {
    const size_t space = CMSG_SPACE(n);
    if (buf.size() + CMSG_LEN(n) > room) {
      *flags |= MSG_CTRUNC;
      return false;
    }
    const size_t at = buf.size();
    buf.resize(std::min(at + space, room));
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(n);
    h.cmsg_level = level;
    h.cmsg_type = type;
    std::memcpy(buf.data() + at, &h, sizeof(h));
    std::memcpy(buf.data() + at + CMSG_LEN(0), data, n);
    return true;
  };
  if (!control.raw.empty()) {
    buf = control.raw;
    buf.resize(std::min(buf.size(), room));
  }
  if (control.credentials) put(SOL_SOCKET, SCM_CREDENTIALS, &*control.credentials, sizeof(ucred));
  if (!control.rights.empty()) {
    const size_t left = room > buf.size() ? room - buf.size() : 0;
    const size_t fit = left > CMSG_LEN(0) ? (left - CMSG_LEN(0)) / sizeof(int) : 0;
    std::vector<int> fds;
    for (size_t i = 0; i < control.rights.size() && i < fit; ++i) {
      auto fd = t.fds().install(control.rights[i], cloexec);
      if (!fd) break;  // EMFILE: the rest are lost, as Linux's
      fds.push_back(*fd);
    }
    if (fds.size() < control.rights.size()) *flags |= MSG_CTRUNC;
    if (!fds.empty()) put(SOL_SOCKET, SCM_RIGHTS, fds.data(), fds.size() * sizeof(int));
    control.rights.clear();
  }
  if (!buf.empty()) {
    if (auto r = t.mm().copy_out(addr, buf.data(), buf.size()); !r) return Err(r.error());
  }
  return buf.size();
}

// SIGPIPE for a stream that cannot be written, unless MSG_NOSIGNAL.
Result<uint64_t> sent(Task& t, Result<size_t> n, int flags) {
  if (!n) {
    if (n.error() == EPIPE && !(flags & MSG_NOSIGNAL)) t.send_signal(SIGPIPE);
    return Err(n.error());
  }
  return *n;
}

Result<uint64_t> do_sendmsg(Task& t, Socket& s, const msghdr& m, int flags) {
  auto spans = spans_for_iovecs(t, reinterpret_cast<uint64_t>(m.msg_iov), m.msg_iovlen, false);
  if (!spans) return Err(spans.error());
  std::optional<Address> to;
  if (m.msg_name && m.msg_namelen) {
    auto addr = address_arg(t, reinterpret_cast<uint64_t>(m.msg_name), m.msg_namelen);
    if (!addr) return Err(addr.error());
    if (s.family() == AF_UNIX && s.type() == SOCK_DGRAM) {
      if (auto r = find_unix_node(t, *addr); !r) return Err(r.error());
    }
    to = *addr;
  }
  auto control = control_in(t, s, reinterpret_cast<uint64_t>(m.msg_control), m.msg_controllen);
  if (!control) return Err(control.error());
  return sent(t,
              interruptible(t, s.send_timeout_ms(),
                            s.sendmsg(*spans, to ? &*to : nullptr, std::move(*control), flags, caller_of_socket(t))),
              flags);
}

Result<uint64_t> sys_sendto(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  const int flags = a.i(3);
  iovec v{reinterpret_cast<void*>(a.u(1)), a.u(2)};
  msghdr m{};
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  if (a.u(4)) {
    m.msg_name = reinterpret_cast<void*>(a.u(4));
    m.msg_namelen = static_cast<socklen_t>(a.u(5));
    if (a.i(5) < 0) return Err(EINVAL);
  }
  auto spans = t.mm().io_spans(a.u(1), std::min<uint64_t>(a.u(2), 0x7ffff000), false);
  if (!spans) return Err(spans.error());
  std::optional<Address> to;
  if (m.msg_name && m.msg_namelen) {
    auto addr = address_arg(t, a.u(4), a.u(5));
    if (!addr) return Err(addr.error());
    if ((*s)->family() == AF_UNIX && (*s)->type() == SOCK_DGRAM) {
      if (auto r = find_unix_node(t, *addr); !r) return Err(r.error());
    }
    to = *addr;
  }
  return sent(t,
              interruptible(t, (*s)->send_timeout_ms(),
                            (*s)->sendmsg(*spans, to ? &*to : nullptr, {}, flags, caller_of_socket(t))),
              flags);
}

Result<uint64_t> sys_sendmsg(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  msghdr m;
  if (auto r = t.mm().copy_in(a.u(1), &m, sizeof(m)); !r) return Err(r.error());
  if (m.msg_iovlen > kMaxIov) return Err(EMSGSIZE);
  return do_sendmsg(t, **s, m, a.i(2));
}

// recvmsg(2)'s work on a copied-in msghdr; `m` gets the lengths and flags
// to write back.
Result<uint64_t> do_recvmsg(Task& t, Socket& s, msghdr& m, int flags) {
  if (static_cast<int32_t>(m.msg_namelen) < 0) return Err(EINVAL);
  auto spans = spans_for_iovecs(t, reinterpret_cast<uint64_t>(m.msg_iov), m.msg_iovlen, true);
  if (!spans) return Err(spans.error());
  netstack::Received got;
  got.control_room = m.msg_control ? m.msg_controllen : 0;
  auto n = interruptible(t, s.receive_timeout_ms(), s.recvmsg(*spans, flags & ~MSG_CMSG_CLOEXEC, got));
  if (!n) return Err(n.error());
  int out_flags = got.flags;
  if (m.msg_name) {
    const size_t len = std::min<size_t>(m.msg_namelen, got.from.length);
    if (len) {
      if (auto r = t.mm().copy_out(reinterpret_cast<uint64_t>(m.msg_name), &got.from.storage, len); !r)
        return Err(r.error());
    }
    m.msg_namelen = got.from.length;
  } else {
    m.msg_namelen = 0;
  }
  const bool has_control = !got.control.raw.empty() || got.control.credentials || !got.control.rights.empty();
  if (has_control && (!m.msg_control || m.msg_controllen == 0)) {
    if (!got.control.rights.empty() || got.control.credentials) out_flags |= MSG_CTRUNC;
    m.msg_controllen = 0;
  } else if (m.msg_control) {
    auto used = control_out(t, got.control, reinterpret_cast<uint64_t>(m.msg_control), m.msg_controllen,
                            flags & MSG_CMSG_CLOEXEC, &out_flags);
    if (!used) return Err(used.error());
    m.msg_controllen = *used;
  }
  m.msg_flags = out_flags;
  return *n;
}

Result<uint64_t> sys_recvfrom(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  auto spans = t.mm().io_spans(a.u(1), std::min<uint64_t>(a.u(2), 0x7ffff000), true);
  if (!spans) return Err(spans.error());
  if (a.u(4) && a.u(5)) {
    int32_t room;
    if (auto r = t.mm().copy_in(a.u(5), &room, sizeof(room)); !r) return Err(r.error());
    if (room < 0) return Err(EINVAL);
  }
  netstack::Received got;
  auto n = interruptible(t, (*s)->receive_timeout_ms(), (*s)->recvmsg(*spans, a.i(3) & ~MSG_CMSG_CLOEXEC, got));
  if (!n) return Err(n.error());
  if (a.u(4)) {
    if (auto r = copy_out_address(t, got.from, a.u(4), a.u(5)); !r) return Err(r.error());
  }
  return *n;
}

// Only these msghdr fields are written back (msg_namelen, msg_controllen,
// msg_flags), as ___sys_recvmsg() does.
Result<void> write_back_msghdr(Task& t, uint64_t addr, const msghdr& m) {
  if (auto r = t.mm().copy_out(addr + offsetof(msghdr, msg_namelen), &m.msg_namelen, sizeof(m.msg_namelen)); !r)
    return r;
  if (auto r = t.mm().copy_out(addr + offsetof(msghdr, msg_controllen), &m.msg_controllen, sizeof(m.msg_controllen));
      !r)
    return r;
  return t.mm().copy_out(addr + offsetof(msghdr, msg_flags), &m.msg_flags, sizeof(m.msg_flags));
}

Result<uint64_t> sys_recvmsg(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  msghdr m;
  if (auto r = t.mm().copy_in(a.u(1), &m, sizeof(m)); !r) return Err(r.error());
  if (m.msg_iovlen > kMaxIov) return Err(EMSGSIZE);
  auto n = do_recvmsg(t, **s, m, a.i(2));
  if (!n) return Err(n.error());
  if (auto r = write_back_msghdr(t, a.u(1), m); !r) return Err(r.error());
  return *n;
}

Result<uint64_t> sys_sendmmsg(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  const uint64_t count = std::min<uint64_t>(a.u(2), kMaxIov);
  uint64_t done = 0;
  for (; done < count; ++done) {
    const uint64_t at = a.u(1) + done * sizeof(mmsghdr);
    mmsghdr mm;
    if (auto r = t.mm().copy_in(at, &mm, sizeof(mm)); !r) {
      if (done) break;
      return Err(r.error());
    }
    auto n = mm.msg_hdr.msg_iovlen > kMaxIov ? Result<uint64_t>(Err(EMSGSIZE)) : do_sendmsg(t, **s, mm.msg_hdr, a.i(3));
    if (!n) {
      if (done) break;
      return Err(n.error());
    }
    const unsigned len = static_cast<unsigned>(*n);
    if (auto r = t.mm().copy_out(at + offsetof(mmsghdr, msg_len), &len, sizeof(len)); !r) {
      if (done) break;
      return Err(r.error());
    }
  }
  return done;
}

Result<uint64_t> sys_recvmmsg(Task& t, const SyscallArgs& a) {
  auto s = socket_of(t, a.i(0));
  if (!s) return Err(s.error());
  int64_t deadline = -1;
  if (a.u(4)) {
    timespec ts;
    if (auto r = t.mm().copy_in(a.u(4), &ts, sizeof(ts)); !r) return Err(r.error());
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Err(EINVAL);
    deadline = kernel::monotonic_now_ns() + to_ns(ts);
  }
  const uint64_t count = std::min<uint64_t>(a.u(2), kMaxIov);
  const int flags = a.i(3);
  uint64_t done = 0;
  for (; done < count; ++done) {
    const uint64_t at = a.u(1) + done * sizeof(mmsghdr);
    mmsghdr mm;
    if (auto r = t.mm().copy_in(at, &mm, sizeof(mm)); !r) {
      if (done) break;
      return Err(r.error());
    }
    // MSG_WAITFORONE: only the first message is waited for.
    const int f = (done && (flags & MSG_WAITFORONE)) ? (flags | MSG_DONTWAIT) : flags;
    auto n = mm.msg_hdr.msg_iovlen > kMaxIov ? Result<uint64_t>(Err(EMSGSIZE)) : do_recvmsg(t, **s, mm.msg_hdr, f & ~MSG_WAITFORONE);
    if (!n) {
      if (done) break;
      return Err(n.error());
    }
    mm.msg_len = static_cast<unsigned>(*n);
    if (auto r = write_back_msghdr(t, at, mm.msg_hdr); !r) return Err(r.error());
    if (auto r = t.mm().copy_out(at + offsetof(mmsghdr, msg_len), &mm.msg_len, sizeof(mm.msg_len)); !r)
      return Err(r.error());
    if (deadline >= 0 && kernel::monotonic_now_ns() >= deadline) {
      ++done;
      break;
    }
  }
  return done;
}

}  // namespace

void register_socket(kernel::SyscallTable& tb) {
  using A = Arg;
  netstack::set_caller_source([] {
    Task* t = kernel::current_task();
    return t ? caller_of_socket(*t) : netstack::Caller{};
  });
  tb.set(SYS_socket, "socket", sys_socket, {A::kInt, A::kHex, A::kInt});
  tb.set(SYS_socketpair, "socketpair", sys_socketpair, {A::kInt, A::kHex, A::kInt, A::kPtr});
  tb.set(SYS_bind, "bind", sys_bind, {A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_listen, "listen", sys_listen, {A::kFd, A::kInt});
  tb.set(SYS_accept, "accept", sys_accept, {A::kFd, A::kPtr, A::kPtr});
  tb.set(SYS_accept4, "accept4", sys_accept4, {A::kFd, A::kPtr, A::kPtr, A::kHex});
  tb.set(SYS_connect, "connect", sys_connect, {A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_shutdown, "shutdown", sys_shutdown, {A::kFd, A::kInt});
  tb.set(SYS_getsockname, "getsockname", sys_getsockname, {A::kFd, A::kPtr, A::kPtr});
  tb.set(SYS_getpeername, "getpeername", sys_getpeername, {A::kFd, A::kPtr, A::kPtr});
  tb.set(SYS_getsockopt, "getsockopt", sys_getsockopt, {A::kFd, A::kInt, A::kInt, A::kPtr, A::kPtr});
  tb.set(SYS_setsockopt, "setsockopt", sys_setsockopt, {A::kFd, A::kInt, A::kInt, A::kPtr, A::kInt});
  tb.set(SYS_sendto, "sendto", sys_sendto, {A::kFd, A::kBuf, A::kInt, A::kHex, A::kPtr, A::kInt});
  tb.set(SYS_recvfrom, "recvfrom", sys_recvfrom, {A::kFd, A::kPtr, A::kInt, A::kHex, A::kPtr, A::kPtr});
  tb.set(SYS_sendmsg, "sendmsg", sys_sendmsg, {A::kFd, A::kPtr, A::kHex});
  tb.set(SYS_recvmsg, "recvmsg", sys_recvmsg, {A::kFd, A::kPtr, A::kHex});
  tb.set(SYS_sendmmsg, "sendmmsg", sys_sendmmsg, {A::kFd, A::kPtr, A::kInt, A::kHex});
  tb.set(SYS_recvmmsg, "recvmmsg", sys_recvmmsg, {A::kFd, A::kPtr, A::kInt, A::kHex, A::kPtr});
}

}  // namespace runsc::syscalls
