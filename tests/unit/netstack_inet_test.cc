// netstack/inet: the checksum, the defensive IPv4/UDP/ICMP parsers, and
// the stack over a loopback and a capturing link endpoint.
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <random>

#include "netstack/inet/checksum.h"
#include "netstack/inet/ethernet.h"
#include "netstack/inet/fragments.h"
#include "netstack/inet/ipv4.h"
#include "netstack/inet/ipv6.h"
#include "netstack/inet/stack.h"
#include "netstack/inet/tcp_wire.h"

namespace runsc::netstack::inet {
namespace {

using Bytes = std::vector<uint8_t>;

// A link that keeps what the stack writes, for the test to look at.
class CaptureEndpoint final : public LinkEndpoint {
 public:
  explicit CaptureEndpoint(std::vector<Bytes>* out) : out_(out) {}
  uint32_t mtu() const override { return 1500; }
  Result<void> write(std::vector<uint8_t> packet, const IpAddress&) override {
    out_->push_back(std::move(packet));
    return {};
  }
  void attach(Stack*, int) override {}

 private:
  std::vector<Bytes>* out_;
};

constexpr uint32_t kLocalhost = ipv4(127, 0, 0, 1);
constexpr uint32_t kOurs = ipv4(10, 0, 0, 2), kPeer = ipv4(10, 0, 0, 1);

struct Net {
  Stack stack;
  std::vector<Bytes> wire;  // what went out on eth0
  int lo = 0, eth0 = 0;
  Net() {
    lo = stack.add_interface("lo", std::make_unique<LoopbackEndpoint>());
    EXPECT_TRUE(stack.add_address(lo, IpAddress::from_v4(kLocalhost), 8));
    EXPECT_TRUE(stack.add_address(lo, IpAddress::from_v6(ipv6_loopback()), 128));
    eth0 = stack.add_interface("eth0", std::make_unique<CaptureEndpoint>(&wire));
    EXPECT_TRUE(stack.add_address(eth0, IpAddress::from_v4(kOurs), 24));
  }
};

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const Bytes data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_finish(checksum_add(data)), static_cast<uint16_t>(~0xddf2));
  // An odd length pads with a zero byte.
  const Bytes odd = {0x01};
  EXPECT_EQ(checksum_finish(checksum_add(odd)), static_cast<uint16_t>(~0x0100));
}

TEST(Ipv4ParseTest, ABuiltPacketParsesBack) {
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  f.id = 77;
  const Bytes data = {'h', 'i'};
  Bytes p = build_udp(f, 1234, 53, data);
  auto ip = parse_ipv4(p);
  ASSERT_TRUE(ip) << drop_name(ip.error());
  EXPECT_EQ(ip->src, kPeer);
  EXPECT_EQ(ip->dst, kOurs);
  EXPECT_EQ(ip->protocol, kProtoUdp);
  EXPECT_EQ(ip->ttl, 64);
  EXPECT_TRUE(ip->dont_fragment);
  auto udp = parse_udp(*ip);
  ASSERT_TRUE(udp) << drop_name(udp.error());
  EXPECT_EQ(udp->src_port, 1234);
  EXPECT_EQ(udp->dst_port, 53);
  EXPECT_EQ(Bytes(udp->data.begin(), udp->data.end()), data);
  // Link padding after the total length is not payload.
  p.resize(p.size() + 6, 0);
  auto padded = parse_ipv4(p);
  ASSERT_TRUE(padded);
  EXPECT_EQ(padded->payload.size(), 8u + data.size());
}

// Fixes the header checksum after a test changed a header byte.
void refresh_checksum(Bytes& p) {
  const size_t ihl = size_t{p[0] & 0xfu} * 4;
  p[10] = p[11] = 0;
  const uint16_t sum = checksum_finish(checksum_add(std::span<const uint8_t>(p).first(std::min(ihl, p.size()))));
  p[10] = static_cast<uint8_t>(sum >> 8);
  p[11] = static_cast<uint8_t>(sum);
}

// A parse that must fail, for `want`.
template <class T>
void ExpectDrop(const Parsed<T>& parsed, Drop want, const char* what) {
  ASSERT_FALSE(parsed) << what;
  EXPECT_EQ(parsed.error(), want) << what << ": got " << drop_name(parsed.error());
}

TEST(Ipv4ParseTest, EveryMalformationIsDroppedForItsReason) {
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  const Bytes good = build_udp(f, 1, 2, Bytes(10, 'x'));
  auto expect_drop = [](const Bytes& p, Drop want, const char* what) { ExpectDrop(parse_ipv4(p), want, what); };
  expect_drop(Bytes(good.begin(), good.begin() + 19), Drop::kTruncated, "19 bytes");
  Bytes v6 = good;
  v6[0] = 0x65;
  expect_drop(v6, Drop::kBadVersion, "version 6");
  Bytes ihl4 = good;
  ihl4[0] = 0x44;
  expect_drop(ihl4, Drop::kBadHeaderLength, "IHL 4");
  Bytes ihl15 = good;
  ihl15[0] = 0x4f;  // 60 bytes of header in a 38-byte packet
  expect_drop(ihl15, Drop::kBadHeaderLength, "IHL past the end");
  Bytes long_total = good;
  long_total[2] = 0x10;  // 4096 + ...
  refresh_checksum(long_total);
  expect_drop(long_total, Drop::kBadTotalLength, "total length past the end");
  Bytes short_total = good;
  short_total[2] = 0;
  short_total[3] = 19;
  refresh_checksum(short_total);
  expect_drop(short_total, Drop::kBadTotalLength, "total length below the header");
  Bytes bad_sum = good;
  bad_sum[8] ^= 1;  // the TTL, without fixing the checksum
  expect_drop(bad_sum, Drop::kBadChecksum, "a flipped bit");
  Bytes multicast_src = good;
  multicast_src[12] = 224;
  refresh_checksum(multicast_src);
  expect_drop(multicast_src, Drop::kBadSourceAddress, "a multicast source");
  // Options: a header of 24 bytes whose one option claims 10 bytes.
  Bytes with_option;
  for (size_t i = 0; i < good.size(); ++i) {
    if (i == 20) for (uint8_t b : {0x07, 10, 0, 0}) with_option.push_back(b);
    with_option.push_back(good[i]);
  }
  with_option[0] = 0x46;
  with_option[3] = static_cast<uint8_t>(with_option.size());
  refresh_checksum(with_option);
  expect_drop(with_option, Drop::kBadOptions, "an option running past the header");
  with_option[21] = 1;  // an option length below 2
  refresh_checksum(with_option);
  expect_drop(with_option, Drop::kBadOptions, "an option of length 1");
  with_option[20] = 1, with_option[21] = 1, with_option[22] = 1, with_option[23] = 0;  // NOP, NOP, NOP, EOL
  refresh_checksum(with_option);
  EXPECT_TRUE(parse_ipv4(with_option)) << "NOPs and the end of the list are fine";
}

TEST(Ipv4ParseTest, UdpLengthAndChecksumAreChecked) {
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  Bytes p = build_udp(f, 1, 2, Bytes(10, 'x'));
  Bytes bad = p;
  bad[20 + 8] ^= 0xff;  // a data byte
  auto ip = parse_ipv4(bad);
  ASSERT_TRUE(ip);
  auto udp = parse_udp(*ip);
  ASSERT_FALSE(udp);
  EXPECT_EQ(udp.error(), Drop::kBadUdpChecksum);
  // With no checksum (zero), the same bytes are taken.
  bad[20 + 6] = bad[20 + 7] = 0;
  ip = parse_ipv4(bad);
  EXPECT_TRUE(parse_udp(*ip));
  Bytes long_len = p;
  long_len[20 + 5] = 200;
  ip = parse_ipv4(long_len);
  ASSERT_TRUE(ip);
  EXPECT_EQ(parse_udp(*ip).error(), Drop::kBadUdpLength);
}

TEST(StackTest, UdpOverLoopback) {
  Net net;
  auto server = net.stack.open_udp();
  auto client = net.stack.open_udp();
  ASSERT_TRUE(server->bind({kLocalhost, 5000}));
  const Bytes hello = {'h', 'e', 'l', 'l', 'o'};
  auto sent = client->send(hello, Endpoint{kLocalhost, 5000});
  ASSERT_TRUE(sent) << strerror(sent.error());
  auto got = server->receive();
  ASSERT_TRUE(got) << strerror(got.error());
  EXPECT_EQ(got->data, hello);
  EXPECT_EQ(got->from.addr, IpAddress::from_v4(kLocalhost));
  EXPECT_GE(got->from.port, 32768) << "an ephemeral port from ip_local_port_range";
  EXPECT_EQ(got->from.port, client->local().port);
  // And back, to the address it came from.
  ASSERT_TRUE(server->send(Bytes{'!'}, got->from));
  auto reply = client->receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->data, Bytes{'!'});
  EXPECT_EQ(server->receive().error(), EAGAIN) << "nothing more";
  EXPECT_TRUE(net.wire.empty()) << "loopback traffic never reaches another link";
}

TEST(StackTest, PortUnreachableIsEconnrefusedOnAConnectedSocketOnly) {
  Net net;
  auto connected = net.stack.open_udp();
  ASSERT_TRUE(connected->connect({kLocalhost, 9}));
  EXPECT_EQ(connected->local().addr, IpAddress::from_v4(kLocalhost)) << "the route's source, as getsockname shows after connect";
  ASSERT_TRUE(connected->send(Bytes{'x'}, std::nullopt));
  auto r = connected->receive();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ECONNREFUSED);
  EXPECT_EQ(connected->receive().error(), EAGAIN) << "reported once";
  auto unconnected = net.stack.open_udp();
  ASSERT_TRUE(unconnected->send(Bytes{'x'}, Endpoint{kLocalhost, 9}));
  EXPECT_EQ(unconnected->receive().error(), EAGAIN) << "udp(7): unconnected sockets hear no ICMP error";
  EXPECT_EQ(net.stack.dropped(Drop::kNoUdpEndpoint), 2u);
}

TEST(StackTest, EchoRequestsAreAnswered) {
  Net net;
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  const Bytes payload = {1, 2, 3, 4, 5, 6, 7};
  const Bytes request = build_icmp(f, kIcmpEchoRequest, 0, 0x12340001, payload);
  net.stack.deliver(net.eth0, request);
  ASSERT_EQ(net.wire.size(), 1u);
  auto ip = parse_ipv4(net.wire[0]);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src, kOurs);
  EXPECT_EQ(ip->dst, kPeer);
  EXPECT_FALSE(ip->dont_fragment) << "Linux's ICMP replies leave DF clear (its ICMP socket is IP_PMTUDISC_DONT)";
  auto icmp = parse_icmp(*ip);
  ASSERT_TRUE(icmp) << "the reply's checksum is right";
  EXPECT_EQ(icmp->type, kIcmpEchoReply);
  EXPECT_EQ(icmp->rest, 0x12340001u) << "identifier and sequence";
  EXPECT_EQ(Bytes(icmp->body.begin(), icmp->body.end()), payload);
  EXPECT_EQ(net.stack.echo_replies_sent(), 1u);
}

