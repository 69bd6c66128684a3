#include "netstack/inet/ethernet.h"

#include "netstack/inet/wire.h"

#include <algorithm>
#include <ctime>

namespace runsc::netstack::inet {
namespace {

constexpr size_t kEthernetHeader = 14, kArpLength = 28;


// IPv4 multicast to Ethernet (RFC 1112 6.4): 01:00:5e and the group's
// low 23 bits.
Mac multicast_mac(uint32_t group) {
  return {0x01, 0x00, 0x5e, static_cast<uint8_t>((group >> 16) & 0x7f), static_cast<uint8_t>(group >> 8),
          static_cast<uint8_t>(group)};
}

}  // namespace

Parsed<EthernetFrame> parse_ethernet(std::span<const uint8_t> frame) {
  if (frame.size() < kEthernetHeader) return std::unexpected(Drop::kTruncated);
  EthernetFrame f;
  std::copy(frame.begin(), frame.begin() + 6, f.dst.begin());
  std::copy(frame.begin() + 6, frame.begin() + 12, f.src.begin());
  f.type = be16(frame, 12);
  f.payload = frame.subspan(kEthernetHeader);
  return f;
}

std::vector<uint8_t> build_ethernet(const Mac& dst, const Mac& src, uint16_t type, std::span<const uint8_t> payload) {
  std::vector<uint8_t> f(kEthernetHeader + payload.size());
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  put16(f, 12, type);
  std::copy(payload.begin(), payload.end(), f.begin() + kEthernetHeader);
  return f;
}

Parsed<ArpPacket> parse_arp(std::span<const uint8_t> b) {
  if (b.size() < kArpLength) return std::unexpected(Drop::kTruncated);
  if (be16(b, 0) != 1 || be16(b, 2) != kEtherIpv4 || b[4] != 6 || b[5] != 4) return std::unexpected(Drop::kBadArp);
  ArpPacket p;
  p.op = be16(b, 6);
  if (p.op != kArpRequest && p.op != kArpReply) return std::unexpected(Drop::kBadArp);
  std::copy(b.begin() + 8, b.begin() + 14, p.sender_mac.begin());
  p.sender_ip = be32(b, 14);
  std::copy(b.begin() + 18, b.begin() + 24, p.target_mac.begin());
  p.target_ip = be32(b, 24);
  return p;
}

std::vector<uint8_t> build_arp(const ArpPacket& p) {
  std::vector<uint8_t> b(kArpLength);
  put16(b, 0, 1);
  put16(b, 2, kEtherIpv4);
  b[4] = 6;
  b[5] = 4;
  put16(b, 6, p.op);
  std::copy(p.sender_mac.begin(), p.sender_mac.end(), b.begin() + 8);
  put32(b, 14, p.sender_ip);
  std::copy(p.target_mac.begin(), p.target_mac.end(), b.begin() + 18);
  put32(b, 24, p.target_ip);
  return b;
}

EthernetEndpoint::EthernetEndpoint(Mac mac, uint32_t mtu, std::unique_ptr<FrameDevice> device)
    : mac_(mac), mtu_(mtu), device_(std::move(device)), clock_([] {
        timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC, &ts);
        return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
      }) {}

void EthernetEndpoint::attach(Stack* stack, int nic) {
  stack_ = stack;
  nic_ = nic;
}

void EthernetEndpoint::set_clock(std::function<int64_t()> now_ns) {
  std::lock_guard lock(mu_);
  clock_ = std::move(now_ns);
}

std::optional<IpAddress> EthernetEndpoint::own_address(bool v6) const {
  if (stack_ == nullptr) return std::nullopt;
  return stack_->address_of(nic_, v6);
}

// A neighbour's solicitation: ARP for IPv4; for IPv6 a Neighbor
// Solicitation to the target's solicited-node multicast group
// (ff02::1:ffXX:XXXX, RFC 4291 2.7.1) carrying our link-layer address.
std::vector<uint8_t> EthernetEndpoint::solicit_locked(const IpAddress& target) {
  arp_requests_.fetch_add(1, std::memory_order_relaxed);
  if (!target.v6) {
    ArpPacket p;
    p.op = kArpRequest;
    p.sender_mac = mac_;
    auto own = own_address(false);
    p.sender_ip = own ? own->v4() : 0;
    p.target_ip = target.v4();
    return build_ethernet(kBroadcastMac, mac_, kEtherArp, build_arp(p));
  }
  Ipv6Fields f;
  auto own = own_address(true);
  if (own) f.src = own->v6_bytes();
  f.dst = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target.bytes[13], target.bytes[14], target.bytes[15]};
  f.hop_limit = 255;
  std::vector<uint8_t> body(target.bytes.begin(), target.bytes.end());
  body.insert(body.end(), {kNdpSourceLinkAddress, 1});
  body.insert(body.end(), mac_.begin(), mac_.end());
  const Mac group = {0x33, 0x33, f.dst[12], f.dst[13], f.dst[14], f.dst[15]};
  return build_ethernet(group, mac_, kEtherIpv6, build_icmpv6(f, kNdpNeighborSolicitation, 0, 0, body));
}

