#include "netstack/inet/stack.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "netstack/inet/tcp_wire.h"
#include "netstack/inet/wire.h"

namespace runsc::netstack::inet {
namespace {

constexpr uint16_t kEphemeralFirst = 32768, kEphemeralLast = 60999;  // ip_local_port_range
constexpr size_t kMaxUdpPayload = 65535 - 20 - 8;
// An ICMP error quotes the offending packet up to 576 bytes in all
// (RFC 1812 4.3.2.3, which Linux follows); an ICMPv6 one up to the
// minimum IPv6 MTU, 1280 (RFC 4443 2.4 (c)).
constexpr size_t kIcmpErrorMax = 576, kIcmpv6ErrorMax = 1280;

// icmp_err_convert[] in Linux: what a destination-unreachable code means
// to a socket.
int unreachable_errno(uint8_t code) {
  switch (code) {
    case kIcmpNetUnreachable: return ENETUNREACH;
    case kIcmpHostUnreachable: return EHOSTUNREACH;
    case kIcmpProtocolUnreachable: return ENOPROTOOPT;
    case kIcmpPortUnreachable: return ECONNREFUSED;
    default: return EHOSTUNREACH;
  }
}

// icmpv6_err_convert() in Linux, for destination unreachable.
int unreachable6_errno(uint8_t code) {
  switch (code) {
    case 0: return ENETUNREACH;  // no route
    case 1: return EACCES;       // administratively prohibited
    case kIcmpv6PortUnreachable: return ECONNREFUSED;
    default: return EHOSTUNREACH;
  }
}


}  // namespace

Result<void> LoopbackEndpoint::write(std::vector<uint8_t> packet, const IpAddress&) {
  std::unique_lock lock(mu_);
  queue_.push_back(std::move(packet));
  if (draining_) return {};  // the thread draining delivers it
  draining_ = true;
  while (!queue_.empty()) {
    std::vector<uint8_t> next = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    if (stack_) stack_->deliver(nic_, next);
    lock.lock();
  }
  draining_ = false;
  return {};
}

Stack::Stack()
    : clock_([] {
        timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC, &ts);
        return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
      }) {}
Stack::~Stack() = default;

void Stack::set_clock(std::function<int64_t()> now_ns) {
  std::lock_guard lock(mu_);
  clock_ = std::move(now_ns);
}

size_t Stack::reassembly_bytes_held() const {
  std::lock_guard lock(mu_);
  return reassembler_.bytes_held();
}

int Stack::add_interface(std::string name, std::unique_ptr<LinkEndpoint> link) {
  std::lock_guard lock(mu_);
  const int nic = static_cast<int>(interfaces_.size()) + 1;
  link->attach(this, nic);
  interfaces_[nic] = Interface{std::move(name), std::move(link), {}};
  return nic;
}

Result<void> Stack::add_address(int nic, IpAddress addr, int prefix_length) {
  if (prefix_length < 0 || prefix_length > addr.bits()) return Err(EINVAL);
  std::lock_guard lock(mu_);
  auto it = interfaces_.find(nic);
  if (it == interfaces_.end()) return Err(ENODEV);
  for (const auto& [a, p] : it->second.addresses)
    if (a == addr) return Err(EEXIST);
  it->second.addresses.emplace_back(addr, prefix_length);
  routes_.push_back(Route{addr.masked(prefix_length), prefix_length, IpAddress::any(addr.v6), nic});
  return {};
}

Result<void> Stack::add_route(IpAddress destination, int prefix_length, IpAddress gateway, int nic) {
  if (prefix_length < 0 || prefix_length > destination.bits() || gateway.v6 != destination.v6) return Err(EINVAL);
  std::lock_guard lock(mu_);
  if (!interfaces_.count(nic)) return Err(ENODEV);
  routes_.push_back(Route{destination.masked(prefix_length), prefix_length, gateway, nic});
  return {};
}

bool Stack::is_local_locked(const IpAddress& addr) const {
  for (const auto& [nic, itf] : interfaces_) {
    for (const auto& [a, p] : itf.addresses) {
      if (a == addr) return true;
    }
  }
  return false;
}