TEST(StackTest, AClosedPortGetsAPortUnreachableQuotingThePacket) {
  Net net;
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  net.stack.deliver(net.eth0, build_udp(f, 4000, 4001, Bytes(3, 'z')));
  ASSERT_EQ(net.wire.size(), 1u);
  auto ip = parse_ipv4(net.wire[0]);
  ASSERT_TRUE(ip);
  auto icmp = parse_icmp(*ip);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type, kIcmpDestUnreachable);
  EXPECT_EQ(icmp->code, kIcmpPortUnreachable);
  auto quote = parse_icmp_quote(icmp->body);
  ASSERT_TRUE(quote);
  EXPECT_EQ(quote->src, kPeer);
  EXPECT_EQ(quote->src_port, 4000);
  EXPECT_EQ(quote->dst_port, 4001);
  // Nothing is said about an ICMP error itself (RFC 1122 3.2.2), nor about
  // a packet for another host.
  net.wire.clear();
  net.stack.deliver(net.eth0, build_icmp(f, kIcmpDestUnreachable, kIcmpPortUnreachable, 0, Bytes(28, 0)));
  Ipv4Fields elsewhere = f;
  elsewhere.dst = ipv4(10, 0, 0, 99);
  net.stack.deliver(net.eth0, build_udp(elsewhere, 1, 2, {}));
  EXPECT_TRUE(net.wire.empty());
  EXPECT_EQ(net.stack.dropped(Drop::kNotForUs), 1u);
}

TEST(StackTest, SocketErrorsFollowLinux) {
  Net net;
  auto a = net.stack.open_udp();
  auto b = net.stack.open_udp();
  ASSERT_TRUE(a->bind({0u, 6000}));
  EXPECT_EQ(b->bind({kLocalhost, 6000}).error(), EADDRINUSE) << "the wildcard holds the port";
  EXPECT_EQ(b->bind({ipv4(192, 0, 2, 1), 6001}).error(), EADDRNOTAVAIL) << "not an address of ours";
  EXPECT_EQ(b->send(Bytes{'x'}, std::nullopt).error(), EDESTADDRREQ);
  EXPECT_EQ(b->send(Bytes(70000, 'x'), Endpoint{kLocalhost, 6000}).error(), EMSGSIZE);
  EXPECT_EQ(b->send(Bytes{'x'}, Endpoint{ipv4(192, 0, 2, 1), 7}).error(), ENETUNREACH) << "no route";
  EXPECT_EQ(a->bind({0u, 6002}).error(), EINVAL) << "bound once";
  a.reset();
  EXPECT_TRUE(b->bind({kLocalhost, 6000})) << "a closed socket frees its port";
}

TEST(StackTest, AFullReceiveBufferDropsAndCounts) {
  Net net;
  auto server = net.stack.open_udp();
  auto client = net.stack.open_udp();
  ASSERT_TRUE(server->bind({kLocalhost, 7000}));
  const Bytes big(60000, 'b');
  int sent = 0;
  for (; sent < 10; ++sent) ASSERT_TRUE(client->send(big, Endpoint{kLocalhost, 7000}));
  int received = 0;
  while (server->receive()) ++received;
  EXPECT_EQ(received, static_cast<int>(Stack::kUdpReceiveBuffer / big.size()));
  EXPECT_EQ(net.stack.dropped(Drop::kQueueFull), static_cast<uint64_t>(sent - received));
}

TEST(StackTest, RandomAndMutatedPacketsAreDroppedWithoutHarm) {
  // 200,000 frames: random bytes, and valid packets with random bytes
  // changed. Each is either taken or dropped and counted; nothing breaks,
  // and a real exchange still works afterwards.
  Net net;
  auto server = net.stack.open_udp();
  ASSERT_TRUE(server->bind({0u, 53}));
  std::mt19937_64 rng(1);
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  std::vector<Bytes> seeds = {build_udp(f, 1000, 53, Bytes(20, 'q')), build_icmp(f, kIcmpEchoRequest, 0, 1, Bytes(16, 'p')),
                              build_udp(f, 1000, 9, Bytes(4, 'c'))};
  // Fragments, so that reassembly meets mutated ones too.
  Ipv4Fields fragmented = f;
  fragmented.dont_fragment = false;
  for (auto& piece : fragment_ipv4(build_udp(fragmented, 1000, 53, Bytes(3000, 'r')), 1500)) seeds.push_back(piece);
  const int kFrames = 200000;
  for (int i = 0; i < kFrames; ++i) {
    Bytes frame;
    if (i % 4 == 0) {
      frame.resize(rng() % 80);
      for (auto& b : frame) b = static_cast<uint8_t>(rng());
      if (!frame.empty() && rng() % 2) frame[0] = 0x45;
    } else {
      frame = seeds[rng() % seeds.size()];
      for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) frame[rng() % frame.size()] = static_cast<uint8_t>(rng());
      if (rng() % 8 == 0) frame.resize(rng() % frame.size());
    }
    net.stack.deliver(net.eth0, frame);
    while (server->receive()) {
    }
    net.wire.clear();
  }
  EXPECT_EQ(net.stack.received(), static_cast<uint64_t>(kFrames));
  uint64_t dropped = 0;
  for (size_t r = 0; r < static_cast<size_t>(Drop::kCount); ++r) dropped += net.stack.dropped(static_cast<Drop>(r));
  EXPECT_GT(dropped, static_cast<uint64_t>(kFrames) / 2) << "most mutations are caught";
  EXPECT_LE(net.stack.reassembly_bytes_held(), size_t{4} << 20) << "reassembly stays within its limit";
  auto client = net.stack.open_udp();
  ASSERT_TRUE(client->send(Bytes{'o', 'k'}, Endpoint{kLocalhost, 53}));
  auto got = server->receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, (Bytes{'o', 'k'}));
}

// A UDP packet of `size` data bytes, its data a counting pattern (DF
// clear, as the fragments of a locally fragmented datagram have it).
Bytes BigUdp(size_t size, uint16_t id = 9) {
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  f.id = id;
  f.dont_fragment = false;
  Bytes data(size);
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 7);
  return build_udp(f, 1111, 2222, data);
}

TEST(FragmentTest, SplitAndReassembledInAnyOrder) {
  const Bytes whole = BigUdp(4000);
  auto pieces = fragment_ipv4(whole, 1500);
  ASSERT_EQ(pieces.size(), 3u);
  for (const auto& p : pieces) {
    EXPECT_LE(p.size(), 1500u);
    auto ip = parse_ipv4(p);
    ASSERT_TRUE(ip) << "each fragment is a valid packet";
    EXPECT_FALSE(ip->dont_fragment);
  }
  for (int order = 0; order < 3; ++order) {
    std::vector<Bytes> feed = pieces;
    if (order == 1) std::reverse(feed.begin(), feed.end());
    if (order == 2) std::swap(feed[0], feed[1]);
    Reassembler r;
    Bytes done;
    for (const auto& p : feed) {
      auto out = r.add(*parse_ipv4(p), 0);
      EXPECT_FALSE(out.dropped);
      if (!out.complete.empty()) done = out.complete;
    }
    ASSERT_FALSE(done.empty()) << "order " << order;
    EXPECT_EQ(done, whole) << "order " << order << ": the same bytes, header fields restored";
    EXPECT_EQ(r.bytes_held(), 0u);
  }
}

TEST(FragmentTest, OverlapsDuplicatesAndOversizeFollowLinux) {
  const Bytes whole = BigUdp(4000);
  auto pieces = fragment_ipv4(whole, 1500);
  {
    Reassembler r;
    ASSERT_FALSE(r.add(*parse_ipv4(pieces[0]), 0).dropped);
    auto dup = r.add(*parse_ipv4(pieces[0]), 0);
    EXPECT_EQ(dup.dropped, Drop::kFragmentDuplicate) << "an exact duplicate is ignored";
    EXPECT_EQ(r.queues(), 1u);
    // A fragment starting 8 bytes into the first one's data: an overlap
    // drops the whole datagram.
    Bytes overlapping = pieces[1];
    overlapping[6] = 0x20;
    overlapping[7] = static_cast<uint8_t>(1);  // offset 8 bytes, MF
    const size_t ihl = 20;
    overlapping[10] = overlapping[11] = 0;
    const uint16_t sum = checksum_finish(checksum_add(std::span<const uint8_t>(overlapping).first(ihl)));
    overlapping[10] = static_cast<uint8_t>(sum >> 8), overlapping[11] = static_cast<uint8_t>(sum);
    EXPECT_EQ(r.add(*parse_ipv4(overlapping), 0).dropped, Drop::kFragmentOverlap);
    EXPECT_EQ(r.queues(), 0u);
    EXPECT_EQ(r.bytes_held(), 0u);
  }
  {
    // A non-final fragment whose length is not a multiple of 8.
    Bytes odd = pieces[0];
    odd.pop_back();
    odd[2] = static_cast<uint8_t>(odd.size() >> 8), odd[3] = static_cast<uint8_t>(odd.size());
    odd[10] = odd[11] = 0;
    const uint16_t sum = checksum_finish(checksum_add(std::span<const uint8_t>(odd).first(20)));
    odd[10] = static_cast<uint8_t>(sum >> 8), odd[11] = static_cast<uint8_t>(sum);
    Reassembler r;
    EXPECT_EQ(r.add(*parse_ipv4(odd), 0).dropped, Drop::kBadFragment);
  }
  {
    // The last fragment at offset 65528 with 100 bytes: past 65535.
    Bytes last = pieces[2];
    last[6] = static_cast<uint8_t>(65528 / 8 >> 8);
    last[7] = static_cast<uint8_t>(65528 / 8);
    last[10] = last[11] = 0;
    const uint16_t sum = checksum_finish(checksum_add(std::span<const uint8_t>(last).first(20)));
    last[10] = static_cast<uint8_t>(sum >> 8), last[11] = static_cast<uint8_t>(sum);
    Reassembler r;
    EXPECT_EQ(r.add(*parse_ipv4(last), 0).dropped, Drop::kBadFragment);
  }
}

