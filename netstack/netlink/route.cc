#include "netstack/netlink/route.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/route.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <fmt/core.h>

#include "common/log.h"

namespace runsc::netstack {
namespace {

// NLMSG_GOODSIZE on 4 KiB pages: how much one dump datagram carries, so
// a reader with a page-sized buffer (glibc's getifaddrs) gets whole ones.
constexpr size_t kDumpChunk = 3776;
// Bounds on what the Sentry takes from the host for one dump.
constexpr size_t kMaxDumpMessages = 65536;
constexpr size_t kMaxDumpBytes = 64 << 20;

std::mutex& ports_mutex() {
  static std::mutex mu;
  return mu;
}
std::set<uint32_t>& ports_in_use() {
  static std::set<uint32_t> ports;
  return ports;
}

size_t total_length(std::span<const iovec> v) {
  size_t n = 0;
  for (const auto& e : v) n += e.iov_len;
  return n;
}

// The attributes after a fixed header of `header` bytes: type -> payload.
std::map<uint16_t, std::span<const uint8_t>> attributes(std::span<const uint8_t> msg, size_t header) {
  std::map<uint16_t, std::span<const uint8_t>> out;
  size_t at = NLMSG_HDRLEN + NLMSG_ALIGN(header);
  while (at + sizeof(rtattr) <= msg.size()) {
    rtattr a;
    std::memcpy(&a, msg.data() + at, sizeof(a));
    if (a.rta_len < sizeof(rtattr) || at + a.rta_len > msg.size()) break;
    out.emplace(a.rta_type, msg.subspan(at + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0)));
    at += RTA_ALIGN(a.rta_len);
  }
  return out;
}

template <class T>
bool fixed_header(std::span<const uint8_t> msg, T& out) {
  if (msg.size() < NLMSG_HDRLEN + sizeof(T)) return false;
  std::memcpy(&out, msg.data() + NLMSG_HDRLEN, sizeof(T));
  return true;
}

std::string attr_string(std::span<const uint8_t> v) {
  std::string s(reinterpret_cast<const char*>(v.data()), v.size());
  if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

}  // namespace

Result<std::vector<std::vector<uint8_t>>> host_route_dump(uint16_t type, uint8_t family) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return ErrFromErrno();
  struct {
    nlmsghdr hdr;
    uint8_t body[16];  // the largest fixed header asked for (ifinfomsg)
  } req{};
  size_t body = 16;
  if (type == RTM_GETADDR) body = sizeof(ifaddrmsg);
  if (type == RTM_GETROUTE) body = sizeof(rtmsg);
  if (type == RTM_GETNEIGH) body = sizeof(ndmsg);
  req.hdr.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(body));
  req.hdr.nlmsg_type = type;
  req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.hdr.nlmsg_seq = 1;
  req.body[0] = family;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  iovec iov{&req, req.hdr.nlmsg_len};
  msghdr m{};
  m.msg_name = &kernel;
  m.msg_namelen = sizeof(kernel);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (::sendmsg(fd.get(), &m, 0) < 0) return ErrFromErrno();
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> buf(32768);
  size_t bytes = 0;
  for (;;) {
    iovec riov{buf.data(), buf.size()};
    msghdr rm{};
    rm.msg_iov = &riov;
    rm.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd.get(), &rm, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrFromErrno();
    if (n == 0) return Err(EIO);
    size_t at = 0;
    while (at + NLMSG_HDRLEN <= static_cast<size_t>(n)) {
      nlmsghdr h;
      std::memcpy(&h, buf.data() + at, sizeof(h));
      if (h.nlmsg_len < NLMSG_HDRLEN || at + h.nlmsg_len > static_cast<size_t>(n)) return Err(EIO);
      if (h.nlmsg_type == NLMSG_DONE) return out;
      if (h.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr e{};
        if (h.nlmsg_len >= NLMSG_LENGTH(sizeof(int))) std::memcpy(&e.error, buf.data() + at + NLMSG_HDRLEN, sizeof(int));
        return Err(e.error < 0 ? -e.error : EIO);
      }
      out.emplace_back(buf.begin() + static_cast<ptrdiff_t>(at), buf.begin() + static_cast<ptrdiff_t>(at + h.nlmsg_len));
      bytes += h.nlmsg_len;
      if (out.size() > kMaxDumpMessages || bytes > kMaxDumpBytes) return Err(ENOBUFS);
      at += NLMSG_ALIGN(h.nlmsg_len);
    }
  }
}

