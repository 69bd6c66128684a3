#include "netstack/inet/stack.h"

#include <algorithm>
#include <ctime>
#include <utility>


namespace runsc::netstack::inet {
namespace {

constexpr uint16_t kEphemeralFirst = 32768, kEphemeralLast = 60999;  // ip_local_port_range
constexpr size_t kMaxUdpPayload = 65535 - 20 - 8;
// An ICMP error quotes the offending packet up to 576 bytes in all
// (RFC 1812 4.3.2.3, which Linux follows).
constexpr size_t kIcmpErrorMax = 576;

uint32_t prefix_mask(int prefix_length) {
  return prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
}

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

}  // namespace

Result<void> LoopbackEndpoint::write(std::vector<uint8_t> packet) {
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

void Stack::set_clock(std::function<int64_t()> now_ns) {
  std::lock_guard lock(mu_);
  clock_ = std::move(now_ns);
}

size_t Stack::reassembly_bytes_held() const {
  std::lock_guard lock(mu_);
  return reassembler_.bytes_held();
}
Stack::~Stack() = default;

int Stack::add_interface(std::string name, std::unique_ptr<LinkEndpoint> link) {
  std::lock_guard lock(mu_);
  const int nic = static_cast<int>(interfaces_.size()) + 1;
  link->attach(this, nic);
  interfaces_[nic] = Interface{std::move(name), std::move(link), {}};
  return nic;
}

Result<void> Stack::add_address(int nic, uint32_t addr, int prefix_length) {
  if (prefix_length < 0 || prefix_length > 32) return Err(EINVAL);
  std::lock_guard lock(mu_);
  auto it = interfaces_.find(nic);
  if (it == interfaces_.end()) return Err(ENODEV);
  for (const auto& [a, p] : it->second.addresses)
    if (a == addr) return Err(EEXIST);
  it->second.addresses.emplace_back(addr, prefix_length);
  routes_.push_back(Route{addr & prefix_mask(prefix_length), prefix_length, 0, nic});
  return {};
}

Result<void> Stack::add_route(uint32_t destination, int prefix_length, uint32_t gateway, int nic) {
  if (prefix_length < 0 || prefix_length > 32) return Err(EINVAL);
  std::lock_guard lock(mu_);
  if (!interfaces_.count(nic)) return Err(ENODEV);
  routes_.push_back(Route{destination & prefix_mask(prefix_length), prefix_length, gateway, nic});
  return {};
}

bool Stack::is_local_locked(uint32_t addr) const {
  for (const auto& [nic, itf] : interfaces_) {
    for (const auto& [a, p] : itf.addresses) {
      if (a == addr) return true;
    }
  }
  return false;
}

Result<std::pair<Stack::Interface*, uint32_t>> Stack::route_locked(uint32_t dst, uint32_t preferred_src) {
  // A local destination goes through lo, as Linux's local table routes it.
  if (is_local_locked(dst)) {
    for (auto& [nic, itf] : interfaces_) {
      if (itf.name == "lo") return std::pair{&itf, preferred_src != 0 ? preferred_src : dst};
    }
  }
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    if ((dst & prefix_mask(r.prefix_length)) != r.destination) continue;
    if (best == nullptr || r.prefix_length > best->prefix_length) best = &r;
  }
  if (best == nullptr) return Err(ENETUNREACH);
  Interface& itf = interfaces_.at(best->nic);
  if (preferred_src != 0) return std::pair{&itf, preferred_src};
  if (itf.addresses.empty()) return Err(EADDRNOTAVAIL);
  // The interface's address on the destination's subnet, else its first.
  for (const auto& [a, p] : itf.addresses) {
    if ((a & prefix_mask(p)) == (dst & prefix_mask(p))) return std::pair{&itf, a};
  }
  return std::pair{&itf, itf.addresses.front().first};
}

Result<void> Stack::send_out(OutPacket out) {
  if (out.link == nullptr) return {};
  sent_.fetch_add(1, std::memory_order_relaxed);
  return out.link->write(std::move(out.packet));
}

void Stack::deliver(int nic, std::span<const uint8_t> packet) {
  (void)nic;
  received_.fetch_add(1, std::memory_order_relaxed);
  auto ip = parse_ipv4(packet);
  if (!ip) {
    count(ip.error());
    return;
  }
  std::vector<OutPacket> replies;
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    if (!is_local_locked(ip->dst)) {
      count(Drop::kNotForUs);
      return;
    }
    if (!ip->more_fragments && ip->fragment_offset == 0) {
      dispatch_locked(*ip, replies, wake);
    } else {
      const int64_t now = clock_();
      // Datagrams that did not complete in time: each whose first
      // fragment came gets an ICMP "fragment reassembly time exceeded"
      // (RFC 792, code 1), as Linux's ip_expire() sends.
      for (const auto& first : reassembler_.expire(now)) {
        count(Drop::kFragmentTimeout);
        if (auto quoted = parse_ipv4(first)) icmp_error_locked(*quoted, kIcmpTimeExceeded, 1, replies);
      }
      auto outcome = reassembler_.add(*ip, now);
      if (outcome.dropped) {
        count(*outcome.dropped);
      } else if (!outcome.complete.empty()) {
        const std::vector<uint8_t> whole = std::move(outcome.complete);
        if (auto datagram = parse_ipv4(whole)) {
          dispatch_locked(*datagram, replies, wake);
        } else {
          count(datagram.error());
        }
      }
    }
  }
  for (auto& fn : wake) fn();
  for (auto& out : replies) (void)send_out(std::move(out));
}