TEST(FragmentTest, MemoryIsBoundedOldestFirst) {
  Reassembler r(Reassembler::Limits{4096, 30'000'000'000, 60'000'000'000});
  // First fragments of three datagrams, 1480 bytes of data each (plus
  // their kept copy): the oldest go to make room.
  for (uint16_t id = 1; id <= 3; ++id) {
    auto pieces = fragment_ipv4(BigUdp(4000, id), 1500);
    auto out = r.add(*parse_ipv4(pieces[0]), id);
    EXPECT_FALSE(out.dropped) << id;
    EXPECT_LE(r.bytes_held(), 4096u);
  }
  EXPECT_EQ(r.queues(), 1u) << "only the newest datagram is still held";
}

TEST(FragmentTest, StackReassemblesTimesOutAndFragmentsItsOwn) {
  Net net;
  int64_t now = 0;
  net.stack.set_clock([&now] { return now; });
  auto server = net.stack.open_udp();
  ASSERT_TRUE(server->bind({0u, 2222}));
  auto pieces = fragment_ipv4(BigUdp(4000), 1500);
  for (const auto& p : pieces) net.stack.deliver(net.eth0, p);
  auto got = server->receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data.size(), 4000u);
  EXPECT_EQ(got->data[3999], static_cast<uint8_t>(3999 * 7));
  // A datagram whose last fragment never comes: after 30 s, the next
  // fragment to arrive finds it expired, and an ICMP time exceeded
  // (reassembly, code 1) goes back to the sender.
  net.stack.deliver(net.eth0, fragment_ipv4(BigUdp(4000, 42), 1500)[0]);
  EXPECT_GT(net.stack.reassembly_bytes_held(), 0u);
  now += 31'000'000'000;
  net.stack.deliver(net.eth0, fragment_ipv4(BigUdp(4000, 43), 1500)[1]);
  EXPECT_EQ(net.stack.dropped(Drop::kFragmentTimeout), 1u);
  ASSERT_EQ(net.wire.size(), 1u);
  auto ip = parse_ipv4(net.wire[0]);
  ASSERT_TRUE(ip);
  auto icmp = parse_icmp(*ip);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type, kIcmpTimeExceeded);
  EXPECT_EQ(icmp->code, 1);
  // Sending 4000 bytes out of eth0 (MTU 1500): three fragments.
  net.wire.clear();
  auto client = net.stack.open_udp();
  ASSERT_TRUE(client->send(Bytes(4000, 'f'), Endpoint{kPeer, 53}));
  ASSERT_EQ(net.wire.size(), 3u);
  Reassembler check;
  Bytes whole;
  for (const auto& p : net.wire) {
    auto out = check.add(*parse_ipv4(p), 0);
    if (!out.complete.empty()) whole = out.complete;
  }
  ASSERT_FALSE(whole.empty());
  auto udp_ip = parse_ipv4(whole);
  ASSERT_TRUE(udp_ip);
  auto udp = parse_udp(*udp_ip);
  ASSERT_TRUE(udp) << "the checksum covers the whole reassembled datagram";
  EXPECT_EQ(udp->data.size(), 4000u);
}

Ipv6Address V6(std::initializer_list<uint16_t> groups) {
  Ipv6Address a{};
  size_t i = 0;
  for (uint16_t g : groups) {
    a[i++] = static_cast<uint8_t>(g >> 8);
    a[i++] = static_cast<uint8_t>(g);
  }
  return a;
}
const Ipv6Address kV6Peer = V6({0xfd00, 0, 0, 0, 0, 0, 0, 1}), kV6Ours = V6({0xfd00, 0, 0, 0, 0, 0, 0, 2});

// The Internet checksum of `all` written out plainly (words summed, the
// carries folded, complemented), to check checksum.cc by other code.
uint16_t ReferenceFold(Bytes all) {
  if (all.size() % 2) all.push_back(0);
  uint64_t sum = 0;
  for (size_t i = 0; i < all.size(); i += 2) sum += (all[i] << 8) | all[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// The checksum the long way (RFC 8200 8.1's pseudo-header, then the
// message as 16-bit words), to check the builder by other code.
uint16_t ReferenceChecksum6(const Ipv6Address& src, const Ipv6Address& dst, uint8_t next, const Bytes& message) {
  Bytes all(src.begin(), src.end());
  all.insert(all.end(), dst.begin(), dst.end());
  const uint32_t n = static_cast<uint32_t>(message.size());
  for (int shift : {24, 16, 8, 0}) all.push_back(static_cast<uint8_t>(n >> shift));
  for (uint8_t b : {uint8_t{0}, uint8_t{0}, uint8_t{0}, next}) all.push_back(b);
  all.insert(all.end(), message.begin(), message.end());
  return ReferenceFold(std::move(all));
}

TEST(Ipv6ParseTest, BuiltPacketsParseBackWithCorrectChecksums) {
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  f.flow_label = 0x12345;
  const Bytes data = {'s', 'i', 'x'};
  const Bytes p = build_udp6(f, 5353, 53, data);
  auto ip = parse_ipv6(p);
  ASSERT_TRUE(ip) << drop_name(ip.error());
  EXPECT_EQ(ip->src, kV6Peer);
  EXPECT_EQ(ip->dst, kV6Ours);
  EXPECT_EQ(ip->protocol, kProtoUdp);
  EXPECT_EQ(ip->hop_limit, 64);
  EXPECT_EQ(ip->flow_label, 0x12345u);
  auto udp = parse_udp6(*ip);
  ASSERT_TRUE(udp) << drop_name(udp.error());
  EXPECT_EQ(udp->src_port, 5353);
  EXPECT_EQ(Bytes(udp->data.begin(), udp->data.end()), data);
  // The UDP checksum field against the reference computation.
  Bytes message(p.begin() + 40, p.end());
  const uint16_t stored = static_cast<uint16_t>((message[6] << 8) | message[7]);
  message[6] = message[7] = 0;
  EXPECT_EQ(stored, ReferenceChecksum6(kV6Peer, kV6Ours, kProtoUdp, message));
  const Bytes echo = build_icmpv6(f, kIcmpv6EchoRequest, 0, 0x00070001, Bytes(13, 'e'));
  auto eip = parse_ipv6(echo);
  ASSERT_TRUE(eip);
  auto icmp = parse_icmpv6(*eip);
  ASSERT_TRUE(icmp) << drop_name(icmp.error());
  EXPECT_EQ(icmp->type, kIcmpv6EchoRequest);
  EXPECT_EQ(icmp->rest, 0x00070001u);
  Bytes emsg(echo.begin() + 40, echo.end());
  const uint16_t estored = static_cast<uint16_t>((emsg[2] << 8) | emsg[3]);
  emsg[2] = emsg[3] = 0;
  EXPECT_EQ(estored, ReferenceChecksum6(kV6Peer, kV6Ours, kNextIcmpv6, emsg));
}

// An IPv6 packet whose payload is `chain` (extension headers, then an
// upper layer), the first header's type `first`.
Bytes WithChain(uint8_t first, const Bytes& chain) {
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  f.next_header = first;
  return build_ipv6(f, chain);
}

TEST(Ipv6ParseTest, ExtensionHeadersAreWalkedWithinBounds) {
  // Hop-by-hop (a PadN of 4), destination options (Pad1 x6), a fragment
  // header (offset 16, more), then 8 bytes of UDP-ish payload: the walk
  // stops at the fragment header, whose next header is the protocol.
  const Bytes chain = {kNextDestinationOptions, 0, 1, 4, 0, 0, 0, 0,
                       kNextFragment, 0, 0, 0, 0, 0, 0, 0,
                       kProtoUdp, 0, 0x00, 0x11, 0xde, 0xad, 0xbe, 0xef,
                       1, 2, 3, 4, 5, 6, 7, 8};
  auto ip = parse_ipv6(WithChain(kNextHopByHop, chain));
  ASSERT_TRUE(ip) << drop_name(ip.error());
  EXPECT_EQ(ip->extension_headers, 3u);
  EXPECT_EQ(ip->protocol, kProtoUdp);
  EXPECT_TRUE(ip->fragment);
  EXPECT_EQ(ip->fragment_offset, 16);
  EXPECT_TRUE(ip->more_fragments);
  EXPECT_EQ(ip->fragment_id, 0xdeadbeefu);
  EXPECT_EQ(ip->payload.size(), 8u);
  EXPECT_EQ(ip->unfragmentable.size(), 40u + 16u);
  // A later fragment's bytes are not headers, whatever the fragment
  // header's next header says: these would be a malformed options header.
  const Bytes later = {kNextDestinationOptions, 0, 0x00, 0x21, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  auto fragment = parse_ipv6(WithChain(kNextFragment, later));
  ASSERT_TRUE(fragment) << drop_name(fragment.error());
  EXPECT_EQ(fragment->protocol, kNextDestinationOptions);
  EXPECT_EQ(fragment->fragment_offset, 32);
  EXPECT_EQ(fragment->payload.size(), 8u);
}

TEST(Ipv6ParseTest, EveryMalformationIsDroppedForItsReason) {
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  const Bytes good = build_udp6(f, 1, 2, Bytes(10, 'x'));
  auto expect_drop = [](const Bytes& p, Drop want, const char* what) { ExpectDrop(parse_ipv6(p), want, what); };
  expect_drop(Bytes(good.begin(), good.begin() + 39), Drop::kTruncated, "39 bytes");
  Bytes v4 = good;
  v4[0] = 0x45;
  expect_drop(v4, Drop::kBadVersion, "version 4");
  Bytes long_payload = good;
  long_payload[4] = 0x10;
  expect_drop(long_payload, Drop::kBadTotalLength, "payload length past the end");
  Bytes multicast = good;
  multicast[8] = 0xff;
  expect_drop(multicast, Drop::kBadSourceAddress, "a multicast source");
  // Nine destination options headers: more than are walked.
  Bytes storm;
  for (int i = 0; i < 9; ++i) storm.insert(storm.end(), {i == 8 ? kNextNone : kNextDestinationOptions, 0, 1, 4, 0, 0, 0, 0});
  expect_drop(WithChain(kNextDestinationOptions, storm), Drop::kBadOptions, "an extension header storm");
  // Hop-by-hop after another header.
  const Bytes late_hbh = {kNextHopByHop, 0, 1, 4, 0, 0, 0, 0, kNextNone, 0, 1, 4, 0, 0, 0, 0};
  expect_drop(WithChain(kNextDestinationOptions, late_hbh), Drop::kBadOptions, "hop-by-hop not first");
  // An option claiming more bytes than its header has.
  const Bytes long_option = {kNextNone, 0, 1, 200, 0, 0, 0, 0};
  expect_drop(WithChain(kNextDestinationOptions, long_option), Drop::kBadOptions, "an option past its header");
  // A header whose length runs past the packet.
  const Bytes long_header = {kNextNone, 5, 1, 4, 0, 0, 0, 0};
  expect_drop(WithChain(kNextDestinationOptions, long_header), Drop::kTruncated, "a header past the end");
  // UDP over IPv6 without a checksum, and a bad ICMPv6 checksum.
  Bytes no_sum = good;
  no_sum[46] = no_sum[47] = 0;
  auto ip = parse_ipv6(no_sum);
  ASSERT_TRUE(ip);
  EXPECT_EQ(parse_udp6(*ip).error(), Drop::kBadUdpChecksum);
  Bytes echo = build_icmpv6(f, kIcmpv6EchoRequest, 0, 1, Bytes(4, 'e'));
  echo.back() ^= 1;
  ip = parse_ipv6(echo);
  ASSERT_TRUE(ip);
  EXPECT_EQ(parse_icmpv6(*ip).error(), Drop::kBadIcmp);
}

TEST(Ipv6ParseTest, RandomAndMutatedPacketsNeverReadPastTheirBytes) {
  // Under ASan this is the check; here, that parsing ends for each.
  std::mt19937_64 rng(6);
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  const std::vector<Bytes> seeds = {build_udp6(f, 1, 2, Bytes(20, 'u')), build_icmpv6(f, kIcmpv6EchoRequest, 0, 1, Bytes(8, 'i')),
                                    WithChain(kNextHopByHop, {kNextFragment, 0, 1, 4, 0, 0, 0, 0, kProtoUdp, 0, 0, 1, 0, 0, 0, 9,
                                                              0, 1, 0, 2, 0, 12, 0, 0, 'a', 'b', 'c', 'd'})};
  int parsed = 0;
  for (int i = 0; i < 100000; ++i) {
    Bytes frame = seeds[rng() % seeds.size()];
    for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) frame[rng() % frame.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) frame.resize(rng() % (frame.size() + 1));
    auto ip = parse_ipv6(frame);
    if (!ip) continue;
    ++parsed;
    if (ip->protocol == kProtoUdp) (void)parse_udp6(*ip);
    if (ip->protocol == kNextIcmpv6) (void)parse_icmpv6(*ip);
  }
  EXPECT_GT(parsed, 0);
}

// A Net with IPv6 on eth0 too: fd00::2/64.
struct Net6 : Net {
  Net6() { EXPECT_TRUE(stack.add_address(eth0, IpAddress::from_v6(kV6Ours), 64)); }
};

TEST(Stack6Test, UdpOverIpv6LoopbackAndFamiliesApart) {
  Net6 net;
  auto server = net.stack.open_udp(/*v6=*/true);
  auto client = net.stack.open_udp(/*v6=*/true);
  ASSERT_TRUE(server->bind(Endpoint{ipv6_loopback(), 5000}));
  ASSERT_TRUE(client->send(Bytes{'v', '6'}, Endpoint{ipv6_loopback(), 5000}));
  auto got = server->receive();
  ASSERT_TRUE(got) << strerror(got.error());
  EXPECT_EQ(got->data, (Bytes{'v', '6'}));
  EXPECT_EQ(got->from.addr, IpAddress::from_v6(ipv6_loopback()));
  EXPECT_GE(got->from.port, 32768);
  // An IPv4 socket on the same port is another socket (no dual-stack yet),
  // and neither family sends to the other's addresses.
  auto v4 = net.stack.open_udp();
  EXPECT_TRUE(v4->bind({kLocalhost, 5000}));
  EXPECT_EQ(v4->send(Bytes{'x'}, Endpoint{ipv6_loopback(), 5000}).error(), EAFNOSUPPORT);
  EXPECT_EQ(client->send(Bytes{'x'}, Endpoint{kLocalhost, 5000}).error(), EAFNOSUPPORT);
  EXPECT_TRUE(net.wire.empty());
}

TEST(Stack6Test, EchoRequestsAreAnswered) {
  Net6 net;
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  const Bytes payload = {9, 8, 7};
  net.stack.deliver(net.eth0, build_icmpv6(f, kIcmpv6EchoRequest, 0, 0x00420003, payload));
  ASSERT_EQ(net.wire.size(), 1u);
  auto ip = parse_ipv6(net.wire[0]);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src, kV6Ours);
  EXPECT_EQ(ip->dst, kV6Peer);
  auto icmp = parse_icmpv6(*ip);
  ASSERT_TRUE(icmp) << "the reply's checksum is right";
  EXPECT_EQ(icmp->type, kIcmpv6EchoReply);
  EXPECT_EQ(icmp->rest, 0x00420003u);
  EXPECT_EQ(Bytes(icmp->body.begin(), icmp->body.end()), payload);
}

TEST(Stack6Test, ClosedPortsAndUnknownHeadersGetIcmpv6Errors) {
  Net6 net;
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  net.stack.deliver(net.eth0, build_udp6(f, 4000, 4001, Bytes(5, 'z')));
  ASSERT_EQ(net.wire.size(), 1u);
  auto ip = parse_ipv6(net.wire[0]);
  ASSERT_TRUE(ip);
  auto icmp = parse_icmpv6(*ip);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type, kIcmpv6DestUnreachable);
  EXPECT_EQ(icmp->code, kIcmpv6PortUnreachable);
  EXPECT_EQ(icmp->body.size(), 40u + 8u + 5u) << "the whole offending packet, which fits";
  // An unknown upper layer: parameter problem, code 1, pointing at byte 6.
  net.wire.clear();
  Ipv6Fields odd = f;
  odd.next_header = 253;  // RFC 3692's experimental value
  net.stack.deliver(net.eth0, build_ipv6(odd, Bytes(8, 0)));
  ASSERT_EQ(net.wire.size(), 1u);
  ip = parse_ipv6(net.wire[0]);
  ASSERT_TRUE(ip);
  icmp = parse_icmpv6(*ip);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type, kIcmpv6ParameterProblem);
  EXPECT_EQ(icmp->code, 1);
  EXPECT_EQ(icmp->rest, 6u);
  // Never an error about an ICMPv6 error.
  net.wire.clear();
  net.stack.deliver(net.eth0, build_icmpv6(f, kIcmpv6DestUnreachable, 4, 0, Bytes(48, 0)));
  EXPECT_TRUE(net.wire.empty());
}

