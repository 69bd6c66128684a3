// The sandbox's own IPv4 stack (issue 14): interfaces over link
// endpoints, their addresses and routes, ICMP and UDP. Packets from a
// link are parsed by ipv4.h and dropped, counted, at the first thing
// wrong with them; replies and errors follow RFC 1122.
//
// Threads: any Sentry thread may call in. One mutex guards the tables and
// endpoints; it is never held while a link endpoint is written, so a
// link that delivers straight back (loopback) re-enters safely.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "netstack/inet/fragments.h"
#include "netstack/inet/ipv4.h"

namespace runsc::netstack::inet {

class Stack;

// Where an interface's packets go out. IP packets, whole: a link with a
// link-layer header (Ethernet) adds and strips it itself.
class LinkEndpoint {
 public:
  virtual ~LinkEndpoint() = default;
  virtual uint32_t mtu() const = 0;
  // Called with no lock of the stack held.
  virtual Result<void> write(std::vector<uint8_t> packet) = 0;
  // The stack the endpoint delivers incoming packets to (Stack::deliver).
  virtual void attach(Stack* stack, int nic) = 0;
};

// `lo`: every packet written comes back in as received. Delivery is
// iterative (a packet the stack sends while handling a looped one waits
// in a queue), so an exchange never deepens the stack.
class LoopbackEndpoint final : public LinkEndpoint {
 public:
  uint32_t mtu() const override { return 65536; }  // Linux's lo
  Result<void> write(std::vector<uint8_t> packet) override;
  void attach(Stack* stack, int nic) override {
    stack_ = stack;
    nic_ = nic;
  }

 private:
  Stack* stack_ = nullptr;
  int nic_ = -1;
  std::mutex mu_;
  std::deque<std::vector<uint8_t>> queue_;
  bool draining_ = false;
};

struct Endpoint4 {
  uint32_t addr = 0;  // host byte order; 0: any
  uint16_t port = 0;
  bool operator==(const Endpoint4&) const = default;
};

// A UDP socket's state in the stack.
class UdpEndpoint {
 public:
  struct Datagram {
    Endpoint4 from;
    std::vector<uint8_t> data;
  };
  // Called (without the stack's lock) when a datagram or an error arrives.
  void set_on_event(std::function<void()> fn);

  Result<void> bind(Endpoint4 local);
  // A connected socket sends there by default, takes datagrams only from
  // there, and hears of ICMP errors about what it sent (udp(7)).
  Result<void> connect(Endpoint4 remote);
  // To `to`, or the connected peer. Binds an ephemeral port first if none.
  Result<size_t> send(std::span<const uint8_t> data, std::optional<Endpoint4> to);
  // The next datagram, or EAGAIN; an error reported by ICMP comes first
  // (and once).
  Result<Datagram> receive();
  Endpoint4 local() const;
  ~UdpEndpoint();

 private:
  friend class Stack;
  explicit UdpEndpoint(Stack* stack) : stack_(stack) {}
  Stack* stack_;
  Endpoint4 local_, remote_;
  bool bound_ = false, connected_ = false;
  std::deque<Datagram> queue_;
  size_t queued_bytes_ = 0;
  int pending_error_ = 0;
  std::function<void()> on_event_;
};

class Stack {
 public:
  Stack();
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Adds an interface; returns its index (1, 2, ... as Linux's ifindex).
  int add_interface(std::string name, std::unique_ptr<LinkEndpoint> link);
  // An address with its prefix length; the prefix's route comes with it.
  Result<void> add_address(int nic, uint32_t addr, int prefix_length);
  Result<void> add_route(uint32_t destination, int prefix_length, uint32_t gateway, int nic);

  // A packet from interface `nic`'s link.
  void deliver(int nic, std::span<const uint8_t> packet);

  std::shared_ptr<UdpEndpoint> open_udp();

  // The clock fragment reassembly times out by (CLOCK_MONOTONIC by
  // default; tests set their own).
  void set_clock(std::function<int64_t()> now_ns);
  size_t reassembly_bytes_held() const;

  // Counters, for /proc/net/snmp-style reports and tests.
  uint64_t dropped(Drop reason) const { return drops_[static_cast<size_t>(reason)].load(); }
  uint64_t received() const { return received_.load(); }
  uint64_t sent() const { return sent_.load(); }
  uint64_t echo_replies_sent() const { return echo_replies_.load(); }

  // The receive buffer of a UDP endpoint (net.core.rmem_default).
  static constexpr size_t kUdpReceiveBuffer = 212992;

 private:
  friend class UdpEndpoint;
  struct Interface {
    std::string name;
    std::unique_ptr<LinkEndpoint> link;
    std::vector<std::pair<uint32_t, int>> addresses;  // (address, prefix length)
  };
  struct Route {
    uint32_t destination;
    int prefix_length;
    uint32_t gateway;  // 0: on-link
    int nic;
  };
  struct OutPacket {
    LinkEndpoint* link = nullptr;
    std::vector<uint8_t> packet;
  };

  void count(Drop reason) { drops_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed); }
  bool is_local_locked(uint32_t addr) const;
  // The interface and source address for `dst`; ENETUNREACH without a route.
  Result<std::pair<Interface*, uint32_t>> route_locked(uint32_t dst, uint32_t preferred_src);
  Result<OutPacket> prepare_locked(uint32_t src, uint32_t dst, std::vector<uint8_t> packet_without_src);
  Result<void> send_out(OutPacket out);

  void dispatch_locked(const Ipv4Packet& ip, std::vector<OutPacket>& replies,
                       std::vector<std::function<void()>>& wake);
  void handle_udp_locked(const Ipv4Packet& ip, std::vector<OutPacket>& replies,
                         std::vector<std::function<void()>>& wake);
  void handle_icmp_locked(const Ipv4Packet& ip, std::vector<OutPacket>& replies,
                          std::vector<std::function<void()>>& wake);
  void icmp_error_locked(const Ipv4Packet& offending, uint8_t type, uint8_t code, std::vector<OutPacket>& replies);

  Result<void> udp_bind_locked(UdpEndpoint& e, Endpoint4 local);
  void udp_forget_locked(UdpEndpoint& e);
  UdpEndpoint* udp_lookup_locked(uint32_t dst, uint16_t dst_port, uint32_t src, uint16_t src_port);

  mutable std::mutex mu_;
  std::map<int, Interface> interfaces_;
  std::vector<Route> routes_;
  std::multimap<uint16_t, UdpEndpoint*> udp_ports_;  // by local port
  Reassembler reassembler_;
  std::function<int64_t()> clock_;
  uint16_t next_ephemeral_ = 32768;
  uint16_t next_id_ = 1;
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Drop::kCount)> drops_{};
  std::atomic<uint64_t> received_{0}, sent_{0}, echo_replies_{0};
};

}  // namespace runsc::netstack::inet
