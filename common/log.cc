#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <memory>

namespace runsc::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kWarn)};
std::atomic<bool> g_to_file{false};
std::atomic<bool> g_json{false};

// The message as a JSON string's contents (RFC 8259: quote, backslash and
// control characters escaped), so a JSON log line stays one valid object.
std::string json_escaped(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger>& logger() {
  // Not registered with spdlog's global registry: init() replaces it.
  static std::shared_ptr<spdlog::logger> instance =
      std::make_shared<spdlog::logger>("runsc", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  return instance;
}

}  // namespace

Result<void> init(Level level, const std::string& file, bool json) {
  std::shared_ptr<spdlog::logger> next;
  if (!file.empty()) {
    // spdlog reports a failed open as an exception without the errno: try
    // the open ourselves first so the caller can say what went wrong.
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrFromErrno();
    ::close(fd);
  }
  g_level = static_cast<int>(level);
  g_to_file = !file.empty();
  g_json = json;
  if (file.empty()) {
    next = std::make_shared<spdlog::logger>("runsc", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    next = std::make_shared<spdlog::logger>(
        "runsc", std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/false));
  }
  if (json) {
    // runc's JSON log lines, which containerd's shim parses.
    next->set_pattern(R"({"level":"%l","msg":"%v","time":"%Y-%m-%dT%H:%M:%S.%fZ"})", spdlog::pattern_time_type::utc);
  } else {
    next->set_pattern("%Y-%m-%d %H:%M:%S.%f %P %^%l%$ %v");
  }
  next->set_level(to_spdlog(level));
  next->flush_on(spdlog::level::trace);
  logger() = next;
  return {};
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  if (g_json.load(std::memory_order_relaxed)) {
    logger()->log(to_spdlog(level), json_escaped(message));
  } else {
    logger()->log(to_spdlog(level), message);
  }
}

bool to_file() { return g_to_file.load(std::memory_order_relaxed); }

}  // namespace runsc::log
