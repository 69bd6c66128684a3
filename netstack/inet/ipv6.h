// IPv6 (RFC 8200), its extension-header chain, ICMPv6 (RFC 4443) and UDP
// over IPv6 on the wire: parsing that checks every length against the
// bytes there (and bounds how many extension headers it walks), and
// building. Reasons for dropping are ipv4.h's Drop.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "netstack/inet/ipv4.h"

namespace runsc::netstack::inet {

using Ipv6Address = std::array<uint8_t, 16>;

constexpr uint8_t kNextHopByHop = 0, kNextRouting = 43, kNextFragment = 44, kNextIcmpv6 = 58, kNextNone = 59,
                  kNextDestinationOptions = 60;

inline bool is_multicast(const Ipv6Address& a) { return a[0] == 0xff; }
inline bool is_unspecified(const Ipv6Address& a) {
  for (uint8_t b : a)
    if (b != 0) return false;
  return true;
}
inline Ipv6Address ipv6_loopback() {
  Ipv6Address a{};
  a[15] = 1;
  return a;
}

struct Ipv6Packet {
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;
  uint8_t hop_limit = 0;
  Ipv6Address src{}, dst{};
  // The upper layer: its protocol after the extension headers, and its bytes.
  uint8_t protocol = 0;
  std::span<const uint8_t> payload;
  bool fragment = false;             // a fragment header was in the chain
  uint16_t fragment_offset = 0;      // bytes
  bool more_fragments = false;
  uint32_t fragment_id = 0;
  std::span<const uint8_t> unfragmentable;  // the fixed header and the headers before a fragment header
  size_t fragment_next_field = 6;  // offset in the packet of the next-header field naming the fragment header
  size_t extension_headers = 0;
};

// At most this many extension headers are walked (an "option storm" of
// thousands of empty headers is dropped as kBadOptions).
constexpr size_t kMaxExtensionHeaders = 8;

Parsed<Ipv6Packet> parse_ipv6(std::span<const uint8_t> packet);

// The running sum of the IPv6 pseudo-header (RFC 8200 8.1).
uint32_t pseudo_header_sum_v6(const Ipv6Address& src, const Ipv6Address& dst, uint8_t next_header,
                              uint32_t length);

// UDP over IPv6: the checksum is mandatory (a zero one is dropped).
Parsed<UdpDatagram> parse_udp6(const Ipv6Packet& ip);
// ICMPv6: the checksum covers the pseudo-header.
Parsed<IcmpMessage> parse_icmpv6(const Ipv6Packet& ip);

constexpr uint8_t kIcmpv6DestUnreachable = 1, kIcmpv6PacketTooBig = 2, kIcmpv6TimeExceeded = 3,
                  kIcmpv6ParameterProblem = 4, kIcmpv6EchoRequest = 128, kIcmpv6EchoReply = 129;
constexpr uint8_t kIcmpv6PortUnreachable = 4;

struct Ipv6Fields {
  Ipv6Address src{}, dst{};
  uint8_t next_header = 0;
  uint8_t hop_limit = 64;  // Linux's net.ipv6.conf.all.hop_limit
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;
};
std::vector<uint8_t> build_ipv6(const Ipv6Fields& f, std::span<const uint8_t> payload);
std::vector<uint8_t> build_udp6(const Ipv6Fields& f, uint16_t src_port, uint16_t dst_port,
                                std::span<const uint8_t> data);
std::vector<uint8_t> build_icmpv6(const Ipv6Fields& f, uint8_t type, uint8_t code, uint32_t rest,
                                  std::span<const uint8_t> body);

}  // namespace runsc::netstack::inet