Result<std::shared_ptr<NetlinkRouteSocket>> NetlinkRouteSocket::create(int type, int protocol, int flags,
                                                                        int32_t port) {
  if (type != SOCK_RAW && type != SOCK_DGRAM) return Err(ESOCKTNOSUPPORT);
  if (protocol != NETLINK_ROUTE) {
    log::debug("socket: netlink protocol {} is not implemented", protocol);
    return Err(EPROTONOSUPPORT);
  }
  auto s = std::make_shared<NetlinkRouteSocket>(type, flags, port);
  remember(s);
  return s;
}

NetlinkRouteSocket::NetlinkRouteSocket(int type, int flags, int32_t port)
    : Socket(AF_NETLINK, type, NETLINK_ROUTE, flags), default_port_(port) {}

NetlinkRouteSocket::~NetlinkRouteSocket() {
  if (!port_) return;
  std::lock_guard lock(ports_mutex());
  ports_in_use().erase(port_);
}

// netlink_autobind(): the creator's pid if free, else negative numbers
// counting down from -4096.
void NetlinkRouteSocket::bind_port_locked() {
  if (port_) return;
  std::lock_guard lock(ports_mutex());
  auto& used = ports_in_use();
  uint32_t candidate = static_cast<uint32_t>(default_port_);
  static int32_t next_negative = -4096;
  while (candidate == 0 || used.contains(candidate)) candidate = static_cast<uint32_t>(next_negative--);
  used.insert(candidate);
  port_ = candidate;
}

Result<void> NetlinkRouteSocket::bind(const Address& addr, const Caller& caller) {
  (void)caller;
  if (addr.length < sizeof(sockaddr_nl) || addr.family() != AF_NETLINK) return Err(EINVAL);
  sockaddr_nl nl;
  std::memcpy(&nl, &addr.storage, sizeof(nl));
  std::lock_guard lock(mu_);
  // netlink_bind(): a bound socket keeps its port ID; asking for another
  // (or for "any" again) is EINVAL.
  if (port_) {
    if (port_ != nl.nl_pid) return Err(EINVAL);
    groups_ = nl.nl_groups;
    return {};
  }
  groups_ = nl.nl_groups;
  if (nl.nl_pid == 0) {
    bind_port_locked();
    return {};
  }
  std::lock_guard plock(ports_mutex());
  if (ports_in_use().contains(nl.nl_pid)) return Err(EADDRINUSE);
  ports_in_use().insert(nl.nl_pid);
  port_ = nl.nl_pid;
  return {};
}

Result<void> NetlinkRouteSocket::connect(const Address& addr, const Caller& caller) {
  (void)caller;
  if (addr.length < sizeof(sa_family_t)) return Err(EINVAL);
  if (addr.family() == AF_UNSPEC) return {};
  if (addr.length < sizeof(sockaddr_nl) || addr.family() != AF_NETLINK) return Err(EINVAL);
  std::lock_guard lock(mu_);
  bind_port_locked();
  return {};
}

Result<void> NetlinkRouteSocket::shutdown(int how) {
  (void)how;
  return Err(EOPNOTSUPP);
}

Result<Address> NetlinkRouteSocket::local_address() {
  std::lock_guard lock(mu_);
  sockaddr_nl nl{};
  nl.nl_family = AF_NETLINK;
  nl.nl_pid = port_;
  nl.nl_groups = groups_;
  return Address::from(&nl, sizeof(nl));
}

Result<Address> NetlinkRouteSocket::peer_address() {
  sockaddr_nl nl{};
  nl.nl_family = AF_NETLINK;
  return Address::from(&nl, sizeof(nl));
}

void NetlinkRouteSocket::queue_error_locked(const uint8_t* msg, size_t len, int error) {
  nlmsghdr req;
  std::memcpy(&req, msg, sizeof(req));
  // An error carries the whole request back, an acknowledgement only its
  // header (netlink_ack()).
  const size_t echoed = error ? len : NLMSG_HDRLEN;
  std::vector<uint8_t> out(NLMSG_LENGTH(sizeof(int) + echoed));
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(out.size());
  h.nlmsg_type = NLMSG_ERROR;
  h.nlmsg_flags = error ? 0 : NLM_F_CAPPED;
  h.nlmsg_seq = req.nlmsg_seq;
  h.nlmsg_pid = port_;
  std::memcpy(out.data(), &h, sizeof(h));
  const int negative = -error;
  std::memcpy(out.data() + NLMSG_HDRLEN, &negative, sizeof(int));
  std::memcpy(out.data() + NLMSG_HDRLEN + sizeof(int), msg, echoed);
  queue_.push_back(std::move(out));
}

