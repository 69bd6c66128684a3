// TCP segments on the wire (RFC 9293 3.1): the header, its options (MSS,
// window scale and SACK-permitted from RFC 7323/2018, SACK blocks,
// timestamps), parsed with every length checked and the checksum
// verified over the pseudo-header of either IP version; and built.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "netstack/inet/address.h"
#include "netstack/inet/ipv4.h"

namespace runsc::netstack::inet {

constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08, kTcpAck = 0x10, kTcpUrg = 0x20,
                  kTcpEce = 0x40, kTcpCwr = 0x80;

struct SackBlock {
  uint32_t left = 0, right = 0;
  bool operator==(const SackBlock&) const = default;
};

struct TcpOptions {
  std::optional<uint16_t> mss;
  std::optional<uint8_t> window_scale;  // shift count, capped at 14 (RFC 7323 2.3)
  bool sack_permitted = false;
  std::vector<SackBlock> sack;          // at most 4
  std::optional<std::pair<uint32_t, uint32_t>> timestamp;  // (TSval, TSecr)
};

struct TcpSegment {
  uint16_t src_port = 0, dst_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t urgent = 0;
  TcpOptions options;
  std::span<const uint8_t> data;
};

// The segment in an IP packet's payload, from `src` to `dst` (their
// family picks the pseudo-header).
Parsed<TcpSegment> parse_tcp(std::span<const uint8_t> payload, const IpAddress& src, const IpAddress& dst);

// The segment's bytes (header, options padded to 4 bytes, data) with its
// checksum; the IP layer wraps them.
std::vector<uint8_t> build_tcp(const TcpSegment& s, const IpAddress& src, const IpAddress& dst);

}  // namespace runsc::netstack::inet
