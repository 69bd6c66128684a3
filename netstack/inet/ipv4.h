// IPv4 (RFC 791), UDP (RFC 768) and ICMP (RFC 792) on the wire: parsing
// that trusts nothing it is given (every length checked against the bytes
// that are there, every checksum verified), and building. A packet that
// fails a check is dropped for a reason the stack counts.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string_view>
#include <vector>

namespace runsc::netstack::inet {

// Why an incoming packet was dropped; each has a counter.
enum class Drop {
  kTruncated,         // shorter than the header it claims to start with
  kBadVersion,        // not IPv4
  kBadHeaderLength,   // IHL < 5, or beyond the packet
  kBadTotalLength,    // total length < header, or beyond the packet
  kBadChecksum,       // IPv4 header checksum
  kBadOptions,        // an IPv4 option running past the header, or of length < 2
  kBadSourceAddress,  // multicast, broadcast or zero-net source (RFC 1122 3.2.1.3)
  kBadFragment,       // not a multiple of 8 bytes before the last, or past 65535
  kFragmentOverlap,   // overlapping fragments: the whole datagram goes
  kFragmentDuplicate, // the same fragment again
  kFragmentMemory,    // more than the reassembly limit held
  kFragmentTimeout,   // not completed in time
  kNotForUs,          // no interface of ours has the destination
  kUnknownProtocol,   // no handler for the IP protocol
  kBadUdpLength,      // UDP length < 8 or beyond the IP payload
  kBadUdpChecksum,
  kNoUdpEndpoint,     // nobody bound the port (answered by ICMP port unreachable)
  kBadIcmp,           // truncated or bad checksum
  kIcmpIgnored,       // a type we do not act on
  kQueueFull,         // the receiving socket's buffer is full
  kBadTcpHeader,      // TCP data offset < 5 or beyond the segment
  kBadTcpChecksum,
  kBadTcpOptions,     // an option of the wrong length, or running past the header
  kBadArp,            // not IPv4-over-Ethernet ARP, or an unknown operation
  kNoTcpEndpoint,     // a segment for a closed port (answered with a reset)
  kListenOverflow,    // a SYN for a listener whose backlog is full
  kBadTcpFlags,       // for a listener: a reset, a SYN with FIN, or no SYN
  kCount,
};
std::string_view drop_name(Drop reason);

template <class T>
using Parsed = std::expected<T, Drop>;

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;

// Addresses in host byte order.
constexpr uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}
constexpr bool is_multicast(uint32_t addr) { return (addr >> 28) == 0xe; }
constexpr bool is_loopback(uint32_t addr) { return (addr >> 24) == 127; }

struct Ipv4Packet {
  uint8_t tos = 0;
  uint16_t id = 0;
  bool dont_fragment = false, more_fragments = false;
  uint16_t fragment_offset = 0;  // bytes
  uint8_t ttl = 0;
  uint8_t protocol = 0;
  uint32_t src = 0, dst = 0;
  std::span<const uint8_t> header;   // the whole header, options included
  std::span<const uint8_t> payload;  // total length minus header (link padding trimmed)
};
Parsed<Ipv4Packet> parse_ipv4(std::span<const uint8_t> packet);

struct UdpDatagram {
  uint16_t src_port = 0, dst_port = 0;
  std::span<const uint8_t> data;
};
// `ip` gives the pseudo-header's addresses.
Parsed<UdpDatagram> parse_udp(const Ipv4Packet& ip);

struct IcmpMessage {
  uint8_t type = 0, code = 0;
  uint32_t rest = 0;                // bytes 4-7: id and sequence for echo, unused or MTU for errors
  std::span<const uint8_t> body;    // after the 8-byte header
  std::span<const uint8_t> message; // the whole message (for an echo reply's copy)
};
Parsed<IcmpMessage> parse_icmp(const Ipv4Packet& ip);

constexpr uint8_t kIcmpEchoReply = 0, kIcmpDestUnreachable = 3, kIcmpEchoRequest = 8, kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmpPortUnreachable = 3, kIcmpHostUnreachable = 1, kIcmpNetUnreachable = 0,
                  kIcmpProtocolUnreachable = 2;

// What an ICMP error says about the packet that caused it: its header and
// at least the first 8 bytes of its payload (RFC 792), enough for ports.
struct IcmpQuote {
  uint8_t protocol = 0;
  uint32_t src = 0, dst = 0;
  uint16_t src_port = 0, dst_port = 0;  // UDP/TCP
  uint32_t tcp_seq = 0;                 // TCP: the quoted segment's sequence number
};
Parsed<IcmpQuote> parse_icmp_quote(std::span<const uint8_t> body);

// Builders. Each returns the whole IPv4 packet.
struct Ipv4Fields {
  uint32_t src = 0, dst = 0;
  uint8_t protocol = 0;
  uint8_t ttl = 64;  // Linux's net.ipv4.ip_default_ttl
  uint8_t tos = 0;
  uint16_t id = 0;
  bool dont_fragment = true;  // Linux sets DF (path MTU discovery)
};
std::vector<uint8_t> build_ipv4(const Ipv4Fields& f, std::span<const uint8_t> payload);
std::vector<uint8_t> build_udp(const Ipv4Fields& f, uint16_t src_port, uint16_t dst_port,
                               std::span<const uint8_t> data);
std::vector<uint8_t> build_icmp(const Ipv4Fields& f, uint8_t type, uint8_t code, uint32_t rest,
                                std::span<const uint8_t> body);

}  // namespace runsc::netstack::inet