// IPv6 fragments of `packet` (a whole IPv6 packet without extension
// headers): a fragment header after the fixed header, data cut at `size`
// bytes (a multiple of 8).
std::vector<Bytes> Fragments6(const Bytes& packet, size_t size, uint32_t id) {
  std::vector<Bytes> out;
  const uint8_t next = packet[6];
  const size_t data = packet.size() - 40;
  for (size_t at = 0; at < data; at += size) {
    const size_t n = std::min(size, data - at);
    const bool more = at + n < data;
    Bytes frag(packet.begin(), packet.begin() + 40);
    frag[6] = kNextFragment;
    const uint16_t field = static_cast<uint16_t>(at | (more ? 1 : 0));
    frag.insert(frag.end(), {next, 0, static_cast<uint8_t>(field >> 8), static_cast<uint8_t>(field),
                             static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8),
                             static_cast<uint8_t>(id)});
    frag.insert(frag.end(), packet.begin() + 40 + static_cast<long>(at), packet.begin() + 40 + static_cast<long>(at + n));
    frag[4] = static_cast<uint8_t>((frag.size() - 40) >> 8);
    frag[5] = static_cast<uint8_t>(frag.size() - 40);
    out.push_back(std::move(frag));
  }
  return out;
}

TEST(Stack6Test, FragmentsAreReassembledOrTimeOut) {
  Net6 net;
  int64_t now = 0;
  net.stack.set_clock([&now] { return now; });
  auto server = net.stack.open_udp(true);
  ASSERT_TRUE(server->bind(Endpoint{IpAddress::any(true), 2222}));
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  Bytes data(3000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13);
  auto pieces = Fragments6(build_udp6(f, 1111, 2222, data), 1232, 77);
  ASSERT_EQ(pieces.size(), 3u);
  std::reverse(pieces.begin(), pieces.end());
  for (const auto& p : pieces) net.stack.deliver(net.eth0, p);
  auto got = server->receive();
  ASSERT_TRUE(got) << strerror(got.error());
  EXPECT_EQ(got->data, data) << "the UDP checksum covered the reassembled datagram";
  // An atomic fragment (offset 0, no more: RFC 6946) is a whole datagram.
  for (const auto& p : Fragments6(build_udp6(f, 1111, 2222, Bytes(5, 'a')), 1232, 78)) net.stack.deliver(net.eth0, p);
  EXPECT_TRUE(server->receive());
  // A first fragment alone: after 60 s (ip6frag_time, not IPv4's 30), the
  // next fragment to arrive finds it expired; ICMPv6 time exceeded, code
  // 1, goes back.
  net.wire.clear();
  net.stack.deliver(net.eth0, Fragments6(build_udp6(f, 1111, 2222, data), 1232, 79)[0]);
  now += 31'000'000'000;
  net.stack.deliver(net.eth0, Fragments6(build_udp6(f, 1111, 2222, data), 1232, 81)[1]);
  EXPECT_TRUE(net.wire.empty()) << "still within IPv6's 60 s";
  now += 30'000'000'000;
  net.stack.deliver(net.eth0, Fragments6(build_udp6(f, 1111, 2222, data), 1232, 80)[1]);
  ASSERT_EQ(net.wire.size(), 1u);
  auto ip = parse_ipv6(net.wire[0]);
  ASSERT_TRUE(ip);
  auto icmp = parse_icmpv6(*ip);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type, kIcmpv6TimeExceeded);
  EXPECT_EQ(icmp->code, 1);
}

TEST(Stack6Test, PortUnreachableIsEconnrefusedOnAConnectedSocket) {
  Net6 net;
  auto connected = net.stack.open_udp(true);
  ASSERT_TRUE(connected->connect(Endpoint{ipv6_loopback(), 9}));
  EXPECT_EQ(connected->local().addr, IpAddress::from_v6(ipv6_loopback()));
  ASSERT_TRUE(connected->send(Bytes{'x'}, std::nullopt));
  auto r = connected->receive();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ECONNREFUSED);
}

