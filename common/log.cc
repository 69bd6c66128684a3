#include "common/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>

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

// Lines to a file opened by someone else (the Sentry's log, which runsc
// opens for it): each line one write(2) to an O_APPEND FD, so processes
// sharing the file never interleave within a line.
class FdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit FdSink(int fd) : fd_(fd) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd_.get(), p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere to say it: the line is lost
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  void flush_() override {}

 private:
  UniqueFd fd_;
};

Result<void> install(Level level, std::shared_ptr<spdlog::sinks::sink> sink, bool to_file, bool json);

}  // namespace

Result<void> init(Level level, const std::string& file, bool json) {
  if (!file.empty()) {
    // spdlog reports a failed open as an exception without the errno: try
    // the open ourselves first so the caller can say what went wrong.
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrFromErrno();
    ::close(fd);
  }
  if (file.empty()) return install(level, std::make_shared<spdlog::sinks::stderr_sink_mt>(), false, json);
  return install(level, std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/false), true, json);
}

Result<void> init_fd(Level level, UniqueFd fd, bool json) {
  if (!fd) return Err(EBADF);
  return install(level, std::make_shared<FdSink>(fd.release()), true, json);
}

namespace {

Result<void> install(Level level, std::shared_ptr<spdlog::sinks::sink> sink, bool to_file, bool json) {
  g_level = static_cast<int>(level);
  g_to_file = to_file;
  g_json = json;
  auto next = std::make_shared<spdlog::logger>("runsc", std::move(sink));
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

}  // namespace

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
