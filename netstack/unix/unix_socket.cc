#include "netstack/unix/unix_socket.h"

#include <linux/sockios.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include <fmt/core.h>

namespace runsc::netstack {
namespace {

// Linux's sk_shutdown bits.
constexpr int kRcvShutdown = 1;
constexpr int kSendShutdown = 2;
constexpr int kShutdownMask = 3;
// What a queued message costs its sender's buffer beyond its bytes (an
// sk_buff's truesize overhead), so small datagrams fill SO_SNDBUF the way
// Linux's do.
constexpr size_t kSegmentOverhead = 576;
// net.unix.max_dgram_qlen: datagrams a receiver queues from senders it is
// not connected to.
constexpr size_t kMaxDgramQlen = 10;
// SCM_MAX_FD: file descriptors in one SCM_RIGHTS message.
constexpr size_t kScmMaxFd = 253;
// The ucred of a socket with no peer (cred_to_ucred() of nothing).
constexpr ucred kNoCred{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};

size_t total_length(std::span<const iovec> v) {
  size_t n = 0;
  for (const auto& e : v) n += e.iov_len;
  return n;
}

// Copies `n` bytes starting `skip` bytes into `src` to `dst`'s iovecs
// starting `at` bytes in.
void copy_to_iovecs(std::span<const iovec> dst, size_t at, const uint8_t* src, size_t n) {
  for (const auto& v : dst) {
    if (n == 0) return;
    if (at >= v.iov_len) {
      at -= v.iov_len;
      continue;
    }
    const size_t take = std::min(n, v.iov_len - at);
    std::memcpy(static_cast<uint8_t*>(v.iov_base) + at, src, take);
    src += take;
    n -= take;
    at = 0;
  }
}

void copy_from_iovecs(std::span<const iovec> src, size_t at, uint8_t* dst, size_t n) {
  for (const auto& v : src) {
    if (n == 0) return;
    if (at >= v.iov_len) {
      at -= v.iov_len;
      continue;
    }
    const size_t take = std::min(n, v.iov_len - at);
    std::memcpy(dst, static_cast<const uint8_t*>(v.iov_base) + at, take);
    dst += take;
    n -= take;
    at = 0;
  }
}

// A timeout (SO_RCVTIMEO/SO_SNDTIMEO) is EAGAIN (socket(7)).
int wait_result(int rc) { return rc == ETIMEDOUT ? EAGAIN : rc; }

}  // namespace

// A message's bytes: allocated without being cleared first, since they
// are written over at once.
struct Bytes {
  std::unique_ptr<uint8_t[]> bytes;
  size_t length = 0;
  void resize(size_t n) {
    bytes = std::make_unique_for_overwrite<uint8_t[]>(n);
    length = n;
  }
  size_t size() const { return length; }
  uint8_t* data() { return bytes.get(); }
  const uint8_t* data() const { return bytes.get(); }
};

// One sendmsg(2)'s worth of a receive queue (Linux's sk_buff).
struct UnixSocket::Segment {
  Bytes data;
  size_t consumed = 0;  // stream: bytes already read
  std::vector<std::shared_ptr<vfs::FileDescription>> rights;
  ucred creds{};
  std::weak_ptr<UnixSocket> sender;
  Address sender_address;  // length 0 when the sender had no name
  size_t charge = 0;       // what the sender's buffer holds for it
  uint32_t rights_uid = 0;  // whose in-flight count the rights are on
  size_t left() const { return data.size() - consumed; }
};

namespace {

// The sandbox's unix socket namespace (one network namespace): names,
// FDs in flight per user, and the one lock that guards every unix
// socket's state. One lock keeps a connection's two ends and a listener's
// queue consistent without lock ordering; nothing slow runs under it.
struct Namespace {
  std::mutex mu;
  std::map<std::string, std::weak_ptr<UnixSocket>> abstract;
  std::map<NodeKey, std::weak_ptr<UnixSocket>> paths;
  std::map<uint32_t, size_t> inflight;  // FDs in flight per uid (too_many_unix_fds())
  uint32_t next_autobind = 0;
};

// An abstract name's key: the socket type, then the bytes after the NUL
// (the length is part of the name).
std::string abstract_key(int type, const sockaddr_un* sun, socklen_t length) {
  return std::to_string(type) + "@" + std::string(sun->sun_path + 1, length - offsetof(sockaddr_un, sun_path) - 1);
}

Namespace& ns() {
  static Namespace n;
  return n;
}

// Things to let go only after the lock is released: dropping the last
// reference to a socket (or a file holding one) runs its release, which
// takes the lock again.
struct Garbage {
  std::vector<std::shared_ptr<void>> items;
  template <class T>
  std::shared_ptr<T> keep(std::shared_ptr<T> p) {
    if (p) items.push_back(p);
    return p;
  }
};

}  // namespace

struct UnixSocket::State {
  Conn conn = Conn::kUnconnected;
  bool accepted_or_paired = true;  // false for a connection still in a listener's queue
  std::optional<Address> name;     // bind(2)
  std::optional<NodeKey> node;
  std::string abstract_key;
  std::weak_ptr<UnixSocket> peer;
  bool dgram_connected = false;    // a datagram socket with a default peer
  Address peer_name;               // the peer's name when it connected
  std::deque<Segment> queue;
  size_t queued_bytes = 0;
  std::deque<std::shared_ptr<UnixSocket>> backlog_queue;  // listener: connections not yet accepted
  int backlog = 0;
  int shutdown = 0;
  int error = 0;
  size_t wmem = 0;  // what this socket's messages hold in receivers' queues
  int sndbuf = kDefaultBuffer;
  int rcvbuf = kDefaultBuffer;
  bool passcred = false;
  int64_t peek_off = -1;
  int rcvlowat = 1;
  ucred peer_cred = kNoCred;
  ucred listen_cred = kNoCred;
  std::map<int, int> plain_options;  // options kept and reported only
};

Result<std::shared_ptr<UnixSocket>> UnixSocket::create(int type, int protocol, int flags) {
  if (protocol != 0 && protocol != PF_UNIX) return Err(EPROTONOSUPPORT);
  // unix_create(): SOCK_RAW is taken as SOCK_DGRAM.
  if (type == SOCK_RAW) type = SOCK_DGRAM;
  if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET) return Err(ESOCKTNOSUPPORT);
  auto s = std::make_shared<UnixSocket>(type, flags);
  remember(s);
  return s;
}

