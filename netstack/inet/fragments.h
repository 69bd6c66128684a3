// IPv4 fragmentation and reassembly (RFC 791, RFC 815's holes), with
// Linux's limits: a datagram of at most 65535 bytes, fragments of a
// multiple of 8 bytes except the last, a whole queue dropped when two
// fragments overlap (Linux's answer since FragmentSmack; an exact
// duplicate is only ignored), 30 s to complete (net.ipv4.ipfrag_time)
// and 4 MiB held at most (ipfrag_high_thresh), the oldest evicted first.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "netstack/inet/ipv4.h"

namespace runsc::netstack::inet {

class Reassembler {
 public:
  struct Limits {
    size_t max_bytes = 4 << 20;
    int64_t timeout_ns = 30'000'000'000;
  };
  Reassembler() = default;
  explicit Reassembler(Limits limits) : limits_(limits) {}

  struct Outcome {
    std::optional<Drop> dropped;           // the fragment (or its whole queue) was dropped
    std::vector<uint8_t> complete;         // the reassembled packet, when this fragment finished it
  };
  Outcome add(const Ipv4Packet& fragment, int64_t now_ns);

  // Queues older than the timeout go. For each that had its first
  // fragment, that fragment's bytes (header and payload), to be quoted by
  // an ICMP "fragment reassembly time exceeded" (RFC 792).
  std::vector<std::vector<uint8_t>> expire(int64_t now_ns);

  size_t bytes_held() const { return held_; }
  size_t queues() const { return pending_.size(); }

 private:
  struct Key {
    uint32_t src, dst;
    uint16_t id;
    uint8_t protocol;
    auto operator<=>(const Key&) const = default;
  };
  struct Pending {
    int64_t started_ns = 0;
    std::vector<uint8_t> first;                     // the offset-0 fragment as received
    size_t first_header = 0;                        // its header length
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
