// AF_NETLINK, NETLINK_ROUTE (rtnetlink(7)), answered by the Sentry: the
// application's requests are parsed here, never handed to the host. The
// links, addresses and routes of the namespace come from dumps the Sentry
// itself asks of the host (its own fixed requests), parsed defensively and
// passed on with the application's sequence number and port ID. Changes
// (RTM_NEW*/DEL*/SET*) are refused with EOPNOTSUPP until the Sentry owns
// the network (netstack).
#pragma once

#include <deque>

#include "netstack/socket.h"

namespace runsc::netstack {

class NetlinkRouteSocket final : public Socket {
 public:
  // EPROTONOSUPPORT for a netlink protocol other than NETLINK_ROUTE;
  // `port` is the creator's pid, the first socket's default port ID.
  static Result<std::shared_ptr<NetlinkRouteSocket>> create(int type, int protocol, int flags, int32_t port);
  NetlinkRouteSocket(int type, int flags, int32_t port);
  ~NetlinkRouteSocket() override;

  Result<void> bind(const Address& addr, const Caller& caller) override;
  Result<void> connect(const Address& addr, const Caller& caller) override;
  Result<void> shutdown(int how) override;
  Result<Address> local_address() override;
  Result<Address> peer_address() override;
  Result<size_t> sendmsg(std::span<const iovec> src, const Address* to, Control control, int flags,
                         const Caller& caller) override;
  Result<size_t> recvmsg(std::span<const iovec> dst, int flags, Received& out) override;
  Result<int64_t> ioctl(uint64_t cmd, uint64_t arg, vfs::UserMemory& mem) override;

  bool sentry_pollable() const override { return true; }
  void add_poll_waiter(int fd) override { waiters_.add(fd); }
  void remove_poll_waiter(int fd) override { waiters_.remove(fd); }
  uint64_t poll_changes() const override { return waiters_.changes(); }
  short readiness(short events) const override;

 protected:
  Result<std::vector<uint8_t>> family_getsockopt(int level, int name, size_t optlen) override;
  Result<void> family_setsockopt(int level, int name, std::span<const uint8_t> value) override;

 private:
  void bind_port_locked();
  // Answers one request message; replies go to the queue.
  void handle_locked(const uint8_t* msg, size_t len);
  void queue_error_locked(const uint8_t* msg, size_t len, int error);

  mutable std::mutex mu_;
  int32_t default_port_;
  uint32_t port_ = 0;
  uint32_t groups_ = 0;
  bool ext_ack_ = false;
  bool strict_check_ = false;
  int rcvbuf_ = kDefaultBuffer, sndbuf_ = kDefaultBuffer;
  std::deque<std::vector<uint8_t>> queue_;
  mutable vfs::Waiters waiters_;
};

// The host's dumps, for /proc/net: each message of the answer to
// {type, NLM_F_REQUEST | NLM_F_DUMP} with an `family` header.
Result<std::vector<std::vector<uint8_t>>> host_route_dump(uint16_t type, uint8_t family);

// /proc/net/dev, /proc/net/route and /proc/net/if_inet6, from those dumps.
std::string proc_net_dev();
std::string proc_net_route();
std::string proc_net_if_inet6();

}  // namespace runsc::netstack