void Stack::dispatch_locked(const Ipv4Packet& ip, std::vector<OutPacket>& replies,
                            std::vector<std::function<void()>>& wake) {
  switch (ip.protocol) {
    case kProtoUdp: handle_udp_locked(ip, replies, wake); break;
    case kProtoIcmp: handle_icmp_locked(ip, replies, wake); break;
    default:
      count(Drop::kUnknownProtocol);
      icmp_error_locked(ip, kIcmpDestUnreachable, kIcmpProtocolUnreachable, replies);
      break;
  }
}

void Stack::handle_udp_locked(const Ipv4Packet& ip, std::vector<OutPacket>& replies,
                              std::vector<std::function<void()>>& wake) {
  auto udp = parse_udp(ip);
  if (!udp) {
    count(udp.error());
    return;
  }
  UdpEndpoint* e = udp_lookup_locked(ip.dst, udp->dst_port, ip.src, udp->src_port);
  if (e == nullptr) {
    count(Drop::kNoUdpEndpoint);
    icmp_error_locked(ip, kIcmpDestUnreachable, kIcmpPortUnreachable, replies);
    return;
  }
  if (e->queued_bytes_ + udp->data.size() > kUdpReceiveBuffer) {
    count(Drop::kQueueFull);
    return;
  }
  e->queue_.push_back(UdpEndpoint::Datagram{{ip.src, udp->src_port}, {udp->data.begin(), udp->data.end()}});
  e->queued_bytes_ += udp->data.size();
  if (e->on_event_) wake.push_back(e->on_event_);
}

