// Text for messages written from signal handlers: no allocation, no
// locks, only plain memory (async-signal-safe).
#pragma once

#include <cstddef>

namespace runsc::signal_safe {

// Appends `text` to buf at *len, within `cap` bytes.
inline void append(char* buf, size_t* len, size_t cap, const char* text) {
  while (*text && *len < cap) buf[(*len)++] = *text++;
}

inline void append_number(char* buf, size_t* len, size_t cap, long value) {
  char digits[24];
  int n = 0;
  unsigned long v = value < 0 ? static_cast<unsigned long>(-value) : static_cast<unsigned long>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v && n < 23);
  if (value < 0) append(buf, len, cap, "-");
  while (n > 0 && *len < cap) buf[(*len)++] = digits[--n];
}

inline void append_hex(char* buf, size_t* len, size_t cap, unsigned long value) {
  char digits[17];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value % 16];
    value /= 16;
  } while (value && n < 16);
  append(buf, len, cap, "0x");
  while (n > 0 && *len < cap) buf[(*len)++] = digits[--n];
}

}  // namespace runsc::signal_safe