Result<Stack::RouteChoice> Stack::route_locked(const IpAddress& dst, const IpAddress& preferred_src) {
  const bool chosen_src = !preferred_src.unspecified();
  // A local destination goes through lo, as Linux's local table routes it.
  if (is_local_locked(dst)) {
    for (auto& [nic, itf] : interfaces_) {
      if (itf.name == "lo") return RouteChoice{&itf, chosen_src ? preferred_src : dst, dst};
    }
  }
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    if (r.destination.v6 != dst.v6 || dst.masked(r.prefix_length) != r.destination) continue;
    if (best == nullptr || r.prefix_length > best->prefix_length) best = &r;
  }
  if (best == nullptr) return Err(ENETUNREACH);
  Interface& itf = interfaces_.at(best->nic);
  const IpAddress next_hop = best->gateway.unspecified() ? dst : best->gateway;
  if (chosen_src) return RouteChoice{&itf, preferred_src, next_hop};
  // The interface's address of the family on the destination's subnet,
  // else its first of the family.
  const IpAddress* first = nullptr;
  for (const auto& [a, p] : itf.addresses) {
    if (a.v6 != dst.v6) continue;
    if (a.masked(p) == dst.masked(p)) return RouteChoice{&itf, a, next_hop};
    if (first == nullptr) first = &a;
  }
  if (first == nullptr) return Err(EADDRNOTAVAIL);
  return RouteChoice{&itf, *first, next_hop};
}

Result<void> Stack::send_out(OutPacket out) {
  if (out.link == nullptr) return {};
  sent_.fetch_add(1, std::memory_order_relaxed);
  return out.link->write(std::move(out.packet), out.next_hop);
}

void Stack::deliver(int nic, std::span<const uint8_t> packet) {
  (void)nic;
  received_.fetch_add(1, std::memory_order_relaxed);
  Replies replies;
  Wakes wake;
  if (packet.empty()) {
    count(Drop::kTruncated);
    return;
  }
  switch (packet[0] >> 4) {
    case 4: deliver_v4(packet, replies, wake); break;
    case 6: deliver_v6(packet, replies, wake); break;
    default: count(Drop::kBadVersion); return;
  }
  for (auto& fn : wake) fn();
  for (auto& out : replies) (void)send_out(std::move(out));
}

namespace {

// The header and payload of a parsed packet as one span (they are
// adjacent in the buffer it was parsed from).
std::span<const uint8_t> joined(std::span<const uint8_t> header, std::span<const uint8_t> payload) {
  return {header.data(), header.size() + payload.size()};
}

}  // namespace

void Stack::deliver_v4(std::span<const uint8_t> packet, Replies& replies, Wakes& wake) {
  auto ip = parse_ipv4(packet);
  if (!ip) {
    count(ip.error());
    return;
  }
  std::lock_guard lock(mu_);
  if (!is_local_locked(IpAddress::from_v4(ip->dst))) {
    count(Drop::kNotForUs);
    return;
  }
  auto dispatch = [&](const Ipv4Packet& p) { dispatch_locked(in_packet(p), replies, wake); };
  if (!ip->more_fragments && ip->fragment_offset == 0) {
    dispatch(*ip);
    return;
  }
  const int64_t now = clock_();
  expire_fragments_locked(now, replies);
  auto outcome = reassembler_.add(*ip, now);
  if (outcome.dropped) {
    count(*outcome.dropped);
  } else if (!outcome.complete.empty()) {
    const std::vector<uint8_t> whole = std::move(outcome.complete);
    if (auto datagram = parse_ipv4(whole)) {
      dispatch(*datagram);
    } else {
      count(datagram.error());
    }
  }
}

