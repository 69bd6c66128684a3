// AF_UNIX sockets (unix(7)), entirely in the Sentry: no host socket is
// behind them. SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET; names in the
// file systems (the syscall layer makes and finds the nodes) and in the
// abstract namespace; SCM_RIGHTS, SCM_CREDENTIALS, SO_PEERCRED.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "netstack/socket.h"

namespace runsc::netstack {

class UnixSocket final : public Socket, public std::enable_shared_from_this<UnixSocket> {
 public:
  // socket(2): EPROTONOSUPPORT for a protocol other than 0 (PF_UNIX),
  // ESOCKTNOSUPPORT for a type unix sockets lack.
  static Result<std::shared_ptr<UnixSocket>> create(int type, int protocol, int flags);
  // socketpair(2): two connected sockets whose peer credentials are the
  // caller's.
  static Result<std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>>> pair(int type, int protocol,
                                                                                          int flags,
                                                                                          const Caller& caller);
  UnixSocket(int type, int flags);
  ~UnixSocket() override;

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

  bool sentry_pollable() const override { return true; }
  void add_poll_waiter(int fd) override { waiters_.add(fd); }
  void remove_poll_waiter(int fd) override { waiters_.remove(fd); }
  uint64_t poll_changes() const override { return waiters_.changes(); }
  short readiness(short events) const override;

  // Whether bind(2) already gave it a name (a second bind is EINVAL).
  bool bound() const;
  // One line of /proc/net/unix for this socket (no newline).
  std::string proc_net_line() const;

 protected:
  Result<std::vector<uint8_t>> family_getsockopt(int level, int name, size_t optlen) override;
  Result<void> family_setsockopt(int level, int name, std::span<const uint8_t> value) override;

 private:
  struct Segment;
  struct State;
  enum class Conn { kUnconnected, kListening, kConnected };

  Result<size_t> send_stream(std::span<const iovec> src, Control control, int flags, const Caller& caller);
  Result<size_t> send_datagram(std::span<const iovec> src, const Address* to, Control control, int flags,
                               const Caller& caller);
  Result<size_t> recv_stream(std::span<const iovec> dst, int flags, Received& out);
  Result<size_t> recv_datagram(std::span<const iovec> dst, int flags, Received& out);
  bool writable_locked() const;
  void autobind_locked();
  Address address_or_family_locked() const;

  std::unique_ptr<State> s_;
  mutable vfs::Waiters waiters_;
};

// The text of /proc/net/unix: the header and one line per unix socket.
std::string proc_net_unix();

}  // namespace runsc::netstack