Result<std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>>> UnixSocket::pair(int type, int protocol,
                                                                                             int flags,
                                                                                             const Caller& caller) {
  auto a = create(type, protocol, flags);
  if (!a) return Err(a.error());
  auto b = create(type, protocol, flags);
  if (!b) return Err(b.error());
  std::lock_guard lock(ns().mu);
  const ucred me{caller.pid, caller.uid, caller.gid};
  for (auto [x, y] : {std::pair{*a, *b}, std::pair{*b, *a}}) {
    x->s_->peer = y;
    x->s_->peer_cred = me;
    x->s_->dgram_connected = type == SOCK_DGRAM;
    if (type != SOCK_DGRAM) x->s_->conn = Conn::kConnected;
  }
  return std::pair{*a, *b};
}

UnixSocket::UnixSocket(int type, int flags) : Socket(AF_UNIX, type, 0, flags), s_(std::make_unique<State>()) {}

UnixSocket::~UnixSocket() {
  Garbage g;
  std::vector<std::shared_ptr<UnixSocket>> to_wake;
  {
    std::lock_guard lock(ns().mu);
    Namespace& n = ns();
    // Our names go, unless someone took them since our last reference went.
    if (auto it = n.abstract.find(s_->abstract_key); !s_->abstract_key.empty() && it != n.abstract.end() &&
                                                     it->second.expired())
      n.abstract.erase(it);
    if (s_->node) {
      auto it = n.paths.find(*s_->node);
      if (it != n.paths.end() && it->second.expired()) n.paths.erase(it);
    }
    // unix_release_sock(): a connected peer hangs up, and learns of the
    // loss (ECONNRESET) if data was left unread or it was never accepted.
    if (auto peer = g.keep(s_->peer.lock())) {
      if (type() != SOCK_DGRAM) {
        peer->s_->shutdown = kShutdownMask;
        if (!s_->queue.empty() || !s_->accepted_or_paired) peer->s_->error = ECONNRESET;
        to_wake.push_back(peer);
      }
    }
    for (Segment& seg : s_->queue) {
      if (auto sender = g.keep(seg.sender.lock())) {
        sender->s_->wmem -= std::min(sender->s_->wmem, seg.charge);
        to_wake.push_back(sender);
      }
      if (!seg.rights.empty()) {
        auto& count = n.inflight[seg.rights_uid];
        count -= std::min(count, seg.rights.size());
      }
      for (auto& f : seg.rights) g.keep(std::move(f));
    }
    s_->queue.clear();
    for (auto& embryo : s_->backlog_queue) g.keep(std::move(embryo));
    s_->backlog_queue.clear();
  }
  for (auto& s : to_wake) {
    s->waiters_.notify();
    s->notify_async(POLL_HUP);
  }
  for (auto& s : to_wake) g.keep(std::move(s));
}

bool UnixSocket::bound() const {
  std::lock_guard lock(ns().mu);
  return s_->name.has_value();
}

Address UnixSocket::address_or_family_locked() const {
  if (s_->name) return *s_->name;
  Address a;
  a.storage.ss_family = AF_UNIX;
  a.length = sizeof(sa_family_t);
  return a;
}

// unix_autobind(): an abstract name of five hex digits.
void UnixSocket::autobind_locked() {
  Namespace& n = ns();
  for (;;) {
    const uint32_t id = n.next_autobind++ & 0xfffff;
    const std::string key = fmt::format("{}@{:05x}", type(), id);
    if (n.abstract.contains(key) && !n.abstract[key].expired()) continue;
    Address a;
    a.storage.ss_family = AF_UNIX;
    auto* sun = reinterpret_cast<sockaddr_un*>(&a.storage);
    sun->sun_path[0] = '\0';
    const std::string hex = key.substr(key.find('@') + 1);
    std::memcpy(sun->sun_path + 1, hex.data(), hex.size());
    a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + hex.size());
    s_->name = a;
    s_->abstract_key = key;
    n.abstract[key] = weak_from_this();
    return;
  }
}