std::optional<Mac> EthernetEndpoint::neighbour(const IpAddress& ip) const {
  std::lock_guard lock(mu_);
  auto it = neighbours_.find(ip);
  if (it == neighbours_.end() || !it->second.resolved) return std::nullopt;
  return it->second.mac;
}

Result<void> EthernetEndpoint::write(std::vector<uint8_t> packet, const IpAddress& next_hop) {
  const uint16_t type = next_hop.v6 ? kEtherIpv6 : kEtherIpv4;
  if (!next_hop.v6 && next_hop.v4() == 0xffffffffu)
    return device_->send_frame(build_ethernet(kBroadcastMac, mac_, type, packet));
  if (next_hop.multicast()) {
    // RFC 1112 6.4 for IPv4 groups; 33:33 and the low 32 bits for IPv6
    // (RFC 2464 7).
    const auto& b = next_hop.bytes;
    const Mac group = next_hop.v6 ? Mac{0x33, 0x33, b[12], b[13], b[14], b[15]} : multicast_mac(next_hop.v4());
    return device_->send_frame(build_ethernet(group, mac_, type, packet));
  }
  std::vector<uint8_t> frame;
  {
    std::lock_guard lock(mu_);
    const int64_t now = clock_();
    Neighbour& n = neighbours_[next_hop];
    if (n.resolved && now - n.updated_ns < kReachableNs) {
      frame = build_ethernet(n.mac, mac_, type, packet);
    } else {
      // Unresolved, or no longer known to be reachable: ask again, and
      // hold the packet until the answer (within a byte budget).
      if (n.resolved) {
        n.resolved = false;
        n.probes = 0;
      }
      if (n.pending_bytes + packet.size() <= kPendingBytes) {
        n.pending_bytes += packet.size();
        n.pending.push_back(std::move(packet));
      } else {
        frames_dropped_.fetch_add(1, std::memory_order_relaxed);
      }
      if (n.probes == 0) {
        n.probes = 1;
        n.updated_ns = now;
        frame = solicit_locked(next_hop);
      }
    }
  }
  if (frame.empty()) return {};
  return device_->send_frame(std::move(frame));
}

void EthernetEndpoint::tick() {
  std::vector<std::vector<uint8_t>> requests, failed;
  {
    std::lock_guard lock(mu_);
    const int64_t now = clock_();
    for (auto it = neighbours_.begin(); it != neighbours_.end();) {
      Neighbour& n = it->second;
      if (n.resolved || now - n.updated_ns < kRetransNs) {
        ++it;
        continue;
      }
      if (n.probes < kMaxProbes) {
        ++n.probes;
        n.updated_ns = now;
        requests.push_back(solicit_locked(it->first));
        ++it;
        continue;
      }
      for (auto& p : n.pending) failed.push_back(std::move(p));
      it = neighbours_.erase(it);
    }
  }
  for (auto& r : requests) (void)device_->send_frame(std::move(r));
  if (!failed.empty() && stack_) stack_->report_unreachable(failed);
}