void Stack::deliver_v6(std::span<const uint8_t> packet, Replies& replies, Wakes& wake) {
  auto ip = parse_ipv6(packet);
  if (!ip) {
    count(ip.error());
    return;
  }
  std::lock_guard lock(mu_);
  if (!is_local_locked(IpAddress::from_v6(ip->dst))) {
    count(Drop::kNotForUs);
    return;
  }
  auto dispatch = [&](const Ipv6Packet& p, std::span<const uint8_t> bytes) {
    dispatch_locked(in_packet(p, bytes), replies, wake);
  };
  if (!ip->fragment) {
    dispatch(*ip, packet);
    return;
  }
  const int64_t now = clock_();
  expire_fragments_locked(now, replies);
  auto outcome = reassembler_.add(*ip, now);
  if (outcome.dropped) {
    count(*outcome.dropped);
  } else if (!outcome.complete.empty()) {
    const std::vector<uint8_t> whole = std::move(outcome.complete);
    if (auto datagram = parse_ipv6(whole)) {
      dispatch(*datagram, whole);
    } else {
      count(datagram.error());
    }
  }
}

void Stack::expire_fragments_locked(int64_t now, Replies& replies) {
  for (const auto& first : reassembler_.expire(now)) {
    count(Drop::kFragmentTimeout);
    if (!first.empty() && (first[0] >> 4) == 6) {
      if (auto quoted = parse_ipv6(first)) icmp_error_locked(in_packet(*quoted, first), kIcmpv6TimeExceeded, 1, replies);
    } else if (auto quoted = parse_ipv4(first)) {
      icmp_error_locked(in_packet(*quoted), kIcmpTimeExceeded, 1, replies);
    }
  }
}

void Stack::dispatch_locked(const InPacket& in, Replies& replies, Wakes& wake) {
  if (in.protocol == kProtoUdp) return handle_udp_locked(in, replies, wake);
  if (in.protocol == kProtoTcp) return handle_tcp_locked(in, replies, wake);
  if (in.v4 && in.protocol == kProtoIcmp) return handle_icmp_locked(in, replies, wake);
  if (in.v6 && in.protocol == kNextIcmpv6) return handle_icmpv6_locked(in, replies, wake);
  if (in.v6 && in.protocol == kNextNone) return;  // nothing follows: nothing to do
  count(Drop::kUnknownProtocol);
  if (in.v4) {
    icmp_error_locked(in, kIcmpDestUnreachable, kIcmpProtocolUnreachable, replies);
  } else if (in.v6->extension_headers == 0) {
    // Parameter problem, unrecognized next header, pointing at the fixed
    // header's next-header field (RFC 8200 4).
    icmp_error_locked(in, kIcmpv6ParameterProblem, 1, replies);
  }
}

void Stack::handle_udp_locked(const InPacket& in, Replies& replies, Wakes& wake) {
  auto udp = in.v4 ? parse_udp(*in.v4) : parse_udp6(*in.v6);
  if (!udp) {
    count(udp.error());
    return;
  }
  UdpEndpoint* e = udp_lookup_locked(Endpoint{in.dst, udp->dst_port}, Endpoint{in.src, udp->src_port});
  if (e == nullptr) {
    count(Drop::kNoUdpEndpoint);
    if (in.v4) {
      icmp_error_locked(in, kIcmpDestUnreachable, kIcmpPortUnreachable, replies);
    } else {
      icmp_error_locked(in, kIcmpv6DestUnreachable, kIcmpv6PortUnreachable, replies);
    }
    return;
  }
  if (e->queued_bytes_ + udp->data.size() > kUdpReceiveBuffer) {
    count(Drop::kQueueFull);
    return;
  }
  e->queue_.push_back(UdpEndpoint::Datagram{Endpoint{in.src, udp->src_port}, {udp->data.begin(), udp->data.end()}});
  e->queued_bytes_ += udp->data.size();
  if (e->on_event_) wake.push_back(e->on_event_);
}

