// IPv4 fragmentation and reassembly (RFC 791, RFC 815's holes), with
// Linux's limits: a datagram of at most 65535 bytes, fragments of a
// multiple of 8 bytes except the last, a whole queue dropped when two
// fragments overlap (Linux's answer since FragmentSmack; an exact
// duplicate is only ignored), 30 s to complete (net.ipv4.ipfrag_time; 60 s
// for IPv6, ip6frag_time) and 4 MiB held at most (ipfrag_high_thresh),
// the oldest evicted first.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "netstack/inet/address.h"
#include "netstack/inet/ipv4.h"
#include "netstack/inet/ipv6.h"

namespace runsc::netstack::inet {

class Reassembler {
 public:
  struct Limits {
    size_t max_bytes = 4 << 20;
    int64_t timeout_ns = 30'000'000'000;     // net.ipv4.ipfrag_time
    int64_t timeout_v6_ns = 60'000'000'000;  // net.ipv6.ip6frag_time
  };
  Reassembler() = default;
  explicit Reassembler(Limits limits) : limits_(limits) {}

  struct Outcome {
    std::optional<Drop> dropped;           // the fragment (or its whole queue) was dropped
    std::vector<uint8_t> complete;         // the reassembled packet, when this fragment finished it
  };
  Outcome add(const Ipv4Packet& fragment, int64_t now_ns);
  // An IPv6 fragment (RFC 8200 4.5): the same rules, by source,
  // destination and identification; the reassembled packet is the first
  // fragment's unfragmentable part, without the fragment header, and the
  // fragments' data.
  Outcome add(const Ipv6Packet& fragment, int64_t now_ns);

  // Queues older than the timeout go. For each that had its first
  // fragment, that fragment's bytes (header and payload), to be quoted by
  // an ICMP "fragment reassembly time exceeded" (RFC 792).
  std::vector<std::vector<uint8_t>> expire(int64_t now_ns);

  size_t bytes_held() const { return held_; }
  size_t queues() const { return pending_.size(); }

 private:
  struct Key {
    IpAddress src, dst;
    uint32_t id;
    uint8_t protocol;  // IPv4's; 0 for IPv6, whose key has none
    auto operator<=>(const Key&) const = default;
  };
  // What add() needs of a fragment of either version.
  struct Piece {
    Key key;
    size_t offset = 0;
    bool more = false;
    std::span<const uint8_t> header;  // kept from the first: IPv4's header, IPv6's unfragmentable part
    std::span<const uint8_t> payload;
    std::span<const uint8_t> received;  // the fragment as it came, for an ICMP error's quote
    bool v6 = false;
    size_t next_field = 0;  // IPv6: the field to set to `next` when reassembled
    uint8_t next = 0;
  };
  Outcome add_piece(const Piece& f, int64_t now_ns);
  struct Pending {
    int64_t started_ns = 0;
    std::vector<uint8_t> first;                     // the offset-0 fragment as received
    size_t first_header = 0;                        // its header length
    bool v6 = false;
    size_t next_field = 0;
    uint8_t next = 0;
    std::map<size_t, std::vector<uint8_t>> pieces;  // payload by offset
    size_t total = 0;                               // payload length, once the last fragment came
    size_t bytes = 0;
  };
  void drop_queue(std::map<Key, Pending>::iterator it);

  Limits limits_;
  std::map<Key, Pending> pending_;
  size_t held_ = 0;
};

// Splits `packet` (a whole IPv4 packet) into fragments of at most `mtu`
// bytes; the packet itself if it fits. Fragments leave DF clear.
std::vector<std::vector<uint8_t>> fragment_ipv4(const std::vector<uint8_t>& packet, size_t mtu);

}  // namespace runsc::netstack::inet