TEST(Stack6Test, RandomAndMutatedFramesAreDroppedWithoutHarm) {
  Net6 net;
  auto server = net.stack.open_udp(true);
  ASSERT_TRUE(server->bind(Endpoint{IpAddress::any(true), 53}));
  std::mt19937_64 rng(66);
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  const std::vector<Bytes> seeds = {build_udp6(f, 1000, 53, Bytes(20, 'q')), build_udp6(f, 1000, 9, Bytes(3, 'c')),
                                    build_icmpv6(f, kIcmpv6EchoRequest, 0, 1, Bytes(16, 'p')),
                                    build_icmpv6(f, kIcmpv6DestUnreachable, 4, 0, build_udp6(f, 53, 1000, Bytes(4, 'd'))),
                                    WithChain(kNextHopByHop, {kProtoUdp, 0, 1, 4, 0, 0, 0, 0, 0, 1, 0, 53, 0, 8, 0, 0})};
  const int kFrames = 100000;
  for (int i = 0; i < kFrames; ++i) {
    Bytes frame = seeds[rng() % seeds.size()];
    for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) frame[rng() % frame.size()] = static_cast<uint8_t>(rng());
    if (rng() % 8 == 0) frame.resize(rng() % (frame.size() + 1));
    net.stack.deliver(net.eth0, frame);
    while (server->receive()) {
    }
    net.wire.clear();
  }
  EXPECT_EQ(net.stack.received(), static_cast<uint64_t>(kFrames));
  auto client = net.stack.open_udp(true);
  ASSERT_TRUE(client->send(Bytes{'o', 'k'}, Endpoint{ipv6_loopback(), 53}));
  auto got = server->receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, (Bytes{'o', 'k'}));
}

// The TCP checksum the long way over an IPv4 pseudo-header.
uint16_t ReferenceTcpChecksum4(uint32_t src, uint32_t dst, Bytes segment) {
  segment[16] = segment[17] = 0;
  Bytes all;
  for (uint32_t a : {src, dst})
    for (int shift : {24, 16, 8, 0}) all.push_back(static_cast<uint8_t>(a >> shift));
  all.push_back(0);
  all.push_back(kProtoTcp);
  all.push_back(static_cast<uint8_t>(segment.size() >> 8));
  all.push_back(static_cast<uint8_t>(segment.size()));
  all.insert(all.end(), segment.begin(), segment.end());
  return ReferenceFold(std::move(all));
}

TEST(TcpWireTest, SegmentsWithEveryOptionRoundTrip) {
  const IpAddress a = IpAddress::from_v4(kPeer), b = IpAddress::from_v4(kOurs);
  TcpSegment syn;
  syn.src_port = 40000;
  syn.dst_port = 80;
  syn.seq = 0x01020304;
  syn.flags = kTcpSyn;
  syn.window = 64240;
  syn.options.mss = 1460;
  syn.options.sack_permitted = true;
  syn.options.timestamp = std::pair{111u, 0u};
  syn.options.window_scale = 7;
  const Bytes wire = build_tcp(syn, a, b);
  EXPECT_EQ(wire.size() % 4, 0u);
  EXPECT_EQ(static_cast<uint16_t>((wire[16] << 8) | wire[17]), ReferenceTcpChecksum4(kPeer, kOurs, wire));
  auto got = parse_tcp(wire, a, b);
  ASSERT_TRUE(got) << drop_name(got.error());
  EXPECT_EQ(got->src_port, 40000);
  EXPECT_EQ(got->seq, 0x01020304u);
  EXPECT_EQ(got->flags, kTcpSyn);
  EXPECT_EQ(got->window, 64240);
  EXPECT_EQ(got->options.mss, 1460);
  EXPECT_TRUE(got->options.sack_permitted);
  EXPECT_EQ(got->options.timestamp, (std::pair{111u, 0u}));
  EXPECT_EQ(got->options.window_scale, 7);
  EXPECT_TRUE(got->data.empty());
  // Over IPv6, with data and SACK blocks.
  const IpAddress a6 = IpAddress::from_v6(kV6Peer), b6 = IpAddress::from_v6(kV6Ours);
  TcpSegment data;
  data.src_port = 1;
  data.dst_port = 2;
  data.seq = 10;
  data.ack = 20;
  data.flags = kTcpAck | kTcpPsh;
  data.options.sack = {{100, 200}, {300, 400}, {500, 600}};
  const Bytes payload = {'d', 'a', 't', 'a', '!'};
  data.data = payload;
  const Bytes wire6 = build_tcp(data, a6, b6);
  auto got6 = parse_tcp(wire6, a6, b6);
  ASSERT_TRUE(got6) << drop_name(got6.error());
  EXPECT_EQ(got6->options.sack, data.options.sack);
  EXPECT_EQ(Bytes(got6->data.begin(), got6->data.end()), payload);
  EXPECT_FALSE(parse_tcp(wire6, a6, IpAddress::from_v6(kV6Peer))) << "the pseudo-header's addresses count";
}

TEST(TcpWireTest, MalformedSegmentsAreDroppedForTheirReason) {
  const IpAddress a = IpAddress::from_v4(kPeer), b = IpAddress::from_v4(kOurs);
  TcpSegment s;
  s.src_port = 1;
  s.dst_port = 2;
  s.flags = kTcpAck;
  const Bytes plain = build_tcp(s, a, b);
  // Re-checksums a changed segment so only the change is wrong.
  auto fix = [&](Bytes seg) {
    seg[16] = seg[17] = 0;
    const uint16_t sum = ReferenceTcpChecksum4(kPeer, kOurs, seg);
    seg[16] = static_cast<uint8_t>(sum >> 8), seg[17] = static_cast<uint8_t>(sum);
    return seg;
  };
  auto drop = [&](const Bytes& seg) {
    auto r = parse_tcp(seg, a, b);
    return r ? std::string("accepted") : std::string(drop_name(r.error()));
  };
  EXPECT_EQ(drop(Bytes(plain.begin(), plain.begin() + 19)), "truncated");
  Bytes small_offset = plain;
  small_offset[12] = 4 << 4;
  EXPECT_EQ(drop(fix(small_offset)), "bad_tcp_header");
  Bytes big_offset = plain;
  big_offset[12] = 15 << 4;
  EXPECT_EQ(drop(fix(big_offset)), "bad_tcp_header");
  Bytes bad_sum = plain;
  bad_sum[14] ^= 1;
  EXPECT_EQ(drop(bad_sum), "bad_tcp_checksum");
  // A 24-byte header with one 4-byte option slot, filled with each case.
  auto with_option = [&](std::initializer_list<uint8_t> opt) {
    Bytes seg(plain.begin(), plain.begin() + 20);
    seg.insert(seg.end(), opt);
    while (seg.size() < 24) seg.push_back(0);
    seg[12] = 6 << 4;
    return fix(seg);
  };
  EXPECT_EQ(drop(with_option({2, 3, 5, 0})), "bad_tcp_options") << "MSS of length 3";
  EXPECT_EQ(drop(with_option({30, 9, 0, 0})), "bad_tcp_options") << "an option past the header";
  EXPECT_EQ(drop(with_option({1, 1, 1, 8})), "bad_tcp_options") << "a kind with no room for its length";
  EXPECT_EQ(drop(with_option({30, 4, 7, 7})), "accepted") << "an unknown option is skipped";
  auto scaled = parse_tcp(with_option({3, 3, 20, 0}), a, b);
  ASSERT_TRUE(scaled);
  EXPECT_EQ(scaled->options.window_scale, 14) << "RFC 7323: a shift above 14 counts as 14";
}

TEST(TcpWireTest, RandomMutationsNeverReadPastTheSegment) {
  std::mt19937_64 rng(9);
  const IpAddress a = IpAddress::from_v4(kPeer), b = IpAddress::from_v4(kOurs);
  TcpSegment s;
  s.flags = kTcpSyn;
  s.options.mss = 1400;
  s.options.sack_permitted = true;
  s.options.timestamp = std::pair{1u, 2u};
  s.options.window_scale = 3;
  const Bytes seed = build_tcp(s, a, b);
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    Bytes seg = seed;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) seg[rng() % seg.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) seg.resize(rng() % (seg.size() + 1));
    // Half of them with the checksum fixed, so the option parser is reached.
    if (seg.size() >= 20 && rng() % 2) {
      seg[16] = seg[17] = 0;
      const uint16_t sum = ReferenceTcpChecksum4(kPeer, kOurs, seg);
      seg[16] = static_cast<uint8_t>(sum >> 8), seg[17] = static_cast<uint8_t>(sum);
    }
    if (parse_tcp(seg, a, b)) ++accepted;
  }
  EXPECT_GT(accepted, 0);
}

// Two stacks on one Ethernet segment in memory: each device hands its
// frames to the other endpoint (or keeps them, when `cut`), and records
// them for the test.
struct Segment {
  struct Device final : FrameDevice {
    Segment* segment;
    int side;
    Device(Segment* s, int i) : segment(s), side(i) {}
    Result<void> send_frame(std::vector<uint8_t> frame) override {
      segment->frames[side].push_back(frame);
      EthernetEndpoint* peer = segment->ends[1 - side];
      if (!segment->cut && peer) peer->receive_frame(frame);
      return {};
    }
  };
  Stack stacks[2];
  EthernetEndpoint* ends[2] = {nullptr, nullptr};
  std::vector<Bytes> frames[2];
  bool cut = false;
  int64_t now = 0;
  const Mac macs[2] = {{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}};
  const uint32_t addrs[2] = {kPeer, kOurs};
  Segment() {
    for (int i = 0; i < 2; ++i) {
      auto end = std::make_unique<EthernetEndpoint>(macs[i], 1500, std::make_unique<Device>(this, i));
      end->set_clock([this] { return now; });
      ends[i] = end.get();
      const int lo = stacks[i].add_interface("lo", std::make_unique<LoopbackEndpoint>());
      EXPECT_TRUE(stacks[i].add_address(lo, IpAddress::from_v4(kLocalhost), 8));
      const int eth = stacks[i].add_interface("eth0", std::move(end));
      EXPECT_TRUE(stacks[i].add_address(eth, IpAddress::from_v4(addrs[i]), 24));
    }
  }
};

