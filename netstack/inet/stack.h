// The sandbox's own IP stack (issue 14): interfaces over link endpoints,
// their IPv4 and IPv6 addresses and routes, ICMP, ICMPv6 and UDP. Packets
// from a link are parsed by ipv4.h/ipv6.h and dropped, counted, at the
// first thing wrong with them; replies and errors follow RFC 1122 and
// RFC 4443.
//
// Threads: any Sentry thread may call in. One (recursive) mutex guards the
// tables and endpoints; it is never held while a link endpoint is written,
// so a link that delivers straight back (loopback) re-enters safely.
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
#include "netstack/inet/address.h"
#include "netstack/inet/fragments.h"
#include "netstack/inet/ipv4.h"
#include "netstack/inet/ipv6.h"
#include "netstack/inet/tcp.h"
#include "netstack/inet/tcp_wire.h"

namespace runsc::netstack::inet {

class Stack;

// Where an interface's packets go out. IP packets, whole: a link with a
// link-layer header (Ethernet) adds and strips it itself.
class LinkEndpoint {
 public:
  virtual ~LinkEndpoint() = default;
  virtual uint32_t mtu() const = 0;
  // Called with no lock of the stack held. `next_hop` is the neighbour
  // the packet goes to on this link (the destination, or the route's
  // gateway), for a link that must resolve it (ARP, NDP).
  virtual Result<void> write(std::vector<uint8_t> packet, const IpAddress& next_hop) = 0;
  // The stack the endpoint delivers incoming packets to (Stack::deliver).
  virtual void attach(Stack* stack, int nic) = 0;
};

// `lo`: every packet written comes back in as received. Delivery is
// iterative (a packet the stack sends while handling a looped one waits
// in a queue), so an exchange never deepens the stack.
class LoopbackEndpoint final : public LinkEndpoint {
 public:
  uint32_t mtu() const override { return 65536; }  // Linux's lo
  Result<void> write(std::vector<uint8_t> packet, const IpAddress& next_hop) override;
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

// A UDP socket's state in the stack, of one family.
class UdpEndpoint {
 public:
  struct Datagram {
    Endpoint from;
    std::vector<uint8_t> data;
  };
  // Called (without the stack's lock) when a datagram or an error arrives.
  void set_on_event(std::function<void()> fn);

  Result<void> bind(Endpoint local);
  // A connected socket sends there by default, takes datagrams only from
  // there, and hears of ICMP errors about what it sent (udp(7)).
  Result<void> connect(Endpoint remote);
  // To `to`, or the connected peer. Binds an ephemeral port first if none.
  Result<size_t> send(std::span<const uint8_t> data, std::optional<Endpoint> to);
  // The next datagram, or EAGAIN; an error reported by ICMP comes first
  // (and once).
  Result<Datagram> receive();
  Endpoint local() const;
  bool v6() const { return v6_; }
  ~UdpEndpoint();

 private:
  friend class Stack;
  UdpEndpoint(Stack* stack, bool v6) : stack_(stack), v6_(v6), local_(IpAddress::any(v6), 0) {}
  Stack* stack_;
  bool v6_;
  Endpoint local_, remote_;
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
  Result<void> add_address(int nic, IpAddress addr, int prefix_length);
  Result<void> add_route(IpAddress destination, int prefix_length, IpAddress gateway, int nic);

  // A packet from interface `nic`'s link.
  void deliver(int nic, std::span<const uint8_t> packet);
  // Timers: TCP retransmission and TIME_WAIT. Called periodically (the
  // Sentry's timer thread; tests after moving their clock).
  void tick();

  std::shared_ptr<UdpEndpoint> open_udp(bool v6 = false);
  std::shared_ptr<TcpEndpoint> open_tcp(bool v6 = false);

  // For link endpoints: whether an address is the stack's, an interface's
  // first address of a family, and packets a link could not deliver (its
  // neighbour never answered), each reported to its local sender with an
  // ICMP host unreachable, as Linux's neighbour code does.
  bool owns(const IpAddress& addr) const;
  std::optional<IpAddress> address_of(int nic, bool v6) const;
  void report_unreachable(const std::vector<std::vector<uint8_t>>& packets);

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
  friend class TcpEndpoint;
  struct TcpKey {
    IpAddress local_addr, remote_addr;
    uint16_t local_port = 0, remote_port = 0;
    auto operator<=>(const TcpKey&) const = default;
  };
  struct Interface {
    std::string name;
    std::unique_ptr<LinkEndpoint> link;
    std::vector<std::pair<IpAddress, int>> addresses;  // (address, prefix length)
  };
  struct Route {
    IpAddress destination;
    int prefix_length;
    IpAddress gateway;  // unspecified: on-link
    int nic;
  };
  struct OutPacket {
    LinkEndpoint* link = nullptr;
    std::vector<uint8_t> packet;
    IpAddress next_hop;
  };
  struct RouteChoice {
    Interface* itf = nullptr;
    IpAddress src;       // the source address to use
    IpAddress next_hop;  // the destination, or the gateway
  };
  // What the upper layers need of a received packet, either family.
  struct InPacket {
    IpAddress src, dst;
    uint8_t protocol = 0;
    std::span<const uint8_t> payload;
    const Ipv4Packet* v4 = nullptr;
    const Ipv6Packet* v6 = nullptr;
    std::span<const uint8_t> whole;  // header and payload, for an ICMP error's quote
  };
  static InPacket in_packet(const Ipv4Packet& p);
  static InPacket in_packet(const Ipv6Packet& p, std::span<const uint8_t> bytes);
  // An IP packet of either family (src's) carrying `payload`; and an
  // ICMP or ICMPv6 message in one.
  std::vector<uint8_t> ip_packet_locked(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                        std::span<const uint8_t> payload, bool dont_fragment = true);
  std::vector<uint8_t> icmp_packet_locked(const IpAddress& src, const IpAddress& dst, uint8_t type, uint8_t code,
                                          uint32_t rest, std::span<const uint8_t> body);
  using Replies = std::vector<OutPacket>;
  using Wakes = std::vector<std::function<void()>>;

