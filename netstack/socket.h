// The socket layer: Socket, the FileDescription every socket family
// implements (unix/ in the Sentry, hostinet/ through host sockets,
// netlink/ answered by the Sentry), and the messages that cross it. The
// syscalls (syscalls/sys_socket.cc) copy addresses and control data in
// and out of the application and call these; a socket never sees the
// application's memory except through the iovecs it is given.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "vfs/file.h"
#include "vfs/waiters.h"

namespace runsc::netstack {

// Who makes a call, as far as sockets care: the credentials SO_PEERCRED
// and SCM_CREDENTIALS report (unix(7)), the RLIMIT_NOFILE that bounds the
// FDs a user may have in flight, and the capabilities some calls need.
struct Caller {
  int32_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t nofile_limit = 1024;
  bool cap_net_admin = false;
  bool cap_net_bind_service = false;
  bool cap_net_raw = false;
  bool cap_sys_admin = false;
  bool cap_setuid = false;
  bool cap_setgid = false;
};

// A unix socket's node in a file system, which the syscall layer finds
// or makes (bind) by walking the path: the socket layer never walks.
struct NodeKey {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator<(const NodeKey& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
  bool operator==(const NodeKey& o) const = default;
};

// A socket address as the application gave it (at most sockaddr_storage).
struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  // For an AF_UNIX path name: the node the syscall layer resolved.
  std::optional<NodeKey> node;

  int family() const { return length >= sizeof(sa_family_t) ? storage.ss_family : AF_UNSPEC; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage); }
  static Address from(const void* data, socklen_t length);
};

// Ancillary data (cmsg(3)): what unix sockets carry, and for host
// sockets the host's control messages in the kernel's layout.
struct Control {
  std::vector<std::shared_ptr<vfs::FileDescription>> rights;  // SCM_RIGHTS
  std::optional<ucred> credentials;                            // SCM_CREDENTIALS
  std::vector<uint8_t> raw;                                    // host cmsgs, as they are
};

// What recvmsg(2) returns besides the bytes.
struct Received {
  Address from;       // length 0: no address
  Control control;
  int flags = 0;      // MSG_TRUNC, MSG_CTRUNC, MSG_EOR...
  // How much control data the application has room for (msg_controllen),
  // for host sockets that receive raw control messages.
  size_t control_room = 0;
};

// Linux's defaults and bounds for socket buffers (net.core.wmem_default,
// rmem_default, wmem_max, rmem_max; SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF).
inline constexpr int kDefaultBuffer = 212992;
inline constexpr int kMaxBufferRequest = 212992;
inline constexpr int kMinSndBuf = 4608;
inline constexpr int kMinRcvBuf = 2304;

class Socket : public vfs::FileDescription {
 public:
  ~Socket() override;
  int family() const { return family_; }
  int type() const { return type_; }
  int protocol() const { return protocol_; }
  uint64_t inode_number() const { return ino_; }

  virtual Result<void> bind(const Address& addr, const Caller& caller) = 0;
  virtual Result<void> listen(int backlog, const Caller& caller) {
    (void)backlog, (void)caller;
    return Err(EOPNOTSUPP);
  }
  // A connection from the queue; `peer` gets its address. The new
  // socket's status flags are the caller's to set.
  virtual Result<std::shared_ptr<Socket>> accept(Address* peer, const Caller& caller) {
    (void)peer, (void)caller;
    return Err(EOPNOTSUPP);
  }
  virtual Result<void> connect(const Address& addr, const Caller& caller) = 0;
  virtual Result<void> shutdown(int how) = 0;
  virtual Result<Address> local_address() = 0;
  virtual Result<Address> peer_address() = 0;

  // Options: the family's first; then the ones every socket has
  // (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_RCVTIMEO, SO_SNDTIMEO), which
  // the Sentry keeps because it does the blocking. `optlen` is the
  // application's buffer size; the result may be longer (it is cut).
  Result<std::vector<uint8_t>> getsockopt(int level, int name, size_t optlen);
  Result<void> setsockopt(int level, int name, std::span<const uint8_t> value);

  // `to` may be null (connected); returns bytes sent.
  virtual Result<size_t> sendmsg(std::span<const iovec> src, const Address* to, Control control, int flags,
                                 const Caller& caller) = 0;
  // Returns the bytes received (or, with MSG_TRUNC for datagrams, the
  // real length).
  virtual Result<size_t> recvmsg(std::span<const iovec> dst, int flags, Received& out) = 0;

  // read(2)/write(2) are recv and send without flags.
  Result<size_t> read(std::span<const iovec> dst, int64_t offset) override;
  Result<size_t> write(std::span<const iovec> src, int64_t offset) override;
  Result<struct stat> stat() override;

  // SO_RCVTIMEO/SO_SNDTIMEO in ms (< 0: none), for blocking calls.
  int receive_timeout_ms() const { return rcv_timeout_ms_; }
  int send_timeout_ms() const { return snd_timeout_ms_; }
  bool nonblocking(int msg_flags) const { return (flags_ & O_NONBLOCK) || (msg_flags & MSG_DONTWAIT); }

  // Every socket the sandbox holds, for /proc/net (the ones alive).
  static std::vector<std::shared_ptr<Socket>> all();

 protected:
  Socket(int family, int type, int protocol, int flags);
  // Registers the socket for all(); call once it is owned by a shared_ptr.
  static void remember(const std::shared_ptr<Socket>& s);
  virtual Result<std::vector<uint8_t>> family_getsockopt(int level, int name, size_t optlen) {
    (void)level, (void)name, (void)optlen;
    return Err(ENOPROTOOPT);
  }
  virtual Result<void> family_setsockopt(int level, int name, std::span<const uint8_t> value) {
    (void)level, (void)name, (void)value;
    return Err(ENOPROTOOPT);
  }

 private:
  int family_, type_, protocol_;
  uint64_t ino_;
  int rcv_timeout_ms_ = -1;
  int snd_timeout_ms_ = -1;
};

// Who the calling thread runs for, as the syscall layer tells it: read(2)
// and write(2) on a socket carry the writer's credentials too
// (SCM_CREDENTIALS), though they reach the socket without a Caller.
void set_caller_source(Caller (*source)());

// Option values in the kernel's layouts.
std::vector<uint8_t> int_option(int value);
Result<int> int_value(std::span<const uint8_t> value);
// SO_SNDBUF/SO_RCVBUF as sock_setsockopt() stores them: capped at the
// maximum, then doubled, never below the minimum.
int doubled_buffer(int requested, int minimum);

}  // namespace runsc::netstack