void NetlinkRouteSocket::handle_locked(const uint8_t* msg, size_t len) {
  nlmsghdr h;
  std::memcpy(&h, msg, sizeof(h));
  const bool ack = h.nlmsg_flags & NLM_F_ACK;
  // netlink_rcv_skb(): only requests are acted on; control messages and
  // replies are acknowledged if asked.
  if (!(h.nlmsg_flags & NLM_F_REQUEST) || h.nlmsg_type < NLMSG_MIN_TYPE) {
    if (ack) queue_error_locked(msg, len, 0);
    return;
  }
  const uint16_t type = h.nlmsg_type;
  const bool is_get = type >= RTM_BASE && type <= RTM_MAX && (type & 3) == 2;
  const bool supported_get = type == RTM_GETLINK || type == RTM_GETADDR || type == RTM_GETROUTE || type == RTM_GETNEIGH;
  if (type > RTM_MAX || !is_get || !supported_get) {
    log::debug("netlink route: message type {} is not implemented", type);
    queue_error_locked(msg, len, type > RTM_MAX ? EOPNOTSUPP : (is_get ? EOPNOTSUPP : EOPNOTSUPP));
    return;
  }
  // rtnetlink_rcv_msg(): a body shorter than the one-byte rtgenmsg is
  // ignored (and acknowledged if asked).
  if (len < NLMSG_HDRLEN + 1) {
    if (ack) queue_error_locked(msg, len, 0);
    return;
  }
  const uint8_t family = msg[NLMSG_HDRLEN];
  const bool dump = (h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!dump && type != RTM_GETLINK) {
    queue_error_locked(msg, len, EOPNOTSUPP);
    return;
  }
  auto answer = host_route_dump(type, type == RTM_GETLINK ? AF_UNSPEC : family);
  if (!answer) {
    queue_error_locked(msg, len, answer.error());
    return;
  }
  if (!dump) {
    // One link, by index or by name.
    ifinfomsg want{};
    std::span<const uint8_t> req(msg, len);
    fixed_header(req, want);
    auto attrs = attributes(req, sizeof(ifinfomsg));
    std::string name;
    if (auto it = attrs.find(IFLA_IFNAME); it != attrs.end()) name = attr_string(it->second);
    for (auto& m : *answer) {
      ifinfomsg info{};
      if (!fixed_header(std::span<const uint8_t>(m), info)) continue;
      auto a = attributes(m, sizeof(ifinfomsg));
      const bool match = want.ifi_index ? info.ifi_index == want.ifi_index
                                        : (a.contains(IFLA_IFNAME) && attr_string(a[IFLA_IFNAME]) == name);
      if (!match) continue;
      nlmsghdr* mh = reinterpret_cast<nlmsghdr*>(m.data());
      mh->nlmsg_seq = h.nlmsg_seq;
      mh->nlmsg_pid = port_;
      mh->nlmsg_flags = 0;
      queue_.push_back(std::move(m));
      if (ack) queue_error_locked(msg, len, 0);
      return;
    }
    queue_error_locked(msg, len, ENODEV);
    return;
  }
  // The dump, in datagrams of whole messages, then NLMSG_DONE.
  std::vector<uint8_t> chunk;
  for (auto& m : *answer) {
    if (type != RTM_GETLINK && family != AF_UNSPEC && m.size() > NLMSG_HDRLEN && m[NLMSG_HDRLEN] != family) continue;
    nlmsghdr* mh = reinterpret_cast<nlmsghdr*>(m.data());
    mh->nlmsg_seq = h.nlmsg_seq;
    mh->nlmsg_pid = port_;
    mh->nlmsg_flags |= NLM_F_MULTI;
    m.resize(NLMSG_ALIGN(m.size()));
    if (!chunk.empty() && chunk.size() + m.size() > kDumpChunk) queue_.push_back(std::exchange(chunk, {}));
    chunk.insert(chunk.end(), m.begin(), m.end());
  }
  std::vector<uint8_t> done(NLMSG_LENGTH(sizeof(int)));
  nlmsghdr dh{};
  dh.nlmsg_len = static_cast<uint32_t>(done.size());
  dh.nlmsg_type = NLMSG_DONE;
  dh.nlmsg_flags = NLM_F_MULTI;
  dh.nlmsg_seq = h.nlmsg_seq;
  dh.nlmsg_pid = port_;
  std::memcpy(done.data(), &dh, sizeof(dh));
  if (!chunk.empty() && chunk.size() + done.size() > kDumpChunk) queue_.push_back(std::exchange(chunk, {}));
  chunk.insert(chunk.end(), done.begin(), done.end());
  queue_.push_back(std::move(chunk));
}

