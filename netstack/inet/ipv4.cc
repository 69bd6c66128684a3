#include "netstack/inet/ipv4.h"

#include "netstack/inet/checksum.h"
#include "netstack/inet/wire.h"

namespace runsc::netstack::inet {
namespace {

constexpr size_t kIpv4MinHeader = 20;

// Each option (RFC 791 3.1): 0 ends the list, 1 is one byte of padding,
// anything else is type, length (counting both), data.
bool options_well_formed(std::span<const uint8_t> options) {
  size_t i = 0;
  while (i < options.size()) {
    const uint8_t type = options[i];
    if (type == 0) return true;
    if (type == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= options.size()) return false;
    const uint8_t length = options[i + 1];
    if (length < 2 || length > options.size() - i) return false;
    i += length;
  }
  return true;
}

}  // namespace

std::string_view drop_name(Drop reason) {
  switch (reason) {
    case Drop::kTruncated: return "truncated";
    case Drop::kBadVersion: return "bad_version";
    case Drop::kBadHeaderLength: return "bad_header_length";
    case Drop::kBadTotalLength: return "bad_total_length";
    case Drop::kBadChecksum: return "bad_checksum";
    case Drop::kBadOptions: return "bad_options";
    case Drop::kBadSourceAddress: return "bad_source_address";
    case Drop::kBadFragment: return "bad_fragment";
    case Drop::kFragmentOverlap: return "fragment_overlap";
    case Drop::kFragmentDuplicate: return "fragment_duplicate";
    case Drop::kFragmentMemory: return "fragment_memory";
    case Drop::kFragmentTimeout: return "fragment_timeout";
    case Drop::kNotForUs: return "not_for_us";
    case Drop::kUnknownProtocol: return "unknown_protocol";
    case Drop::kBadUdpLength: return "bad_udp_length";
    case Drop::kBadUdpChecksum: return "bad_udp_checksum";
    case Drop::kNoUdpEndpoint: return "no_udp_endpoint";
    case Drop::kBadIcmp: return "bad_icmp";
    case Drop::kIcmpIgnored: return "icmp_ignored";
    case Drop::kQueueFull: return "queue_full";
    case Drop::kBadTcpHeader: return "bad_tcp_header";
    case Drop::kBadTcpChecksum: return "bad_tcp_checksum";
    case Drop::kBadTcpOptions: return "bad_tcp_options";
    case Drop::kBadArp: return "bad_arp";
    case Drop::kNoTcpEndpoint: return "no_tcp_endpoint";
    case Drop::kListenOverflow: return "listen_overflow";
    case Drop::kBadTcpFlags: return "bad_tcp_flags";
    case Drop::kCount: break;
  }
  return "?";
}

Parsed<Ipv4Packet> parse_ipv4(std::span<const uint8_t> packet) {
  if (packet.size() < kIpv4MinHeader) return std::unexpected(Drop::kTruncated);
  if ((packet[0] >> 4) != 4) return std::unexpected(Drop::kBadVersion);
  const size_t header_length = size_t{packet[0] & 0xfu} * 4;
  if (header_length < kIpv4MinHeader || header_length > packet.size()) return std::unexpected(Drop::kBadHeaderLength);
  const size_t total_length = be16(packet, 2);
  if (total_length < header_length || total_length > packet.size()) return std::unexpected(Drop::kBadTotalLength);
  if (checksum_finish(checksum_add(packet.first(header_length))) != 0) return std::unexpected(Drop::kBadChecksum);
  if (!options_well_formed(packet.subspan(kIpv4MinHeader, header_length - kIpv4MinHeader)))
    return std::unexpected(Drop::kBadOptions);
  Ipv4Packet p;
  p.tos = packet[1];
  p.id = be16(packet, 4);
  const uint16_t fragment = be16(packet, 6);
  p.dont_fragment = (fragment & 0x4000) != 0;
  p.more_fragments = (fragment & 0x2000) != 0;
  p.fragment_offset = static_cast<uint16_t>((fragment & 0x1fff) * 8);
  p.ttl = packet[8];
  p.protocol = packet[9];
  p.src = be32(packet, 12);
  p.dst = be32(packet, 16);
  // A source that cannot be one host (RFC 1122 3.2.1.3): multicast, the
  // limited broadcast, or "this network".
  if (is_multicast(p.src) || p.src == 0xffffffffu || (p.src >> 24) == 0) return std::unexpected(Drop::kBadSourceAddress);
  p.header = packet.first(header_length);
  p.payload = packet.subspan(header_length, total_length - header_length);
  return p;
}

Parsed<UdpDatagram> parse_udp(const Ipv4Packet& ip) {
  return parse_udp_body(ip.payload, /*checksum_required=*/false,
                        [&ip](uint16_t length) { return pseudo_header_sum_v4(ip.src, ip.dst, kProtoUdp, length); });
}

Parsed<IcmpMessage> parse_icmp_body(std::span<const uint8_t> b, uint32_t pseudo_sum) {
  if (b.size() < 8) return std::unexpected(Drop::kBadIcmp);
  if (checksum_finish(checksum_add(b, pseudo_sum)) != 0) return std::unexpected(Drop::kBadIcmp);
  IcmpMessage m;
  m.type = b[0];
  m.code = b[1];
  m.rest = be32(b, 4);
  m.body = b.subspan(8);
  m.message = b;
  return m;
}

// ICMP has no pseudo-header.
Parsed<IcmpMessage> parse_icmp(const Ipv4Packet& ip) { return parse_icmp_body(ip.payload, 0); }

Parsed<IcmpQuote> parse_icmp_quote(std::span<const uint8_t> body) {
  // The quoted header is not checked as a received one would be (its
  // checksum may have been rewritten on the way); only its lengths, so
  // that the ports read are within it.
  if (body.size() < kIpv4MinHeader || (body[0] >> 4) != 4) return std::unexpected(Drop::kBadIcmp);
  const size_t header_length = size_t{body[0] & 0xfu} * 4;
  if (header_length < kIpv4MinHeader || header_length + 8 > body.size()) return std::unexpected(Drop::kBadIcmp);
  IcmpQuote q;
  q.protocol = body[9];
  q.src = be32(body, 12);
  q.dst = be32(body, 16);
  q.src_port = be16(body, header_length);
  q.dst_port = be16(body, header_length + 2);
  q.tcp_seq = be32(body, header_length + 4);
  return q;
}

std::vector<uint8_t> build_ipv4(const Ipv4Fields& f, std::span<const uint8_t> payload) {
  std::vector<uint8_t> p(kIpv4MinHeader + payload.size());
  p[0] = 0x45;
  p[1] = f.tos;
  put16(p, 2, static_cast<uint16_t>(p.size()));
  put16(p, 4, f.id);
  put16(p, 6, f.dont_fragment ? 0x4000 : 0);
  p[8] = f.ttl;
  p[9] = f.protocol;
  put32(p, 12, f.src);
  put32(p, 16, f.dst);
  put16(p, 10, checksum_finish(checksum_add(std::span<const uint8_t>(p).first(kIpv4MinHeader))));
  std::copy(payload.begin(), payload.end(), p.begin() + kIpv4MinHeader);
  return p;
}

std::vector<uint8_t> udp_body(uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> data,
                              uint32_t pseudo_sum) {
  std::vector<uint8_t> u(8 + data.size());
  put16(u, 0, src_port);
  put16(u, 2, dst_port);
  put16(u, 4, static_cast<uint16_t>(u.size()));
  std::copy(data.begin(), data.end(), u.begin() + 8);
  const uint16_t sum = checksum_finish(checksum_add(u, pseudo_sum));
  put16(u, 6, sum == 0 ? 0xffff : sum);
  return u;
}

std::vector<uint8_t> icmp_body(uint8_t type, uint8_t code, uint32_t rest, std::span<const uint8_t> body,
                               uint32_t pseudo_sum) {
  std::vector<uint8_t> m(8 + body.size());
  m[0] = type;
  m[1] = code;
  put32(m, 4, rest);
  std::copy(body.begin(), body.end(), m.begin() + 8);
  put16(m, 2, checksum_finish(checksum_add(m, pseudo_sum)));
  return m;
}

std::vector<uint8_t> build_udp(const Ipv4Fields& f, uint16_t src_port, uint16_t dst_port,
                               std::span<const uint8_t> data) {
  const auto length = static_cast<uint16_t>(8 + data.size());
  Ipv4Fields ip = f;
  ip.protocol = kProtoUdp;
  return build_ipv4(ip, udp_body(src_port, dst_port, data, pseudo_header_sum_v4(f.src, f.dst, kProtoUdp, length)));
}

std::vector<uint8_t> build_icmp(const Ipv4Fields& f, uint8_t type, uint8_t code, uint32_t rest,
                                std::span<const uint8_t> body) {
  Ipv4Fields ip = f;
  ip.protocol = kProtoIcmp;
  return build_ipv4(ip, icmp_body(type, code, rest, body, 0));
}

}  // namespace runsc::netstack::inet
