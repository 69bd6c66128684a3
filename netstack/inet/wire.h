// Big-endian fields of the wire formats (network byte order), and the
// transport bodies IPv4 and IPv6 share (UDP, ICMP/ICMPv6), which differ
// only in the pseudo-header their checksum covers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "netstack/inet/checksum.h"
#include "netstack/inet/ipv4.h"

namespace runsc::netstack::inet {

inline uint16_t be16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}
inline uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}
inline void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
inline void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v));
}

// A UDP header and data, its checksum over `pseudo_sum` (the family's
// pseudo-header, ipv4.cc/ipv6.cc) and the datagram; a computed zero is
// sent as all ones (RFC 768: zero means "none").
std::vector<uint8_t> udp_body(uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> data,
                              uint32_t pseudo_sum);
// An ICMP or ICMPv6 message: type, code, checksum, the 4 bytes `rest`,
// the body; the checksum over `pseudo_sum` (0 for ICMP, which has none).
std::vector<uint8_t> icmp_body(uint8_t type, uint8_t code, uint32_t rest, std::span<const uint8_t> body,
                               uint32_t pseudo_sum);

// The UDP datagram in `b`, its length checked and its checksum verified
// over `pseudo_sum(length)`; a zero checksum means "none" over IPv4 and is
// dropped when `checksum_required` (IPv6, RFC 8200 8.1).
template <class PseudoSum>
Parsed<UdpDatagram> parse_udp_body(std::span<const uint8_t> b, bool checksum_required, PseudoSum pseudo_sum) {
  if (b.size() < 8) return std::unexpected(Drop::kTruncated);
  const uint16_t length = be16(b, 4);
  if (length < 8 || length > b.size()) return std::unexpected(Drop::kBadUdpLength);
  if (be16(b, 6) == 0) {
    if (checksum_required) return std::unexpected(Drop::kBadUdpChecksum);
  } else if (checksum_finish(checksum_add(b.first(length), pseudo_sum(length))) != 0) {
    return std::unexpected(Drop::kBadUdpChecksum);
  }
  UdpDatagram d;
  d.src_port = be16(b, 0);
  d.dst_port = be16(b, 2);
  d.data = b.subspan(8, length - 8);
  return d;
}

// The ICMP or ICMPv6 message in `b`, its checksum verified over `pseudo_sum`.
Parsed<IcmpMessage> parse_icmp_body(std::span<const uint8_t> b, uint32_t pseudo_sum);

}  // namespace runsc::netstack::inet