TEST(EthernetTest, ArpResolvesThenTheQueuedDatagramGoes) {
  Segment net;
  auto server = net.stacks[1].open_udp();
  ASSERT_TRUE(server->bind({0u, 9000}));
  auto client = net.stacks[0].open_udp();
  ASSERT_TRUE(client->send(Bytes{'a', 'r', 'p'}, Endpoint{kOurs, 9000}));
  // The first frame out was a broadcast ARP request for 10.0.0.2.
  ASSERT_GE(net.frames[0].size(), 2u);
  auto first = parse_ethernet(net.frames[0][0]);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->dst, kBroadcastMac);
  EXPECT_EQ(first->type, kEtherArp);
  auto request = parse_arp(first->payload);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->op, kArpRequest);
  EXPECT_EQ(request->target_ip, kOurs);
  EXPECT_EQ(request->sender_ip, kPeer);
  // The reply came back unicast, and the datagram followed it.
  auto reply = parse_ethernet(net.frames[1][0]);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->dst, net.macs[0]);
  EXPECT_EQ(parse_arp(reply->payload)->op, kArpReply);
  auto got = server->receive();
  ASSERT_TRUE(got) << strerror(got.error());
  EXPECT_EQ(got->data, (Bytes{'a', 'r', 'p'}));
  EXPECT_EQ(net.ends[0]->neighbour(IpAddress::from_v4(kOurs)), net.macs[1]);
  EXPECT_EQ(net.ends[1]->neighbour(IpAddress::from_v4(kPeer)), net.macs[0]) << "learned from the request addressed to it";
  // A second datagram goes straight, without asking again.
  const uint64_t asked = net.ends[0]->arp_requests_sent();
  ASSERT_TRUE(client->send(Bytes{'2'}, Endpoint{kOurs, 9000}));
  EXPECT_EQ(net.ends[0]->arp_requests_sent(), asked);
  EXPECT_TRUE(server->receive());
}

TEST(EthernetTest, AnUnansweredNeighbourIsEhostunreachAfterThreeRequests) {
  Segment net;
  net.cut = true;  // nobody answers
  auto client = net.stacks[0].open_udp();
  ASSERT_TRUE(client->connect(Endpoint{ipv4(10, 0, 0, 3), 9}));
  ASSERT_TRUE(client->send(Bytes{'?'}, std::nullopt));
  EXPECT_EQ(net.ends[0]->arp_requests_sent(), 1u);
  for (int second = 1; second <= 2; ++second) {
    net.now += EthernetEndpoint::kRetransNs;
    net.ends[0]->tick();
  }
  EXPECT_EQ(net.ends[0]->arp_requests_sent(), 3u) << "mcast_solicit: three requests, a second apart";
  EXPECT_EQ(client->receive().error(), EAGAIN) << "not yet given up";
  net.now += EthernetEndpoint::kRetransNs;
  net.ends[0]->tick();
  EXPECT_EQ(client->receive().error(), EHOSTUNREACH);
}

TEST(EthernetTest, StrangersAndMalformedFramesAreIgnored) {
  Segment net;
  EthernetEndpoint& end = *net.ends[1];
  const uint64_t dropped = end.frames_dropped();
  end.receive_frame(Bytes(10, 0));  // shorter than a header
  // A frame for another station.
  Mac other = {0x02, 9, 9, 9, 9, 9};
  end.receive_frame(build_ethernet(other, net.macs[0], kEtherIpv4, Bytes(40, 0)));
  // ARP for a protocol other than IPv4.
  Bytes odd = build_arp(ArpPacket{kArpRequest, net.macs[0], kPeer, {}, kOurs});
  odd[3] = 0xdd;
  end.receive_frame(build_ethernet(kBroadcastMac, net.macs[0], kEtherArp, odd));
  EXPECT_EQ(end.frames_dropped(), dropped + 3);
  // A request for someone else is neither answered nor learned from.
  net.frames[1].clear();
  end.receive_frame(build_ethernet(kBroadcastMac, net.macs[0], kEtherArp,
                                   build_arp(ArpPacket{kArpRequest, net.macs[0], kPeer, {}, ipv4(10, 0, 0, 7)})));
  EXPECT_TRUE(net.frames[1].empty());
  EXPECT_FALSE(end.neighbour(IpAddress::from_v4(kPeer)));
}

// The same segment with fd00::1/64 and fd00::2/64 as well.
struct Segment6 : Segment {
  Segment6() {
    EXPECT_TRUE(stacks[0].add_address(2, IpAddress::from_v6(kV6Peer), 64));
    EXPECT_TRUE(stacks[1].add_address(2, IpAddress::from_v6(kV6Ours), 64));
  }
};

TEST(EthernetTest, NeighborDiscoveryResolvesIpv6) {
  Segment6 net;
  auto server = net.stacks[1].open_udp(true);
  ASSERT_TRUE(server->bind(Endpoint{IpAddress::any(true), 9000}));
  auto client = net.stacks[0].open_udp(true);
  ASSERT_TRUE(client->send(Bytes{'n', 'd'}, Endpoint{kV6Ours, 9000}));
  // A Neighbor Solicitation to fd00::2's solicited-node group.
  auto ns = parse_ethernet(net.frames[0][0]);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->dst, (Mac{0x33, 0x33, 0xff, 0x00, 0x00, 0x02}));
  auto ns_ip = parse_ipv6(ns->payload);
  ASSERT_TRUE(ns_ip);
  EXPECT_EQ(ns_ip->hop_limit, 255);
  EXPECT_EQ(ns_ip->dst, V6({0xff02, 0, 0, 0, 0, 1, 0xff00, 0x0002}));
  auto ns_icmp = parse_icmpv6(*ns_ip);
  ASSERT_TRUE(ns_icmp);
  EXPECT_EQ(ns_icmp->type, kNdpNeighborSolicitation);
  // The advertisement came back unicast, solicited and override set.
  auto na = parse_ethernet(net.frames[1][0]);
  ASSERT_TRUE(na);
  EXPECT_EQ(na->dst, net.macs[0]);
  auto na_icmp = parse_icmpv6(*parse_ipv6(na->payload));
  ASSERT_TRUE(na_icmp);
  EXPECT_EQ(na_icmp->type, kNdpNeighborAdvertisement);
  EXPECT_EQ(na_icmp->rest, 0x60000000u);
  auto got = server->receive();
  ASSERT_TRUE(got) << strerror(got.error());
  EXPECT_EQ(got->data, (Bytes{'n', 'd'}));
  EXPECT_EQ(net.ends[0]->neighbour(IpAddress::from_v6(kV6Ours)), net.macs[1]);
  EXPECT_EQ(net.ends[1]->neighbour(IpAddress::from_v6(kV6Peer)), net.macs[0]);
}

TEST(EthernetTest, NeighborDiscoveryFromOffLinkOrUnansweredFails) {
  Segment6 net;
  // A solicitation with hop limit 64 may have been routed: ignored.
  Ipv6Fields f;
  f.src = kV6Peer;
  f.dst = kV6Ours;
  f.hop_limit = 64;
  Bytes body(kV6Ours.begin(), kV6Ours.end());
  body.insert(body.end(), {kNdpSourceLinkAddress, 1, 2, 0, 0, 0, 0, 1});
  const uint64_t dropped = net.ends[1]->frames_dropped();
  net.ends[1]->receive_frame(
      build_ethernet(net.macs[1], net.macs[0], kEtherIpv6, build_icmpv6(f, kNdpNeighborSolicitation, 0, 0, body)));
  EXPECT_EQ(net.ends[1]->frames_dropped(), dropped + 1);
  EXPECT_TRUE(net.frames[1].empty()) << "no advertisement";
  // Nobody answers for fd00::3: address unreachable, EHOSTUNREACH.
  net.cut = true;
  auto client = net.stacks[0].open_udp(true);
  ASSERT_TRUE(client->connect(Endpoint{V6({0xfd00, 0, 0, 0, 0, 0, 0, 3}), 9}));
  ASSERT_TRUE(client->send(Bytes{'?'}, std::nullopt));
  for (int i = 0; i < 3; ++i) {
    net.now += EthernetEndpoint::kRetransNs;
    net.ends[0]->tick();
  }
  EXPECT_EQ(client->receive().error(), EHOSTUNREACH);
}

TEST(TcpWireTest, AClosedPortAnswersWithAReset) {
  Net6 net;
  const IpAddress peer = IpAddress::from_v4(kPeer), ours = IpAddress::from_v4(kOurs);
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  f.protocol = kProtoTcp;
  // A SYN: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>.
  TcpSegment syn;
  syn.src_port = 5555;
  syn.dst_port = 80;
  syn.seq = 1000;
  syn.flags = kTcpSyn;
  net.stack.deliver(net.eth0, build_ipv4(f, build_tcp(syn, peer, ours)));
  ASSERT_EQ(net.wire.size(), 1u);
  auto ip = parse_ipv4(net.wire[0]);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->protocol, kProtoTcp);
  auto rst = parse_tcp(ip->payload, ours, peer);
  ASSERT_TRUE(rst) << drop_name(rst.error());
  EXPECT_EQ(rst->flags, kTcpRst | kTcpAck);
  EXPECT_EQ(rst->seq, 0u);
  EXPECT_EQ(rst->ack, 1001u);
  EXPECT_EQ(rst->src_port, 80);
  EXPECT_EQ(rst->dst_port, 5555);
  // A segment with ACK: <SEQ=SEG.ACK><CTL=RST>.
  net.wire.clear();
  TcpSegment ack = syn;
  ack.flags = kTcpAck;
  ack.ack = 777;
  net.stack.deliver(net.eth0, build_ipv4(f, build_tcp(ack, peer, ours)));
  ASSERT_EQ(net.wire.size(), 1u);
  rst = parse_tcp(parse_ipv4(net.wire[0])->payload, ours, peer);
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, kTcpRst);
  EXPECT_EQ(rst->seq, 777u);
  // A reset is never answered; over IPv6 the same rule holds.
  net.wire.clear();
  TcpSegment reset = syn;
  reset.flags = kTcpRst;
  net.stack.deliver(net.eth0, build_ipv4(f, build_tcp(reset, peer, ours)));
  EXPECT_TRUE(net.wire.empty());
  Ipv6Fields f6;
  f6.src = kV6Peer;
  f6.dst = kV6Ours;
  f6.next_header = kProtoTcp;
  net.stack.deliver(net.eth0, build_ipv6(f6, build_tcp(syn, IpAddress::from_v6(kV6Peer), IpAddress::from_v6(kV6Ours))));
  ASSERT_EQ(net.wire.size(), 1u);
  auto ip6 = parse_ipv6(net.wire[0]);
  ASSERT_TRUE(ip6);
  auto rst6 = parse_tcp(ip6->payload, IpAddress::from_v6(kV6Ours), IpAddress::from_v6(kV6Peer));
  ASSERT_TRUE(rst6);
  EXPECT_EQ(rst6->flags, kTcpRst | kTcpAck);
  EXPECT_EQ(net.stack.dropped(Drop::kNoTcpEndpoint), 4u);
}

