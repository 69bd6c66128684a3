// An IPv4 or IPv6 address, and a transport endpoint (address and port),
// for the stack's tables, which hold both families.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <string>

#include "netstack/inet/ipv6.h"

namespace runsc::netstack::inet {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4: the first 4, in network order

  static IpAddress from_v4(uint32_t host_order) {
    IpAddress a;
    for (int i = 0; i < 4; ++i) a.bytes[i] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
    return a;
  }
  static IpAddress from_v6(const Ipv6Address& v6) {
    IpAddress a;
    a.v6 = true;
    a.bytes = v6;
    return a;
  }
  static IpAddress any(bool v6) {
    IpAddress a;
    a.v6 = v6;
    return a;
  }
  uint32_t v4() const {
    return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | bytes[3];
  }
  const Ipv6Address& v6_bytes() const { return bytes; }
  int bits() const { return v6 ? 128 : 32; }
  bool unspecified() const {
    for (uint8_t b : bytes)
      if (b != 0) return false;
    return true;
  }
  bool multicast() const { return v6 ? bytes[0] == 0xff : (bytes[0] >> 4) == 0xe; }
  // The first `prefix_length` bits, the rest zero.
  IpAddress masked(int prefix_length) const {
    IpAddress out = *this;
    for (int i = 0; i < 16; ++i) {
      const int keep = std::max(0, std::min(8, prefix_length - 8 * i));
      out.bytes[i] = static_cast<uint8_t>(out.bytes[i] & static_cast<uint8_t>(0xff00 >> keep));
    }
    return out;
  }
  std::string to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof(text));
    return text;
  }
  auto operator<=>(const IpAddress&) const = default;
};

struct Endpoint {
  IpAddress addr;
  uint16_t port = 0;
  Endpoint() = default;
  Endpoint(IpAddress a, uint16_t p) : addr(a), port(p) {}
  Endpoint(uint32_t v4, uint16_t p) : addr(IpAddress::from_v4(v4)), port(p) {}
  Endpoint(const Ipv6Address& v6, uint16_t p) : addr(IpAddress::from_v6(v6)), port(p) {}
  bool operator==(const Endpoint&) const = default;
};

}  // namespace runsc::netstack::inet