Result<void> UnixSocket::bind(const Address& addr, const Caller& caller) {
  (void)caller;
  if (addr.length < sizeof(sa_family_t) || addr.family() != AF_UNIX || addr.length > sizeof(sockaddr_un))
    return Err(EINVAL);
  std::lock_guard lock(ns().mu);
  if (addr.length == sizeof(sa_family_t)) {
    // Asking a named socket to autobind changes nothing (unix_autobind()).
    if (!s_->name) autobind_locked();
    return {};
  }
  if (s_->name) return Err(EINVAL);
  const auto* sun = reinterpret_cast<const sockaddr_un*>(&addr.storage);
  Namespace& n = ns();
  if (sun->sun_path[0] == '\0') {
    const std::string key = abstract_key(type(), sun, addr.length);
    if (auto it = n.abstract.find(key); it != n.abstract.end() && !it->second.expired()) return Err(EADDRINUSE);
    n.abstract[key] = weak_from_this();
    s_->abstract_key = key;
    s_->name = addr;
    s_->name->node.reset();
    return {};
  }
  if (!addr.node) return Err(EINVAL);
  // The name as Linux keeps it: the path up to its NUL, plus the NUL.
  Address name = addr;
  const size_t max = addr.length - offsetof(sockaddr_un, sun_path);
  const size_t len = strnlen(sun->sun_path, max);
  name.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + 1);
  if (name.length > sizeof(sockaddr_un)) name.length = sizeof(sockaddr_un);
  n.paths[*addr.node] = weak_from_this();
  s_->node = addr.node;
  s_->name = name;
  return {};
}

Result<void> UnixSocket::listen(int backlog, const Caller& caller) {
  if (type() == SOCK_DGRAM) return Err(EOPNOTSUPP);
  std::unique_lock lock(ns().mu);
  if (!s_->name) return Err(EINVAL);  // no listening on an unbound socket
  if (s_->conn == Conn::kConnected) return Err(EINVAL);
  // listen(2): a backlog above somaxconn (4096) is cut to it.
  s_->backlog = static_cast<unsigned>(backlog) > 4096 ? 4096 : backlog;
  s_->conn = Conn::kListening;
  s_->listen_cred = ucred{caller.pid, caller.uid, caller.gid};
  lock.unlock();
  waiters_.notify();  // connectors waiting for room look again
  return {};
}

namespace {

// The socket a name leads to (unix_find_other()): ECONNREFUSED if none.
// Abstract names are per socket type, so another type's is not found.
Result<std::shared_ptr<UnixSocket>> find_target(int type, const Address& addr, Garbage& g) {
  if (addr.length < sizeof(sa_family_t) + 1 || addr.family() != AF_UNIX || addr.length > sizeof(sockaddr_un))
    return Err(EINVAL);
  const auto* sun = reinterpret_cast<const sockaddr_un*>(&addr.storage);
  Namespace& n = ns();
  std::weak_ptr<UnixSocket> found;
  if (sun->sun_path[0] == '\0') {
    const std::string key = abstract_key(type, sun, addr.length);
    if (auto it = n.abstract.find(key); it != n.abstract.end()) found = it->second;
  } else {
    if (!addr.node) return Err(ECONNREFUSED);
    if (auto it = n.paths.find(*addr.node); it != n.paths.end()) found = it->second;
  }
  auto target = g.keep(found.lock());
  if (!target) return Err(ECONNREFUSED);
  return target;
}

}  // namespace

Result<void> UnixSocket::connect(const Address& addr, const Caller& caller) {
  Garbage g;
  std::unique_lock lock(ns().mu);
  if (type() == SOCK_DGRAM) {
    // connect(2) on a datagram socket sets its default destination;
    // AF_UNSPEC dissolves it.
    if (addr.length >= sizeof(sa_family_t) && addr.family() == AF_UNSPEC) {
      s_->peer.reset();
      s_->dgram_connected = false;
      return {};
    }
    if (s_->passcred && !s_->name) autobind_locked();
    auto target = find_target(type(), addr, g);
    if (!target) return Err(target.error());
    if ((*target)->type() != type()) return Err(EPROTOTYPE);
    s_->peer = *target;
    s_->dgram_connected = true;
    s_->peer_name = (*target)->address_or_family_locked();
    return {};
  }
  if (addr.length < sizeof(sa_family_t) || addr.family() != AF_UNIX) return Err(EINVAL);
  if (s_->conn == Conn::kListening) return Err(EINVAL);
  if (s_->conn == Conn::kConnected) return Err(EISCONN);
  if (s_->passcred && !s_->name) autobind_locked();
  for (;;) {
    auto target = find_target(type(), addr, g);
    if (!target) return Err(target.error());
    UnixSocket& listener = **target;
    if (listener.type() != type()) return Err(EPROTOTYPE);
    if (listener.s_->conn != Conn::kListening || (listener.s_->shutdown & kRcvShutdown)) return Err(ECONNREFUSED);
    // unix_recvq_full(): more than the backlog are waiting to be accepted.
    if (listener.s_->backlog_queue.size() > static_cast<size_t>(listener.s_->backlog)) {
      if (flags_ & O_NONBLOCK) return Err(EAGAIN);
      auto keep = *target;
      const int rc = listener.waiters_.wait(lock, send_timeout_ms());
      if (rc != 0) return Err(wait_result(rc));
      if (s_->conn == Conn::kConnected) return Err(EISCONN);
      continue;
    }
    // The listener's end of the connection, queued for accept(2); both
    // ends are connected from now on, so the client may write at once.
    auto embryo = std::make_shared<UnixSocket>(type(), 0);
    remember(embryo);
    embryo->s_->conn = Conn::kConnected;
    embryo->s_->accepted_or_paired = false;
    embryo->s_->peer = weak_from_this();
    embryo->s_->peer_name = address_or_family_locked();
    embryo->s_->name = listener.s_->name;
    embryo->s_->peer_cred = ucred{caller.pid, caller.uid, caller.gid};
    embryo->s_->passcred = listener.s_->passcred;
    s_->peer = embryo;
    s_->peer_name = listener.s_->name ? *listener.s_->name : Address{};
    s_->peer_cred = listener.s_->listen_cred;
    s_->conn = Conn::kConnected;
    listener.s_->backlog_queue.push_back(std::move(embryo));
    lock.unlock();
    listener.waiters_.notify();
    listener.notify_async(POLL_IN);
    waiters_.notify();
    return {};
  }
}