void Stack::transport_error_locked(uint8_t protocol, const Endpoint& local, const Endpoint& remote,
                                   uint32_t tcp_seq, int error, Wakes& wake) {
  if (protocol == kProtoTcp) {
    // A connection still opening gives up at once (Linux's tcp_v4_err:
    // in SYN_SENT an unreachable is fatal, EHOSTUNREACH etc. from
    // connect); an established one takes it as a soft error (not
    // kept yet). The quoted sequence must be our SYN's (RFC 5927).
    auto it = tcp_connections_.find(TcpKey{local.addr, remote.addr, local.port, remote.port});
    if (it == tcp_connections_.end() || it->second->state_ != TcpEndpoint::State::kSynSent ||
        tcp_seq != it->second->iss_) {
      count(Drop::kIcmpIgnored);
      return;
    }
    const std::shared_ptr<TcpEndpoint> e = it->second;
    tcp_set_closed_locked(*e, error, wake);
    tcp_forget_locked(*e);
    return;
  }
  if (protocol != kProtoUdp) {
    count(Drop::kIcmpIgnored);
    return;
  }
  UdpEndpoint* e = udp_lookup_locked(local, remote);
  // Only a connected socket hears of it (udp(7), without IP_RECVERR).
  if (e == nullptr || !e->connected_ || e->remote_ != remote) {
    count(Drop::kIcmpIgnored);
    return;
  }
  e->pending_error_ = error;
  if (e->on_event_) wake.push_back(e->on_event_);
}

void Stack::handle_icmp_locked(const InPacket& in, Replies& replies, Wakes& wake) {
  auto icmp = parse_icmp(*in.v4);
  if (!icmp) {
    count(icmp.error());
    return;
  }
  if (icmp->type == kIcmpEchoRequest && icmp->code == 0) return echo_reply_locked(in, kIcmpEchoReply, *icmp, replies);
  if (icmp->type == kIcmpDestUnreachable) {
    auto quote = parse_icmp_quote(icmp->body);
    if (!quote) {
      count(quote.error());
      return;
    }
    // The error is about a packet we sent: its source is ours.
    transport_error_locked(quote->protocol, Endpoint{quote->src, quote->src_port},
                           Endpoint{quote->dst, quote->dst_port}, quote->tcp_seq, unreachable_errno(icmp->code), wake);
    return;
  }
  count(Drop::kIcmpIgnored);
}

void Stack::handle_icmpv6_locked(const InPacket& in, Replies& replies, Wakes& wake) {
  auto icmp = parse_icmpv6(*in.v6);
  if (!icmp) {
    count(icmp.error());
    return;
  }
  if (icmp->type == kIcmpv6EchoRequest && icmp->code == 0)
    return echo_reply_locked(in, kIcmpv6EchoReply, *icmp, replies);
  if (icmp->type == kIcmpv6DestUnreachable) {
    // The quoted packet: its fixed header, and (without extension
    // headers) the UDP ports after it.
    const auto q = icmp->body;
    if (q.size() < 48 || (q[0] >> 4) != 6) {
      count(Drop::kBadIcmp);
      return;
    }
    Ipv6Address src, dst;
    std::copy(q.begin() + 8, q.begin() + 24, src.begin());
    std::copy(q.begin() + 24, q.begin() + 40, dst.begin());
    const uint32_t seq = be32(q, 44);
    transport_error_locked(q[6], Endpoint{src, be16(q, 40)}, Endpoint{dst, be16(q, 42)}, seq,
                           unreachable6_errno(icmp->code), wake);
    return;
  }
  count(Drop::kIcmpIgnored);
}

void Stack::echo_reply_locked(const InPacket& request, uint8_t reply_type, const IcmpMessage& icmp,
                              Replies& replies) {
  auto route = route_locked(request.src, request.dst);
  if (!route) return;
  replies.push_back(OutPacket{route->itf->link.get(),
                              icmp_packet_locked(request.dst, request.src, reply_type, 0, icmp.rest, icmp.body),
                              route->next_hop});
  echo_replies_.fetch_add(1, std::memory_order_relaxed);
}