// Real frames the host kernel sent on a veth pair (ARP, NDP and MLD, ping
// over both families, UDP, a TCP connection, resets and port
// unreachables; tests/unit/data/make_frame_corpus.sh made them), as the
// seed of a million mutated ones. The side they were captured on is
// 10.77.0.2 / fd77::2; its MAC is the one its ARP reply names.
std::vector<Bytes> LoadCorpus() {
  std::vector<Bytes> frames;
  std::ifstream in(RUNSC_NETSTACK_CORPUS);
  std::string line;
  while (std::getline(in, line)) {
    Bytes frame;
    for (size_t i = 0; i + 1 < line.size(); i += 2) frame.push_back(static_cast<uint8_t>(std::stoi(line.substr(i, 2), nullptr, 16)));
    if (!frame.empty()) frames.push_back(std::move(frame));
  }
  return frames;
}

struct CorpusHost {
  struct Device final : FrameDevice {
    std::vector<Bytes>* out;
    explicit Device(std::vector<Bytes>* o) : out(o) {}
    Result<void> send_frame(std::vector<uint8_t> frame) override {
      out->push_back(std::move(frame));
      return {};
    }
  };
  Stack stack;
  std::vector<Bytes> sent;
  EthernetEndpoint* end = nullptr;
  explicit CorpusHost(const Mac& mac) {
    auto e = std::make_unique<EthernetEndpoint>(mac, 1500, std::make_unique<Device>(&sent));
    end = e.get();
    const int lo = stack.add_interface("lo", std::make_unique<LoopbackEndpoint>());
    EXPECT_TRUE(stack.add_address(lo, IpAddress::from_v4(kLocalhost), 8));
    const int eth = stack.add_interface("eth0", std::move(e));
    EXPECT_TRUE(stack.add_address(eth, IpAddress::from_v4(ipv4(10, 77, 0, 2)), 24));
    EXPECT_TRUE(stack.add_address(eth, IpAddress::from_v6(V6({0xfd77, 0, 0, 0, 0, 0, 0, 2})), 64));
  }
};

TEST(FrameFuzzTest, AMillionMutatedRealFramesAreDroppedOrAnsweredNeverACrash) {
  const std::vector<Bytes> corpus = LoadCorpus();
  ASSERT_GE(corpus.size(), 20u) << "the corpus at " << RUNSC_NETSTACK_CORPUS;
  // The captured side's MAC, from its ARP reply.
  std::optional<Mac> ours;
  for (const auto& f : corpus) {
    auto eth = parse_ethernet(f);
    if (!eth || eth->type != kEtherArp) continue;
    auto arp = parse_arp(eth->payload);
    if (arp && arp->op == kArpReply && arp->sender_ip == ipv4(10, 77, 0, 2)) ours = arp->sender_mac;
  }
  ASSERT_TRUE(ours) << "no ARP reply from 10.77.0.2 in the corpus";
  CorpusHost host(*ours);
  // The captured TCP server's port has a listener here too, so mutated
  // handshakes and data reach the TCP state machine.
  auto listener = host.stack.open_tcp();
  ASSERT_TRUE(listener->bind({0u, 8080}));
  ASSERT_TRUE(listener->listen(64));
  // As captured: what was for 10.77.0.2 gets the answers Linux gave (echo
  // replies, SYN-ACKs, resets).
  for (const auto& f : corpus) host.end->receive_frame(f);
  EXPECT_GT(host.stack.echo_replies_sent(), 0u) << "the captured pings are answered";
  EXPECT_GT(host.stack.received(), 0u);
  EXPECT_FALSE(host.sent.empty());
  // A million frames: bytes changed, cut short, two spliced, or aimed at
  // us (our MAC, so they reach the IP layer).
  std::mt19937_64 rng(2026);
  const int kFrames = 1'000'000;
  for (int i = 0; i < kFrames; ++i) {
    Bytes frame = corpus[rng() % corpus.size()];
    switch (rng() % 4) {
      case 0: std::copy(ours->begin(), ours->end(), frame.begin()); [[fallthrough]];
      case 1:
        for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) frame[rng() % frame.size()] = static_cast<uint8_t>(rng());
        break;
      case 2: frame.resize(rng() % (frame.size() + 1)); break;
      default: {
        const Bytes& other = corpus[rng() % corpus.size()];
        const size_t cut = rng() % (std::min(frame.size(), other.size()) + 1);
        std::copy(other.begin() + static_cast<long>(cut), other.end(), std::back_inserter(frame));
        frame.erase(frame.begin() + static_cast<long>(cut), frame.begin() + static_cast<long>(std::min(frame.size(), 2 * cut)));
        break;
      }
    }
    host.end->receive_frame(frame);
    if (host.sent.size() > 1024) host.sent.clear();
    if (i % 4096 == 0) {
      host.end->tick();
      host.stack.tick();
      // Take what was accepted, read a little, and close it.
      while (auto c = listener->accept()) {
        uint8_t buf[64];
        (void)(*c)->receive(buf);
        (*c)->close();
      }
    }
  }
  uint64_t dropped = host.end->frames_dropped();
  for (size_t r = 0; r < static_cast<size_t>(Drop::kCount); ++r) dropped += host.stack.dropped(static_cast<Drop>(r));
  EXPECT_GT(dropped, static_cast<uint64_t>(kFrames) / 4) << "the mutations are caught and counted";
  EXPECT_LE(host.stack.reassembly_bytes_held(), size_t{4} << 20);
  // And the host still answers a real ping.
  const uint64_t before = host.stack.echo_replies_sent();
  for (const auto& f : corpus) host.end->receive_frame(f);
  EXPECT_GT(host.stack.echo_replies_sent(), before);
}

// Moves every byte of `data` from `from` to `to` over their stack,
// alternating sends and receives as the windows allow.
Bytes Transfer(TcpEndpoint& from, TcpEndpoint& to, const Bytes& data) {
  Bytes got;
  size_t sent = 0;
  uint8_t buf[8192];
  for (int rounds = 0; rounds < 100000 && got.size() < data.size(); ++rounds) {
    if (sent < data.size()) {
      auto n = from.send(std::span<const uint8_t>(data).subspan(sent));
      if (n) sent += *n;
    }
    auto r = to.receive(buf);
    if (r && *r > 0) got.insert(got.end(), buf, buf + *r);
  }
  return got;
}

TEST(TcpTest, HandshakeDataBothWaysAndAnOrderlyClose) {
  Net net;
  int64_t now = 0;
  net.stack.set_clock([&now] { return now; });
  auto listener = net.stack.open_tcp();
  ASSERT_TRUE(listener->bind({kLocalhost, 8080}));
  ASSERT_TRUE(listener->listen(16));
  EXPECT_EQ(listener->accept().error(), EAGAIN);
  auto client = net.stack.open_tcp();
  ASSERT_TRUE(client->connect({kLocalhost, 8080}));
  EXPECT_EQ(client->state(), TcpEndpoint::State::kEstablished) << "loopback completes the handshake at once";
  auto server = listener->accept();
  ASSERT_TRUE(server) << strerror(server.error());
  EXPECT_EQ((*server)->state(), TcpEndpoint::State::kEstablished);
  EXPECT_EQ((*server)->remote(), client->local());
  EXPECT_EQ(client->remote(), (Endpoint{kLocalhost, 8080}));
  // Data both ways, more than a window's worth one way.
  const Bytes hello = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(Transfer(*client, **server, hello), hello);
  Bytes big(1 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 31 + (i >> 9));
  EXPECT_EQ(Transfer(**server, *client, big), big) << "a megabyte, through 128 KiB windows";
  // The client closes its side: the server reads the end of the stream.
  ASSERT_TRUE(client->shutdown_write());
  uint8_t buf[16];
  EXPECT_EQ((*server)->receive(buf), Result<size_t>(0));
  EXPECT_EQ((*server)->state(), TcpEndpoint::State::kCloseWait);
  EXPECT_EQ(client->state(), TcpEndpoint::State::kFinWait2);
  EXPECT_EQ(client->send(hello).error(), EPIPE);
  // The server may still send, then closes too.
  EXPECT_EQ(Transfer(**server, *client, hello), hello);
  (*server)->close();
  EXPECT_EQ((*server)->state(), TcpEndpoint::State::kClosed);
  EXPECT_EQ(client->state(), TcpEndpoint::State::kTimeWait);
  EXPECT_EQ(client->receive(buf), Result<size_t>(0));
  // TIME_WAIT ends after 60 s (seen at the next segment to arrive).
  now += TcpEndpoint::kTimeWaitNs;
  auto probe = net.stack.open_tcp();
  ASSERT_TRUE(probe->connect({kLocalhost, 8080}));
  EXPECT_EQ(client->state(), TcpEndpoint::State::kClosed);
  EXPECT_TRUE(net.wire.empty()) << "all of it over lo";
}

TEST(TcpTest, ConnectingToAClosedPortIsRefused) {
  Net net;
  auto client = net.stack.open_tcp();
  ASSERT_TRUE(client->connect({kLocalhost, 9}));
  EXPECT_EQ(client->state(), TcpEndpoint::State::kClosed);
  EXPECT_EQ(client->take_error(), ECONNREFUSED);
  auto v6 = net.stack.open_tcp(true);
  ASSERT_TRUE(v6->connect(Endpoint{ipv6_loopback(), 9}));
  EXPECT_EQ(v6->take_error(), ECONNREFUSED);
}

TEST(TcpTest, ClosingWithUnreadDataResetsThePeer) {
  Net net;
  auto listener = net.stack.open_tcp(true);
  ASSERT_TRUE(listener->bind(Endpoint{ipv6_loopback(), 80}));
  ASSERT_TRUE(listener->listen(4));
  auto client = net.stack.open_tcp(true);
  ASSERT_TRUE(client->connect(Endpoint{ipv6_loopback(), 80}));
  auto server = listener->accept();
  ASSERT_TRUE(server);
  ASSERT_TRUE(client->send(Bytes{'u', 'n', 'r', 'e', 'a', 'd'}));
  (*server)->close();  // without reading
  EXPECT_EQ((*server)->state(), TcpEndpoint::State::kClosed);
  EXPECT_EQ(client->state(), TcpEndpoint::State::kClosed);
  EXPECT_EQ(client->take_error(), ECONNRESET);
}

TEST(TcpTest, TheBacklogBoundsPendingConnections) {
  Net net;
  auto listener = net.stack.open_tcp();
  ASSERT_TRUE(listener->bind({0u, 7000}));
  ASSERT_TRUE(listener->listen(1));
  auto first = net.stack.open_tcp();
  ASSERT_TRUE(first->connect({kLocalhost, 7000}));
  EXPECT_EQ(first->state(), TcpEndpoint::State::kEstablished);
  auto second = net.stack.open_tcp();
  ASSERT_TRUE(second->connect({kLocalhost, 7000}));
  EXPECT_EQ(second->state(), TcpEndpoint::State::kSynSent) << "its SYN was dropped: the queue is full";
  EXPECT_EQ(net.stack.dropped(Drop::kListenOverflow), 1u);
  EXPECT_TRUE(listener->accept());
}

