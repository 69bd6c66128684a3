// AF_INET and AF_INET6 through the host (gVisor's hostinet): the Sentry
// makes a non-blocking host socket in the network namespace it runs in
// and drives it for the application. The application's blocking happens
// in the Sentry (interruptible, with SO_RCVTIMEO/SO_SNDTIMEO), readiness
// is the host FD's, and only the options, flags, control messages and
// ioctls listed here reach the host, with their arguments checked; the
// Sentry's seccomp allowlist is built from the same tables.
#pragma once

#include <span>

#include "common/unique_fd.h"
#include "netstack/socket.h"

namespace runsc::netstack {

struct SocketOption {
  int level;
  int name;
  bool settable;  // false: getsockopt only (TCP_INFO, SO_ERROR...)
};
// The options passed to the host socket.
std::span<const SocketOption> host_socket_options();
// The socket types the Sentry creates on the host, with
// SOCK_NONBLOCK | SOCK_CLOEXEC: {family, type, protocol or -1 for any}.
struct HostSocketKind {
  int family;
  int type;
  int protocol;
};
std::span<const HostSocketKind> host_socket_kinds();
// The ioctls passed through (arguments are ints or struct ifreq/ifconf
// the Sentry copies).
std::span<const unsigned long> host_socket_ioctls();

// net.ipv4.ip_unprivileged_port_start as the application sees it (Linux's
// default 1024): binding a port below it takes CAP_NET_BIND_SERVICE. The
// Sentry makes that check itself: the host's is opened to the Sentry,
// which holds no capability (runsc/launch.h).
void set_unprivileged_port_start(int port);
int unprivileged_port_start();

class HostSocket final : public Socket {
 public:
  // EAFNOSUPPORT/EPROTONOSUPPORT/ESOCKTNOSUPPORT as Linux for what is
  // not offered; raw sockets need CAP_NET_RAW (EPERM).
  static Result<std::shared_ptr<HostSocket>> create(int family, int type, int protocol, int flags,
                                                     const Caller& caller);
  HostSocket(UniqueFd fd, int family, int type, int protocol, int flags);

  Result<void> bind(const Address& addr, const Caller& caller) override;
  Result<void> listen(int backlog, const Caller& caller) override;
  Result<std::shared_ptr<Socket>> accept(Address* peer, const Caller& caller) override;
  Result<void> connect(const Address& addr, const Caller& caller) override;
  Result<void> shutdown(int how) override;
  Result<Address> local_address() override;
  Result<Address> peer_address() override;
  Result<size_t> sendmsg(std::span<const iovec> src, const Address* to, Control control, int flags,
                         const Caller& caller) override;
  Result<size_t> recvmsg(std::span<const iovec> dst, int flags, Received& out) override;
  Result<int64_t> ioctl(uint64_t cmd, uint64_t arg, vfs::UserMemory& mem) override;
  int host_poll_fd() const override { return fd_.get(); }
  short readiness(short events) const override;
  // For /proc/net/{tcp,udp}{,6}.
  int host_fd() const { return fd_.get(); }

 protected:
  Result<std::vector<uint8_t>> family_getsockopt(int level, int name, size_t optlen) override;
  Result<void> family_setsockopt(int level, int name, std::span<const uint8_t> value) override;

 private:
  Result<void> check_address(const Address& addr, bool allow_unspec) const;
  UniqueFd fd_;
};

// The interface ioctls (SIOCGIFCONF, SIOCGIFFLAGS, ...) answered from the
// host's view of the namespace, for a socket of any family; nullopt if
// `cmd` is not one of them.
std::optional<Result<int64_t>> interface_ioctl(uint64_t cmd, uint64_t arg, vfs::UserMemory& mem);

// /proc/net/{tcp,tcp6,udp,udp6} for the sandbox's host sockets.
std::string proc_net_inet(int family, int type);

}  // namespace runsc::netstack