void Stack::icmp_error_locked(const InPacket& offending, uint8_t type, uint8_t code, Replies& replies) {
  if (offending.v4) {
    // RFC 1122 3.2.2: never about an ICMP error, a broadcast or multicast,
    // or a fragment other than the first.
    const Ipv4Packet& ip = *offending.v4;
    if (ip.protocol == kProtoIcmp && !ip.payload.empty()) {
      const uint8_t t = ip.payload[0];
      if (t != kIcmpEchoRequest && t != kIcmpEchoReply) return;
    }
    if (is_multicast(ip.dst) || ip.dst == 0xffffffffu || ip.fragment_offset != 0) return;
  } else {
    // RFC 4443 2.4 (e): never about an ICMPv6 error, nor to or from a
    // multicast or unspecified address.
    if (offending.protocol == kNextIcmpv6 && !offending.payload.empty() && offending.payload[0] < 128) return;
    if (offending.dst.multicast() || offending.src.multicast() || offending.src.unspecified()) return;
  }
  auto route = route_locked(offending.src, offending.dst);
  if (!route) return;
  const size_t room = (offending.v4 ? kIcmpErrorMax - 20 : kIcmpv6ErrorMax - 40) - 8;
  const auto quoted = offending.whole.first(std::min(room, offending.whole.size()));
  // A parameter problem points at the next-header field (offset 6).
  const uint32_t rest = offending.v6 && type == kIcmpv6ParameterProblem ? 6 : 0;
  replies.push_back(OutPacket{route->itf->link.get(),
                              icmp_packet_locked(offending.dst, offending.src, type, code, rest, quoted),
                              route->next_hop});
}

Stack::InPacket Stack::in_packet(const Ipv4Packet& p) {
  InPacket in;
  in.src = IpAddress::from_v4(p.src);
  in.dst = IpAddress::from_v4(p.dst);
  in.protocol = p.protocol;
  in.payload = p.payload;
  in.v4 = &p;
  in.whole = joined(p.header, p.payload);
  return in;
}

Stack::InPacket Stack::in_packet(const Ipv6Packet& p, std::span<const uint8_t> bytes) {
  InPacket in;
  in.src = IpAddress::from_v6(p.src);
  in.dst = IpAddress::from_v6(p.dst);
  in.protocol = p.protocol;
  in.payload = p.payload;
  in.v6 = &p;
  in.whole = bytes.first(std::min(bytes.size(), size_t{40} + be16(bytes, 4)));
  return in;
}

std::vector<uint8_t> Stack::ip_packet_locked(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                             std::span<const uint8_t> payload, bool dont_fragment) {
  if (!src.v6) {
    Ipv4Fields f;
    f.src = src.v4();
    f.dst = dst.v4();
    f.protocol = protocol;
    f.id = next_id_++;
    f.dont_fragment = dont_fragment;
    return build_ipv4(f, payload);
  }
  Ipv6Fields f;
  f.src = src.v6_bytes();
  f.dst = dst.v6_bytes();
  f.next_header = protocol;
  return build_ipv6(f, payload);
}

std::vector<uint8_t> Stack::icmp_packet_locked(const IpAddress& src, const IpAddress& dst, uint8_t type,
                                               uint8_t code, uint32_t rest, std::span<const uint8_t> body) {
  if (!src.v6) return ip_packet_locked(src, dst, kProtoIcmp, icmp_body(type, code, rest, body, 0), false);
  const uint32_t pseudo =
      pseudo_header_sum_v6(src.v6_bytes(), dst.v6_bytes(), kNextIcmpv6, static_cast<uint32_t>(8 + body.size()));
  return ip_packet_locked(src, dst, kNextIcmpv6, icmp_body(type, code, rest, body, pseudo));
}

UdpEndpoint* Stack::udp_lookup_locked(const Endpoint& local, const Endpoint& remote) {
  // The most specific match wins: a connected socket for this peer, then
  // one bound to the address, then one bound to any address. (Families
  // are apart: an IPv6 socket does not take IPv4 datagrams yet.)
  UdpEndpoint* best = nullptr;
  int best_score = -1;
  auto [first, last] = udp_ports_.equal_range(local.port);
  for (auto it = first; it != last; ++it) {
    UdpEndpoint* e = it->second;
    if (e->v6_ != local.addr.v6) continue;
    int score = 0;
    if (!e->local_.addr.unspecified()) {
      if (e->local_.addr != local.addr) continue;
      score += 1;
    }
    if (e->connected_) {
      if (e->remote_ != remote) continue;
      score += 2;
    }
    if (score > best_score) {
      best = e;
      best_score = score;
    }
  }
  return best;
}