Result<std::shared_ptr<Socket>> UnixSocket::accept(Address* peer, const Caller& caller) {
  (void)caller;
  if (type() == SOCK_DGRAM) return Err(EOPNOTSUPP);
  Garbage g;
  std::unique_lock lock(ns().mu);
  for (;;) {
    if (s_->conn != Conn::kListening) return Err(EINVAL);
    if (!s_->backlog_queue.empty()) {
      std::shared_ptr<UnixSocket> conn = std::move(s_->backlog_queue.front());
      s_->backlog_queue.pop_front();
      conn->s_->accepted_or_paired = true;
      if (peer) *peer = conn->s_->peer_name;
      if (auto client = g.keep(conn->s_->peer.lock())) {
        if (peer) *peer = client->address_or_family_locked();
      }
      lock.unlock();
      waiters_.notify();  // a connector waiting for room may go on
      return std::static_pointer_cast<Socket>(conn);
    }
    if (flags_ & O_NONBLOCK) return Err(EAGAIN);
    if (const int rc = waiters_.wait(lock, receive_timeout_ms()); rc != 0) return Err(wait_result(rc));
  }
}

Result<void> UnixSocket::shutdown(int how) {
  if (how < SHUT_RD || how > SHUT_RDWR) return Err(EINVAL);
  const int mode = how + 1;  // SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN
  Garbage g;
  std::shared_ptr<UnixSocket> peer;
  {
    std::lock_guard lock(ns().mu);
    s_->shutdown |= mode;
    if (type() != SOCK_DGRAM) {
      peer = g.keep(s_->peer.lock());
      if (peer) {
        int peer_mode = 0;
        if (mode & kRcvShutdown) peer_mode |= kSendShutdown;
        if (mode & kSendShutdown) peer_mode |= kRcvShutdown;
        peer->s_->shutdown |= peer_mode;
      }
    }
  }
  waiters_.notify();
  if (peer) peer->waiters_.notify();
  return {};
}

Result<Address> UnixSocket::local_address() {
  std::lock_guard lock(ns().mu);
  return address_or_family_locked();
}

Result<Address> UnixSocket::peer_address() {
  Garbage g;
  std::lock_guard lock(ns().mu);
  if (type() == SOCK_DGRAM) {
    auto peer = g.keep(s_->peer.lock());
    if (!peer) return Err(ENOTCONN);
    return peer->address_or_family_locked();
  }
  if (s_->conn != Conn::kConnected) return Err(ENOTCONN);
  if (auto peer = g.keep(s_->peer.lock())) return peer->address_or_family_locked();
  return s_->peer_name.length ? s_->peer_name : address_or_family_locked();
}

namespace {

// SCM_CREDENTIALS a sender gives must be its own unless it holds the
// capability to say otherwise (scm_check_creds()).
Result<ucred> credentials_to_send(const Control& control, const Caller& caller) {
  const ucred mine{caller.pid, caller.uid, caller.gid};
  if (!control.credentials) return mine;
  const ucred& c = *control.credentials;
  if (c.pid != caller.pid && !caller.cap_sys_admin) return Err(EPERM);
  if (c.uid != caller.uid && !caller.cap_setuid) return Err(EPERM);
  if (c.gid != caller.gid && !caller.cap_setgid) return Err(EPERM);
  return c;
}

// FDs in flight count against the sender's RLIMIT_NOFILE (ETOOMANYREFS).
Result<void> charge_rights_locked(const Control& control, const Caller& caller) {
  if (control.rights.empty()) return {};
  if (control.rights.size() > kScmMaxFd) return Err(EINVAL);
  size_t& count = ns().inflight[caller.uid];
  if (count + control.rights.size() > caller.nofile_limit && !caller.cap_sys_admin) return Err(ETOOMANYREFS);
  count += control.rights.size();
  return {};
}

void uncharge_rights_locked(uint32_t uid, size_t n) {
  if (n == 0) return;
  size_t& count = ns().inflight[uid];
  count -= std::min(count, n);
}

}  // namespace

Result<size_t> UnixSocket::sendmsg(std::span<const iovec> src, const Address* to, Control control, int flags,
                                   const Caller& caller) {
  if (flags & MSG_OOB) return Err(EOPNOTSUPP);
  if (type() == SOCK_STREAM) {
    if (to && to->length) {
      std::lock_guard lock(ns().mu);
      return Err(s_->conn == Conn::kConnected ? EISCONN : EOPNOTSUPP);
    }
    return send_stream(src, std::move(control), flags, caller);
  }
  if (type() == SOCK_SEQPACKET) to = nullptr;  // the address is ignored (unix_seqpacket_sendmsg())
  return send_datagram(src, to, std::move(control), flags, caller);
}

