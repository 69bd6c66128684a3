// The stub code copied to kStubAddr (see stub.cc for what it does).
#pragma once

#include <cstdint>

extern "C" {
extern const uint8_t runsc_stub_start[];
extern const uint8_t runsc_stub_syscall[];
extern const uint8_t runsc_stub_clone[];
extern const uint8_t runsc_stub_park[];
extern const uint8_t runsc_stub_end[];
}
