#include "netstack/socket.h"

#include <sys/sysmacros.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

namespace runsc::netstack {
namespace {

// Socket inode numbers (fstat, /proc/PID/fd's "socket:[N]", /proc/net):
// sockfs numbers its inodes from a counter; ours starts high enough not
// to look like a file's.
std::atomic<uint64_t> next_ino{40000};

std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}
std::vector<std::weak_ptr<Socket>>& registry() {
  static std::vector<std::weak_ptr<Socket>> sockets;
  return sockets;
}

// SO_RCVTIMEO/SO_SNDTIMEO: a struct timeval, 0 meaning none (socket(7));
// EDOM for a tv_usec out of range, as sock_set_timeout().
Result<int> timeout_from(std::span<const uint8_t> value) {
  timeval tv{};
  if (value.size() < sizeof(tv)) return Err(EINVAL);
  std::memcpy(&tv, value.data(), sizeof(tv));
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return Err(EDOM);
  if (tv.tv_sec < 0) return 0;  // Linux treats a negative time as "return at once"
  if (tv.tv_sec == 0 && tv.tv_usec == 0) return -1;
  const int64_t ms = tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
  return static_cast<int>(std::min<int64_t>(ms, INT32_MAX));
}

std::vector<uint8_t> timeout_option(int ms) {
  timeval tv{};
  if (ms > 0) tv = {ms / 1000, (ms % 1000) * 1000};
  std::vector<uint8_t> out(sizeof(tv));
  std::memcpy(out.data(), &tv, sizeof(tv));
  return out;
}

Caller (*caller_source)() = nullptr;

}  // namespace

void set_caller_source(Caller (*source)()) { caller_source = source; }

Address Address::from(const void* data, socklen_t length) {
  Address a;
  a.length = std::min<socklen_t>(length, sizeof(a.storage));
  std::memcpy(&a.storage, data, a.length);
  return a;
}

Socket::Socket(int family, int type, int protocol, int flags)
    : FileDescription(O_RDWR | (flags & O_NONBLOCK)), family_(family), type_(type), protocol_(protocol),
      ino_(next_ino.fetch_add(1)) {}

Socket::~Socket() = default;

void Socket::remember(const std::shared_ptr<Socket>& s) {
  std::lock_guard lock(registry_mutex());
  auto& r = registry();
  std::erase_if(r, [](const std::weak_ptr<Socket>& w) { return w.expired(); });
  r.push_back(s);
}

std::vector<std::shared_ptr<Socket>> Socket::all() {
  std::lock_guard lock(registry_mutex());
  std::vector<std::shared_ptr<Socket>> out;
  for (const auto& w : registry()) {
    if (auto s = w.lock()) out.push_back(std::move(s));
  }
  return out;
}

Result<struct stat> Socket::stat() {
  struct stat st{};
  st.st_mode = S_IFSOCK | 0777;
  st.st_ino = ino_;
  st.st_nlink = 1;
  st.st_dev = makedev(0, 8);  // sockfs
  st.st_blksize = 4096;
  return st;
}

Result<size_t> Socket::read(std::span<const iovec> dst, int64_t) {
  Received ignored;
  return recvmsg(dst, 0, ignored);
}

Result<size_t> Socket::write(std::span<const iovec> src, int64_t) {
  const Caller caller = caller_source ? caller_source() : Caller{};
  return sendmsg(src, nullptr, {}, 0, caller);
}

std::vector<uint8_t> int_option(int value) {
  std::vector<uint8_t> out(sizeof(int));
  std::memcpy(out.data(), &value, sizeof(int));
  return out;
}

Result<int> int_value(std::span<const uint8_t> value) {
  if (value.size() < sizeof(int)) return Err(EINVAL);
  int v;
  std::memcpy(&v, value.data(), sizeof(int));
  return v;
}

int doubled_buffer(int requested, int minimum) {
  const int64_t capped = std::min<int64_t>(std::max(requested, 0), kMaxBufferRequest);
  return static_cast<int>(std::max<int64_t>(capped * 2, minimum));
}

Result<std::vector<uint8_t>> Socket::getsockopt(int level, int name, size_t optlen) {
  auto r = family_getsockopt(level, name, optlen);
  if (r || r.error() != ENOPROTOOPT || level != SOL_SOCKET) return r;
  switch (name) {
    case SO_TYPE: return int_option(type_);
    case SO_DOMAIN: return int_option(family_);
    case SO_PROTOCOL: return int_option(protocol_);
    case SO_RCVTIMEO: return timeout_option(rcv_timeout_ms_);
    case SO_SNDTIMEO: return timeout_option(snd_timeout_ms_);
    default: return Err(ENOPROTOOPT);
  }
}

Result<void> Socket::setsockopt(int level, int name, std::span<const uint8_t> value) {
  if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
    auto ms = timeout_from(value);
    if (!ms) return Err(ms.error());
    (name == SO_RCVTIMEO ? rcv_timeout_ms_ : snd_timeout_ms_) = *ms;
    return {};
  }
  if (level == SOL_SOCKET && (name == SO_TYPE || name == SO_DOMAIN || name == SO_PROTOCOL)) return Err(ENOPROTOOPT);
  return family_setsockopt(level, name, value);
}

}  // namespace runsc::netstack