Result<size_t> UnixSocket::send_stream(std::span<const iovec> src, Control control, int flags, const Caller& caller) {
  auto creds = credentials_to_send(control, caller);
  if (!creds) return Err(creds.error());
  const size_t total = total_length(src);
  const bool nonblock = nonblocking(flags);
  Garbage g;
  std::unique_lock lock(ns().mu);
  if (s_->conn != Conn::kConnected) return Err(ENOTCONN);
  if (auto r = charge_rights_locked(control, caller); !r) return Err(r.error());
  size_t sent = 0;
  bool rights_sent = false;
  auto give_back_rights = [&] {
    if (!rights_sent) uncharge_rights_locked(caller.uid, control.rights.size());
  };
  // A stream sends nothing, control data included, for no bytes.
  while (sent < total) {
    if (s_->shutdown & kSendShutdown) break;
    auto peer = g.keep(s_->peer.lock());
    if (!peer || (peer->s_->shutdown & kRcvShutdown)) break;
    if (s_->wmem >= static_cast<size_t>(s_->sndbuf)) {
      if (nonblock) {
        give_back_rights();
        if (sent) return sent;
        return Err(EAGAIN);
      }
      const int rc = waiters_.wait(lock, send_timeout_ms());
      if (rc != 0) {
        give_back_rights();
        if (sent) return sent;
        return Err(wait_result(rc));
      }
      continue;
    }
    // unix_stream_sendmsg() sends at most half the buffer per message.
    const size_t chunk = std::min(total - sent, static_cast<size_t>(std::max(s_->sndbuf / 2 - 64, 1024)));
    Segment seg;
    // The copy from the application is made without the lock; what was
    // checked is checked again after it.
    lock.unlock();
    seg.data.resize(chunk);
    copy_from_iovecs(src, sent, seg.data.data(), chunk);
    lock.lock();
    if ((s_->shutdown & kSendShutdown) || (peer->s_->shutdown & kRcvShutdown) || s_->peer.expired()) break;
    if (!rights_sent) {
      seg.rights = std::move(control.rights);
      seg.rights_uid = caller.uid;
      rights_sent = true;
    }
    seg.creds = *creds;
    seg.sender = weak_from_this();
    seg.sender_address = s_->name ? *s_->name : Address{};
    seg.charge = chunk;
    s_->wmem += chunk;
    peer->s_->queued_bytes += chunk;
    peer->s_->queue.push_back(std::move(seg));
    sent += chunk;
    lock.unlock();
    peer->waiters_.notify();
    peer->notify_async(POLL_IN);
    lock.lock();
  }
  if (sent == total && total > 0) return sent;
  if (sent > 0) return sent;
  give_back_rights();
  // Nothing sent: the reason.
  if (s_->conn != Conn::kConnected) return Err(ENOTCONN);
  if (total == 0 && !(s_->shutdown & kSendShutdown)) {
    auto peer = g.keep(s_->peer.lock());
    if (peer && !(peer->s_->shutdown & kRcvShutdown)) return size_t{0};
  }
  return Err(EPIPE);
}

Result<size_t> UnixSocket::send_datagram(std::span<const iovec> src, const Address* to, Control control, int flags,
                                         const Caller& caller) {
  auto creds = credentials_to_send(control, caller);
  if (!creds) return Err(creds.error());
  const size_t total = total_length(src);
  const bool nonblock = nonblocking(flags);
  Garbage g;
  std::unique_lock lock(ns().mu);
  if (type() == SOCK_SEQPACKET && s_->conn != Conn::kConnected) return Err(ENOTCONN);
  if (total > static_cast<size_t>(std::max(s_->sndbuf - 32, 0))) return Err(EMSGSIZE);
  if (s_->shutdown & kSendShutdown) return Err(EPIPE);
  if (s_->passcred && !s_->name) autobind_locked();
  Bytes copied;  // the message, copied from the application without the lock
  for (;;) {
    std::shared_ptr<UnixSocket> target;
    if (to && to->length) {
      auto t = find_target(type(), *to, g);
      if (!t) return Err(t.error());
      target = *t;
      if (target->type() != type()) return Err(EPROTOTYPE);
    } else {
      target = g.keep(s_->peer.lock());
      if (!target) {
        if (type() == SOCK_SEQPACKET) return Err(EPIPE);
        // A connected peer that went away: ECONNREFUSED once, then the
        // socket is no longer connected (unix_dgram_sendmsg()).
        if (s_->dgram_connected) {
          s_->dgram_connected = false;
          s_->peer_name = Address{};
          return Err(ECONNREFUSED);
        }
        return Err(ENOTCONN);
      }
    }
    UnixSocket& other = *target;
    if (type() == SOCK_DGRAM) {
      auto others_peer = g.keep(other.s_->peer.lock());
      if (others_peer && others_peer.get() != this) return Err(EPERM);  // unix_may_send()
    }
    if (other.s_->shutdown & kRcvShutdown) return Err(EPIPE);
    const bool queue_full = type() == SOCK_DGRAM && other.s_->queue.size() > kMaxDgramQlen &&
                            g.keep(other.s_->peer.lock()).get() != this && &other != this;
    const bool buffer_full = s_->wmem >= static_cast<size_t>(s_->sndbuf);
    if (queue_full || buffer_full) {
      if (nonblock) return Err(EAGAIN);
      vfs::Waiters& w = queue_full ? other.waiters_ : waiters_;
      if (const int rc = w.wait(lock, send_timeout_ms()); rc != 0) return Err(wait_result(rc));
      continue;
    }
    if (auto r = charge_rights_locked(control, caller); !r) return Err(r.error());
    Segment seg;
    if (!copied.size() && total) {
      lock.unlock();
      copied.resize(total);
      copy_from_iovecs(src, 0, copied.data(), total);
      lock.lock();
      uncharge_rights_locked(caller.uid, control.rights.size());
      continue;  // what was checked is checked again
    }
    seg.data = std::move(copied);
    seg.rights = std::move(control.rights);
    seg.rights_uid = caller.uid;
    seg.creds = *creds;
    seg.sender = weak_from_this();
    seg.sender_address = s_->name ? *s_->name : Address{};
    seg.charge = total + kSegmentOverhead;
    s_->wmem += seg.charge;
    other.s_->queued_bytes += total;
    other.s_->queue.push_back(std::move(seg));
    lock.unlock();
    other.waiters_.notify();
    other.notify_async(POLL_IN);
    return total;
  }
}

