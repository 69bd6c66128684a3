#include "netstack/inet/tcp_wire.h"

#include <algorithm>

#include "netstack/inet/checksum.h"
#include "netstack/inet/wire.h"
#include "netstack/inet/ipv6.h"

namespace runsc::netstack::inet {
namespace {

constexpr size_t kTcpMinHeader = 20;
constexpr uint8_t kOptEnd = 0, kOptNop = 1, kOptMss = 2, kOptWindowScale = 3, kOptSackPermitted = 4, kOptSack = 5,
                  kOptTimestamp = 8;


uint32_t pseudo_sum(const IpAddress& src, const IpAddress& dst, size_t length) {
  if (src.v6) return pseudo_header_sum_v6(src.v6_bytes(), dst.v6_bytes(), kProtoTcp, static_cast<uint32_t>(length));
  return pseudo_header_sum_v4(src.v4(), dst.v4(), kProtoTcp, static_cast<uint16_t>(length));
}

// RFC 9293 3.2: kind, then for all but End and NOP a length counting
// kind and length. An option with a wrong length for its kind, or running
// past the header, makes the segment malformed (Linux ignores some such
// options; dropping is the safer reading and what RFC 9293 3.1 allows:
// "a TCP implementation MUST be robust against malformed options").
bool parse_options(std::span<const uint8_t> o, TcpOptions& out) {
  size_t i = 0;
  while (i < o.size()) {
    const uint8_t kind = o[i];
    if (kind == kOptEnd) break;
    if (kind == kOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= o.size()) return false;
    const size_t length = o[i + 1];
    if (length < 2 || length > o.size() - i) return false;
    const auto body = o.subspan(i + 2, length - 2);
    switch (kind) {
      case kOptMss:
        if (length != 4) return false;
        out.mss = be16(body, 0);
        break;
      case kOptWindowScale:
        if (length != 3) return false;
        // RFC 7323 2.3: a shift above 14 is taken as 14.
        out.window_scale = std::min<uint8_t>(body[0], 14);
        break;
      case kOptSackPermitted:
        if (length != 2) return false;
        out.sack_permitted = true;
        break;
      case kOptSack:
        // 8 bytes a block, 1 to 4 blocks (RFC 2018 3).
        if ((length - 2) % 8 != 0 || length < 10 || length > 34) return false;
        out.sack.clear();
        for (size_t b = 0; b < body.size(); b += 8) out.sack.push_back({be32(body, b), be32(body, b + 4)});
        break;
      case kOptTimestamp:
        if (length != 10) return false;
        out.timestamp = std::pair{be32(body, 0), be32(body, 4)};
        break;
      default:
        break;  // unknown options are skipped by their length
    }
    i += length;
  }
  return true;
}

}  // namespace

Parsed<TcpSegment> parse_tcp(std::span<const uint8_t> b, const IpAddress& src, const IpAddress& dst) {
  if (b.size() < kTcpMinHeader) return std::unexpected(Drop::kTruncated);
  const size_t header = static_cast<size_t>(b[12] >> 4) * 4;
  if (header < kTcpMinHeader || header > b.size()) return std::unexpected(Drop::kBadTcpHeader);
  if (checksum_finish(checksum_add(b, pseudo_sum(src, dst, b.size()))) != 0)
    return std::unexpected(Drop::kBadTcpChecksum);
  TcpSegment s;
  if (!parse_options(b.subspan(kTcpMinHeader, header - kTcpMinHeader), s.options))
    return std::unexpected(Drop::kBadTcpOptions);
  s.src_port = be16(b, 0);
  s.dst_port = be16(b, 2);
  s.seq = be32(b, 4);
  s.ack = be32(b, 8);
  s.flags = b[13];
  s.window = be16(b, 14);
  s.urgent = be16(b, 18);
  s.data = b.subspan(header);
  return s;
}

std::vector<uint8_t> build_tcp(const TcpSegment& s, const IpAddress& src, const IpAddress& dst) {
  std::vector<uint8_t> options;
  auto add = [&options](std::initializer_list<uint8_t> bytes) { options.insert(options.end(), bytes); };
  if (s.options.mss) add({kOptMss, 4, static_cast<uint8_t>(*s.options.mss >> 8), static_cast<uint8_t>(*s.options.mss)});
  if (s.options.sack_permitted) add({kOptNop, kOptNop, kOptSackPermitted, 2});
  if (s.options.timestamp) {
    add({kOptNop, kOptNop, kOptTimestamp, 10});
    for (uint32_t v : {s.options.timestamp->first, s.options.timestamp->second})
      add({static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
           static_cast<uint8_t>(v)});
  }
  if (s.options.window_scale) add({kOptNop, kOptWindowScale, 3, *s.options.window_scale});
  if (!s.options.sack.empty()) {
    const size_t blocks = std::min<size_t>(s.options.sack.size(), 4);
    add({kOptNop, kOptNop, kOptSack, static_cast<uint8_t>(2 + 8 * blocks)});
    for (size_t i = 0; i < blocks; ++i) {
      for (uint32_t v : {s.options.sack[i].left, s.options.sack[i].right})
        add({static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
             static_cast<uint8_t>(v)});
    }
  }
  while (options.size() % 4) options.push_back(kOptEnd);
  const size_t header = kTcpMinHeader + std::min<size_t>(options.size(), 40);
  std::vector<uint8_t> t(header + s.data.size());
  put16(t, 0, s.src_port);
  put16(t, 2, s.dst_port);
  put32(t, 4, s.seq);
  put32(t, 8, s.ack);
  t[12] = static_cast<uint8_t>((header / 4) << 4);
  t[13] = s.flags;
  put16(t, 14, s.window);
  put16(t, 18, s.urgent);
  std::copy(options.begin(), options.begin() + static_cast<long>(header - kTcpMinHeader), t.begin() + kTcpMinHeader);
  std::copy(s.data.begin(), s.data.end(), t.begin() + static_cast<long>(header));
  put16(t, 16, checksum_finish(checksum_add(t, pseudo_sum(src, dst, t.size()))));
  return t;
}

}  // namespace runsc::netstack::inet
