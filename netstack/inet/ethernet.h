// Ethernet II framing and ARP (RFC 826) for IPv4 over Ethernet: the link
// endpoint of an interface whose frames go through a FrameDevice (an
// AF_PACKET socket on the container's veth; a test double in tests). It
// resolves each IPv4 next hop with ARP, queueing packets meanwhile,
// answers requests for the stack's addresses, and gives up on a neighbour
// after three unanswered requests a second apart (Linux's mcast_solicit
// and retrans_time), which the stack reports to local senders as an ICMP
// host unreachable (EHOSTUNREACH on a connected socket). IPv6 next hops
// the same way with Neighbor Discovery (RFC 4861): solicitations to the
// target's solicited-node group, advertisements answering those for the
// stack's addresses, hop limit 255 required of both. (No duplicate
// address detection, router discovery or redirects yet.)
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "netstack/inet/stack.h"

namespace runsc::netstack::inet {

using Mac = std::array<uint8_t, 6>;
constexpr Mac kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr uint16_t kEtherIpv4 = 0x0800, kEtherArp = 0x0806, kEtherIpv6 = 0x86dd;

struct EthernetFrame {
  Mac dst{}, src{};
  uint16_t type = 0;
  std::span<const uint8_t> payload;
};
Parsed<EthernetFrame> parse_ethernet(std::span<const uint8_t> frame);
std::vector<uint8_t> build_ethernet(const Mac& dst, const Mac& src, uint16_t type, std::span<const uint8_t> payload);

constexpr uint16_t kArpRequest = 1, kArpReply = 2;
constexpr uint8_t kNdpNeighborSolicitation = 135, kNdpNeighborAdvertisement = 136;
constexpr uint8_t kNdpSourceLinkAddress = 1, kNdpTargetLinkAddress = 2;
struct ArpPacket {
  uint16_t op = 0;
  Mac sender_mac{};
  uint32_t sender_ip = 0;
  Mac target_mac{};
  uint32_t target_ip = 0;
};
// Only IPv4 over Ethernet (hardware type 1, protocol 0x0800, lengths 6 and 4).
Parsed<ArpPacket> parse_arp(std::span<const uint8_t> payload);
std::vector<uint8_t> build_arp(const ArpPacket& p);

// Where an Ethernet link's frames go out.
class FrameDevice {
 public:
  virtual ~FrameDevice() = default;
  virtual Result<void> send_frame(std::vector<uint8_t> frame) = 0;
};

class EthernetEndpoint final : public LinkEndpoint {
 public:
  EthernetEndpoint(Mac mac, uint32_t mtu, std::unique_ptr<FrameDevice> device);
  uint32_t mtu() const override { return mtu_; }
  Result<void> write(std::vector<uint8_t> packet, const IpAddress& next_hop) override;
  void attach(Stack* stack, int nic) override;

  // A frame the device received.
  void receive_frame(std::span<const uint8_t> frame);
  // Retries and failures of ARP requests; the Sentry calls it on a timer,
  // tests after moving their clock.
  void tick();
  // The clock it times by (CLOCK_MONOTONIC by default).
  void set_clock(std::function<int64_t()> now_ns);

  const Mac& mac() const { return mac_; }
  // Counters.
  uint64_t frames_dropped() const { return frames_dropped_.load(); }
  uint64_t arp_requests_sent() const { return arp_requests_.load(); }
  // The neighbour's address, if resolved.
  std::optional<Mac> neighbour(const IpAddress& ip) const;

  static constexpr int kMaxProbes = 3;                      // net.ipv4.neigh.*.mcast_solicit
  static constexpr int64_t kRetransNs = 1'000'000'000;      // retrans_time_ms
  static constexpr int64_t kReachableNs = 30'000'000'000;   // base_reachable_time
  static constexpr size_t kPendingBytes = 212992;           // unres_qlen_bytes

 private:
  struct Neighbour {
    bool resolved = false;
    Mac mac{};
    int64_t updated_ns = 0;  // resolved: when; unresolved: the last request
    int probes = 0;
    std::deque<std::vector<uint8_t>> pending;
    size_t pending_bytes = 0;
  };
  std::vector<uint8_t> solicit_locked(const IpAddress& target);
  std::optional<IpAddress> own_address(bool v6) const;
  // Neighbor Discovery messages (ICMPv6 135/136), handled here, not by
  // the stack: true if `payload` was one.
  bool handle_ndp(std::span<const uint8_t> payload, std::vector<std::vector<uint8_t>>& out);
  void learn_locked(const IpAddress& ip, const Mac& mac, bool create, std::vector<std::vector<uint8_t>>& out);

  const Mac mac_;
  const uint32_t mtu_;
  std::unique_ptr<FrameDevice> device_;
  Stack* stack_ = nullptr;
  int nic_ = -1;
  std::function<int64_t()> clock_;
  mutable std::mutex mu_;
  std::map<IpAddress, Neighbour> neighbours_;
  std::atomic<uint64_t> frames_dropped_{0}, arp_requests_{0};
};

}  // namespace runsc::netstack::inet