Result<size_t> UnixSocket::recvmsg(std::span<const iovec> dst, int flags, Received& out) {
  if (flags & MSG_OOB) return Err(EOPNOTSUPP);
  if (type() == SOCK_STREAM) return recv_stream(dst, flags, out);
  return recv_datagram(dst, flags, out);
}

Result<size_t> UnixSocket::recv_stream(std::span<const iovec> dst, int flags, Received& out) {
  const size_t want = total_length(dst);
  const bool peek = flags & MSG_PEEK;
  const bool nonblock = nonblocking(flags);
  Garbage g;
  std::unique_lock lock(ns().mu);
  if (s_->conn != Conn::kConnected) return Err(EINVAL);
  const size_t target = (flags & MSG_WAITALL) ? want : std::min<size_t>(want, std::max(s_->rcvlowat, 1));
  size_t copied = 0;
  bool have_creds = false;
  ucred creds{};
  std::vector<std::shared_ptr<UnixSocket>> wake;
  for (;;) {
    size_t skip = peek && s_->peek_off >= 0 ? static_cast<size_t>(s_->peek_off) : 0;
    bool stop = false;
    auto it = s_->queue.begin();
    // Past what an earlier peek saw.
    while (it != s_->queue.end() && skip >= it->left()) skip -= (it++)->left();
    while (it != s_->queue.end() && copied < want) {
      Segment& seg = *it;
      if (s_->passcred) {
        // Never glue messages from different writers together.
        if (have_creds && (seg.creds.pid != creds.pid || seg.creds.uid != creds.uid || seg.creds.gid != creds.gid)) {
          stop = true;
          break;
        }
        creds = seg.creds;
        have_creds = true;
      }
      if (copied == 0 && seg.sender_address.length) out.from = seg.sender_address;
      const size_t n = std::min(seg.left() - skip, want - copied);
      copy_to_iovecs(dst, copied, seg.data.data() + seg.consumed + skip, n);
      copied += n;
      const bool has_rights = !seg.rights.empty();
      if (peek) {
        if (s_->peek_off >= 0) s_->peek_off += static_cast<int64_t>(n);
        if (has_rights) {
          out.control.rights = seg.rights;  // a peek passes copies (scm_fp_dup())
          stop = true;
          break;
        }
        skip = 0;
        ++it;
        continue;
      }
      if (s_->peek_off >= 0) s_->peek_off = std::max<int64_t>(0, s_->peek_off - static_cast<int64_t>(n));
      seg.consumed += n;
      s_->queued_bytes -= n;
      if (has_rights) {
        uncharge_rights_locked(seg.rights_uid, seg.rights.size());
        out.control.rights = std::move(seg.rights);
        seg.rights.clear();
      }
      if (auto sender = g.keep(seg.sender.lock())) {
        sender->s_->wmem -= std::min(sender->s_->wmem, n);
        wake.push_back(sender);
      }
      seg.charge -= std::min(seg.charge, n);
      if (seg.left() > 0) {
        stop = true;
        break;
      }
      it = s_->queue.erase(it);
      if (has_rights) {
        stop = true;
        break;
      }
    }
    if (stop || copied >= target) break;
    // The queue has nothing (more) for us.
    if (s_->error) {
      if (copied) break;
      return Err(std::exchange(s_->error, 0));
    }
    if (s_->shutdown & kRcvShutdown) break;
    if (nonblock) {
      if (copied) break;
      return Err(EAGAIN);
    }
    if (copied && !(flags & MSG_WAITALL)) break;
    if (!wake.empty()) {
      // Senders first learn of the room made; the queue is then looked at
      // again, as it may have filled while the lock was dropped.
      lock.unlock();
      for (auto& w : wake) w->waiters_.notify();
      wake.clear();
      lock.lock();
      continue;
    }
    const int rc = waiters_.wait(lock, receive_timeout_ms());
    if (rc != 0) {
      if (copied) break;
      return Err(wait_result(rc));
    }
    if (s_->conn != Conn::kConnected) break;
  }
  if (have_creds) out.control.credentials = creds;
  lock.unlock();
  for (auto& w : wake) w->waiters_.notify();
  return copied;
}

