// Errors as values: every fallible operation returns Result<T>, which holds
// either the value or a positive Linux errno.
#pragma once

#include <cerrno>
#include <expected>

namespace runsc {

template <class T>
using Result = std::expected<T, int>;

// Makes the error side of a Result from a positive errno value.
inline std::unexpected<int> Err(int errno_value) { return std::unexpected<int>(errno_value); }

// The error side built from the calling thread's errno (after a failed libc call).
inline std::unexpected<int> ErrFromErrno() { return std::unexpected<int>(errno); }

}  // namespace runsc