template <class E>
Result<void> Stack::bind_port_locked(std::multimap<uint16_t, E*>& table, E& e, Endpoint local, int exhausted) {
  if (e.bound_) return Err(EINVAL);
  if (local.addr.v6 != e.v6_) return Err(EAFNOSUPPORT);
  if (!local.addr.unspecified() && !is_local_locked(local.addr)) return Err(EADDRNOTAVAIL);
  auto in_use = [&](uint16_t port) {
    auto [first, last] = table.equal_range(port);
    for (auto it = first; it != last; ++it) {
      const E& other = *it->second;
      if (other.v6_ != e.v6_) continue;
      if (other.local_.addr.unspecified() || local.addr.unspecified() || other.local_.addr == local.addr) return true;
    }
    return false;
  };
  if (local.port == 0) {
    // The next free port of the ephemeral range, round robin.
    const int span = kEphemeralLast - kEphemeralFirst + 1;
    bool found = false;
    for (int tries = 0; tries < span && !found; ++tries) {
      const uint16_t port = next_ephemeral_;
      next_ephemeral_ =
          next_ephemeral_ == kEphemeralLast ? kEphemeralFirst : static_cast<uint16_t>(next_ephemeral_ + 1);
      if (!in_use(port)) {
        local.port = port;
        found = true;
      }
    }
    if (!found) return Err(exhausted);
  } else if (in_use(local.port)) {
    return Err(EADDRINUSE);
  }
  e.local_ = local;
  e.bound_ = true;
  table.emplace(local.port, &e);
  return {};
}

template <class E>
void Stack::unbind_port_locked(std::multimap<uint16_t, E*>& table, E& e) {
  if (!e.bound_) return;
  auto [first, last] = table.equal_range(e.local_.port);
  for (auto it = first; it != last; ++it) {
    if (it->second == &e) {
      table.erase(it);
      break;
    }
  }
  e.bound_ = false;
}

Result<void> Stack::udp_bind_locked(UdpEndpoint& e, Endpoint local) {
  return bind_port_locked(udp_ports_, e, local, EAGAIN);
}
void Stack::udp_forget_locked(UdpEndpoint& e) { unbind_port_locked(udp_ports_, e); }
Result<void> Stack::tcp_bind_locked(TcpEndpoint& e, Endpoint local) {
  return bind_port_locked(tcp_ports_, e, local, EADDRNOTAVAIL);
}
void Stack::tcp_forget_locked(TcpEndpoint& e) { unbind_port_locked(tcp_ports_, e); }

bool Stack::owns(const IpAddress& addr) const {
  std::lock_guard lock(mu_);
  return is_local_locked(addr);
}

std::optional<IpAddress> Stack::address_of(int nic, bool v6) const {
  std::lock_guard lock(mu_);
  auto it = interfaces_.find(nic);
  if (it == interfaces_.end()) return std::nullopt;
  for (const auto& [a, p] : it->second.addresses)
    if (a.v6 == v6) return a;
  return std::nullopt;
}

void Stack::report_unreachable(const std::vector<std::vector<uint8_t>>& packets) {
  Replies replies;
  {
    std::lock_guard lock(mu_);
    for (const auto& packet : packets) {
      // From ourselves to ourselves: the error's source is the sender's
      // own address, and only its socket hears it.
      if (!packet.empty() && (packet[0] >> 4) == 6) {
        auto ip = parse_ipv6(packet);
        if (!ip) continue;
        InPacket in = in_packet(*ip, packet);
        if (!is_local_locked(in.src)) continue;
        in.dst = in.src;
        icmp_error_locked(in, kIcmpv6DestUnreachable, 3, replies);  // address unreachable (RFC 4443 3.1)
      } else if (auto ip = parse_ipv4(packet)) {
        InPacket in = in_packet(*ip);
        if (!is_local_locked(in.src)) continue;
        in.dst = in.src;
        icmp_error_locked(in, kIcmpDestUnreachable, kIcmpHostUnreachable, replies);
      }
    }
  }
  for (auto& out : replies) (void)send_out(std::move(out));
}