Result<size_t> UnixSocket::recv_datagram(std::span<const iovec> dst, int flags, Received& out) {
  const size_t want = total_length(dst);
  const bool peek = flags & MSG_PEEK;
  const bool nonblock = nonblocking(flags);
  Garbage g;
  std::unique_lock lock(ns().mu);
  if (type() == SOCK_SEQPACKET && s_->conn != Conn::kConnected) return Err(ENOTCONN);
  for (;;) {
    // A pending error comes before any datagram (__skb_try_recv_datagram()).
    if (s_->error) return Err(std::exchange(s_->error, 0));
    size_t skip = peek && s_->peek_off >= 0 ? static_cast<size_t>(s_->peek_off) : 0;
    auto it = s_->queue.begin();
    while (it != s_->queue.end() && skip > 0 && skip >= it->data.size()) skip -= (it++)->data.size();
    if (it != s_->queue.end()) {
      Segment& seg = *it;
      const size_t len = seg.data.size() - std::min(skip, seg.data.size());
      const size_t n = std::min(len, want);
      copy_to_iovecs(dst, 0, seg.data.data() + (seg.data.size() - len), n);
      if (n < len) out.flags |= MSG_TRUNC;
      out.from = seg.sender_address;
      if (auto sender = g.keep(seg.sender.lock()); sender && sender->s_->name) out.from = *sender->s_->name;
      if (s_->passcred) out.control.credentials = seg.creds;
      std::shared_ptr<UnixSocket> sender;
      if (peek) {
        out.control.rights = seg.rights;
        if (s_->peek_off >= 0) s_->peek_off += static_cast<int64_t>(n);
      } else {
        uncharge_rights_locked(seg.rights_uid, seg.rights.size());
        out.control.rights = std::move(seg.rights);
        sender = g.keep(seg.sender.lock());
        if (sender) sender->s_->wmem -= std::min(sender->s_->wmem, seg.charge);
        s_->queued_bytes -= seg.data.size();
        if (s_->peek_off >= 0) s_->peek_off = std::max<int64_t>(0, s_->peek_off - static_cast<int64_t>(n));
        s_->queue.erase(it);
      }
      lock.unlock();
      if (!peek) {
        if (sender) sender->waiters_.notify();
        waiters_.notify();  // senders waiting for queue room
      }
      return (flags & MSG_TRUNC) ? len : n;
    }
    if (s_->shutdown & kRcvShutdown) return size_t{0};
    if (nonblock) return Err(EAGAIN);
    if (const int rc = waiters_.wait(lock, receive_timeout_ms()); rc != 0) return Err(wait_result(rc));
  }
}

bool UnixSocket::writable_locked() const {
  // unix_writable(): a quarter of the send buffer or less in use.
  return s_->conn != Conn::kListening && (s_->wmem << 2) <= static_cast<size_t>(s_->sndbuf);
}

short UnixSocket::readiness(short events) const {
  Garbage g;
  std::lock_guard lock(ns().mu);
  short mask = 0;
  if (s_->error) mask |= POLLERR;
  if (s_->shutdown == kShutdownMask) mask |= POLLHUP;
  if (s_->shutdown & kRcvShutdown) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
  if (!s_->queue.empty() || !s_->backlog_queue.empty()) mask |= POLLIN | POLLRDNORM;
  if (type() != SOCK_DGRAM && s_->conn == Conn::kUnconnected) mask |= POLLHUP;
  bool writable = writable_locked();
  if (writable && type() == SOCK_DGRAM) {
    // unix_dgram_poll(): not writable while the peer's queue is full.
    if (auto other = g.keep(s_->peer.lock())) {
      auto others_peer = g.keep(other->s_->peer.lock());
      if (others_peer.get() != this && other->s_->queue.size() > kMaxDgramQlen) writable = false;
    }
  }
  if (writable) mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
  return mask & (events | POLLERR | POLLHUP);
}

Result<int64_t> UnixSocket::ioctl(uint64_t cmd, uint64_t arg, vfs::UserMemory& mem) {
  int value = 0;
  {
    std::lock_guard lock(ns().mu);
    switch (cmd) {
      case SIOCINQ:  // FIONREAD
        if (s_->conn == Conn::kListening) return Err(EINVAL);
        // unix_inq_len(): all queued bytes of a stream, the next datagram's length.
        if (type() == SOCK_DGRAM) {
          value = s_->queue.empty() ? 0 : static_cast<int>(s_->queue.front().data.size());
        } else {
          value = static_cast<int>(s_->queued_bytes);
        }
        break;
      case SIOCOUTQ:
        if (s_->conn == Conn::kListening) return Err(EINVAL);
        value = static_cast<int>(s_->wmem);
        break;
      default:
        return Err(ENOTTY);
    }
  }
  if (auto r = mem.copy_out(arg, &value, sizeof(value)); !r) return Err(r.error());
  return 0;
}