void EthernetEndpoint::receive_frame(std::span<const uint8_t> frame) {
  auto f = parse_ethernet(frame);
  if (!f) {
    frames_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Ours, broadcast, or multicast (the group bit); anything else is for
  // another station.
  if (f->dst != mac_ && f->dst != kBroadcastMac && (f->dst[0] & 1) == 0) {
    frames_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::vector<std::vector<uint8_t>> out;
  if (f->type == kEtherIpv6 && handle_ndp(f->payload, out)) {
    for (auto& frame_out : out) (void)device_->send_frame(std::move(frame_out));
    return;
  }
  if (f->type == kEtherIpv4 || f->type == kEtherIpv6) {
    if (stack_) stack_->deliver(nic_, f->payload);
    return;
  }
  if (f->type != kEtherArp) {
    frames_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto arp = parse_arp(f->payload);
  if (!arp || arp->sender_ip == 0 || (arp->sender_mac[0] & 1)) {
    frames_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::optional<IpAddress> own = own_address(false);
  const bool for_us = own && arp->target_ip == own->v4();
  {
    std::lock_guard lock(mu_);
    // RFC 826's merge: update a neighbour we know of; learn one only
    // from a packet addressed to us.
    learn_locked(IpAddress::from_v4(arp->sender_ip), arp->sender_mac, for_us, out);
    if (for_us && arp->op == kArpRequest) {
      ArpPacket reply;
      reply.op = kArpReply;
      reply.sender_mac = mac_;
      reply.sender_ip = own->v4();
      reply.target_mac = arp->sender_mac;
      reply.target_ip = arp->sender_ip;
      out.push_back(build_ethernet(arp->sender_mac, mac_, kEtherArp, build_arp(reply)));
    }
  }
  for (auto& frame_out : out) (void)device_->send_frame(std::move(frame_out));
}

void EthernetEndpoint::learn_locked(const IpAddress& ip, const Mac& mac, bool create,
                                    std::vector<std::vector<uint8_t>>& out) {
  auto it = neighbours_.find(ip);
  if (it == neighbours_.end() && !create) return;
  Neighbour& n = neighbours_[ip];
  n.resolved = true;
  n.mac = mac;
  n.updated_ns = clock_();
  n.probes = 0;
  const uint16_t type = ip.v6 ? kEtherIpv6 : kEtherIpv4;
  for (auto& p : n.pending) out.push_back(build_ethernet(n.mac, mac_, type, p));
  n.pending.clear();
  n.pending_bytes = 0;
}

bool EthernetEndpoint::handle_ndp(std::span<const uint8_t> payload, std::vector<std::vector<uint8_t>>& out) {
  auto ip = parse_ipv6(payload);
  if (!ip || ip->protocol != kNextIcmpv6 || ip->payload.empty()) return false;
  const uint8_t type = ip->payload[0];
  if (type != kNdpNeighborSolicitation && type != kNdpNeighborAdvertisement) return false;
  auto icmp = parse_icmpv6(*ip);
  // RFC 4861 7.1.1/7.1.2: hop limit 255 (so it came from this link), code
  // 0, a target, well-formed options; anything else is dropped.
  if (!icmp || icmp->code != 0 || ip->hop_limit != 255 || icmp->body.size() < 16) {
    frames_dropped_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  Ipv6Address target;
  std::copy(icmp->body.begin(), icmp->body.begin() + 16, target.begin());
  std::optional<Mac> link_address;
  const uint8_t wanted = type == kNdpNeighborSolicitation ? kNdpSourceLinkAddress : kNdpTargetLinkAddress;
  for (size_t at = 16; at < icmp->body.size();) {
    if (icmp->body.size() - at < 2 || icmp->body[at + 1] == 0 || icmp->body[at + 1] * size_t{8} > icmp->body.size() - at) {
      frames_dropped_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (icmp->body[at] == wanted && icmp->body[at + 1] == 1) {
      Mac m;
      std::copy(icmp->body.begin() + static_cast<long>(at) + 2, icmp->body.begin() + static_cast<long>(at) + 8, m.begin());
      link_address = m;
    }
    at += icmp->body[at + 1] * size_t{8};
  }
  const IpAddress target_ip = IpAddress::from_v6(target);
  std::lock_guard lock(mu_);
  if (type == kNdpNeighborAdvertisement) {
    if (link_address) learn_locked(target_ip, *link_address, /*create=*/false, out);
    return true;
  }
  // A solicitation for one of our addresses: learn the soliciter (unless
  // it is doing duplicate address detection, from ::) and advertise.
  if (stack_ == nullptr || !stack_->owns(target_ip)) return true;
  const IpAddress from = IpAddress::from_v6(ip->src);
  if (from.unspecified() || !link_address) return true;
  learn_locked(from, *link_address, /*create=*/true, out);
  Ipv6Fields f;
  f.src = target;
  f.dst = ip->src;
  f.hop_limit = 255;
  std::vector<uint8_t> body(target.begin(), target.end());
  body.insert(body.end(), {kNdpTargetLinkAddress, 1});
  body.insert(body.end(), mac_.begin(), mac_.end());
  // Solicited and override flags (RFC 4861 4.4), in the first reserved byte.
  constexpr uint32_t kSolicitedOverride = 0x60000000;
  out.push_back(build_ethernet(*link_address, mac_, kEtherIpv6,
                               build_icmpv6(f, kNdpNeighborAdvertisement, 0, kSolicitedOverride, body)));
  return true;
}

}  // namespace runsc::netstack::inet