Result<size_t> NetlinkRouteSocket::sendmsg(std::span<const iovec> src, const Address* to, Control control, int flags,
                                           const Caller& caller) {
  (void)control, (void)flags, (void)caller;
  if (to && to->length) {
    if (to->length < sizeof(sockaddr_nl) || to->family() != AF_NETLINK) return Err(EINVAL);
    sockaddr_nl nl;
    std::memcpy(&nl, &to->storage, sizeof(nl));
    if (nl.nl_pid != 0 || nl.nl_groups != 0) return Err(EPERM);  // only the kernel is answered here
  }
  const size_t len = total_length(src);
  if (len > static_cast<size_t>(sndbuf_)) return Err(EMSGSIZE);
  std::vector<uint8_t> buf(len);
  size_t at = 0;
  for (const auto& v : src) {
    std::memcpy(buf.data() + at, v.iov_base, v.iov_len);
    at += v.iov_len;
  }
  {
    std::lock_guard lock(mu_);
    bind_port_locked();
    // netlink_rcv_skb(): messages one after another; a header that lies
    // about its length ends the batch silently.
    size_t pos = 0;
    while (pos + NLMSG_HDRLEN <= len) {
      nlmsghdr h;
      std::memcpy(&h, buf.data() + pos, sizeof(h));
      if (h.nlmsg_len < NLMSG_HDRLEN || pos + h.nlmsg_len > len) break;
      handle_locked(buf.data() + pos, h.nlmsg_len);
      pos += NLMSG_ALIGN(h.nlmsg_len);
    }
  }
  waiters_.notify();
  return len;
}

Result<size_t> NetlinkRouteSocket::recvmsg(std::span<const iovec> dst, int flags, Received& out) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!queue_.empty()) {
      std::vector<uint8_t>& d = queue_.front();
      size_t copied = 0;
      for (const auto& v : dst) {
        const size_t n = std::min(v.iov_len, d.size() - copied);
        std::memcpy(v.iov_base, d.data() + copied, n);
        copied += n;
        if (copied == d.size()) break;
      }
      const size_t full = d.size();
      if (copied < full) out.flags |= MSG_TRUNC;
      sockaddr_nl kernel{};
      kernel.nl_family = AF_NETLINK;
      out.from = Address::from(&kernel, sizeof(kernel));
      if (!(flags & MSG_PEEK)) queue_.pop_front();
      return (flags & MSG_TRUNC) ? full : copied;
    }
    if (nonblocking(flags)) return Err(EAGAIN);
    if (const int rc = waiters_.wait(lock, receive_timeout_ms()); rc != 0) return Err(rc == ETIMEDOUT ? EAGAIN : rc);
  }
}

Result<int64_t> NetlinkRouteSocket::ioctl(uint64_t cmd, uint64_t arg, vfs::UserMemory& mem) {
  if (cmd != SIOCINQ) return Err(ENOTTY);
  int value;
  {
    std::lock_guard lock(mu_);
    value = queue_.empty() ? 0 : static_cast<int>(queue_.front().size());
  }
  if (auto r = mem.copy_out(arg, &value, sizeof(value)); !r) return Err(r.error());
  return 0;
}

short NetlinkRouteSocket::readiness(short events) const {
  std::lock_guard lock(mu_);
  short mask = POLLOUT | POLLWRNORM;
  if (!queue_.empty()) mask |= POLLIN | POLLRDNORM;
  return mask & events;
}

