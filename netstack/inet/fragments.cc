#include "netstack/inet/fragments.h"

#include <algorithm>

#include "netstack/inet/checksum.h"

namespace runsc::netstack::inet {
namespace {

constexpr size_t kMaxDatagram = 65535;

void set_header_fields(std::vector<uint8_t>& p, size_t header_length, size_t total_length, uint16_t fragment_field) {
  p[2] = static_cast<uint8_t>(total_length >> 8);
  p[3] = static_cast<uint8_t>(total_length);
  p[6] = static_cast<uint8_t>(fragment_field >> 8);
  p[7] = static_cast<uint8_t>(fragment_field);
  p[10] = p[11] = 0;
  const uint16_t sum = checksum_finish(checksum_add(std::span<const uint8_t>(p).first(header_length)));
  p[10] = static_cast<uint8_t>(sum >> 8);
  p[11] = static_cast<uint8_t>(sum);
}

}  // namespace

void Reassembler::drop_queue(std::map<Key, Pending>::iterator it) {
  held_ -= it->second.bytes;
  pending_.erase(it);
}

Reassembler::Outcome Reassembler::add(const Ipv4Packet& f, int64_t now_ns) {
  Piece p;
  p.key = Key{IpAddress::from_v4(f.src), IpAddress::from_v4(f.dst), f.id, f.protocol};
  p.offset = f.fragment_offset;
  p.more = f.more_fragments;
  p.header = f.header;
  p.payload = f.payload;
  p.received = std::span<const uint8_t>(f.header.data(), f.header.size() + f.payload.size());
  return add_piece(p, now_ns);
}

Reassembler::Outcome Reassembler::add(const Ipv6Packet& f, int64_t now_ns) {
  Piece p;
  p.key = Key{IpAddress::from_v6(f.src), IpAddress::from_v6(f.dst), f.fragment_id, 0};
  p.offset = f.fragment_offset;
  p.more = f.more_fragments;
  p.header = f.unfragmentable;
  p.payload = f.payload;
  // The unfragmentable part, the fragment header and the data are one run.
  p.received = std::span<const uint8_t>(f.unfragmentable.data(),
                                        static_cast<size_t>(f.payload.data() + f.payload.size() - f.unfragmentable.data()));
  p.v6 = true;
  p.next_field = f.fragment_next_field;
  p.next = f.protocol;
  return add_piece(p, now_ns);
}

Reassembler::Outcome Reassembler::add_piece(const Piece& f, int64_t now_ns) {
  Outcome out;
  const size_t offset = f.offset, length = f.payload.size();
  // Every fragment but the last carries a multiple of 8 bytes, and none
  // may reach past the largest datagram (the "ping of death"; IPv6's
  // limit is on the payload, after the fixed header).
  const size_t limit = f.v6 ? kMaxDatagram + 40 : kMaxDatagram;
  if ((f.more && (length == 0 || length % 8 != 0)) || f.header.size() + offset + length > limit) {
    out.dropped = Drop::kBadFragment;
    return out;
  }
  const Key& key = f.key;
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    // Room for one more queue: the oldest go first.
    while (held_ + length > limits_.max_bytes && !pending_.empty()) {
      auto oldest = std::min_element(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
        return a.second.started_ns < b.second.started_ns;
      });
      drop_queue(oldest);
    }
    if (length > limits_.max_bytes) {
      out.dropped = Drop::kFragmentMemory;
      return out;
    }
    it = pending_.emplace(key, Pending{}).first;
    it->second.started_ns = now_ns;
    it->second.v6 = f.v6;
  } else if (held_ + length > limits_.max_bytes) {
    drop_queue(it);
    out.dropped = Drop::kFragmentMemory;
    return out;
  }
  Pending& q = it->second;
  if (!f.more) {
    const size_t total = offset + length;
    // A second last fragment must agree, and nothing may lie beyond it.
    if ((q.total != 0 && q.total != total) ||
        (!q.pieces.empty() && q.pieces.rbegin()->first + q.pieces.rbegin()->second.size() > total)) {
      drop_queue(it);
      out.dropped = Drop::kFragmentOverlap;
      return out;
    }
    q.total = total;
  } else if (q.total != 0 && offset + length > q.total) {
    drop_queue(it);
    out.dropped = Drop::kFragmentOverlap;
    return out;
  }
  // Its neighbours: the piece at or before it, and the one after.
  auto next = q.pieces.lower_bound(offset);
  if (next != q.pieces.end() && next->first == offset && next->second.size() == length) {
    out.dropped = Drop::kFragmentDuplicate;  // the same bytes again: ignored
    return out;
  }
  if (next != q.pieces.end() && next->first < offset + length) {
    drop_queue(it);
    out.dropped = Drop::kFragmentOverlap;
    return out;
  }
  if (next != q.pieces.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size() > offset) {
      drop_queue(it);
      out.dropped = Drop::kFragmentOverlap;
      return out;
    }
  }
  q.pieces.emplace(offset, std::vector<uint8_t>(f.payload.begin(), f.payload.end()));
  q.bytes += length;
  held_ += length;
  if (offset == 0) {
    q.first.assign(f.received.begin(), f.received.end());
    q.first_header = f.header.size();
    q.v6 = f.v6;
    q.next_field = f.next_field;
    q.next = f.next;
    q.bytes += q.first.size();
    held_ += q.first.size();
  }
  // Complete: the first and last are here and the pieces leave no hole.
  if (q.total == 0 || q.first.empty()) return out;
  size_t covered = 0;
  for (const auto& [at, piece] : q.pieces) {
    if (at != covered) return out;
    covered += piece.size();
  }
  if (covered != q.total) return out;
  std::vector<uint8_t> whole(q.first.begin(), q.first.begin() + static_cast<long>(q.first_header));
  for (const auto& [at, piece] : q.pieces) whole.insert(whole.end(), piece.begin(), piece.end());
  if (q.v6) {
    // The payload length after the fixed header, and the header that
    // named the fragment header now names what it carried.
    const size_t payload = whole.size() - 40;
    whole[4] = static_cast<uint8_t>(payload >> 8);
    whole[5] = static_cast<uint8_t>(payload);
    if (q.next_field < q.first_header) whole[q.next_field] = q.next;
  } else {
    set_header_fields(whole, q.first_header, whole.size(), 0);
  }
  drop_queue(it);
  out.complete = std::move(whole);
  return out;
}

