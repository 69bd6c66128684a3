// Logging front end. Only fmt/core.h is included here; spdlog stays in
// log.cc so that the many files that log do not pay for its headers.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// Configures the process-wide logger: lines at `level` and above go to
// `file` (appended; stderr when empty). `json` writes runc-style JSON lines
// ({"level":..,"msg":..,"time":..}). Fails with the errno of opening the
// file, keeping the old sink.
Result<void> init(Level level, const std::string& file, bool json);
// The same, to a file already open for appending (taken over).
Result<void> init_fd(Level level, UniqueFd fd, bool json);
bool enabled(Level level);
// Whether lines go to a file (init() was given one) rather than stderr.
bool to_file();
void write(Level level, std::string_view message);

template <class... A>
void trace(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::kTrace)) write(Level::kTrace, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace runsc::log