  void count(Drop reason) { drops_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed); }
  bool is_local_locked(const IpAddress& addr) const;
  // The interface and source address for `dst`; ENETUNREACH without a route.
  Result<RouteChoice> route_locked(const IpAddress& dst, const IpAddress& preferred_src);
  Result<void> send_out(OutPacket out);

  void deliver_v4(std::span<const uint8_t> packet, Replies& replies, Wakes& wake);
  void deliver_v6(std::span<const uint8_t> packet, Replies& replies, Wakes& wake);
  void dispatch_locked(const InPacket& in, Replies& replies, Wakes& wake);
  // Datagrams whose fragments did not all come in time: each whose first
  // fragment came gets a "fragment reassembly time exceeded" (ICMP or
  // ICMPv6, code 1), as Linux's ip_expire() and ip6_frag_expire() send.
  void expire_fragments_locked(int64_t now, Replies& replies);
  void handle_udp_locked(const InPacket& in, Replies& replies, Wakes& wake);
  void handle_tcp_locked(const InPacket& in, Replies& replies, Wakes& wake);
  void tcp_reset_for_locked(const InPacket& in, const TcpSegment& segment, Replies& replies);
  void tcp_send_locked(TcpEndpoint& e, uint8_t flags, uint32_t seq, std::span<const uint8_t> data, Replies& replies);
  void tcp_output_locked(TcpEndpoint& e, Replies& replies);
  void tcp_input_locked(const std::shared_ptr<TcpEndpoint>& e, const TcpSegment& s, Replies& replies, Wakes& wake);
  void tcp_set_closed_locked(TcpEndpoint& e, int error, Wakes& wake);
  Result<void> tcp_bind_locked(TcpEndpoint& e, Endpoint local);
  void tcp_forget_locked(TcpEndpoint& e);
  void tcp_expire_locked(int64_t now);
  void tcp_arm_locked(TcpEndpoint& e);
  void tcp_timeout_locked(const std::shared_ptr<TcpEndpoint>& e, int64_t now, Replies& replies, Wakes& wake);
  void tcp_acked_locked(TcpEndpoint& e, uint32_t ack);
  void handle_icmp_locked(const InPacket& in, Replies& replies, Wakes& wake);
  void handle_icmpv6_locked(const InPacket& in, Replies& replies, Wakes& wake);
  void icmp_error_locked(const InPacket& offending, uint8_t type, uint8_t code, Replies& replies);
  // An echo request answered (RFC 792, RFC 4443 4.2): its identifier,
  // sequence and data back, from the address it was sent to.
  void echo_reply_locked(const InPacket& request, uint8_t reply_type, const IcmpMessage& icmp, Replies& replies);
  // An ICMP(v6) error about a datagram or segment we sent (its quoted
  // protocol, our and the peer's endpoints, a TCP segment's sequence).
  void transport_error_locked(uint8_t protocol, const Endpoint& local, const Endpoint& remote, uint32_t tcp_seq,
                              int error, Wakes& wake);

  // A UDP or TCP endpoint's local port in its table: the one asked for,
  // or the next free ephemeral one (`exhausted` when none is: EAGAIN for
  // UDP, EADDRNOTAVAIL for TCP, as Linux says); EADDRINUSE when another
  // of the family holds it on an overlapping address.
  template <class E>
  Result<void> bind_port_locked(std::multimap<uint16_t, E*>& table, E& e, Endpoint local, int exhausted);
  template <class E>
  void unbind_port_locked(std::multimap<uint16_t, E*>& table, E& e);
  Result<void> udp_bind_locked(UdpEndpoint& e, Endpoint local);
  void udp_forget_locked(UdpEndpoint& e);
  UdpEndpoint* udp_lookup_locked(const Endpoint& local, const Endpoint& remote);

  // Recursive: an endpoint whose last reference goes while the lock is
  // held (a connection the table dropped) takes it again in its destructor.
  mutable std::recursive_mutex mu_;
  std::map<int, Interface> interfaces_;
  std::vector<Route> routes_;
  std::multimap<uint16_t, UdpEndpoint*> udp_ports_;  // by local port
  std::multimap<uint16_t, TcpEndpoint*> tcp_ports_;  // bound TCP endpoints, by local port
  std::map<TcpKey, std::shared_ptr<TcpEndpoint>> tcp_connections_;  // kept alive by the stack until closed
  Reassembler reassembler_;
  std::function<int64_t()> clock_;
  uint16_t next_ephemeral_ = 32768;
  uint16_t next_id_ = 1;
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Drop::kCount)> drops_{};
  std::atomic<uint64_t> received_{0}, sent_{0}, echo_replies_{0};
};

}  // namespace runsc::netstack::inet