std::vector<std::vector<uint8_t>> Reassembler::expire(int64_t now_ns) {
  std::vector<std::vector<uint8_t>> firsts;
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto here = it++;
    const int64_t timeout = here->second.v6 ? limits_.timeout_v6_ns : limits_.timeout_ns;
    if (now_ns - here->second.started_ns < timeout) continue;
    if (!here->second.first.empty()) firsts.push_back(std::move(here->second.first));
    drop_queue(here);
  }
  return firsts;
}

std::vector<std::vector<uint8_t>> fragment_ipv4(const std::vector<uint8_t>& packet, size_t mtu) {
  if (packet.size() <= mtu) return {packet};
  const size_t header = size_t{packet[0] & 0xfu} * 4;
  // Each fragment's payload: as much as fits, rounded down to 8 bytes.
  const size_t room = (mtu - header) & ~size_t{7};
  std::vector<std::vector<uint8_t>> out;
  const size_t payload = packet.size() - header;
  for (size_t at = 0; at < payload; at += room) {
    const size_t n = std::min(room, payload - at);
    std::vector<uint8_t> frag(packet.begin(), packet.begin() + static_cast<long>(header));
    frag.insert(frag.end(), packet.begin() + static_cast<long>(header + at),
                packet.begin() + static_cast<long>(header + at + n));
    const bool more = at + n < payload;
    set_header_fields(frag, header, frag.size(), static_cast<uint16_t>((more ? 0x2000 : 0) | (at / 8)));
    out.push_back(std::move(frag));
  }
  return out;
}

}  // namespace runsc::netstack::inet
