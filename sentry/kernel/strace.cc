#include "sentry/kernel/strace.h"

#include <fmt/core.h>
#include <string.h>

#include "common/log.h"
#include "sentry/kernel/task.h"

namespace runsc::kernel {
namespace {

std::string quote(std::string_view s, size_t limit) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
  }
  out += '"';
  if (s.size() > limit) out += "...";
  return out;
}

std::string format_arg(Task& task, Arg kind, uint64_t value, uint64_t next_value) {
  switch (kind) {
    case Arg::kInt: return fmt::format("{}", static_cast<int64_t>(value));
    case Arg::kFd: {
      int fd = static_cast<int>(value);
      return fd == -100 ? "AT_FDCWD" : fmt::format("{}", fd);
    }
    case Arg::kOct: return fmt::format("{:#o}", value);
    case Arg::kPath: {
      auto s = task.mm().copy_in_string(value, 4096);
      return s ? quote(*s, 256) : fmt::format("{:#x}", value);
    }
    case Arg::kBuf: {
      // A buffer followed by its length (write(2)'s shape).
      std::string bytes(std::min<uint64_t>(next_value, 64), '\0');
      if (task.mm().copy_in(value, bytes.data(), bytes.size())) return quote(bytes, 64) + (next_value > 64 ? "..." : "");
      return fmt::format("{:#x}", value);
    }
    case Arg::kPtr:
    case Arg::kHex:
    case Arg::kNone:
      return fmt::format("{:#x}", value);
  }
  return "?";
}

}  // namespace

std::string format_syscall_entry(Task& task, uint64_t nr, const SyscallInfo* info, const SyscallArgs& args) {
  std::string text = info && info->name ? info->name : fmt::format("syscall_{}", nr);
  text += '(';
  if (info) {
    bool first = true;
    for (size_t i = 0; i < 6 && info->args[i] != Arg::kNone; ++i) {
      if (!first) text += ", ";
      first = false;
      text += format_arg(task, info->args[i], args.v[i], i + 1 < 6 ? args.v[i + 1] : 0);
    }
  }
  text += ')';
  return text;
}

void log_syscall_exit(Task& task, const std::string& entry, const SyscallInfo* info, const Result<uint64_t>& result,
                      bool regs_replaced) {
  std::string line;
  if (task.exiting()) {
    // exit and exit_group never return; strace(1) shows their result as ?.
    line = fmt::format("[{:>4}] {} = ?", task.tid(), entry);
  } else if (regs_replaced) {
    line = fmt::format("[{:>4}] {} = 0", task.tid(), entry);
  } else if (result) {
    line = fmt::format("[{:>4}] {} = {}", task.tid(), entry, static_cast<int64_t>(*result));
  } else {
    line = fmt::format("[{:>4}] {} = -1 {} ({})", task.tid(), entry, strerrorname_np(result.error()) ?: "?",
                       strerror(result.error()));
  }
  if (!info || !info->fn) line += " [not implemented]";
  log::write(log::Level::kInfo, line);
}

}  // namespace runsc::kernel
