#include "netstack/inet/ipv6.h"

#include <algorithm>

#include "netstack/inet/checksum.h"
#include "netstack/inet/wire.h"

namespace runsc::netstack::inet {
namespace {

constexpr size_t kIpv6Header = 40;


// The options of a hop-by-hop or destination options header (RFC 8200
// 4.2): Pad1 is one byte, every other option type, length, data; none
// may run past the header.
bool tlv_options_well_formed(std::span<const uint8_t> options) {
  size_t i = 0;
  while (i < options.size()) {
    if (options[i] == 0) {  // Pad1
      ++i;
      continue;
    }
    if (i + 1 >= options.size()) return false;
    const size_t length = options[i + 1];
    if (2 + length > options.size() - i) return false;
    i += 2 + length;
  }
  return true;
}

}  // namespace

Parsed<Ipv6Packet> parse_ipv6(std::span<const uint8_t> packet) {
  if (packet.size() < kIpv6Header) return std::unexpected(Drop::kTruncated);
  if ((packet[0] >> 4) != 6) return std::unexpected(Drop::kBadVersion);
  const size_t payload_length = be16(packet, 4);
  // (A zero payload length with a jumbo payload option is not supported:
  // no link here carries 64 KiB frames.)
  if (kIpv6Header + payload_length > packet.size()) return std::unexpected(Drop::kBadTotalLength);
  Ipv6Packet p;
  p.traffic_class = static_cast<uint8_t>(((packet[0] & 0xf) << 4) | (packet[1] >> 4));
  p.flow_label = be32(packet, 0) & 0xfffff;
  p.hop_limit = packet[7];
  std::copy(packet.begin() + 8, packet.begin() + 24, p.src.begin());
  std::copy(packet.begin() + 24, packet.begin() + 40, p.dst.begin());
  if (is_multicast(p.src)) return std::unexpected(Drop::kBadSourceAddress);
  const auto body = packet.subspan(kIpv6Header, payload_length);
  uint8_t next = packet[6];
  size_t at = 0;
  size_t next_field = 6;  // where `next` was read from
  p.unfragmentable = packet.first(kIpv6Header);
  for (;;) {
    if (next != kNextHopByHop && next != kNextRouting && next != kNextFragment && next != kNextDestinationOptions)
      break;
    if (++p.extension_headers > kMaxExtensionHeaders) return std::unexpected(Drop::kBadOptions);
    // Hop-by-hop options come first or not at all (RFC 8200 4.3).
    if (next == kNextHopByHop && p.extension_headers != 1) return std::unexpected(Drop::kBadOptions);
    if (body.size() - at < 8) return std::unexpected(Drop::kTruncated);
    const uint8_t following = body[at];
    size_t length;
    if (next == kNextFragment) {
      length = 8;
      if (p.fragment) return std::unexpected(Drop::kBadFragment);  // two fragment headers
      const uint16_t field = be16(body, at + 2);
      p.fragment = true;
      p.fragment_offset = static_cast<uint16_t>(field & 0xfff8);
      p.more_fragments = (field & 1) != 0;
      p.fragment_id = be32(body, at + 4);
      p.unfragmentable = packet.first(kIpv6Header + at);
      p.fragment_next_field = next_field;
      // What follows is a fragment of the rest: its headers (if any) are
      // read once reassembled, not here (a later fragment's bytes are no
      // headers at all).
      p.protocol = following;
      p.payload = body.subspan(at + 8);
      return p;
    } else {
      length = (size_t{body[at + 1]} + 1) * 8;
      if (length > body.size() - at) return std::unexpected(Drop::kTruncated);
      if (next != kNextRouting && !tlv_options_well_formed(body.subspan(at + 2, length - 2)))
        return std::unexpected(Drop::kBadOptions);
    }
    next_field = kIpv6Header + at;
    at += length;
    next = following;
  }
  p.protocol = next;
  p.payload = body.subspan(at);
  return p;
}

uint32_t pseudo_header_sum_v6(const Ipv6Address& src, const Ipv6Address& dst, uint8_t next_header,
                              uint32_t length) {
  uint32_t sum = checksum_add(src);
  sum = checksum_add(dst, sum);
  const uint8_t tail[8] = {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
                           static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length), 0, 0, 0, next_header};
  return checksum_add(tail, sum);
}

Parsed<UdpDatagram> parse_udp6(const Ipv6Packet& ip) {
  return parse_udp_body(ip.payload, /*checksum_required=*/true,
                        [&ip](uint16_t length) { return pseudo_header_sum_v6(ip.src, ip.dst, kProtoUdp, length); });
}

Parsed<IcmpMessage> parse_icmpv6(const Ipv6Packet& ip) {
  return parse_icmp_body(ip.payload,
                         pseudo_header_sum_v6(ip.src, ip.dst, kNextIcmpv6, static_cast<uint32_t>(ip.payload.size())));
}

std::vector<uint8_t> build_ipv6(const Ipv6Fields& f, std::span<const uint8_t> payload) {
  std::vector<uint8_t> p(kIpv6Header + payload.size());
  put32(p, 0, (uint32_t{6} << 28) | (uint32_t{f.traffic_class} << 20) | (f.flow_label & 0xfffff));
  put16(p, 4, static_cast<uint16_t>(payload.size()));
  p[6] = f.next_header;
  p[7] = f.hop_limit;
  std::copy(f.src.begin(), f.src.end(), p.begin() + 8);
  std::copy(f.dst.begin(), f.dst.end(), p.begin() + 24);
  std::copy(payload.begin(), payload.end(), p.begin() + kIpv6Header);
  return p;
}

std::vector<uint8_t> build_udp6(const Ipv6Fields& f, uint16_t src_port, uint16_t dst_port,
                                std::span<const uint8_t> data) {
  const auto length = static_cast<uint32_t>(8 + data.size());
  Ipv6Fields ip = f;
  ip.next_header = kProtoUdp;
  return build_ipv6(ip, udp_body(src_port, dst_port, data, pseudo_header_sum_v6(f.src, f.dst, kProtoUdp, length)));
}

std::vector<uint8_t> build_icmpv6(const Ipv6Fields& f, uint8_t type, uint8_t code, uint32_t rest,
                                  std::span<const uint8_t> body) {
  const auto length = static_cast<uint32_t>(8 + body.size());
  Ipv6Fields ip = f;
  ip.next_header = kNextIcmpv6;
  return build_ipv6(ip, icmp_body(type, code, rest, body, pseudo_header_sum_v6(f.src, f.dst, kNextIcmpv6, length)));
}

}  // namespace runsc::netstack::inet