// A segment whose device holds frames until the test lets them go, in
// any order.
TEST(TcpTest, ReorderedSegmentsAreReassembledInOrder) {
  Segment net;
  auto listener = net.stacks[1].open_tcp();
  ASSERT_TRUE(listener->bind({0u, 9999}));
  ASSERT_TRUE(listener->listen(4));
  auto client = net.stacks[0].open_tcp();
  ASSERT_TRUE(client->connect({kOurs, 9999}));
  ASSERT_EQ(client->state(), TcpEndpoint::State::kEstablished);
  auto server = listener->accept();
  ASSERT_TRUE(server);
  // Hold what the client sends: three segments of at most an MSS (1460).
  net.cut = true;
  net.frames[0].clear();
  Bytes data(4000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i % 251);
  ASSERT_EQ(client->send(data), Result<size_t>(data.size()));
  ASSERT_EQ(net.frames[0].size(), 3u);
  net.cut = false;
  // Last first, then the first, then the middle one (and the first again).
  for (int i : {2, 0, 1, 0}) net.ends[1]->receive_frame(net.frames[0][i]);
  Bytes got(5000);
  auto n = (*server)->receive(got);
  ASSERT_TRUE(n);
  got.resize(*n);
  EXPECT_EQ(got, data);
}

TEST(TcpTest, SimultaneousCloseGoesThroughClosing) {
  // RFC 9293 figure 13: both FINs cross; each side is CLOSING until its
  // FIN is acknowledged, then TIME_WAIT.
  Segment net;
  auto listener = net.stacks[1].open_tcp();
  ASSERT_TRUE(listener->bind({0u, 4444}));
  ASSERT_TRUE(listener->listen(4));
  auto a = net.stacks[0].open_tcp();
  ASSERT_TRUE(a->connect({kOurs, 4444}));
  auto b = listener->accept();
  ASSERT_TRUE(b);
  net.cut = true;
  net.frames[0].clear();
  net.frames[1].clear();
  ASSERT_TRUE(a->shutdown_write());
  ASSERT_TRUE((*b)->shutdown_write());
  EXPECT_EQ(a->state(), TcpEndpoint::State::kFinWait1);
  EXPECT_EQ((*b)->state(), TcpEndpoint::State::kFinWait1);
  ASSERT_EQ(net.frames[0].size(), 1u);
  ASSERT_EQ(net.frames[1].size(), 1u);
  // Each FIN arrives: both CLOSING, each acknowledging the other's FIN.
  const Bytes fin_a = net.frames[0][0], fin_b = net.frames[1][0];
  net.frames[0].clear();
  net.frames[1].clear();
  net.ends[1]->receive_frame(fin_a);
  net.ends[0]->receive_frame(fin_b);
  EXPECT_EQ(a->state(), TcpEndpoint::State::kClosing);
  EXPECT_EQ((*b)->state(), TcpEndpoint::State::kClosing);
  // The ACKs arrive: TIME_WAIT on both sides.
  net.cut = false;
  for (const auto& f : net.frames[0]) net.ends[1]->receive_frame(f);
  for (const auto& f : net.frames[1]) net.ends[0]->receive_frame(f);
  EXPECT_EQ(a->state(), TcpEndpoint::State::kTimeWait);
  EXPECT_EQ((*b)->state(), TcpEndpoint::State::kTimeWait);
}

TEST(TcpTest, LostSegmentsAreRetransmittedByTheTimer) {
  Segment net;
  for (auto& st : net.stacks) st.set_clock([&net] { return net.now; });
  auto listener = net.stacks[1].open_tcp();
  ASSERT_TRUE(listener->bind({0u, 5555}));
  ASSERT_TRUE(listener->listen(4));
  // Warm the neighbour tables, so only TCP's frames matter below.
  auto warm = net.stacks[0].open_udp();
  ASSERT_TRUE(warm->send(Bytes{'w'}, Endpoint{kOurs, 9}));
  // The SYN is lost: SYN_SENT until the timer (1 s, TCP_TIMEOUT_INIT)
  // sends it again.
  auto client = net.stacks[0].open_tcp();
  net.cut = true;
  ASSERT_TRUE(client->connect({kOurs, 5555}));
  net.cut = false;
  EXPECT_EQ(client->state(), TcpEndpoint::State::kSynSent);
  net.now += 999'000'000;
  net.stacks[0].tick();
  EXPECT_EQ(client->state(), TcpEndpoint::State::kSynSent) << "not before the RTO";
  net.now += 1'000'000;
  net.stacks[0].tick();
  EXPECT_EQ(client->state(), TcpEndpoint::State::kEstablished);
  auto server = listener->accept();
  ASSERT_TRUE(server);
  // A data segment is lost: the timer resends it, and it arrives.
  net.cut = true;
  const Bytes data(1000, 'r');
  ASSERT_EQ(client->send(data), Result<size_t>(data.size()));
  net.cut = false;
  uint8_t buf[2000];
  EXPECT_EQ((*server)->receive(buf).error(), EAGAIN);
  net.now += 2'000'000'000;  // the RTO after the backed-off handshake
  net.stacks[0].tick();
  auto n = (*server)->receive(buf);
  ASSERT_TRUE(n) << strerror(n.error());
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(Bytes(buf, buf + *n), data);
}

TEST(TcpTest, AConnectionNobodyAnswersTimesOut) {
  Segment net;
  for (auto& st : net.stacks) st.set_clock([&net] { return net.now; });
  net.cut = true;
  auto client = net.stacks[0].open_tcp();
  ASSERT_TRUE(client->connect({kOurs, 5555}));
  // Only TCP's timer runs (the neighbour is never given up on here):
  // tcp_syn_retries is 6, so the SYN goes 7 times, the RTO doubling, then
  // ETIMEDOUT.
  for (int i = 0; i < 7; ++i) {
    net.now += TcpEndpoint::kMaxRtoNs;
    net.stacks[0].tick();
  }
  EXPECT_EQ(client->state(), TcpEndpoint::State::kClosed);
  EXPECT_EQ(client->take_error(), ETIMEDOUT);
}

TEST(TcpTest, AnUnreachableNeighbourEndsAConnectWithEhostunreach) {
  // ARP gives up after three requests: the SYN waiting on it comes back
  // as an ICMP host unreachable, which ends a connection in SYN_SENT (as
  // Linux's tcp_v4_err does).
  Segment net;
  for (auto& st : net.stacks) st.set_clock([&net] { return net.now; });
  net.cut = true;
  auto client = net.stacks[0].open_tcp();
  ASSERT_TRUE(client->connect({ipv4(10, 0, 0, 3), 80}));
  for (int i = 0; i < 3; ++i) {
    net.now += EthernetEndpoint::kRetransNs;
    net.ends[0]->tick();
  }
  EXPECT_EQ(client->state(), TcpEndpoint::State::kClosed);
  EXPECT_EQ(client->take_error(), EHOSTUNREACH);
}

TEST(TcpTest, AListenerAnswersOnlyWhatLinuxAnswers) {
  Net net;
  auto listener = net.stack.open_tcp();
  ASSERT_TRUE(listener->bind({0u, 80}));
  ASSERT_TRUE(listener->listen(8));
  const IpAddress peer = IpAddress::from_v4(kPeer), ours = IpAddress::from_v4(kOurs);
  Ipv4Fields f;
  f.src = kPeer;
  f.dst = kOurs;
  f.protocol = kProtoTcp;
  // A SYN without window scaling: the SYN-ACK must not offer it either
  // (RFC 7323 2.2); with it, it does.
  TcpSegment syn;
  syn.src_port = 40000;
  syn.dst_port = 80;
  syn.seq = 1000;
  syn.flags = kTcpSyn;
  syn.window = 1000;
  net.stack.deliver(net.eth0, build_ipv4(f, build_tcp(syn, peer, ours)));
  ASSERT_EQ(net.wire.size(), 1u);
  auto synack = parse_tcp(parse_ipv4(net.wire[0])->payload, ours, peer);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->flags, kTcpSyn | kTcpAck);
  EXPECT_FALSE(synack->options.window_scale);
  EXPECT_TRUE(synack->options.mss);
  Ipv4Fields other = f;
  other.src = ipv4(10, 0, 0, 9);
  TcpSegment syn_ws;
  syn_ws.src_port = 40001;
  syn_ws.dst_port = 80;
  syn_ws.flags = kTcpSyn;
  syn_ws.options.window_scale = 2;
  net.wire.clear();
  net.stack.deliver(net.eth0, build_ipv4(other, build_tcp(syn_ws, IpAddress::from_v4(other.src), ours)));
  ASSERT_EQ(net.wire.size(), 1u);
  auto synack_ws = parse_tcp(parse_ipv4(net.wire[0])->payload, ours, IpAddress::from_v4(other.src));
  ASSERT_TRUE(synack_ws);
  EXPECT_EQ(synack_ws->options.window_scale, TcpEndpoint::kWindowShift);
  // A SYN with FIN, a bare FIN and a reset are dropped silently; an ACK
  // gets a reset.
  Ipv4Fields third = f;
  third.src = ipv4(10, 0, 0, 10);
  const IpAddress third_peer = IpAddress::from_v4(third.src);
  auto send_from_third = [&](uint8_t flags) {
    TcpSegment seg;
    seg.src_port = 40002;
    seg.dst_port = 80;
    seg.seq = 5;
    seg.ack = 9;
    seg.flags = flags;
    net.wire.clear();
    net.stack.deliver(net.eth0, build_ipv4(third, build_tcp(seg, third_peer, ours)));
  };
  send_from_third(kTcpSyn | kTcpFin);
  EXPECT_TRUE(net.wire.empty());
  send_from_third(kTcpFin);
  EXPECT_TRUE(net.wire.empty());
  send_from_third(kTcpRst);
  EXPECT_TRUE(net.wire.empty());
  EXPECT_EQ(net.stack.dropped(Drop::kBadTcpFlags), 3u);
  send_from_third(kTcpAck);
  ASSERT_EQ(net.wire.size(), 1u);
  auto rst = parse_tcp(parse_ipv4(net.wire[0])->payload, ours, third_peer);
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->flags, kTcpRst);
  EXPECT_EQ(rst->seq, 9u);
}

}  // namespace
}  // namespace runsc::netstack::inet
