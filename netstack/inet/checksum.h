// The Internet checksum (RFC 1071): the ones' complement of the ones'
// complement sum of 16-bit words, used by IPv4, ICMP, UDP and TCP.
#pragma once

#include <cstdint>
#include <span>

namespace runsc::netstack::inet {

// Adds `data` (big-endian 16-bit words; an odd last byte is padded with a
// zero byte) to the running 32-bit sum `sum`.
uint32_t checksum_add(std::span<const uint8_t> data, uint32_t sum = 0);

// Folds a running sum to 16 bits and complements it: the value to store
// in a checksum field, and 0 when data that includes a correct checksum
// is summed.
uint16_t checksum_finish(uint32_t sum);

// The running sum of the IPv4 pseudo-header UDP and TCP checksums cover
// (RFC 768, RFC 9293): source, destination, protocol, and length.
uint32_t pseudo_header_sum_v4(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t length);

}  // namespace runsc::netstack::inet
