// socket(7), ip(7), ipv6(7), tcp(7), udp(7) and icmp(7) on the loopback
// interface: creating AF_INET/AF_INET6 sockets, TCP connection set-up and
// tear-down (bind, listen, connect, accept, shutdown, refused and
// non-blocking connects, address reuse), data transfer (read/write,
// readv/writev, send/recv flags, sendmsg/recvmsg, FIONREAD), EPIPE and
// SIGPIPE, socket options at the SOL_SOCKET, IPPROTO_IP and IPPROTO_TCP
// levels, UDP datagrams (addresses, truncation, IP_PKTINFO, sendmmsg and
// recvmmsg, ICMP errors on connected sockets), IPv6 and v4-mapped
// addresses, blocking calls and signals, poll and epoll readiness, and ping
// sockets.
//
// All traffic goes to 127.0.0.1 or ::1 only; every port is chosen by the
// kernel (bind to port 0, read back with getsockname). Where Linux differs
// from the man pages, or is surprising, a comment says so: the binary is
// checked against the host kernel. The tests create no threads: concurrency
// is done with fork().
#include <arpa/inet.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

// How long a test waits for something that should happen at once on
// loopback before giving up (a safety net against hangs, not an assertion
// about speed).
constexpr int kWaitMs = 10000;

// A file descriptor closed on destruction.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() { reset(); }
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

sockaddr_in Loopback4(uint16_t port = 0) {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

sockaddr_in6 Loopback6(uint16_t port = 0) {
  sockaddr_in6 a = {};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  a.sin6_addr = in6addr_loopback;
  return a;
}

sockaddr* SA(void* p) { return static_cast<sockaddr*>(p); }

// The local port of a bound socket of either family (0 on failure).
uint16_t LocalPort(int fd) {
  sockaddr_storage ss = {};
  socklen_t len = sizeof ss;
  if (getsockname(fd, SA(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

std::string Ip4String(const in_addr& a) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string Ip6String(const in6_addr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return buf;
}

int GetIntOpt(int fd, int level, int name) {
  int v = -12345;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return -12345;
  return v;
}

bool SetIntOpt(int fd, int level, int name, int v) {
  return setsockopt(fd, level, name, &v, sizeof v) == 0;
}

// poll() for `events` on fd; the revents, 0 on timeout, -1 on error.
short WaitFor(int fd, short events, int timeout_ms = kWaitMs) {
  pollfd p = {fd, events, 0};
  int r;
  do {
    r = poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  return r == 0 ? 0 : p.revents;
}

// A socket bound to 127.0.0.1 on a kernel-chosen port.
ScopedFd Bound4(int type, int flags = 0) {
  ScopedFd fd(socket(AF_INET, type | flags, 0));
  if (!fd.ok()) return fd;
  sockaddr_in a = Loopback4();
  if (bind(fd.get(), SA(&a), sizeof a) != 0) fd.reset();
  return fd;
}

// A TCP listener on 127.0.0.1 on a kernel-chosen port.
ScopedFd Listener4(int backlog = 16, int flags = 0) {
  ScopedFd fd = Bound4(SOCK_STREAM, flags);
  if (fd.ok() && listen(fd.get(), backlog) != 0) fd.reset();
  return fd;
}

// A blocking TCP client connected to 127.0.0.1:port, or -1 (errno set).
ScopedFd Connect4(uint16_t port) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  if (!fd.ok()) return fd;
  sockaddr_in a = Loopback4(port);
  if (connect(fd.get(), SA(&a), sizeof a) != 0) {
    int e = errno;
    fd.reset();
    errno = e;
  }
  return fd;
}

struct TcpPair {
  ScopedFd client;
  ScopedFd server;
};

// A connected TCP pair over 127.0.0.1 (the listener is closed again).
void MakeTcpPair4(TcpPair* pair) {
  ScopedFd listener = Listener4();
  ASSERT_TRUE(listener.ok()) << strerror(errno);
  pair->client = Connect4(LocalPort(listener.get()));
  ASSERT_TRUE(pair->client.ok()) << strerror(errno);
  pair->server = ScopedFd(accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(pair->server.ok()) << strerror(errno);
}

// Whether ::1 exists here (IPv6 enabled and lo carrying ::1).
bool HaveIpv6Loopback() {
  ScopedFd fd(socket(AF_INET6, SOCK_DGRAM, 0));
  if (!fd.ok()) return false;
  sockaddr_in6 a = Loopback6();
  return bind(fd.get(), SA(&a), sizeof a) == 0;
}

#define SKIP_WITHOUT_IPV6_LOOPBACK() \
  if (!HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback address ::1 here"

// Reads from fd until `len` bytes arrived or end of file / an error.
std::string ReadN(int fd, size_t len) {
  std::string out(len, '\0');
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, &out[got], len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

void NoopHandler(int) {}

// Installs a SIGALRM handler without SA_RESTART (or with it) in a child.
bool InstallAlarmHandler(bool restart) {
  struct sigaction sa = {};
  sa.sa_handler = NoopHandler;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGALRM, &sa, nullptr) == 0;
}

// SIGPIPE ignored for the scope of a test in the parent process.
struct IgnoreSigpipe {
  IgnoreSigpipe() : restore(SIGPIPE, Ign()) {}
  static struct sigaction Ign() {
    struct sigaction sa = {};
    sa.sa_handler = SIG_IGN;
    return sa;
  }
  ScopedSigaction restore;
};

// ---------------------------------------------------------------------------
// socket(2)

TEST(InetSocketTest, Ipv4StreamAndDatagramSocketsAreSockets) {
  struct Case {
    int type, protocol, want_protocol;
  } cases[] = {
      {SOCK_STREAM, 0, IPPROTO_TCP},
      {SOCK_STREAM, IPPROTO_TCP, IPPROTO_TCP},
      {SOCK_DGRAM, 0, IPPROTO_UDP},
      {SOCK_DGRAM, IPPROTO_UDP, IPPROTO_UDP},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("type " + std::to_string(c.type) + " protocol " + std::to_string(c.protocol));
    ScopedFd fd(socket(AF_INET, c.type, c.protocol));
    ASSERT_TRUE(fd.ok()) << strerror(errno);
    struct stat st = {};
    ASSERT_EQ(fstat(fd.get(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_TYPE), c.type);
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_DOMAIN), AF_INET);
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_PROTOCOL), c.want_protocol);
    EXPECT_EQ(fcntl(fd.get(), F_GETFD), 0);
    EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_ACCMODE, O_RDWR);
  }
}

TEST(InetSocketTest, Ipv6StreamAndDatagramSocketsAreSockets) {
  ScopedFd probe(socket(AF_INET6, SOCK_STREAM, 0));
  if (!probe.ok() && errno == EAFNOSUPPORT) GTEST_SKIP() << "IPv6 is not available";
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    ScopedFd fd(socket(AF_INET6, type, 0));
    ASSERT_TRUE(fd.ok()) << strerror(errno);
    struct stat st = {};
    ASSERT_EQ(fstat(fd.get(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_TYPE), type);
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_DOMAIN), AF_INET6);
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_PROTOCOL),
              type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
  }
}

