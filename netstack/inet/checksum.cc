#include "netstack/inet/checksum.h"

namespace runsc::netstack::inet {

uint32_t checksum_add(std::span<const uint8_t> data, uint32_t sum) {
  // A 64-bit accumulator cannot overflow for any packet size we handle;
  // it is folded to 32 bits for the caller.
  uint64_t acc = sum;
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) acc += (uint32_t{data[i]} << 8) | data[i + 1];
  if (i < data.size()) acc += uint32_t{data[i]} << 8;
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

uint16_t checksum_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint32_t pseudo_header_sum_v4(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t length) {
  uint64_t acc = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + protocol + length;
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

}  // namespace runsc::netstack::inet
