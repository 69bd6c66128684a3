#include "sentry/kernel/kernel.h"

#include <fmt/core.h>

#include <cstring>

namespace runsc::kernel {

void BootLog::add(std::string_view message, int level) {
  auto since = std::chrono::steady_clock::now() - boot_;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(since).count();
  std::lock_guard lock(mu_);
  text_ += fmt::format("<{}>[{:5}.{:06}] {}\n", level, us / 1000000, us % 1000000, message);
}

std::string BootLog::contents() const {
  std::lock_guard lock(mu_);
  return text_;
}

Kernel::Kernel(KernelOptions options, std::unique_ptr<mm::MemoryFile> memfile,
               std::unique_ptr<platform::Platform> platform, std::shared_ptr<vfs::Dentry> root,
               const SyscallTable& syscalls)
    : options_(std::move(options)), boot_(std::chrono::steady_clock::now()), memfile_(std::move(memfile)),
      platform_(std::move(platform)), root_(std::move(root)), syscalls_(syscalls), boot_log_(boot_) {}

Kernel::~Kernel() = default;

utsname Kernel::uts() const {
  utsname u{};
  auto put = [](char* dst, std::string_view s) { std::strncpy(dst, std::string(s).c_str(), sizeof(u.sysname) - 1); };
  put(u.sysname, "Linux");
  put(u.nodename, options_.hostname);
  put(u.release, "4.4.0");
  put(u.version, "#1 SMP runsc-cpp");
  put(u.machine, "x86_64");
  put(u.domainname, "(none)");
  return u;
}

std::string Kernel::hostname() const { return options_.hostname; }

int64_t Kernel::monotonic_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - boot_).count();
}

}  // namespace runsc::kernel