std::shared_ptr<UdpEndpoint> Stack::open_udp(bool v6) {
  return std::shared_ptr<UdpEndpoint>(new UdpEndpoint(this, v6));
}

void UdpEndpoint::set_on_event(std::function<void()> fn) {
  std::lock_guard lock(stack_->mu_);
  on_event_ = std::move(fn);
}

Result<void> UdpEndpoint::bind(Endpoint local) {
  std::lock_guard lock(stack_->mu_);
  return stack_->udp_bind_locked(*this, local);
}

Result<void> UdpEndpoint::connect(Endpoint remote) {
  if (remote.addr.v6 != v6_) return Err(EAFNOSUPPORT);
  std::lock_guard lock(stack_->mu_);
  auto route = stack_->route_locked(remote.addr, local_.addr);
  if (!route) return Err(route.error());
  if (!bound_) {
    if (auto r = stack_->udp_bind_locked(*this, Endpoint{IpAddress::any(v6_), 0}); !r) return r;
  }
  // The source the route chose is the socket's address from now on
  // (getsockname after connect, as Linux's ip4_datagram_connect).
  if (local_.addr.unspecified()) local_.addr = route->src;
  remote_ = remote;
  connected_ = true;
  return {};
}

Result<size_t> UdpEndpoint::send(std::span<const uint8_t> data, std::optional<Endpoint> to) {
  if (data.size() > kMaxUdpPayload) return Err(EMSGSIZE);
  std::vector<Stack::OutPacket> outs;
  {
    std::lock_guard lock(stack_->mu_);
    Endpoint dst;
    if (to) {
      dst = *to;
    } else if (connected_) {
      dst = remote_;
    } else {
      return Err(EDESTADDRREQ);
    }
    if (dst.addr.v6 != v6_) return Err(EAFNOSUPPORT);
    if (dst.port == 0) return Err(EINVAL);
    auto route = stack_->route_locked(dst.addr, local_.addr);
    if (!route) return Err(route.error());
    if (!bound_) {
      if (auto r = stack_->udp_bind_locked(*this, Endpoint{IpAddress::any(v6_), 0}); !r) return Err(r.error());
    }
    LinkEndpoint* link = route->itf->link.get();
    const IpAddress next_hop = route->next_hop;
    if (!v6_) {
      Ipv4Fields f;
      f.src = route->src.v4();
      f.dst = dst.addr.v4();
      f.id = stack_->next_id_++;
      // Larger than the link's MTU: fragments, as Linux's UDP sends by
      // default (IP_PMTUDISC_WANT fragments locally).
      for (auto& piece : fragment_ipv4(build_udp(f, local_.port, dst.port, data), link->mtu()))
        outs.push_back(Stack::OutPacket{link, std::move(piece), next_hop});
    } else {
      Ipv6Fields f;
      f.src = route->src.v6_bytes();
      f.dst = dst.addr.v6_bytes();
      auto packet = build_udp6(f, local_.port, dst.port, data);
      if (packet.size() > link->mtu()) return Err(EMSGSIZE);  // IPv6 fragmentation: not yet
      outs.push_back(Stack::OutPacket{link, std::move(packet), next_hop});
    }
  }
  for (auto& out : outs) {
    if (auto r = stack_->send_out(std::move(out)); !r) return Err(r.error());
  }
  return data.size();
}

Result<UdpEndpoint::Datagram> UdpEndpoint::receive() {
  std::lock_guard lock(stack_->mu_);
  if (pending_error_ != 0) return Err(std::exchange(pending_error_, 0));
  if (queue_.empty()) return Err(EAGAIN);
  Datagram d = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= d.data.size();
  return d;
}

Endpoint UdpEndpoint::local() const {
  std::lock_guard lock(stack_->mu_);
  return local_;
}

UdpEndpoint::~UdpEndpoint() {
  std::lock_guard lock(stack_->mu_);
  stack_->udp_forget_locked(*this);
}

}  // namespace runsc::netstack::inet