Result<std::vector<uint8_t>> NetlinkRouteSocket::family_getsockopt(int level, int name, size_t optlen) {
  (void)optlen;
  std::lock_guard lock(mu_);
  if (level == SOL_SOCKET) {
    if (name == SO_RCVBUF) return int_option(rcvbuf_);
    if (name == SO_SNDBUF) return int_option(sndbuf_);
    if (name == SO_PASSCRED) return int_option(0);
    return Err(ENOPROTOOPT);
  }
  if (level != SOL_NETLINK) return Err(ENOPROTOOPT);
  switch (name) {
    case NETLINK_EXT_ACK: return int_option(ext_ack_);
    case NETLINK_GET_STRICT_CHK: return int_option(strict_check_);
    case NETLINK_PKTINFO: case NETLINK_NO_ENOBUFS: case NETLINK_CAP_ACK: case NETLINK_LISTEN_ALL_NSID:
      return int_option(0);
    default: return Err(ENOPROTOOPT);
  }
}

Result<void> NetlinkRouteSocket::family_setsockopt(int level, int name, std::span<const uint8_t> value) {
  auto v = int_value(value);
  if (!v) return Err(v.error());
  std::lock_guard lock(mu_);
  if (level == SOL_SOCKET) {
    if (name == SO_RCVBUF || name == SO_RCVBUFFORCE) rcvbuf_ = doubled_buffer(*v, kMinRcvBuf);
    else if (name == SO_SNDBUF || name == SO_SNDBUFFORCE) sndbuf_ = doubled_buffer(*v, kMinSndBuf);
    else if (name != SO_PASSCRED && name != SO_REUSEADDR && name != SO_TIMESTAMP) return Err(ENOPROTOOPT);
    return {};
  }
  if (level != SOL_NETLINK) return Err(ENOPROTOOPT);
  switch (name) {
    case NETLINK_EXT_ACK: ext_ack_ = *v != 0; return {};
    case NETLINK_GET_STRICT_CHK: strict_check_ = *v != 0; return {};
    // Group memberships are accepted; no change is ever announced, as
    // the namespace's network does not change under the Sentry's feet.
    case NETLINK_ADD_MEMBERSHIP: case NETLINK_DROP_MEMBERSHIP: case NETLINK_PKTINFO: case NETLINK_NO_ENOBUFS:
    case NETLINK_CAP_ACK: case NETLINK_LISTEN_ALL_NSID: case NETLINK_BROADCAST_ERROR:
      return {};
    default: return Err(ENOPROTOOPT);
  }
}

namespace {

std::map<int, std::string> link_names(const std::vector<std::vector<uint8_t>>& links) {
  std::map<int, std::string> names;
  for (const auto& m : links) {
    ifinfomsg info{};
    if (!fixed_header(std::span<const uint8_t>(m), info)) continue;
    auto a = attributes(m, sizeof(ifinfomsg));
    if (auto it = a.find(IFLA_IFNAME); it != a.end()) names[info.ifi_index] = attr_string(it->second);
  }
  return names;
}

}  // namespace

std::string proc_net_dev() {
  std::string out =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
      "carrier compressed\n";
  auto links = host_route_dump(RTM_GETLINK, AF_UNSPEC);
  if (!links) return out;
  for (const auto& m : *links) {
    auto a = attributes(m, sizeof(ifinfomsg));
    if (!a.contains(IFLA_IFNAME)) continue;
    rtnl_link_stats64 s{};
    if (auto it = a.find(IFLA_STATS64); it != a.end() && it->second.size() >= sizeof(s)) {
      std::memcpy(&s, it->second.data(), sizeof(s));
    }
    out += fmt::format("{:>6}:{:8} {:7} {:4} {:4} {:4} {:5} {:10} {:9} {:8} {:7} {:4} {:4} {:4} {:5} {:7} {:10}\n",
                       attr_string(a[IFLA_IFNAME]), s.rx_bytes, s.rx_packets, s.rx_errors,
                       s.rx_dropped + s.rx_missed_errors, s.rx_fifo_errors,
                       s.rx_length_errors + s.rx_over_errors + s.rx_crc_errors + s.rx_frame_errors, s.rx_compressed,
                       s.multicast, s.tx_bytes, s.tx_packets, s.tx_errors, s.tx_dropped, s.tx_fifo_errors,
                       s.collisions,
                       s.tx_carrier_errors + s.tx_aborted_errors + s.tx_window_errors + s.tx_heartbeat_errors,
                       s.tx_compressed);
  }
  return out;
}