Result<std::vector<uint8_t>> UnixSocket::family_getsockopt(int level, int name, size_t optlen) {
  (void)optlen;
  if (level != SOL_SOCKET) return Err(EOPNOTSUPP);
  std::lock_guard lock(ns().mu);
  switch (name) {
    case SO_PASSCRED: return int_option(s_->passcred ? 1 : 0);
    case SO_PEERCRED: {
      std::vector<uint8_t> out(sizeof(ucred));
      const ucred c = type() == SOCK_DGRAM ? kNoCred : s_->peer_cred;
      std::memcpy(out.data(), &c, sizeof(c));
      return out;
    }
    case SO_PEEK_OFF: return int_option(static_cast<int>(s_->peek_off));
    case SO_SNDBUF: return int_option(s_->sndbuf);
    case SO_RCVBUF: return int_option(s_->rcvbuf);
    case SO_ACCEPTCONN: return int_option(s_->conn == Conn::kListening ? 1 : 0);
    case SO_ERROR: return int_option(std::exchange(s_->error, 0));
    case SO_RCVLOWAT: return int_option(s_->rcvlowat);
    case SO_SNDLOWAT: return int_option(1);
    case SO_PEERSEC: return Err(ENOPROTOOPT);
    case SO_REUSEADDR: case SO_REUSEPORT: case SO_KEEPALIVE: case SO_BROADCAST: case SO_DONTROUTE:
    case SO_OOBINLINE: case SO_PRIORITY: case SO_PASSSEC: case SO_TIMESTAMP: case SO_ZEROCOPY:
    case SO_BUSY_POLL: case SO_MARK: {
      auto it = s_->plain_options.find(name);
      return int_option(it == s_->plain_options.end() ? 0 : it->second);
    }
    case SO_LINGER: {
      linger l{};
      if (auto it = s_->plain_options.find(SO_LINGER); it != s_->plain_options.end()) l = {1, it->second};
      std::vector<uint8_t> out(sizeof(l));
      std::memcpy(out.data(), &l, sizeof(l));
      return out;
    }
    default: return Err(ENOPROTOOPT);
  }
}

Result<void> UnixSocket::family_setsockopt(int level, int name, std::span<const uint8_t> value) {
  if (level != SOL_SOCKET) return Err(EOPNOTSUPP);
  if (name == SO_LINGER) {
    linger l{};
    if (value.size() < sizeof(l)) return Err(EINVAL);
    std::memcpy(&l, value.data(), sizeof(l));
    std::lock_guard lock(ns().mu);
    if (l.l_onoff) {
      s_->plain_options[SO_LINGER] = l.l_linger;
    } else {
      s_->plain_options.erase(SO_LINGER);
    }
    return {};
  }
  auto v = int_value(value);
  if (!v) return Err(v.error());
  std::unique_lock lock(ns().mu);
  switch (name) {
    case SO_PASSCRED: s_->passcred = *v != 0; return {};
    case SO_PEEK_OFF: s_->peek_off = *v < 0 ? -1 : *v; return {};
    case SO_SNDBUF: case SO_SNDBUFFORCE:
      s_->sndbuf = doubled_buffer(*v, kMinSndBuf);
      lock.unlock();
      waiters_.notify();
      return {};
    case SO_RCVBUF: case SO_RCVBUFFORCE: s_->rcvbuf = doubled_buffer(*v, kMinRcvBuf); return {};
    case SO_RCVLOWAT: s_->rcvlowat = *v < 1 ? 1 : *v; return {};
    case SO_REUSEADDR: case SO_REUSEPORT: case SO_KEEPALIVE: case SO_BROADCAST: case SO_DONTROUTE:
    case SO_OOBINLINE: case SO_PRIORITY: case SO_PASSSEC: case SO_TIMESTAMP: case SO_ZEROCOPY:
    case SO_BUSY_POLL: case SO_MARK: case SO_SNDLOWAT:
      s_->plain_options[name] = *v ? (name == SO_PRIORITY || name == SO_MARK || name == SO_BUSY_POLL ? *v : 1) : 0;
      return {};
    default: return Err(ENOPROTOOPT);
  }
}

std::string UnixSocket::proc_net_line() const {
  std::lock_guard lock(ns().mu);
  // "Num RefCount Protocol Flags Type St Inode Path"; Num is a kernel
  // address, shown as zeros to the unprivileged (kptr_restrict).
  const int flags = s_->conn == Conn::kListening ? 0x10000 : 0;  // __SO_ACCEPTCON
  const int st = s_->conn == Conn::kConnected ? 3 : 1;            // SS_CONNECTED / SS_UNCONNECTED
  std::string line = fmt::format("0000000000000000: {:08X} {:08X} {:08X} {:04X} {:02X} {:5}", 2, 0, flags, type(), st,
                                 inode_number());
  if (s_->name && s_->name->length > sizeof(sa_family_t)) {
    const auto* sun = reinterpret_cast<const sockaddr_un*>(&s_->name->storage);
    const size_t len = s_->name->length - offsetof(sockaddr_un, sun_path);
    std::string path(sun->sun_path, len);
    if (!path.empty() && path[0] == '\0') {
      path[0] = '@';
      std::replace(path.begin(), path.end(), '\0', '@');
    } else if (!path.empty() && path.back() == '\0') {
      path.pop_back();
    }
    line += " " + path;
  }
  return line;
}

std::string proc_net_unix() {
  std::string out = "Num       RefCount Protocol Flags    Type St Inode Path\n";
  for (const auto& s : Socket::all()) {
    if (auto* u = dynamic_cast<UnixSocket*>(s.get())) out += u->proc_net_line() + "\n";
  }
  return out;
}

}  // namespace runsc::netstack