TEST(InetSocketTest, NonblockAndCloexecFlagsApplyToTheNewFd) {
  for (int family : {AF_INET, AF_INET6}) {
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      ScopedFd fd(socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!fd.ok() && family == AF_INET6 && errno == EAFNOSUPPORT) continue;
      ASSERT_TRUE(fd.ok()) << strerror(errno);
      EXPECT_EQ(fcntl(fd.get(), F_GETFD), FD_CLOEXEC);
      EXPECT_NE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);
      // The flags are not part of the type.
      EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_TYPE), type);
    }
  }
  ScopedFd only_cloexec(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(only_cloexec.ok());
  EXPECT_EQ(fcntl(only_cloexec.get(), F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(fcntl(only_cloexec.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(InetSocketTest, BadTypesAndProtocolsAreRejected) {
  struct Case {
    int type, protocol, err;
  } cases[] = {
      {SOCK_STREAM, IPPROTO_UDP, EPROTONOSUPPORT},
      {SOCK_DGRAM, IPPROTO_TCP, EPROTONOSUPPORT},
      // Linux: AF_INET has no SOCK_SEQPACKET (an unknown socket type for the
      // family, ESOCKTNOSUPPORT), and a type number beyond SOCK_PACKET or an
      // unknown flag bit is EINVAL.
      {SOCK_SEQPACKET, 0, ESOCKTNOSUPPORT},
      {12, 0, EINVAL},
      {SOCK_STREAM | 0x1000, 0, EINVAL},
  };
  for (const Case& c : cases) {
    errno = 0;
    int fd = socket(AF_INET, c.type, c.protocol);
    EXPECT_EQ(fd, -1) << "type " << c.type << " protocol " << c.protocol;
    EXPECT_EQ(errno, c.err) << "type " << c.type << " protocol " << c.protocol << ": "
                            << strerror(errno);
    if (fd >= 0) close(fd);
  }
}

// ---------------------------------------------------------------------------
// TCP connection set-up

TEST(TcpSocketTest, ConnectAndAcceptReportBothEndsAddresses) {
  ScopedFd listener(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(listener.ok());
  sockaddr_in any_port = Loopback4(0);
  ASSERT_EQ(bind(listener.get(), SA(&any_port), sizeof any_port), 0) << strerror(errno);
  sockaddr_in bound = {};
  socklen_t len = sizeof bound;
  ASSERT_EQ(getsockname(listener.get(), SA(&bound), &len), 0);
  EXPECT_EQ(len, sizeof bound);
  EXPECT_EQ(bound.sin_family, AF_INET);
  EXPECT_EQ(Ip4String(bound.sin_addr), "127.0.0.1");
  ASSERT_NE(bound.sin_port, 0) << "binding port 0 picks a port";
  ASSERT_EQ(listen(listener.get(), 4), 0);

  ScopedFd client(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(client.ok());
  ASSERT_EQ(connect(client.get(), SA(&bound), sizeof bound), 0) << strerror(errno);

  sockaddr_in peer = {};
  len = sizeof peer;
  ScopedFd server(accept(listener.get(), SA(&peer), &len));
  ASSERT_TRUE(server.ok()) << strerror(errno);
  EXPECT_EQ(len, sizeof peer);
  EXPECT_EQ(peer.sin_family, AF_INET);
  EXPECT_EQ(Ip4String(peer.sin_addr), "127.0.0.1");

  // The client was bound implicitly to an ephemeral port: what accept
  // reported as the peer.
  sockaddr_in client_local = {};
  len = sizeof client_local;
  ASSERT_EQ(getsockname(client.get(), SA(&client_local), &len), 0);
  EXPECT_EQ(Ip4String(client_local.sin_addr), "127.0.0.1");
  EXPECT_NE(client_local.sin_port, 0);
  EXPECT_EQ(client_local.sin_port, peer.sin_port);
  EXPECT_NE(client_local.sin_port, bound.sin_port);

  sockaddr_in client_peer = {};
  len = sizeof client_peer;
  ASSERT_EQ(getpeername(client.get(), SA(&client_peer), &len), 0);
  EXPECT_EQ(Ip4String(client_peer.sin_addr), "127.0.0.1");
  EXPECT_EQ(client_peer.sin_port, bound.sin_port);

  sockaddr_in server_local = {}, server_peer = {};
  len = sizeof server_local;
  ASSERT_EQ(getsockname(server.get(), SA(&server_local), &len), 0);
  EXPECT_EQ(server_local.sin_port, bound.sin_port) << "accepted sockets share the listener's port";
  len = sizeof server_peer;
  ASSERT_EQ(getpeername(server.get(), SA(&server_peer), &len), 0);
  EXPECT_EQ(server_peer.sin_port, client_local.sin_port);
}

TEST(TcpSocketTest, AcceptTruncatesTheAddressAndReportsItsFullLength) {
  ScopedFd listener = Listener4();
  ASSERT_TRUE(listener.ok());
  ScopedFd client = Connect4(LocalPort(listener.get()));
  ASSERT_TRUE(client.ok());
  unsigned char buf[sizeof(sockaddr_in)];
  memset(buf, 0xee, sizeof buf);
  socklen_t len = 4;
  ScopedFd server(accept(listener.get(), SA(buf), &len));
  ASSERT_TRUE(server.ok()) << strerror(errno);
  EXPECT_EQ(len, sizeof(sockaddr_in)) << "addrlen says how long the address really was";
  sa_family_t family;
  memcpy(&family, buf, sizeof family);
  EXPECT_EQ(family, AF_INET);
  EXPECT_EQ(buf[4], 0xee) << "nothing is written past the given length";
}

TEST(TcpSocketTest, DataFlowsBothWaysIncludingALargeTransfer) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  ASSERT_TRUE(WriteAll(p.client.get(), "ping", 4));
  EXPECT_EQ(ReadN(p.server.get(), 4), "ping");
  ASSERT_TRUE(WriteAll(p.server.get(), "pong!", 5));
  EXPECT_EQ(ReadN(p.client.get(), 5), "pong!");

  // Far more than the socket buffers hold: the writer blocks until the
  // reader catches up.
  constexpr size_t kTotal = 8 << 20;
  pid_t writer = ForkChild([&] {
    p.server.reset();
    std::vector<char> chunk(64 << 10);
    size_t sent = 0;
    while (sent < kTotal) {
      for (size_t i = 0; i < chunk.size(); i++) chunk[i] = static_cast<char>((sent + i) % 251);
      CHILD_CHECK(WriteAll(p.client.get(), chunk.data(), chunk.size()));
      sent += chunk.size();
    }
    return 0;
  });
  ASSERT_GT(writer, 0);
  p.client.reset();
  std::vector<char> buf(100000);
  size_t got = 0;
  bool pattern_ok = true;
  for (;;) {
    ssize_t n = read(p.server.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GE(n, 0) << strerror(errno);
    if (n == 0) break;
    for (ssize_t i = 0; i < n && pattern_ok; i++) {
      if (buf[i] != static_cast<char>((got + i) % 251)) pattern_ok = false;
    }
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(got, kTotal);
  EXPECT_TRUE(pattern_ok) << "the byte stream arrived out of order or corrupted";
  EXPECT_EXITED_WITH(WaitStatus(writer), 0);
}

TEST(TcpSocketTest, ShutdownWrGivesThePeerEndOfFileButKeepsTheOtherDirection) {
  IgnoreSigpipe ignore;
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  ASSERT_TRUE(WriteAll(p.client.get(), "last", 4));
  ASSERT_EQ(shutdown(p.client.get(), SHUT_WR), 0) << strerror(errno);
  EXPECT_EQ(ReadN(p.server.get(), 4), "last") << "data written before the FIN still arrives";
  char b;
  EXPECT_EQ(read(p.server.get(), &b, 1), 0);
  EXPECT_EQ(read(p.server.get(), &b, 1), 0) << "end of file is sticky";
  // The server can still send, and the client still receive.
  ASSERT_TRUE(WriteAll(p.server.get(), "reply", 5));
  EXPECT_EQ(ReadN(p.client.get(), 5), "reply");
  // Writing after SHUT_WR fails with EPIPE.
  errno = 0;
  EXPECT_EQ(write(p.client.get(), "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  // Shutting down the same direction again is not an error.
  EXPECT_EQ(shutdown(p.client.get(), SHUT_WR), 0);
}

TEST(TcpSocketTest, ShutdownRdMakesReadsReturnEndOfFile) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  ASSERT_EQ(shutdown(p.server.get(), SHUT_RD), 0) << strerror(errno);
  char b;
  EXPECT_EQ(read(p.server.get(), &b, 1), 0) << "no blocking after SHUT_RD";
  // Writing still works in the other direction.
  ASSERT_TRUE(WriteAll(p.server.get(), "ok", 2));
  EXPECT_EQ(ReadN(p.client.get(), 2), "ok");
}

TEST(TcpSocketTest, UnconnectedSocketsHaveNoPeer) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fd.ok());
  for (int how : {SHUT_RD, SHUT_WR, SHUT_RDWR}) {
    errno = 0;
    EXPECT_EQ(shutdown(fd.get(), how), -1) << how;
    EXPECT_EQ(errno, ENOTCONN) << how;
  }
  // Linux checks `how` before the socket's state.
  errno = 0;
  EXPECT_EQ(shutdown(fd.get(), 7), -1);
  EXPECT_EQ(errno, EINVAL);
  sockaddr_in a = {};
  socklen_t len = sizeof a;
  errno = 0;
  EXPECT_EQ(getpeername(fd.get(), SA(&a), &len), -1);
  EXPECT_EQ(errno, ENOTCONN);
  // An unbound socket's name is the wildcard address, port 0.
  len = sizeof a;
  ASSERT_EQ(getsockname(fd.get(), SA(&a), &len), 0);
  EXPECT_EQ(a.sin_family, AF_INET);
  EXPECT_EQ(a.sin_port, 0);
  EXPECT_EQ(a.sin_addr.s_addr, htonl(INADDR_ANY));
  // Linux records the shutdown even though it failed with ENOTCONN (a
  // "hack to wake up other listeners", net/ipv4/af_inet.c): reads now see
  // end of file and poll reports POLLHUP.
  char b;
  EXPECT_EQ(recv(fd.get(), &b, 1, MSG_DONTWAIT), 0);
  EXPECT_TRUE(WaitFor(fd.get(), POLLIN, 0) & POLLHUP);

  // On a fresh socket, read is ENOTCONN...
  ScopedFd fresh(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fresh.ok());
  errno = 0;
  EXPECT_EQ(recv(fresh.get(), &b, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, ENOTCONN);
  // ...but Linux fails a write with EPIPE (and would raise SIGPIPE), not
  // ENOTCONN as the send(2) man page lists.
  IgnoreSigpipe ignore;
  errno = 0;
  EXPECT_EQ(send(fresh.get(), "x", 1, 0), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(TcpSocketTest, ConnectToAPortWithoutListenerIsRefused) {
  // A socket bound but not listening holds the port, so that no one else
  // can take it, and answers a SYN with a reset.
  ScopedFd holder = Bound4(SOCK_STREAM);
  ASSERT_TRUE(holder.ok());
  uint16_t port = LocalPort(holder.get());
  ScopedFd client(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(client.ok());
  sockaddr_in a = Loopback4(port);
  errno = 0;
  EXPECT_EQ(connect(client.get(), SA(&a), sizeof a), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  // The error was reported by connect: SO_ERROR is clear again.
  EXPECT_EQ(GetIntOpt(client.get(), SOL_SOCKET, SO_ERROR), 0);
  // The socket can try again once someone listens.
  ASSERT_EQ(listen(holder.get(), 1), 0);
  EXPECT_EQ(connect(client.get(), SA(&a), sizeof a), 0) << strerror(errno);
}

TEST(TcpSocketTest, NonblockingConnectCompletesAndPollsWritable) {
  ScopedFd listener = Listener4();
  ASSERT_TRUE(listener.ok());
  ScopedFd client(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ASSERT_TRUE(client.ok());
  sockaddr_in a = Loopback4(LocalPort(listener.get()));
  int r = connect(client.get(), SA(&a), sizeof a);
  // On loopback the handshake may finish inside connect().
  if (r != 0) {
    ASSERT_EQ(errno, EINPROGRESS) << strerror(errno);
    short ev = WaitFor(client.get(), POLLOUT);
    EXPECT_TRUE(ev & POLLOUT) << ev;
    EXPECT_FALSE(ev & (POLLERR | POLLHUP)) << ev;
  }
  EXPECT_EQ(GetIntOpt(client.get(), SOL_SOCKET, SO_ERROR), 0);
  if (r != 0) {
    // Linux: the first connect() after an EINPROGRESS one that has since
    // completed reports the outcome, success here...
    EXPECT_EQ(connect(client.get(), SA(&a), sizeof a), 0) << strerror(errno);
  }
  // ...and connect() on a connected socket is EISCONN.
  errno = 0;
  EXPECT_EQ(connect(client.get(), SA(&a), sizeof a), -1);
  EXPECT_EQ(errno, EISCONN);
  sockaddr_in peer = {};
  socklen_t len = sizeof peer;
  ASSERT_EQ(getpeername(client.get(), SA(&peer), &len), 0) << strerror(errno);
  EXPECT_EQ(peer.sin_port, a.sin_port);
  ScopedFd server(accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(WriteAll(server.get(), "hi", 2));
  ASSERT_TRUE(WaitFor(client.get(), POLLIN) & POLLIN);
  char buf[2];
  EXPECT_EQ(read(client.get(), buf, 2), 2);
}

TEST(TcpSocketTest, NonblockingConnectToAClosedPortReportsEconnrefusedInSoError) {
  ScopedFd holder = Bound4(SOCK_STREAM);
  ASSERT_TRUE(holder.ok());
  ScopedFd client(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ASSERT_TRUE(client.ok());
  sockaddr_in a = Loopback4(LocalPort(holder.get()));
  errno = 0;
  int r = connect(client.get(), SA(&a), sizeof a);
  ASSERT_EQ(r, -1);
  if (errno == ECONNREFUSED) return;  // the reset came back inside connect()
  ASSERT_EQ(errno, EINPROGRESS) << strerror(errno);
  short ev = WaitFor(client.get(), POLLOUT);
  // A failed connection polls as an error, writable and hung up (Linux:
  // POLLOUT|POLLERR|POLLHUP, whatever was asked for).
  EXPECT_TRUE(ev & POLLOUT) << ev;
  EXPECT_TRUE(ev & POLLERR) << ev;
  EXPECT_TRUE(ev & POLLHUP) << ev;
  EXPECT_EQ(GetIntOpt(client.get(), SOL_SOCKET, SO_ERROR), ECONNREFUSED);
  EXPECT_EQ(GetIntOpt(client.get(), SOL_SOCKET, SO_ERROR), 0) << "reading SO_ERROR clears it";
  // Linux: connect() after the failure was collected through SO_ERROR
  // reports ECONNABORTED (it would have been ECONNREFUSED had SO_ERROR not
  // been read), and leaves the socket unconnected.
  errno = 0;
  EXPECT_EQ(connect(client.get(), SA(&a), sizeof a), -1);
  EXPECT_EQ(errno, ECONNABORTED);
}

TEST(TcpSocketTest, ConnectAndListenInTheWrongStateFail) {
  ScopedFd listener = Listener4();
  ASSERT_TRUE(listener.ok());
  sockaddr_in a = Loopback4(LocalPort(listener.get()));
  // Linux: connect() on a listening socket is EISCONN.
  errno = 0;
  EXPECT_EQ(connect(listener.get(), SA(&a), sizeof a), -1);
  EXPECT_EQ(errno, EISCONN);
  ScopedFd client = Connect4(LocalPort(listener.get()));
  ASSERT_TRUE(client.ok());
  // listen() on a connected socket is EINVAL.
  errno = 0;
  EXPECT_EQ(listen(client.get(), 1), -1);
  EXPECT_EQ(errno, EINVAL);
  // A second listen() on a listener just updates the backlog.
  EXPECT_EQ(listen(listener.get(), 32), 0);
  // UDP sockets cannot listen or accept.
  ScopedFd udp(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_TRUE(udp.ok());
  errno = 0;
  EXPECT_EQ(listen(udp.get(), 1), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  errno = 0;
  EXPECT_EQ(accept(udp.get(), nullptr, nullptr), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST(TcpSocketTest, BindErrors) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fd.ok());
  sockaddr_in a = Loopback4();
  errno = 0;
  EXPECT_EQ(bind(fd.get(), SA(&a), sizeof a - 1), -1) << "an address shorter than sockaddr_in";
  EXPECT_EQ(errno, EINVAL);
  sockaddr_in6 wrong_family = Loopback6();
  errno = 0;
  EXPECT_EQ(bind(fd.get(), SA(&wrong_family), sizeof wrong_family), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  ASSERT_EQ(bind(fd.get(), SA(&a), sizeof a), 0) << strerror(errno);
  errno = 0;
  EXPECT_EQ(bind(fd.get(), SA(&a), sizeof a), -1) << "a socket binds once";
  EXPECT_EQ(errno, EINVAL);
}

TEST(TcpSocketTest, PortsBelowIpUnprivilegedPortStartNeedCapNetBindService) {
  // ip(7), ip_unprivileged_port_start: binding a lower port needs
  // CAP_NET_BIND_SERVICE; root has it, nobody (after setuid) does not.
  FILE* f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
  ASSERT_NE(f, nullptr) << strerror(errno);
  int start = 0;
  ASSERT_EQ(fscanf(f, "%d", &start), 1);
  fclose(f);
  if (start <= 1) GTEST_SKIP() << "ip_unprivileged_port_start is " << start << ": no port needs the capability";
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to bind a low port and to become nobody";
  // A low port free here: root binds it, then lets it go for the child.
  sockaddr_in a = Loopback4();
  int port = 0;
  for (int p = start - 1; p > 0 && port == 0; --p) {
    ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
    ASSERT_TRUE(fd.ok());
    a.sin_port = htons(static_cast<uint16_t>(p));
    if (bind(fd.get(), SA(&a), sizeof a) == 0) port = p;
    else ASSERT_EQ(errno, EADDRINUSE) << "root binding port " << p;
  }
  ASSERT_NE(port, 0) << "no free port below " << start;
  int status = RunInChild([&] {
    CHILD_CHECK(setgroups(0, nullptr) == 0);
    CHILD_CHECK(setgid(65534) == 0);
    CHILD_CHECK(setuid(65534) == 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHILD_CHECK(fd >= 0);
    errno = 0;
    CHILD_CHECK(bind(fd, SA(&a), sizeof a) == -1 && errno == EACCES);
    // Port 0 (any port) and ports from the start on need nothing.
    sockaddr_in any = Loopback4();
    any.sin_port = 0;
    CHILD_CHECK(bind(fd, SA(&any), sizeof any) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(TcpSocketTest, AcceptOnANonblockingListenerWithNothingPendingIsEagain) {
  ScopedFd listener = Listener4(4, SOCK_NONBLOCK);
  ASSERT_TRUE(listener.ok());
  errno = 0;
  EXPECT_EQ(accept(listener.get(), nullptr, nullptr), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << strerror(errno);
  EXPECT_EQ(WaitFor(listener.get(), POLLIN, 0), 0) << "not readable without a pending connection";
  ScopedFd client = Connect4(LocalPort(listener.get()));
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE(WaitFor(listener.get(), POLLIN) & POLLIN) << "a pending connection is POLLIN";
  ScopedFd server(accept(listener.get(), nullptr, nullptr));
  EXPECT_TRUE(server.ok()) << strerror(errno);
}

TEST(TcpSocketTest, Accept4FlagsAndInheritance) {
  ScopedFd listener = Listener4(4, SOCK_NONBLOCK);
  ASSERT_TRUE(listener.ok());
  uint16_t port = LocalPort(listener.get());
  ScopedFd c1 = Connect4(port);
  ScopedFd c2 = Connect4(port);
  ASSERT_TRUE(c1.ok() && c2.ok());
  ASSERT_TRUE(WaitFor(listener.get(), POLLIN) & POLLIN);
  // accept(2): on Linux the new socket does not inherit O_NONBLOCK.
  ScopedFd plain(accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(plain.ok()) << strerror(errno);
  EXPECT_EQ(fcntl(plain.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(fcntl(plain.get(), F_GETFD), 0);
  errno = 0;
  EXPECT_EQ(accept4(listener.get(), nullptr, nullptr, O_APPEND), -1) << "unknown flag";
  EXPECT_EQ(errno, EINVAL);
  ASSERT_TRUE(WaitFor(listener.get(), POLLIN) & POLLIN);
  sockaddr_in peer = {};
  socklen_t len = sizeof peer;
  ScopedFd flagged(accept4(listener.get(), SA(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
  ASSERT_TRUE(flagged.ok()) << strerror(errno);
  EXPECT_NE(fcntl(flagged.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(fcntl(flagged.get(), F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(Ip4String(peer.sin_addr), "127.0.0.1");
}

// ---------------------------------------------------------------------------
// Address reuse

TEST(TcpSocketTest, BindingAListeningPortAgainIsEaddrinuse) {
  ScopedFd listener(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(SetIntOpt(listener.get(), SOL_SOCKET, SO_REUSEADDR, 1));
  sockaddr_in a = Loopback4();
  ASSERT_EQ(bind(listener.get(), SA(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener.get(), 4), 0);
  a.sin_port = htons(LocalPort(listener.get()));
  for (int reuse : {0, 1}) {
    ScopedFd second(socket(AF_INET, SOCK_STREAM, 0));
    ASSERT_TRUE(second.ok());
    ASSERT_TRUE(SetIntOpt(second.get(), SOL_SOCKET, SO_REUSEADDR, reuse));
    errno = 0;
    EXPECT_EQ(bind(second.get(), SA(&a), sizeof a), -1)
        << "SO_REUSEADDR=" << reuse << ": a listener's port stays taken";
    EXPECT_EQ(errno, EADDRINUSE);
  }
  // UDP has its own port space: the same number is free there.
  ScopedFd udp(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_TRUE(udp.ok());
  EXPECT_EQ(bind(udp.get(), SA(&a), sizeof a), 0) << strerror(errno);
}

TEST(TcpSocketTest, SoReuseaddrLetsANewListenerBindWhileOldConnectionsLinger) {
  ScopedFd listener(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(SetIntOpt(listener.get(), SOL_SOCKET, SO_REUSEADDR, 1));
  sockaddr_in a = Loopback4();
  ASSERT_EQ(bind(listener.get(), SA(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener.get(), 4), 0);
  a.sin_port = htons(LocalPort(listener.get()));
  ScopedFd client = Connect4(ntohs(a.sin_port));
  ASSERT_TRUE(client.ok());
  ScopedFd server(accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(server.ok());
  listener.reset();
  // The server side closes first, so its end of the connection (which
  // still holds the port) goes through FIN_WAIT2 into TIME_WAIT.
  server.reset();
  char b;
  ASSERT_EQ(read(client.get(), &b, 1), 0);
  client.reset();

  ScopedFd plain(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(plain.ok());
  errno = 0;
  EXPECT_EQ(bind(plain.get(), SA(&a), sizeof a), -1)
      << "without SO_REUSEADDR the old connection keeps the port";
  EXPECT_EQ(errno, EADDRINUSE);

  ScopedFd reuse(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(reuse.ok());
  ASSERT_TRUE(SetIntOpt(reuse.get(), SOL_SOCKET, SO_REUSEADDR, 1));
  ASSERT_EQ(bind(reuse.get(), SA(&a), sizeof a), 0) << strerror(errno);
  ASSERT_EQ(listen(reuse.get(), 4), 0);
  ScopedFd again = Connect4(ntohs(a.sin_port));
  EXPECT_TRUE(again.ok()) << strerror(errno);
}

TEST(TcpSocketTest, SoReuseaddrAllowsTwoBoundSocketsButOnlyOneListener) {
  // Linux lets sockets that all set SO_REUSEADDR bind the same address as
  // long as none of them listens; listen() then finds the conflict.
  ScopedFd first(socket(AF_INET, SOCK_STREAM, 0));
  ScopedFd second(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(SetIntOpt(first.get(), SOL_SOCKET, SO_REUSEADDR, 1));
  ASSERT_TRUE(SetIntOpt(second.get(), SOL_SOCKET, SO_REUSEADDR, 1));
  sockaddr_in a = Loopback4();
  ASSERT_EQ(bind(first.get(), SA(&a), sizeof a), 0);
  a.sin_port = htons(LocalPort(first.get()));
  ASSERT_EQ(bind(second.get(), SA(&a), sizeof a), 0) << strerror(errno);
  ASSERT_EQ(listen(first.get(), 4), 0);
  errno = 0;
  EXPECT_EQ(listen(second.get(), 4), -1);
  EXPECT_EQ(errno, EADDRINUSE);
}

TEST(TcpSocketTest, SoReuseportListenersShareAPort) {
  ScopedFd l1(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ScopedFd l2(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ScopedFd outsider(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(l1.ok() && l2.ok() && outsider.ok());
  ASSERT_TRUE(SetIntOpt(l1.get(), SOL_SOCKET, SO_REUSEPORT, 1));
  ASSERT_TRUE(SetIntOpt(l2.get(), SOL_SOCKET, SO_REUSEPORT, 1));
  EXPECT_EQ(GetIntOpt(l1.get(), SOL_SOCKET, SO_REUSEPORT), 1);
  sockaddr_in a = Loopback4();
  ASSERT_EQ(bind(l1.get(), SA(&a), sizeof a), 0);
  ASSERT_EQ(listen(l1.get(), 16), 0);
  a.sin_port = htons(LocalPort(l1.get()));
  ASSERT_EQ(bind(l2.get(), SA(&a), sizeof a), 0) << strerror(errno);
  ASSERT_EQ(listen(l2.get(), 16), 0) << strerror(errno);
  // Every socket sharing the port must have set SO_REUSEPORT.
  errno = 0;
  EXPECT_EQ(bind(outsider.get(), SA(&a), sizeof a), -1);
  EXPECT_EQ(errno, EADDRINUSE);

  constexpr int kClients = 8;
  std::vector<ScopedFd> clients;
  for (int i = 0; i < kClients; i++) {
    clients.push_back(Connect4(ntohs(a.sin_port)));
    ASSERT_TRUE(clients.back().ok()) << strerror(errno);
  }
  // Each connection is queued on exactly one of the two listeners.
  int accepted = 0;
  for (int round = 0; round < 100 && accepted < kClients; round++) {
    pollfd p[2] = {{l1.get(), POLLIN, 0}, {l2.get(), POLLIN, 0}};
    ASSERT_GE(poll(p, 2, kWaitMs), 1);
    for (auto& e : p) {
      if (!(e.revents & POLLIN)) continue;
      for (;;) {
        int fd = accept(e.fd, nullptr, nullptr);
        if (fd < 0) break;
        close(fd);
        accepted++;
      }
    }
  }
  EXPECT_EQ(accepted, kClients);
  EXPECT_EQ(WaitFor(l1.get(), POLLIN, 0), 0);
  EXPECT_EQ(WaitFor(l2.get(), POLLIN, 0), 0);
}

// ---------------------------------------------------------------------------
// EPIPE and SIGPIPE

// Writes a byte at a time until a write fails; returns that errno (0 when
// none failed). The first writes after the peer closed succeed: the data
// goes out and the peer answers it with a reset.
int WriteUntilError(int fd, int flags) {
  for (int i = 0; i < 200; i++) {
    ssize_t n = send(fd, "x", 1, flags);
    if (n < 0) return errno;
    usleep(5000);
  }
  return 0;
}

TEST(TcpSocketTest, WritingAfterThePeerClosedFailsWithEpipe) {
  IgnoreSigpipe ignore;
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  p.server.reset();
  char b;
  ASSERT_EQ(read(p.client.get(), &b, 1), 0) << "the peer's FIN";
  // The reset arrives while the client is in CLOSE_WAIT; Linux then
  // reports EPIPE rather than ECONNRESET.
  EXPECT_EQ(WriteUntilError(p.client.get(), 0), EPIPE);
  errno = 0;
  EXPECT_EQ(write(p.client.get(), "x", 1), -1) << "and keeps failing";
  EXPECT_EQ(errno, EPIPE);
}

TEST(TcpSocketTest, WritingAfterThePeerClosedRaisesSigpipe) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  p.server.reset();
  int status = RunInChild([&] {
    signal(SIGPIPE, SIG_DFL);
    int err = WriteUntilError(p.client.get(), 0);
    fprintf(stderr, "writes ended with errno %d instead of SIGPIPE\n", err);
    return kChildFailed;
  });
  EXPECT_KILLED_BY(status, SIGPIPE);
}

TEST(TcpSocketTest, MsgNosignalGivesEpipeWithoutASignal) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  p.server.reset();
  int status = RunInChild([&] {
    signal(SIGPIPE, SIG_DFL);
    CHILD_CHECK(WriteUntilError(p.client.get(), MSG_NOSIGNAL) == EPIPE);
    sigset_t pending;
    CHILD_CHECK(sigpending(&pending) == 0);
    CHILD_CHECK(sigismember(&pending, SIGPIPE) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(TcpSocketTest, SoLingerZeroResetsTheConnectionOnClose) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  linger lg = {1, 0};
  ASSERT_EQ(setsockopt(p.server.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
  linger got = {};
  socklen_t len = sizeof got;
  ASSERT_EQ(getsockopt(p.server.get(), SOL_SOCKET, SO_LINGER, &got, &len), 0);
  EXPECT_EQ(len, sizeof got);
  EXPECT_EQ(got.l_onoff, 1);
  EXPECT_EQ(got.l_linger, 0);
  // An abortive close: the peer sees a reset, not an end of file.
  p.server.reset();
  ASSERT_TRUE(WaitFor(p.client.get(), POLLIN) & (POLLIN | POLLERR | POLLHUP));
  char b;
  errno = 0;
  EXPECT_EQ(read(p.client.get(), &b, 1), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(read(p.client.get(), &b, 1), 0) << "after the reset was reported: end of file";
}

// ---------------------------------------------------------------------------
// Data transfer calls

TEST(TcpSocketTest, RecvMsgPeekLeavesTheDataQueued) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  ASSERT_TRUE(WriteAll(p.client.get(), "peekaboo", 8));
  ASSERT_TRUE(WaitFor(p.server.get(), POLLIN) & POLLIN);
  char buf[16] = {};
  ASSERT_EQ(recv(p.server.get(), buf, 4, MSG_PEEK), 4);
  EXPECT_EQ(std::string(buf, 4), "peek");
  ASSERT_EQ(recv(p.server.get(), buf, sizeof buf, MSG_PEEK), 8);
  EXPECT_EQ(std::string(buf, 8), "peekaboo");
  ASSERT_EQ(recv(p.server.get(), buf, sizeof buf, 0), 8);
  EXPECT_EQ(std::string(buf, 8), "peekaboo");
}

TEST(TcpSocketTest, RecvMsgDontwaitOnABlockingSocket) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  char buf[8];
  errno = 0;
  EXPECT_EQ(recv(p.server.get(), buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << strerror(errno);
  EXPECT_EQ(fcntl(p.server.get(), F_GETFL) & O_NONBLOCK, 0) << "the flag is per call";
  ASSERT_TRUE(WriteAll(p.client.get(), "now", 3));
  ASSERT_TRUE(WaitFor(p.server.get(), POLLIN) & POLLIN);
  EXPECT_EQ(recv(p.server.get(), buf, sizeof buf, MSG_DONTWAIT), 3);
}

TEST(TcpSocketTest, RecvMsgWaitallWaitsForTheFullLength) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  pid_t writer = ForkChild([&] {
    p.server.reset();
    CHILD_CHECK(WriteAll(p.client.get(), "hello", 5));
    usleep(100 * 1000);
    CHILD_CHECK(WriteAll(p.client.get(), " wor", 4));
    usleep(50 * 1000);
    CHILD_CHECK(WriteAll(p.client.get(), "ld", 2));
    return 0;
  });
  ASSERT_GT(writer, 0);
  char buf[11] = {};
  ssize_t n;
  do {
    n = recv(p.server.get(), buf, sizeof buf, MSG_WAITALL);
  } while (n < 0 && errno == EINTR);
  EXPECT_EQ(n, 11);
  EXPECT_EQ(std::string(buf, sizeof buf), "hello world");
  EXPECT_EXITED_WITH(WaitStatus(writer), 0);
  // At end of file MSG_WAITALL returns what there is.
  ASSERT_TRUE(WriteAll(p.client.get(), "ab", 2));
  ASSERT_EQ(shutdown(p.client.get(), SHUT_WR), 0);
  EXPECT_EQ(recv(p.server.get(), buf, sizeof buf, MSG_WAITALL), 2);
}

TEST(TcpSocketTest, ReadvAndWritevGatherAndScatter) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  char a[] = "one ", b[] = "two ", c[] = "three";
  iovec out[3] = {{a, 4}, {b, 4}, {c, 5}};
  ASSERT_EQ(writev(p.client.get(), out, 3), 13);
  char x[3], y[10];
  iovec in[2] = {{x, sizeof x}, {y, sizeof y}};
  ssize_t got = 0;
  std::string all;
  while (got < 13) {
    ASSERT_TRUE(WaitFor(p.server.get(), POLLIN) & POLLIN);
    ssize_t n = readv(p.server.get(), in, 2);
    ASSERT_GT(n, 0) << strerror(errno);
    // Scatter: the first buffer fills before the second.
    all.append(x, static_cast<size_t>(std::min<ssize_t>(n, 3)));
    if (n > 3) all.append(y, static_cast<size_t>(n - 3));
    got += n;
  }
  EXPECT_EQ(all, "one two three");
}

TEST(TcpSocketTest, SendmsgAndRecvmsgOnAStream) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  char h[] = "head-", t[] = "tail";
  iovec out[2] = {{h, 5}, {t, 4}};
  msghdr m = {};
  m.msg_iov = out;
  m.msg_iovlen = 2;
  ASSERT_EQ(sendmsg(p.client.get(), &m, 0), 9) << strerror(errno);
  ASSERT_TRUE(WaitFor(p.server.get(), POLLIN) & POLLIN);
  char buf[32] = {};
  iovec in = {buf, sizeof buf};
  sockaddr_storage from;
  memset(&from, 0xff, sizeof from);
  msghdr r = {};
  r.msg_name = &from;
  r.msg_namelen = sizeof from;
  r.msg_iov = &in;
  r.msg_iovlen = 1;
  ssize_t n = recvmsg(p.server.get(), &r, 0);
  ASSERT_GT(n, 0) << strerror(errno);
  std::string got(buf, static_cast<size_t>(n));
  if (n < 9) got += ReadN(p.server.get(), static_cast<size_t>(9 - n));
  EXPECT_EQ(got, "head-tail");
  // A TCP socket fills in no source address: msg_namelen comes back 0.
  EXPECT_EQ(r.msg_namelen, 0u);
  EXPECT_EQ(r.msg_flags, 0);
}

TEST(TcpSocketTest, FionreadCountsQueuedBytes) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  int n = -1;
  ASSERT_EQ(ioctl(p.server.get(), FIONREAD, &n), 0) << strerror(errno);
  EXPECT_EQ(n, 0);
  std::string data(100, 'q');
  ASSERT_TRUE(WriteAll(p.client.get(), data.data(), data.size()));
  ASSERT_TRUE(WaitFor(p.server.get(), POLLIN) & POLLIN);
  ASSERT_EQ(ioctl(p.server.get(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 100) << "a 100-byte write on loopback arrives in one segment";
  char buf[30];
  ASSERT_EQ(read(p.server.get(), buf, sizeof buf), 30);
  ASSERT_EQ(ioctl(p.server.get(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 70);
  // Linux: FIONREAD (SIOCINQ) on a listening socket is EINVAL.
  ScopedFd listener = Listener4();
  ASSERT_TRUE(listener.ok());
  errno = 0;
  EXPECT_EQ(ioctl(listener.get(), FIONREAD, &n), -1);
  EXPECT_EQ(errno, EINVAL);
}

// ---------------------------------------------------------------------------
// Socket options

TEST(TcpSocketOptionTest, NodelayAndCork) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  int fd = p.client.get();
  EXPECT_EQ(GetIntOpt(fd, IPPROTO_TCP, TCP_NODELAY), 0);
  ASSERT_TRUE(SetIntOpt(fd, IPPROTO_TCP, TCP_NODELAY, 1));
  EXPECT_EQ(GetIntOpt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
  ASSERT_TRUE(SetIntOpt(fd, IPPROTO_TCP, TCP_NODELAY, 0));
  EXPECT_EQ(GetIntOpt(fd, IPPROTO_TCP, TCP_NODELAY), 0);

  EXPECT_EQ(GetIntOpt(fd, IPPROTO_TCP, TCP_CORK), 0);
  ASSERT_TRUE(SetIntOpt(fd, IPPROTO_TCP, TCP_CORK, 1));
  EXPECT_EQ(GetIntOpt(fd, IPPROTO_TCP, TCP_CORK), 1);
  ASSERT_TRUE(WriteAll(fd, "corked", 6));
  // Removing the cork pushes out what was held back.
  ASSERT_TRUE(SetIntOpt(fd, IPPROTO_TCP, TCP_CORK, 0));
  EXPECT_EQ(GetIntOpt(fd, IPPROTO_TCP, TCP_CORK), 0);
  EXPECT_EQ(ReadN(p.server.get(), 6), "corked");
}

TEST(TcpSocketOptionTest, KeepaliveSettings) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_KEEPALIVE), 0);
  ASSERT_TRUE(SetIntOpt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, 1));
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_KEEPALIVE), 1);
  struct Case {
    int name, value;
  } cases[] = {{TCP_KEEPIDLE, 77}, {TCP_KEEPINTVL, 13}, {TCP_KEEPCNT, 5}};
  for (const Case& c : cases) {
    EXPECT_GT(GetIntOpt(fd.get(), IPPROTO_TCP, c.name), 0) << "defaults are positive";
    ASSERT_TRUE(SetIntOpt(fd.get(), IPPROTO_TCP, c.name, c.value)) << c.name << strerror(errno);
    EXPECT_EQ(GetIntOpt(fd.get(), IPPROTO_TCP, c.name), c.value) << c.name;
    errno = 0;
    EXPECT_FALSE(SetIntOpt(fd.get(), IPPROTO_TCP, c.name, 0)) << c.name << ": 0 is out of range";
    EXPECT_EQ(errno, EINVAL) << c.name;
    EXPECT_EQ(GetIntOpt(fd.get(), IPPROTO_TCP, c.name), c.value) << "unchanged by the failure";
  }
}

TEST(TcpSocketOptionTest, BufferSizesAreAtLeastWhatWasSet) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fd.ok());
  for (int name : {SO_RCVBUF, SO_SNDBUF}) {
    EXPECT_GT(GetIntOpt(fd.get(), SOL_SOCKET, name), 0);
    ASSERT_TRUE(SetIntOpt(fd.get(), SOL_SOCKET, name, 32768)) << strerror(errno);
    // socket(7): the kernel doubles the value (room for bookkeeping).
    EXPECT_GE(GetIntOpt(fd.get(), SOL_SOCKET, name), 32768) << name;
  }
}

TEST(TcpSocketOptionTest, BooleanSocketOptionsReadBackAsZeroOrOne) {
  ScopedFd tcp(socket(AF_INET, SOCK_STREAM, 0));
  ScopedFd udp(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_TRUE(tcp.ok() && udp.ok());
  EXPECT_EQ(GetIntOpt(tcp.get(), SOL_SOCKET, SO_REUSEADDR), 0);
  ASSERT_TRUE(SetIntOpt(tcp.get(), SOL_SOCKET, SO_REUSEADDR, 5));
  EXPECT_EQ(GetIntOpt(tcp.get(), SOL_SOCKET, SO_REUSEADDR), 1) << "any non-zero value is on";
  ASSERT_TRUE(SetIntOpt(tcp.get(), SOL_SOCKET, SO_REUSEADDR, 0));
  EXPECT_EQ(GetIntOpt(tcp.get(), SOL_SOCKET, SO_REUSEADDR), 0);

  EXPECT_EQ(GetIntOpt(udp.get(), SOL_SOCKET, SO_BROADCAST), 0);
  ASSERT_TRUE(SetIntOpt(udp.get(), SOL_SOCKET, SO_BROADCAST, 1));
  EXPECT_EQ(GetIntOpt(udp.get(), SOL_SOCKET, SO_BROADCAST), 1);
  ASSERT_TRUE(SetIntOpt(udp.get(), SOL_SOCKET, SO_BROADCAST, 0));
  EXPECT_EQ(GetIntOpt(udp.get(), SOL_SOCKET, SO_BROADCAST), 0);

  linger lg = {};
  socklen_t len = sizeof lg;
  ASSERT_EQ(getsockopt(tcp.get(), SOL_SOCKET, SO_LINGER, &lg, &len), 0);
  EXPECT_EQ(lg.l_onoff, 0) << "lingering is off by default";
  lg = {1, 7};
  ASSERT_EQ(setsockopt(tcp.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
  lg = {};
  len = sizeof lg;
  ASSERT_EQ(getsockopt(tcp.get(), SOL_SOCKET, SO_LINGER, &lg, &len), 0);
  EXPECT_EQ(lg.l_onoff, 1);
  EXPECT_EQ(lg.l_linger, 7);
}

TEST(TcpSocketOptionTest, IpTosAndTtl) {
  ScopedFd tcp(socket(AF_INET, SOCK_STREAM, 0));
  ScopedFd udp(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_TRUE(tcp.ok() && udp.ok());
  EXPECT_EQ(GetIntOpt(tcp.get(), IPPROTO_IP, IP_TOS), 0);
  ASSERT_TRUE(SetIntOpt(tcp.get(), IPPROTO_IP, IP_TOS, 0x10));
  EXPECT_EQ(GetIntOpt(tcp.get(), IPPROTO_IP, IP_TOS), 0x10);
  // Linux: on a TCP socket the two ECN bits of IP_TOS belong to the
  // kernel, so they are dropped from what is set; UDP keeps them.
  ASSERT_TRUE(SetIntOpt(tcp.get(), IPPROTO_IP, IP_TOS, 0x13));
  EXPECT_EQ(GetIntOpt(tcp.get(), IPPROTO_IP, IP_TOS), 0x10);
  ASSERT_TRUE(SetIntOpt(udp.get(), IPPROTO_IP, IP_TOS, 0x13));
  EXPECT_EQ(GetIntOpt(udp.get(), IPPROTO_IP, IP_TOS), 0x13);

  int default_ttl = GetIntOpt(tcp.get(), IPPROTO_IP, IP_TTL);
  EXPECT_GE(default_ttl, 1);
  EXPECT_LE(default_ttl, 255);
  ASSERT_TRUE(SetIntOpt(tcp.get(), IPPROTO_IP, IP_TTL, 32));
  EXPECT_EQ(GetIntOpt(tcp.get(), IPPROTO_IP, IP_TTL), 32);
  for (int bad : {0, 256}) {
    errno = 0;
    EXPECT_FALSE(SetIntOpt(tcp.get(), IPPROTO_IP, IP_TTL, bad)) << bad;
    EXPECT_EQ(errno, EINVAL) << bad;
  }
  // ip(7): -1 restores the default.
  ASSERT_TRUE(SetIntOpt(tcp.get(), IPPROTO_IP, IP_TTL, -1));
  EXPECT_EQ(GetIntOpt(tcp.get(), IPPROTO_IP, IP_TTL), default_ttl);
}

TEST(TcpSocketOptionTest, TcpInfoFollowsTheConnectionState) {
  auto state = [](int fd) {
    tcp_info info = {};
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
    return static_cast<int>(info.tcpi_state);
  };
  ScopedFd fresh(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(state(fresh.get()), TCP_CLOSE);
  ScopedFd listener = Listener4();
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(state(listener.get()), TCP_LISTEN);
  ScopedFd client = Connect4(LocalPort(listener.get()));
  ASSERT_TRUE(client.ok());
  ScopedFd server(accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(state(client.get()), TCP_ESTABLISHED);
  EXPECT_EQ(state(server.get()), TCP_ESTABLISHED);
  // A short buffer gets a prefix of the structure.
  tcp_info info = {};
  socklen_t len = 4;
  ASSERT_EQ(getsockopt(client.get(), IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  EXPECT_EQ(len, 4u);
  EXPECT_EQ(info.tcpi_state, TCP_ESTABLISHED);

  server.reset();
  char b;
  ASSERT_EQ(read(client.get(), &b, 1), 0);
  EXPECT_EQ(state(client.get()), TCP_CLOSE_WAIT) << "the peer's FIN arrived, ours not sent";
}

TEST(TcpSocketOptionTest, UserTimeout) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(GetIntOpt(fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
  ASSERT_TRUE(SetIntOpt(fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT, 12345));
  EXPECT_EQ(GetIntOpt(fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT), 12345);
  errno = 0;
  EXPECT_FALSE(SetIntOpt(fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT, -1));
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(GetIntOpt(fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT), 12345);
}

TEST(TcpSocketOptionTest, TypeDomainProtocolAcceptconnAndError) {
  ScopedFd fd = Bound4(SOCK_STREAM);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_DOMAIN), AF_INET);
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_ERROR), 0);
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_ACCEPTCONN), 0);
  ASSERT_EQ(listen(fd.get(), 2), 0);
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_ACCEPTCONN), 1);
  ScopedFd client = Connect4(LocalPort(fd.get()));
  ASSERT_TRUE(client.ok());
  ScopedFd server(accept(fd.get(), nullptr, nullptr));
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(GetIntOpt(server.get(), SOL_SOCKET, SO_ACCEPTCONN), 0);
  EXPECT_EQ(GetIntOpt(client.get(), SOL_SOCKET, SO_ACCEPTCONN), 0);
  // These options are read-only.
  for (int name : {SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR}) {
    errno = 0;
    EXPECT_FALSE(SetIntOpt(fd.get(), SOL_SOCKET, name, 1)) << name;
    EXPECT_EQ(errno, ENOPROTOOPT) << name;
  }
}

TEST(TcpSocketOptionTest, UnknownOptionsAndLevels) {
  ScopedFd tcp(socket(AF_INET, SOCK_STREAM, 0));
  ScopedFd udp(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_TRUE(tcp.ok() && udp.ok());
  int v = 1;
  socklen_t len = sizeof v;
  struct Case {
    int fd, level, name;
  } unknown_names[] = {
      {tcp.get(), SOL_SOCKET, 9999},  {tcp.get(), IPPROTO_TCP, 9999}, {tcp.get(), IPPROTO_IP, 9999},
      {udp.get(), IPPROTO_UDP, 9999}, {udp.get(), IPPROTO_IP, 9999},
  };
  for (const Case& c : unknown_names) {
    errno = 0;
    EXPECT_EQ(setsockopt(c.fd, c.level, c.name, &v, sizeof v), -1) << c.level;
    EXPECT_EQ(errno, ENOPROTOOPT) << "setsockopt level " << c.level;
    len = sizeof v;
    errno = 0;
    EXPECT_EQ(getsockopt(c.fd, c.level, c.name, &v, &len), -1) << c.level;
    EXPECT_EQ(errno, ENOPROTOOPT) << "getsockopt level " << c.level;
  }
  // An unknown level: setsockopt says ENOPROTOOPT, but on IPv4 sockets Linux
  // hands unknown getsockopt levels to the IP layer, which answers
  // EOPNOTSUPP. The same goes for IPPROTO_IPV6 on an IPv4 socket, and for
  // IPPROTO_TCP on a UDP socket.
  for (int fd : {tcp.get(), udp.get()}) {
    errno = 0;
    EXPECT_EQ(setsockopt(fd, 12345, 1, &v, sizeof v), -1);
    EXPECT_EQ(errno, ENOPROTOOPT);
    len = sizeof v;
    errno = 0;
    EXPECT_EQ(getsockopt(fd, 12345, 1, &v, &len), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    len = sizeof v;
    errno = 0;
    EXPECT_EQ(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
  }
  len = sizeof v;
  errno = 0;
  EXPECT_EQ(getsockopt(udp.get(), IPPROTO_TCP, TCP_NODELAY, &v, &len), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST(TcpSocketOptionTest, ShortAndOddOptionLengths) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fd.ok());
  unsigned char buf[8];

  // SOL_SOCKET integers: Linux copies as many bytes as asked for.
  memset(buf, 0xaa, sizeof buf);
  socklen_t len = 2;
  ASSERT_EQ(getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, buf, &len), 0) << strerror(errno);
  EXPECT_EQ(len, 2u);
  EXPECT_EQ(buf[0], SOCK_STREAM);  // little-endian low byte
  EXPECT_EQ(buf[1], 0);
  EXPECT_EQ(buf[2], 0xaa) << "nothing past optlen";
  len = 0;
  EXPECT_EQ(getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, buf, &len), 0);
  EXPECT_EQ(len, 0u);
  // A longer buffer is shortened to the option's size.
  len = sizeof buf;
  ASSERT_EQ(getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, buf, &len), 0);
  EXPECT_EQ(len, sizeof(int));
  // A negative length is EINVAL.
  len = static_cast<socklen_t>(-1);
  errno = 0;
  EXPECT_EQ(getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, buf, &len), -1);
  EXPECT_EQ(errno, EINVAL);

  // IPPROTO_IP integers that fit in a byte come back as one byte whenever
  // the buffer is shorter than an int (ip(7) calls this compatibility).
  for (socklen_t want : {1u, 2u, 3u}) {
    memset(buf, 0xaa, sizeof buf);
    len = want;
    ASSERT_EQ(getsockopt(fd.get(), IPPROTO_IP, IP_TTL, buf, &len), 0);
    EXPECT_EQ(len, 1u) << "asked for " << want;
    EXPECT_EQ(buf[0], GetIntOpt(fd.get(), IPPROTO_IP, IP_TTL));
    EXPECT_EQ(buf[1], 0xaa);
  }
  // IPPROTO_TCP integers are cut to the length asked for.
  memset(buf, 0xaa, sizeof buf);
  len = 2;
  ASSERT_EQ(getsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, buf, &len), 0);
  EXPECT_EQ(len, 2u);
  EXPECT_EQ(buf[0], 0);
  EXPECT_EQ(buf[2], 0xaa);

  // setsockopt of an int option with fewer bytes than an int is EINVAL.
  int one = 1;
  errno = 0;
  EXPECT_EQ(setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, 2), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, 2), -1);
  EXPECT_EQ(errno, EINVAL);
}

// ---------------------------------------------------------------------------
// UDP

TEST(UdpSocketTest, SendtoAndRecvfromCarryAddresses) {
  ScopedFd a = Bound4(SOCK_DGRAM);
  ScopedFd b = Bound4(SOCK_DGRAM);
  ASSERT_TRUE(a.ok() && b.ok());
  sockaddr_in to = Loopback4(LocalPort(b.get()));
  ASSERT_EQ(sendto(a.get(), "datagram", 8, 0, SA(&to), sizeof to), 8) << strerror(errno);
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  char buf[32];
  sockaddr_in from = {};
  socklen_t len = sizeof from;
  ASSERT_EQ(recvfrom(b.get(), buf, sizeof buf, 0, SA(&from), &len), 8);
  EXPECT_EQ(std::string(buf, 8), "datagram");
  EXPECT_EQ(len, sizeof from);
  EXPECT_EQ(from.sin_family, AF_INET);
  EXPECT_EQ(Ip4String(from.sin_addr), "127.0.0.1");
  EXPECT_EQ(ntohs(from.sin_port), LocalPort(a.get()));
  // Reply to where it came from.
  ASSERT_EQ(sendto(b.get(), "back", 4, 0, SA(&from), len), 4);
  ASSERT_TRUE(WaitFor(a.get(), POLLIN) & POLLIN);
  ASSERT_EQ(recvfrom(a.get(), buf, sizeof buf, 0, nullptr, nullptr), 4);
  EXPECT_EQ(std::string(buf, 4), "back");
}

TEST(UdpSocketTest, UnboundSenderGetsAnEphemeralPort) {
  ScopedFd rx = Bound4(SOCK_DGRAM);
  ScopedFd tx(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_TRUE(rx.ok() && tx.ok());
  EXPECT_EQ(LocalPort(tx.get()), 0);
  sockaddr_in to = Loopback4(LocalPort(rx.get()));
  ASSERT_EQ(sendto(tx.get(), "x", 1, 0, SA(&to), sizeof to), 1);
  EXPECT_NE(LocalPort(tx.get()), 0) << "sending binds the socket";
  // Without an address an unconnected datagram socket has no destination.
  errno = 0;
  EXPECT_EQ(send(tx.get(), "x", 1, 0), -1);
  EXPECT_EQ(errno, EDESTADDRREQ);
  // Port 0 is not a destination (Linux: EINVAL).
  sockaddr_in zero = Loopback4(0);
  errno = 0;
  EXPECT_EQ(sendto(tx.get(), "x", 1, 0, SA(&zero), sizeof zero), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(UdpSocketTest, ConnectedSocketSendsAndOnlyHearsFromItsPeer) {
  ScopedFd a = Bound4(SOCK_DGRAM);
  ScopedFd b = Bound4(SOCK_DGRAM);
  ScopedFd stranger = Bound4(SOCK_DGRAM);
  ASSERT_TRUE(a.ok() && b.ok() && stranger.ok());
  sockaddr_in to_b = Loopback4(LocalPort(b.get()));
  sockaddr_in to_a = Loopback4(LocalPort(a.get()));
  ASSERT_EQ(connect(a.get(), SA(&to_b), sizeof to_b), 0) << strerror(errno);
  sockaddr_in peer = {};
  socklen_t len = sizeof peer;
  ASSERT_EQ(getpeername(a.get(), SA(&peer), &len), 0);
  EXPECT_EQ(peer.sin_port, to_b.sin_port);
  ASSERT_EQ(send(a.get(), "to b", 4, 0), 4);
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  char buf[16];
  ASSERT_EQ(recv(b.get(), buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "to b");
  // A datagram from someone else is dropped; the peer's gets through.
  ASSERT_EQ(sendto(stranger.get(), "nope", 4, 0, SA(&to_a), sizeof to_a), 4);
  ASSERT_EQ(sendto(b.get(), "yes", 3, 0, SA(&to_a), sizeof to_a), 3);
  ASSERT_TRUE(WaitFor(a.get(), POLLIN) & POLLIN);
  ASSERT_EQ(recv(a.get(), buf, sizeof buf, 0), 3);
  EXPECT_EQ(std::string(buf, 3), "yes");
  errno = 0;
  EXPECT_EQ(recv(a.get(), buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  // Connecting to AF_UNSPEC dissolves the association.
  sockaddr unspec = {};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_EQ(connect(a.get(), &unspec, sizeof unspec), 0) << strerror(errno);
  len = sizeof peer;
  errno = 0;
  EXPECT_EQ(getpeername(a.get(), SA(&peer), &len), -1);
  EXPECT_EQ(errno, ENOTCONN);
}

TEST(UdpSocketTest, ShortBuffersTruncateDatagrams) {
  ScopedFd a = Bound4(SOCK_DGRAM);
  ScopedFd b = Bound4(SOCK_DGRAM);
  ASSERT_TRUE(a.ok() && b.ok());
  sockaddr_in to = Loopback4(LocalPort(b.get()));
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(sendto(a.get(), "0123456789", 10, 0, SA(&to), sizeof to), 10);
  }
  char buf[16] = {};
  // A plain short read returns what fits and drops the rest.
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  ASSERT_EQ(recv(b.get(), buf, 4, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "0123");
  // udp(7)/recv(2): with MSG_TRUNC the real length is returned.
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  ASSERT_EQ(recv(b.get(), buf, 4, MSG_TRUNC), 10);
  EXPECT_EQ(std::string(buf, 4), "0123");
  // recvmsg reports the truncation in msg_flags.
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  iovec iov = {buf, 6};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  ASSERT_EQ(recvmsg(b.get(), &m, 0), 6);
  EXPECT_NE(m.msg_flags & MSG_TRUNC, 0);
  errno = 0;
  EXPECT_EQ(recv(b.get(), buf, sizeof buf, MSG_DONTWAIT), -1) << "each datagram was read once";
  EXPECT_EQ(errno, EAGAIN);
}

TEST(UdpSocketTest, ZeroLengthDatagramsAreDelivered) {
  ScopedFd a = Bound4(SOCK_DGRAM);
  ScopedFd b = Bound4(SOCK_DGRAM);
  ASSERT_TRUE(a.ok() && b.ok());
  sockaddr_in to = Loopback4(LocalPort(b.get()));
  ASSERT_EQ(sendto(a.get(), "", 0, 0, SA(&to), sizeof to), 0);
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  char buf[4];
  sockaddr_in from = {};
  socklen_t len = sizeof from;
  EXPECT_EQ(recvfrom(b.get(), buf, sizeof buf, 0, SA(&from), &len), 0);
  EXPECT_EQ(ntohs(from.sin_port), LocalPort(a.get()));
  errno = 0;
  EXPECT_EQ(recv(b.get(), buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(UdpSocketTest, IpPktinfoReportsTheDestination) {
  ScopedFd a = Bound4(SOCK_DGRAM);
  ScopedFd b = Bound4(SOCK_DGRAM);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(GetIntOpt(b.get(), IPPROTO_IP, IP_PKTINFO), 0);
  ASSERT_TRUE(SetIntOpt(b.get(), IPPROTO_IP, IP_PKTINFO, 1));
  EXPECT_EQ(GetIntOpt(b.get(), IPPROTO_IP, IP_PKTINFO), 1);
  sockaddr_in to = Loopback4(LocalPort(b.get()));
  ASSERT_EQ(sendto(a.get(), "info", 4, 0, SA(&to), sizeof to), 4);
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  char buf[16];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo)) + 64];
  iovec iov = {buf, sizeof buf};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ASSERT_EQ(recvmsg(b.get(), &m, 0), 4) << strerror(errno);
  EXPECT_EQ(m.msg_flags & MSG_CTRUNC, 0);
  const in_pktinfo* info = nullptr;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      EXPECT_EQ(c->cmsg_len, CMSG_LEN(sizeof(in_pktinfo)));
      info = reinterpret_cast<const in_pktinfo*>(CMSG_DATA(c));
    }
  }
  ASSERT_NE(info, nullptr) << "no IP_PKTINFO control message";
  EXPECT_EQ(Ip4String(info->ipi_addr), "127.0.0.1") << "the header's destination address";
  EXPECT_EQ(Ip4String(info->ipi_spec_dst), "127.0.0.1") << "the local address";
  // lo is registered first in every network namespace: index 1.
  EXPECT_EQ(info->ipi_ifindex, 1);
}

TEST(UdpSocketTest, SendmmsgAndRecvmmsgMoveSeveralDatagrams) {
  ScopedFd a = Bound4(SOCK_DGRAM);
  ScopedFd b = Bound4(SOCK_DGRAM);
  ASSERT_TRUE(a.ok() && b.ok());
  sockaddr_in to = Loopback4(LocalPort(b.get()));
  const char* payloads[3] = {"first", "second!", "3"};
  iovec out_iov[3];
  mmsghdr out[3] = {};
  for (int i = 0; i < 3; i++) {
    out_iov[i] = {const_cast<char*>(payloads[i]), strlen(payloads[i])};
    out[i].msg_hdr.msg_iov = &out_iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
    out[i].msg_hdr.msg_name = &to;
    out[i].msg_hdr.msg_namelen = sizeof to;
  }
  ASSERT_EQ(sendmmsg(a.get(), out, 3, 0), 3) << strerror(errno);
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(out[i].msg_len, strlen(payloads[i])) << "msg_len is the bytes sent";
  }

  char bufs[3][16];
  iovec in_iov[3];
  sockaddr_in from[3];
  mmsghdr in[3] = {};
  std::vector<std::string> got;
  for (int round = 0; round < 50 && got.size() < 3; round++) {
    size_t want = 3 - got.size();
    for (size_t i = 0; i < want; i++) {
      in_iov[i] = {bufs[i], sizeof bufs[i]};
      in[i].msg_hdr = {};
      in[i].msg_hdr.msg_iov = &in_iov[i];
      in[i].msg_hdr.msg_iovlen = 1;
      in[i].msg_hdr.msg_name = &from[i];
      in[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
    int n = recvmmsg(b.get(), in, static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    ASSERT_GE(n, 1) << strerror(errno);
    for (int i = 0; i < n; i++) {
      got.emplace_back(bufs[i], in[i].msg_len);
      EXPECT_EQ(in[i].msg_hdr.msg_namelen, sizeof(sockaddr_in));
      EXPECT_EQ(ntohs(from[i].sin_port), LocalPort(a.get()));
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "first");
  EXPECT_EQ(got[1], "second!");
  EXPECT_EQ(got[2], "3");
}

TEST(UdpSocketTest, FionreadIsTheSizeOfTheNextDatagram) {
  ScopedFd a = Bound4(SOCK_DGRAM);
  ScopedFd b = Bound4(SOCK_DGRAM);
  ASSERT_TRUE(a.ok() && b.ok());
  int n = -1;
  ASSERT_EQ(ioctl(b.get(), FIONREAD, &n), 0) << strerror(errno);
  EXPECT_EQ(n, 0);
  sockaddr_in to = Loopback4(LocalPort(b.get()));
  ASSERT_EQ(sendto(a.get(), "0123456789", 10, 0, SA(&to), sizeof to), 10);
  ASSERT_EQ(sendto(a.get(), "01234567890123456789", 20, 0, SA(&to), sizeof to), 20);
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  ASSERT_EQ(ioctl(b.get(), FIONREAD, &n), 0);
  // udp(7): not the total of all queued datagrams.
  EXPECT_EQ(n, 10);
  char buf[32];
  ASSERT_EQ(recv(b.get(), buf, sizeof buf, 0), 10);
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  ASSERT_EQ(ioctl(b.get(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 20);
  ASSERT_EQ(recv(b.get(), buf, sizeof buf, 0), 20);
  ASSERT_EQ(ioctl(b.get(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 0);
}

TEST(UdpSocketTest, ConnectedSocketLearnsThatThePortIsClosed) {
  // Find a port nobody listens on: bind, note the port, close.
  uint16_t closed_port;
  {
    ScopedFd tmp = Bound4(SOCK_DGRAM);
    ASSERT_TRUE(tmp.ok());
    closed_port = LocalPort(tmp.get());
  }
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_TRUE(fd.ok());
  sockaddr_in to = Loopback4(closed_port);
  ASSERT_EQ(connect(fd.get(), SA(&to), sizeof to), 0);
  // The ICMP port unreachable comes back asynchronously and is reported by
  // a later call on the socket.
  int err = 0;
  for (int i = 0; i < 50 && err == 0; i++) {
    ssize_t n = send(fd.get(), "anyone?", 7, 0);
    if (n < 0) {
      err = errno;
      break;
    }
    short ev = WaitFor(fd.get(), POLLIN, 100);
    if (ev & POLLERR) {
      char b;
      if (recv(fd.get(), &b, 1, MSG_DONTWAIT) < 0) err = errno;
    }
  }
  EXPECT_EQ(err, ECONNREFUSED) << strerror(err);
  // Reported once: the socket works normally afterwards.
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_ERROR), 0);
}

// ---------------------------------------------------------------------------
// IPv6

TEST(Ipv6SocketTest, TcpOverIpv6Loopback) {
  SKIP_WITHOUT_IPV6_LOOPBACK();
  ScopedFd listener(socket(AF_INET6, SOCK_STREAM, 0));
  ASSERT_TRUE(listener.ok());
  sockaddr_in6 a = Loopback6();
  ASSERT_EQ(bind(listener.get(), SA(&a), sizeof a), 0) << strerror(errno);
  ASSERT_EQ(listen(listener.get(), 4), 0);
  sockaddr_in6 bound = {};
  socklen_t len = sizeof bound;
  ASSERT_EQ(getsockname(listener.get(), SA(&bound), &len), 0);
  EXPECT_EQ(len, sizeof bound);
  EXPECT_EQ(bound.sin6_family, AF_INET6);
  EXPECT_EQ(Ip6String(bound.sin6_addr), "::1");
  ASSERT_NE(bound.sin6_port, 0);

  ScopedFd client(socket(AF_INET6, SOCK_STREAM, 0));
  ASSERT_TRUE(client.ok());
  ASSERT_EQ(connect(client.get(), SA(&bound), sizeof bound), 0) << strerror(errno);
  sockaddr_in6 peer = {};
  len = sizeof peer;
  ScopedFd server(accept(listener.get(), SA(&peer), &len));
  ASSERT_TRUE(server.ok()) << strerror(errno);
  EXPECT_EQ(len, sizeof peer);
  EXPECT_EQ(peer.sin6_family, AF_INET6);
  EXPECT_EQ(Ip6String(peer.sin6_addr), "::1");
  EXPECT_EQ(ntohs(peer.sin6_port), LocalPort(client.get()));
  sockaddr_in6 client_peer = {};
  len = sizeof client_peer;
  ASSERT_EQ(getpeername(client.get(), SA(&client_peer), &len), 0);
  EXPECT_EQ(client_peer.sin6_port, bound.sin6_port);
  ASSERT_TRUE(WriteAll(client.get(), "six", 3));
  EXPECT_EQ(ReadN(server.get(), 3), "six");
  ASSERT_TRUE(WriteAll(server.get(), "ack", 3));
  EXPECT_EQ(ReadN(client.get(), 3), "ack");
}

TEST(Ipv6SocketTest, UdpOverIpv6Loopback) {
  SKIP_WITHOUT_IPV6_LOOPBACK();
  ScopedFd a(socket(AF_INET6, SOCK_DGRAM, 0));
  ScopedFd b(socket(AF_INET6, SOCK_DGRAM, 0));
  ASSERT_TRUE(a.ok() && b.ok());
  sockaddr_in6 addr = Loopback6();
  ASSERT_EQ(bind(a.get(), SA(&addr), sizeof addr), 0);
  ASSERT_EQ(bind(b.get(), SA(&addr), sizeof addr), 0);
  sockaddr_in6 to = Loopback6(LocalPort(b.get()));
  ASSERT_EQ(sendto(a.get(), "v6", 2, 0, SA(&to), sizeof to), 2) << strerror(errno);
  ASSERT_TRUE(WaitFor(b.get(), POLLIN) & POLLIN);
  char buf[8];
  sockaddr_in6 from = {};
  socklen_t len = sizeof from;
  ASSERT_EQ(recvfrom(b.get(), buf, sizeof buf, 0, SA(&from), &len), 2);
  EXPECT_EQ(len, sizeof from);
  EXPECT_EQ(from.sin6_family, AF_INET6);
  EXPECT_EQ(Ip6String(from.sin6_addr), "::1");
  EXPECT_EQ(ntohs(from.sin6_port), LocalPort(a.get()));
}

TEST(Ipv6SocketTest, DualStackSocketAcceptsAnIpv4ClientAsAMappedAddress) {
  SKIP_WITHOUT_IPV6_LOOPBACK();
  ScopedFd listener(socket(AF_INET6, SOCK_STREAM, 0));
  ASSERT_TRUE(listener.ok());
  // ipv6(7): the default comes from net.ipv6.bindv6only, 0 unless changed.
  EXPECT_EQ(GetIntOpt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY), 0);
  sockaddr_in6 any = {};
  any.sin6_family = AF_INET6;
  any.sin6_addr = in6addr_any;
  ASSERT_EQ(bind(listener.get(), SA(&any), sizeof any), 0) << strerror(errno);
  ASSERT_EQ(listen(listener.get(), 4), 0);
  // Once bound, IPV6_V6ONLY can no longer change.
  errno = 0;
  EXPECT_FALSE(SetIntOpt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1));
  EXPECT_EQ(errno, EINVAL);

  ScopedFd client = Connect4(LocalPort(listener.get()));
  ASSERT_TRUE(client.ok()) << strerror(errno);
  sockaddr_in6 peer = {};
  socklen_t len = sizeof peer;
  ScopedFd server(accept(listener.get(), SA(&peer), &len));
  ASSERT_TRUE(server.ok()) << strerror(errno);
  EXPECT_EQ(len, sizeof peer);
  EXPECT_EQ(peer.sin6_family, AF_INET6);
  EXPECT_EQ(Ip6String(peer.sin6_addr), "::ffff:127.0.0.1");
  EXPECT_EQ(ntohs(peer.sin6_port), LocalPort(client.get()));
  sockaddr_in6 local = {};
  len = sizeof local;
  ASSERT_EQ(getsockname(server.get(), SA(&local), &len), 0);
  EXPECT_EQ(Ip6String(local.sin6_addr), "::ffff:127.0.0.1");
  ASSERT_TRUE(WriteAll(client.get(), "mapped", 6));
  EXPECT_EQ(ReadN(server.get(), 6), "mapped");
}

TEST(Ipv6SocketTest, V6onlySocketDoesNotAcceptIpv4) {
  SKIP_WITHOUT_IPV6_LOOPBACK();
  ScopedFd listener(socket(AF_INET6, SOCK_STREAM, 0));
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(SetIntOpt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1));
  EXPECT_EQ(GetIntOpt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY), 1);
  // A v6-only socket cannot take a v4-mapped address.
  sockaddr_in6 mapped = {};
  mapped.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr), 1);
  errno = 0;
  EXPECT_EQ(bind(listener.get(), SA(&mapped), sizeof mapped), -1);
  EXPECT_EQ(errno, EINVAL);
  sockaddr_in6 any = {};
  any.sin6_family = AF_INET6;
  ASSERT_EQ(bind(listener.get(), SA(&any), sizeof any), 0) << strerror(errno);
  ASSERT_EQ(listen(listener.get(), 4), 0);
  uint16_t port = LocalPort(listener.get());
  errno = 0;
  ScopedFd v4 = Connect4(port);
  EXPECT_FALSE(v4.ok());
  EXPECT_EQ(errno, ECONNREFUSED);
  // IPv6 clients still get through.
  ScopedFd v6(socket(AF_INET6, SOCK_STREAM, 0));
  ASSERT_TRUE(v6.ok());
  sockaddr_in6 to = Loopback6(port);
  EXPECT_EQ(connect(v6.get(), SA(&to), sizeof to), 0) << strerror(errno);
}

// ---------------------------------------------------------------------------
// Blocking calls and signals

TEST(InetBlockingTest, BlockingAcceptIsInterruptedByAHandlerWithoutSaRestart) {
  ScopedFd listener = Listener4();
  ASSERT_TRUE(listener.ok());
  int status = RunInChild([&] {
    CHILD_CHECK(InstallAlarmHandler(false));
    alarm(1);
    errno = 0;
    CHILD_CHECK(accept(listener.get(), nullptr, nullptr) == -1);
    CHILD_CHECK(errno == EINTR);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(InetBlockingTest, BlockingRecvIsInterruptedByAHandlerWithoutSaRestart) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  ScopedFd udp = Bound4(SOCK_DGRAM);
  ASSERT_TRUE(udp.ok());
  int status = RunInChild([&] {
    CHILD_CHECK(InstallAlarmHandler(false));
    char b;
    alarm(1);
    errno = 0;
    CHILD_CHECK(recv(p.server.get(), &b, 1, 0) == -1);
    CHILD_CHECK(errno == EINTR);
    alarm(1);
    errno = 0;
    CHILD_CHECK(recvfrom(udp.get(), &b, 1, 0, nullptr, nullptr) == -1);
    CHILD_CHECK(errno == EINTR);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(InetBlockingTest, SoRcvtimeoTimesOutWithEagain) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  timeval tv = {0, 100 * 1000};
  ASSERT_EQ(setsockopt(p.server.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  timeval got = {};
  socklen_t len = sizeof got;
  ASSERT_EQ(getsockopt(p.server.get(), SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
  EXPECT_EQ(len, sizeof got);
  EXPECT_EQ(got.tv_sec, 0);
  EXPECT_GT(got.tv_usec, 0);
  char b;
  errno = 0;
  EXPECT_EQ(recv(p.server.get(), &b, 1, 0), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << strerror(errno);
  // A listener's accept times out the same way.
  ScopedFd listener = Listener4();
  ASSERT_TRUE(listener.ok());
  ASSERT_EQ(setsockopt(listener.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  errno = 0;
  EXPECT_EQ(accept(listener.get(), nullptr, nullptr), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << strerror(errno);
  // An out-of-range tv_usec is EDOM (socket(7)).
  timeval bad = {0, 1000000};
  errno = 0;
  EXPECT_EQ(setsockopt(p.server.get(), SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof bad), -1);
  EXPECT_EQ(errno, EDOM);
}

TEST(InetBlockingTest, RecvWithATimeoutIsNotRestartedAfterASignal) {
  // signal(7): a socket call with SO_RCVTIMEO set fails with EINTR after a
  // handler even when the handler was installed with SA_RESTART.
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  int status = RunInChild([&] {
    CHILD_CHECK(InstallAlarmHandler(true));
    timeval tv = {30, 0};
    CHILD_CHECK(setsockopt(p.server.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    char b;
    alarm(1);
    errno = 0;
    CHILD_CHECK(recv(p.server.get(), &b, 1, 0) == -1);
    CHILD_CHECK(errno == EINTR);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(InetBlockingTest, RecvWithoutATimeoutIsRestartedWithSaRestart) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  // The writer sends well after the alarm: if recv were not restarted it
  // would fail with EINTR first.
  pid_t writer = ForkChild([&] {
    usleep(1500 * 1000);
    return WriteAll(p.client.get(), "late", 4) ? 0 : kChildFailed;
  });
  ASSERT_GT(writer, 0);
  int status = RunInChild([&] {
    CHILD_CHECK(InstallAlarmHandler(true));
    char buf[4];
    alarm(1);
    CHILD_CHECK(recv(p.server.get(), buf, sizeof buf, MSG_WAITALL) == 4);
    CHILD_CHECK(memcmp(buf, "late", 4) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EXITED_WITH(WaitStatus(writer), 0);
}

// ---------------------------------------------------------------------------
// poll and epoll

TEST(InetPollTest, ReadableOnDataWritableWhenConnected) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  EXPECT_EQ(WaitFor(p.server.get(), POLLIN | POLLOUT, 0), POLLOUT);
  ASSERT_TRUE(WriteAll(p.client.get(), "d", 1));
  ASSERT_TRUE(WaitFor(p.server.get(), POLLIN) & POLLIN);
  EXPECT_EQ(WaitFor(p.server.get(), POLLIN | POLLOUT, 0), POLLIN | POLLOUT);
  char b;
  ASSERT_EQ(read(p.server.get(), &b, 1), 1);
  EXPECT_EQ(WaitFor(p.server.get(), POLLIN, 0), 0);
}

TEST(InetPollTest, PeerShutdownIsRdhupAndBothShutIsHup) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  ScopedFd ep(epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(ep.ok());
  epoll_event ev = {};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = p.server.get();
  ASSERT_EQ(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.server.get(), &ev), 0);
  epoll_event out = {};
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 0) << "nothing to report yet";
  ASSERT_EQ(shutdown(p.client.get(), SHUT_WR), 0);
  ASSERT_EQ(epoll_wait(ep.get(), &out, 1, kWaitMs), 1);
  EXPECT_EQ(out.data.fd, p.server.get());
  EXPECT_TRUE(out.events & EPOLLRDHUP) << std::hex << out.events;
  EXPECT_TRUE(out.events & EPOLLIN) << "end of file is readable";
  EXPECT_FALSE(out.events & EPOLLHUP) << "the server can still send";
  EXPECT_EQ(WaitFor(p.server.get(), POLLIN | POLLRDHUP, 0), POLLIN | POLLRDHUP);
  // Shutting down the server's side too: both directions are closed.
  ASSERT_EQ(shutdown(p.server.get(), SHUT_WR), 0);
  short r = WaitFor(p.server.get(), POLLIN);
  EXPECT_TRUE(r & POLLHUP) << r;
  EXPECT_TRUE(WaitFor(p.client.get(), POLLIN) & POLLHUP);
}

TEST(InetPollTest, EdgeTriggeredEpollReportsEachArrivalOnce) {
  TcpPair p;
  ASSERT_NO_FATAL_FAILURE(MakeTcpPair4(&p));
  ScopedFd ep(epoll_create1(0));
  ASSERT_TRUE(ep.ok());
  epoll_event ev = {};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = 42;
  ASSERT_EQ(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.server.get(), &ev), 0);
  epoll_event out = {};
  ASSERT_TRUE(WriteAll(p.client.get(), "a", 1));
  ASSERT_EQ(epoll_wait(ep.get(), &out, 1, kWaitMs), 1);
  EXPECT_EQ(out.data.u64, 42u);
  EXPECT_TRUE(out.events & EPOLLIN);
  // The data is still there, but the edge was already reported.
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 0);
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 0);
  // New data is a new edge, even though the old data was not read.
  ASSERT_TRUE(WriteAll(p.client.get(), "b", 1));
  ASSERT_EQ(epoll_wait(ep.get(), &out, 1, kWaitMs), 1);
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 0);
  // A level-triggered registration of the same socket reports every time.
  ev.events = EPOLLIN;
  ASSERT_EQ(epoll_ctl(ep.get(), EPOLL_CTL_MOD, p.server.get(), &ev), 0);
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 1);
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 1);
}

// ---------------------------------------------------------------------------
// Ping sockets (icmp(7))

// A ping socket of the family, or a reason to skip in *why.
ScopedFd PingSocket(int family, std::string* why) {
  int proto = family == AF_INET ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
  ScopedFd fd(socket(family, SOCK_DGRAM, proto));
  if (!fd.ok()) {
    int e = errno;
    if (e == EACCES || e == EPERM) {
      *why = std::string("ping sockets are not allowed for this group (") + strerror(e) +
             "): net.ipv4.ping_group_range does not include gid " + std::to_string(getgid());
    } else if (e == EAFNOSUPPORT || e == EPROTONOSUPPORT) {
      *why = std::string("no ping sockets: ") + strerror(e);
    } else {
      *why = std::string("unexpected: ") + strerror(e);
    }
  }
  return fd;
}

TEST(PingSocketTest, EchoToIpv4Loopback) {
  std::string why;
  ScopedFd fd = PingSocket(AF_INET, &why);
  if (!fd.ok()) {
    ASSERT_EQ(why.rfind("unexpected", 0), std::string::npos) << why;
    GTEST_SKIP() << why;
  }
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
  EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_PROTOCOL), IPPROTO_ICMP);
  struct {
    icmphdr hdr;
    char payload[12];
  } req = {};
  req.hdr.type = ICMP_ECHO;
  req.hdr.code = 0;
  req.hdr.un.echo.sequence = htons(7);
  memcpy(req.payload, "ping payload", 12);
  sockaddr_in to = Loopback4();
  // The kernel fills in the identifier and the checksum.
  ASSERT_EQ(sendto(fd.get(), &req, sizeof req, 0, SA(&to), sizeof to),
            static_cast<ssize_t>(sizeof req))
      << strerror(errno);
  ASSERT_TRUE(WaitFor(fd.get(), POLLIN) & POLLIN);
  char buf[128];
  sockaddr_in from = {};
  socklen_t len = sizeof from;
  ssize_t n = recvfrom(fd.get(), buf, sizeof buf, 0, SA(&from), &len);
  // The reply comes without the IP header.
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof req)) << strerror(errno);
  icmphdr reply;
  memcpy(&reply, buf, sizeof reply);
  EXPECT_EQ(reply.type, ICMP_ECHOREPLY);
  EXPECT_EQ(reply.code, 0);
  EXPECT_EQ(ntohs(reply.un.echo.sequence), 7);
  EXPECT_EQ(std::string(buf + sizeof(icmphdr), 12), "ping payload");
  EXPECT_EQ(from.sin_family, AF_INET);
  EXPECT_EQ(Ip4String(from.sin_addr), "127.0.0.1");
}

TEST(PingSocketTest, EchoToIpv6Loopback) {
  SKIP_WITHOUT_IPV6_LOOPBACK();
  std::string why;
  ScopedFd fd = PingSocket(AF_INET6, &why);
  if (!fd.ok()) {
    ASSERT_EQ(why.rfind("unexpected", 0), std::string::npos) << why;
    GTEST_SKIP() << why;
  }
  struct {
    icmp6_hdr hdr;
    char payload[8];
  } req = {};
  req.hdr.icmp6_type = ICMP6_ECHO_REQUEST;
  req.hdr.icmp6_seq = htons(9);
  memcpy(req.payload, "v6 ping!", 8);
  sockaddr_in6 to = Loopback6();
  ASSERT_EQ(sendto(fd.get(), &req, sizeof req, 0, SA(&to), sizeof to),
            static_cast<ssize_t>(sizeof req))
      << strerror(errno);
  ASSERT_TRUE(WaitFor(fd.get(), POLLIN) & POLLIN);
  char buf[128];
  sockaddr_in6 from = {};
  socklen_t len = sizeof from;
  ssize_t n = recvfrom(fd.get(), buf, sizeof buf, 0, SA(&from), &len);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof req)) << strerror(errno);
  icmp6_hdr reply;
  memcpy(&reply, buf, sizeof reply);
  EXPECT_EQ(reply.icmp6_type, ICMP6_ECHO_REPLY);
  EXPECT_EQ(ntohs(reply.icmp6_seq), 9);
  EXPECT_EQ(std::string(buf + sizeof(icmp6_hdr), 8), "v6 ping!");
  EXPECT_EQ(Ip6String(from.sin6_addr), "::1");
}

}  // namespace
}  // namespace syscall_test