std::string proc_net_route() {
  auto line = [](std::string s) {
    s.resize(127, ' ');
    return s + "\n";
  };
  std::string out = line("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT");
  auto links = host_route_dump(RTM_GETLINK, AF_UNSPEC);
  auto routes = host_route_dump(RTM_GETROUTE, AF_INET);
  if (!links || !routes) return out;
  auto names = link_names(*links);
  for (const auto& m : *routes) {
    rtmsg r{};
    if (!fixed_header(std::span<const uint8_t>(m), r) || r.rtm_family != AF_INET) continue;
    auto a = attributes(m, sizeof(rtmsg));
    uint32_t table = r.rtm_table;
    if (auto it = a.find(RTA_TABLE); it != a.end() && it->second.size() >= 4) std::memcpy(&table, it->second.data(), 4);
    if (table != RT_TABLE_MAIN || r.rtm_type != RTN_UNICAST) continue;
    uint32_t dst = 0, gw = 0, oif = 0, metric = 0;
    if (auto it = a.find(RTA_DST); it != a.end() && it->second.size() >= 4) std::memcpy(&dst, it->second.data(), 4);
    if (auto it = a.find(RTA_GATEWAY); it != a.end() && it->second.size() >= 4) std::memcpy(&gw, it->second.data(), 4);
    if (auto it = a.find(RTA_OIF); it != a.end() && it->second.size() >= 4) std::memcpy(&oif, it->second.data(), 4);
    if (auto it = a.find(RTA_PRIORITY); it != a.end() && it->second.size() >= 4)
      std::memcpy(&metric, it->second.data(), 4);
    const uint32_t mask = r.rtm_dst_len == 0 ? 0 : htonl(~uint32_t{0} << (32 - r.rtm_dst_len));
    const unsigned flags = RTF_UP | (gw ? RTF_GATEWAY : 0) | (r.rtm_dst_len == 32 ? RTF_HOST : 0);
    out += line(fmt::format("{}\t{:08X}\t{:08X}\t{:04X}\t{}\t{}\t{}\t{:08X}\t{}\t{}\t{}", names[static_cast<int>(oif)],
                            dst, gw, flags, 0, 0, metric, mask, 0, 0, 0));
  }
  return out;
}

std::string proc_net_if_inet6() {
  std::string out;
  auto links = host_route_dump(RTM_GETLINK, AF_UNSPEC);
  auto addrs = host_route_dump(RTM_GETADDR, AF_INET6);
  if (!links || !addrs) return out;
  auto names = link_names(*links);
  for (const auto& m : *addrs) {
    ifaddrmsg ifa{};
    if (!fixed_header(std::span<const uint8_t>(m), ifa) || ifa.ifa_family != AF_INET6) continue;
    auto a = attributes(m, sizeof(ifaddrmsg));
    auto it = a.find(IFA_ADDRESS);
    if (it == a.end() || it->second.size() < 16) continue;
    std::string hex;
    for (size_t i = 0; i < 16; ++i) hex += fmt::format("{:02x}", it->second[i]);
    uint32_t flags = ifa.ifa_flags;
    if (auto f = a.find(IFA_FLAGS); f != a.end() && f->second.size() >= 4) std::memcpy(&flags, f->second.data(), 4);
    // The scope column is ipv6_addr_scope()'s, from the address itself:
    // loopback 0x10, link-local 0x20, site-local 0x40, global 0.
    const uint8_t* a6 = it->second.data();
    const bool loopback = std::all_of(a6, a6 + 15, [](uint8_t b) { return b == 0; }) && a6[15] == 1;
    const unsigned scope = loopback ? 0x10 : (a6[0] == 0xfe && (a6[1] & 0xc0) == 0x80) ? 0x20
                                   : (a6[0] == 0xfe && (a6[1] & 0xc0) == 0xc0) ? 0x40 : 0;
    out += fmt::format("{} {:02x} {:02x} {:02x} {:02x} {:>8}\n", hex, ifa.ifa_index, ifa.ifa_prefixlen, scope,
                       flags & 0xff, names[static_cast<int>(ifa.ifa_index)]);
  }
  return out;
}

}  // namespace runsc::netstack