void Stack::handle_icmp_locked(const Ipv4Packet& ip, std::vector<OutPacket>& replies,
                               std::vector<std::function<void()>>& wake) {
  auto icmp = parse_icmp(ip);
  if (!icmp) {
    count(icmp.error());
    return;
  }
  if (icmp->type == kIcmpEchoRequest && icmp->code == 0) {
    // The reply carries the request's identifier, sequence and data back
    // (RFC 792), from the address it was sent to.
    auto route = route_locked(ip.src, ip.dst);
    if (!route) return;
    Ipv4Fields f;
    f.src = ip.dst;
    f.dst = ip.src;
    f.id = next_id_++;
    replies.push_back(OutPacket{route->first->link.get(),
                                build_icmp(f, kIcmpEchoReply, 0, icmp->rest, icmp->body)});
    echo_replies_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (icmp->type == kIcmpDestUnreachable) {
    auto quote = parse_icmp_quote(icmp->body);
    if (!quote) {
      count(quote.error());
      return;
    }
    // The error is about a packet we sent: its source is ours.
    if (quote->protocol == kProtoUdp) {
      UdpEndpoint* e = udp_lookup_locked(quote->src, quote->src_port, quote->dst, quote->dst_port);
      // Only a connected socket hears of it (udp(7), without IP_RECVERR).
      if (e != nullptr && e->connected_ && e->remote_ == Endpoint4{quote->dst, quote->dst_port}) {
        e->pending_error_ = unreachable_errno(icmp->code);
        if (e->on_event_) wake.push_back(e->on_event_);
        return;
      }
    }
  }
  count(Drop::kIcmpIgnored);
}

void Stack::icmp_error_locked(const Ipv4Packet& offending, uint8_t type, uint8_t code,
                              std::vector<OutPacket>& replies) {
  // RFC 1122 3.2.2: never about an ICMP error, a broadcast or multicast,
  // or a fragment other than the first.
  if (offending.protocol == kProtoIcmp && offending.payload.size() >= 1) {
    const uint8_t t = offending.payload[0];
    if (t != kIcmpEchoRequest && t != kIcmpEchoReply) return;
  }
  if (is_multicast(offending.dst) || offending.dst == 0xffffffffu || offending.fragment_offset != 0) return;
  auto route = route_locked(offending.src, offending.dst);
  if (!route) return;
  const size_t room = kIcmpErrorMax - 20 - 8;
  const size_t quoted = std::min(room, offending.header.size() + offending.payload.size());
  std::vector<uint8_t> body(offending.header.begin(), offending.header.end());
  body.insert(body.end(), offending.payload.begin(),
              offending.payload.begin() + static_cast<long>(quoted - offending.header.size()));
  Ipv4Fields f;
  f.src = offending.dst;
  f.dst = offending.src;
  f.id = next_id_++;
  f.dont_fragment = false;
  replies.push_back(OutPacket{route->first->link.get(), build_icmp(f, type, code, 0, body)});
}

UdpEndpoint* Stack::udp_lookup_locked(uint32_t dst, uint16_t dst_port, uint32_t src, uint16_t src_port) {
  // The most specific match wins: a connected socket for this peer, then
  // one bound to the address, then one bound to any address.
  UdpEndpoint* best = nullptr;
  int best_score = -1;
  auto [first, last] = udp_ports_.equal_range(dst_port);
  for (auto it = first; it != last; ++it) {
    UdpEndpoint* e = it->second;
    int score = 0;
    if (e->local_.addr != 0) {
      if (e->local_.addr != dst) continue;
      score += 1;
    }
    if (e->connected_) {
      if (e->remote_.addr != src || e->remote_.port != src_port) continue;
      score += 2;
    }
    if (score > best_score) {
      best = e;
      best_score = score;
    }
  }
  return best;
}

Result<void> Stack::udp_bind_locked(UdpEndpoint& e, Endpoint4 local) {
  if (e.bound_) return Err(EINVAL);
  if (local.addr != 0 && !is_local_locked(local.addr)) return Err(EADDRNOTAVAIL);
  auto in_use = [&](uint16_t port) {
    auto [first, last] = udp_ports_.equal_range(port);
    for (auto it = first; it != last; ++it) {
      const uint32_t other = it->second->local_.addr;
      if (other == 0 || local.addr == 0 || other == local.addr) return true;
    }
    return false;
  };
  if (local.port == 0) {
    // The next free port of the ephemeral range, round robin.
    const int span = kEphemeralLast - kEphemeralFirst + 1;
    bool found = false;
    for (int tries = 0; tries < span && !found; ++tries) {
      const uint16_t port = next_ephemeral_;
      next_ephemeral_ = next_ephemeral_ == kEphemeralLast ? kEphemeralFirst : static_cast<uint16_t>(next_ephemeral_ + 1);
      if (!in_use(port)) {
        local.port = port;
        found = true;
      }
    }
    if (!found) return Err(EAGAIN);
  } else if (in_use(local.port)) {
    return Err(EADDRINUSE);
  }
  e.local_ = local;
  e.bound_ = true;
  udp_ports_.emplace(local.port, &e);
  return {};
}

void Stack::udp_forget_locked(UdpEndpoint& e) {
  if (!e.bound_) return;
  auto [first, last] = udp_ports_.equal_range(e.local_.port);
  for (auto it = first; it != last; ++it) {
    if (it->second == &e) {
      udp_ports_.erase(it);
      break;
    }
  }
  e.bound_ = false;
}

std::shared_ptr<UdpEndpoint> Stack::open_udp() { return std::shared_ptr<UdpEndpoint>(new UdpEndpoint(this)); }

void UdpEndpoint::set_on_event(std::function<void()> fn) {
  std::lock_guard lock(stack_->mu_);
  on_event_ = std::move(fn);
}

Result<void> UdpEndpoint::bind(Endpoint4 local) {
  std::lock_guard lock(stack_->mu_);
  return stack_->udp_bind_locked(*this, local);
}

Result<void> UdpEndpoint::connect(Endpoint4 remote) {
  std::lock_guard lock(stack_->mu_);
  auto route = stack_->route_locked(remote.addr, local_.addr);
  if (!route) return Err(route.error());
  if (!bound_) {
    if (auto r = stack_->udp_bind_locked(*this, Endpoint4{0, 0}); !r) return r;
  }
  // The source the route chose is the socket's address from now on
  // (getsockname after connect, as Linux's ip4_datagram_connect).
  if (local_.addr == 0) local_.addr = route->second;
  remote_ = remote;
  connected_ = true;
  return {};
}

Result<size_t> UdpEndpoint::send(std::span<const uint8_t> data, std::optional<Endpoint4> to) {
  if (data.size() > kMaxUdpPayload) return Err(EMSGSIZE);
  std::vector<Stack::OutPacket> outs;
  {
    std::lock_guard lock(stack_->mu_);
    Endpoint4 dst;
    if (to) {
      dst = *to;
    } else if (connected_) {
      dst = remote_;
    } else {
      return Err(EDESTADDRREQ);
    }
    if (dst.port == 0) return Err(EINVAL);
    auto route = stack_->route_locked(dst.addr, local_.addr);
    if (!route) return Err(route.error());
    if (!bound_) {
      if (auto r = stack_->udp_bind_locked(*this, Endpoint4{0, 0}); !r) return Err(r.error());
    }
    Ipv4Fields f;
    f.src = route->second;
    f.dst = dst.addr;
    f.id = stack_->next_id_++;
    // Larger than the link's MTU: fragments, as Linux's UDP sends by
    // default (IP_PMTUDISC_WANT fragments locally).
    LinkEndpoint* link = route->first->link.get();
    for (auto& piece : fragment_ipv4(build_udp(f, local_.port, dst.port, data), link->mtu()))
      outs.push_back(Stack::OutPacket{link, std::move(piece)});
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

Endpoint4 UdpEndpoint::local() const {
  std::lock_guard lock(stack_->mu_);
  return local_;
}

UdpEndpoint::~UdpEndpoint() {
  std::lock_guard lock(stack_->mu_);
  stack_->udp_forget_locked(*this);
}

}  // namespace runsc::netstack::inet
