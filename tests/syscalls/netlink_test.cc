// netlink(7) and rtnetlink(7) on NETLINK_ROUTE sockets: creation, port ids
// (bind, autobind, getsockname), link, address and route dumps as seen for
// the loopback interface, single-object requests, sequence numbers,
// acknowledgements and errors, what the kernel does with malformed input,
// MSG_PEEK/MSG_TRUNC; and the other ways a program learns about interfaces:
// the netdevice(7) ioctls on an AF_INET socket, getifaddrs(3) (which itself
// talks rtnetlink) and /proc/net/{dev,if_inet6,route}.
//
// The binary runs on the host (with more interfaces than lo) and in a fresh
// network namespace where only lo exists and is up, so every assertion is
// about lo. Where Linux differs from the man pages, or is surprising, a
// comment says so. No threads are created.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

// A safety net against hangs when waiting for the kernel's answer.
constexpr int kWaitMs = 10000;

// lo is the first device registered in every network namespace.
constexpr int kLoopbackIndex = 1;

// A file descriptor closed on destruction.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

ScopedFd RouteSocket(int type = SOCK_RAW) {
  return ScopedFd(socket(AF_NETLINK, type | SOCK_CLOEXEC, NETLINK_ROUTE));
}

int GetIntOpt(int fd, int level, int name) {
  int v = -12345;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return -12345;
  return v;
}

uint32_t PortId(int fd) {
  sockaddr_nl a = {};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0xffffffff;
  return a.nl_pid;
}

// One netlink message (header and payload) built for sending.
std::string Message(uint16_t type, uint16_t flags, uint32_t seq, const void* body,
                    size_t body_len) {
  nlmsghdr h = {};
  h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(body_len));
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  h.nlmsg_seq = seq;
  std::string m(reinterpret_cast<const char*>(&h), sizeof h);
  m.append(static_cast<const char*>(body), body_len);
  m.resize(NLMSG_ALIGN(m.size()), '\0');
  return m;
}

template <typename Body>
std::string Message(uint16_t type, uint16_t flags, uint32_t seq, const Body& body) {
  return Message(type, flags, seq, &body, sizeof body);
}

// Appends a route attribute to a message and fixes up nlmsg_len.
void AddAttr(std::string* msg, uint16_t type, const void* data, size_t len) {
  rtattr a = {};
  a.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  a.rta_type = type;
  msg->append(reinterpret_cast<const char*>(&a), sizeof a);
  msg->append(static_cast<const char*>(data), len);
  msg->resize(NLMSG_ALIGN(msg->size()), '\0');
  reinterpret_cast<nlmsghdr*>(msg->data())->nlmsg_len = static_cast<uint32_t>(msg->size());
}

bool SendToKernel(int fd, const std::string& msg) {
  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  return sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                sizeof kernel) == static_cast<ssize_t>(msg.size());
}

// Receives one datagram (waiting for it), or "" on timeout or error.
std::string RecvDatagram(int fd) {
  pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, kWaitMs) != 1) return "";
  std::string buf(1 << 16, '\0');
  ssize_t n = recv(fd, buf.data(), buf.size(), 0);
  if (n <= 0) return "";
  buf.resize(static_cast<size_t>(n));
  return buf;
}

// Splits a datagram into its messages; false if they do not tile it.
bool SplitMessages(const std::string& dgram, std::vector<std::string>* out) {
  size_t off = 0;
  while (off < dgram.size()) {
    if (dgram.size() - off < sizeof(nlmsghdr)) return false;
    nlmsghdr h;
    memcpy(&h, dgram.data() + off, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > dgram.size() - off) return false;
    out->push_back(dgram.substr(off, h.nlmsg_len));
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
  return true;
}

nlmsghdr Header(const std::string& msg) {
  nlmsghdr h = {};
  memcpy(&h, msg.data(), std::min(msg.size(), sizeof h));
  return h;
}

template <typename T>
T Body(const std::string& msg) {
  T t = {};
  if (msg.size() >= NLMSG_HDRLEN) {
    memcpy(&t, msg.data() + NLMSG_HDRLEN, std::min(sizeof t, msg.size() - NLMSG_HDRLEN));
  }
  return t;
}

// The NLMSG_ERROR code of a message (0 for an ack), or 1 if it is none.
int ErrorCode(const std::string& msg) {
  if (Header(msg).nlmsg_type != NLMSG_ERROR) return 1;
  return Body<nlmsgerr>(msg).error;
}

// Reads datagrams until a message of the request's sequence ends the
// answer: NLMSG_DONE or NLMSG_ERROR (included), or, without multi, the
// first message. Every message must carry seq and the socket's port id.
void ReadAnswer(int fd, uint32_t seq, bool multi, std::vector<std::string>* msgs) {
  uint32_t port = PortId(fd);
  for (int datagrams = 0; datagrams < 1000; datagrams++) {
    std::string d = RecvDatagram(fd);
    ASSERT_FALSE(d.empty()) << "no (more) answer to request " << seq;
    std::vector<std::string> parts;
    ASSERT_TRUE(SplitMessages(d, &parts)) << "a datagram of " << d.size() << " bytes";
    for (const std::string& m : parts) {
      nlmsghdr h = Header(m);
      EXPECT_EQ(h.nlmsg_seq, seq) << "type " << h.nlmsg_type;
      EXPECT_EQ(h.nlmsg_pid, port) << "type " << h.nlmsg_type;
      msgs->push_back(m);
      if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR || !multi) return;
    }
  }
  FAIL() << "no end to the dump";
}

// Sends a dump request and collects the answer (ending in NLMSG_DONE).
void Dump(int fd, uint16_t type, uint32_t seq, const std::string& body,
          std::vector<std::string>* msgs) {
  std::string req = Message(type, NLM_F_REQUEST | NLM_F_DUMP, seq, body.data(), body.size());
  ASSERT_TRUE(SendToKernel(fd, req)) << strerror(errno);
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd, seq, true, msgs));
  ASSERT_FALSE(msgs->empty());
  ASSERT_EQ(Header(msgs->back()).nlmsg_type, NLMSG_DONE)
      << "error " << ErrorCode(msgs->back()) << " instead of a dump";
}

template <typename T>
std::string Bytes(const T& t) {
  return std::string(reinterpret_cast<const char*>(&t), sizeof t);
}

// The route attributes after a fixed-size family header, by type.
std::map<int, std::string> Attributes(const std::string& msg, size_t family_header_len) {
  std::map<int, std::string> out;
  size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(family_header_len);
  size_t end = std::min<size_t>(msg.size(), Header(msg).nlmsg_len);
  while (off + sizeof(rtattr) <= end) {
    rtattr a;
    memcpy(&a, msg.data() + off, sizeof a);
    if (a.rta_len < sizeof(rtattr) || off + a.rta_len > end) break;
    out[a.rta_type] = msg.substr(off + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0));
    off += RTA_ALIGN(a.rta_len);
  }
  return out;
}

uint32_t U32(const std::string& s) {
  uint32_t v = 0;
  memcpy(&v, s.data(), std::min(s.size(), sizeof v));
  return v;
}

std::string CString(const std::string& s) { return std::string(s.c_str()); }

std::string AddrString(int family, const std::string& raw) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, raw.data(), buf, sizeof buf);
  return buf;
}

// Sends a no-op that asks for an acknowledgement and returns the first
// message that arrives next: proof of what (if anything) an earlier request
// got, as the kernel answers requests in order.
std::string NextAfterProbe(int fd, uint32_t probe_seq) {
  std::string probe = Message(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, probe_seq, nullptr, 0);
  if (!SendToKernel(fd, probe)) return "";
  std::string d = RecvDatagram(fd);
  std::vector<std::string> parts;
  if (!SplitMessages(d, &parts) || parts.empty()) return "";
  return parts[0];
}

bool HaveIpv6Loopback() {
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a = {};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// ---------------------------------------------------------------------------
// Sockets and port ids

TEST(NetlinkSocketTest, RouteSocketsCanBeCreated) {
  for (int type : {SOCK_RAW, SOCK_DGRAM}) {
    ScopedFd fd(socket(AF_NETLINK, type, NETLINK_ROUTE));
    ASSERT_TRUE(fd.ok()) << "type " << type << ": " << strerror(errno);
    struct stat st = {};
    ASSERT_EQ(fstat(fd.get(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_TYPE), type);
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_DOMAIN), AF_NETLINK);
    EXPECT_EQ(GetIntOpt(fd.get(), SOL_SOCKET, SO_PROTOCOL), NETLINK_ROUTE);
    EXPECT_EQ(fcntl(fd.get(), F_GETFD), 0);
  }
  ScopedFd flagged(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(fcntl(flagged.get(), F_GETFD), FD_CLOEXEC);
  EXPECT_NE(fcntl(flagged.get(), F_GETFL) & O_NONBLOCK, 0);
  char b;
  errno = 0;
  EXPECT_EQ(recv(flagged.get(), &b, 1, 0), -1) << "nothing to read";
  EXPECT_EQ(errno, EAGAIN);

  // Netlink is datagram-only: stream types are ESOCKTNOSUPPORT, protocols
  // beyond the last netlink family EPROTONOSUPPORT.
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    errno = 0;
    EXPECT_EQ(socket(AF_NETLINK, type, NETLINK_ROUTE), -1) << type;
    EXPECT_EQ(errno, ESOCKTNOSUPPORT) << type;
  }
  errno = 0;
  EXPECT_EQ(socket(AF_NETLINK, SOCK_RAW, MAX_LINKS), -1);
  EXPECT_EQ(errno, EPROTONOSUPPORT);
  // listen() makes no sense on netlink.
  errno = 0;
  EXPECT_EQ(listen(flagged.get(), 1), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST(NetlinkSocketTest, BindingPortIdZeroAssignsAUniqueId) {
  ScopedFd a = RouteSocket();
  ScopedFd b = RouteSocket(SOCK_DGRAM);
  ASSERT_TRUE(a.ok() && b.ok());
  sockaddr_nl addr = {};
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(a.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  EXPECT_EQ(len, sizeof addr);
  EXPECT_EQ(addr.nl_family, AF_NETLINK);
  EXPECT_EQ(addr.nl_pid, 0u) << "unbound";
  EXPECT_EQ(addr.nl_groups, 0u);

  sockaddr_nl zero = {};
  zero.nl_family = AF_NETLINK;
  ASSERT_EQ(bind(a.get(), reinterpret_cast<sockaddr*>(&zero), sizeof zero), 0) << strerror(errno);
  ASSERT_EQ(bind(b.get(), reinterpret_cast<sockaddr*>(&zero), sizeof zero), 0) << strerror(errno);
  addr = {};
  len = sizeof addr;
  ASSERT_EQ(getsockname(a.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  EXPECT_EQ(len, sizeof addr);
  EXPECT_EQ(addr.nl_family, AF_NETLINK);
  EXPECT_NE(addr.nl_pid, 0u) << "the kernel picks a port id";
  EXPECT_EQ(addr.nl_groups, 0u);
  uint32_t id_a = addr.nl_pid;
  uint32_t id_b = PortId(b.get());
  EXPECT_NE(id_b, 0u);
  EXPECT_NE(id_a, id_b) << "port ids are unique per protocol";

  // An explicit port id that is taken: EADDRINUSE.
  ScopedFd c = RouteSocket();
  ASSERT_TRUE(c.ok());
  sockaddr_nl taken = zero;
  taken.nl_pid = id_a;
  errno = 0;
  EXPECT_EQ(bind(c.get(), reinterpret_cast<sockaddr*>(&taken), sizeof taken), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // Linux: a bound socket cannot change its id (EINVAL), not even by
  // asking for "any" again.
  sockaddr_nl other = zero;
  other.nl_pid = id_a ^ 0x40000000u;
  errno = 0;
  EXPECT_EQ(bind(a.get(), reinterpret_cast<sockaddr*>(&other), sizeof other), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(bind(a.get(), reinterpret_cast<sockaddr*>(&zero), sizeof zero), -1);
  EXPECT_EQ(errno, EINVAL);
  // Bad addresses: too short, wrong family.
  errno = 0;
  EXPECT_EQ(bind(c.get(), reinterpret_cast<sockaddr*>(&zero), 4), -1);
  EXPECT_EQ(errno, EINVAL);
  sockaddr_nl wrong = zero;
  wrong.nl_family = AF_INET;
  errno = 0;
  EXPECT_EQ(bind(c.get(), reinterpret_cast<sockaddr*>(&wrong), sizeof wrong), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(NetlinkSocketTest, AnUnboundSocketIsBoundBySendingAndAnswersComeFromTheKernel) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(PortId(fd.get()), 0u);
  ifinfomsg ifi = {};
  ifi.ifi_index = kLoopbackIndex;
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETLINK, NLM_F_REQUEST, 5, ifi)));
  uint32_t id = PortId(fd.get());
  EXPECT_NE(id, 0u) << "sending autobinds";

  pollfd p = {fd.get(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, kWaitMs), 1);
  std::string buf(1 << 16, '\0');
  sockaddr_nl from;
  memset(&from, 0xff, sizeof from);
  iovec iov = {buf.data(), buf.size()};
  msghdr m = {};
  m.msg_name = &from;
  m.msg_namelen = sizeof from;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  ssize_t n = recvmsg(fd.get(), &m, 0);
  ASSERT_GT(n, 0) << strerror(errno);
  EXPECT_EQ(m.msg_namelen, sizeof(sockaddr_nl));
  EXPECT_EQ(from.nl_family, AF_NETLINK);
  EXPECT_EQ(from.nl_pid, 0u) << "the kernel's port id is 0";
  EXPECT_EQ(from.nl_groups, 0u) << "a unicast answer";
  buf.resize(static_cast<size_t>(n));
  nlmsghdr h = Header(buf);
  EXPECT_EQ(h.nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(h.nlmsg_seq, 5u);
  EXPECT_EQ(h.nlmsg_pid, id) << "answers are addressed to the requester's port id";
}

// ---------------------------------------------------------------------------
// Links

TEST(RtnetlinkTest, GetlinkDumpListsLoopback) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  ifinfomsg req = {};
  req.ifi_family = AF_UNSPEC;
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(Dump(fd.get(), RTM_GETLINK, 77, Bytes(req), &msgs));
  int found = 0;
  for (size_t i = 0; i + 1 < msgs.size(); i++) {
    const std::string& m = msgs[i];
    nlmsghdr h = Header(m);
    ASSERT_EQ(h.nlmsg_type, RTM_NEWLINK);
    EXPECT_NE(h.nlmsg_flags & NLM_F_MULTI, 0) << "parts of a dump are NLM_F_MULTI";
    ASSERT_GE(h.nlmsg_len, NLMSG_LENGTH(sizeof(ifinfomsg)));
    ifinfomsg ifi = Body<ifinfomsg>(m);
    auto attrs = Attributes(m, sizeof(ifinfomsg));
    ASSERT_TRUE(attrs.count(IFLA_IFNAME)) << "every link has a name";
    if (CString(attrs[IFLA_IFNAME]) != "lo") continue;
    found++;
    EXPECT_EQ(ifi.ifi_index, kLoopbackIndex);
    EXPECT_EQ(ifi.ifi_type, ARPHRD_LOOPBACK);
    EXPECT_NE(ifi.ifi_flags & IFF_UP, 0u);
    EXPECT_NE(ifi.ifi_flags & IFF_LOOPBACK, 0u);
    EXPECT_NE(ifi.ifi_flags & IFF_RUNNING, 0u);
    ASSERT_TRUE(attrs.count(IFLA_MTU));
    EXPECT_EQ(U32(attrs[IFLA_MTU]), 65536u);
    ASSERT_TRUE(attrs.count(IFLA_ADDRESS));
    EXPECT_EQ(attrs[IFLA_ADDRESS], std::string(6, '\0')) << "lo's hardware address is all zero";
  }
  EXPECT_EQ(found, 1) << "lo appears exactly once";
  // NLMSG_DONE carries an int, 0, and is itself NLM_F_MULTI.
  const std::string& done = msgs.back();
  EXPECT_EQ(Header(done).nlmsg_len, NLMSG_LENGTH(sizeof(int)));
  EXPECT_NE(Header(done).nlmsg_flags & NLM_F_MULTI, 0);
  EXPECT_EQ(Body<int>(done), 0);
}

TEST(RtnetlinkTest, GetlinkOfOneInterface) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  // By index.
  ifinfomsg req = {};
  req.ifi_index = kLoopbackIndex;
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETLINK, NLM_F_REQUEST, 1, req)));
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 1, false, &msgs));
  ASSERT_EQ(Header(msgs[0]).nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(Header(msgs[0]).nlmsg_flags & NLM_F_MULTI, 0) << "not part of a dump";
  EXPECT_EQ(Body<ifinfomsg>(msgs[0]).ifi_index, kLoopbackIndex);
  EXPECT_EQ(CString(Attributes(msgs[0], sizeof(ifinfomsg))[IFLA_IFNAME]), "lo");

  // By name, with index 0.
  std::string by_name = Message(RTM_GETLINK, NLM_F_REQUEST, 2, ifinfomsg{});
  AddAttr(&by_name, IFLA_IFNAME, "lo", 3);
  ASSERT_TRUE(SendToKernel(fd.get(), by_name));
  msgs.clear();
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 2, false, &msgs));
  ASSERT_EQ(Header(msgs[0]).nlmsg_type, RTM_NEWLINK) << "error " << ErrorCode(msgs[0]);
  EXPECT_EQ(Body<ifinfomsg>(msgs[0]).ifi_index, kLoopbackIndex);

  // An index no interface has: NLMSG_ERROR with -ENODEV.
  req.ifi_index = 0x7ffffff0;
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETLINK, NLM_F_REQUEST, 3, req)));
  msgs.clear();
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 3, false, &msgs));
  EXPECT_EQ(ErrorCode(msgs[0]), -ENODEV);
}

// ---------------------------------------------------------------------------
// Addresses

TEST(RtnetlinkTest, GetaddrDumpHasIpv4Loopback) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  ifaddrmsg req = {};
  req.ifa_family = AF_INET;
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(Dump(fd.get(), RTM_GETADDR, 8, Bytes(req), &msgs));
  int found = 0;
  for (size_t i = 0; i + 1 < msgs.size(); i++) {
    const std::string& m = msgs[i];
    ASSERT_EQ(Header(m).nlmsg_type, RTM_NEWADDR);
    ifaddrmsg ifa = Body<ifaddrmsg>(m);
    EXPECT_EQ(ifa.ifa_family, AF_INET) << "the dump is filtered by family";
    auto attrs = Attributes(m, sizeof(ifaddrmsg));
    if (!attrs.count(IFA_LOCAL) || AddrString(AF_INET, attrs[IFA_LOCAL]) != "127.0.0.1") continue;
    found++;
    EXPECT_EQ(ifa.ifa_index, static_cast<uint32_t>(kLoopbackIndex));
    EXPECT_EQ(ifa.ifa_prefixlen, 8);
    EXPECT_EQ(ifa.ifa_scope, RT_SCOPE_HOST);
    EXPECT_NE(ifa.ifa_flags & IFA_F_PERMANENT, 0);
    ASSERT_TRUE(attrs.count(IFA_ADDRESS));
    EXPECT_EQ(AddrString(AF_INET, attrs[IFA_ADDRESS]), "127.0.0.1");
    ASSERT_TRUE(attrs.count(IFA_LABEL));
    EXPECT_EQ(CString(attrs[IFA_LABEL]), "lo");
  }
  EXPECT_EQ(found, 1);
}

TEST(RtnetlinkTest, GetaddrDumpHasIpv6Loopback) {
  if (!HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback address ::1 here";
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  // An AF_UNSPEC dump lists both families.
  ifaddrmsg req = {};
  req.ifa_family = AF_UNSPEC;
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(Dump(fd.get(), RTM_GETADDR, 9, Bytes(req), &msgs));
  int v4 = 0, v6 = 0;
  for (size_t i = 0; i + 1 < msgs.size(); i++) {
    ifaddrmsg ifa = Body<ifaddrmsg>(msgs[i]);
    auto attrs = Attributes(msgs[i], sizeof(ifaddrmsg));
    if (ifa.ifa_family == AF_INET && attrs.count(IFA_LOCAL) &&
        AddrString(AF_INET, attrs[IFA_LOCAL]) == "127.0.0.1") {
      v4++;
    }
    if (ifa.ifa_family != AF_INET6 || !attrs.count(IFA_ADDRESS) ||
        AddrString(AF_INET6, attrs[IFA_ADDRESS]) != "::1") {
      continue;
    }
    v6++;
    EXPECT_EQ(ifa.ifa_index, static_cast<uint32_t>(kLoopbackIndex));
    EXPECT_EQ(ifa.ifa_prefixlen, 128);
    EXPECT_EQ(ifa.ifa_scope, RT_SCOPE_HOST);
  }
  EXPECT_EQ(v4, 1);
  EXPECT_EQ(v6, 1);
}

TEST(RtnetlinkTest, GetaddrWithoutDumpIsNotSupported) {
  // rtnetlink(7) lists RTM_GETADDR, but Linux only implements it as a dump:
  // a plain request gets EOPNOTSUPP.
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  ifaddrmsg req = {};
  req.ifa_family = AF_INET;
  req.ifa_index = kLoopbackIndex;
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETADDR, NLM_F_REQUEST, 4, req)));
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 4, false, &msgs));
  EXPECT_EQ(ErrorCode(msgs[0]), -EOPNOTSUPP);
}

// ---------------------------------------------------------------------------
// Routes

TEST(RtnetlinkTest, GetrouteDumpHasTheLoopbackLocalRoutes) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  rtmsg req = {};
  req.rtm_family = AF_INET;
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(Dump(fd.get(), RTM_GETROUTE, 10, Bytes(req), &msgs));
  // A fresh namespace with lo up has no route in the main table; the local
  // table has 127.0.0.0/8 and 127.0.0.1/32 (type local, scope host) and
  // 127.255.255.255/32 (broadcast, scope link), all via lo from 127.0.0.1.
  bool net8 = false, host32 = false;
  for (size_t i = 0; i + 1 < msgs.size(); i++) {
    const std::string& m = msgs[i];
    ASSERT_EQ(Header(m).nlmsg_type, RTM_NEWROUTE);
    ASSERT_GE(Header(m).nlmsg_len, NLMSG_LENGTH(sizeof(rtmsg)));
    rtmsg rt = Body<rtmsg>(m);
    EXPECT_EQ(rt.rtm_family, AF_INET);
    auto attrs = Attributes(m, sizeof(rtmsg));
    ASSERT_TRUE(attrs.count(RTA_TABLE)) << "the full table id is an attribute";
    if (rt.rtm_table != RT_TABLE_LOCAL || rt.rtm_type != RTN_LOCAL || !attrs.count(RTA_DST)) {
      continue;
    }
    std::string dst = AddrString(AF_INET, attrs[RTA_DST]);
    bool is_net8 = dst == "127.0.0.0" && rt.rtm_dst_len == 8;
    bool is_host32 = dst == "127.0.0.1" && rt.rtm_dst_len == 32;
    if (!is_net8 && !is_host32) continue;
    SCOPED_TRACE(dst);
    net8 |= is_net8;
    host32 |= is_host32;
    EXPECT_EQ(U32(attrs[RTA_TABLE]), static_cast<uint32_t>(RT_TABLE_LOCAL));
    EXPECT_EQ(rt.rtm_scope, RT_SCOPE_HOST);
    EXPECT_EQ(rt.rtm_protocol, RTPROT_KERNEL);
    ASSERT_TRUE(attrs.count(RTA_OIF));
    EXPECT_EQ(U32(attrs[RTA_OIF]), static_cast<uint32_t>(kLoopbackIndex));
    ASSERT_TRUE(attrs.count(RTA_PREFSRC));
    EXPECT_EQ(AddrString(AF_INET, attrs[RTA_PREFSRC]), "127.0.0.1");
  }
  EXPECT_TRUE(net8) << "no local route 127.0.0.0/8";
  EXPECT_TRUE(host32) << "no local route 127.0.0.1/32";
}

// ---------------------------------------------------------------------------
// Sequence numbers, acknowledgements and errors

TEST(RtnetlinkTest, RequestsInOneDatagramAreAnsweredInOrderWithTheirSequenceNumbers) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  ifinfomsg req = {};
  req.ifi_index = kLoopbackIndex;
  std::string both = Message(RTM_GETLINK, NLM_F_REQUEST, 0xabc00001, req) +
                     Message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 0xabc00002, req);
  ASSERT_TRUE(SendToKernel(fd.get(), both));
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 0xabc00001, false, &msgs));
  ASSERT_EQ(Header(msgs[0]).nlmsg_type, RTM_NEWLINK);
  msgs.clear();
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 0xabc00002, false, &msgs));
  ASSERT_EQ(Header(msgs[0]).nlmsg_type, RTM_NEWLINK);
  // The acknowledgement comes after the answer.
  msgs.clear();
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 0xabc00002, false, &msgs));
  EXPECT_EQ(ErrorCode(msgs[0]), 0);
}

TEST(RtnetlinkTest, AcknowledgementsEchoTheRequestHeader) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  // A no-op asking for an ack gets one with error 0. Linux sends only the
  // request's header back in a success ack (and flags it NLM_F_CAPPED).
  std::string noop = Message(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 31, "abcd", 4);
  ASSERT_TRUE(SendToKernel(fd.get(), noop));
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 31, false, &msgs));
  const std::string& ack = msgs[0];
  ASSERT_EQ(Header(ack).nlmsg_type, NLMSG_ERROR);
  EXPECT_EQ(Header(ack).nlmsg_len, NLMSG_LENGTH(sizeof(nlmsgerr)));
  EXPECT_NE(Header(ack).nlmsg_flags & NLM_F_CAPPED, 0);
  nlmsgerr e = Body<nlmsgerr>(ack);
  EXPECT_EQ(e.error, 0);
  EXPECT_EQ(e.msg.nlmsg_type, NLMSG_NOOP);
  EXPECT_EQ(e.msg.nlmsg_seq, 31u);
  EXPECT_EQ(e.msg.nlmsg_len, NLMSG_LENGTH(4));
  EXPECT_EQ(e.msg.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);

  // Without NLM_F_ACK a no-op gets nothing at all.
  ASSERT_TRUE(SendToKernel(fd.get(), Message(NLMSG_NOOP, NLM_F_REQUEST, 32, nullptr, 0)));
  std::string next = NextAfterProbe(fd.get(), 33);
  EXPECT_EQ(Header(next).nlmsg_seq, 33u) << "the no-op was answered";
  EXPECT_EQ(ErrorCode(next), 0);
}

TEST(RtnetlinkTest, UnknownMessageTypesGetEopnotsuppWithOrWithoutAck) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  uint32_t body = 0;
  for (uint16_t flags : {NLM_F_REQUEST, NLM_F_REQUEST | NLM_F_ACK}) {
    for (uint16_t type : {uint16_t{1000}, uint16_t{31}}) {  // beyond RTM_MAX; a gap
      SCOPED_TRACE("type " + std::to_string(type) + " flags " + std::to_string(flags));
      uint32_t seq = 4000u + type + flags;
      std::string req = Message(type, flags, seq, body);
      ASSERT_TRUE(SendToKernel(fd.get(), req));
      std::vector<std::string> msgs;
      ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), seq, false, &msgs));
      const std::string& err = msgs[0];
      // Errors are always reported; the failed request is echoed in full.
      EXPECT_EQ(ErrorCode(err), -EOPNOTSUPP);
      EXPECT_EQ(Header(err).nlmsg_len, NLMSG_LENGTH(sizeof(int)) + req.size());
      EXPECT_EQ(Header(err).nlmsg_flags & NLM_F_CAPPED, 0);
      nlmsgerr e = Body<nlmsgerr>(err);
      EXPECT_EQ(e.msg.nlmsg_type, type);
      EXPECT_EQ(e.msg.nlmsg_seq, seq);
      EXPECT_EQ(e.msg.nlmsg_len, req.size());
    }
  }
  // The socket keeps working.
  std::string next = NextAfterProbe(fd.get(), 4999);
  EXPECT_EQ(Header(next).nlmsg_seq, 4999u);
}

TEST(RtnetlinkTest, MalformedAndUnrequestedMessagesAreDroppedSilently) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  uint32_t probe = 500;
  auto expect_nothing_then_probe = [&](const std::string& what) {
    probe++;
    std::string next = NextAfterProbe(fd.get(), probe);
    EXPECT_EQ(Header(next).nlmsg_type, NLMSG_ERROR) << what;
    EXPECT_EQ(Header(next).nlmsg_seq, probe) << what << " got an answer";
  };

  // Shorter than a header.
  const char garbage[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_EQ(send(fd.get(), garbage, sizeof garbage, 0), 8);
  expect_nothing_then_probe("8 bytes");

  // A header whose nlmsg_len is beyond the datagram, or below a header.
  nlmsghdr h = {};
  h.nlmsg_type = RTM_GETLINK;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
  h.nlmsg_seq = 90;
  for (uint32_t len : {100u, 8u, 0u}) {
    h.nlmsg_len = len;
    ASSERT_EQ(send(fd.get(), &h, sizeof h, 0), static_cast<ssize_t>(sizeof h));
    expect_nothing_then_probe("nlmsg_len " + std::to_string(len));
  }

  // rtnetlink ignores a request whose body is shorter than the one-byte
  // rtgenmsg, dump or not.
  ASSERT_TRUE(
      SendToKernel(fd.get(), Message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 91, nullptr, 0)));
  expect_nothing_then_probe("an empty dump request");
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETLINK, NLM_F_REQUEST, 92, nullptr, 0)));
  expect_nothing_then_probe("an empty get request");

  // A message without NLM_F_REQUEST is not acted on.
  ifinfomsg ifi = {};
  ifi.ifi_index = kLoopbackIndex;
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETLINK, 0, 93, ifi)));
  expect_nothing_then_probe("a message without NLM_F_REQUEST");
  // ...but with NLM_F_ACK it is acknowledged, with success.
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETLINK, NLM_F_ACK, 94, ifi)));
  std::vector<std::string> msgs;
  ASSERT_NO_FATAL_FAILURE(ReadAnswer(fd.get(), 94, false, &msgs));
  EXPECT_EQ(ErrorCode(msgs[0]), 0) << "acked without running the request";

  // The old-style one-byte rtgenmsg body still works for a dump.
  rtgenmsg gen = {};
  gen.rtgen_family = AF_UNSPEC;
  msgs.clear();
  ASSERT_NO_FATAL_FAILURE(
      Dump(fd.get(), RTM_GETLINK, 95, std::string(reinterpret_cast<char*>(&gen), 1), &msgs));
  EXPECT_GE(msgs.size(), 2u) << "at least lo and NLMSG_DONE";
}

TEST(RtnetlinkTest, PeekWithTruncReportsTheFullLength) {
  ScopedFd fd = RouteSocket();
  ASSERT_TRUE(fd.ok());
  ifinfomsg req = {};
  req.ifi_index = kLoopbackIndex;
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETLINK, NLM_F_REQUEST, 6, req)));
  pollfd p = {fd.get(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, kWaitMs), 1);
  char small[16];
  ssize_t full = recv(fd.get(), small, 0, MSG_PEEK | MSG_TRUNC);
  ASSERT_GT(full, static_cast<ssize_t>(NLMSG_LENGTH(sizeof(ifinfomsg)))) << strerror(errno);
  EXPECT_EQ(recv(fd.get(), small, sizeof small, MSG_PEEK | MSG_TRUNC), full);
  EXPECT_EQ(recv(fd.get(), small, sizeof small, MSG_PEEK), static_cast<ssize_t>(sizeof small));
  // The full read after peeking gets the same message.
  std::string buf(static_cast<size_t>(full), '\0');
  ASSERT_EQ(recv(fd.get(), buf.data(), buf.size(), 0), full);
  EXPECT_EQ(Header(buf).nlmsg_len, static_cast<uint32_t>(full));
  EXPECT_EQ(Header(buf).nlmsg_seq, 6u);

  // A short read without MSG_PEEK discards the rest of the datagram.
  ASSERT_TRUE(SendToKernel(fd.get(), Message(RTM_GETLINK, NLM_F_REQUEST, 7, req)));
  ASSERT_EQ(poll(&p, 1, kWaitMs), 1);
  iovec iov = {small, sizeof small};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  EXPECT_EQ(recvmsg(fd.get(), &m, 0), static_cast<ssize_t>(sizeof small));
  EXPECT_NE(m.msg_flags & MSG_TRUNC, 0);
  std::string next = NextAfterProbe(fd.get(), 8);
  EXPECT_EQ(Header(next).nlmsg_seq, 8u) << "the truncated message is gone";
}

// ---------------------------------------------------------------------------
// netdevice(7) ioctls

ifreq Request(const char* name) {
  ifreq r = {};
  strncpy(r.ifr_name, name, IFNAMSIZ - 1);
  return r;
}

std::string Ipv4Of(const sockaddr& sa) {
  sockaddr_in in;
  memcpy(&in, &sa, sizeof in);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf);
  return buf;
}

TEST(NetdeviceIoctlTest, IndexAndNameOfLoopback) {
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.ok());
  ifreq r = Request("lo");
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFINDEX, &r), 0) << strerror(errno);
  EXPECT_EQ(r.ifr_ifindex, kLoopbackIndex);
  ifreq back = {};
  back.ifr_ifindex = r.ifr_ifindex;
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFNAME, &back), 0) << strerror(errno);
  EXPECT_STREQ(back.ifr_name, "lo");

  ifreq missing = Request("nosuchif0");
  errno = 0;
  EXPECT_EQ(ioctl(fd.get(), SIOCGIFINDEX, &missing), -1);
  EXPECT_EQ(errno, ENODEV);
  errno = 0;
  EXPECT_EQ(ioctl(fd.get(), SIOCGIFFLAGS, &missing), -1);
  EXPECT_EQ(errno, ENODEV);
  ifreq bad_index = {};
  bad_index.ifr_ifindex = 0x7ffffff0;
  errno = 0;
  EXPECT_EQ(ioctl(fd.get(), SIOCGIFNAME, &bad_index), -1);
  EXPECT_EQ(errno, ENODEV);
  // if_nametoindex(3) is built on the same ioctl.
  EXPECT_EQ(if_nametoindex("lo"), static_cast<unsigned>(kLoopbackIndex));
  EXPECT_EQ(if_nametoindex("nosuchif0"), 0u);
}

TEST(NetdeviceIoctlTest, FlagsMtuAndHardwareAddressOfLoopback) {
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.ok());
  ifreq r = Request("lo");
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFFLAGS, &r), 0) << strerror(errno);
  unsigned flags = static_cast<unsigned short>(r.ifr_flags);
  EXPECT_NE(flags & IFF_UP, 0u);
  EXPECT_NE(flags & IFF_LOOPBACK, 0u);
  EXPECT_NE(flags & IFF_RUNNING, 0u);
  EXPECT_EQ(flags & IFF_BROADCAST, 0u);
  r = Request("lo");
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFMTU, &r), 0) << strerror(errno);
  EXPECT_EQ(r.ifr_mtu, 65536);
  r = Request("lo");
  memset(r.ifr_hwaddr.sa_data, 0x55, sizeof r.ifr_hwaddr.sa_data);
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFHWADDR, &r), 0) << strerror(errno);
  EXPECT_EQ(r.ifr_hwaddr.sa_family, ARPHRD_LOOPBACK);
  EXPECT_EQ(std::string(r.ifr_hwaddr.sa_data, 6), std::string(6, '\0'));
  // The same ioctls work on a TCP socket.
  ScopedFd tcp(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(tcp.ok());
  r = Request("lo");
  ASSERT_EQ(ioctl(tcp.get(), SIOCGIFFLAGS, &r), 0) << strerror(errno);
  EXPECT_NE(r.ifr_flags & IFF_LOOPBACK, 0);
}

TEST(NetdeviceIoctlTest, Ipv4AddressAndNetmaskOfLoopback) {
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.ok());
  ifreq r = Request("lo");
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFADDR, &r), 0) << strerror(errno);
  EXPECT_EQ(r.ifr_addr.sa_family, AF_INET);
  EXPECT_EQ(Ipv4Of(r.ifr_addr), "127.0.0.1");
  r = Request("lo");
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFNETMASK, &r), 0) << strerror(errno);
  EXPECT_EQ(r.ifr_netmask.sa_family, AF_INET);
  EXPECT_EQ(Ipv4Of(r.ifr_netmask), "255.0.0.0");
}

TEST(NetdeviceIoctlTest, GifconfListsLoopback) {
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.ok());
  // netdevice(7): with a null buffer, ifc_len returns the size needed.
  ifconf ic = {};
  ic.ifc_buf = nullptr;
  ic.ifc_len = 0;
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFCONF, &ic), 0) << strerror(errno);
  ASSERT_GT(ic.ifc_len, 0);
  EXPECT_EQ(ic.ifc_len % static_cast<int>(sizeof(ifreq)), 0);
  int needed = ic.ifc_len;

  std::vector<ifreq> reqs(static_cast<size_t>(needed) / sizeof(ifreq) + 4);
  ic.ifc_len = static_cast<int>(reqs.size() * sizeof(ifreq));
  ic.ifc_req = reqs.data();
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFCONF, &ic), 0) << strerror(errno);
  EXPECT_EQ(ic.ifc_len, needed) << "only the entries filled in count";
  int lo = 0;
  for (int i = 0; i < ic.ifc_len / static_cast<int>(sizeof(ifreq)); i++) {
    EXPECT_EQ(reqs[static_cast<size_t>(i)].ifr_addr.sa_family, AF_INET);
    if (strcmp(reqs[static_cast<size_t>(i)].ifr_name, "lo") != 0) continue;
    lo++;
    EXPECT_EQ(Ipv4Of(reqs[static_cast<size_t>(i)].ifr_addr), "127.0.0.1");
  }
  EXPECT_EQ(lo, 1);

  // A buffer too small for a single entry gets none (Linux: no error).
  ifreq one;
  ic.ifc_req = &one;
  ic.ifc_len = static_cast<int>(sizeof(ifreq)) - 1;
  ASSERT_EQ(ioctl(fd.get(), SIOCGIFCONF, &ic), 0);
  EXPECT_EQ(ic.ifc_len, 0);
}

// ---------------------------------------------------------------------------
// getifaddrs(3) and /proc/net

TEST(InterfaceListTest, GetifaddrsIncludesLoopback) {
  ifaddrs* list = nullptr;
  ASSERT_EQ(getifaddrs(&list), 0) << strerror(errno);
  bool packet = false, v4 = false, v6 = false;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (strcmp(i->ifa_name, "lo") != 0 || i->ifa_addr == nullptr) continue;
    EXPECT_NE(i->ifa_flags & IFF_UP, 0u);
    EXPECT_NE(i->ifa_flags & IFF_LOOPBACK, 0u);
    switch (i->ifa_addr->sa_family) {
      case AF_PACKET:
        packet = true;
        break;
      case AF_INET:
        v4 = true;
        EXPECT_EQ(Ipv4Of(*i->ifa_addr), "127.0.0.1");
        ASSERT_NE(i->ifa_netmask, nullptr);
        EXPECT_EQ(Ipv4Of(*i->ifa_netmask), "255.0.0.0");
        break;
      case AF_INET6: {
        v6 = true;
        sockaddr_in6 a;
        memcpy(&a, i->ifa_addr, sizeof a);
        EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&a.sin6_addr));
        break;
      }
    }
  }
  freeifaddrs(list);
  EXPECT_TRUE(packet) << "lo's link (AF_PACKET) entry is missing";
  EXPECT_TRUE(v4) << "127.0.0.1 is missing";
  EXPECT_EQ(v6, HaveIpv6Loopback()) << "::1 is listed exactly when it exists";
}

std::vector<std::string> Lines(const char* path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string f;
  while (in >> f) out.push_back(f);
  return out;
}

TEST(InterfaceListTest, ProcNetDevHasALineForLoopback) {
  std::vector<std::string> lines = Lines("/proc/net/dev");
  ASSERT_GE(lines.size(), 3u) << "two header lines and at least lo";
  EXPECT_EQ(lines[0].rfind("Inter-|", 0), 0u) << lines[0];
  EXPECT_NE(lines[1].find("face |bytes"), std::string::npos) << lines[1];
  int lo = 0;
  for (size_t i = 2; i < lines.size(); i++) {
    size_t colon = lines[i].find(':');
    ASSERT_NE(colon, std::string::npos) << lines[i];
    std::vector<std::string> name = Fields(lines[i].substr(0, colon));
    ASSERT_EQ(name.size(), 1u) << lines[i];
    // Eight receive and eight transmit counters.
    std::vector<std::string> counters = Fields(lines[i].substr(colon + 1));
    EXPECT_EQ(counters.size(), 16u) << lines[i];
    for (const std::string& c : counters) {
      EXPECT_EQ(c.find_first_not_of("0123456789"), std::string::npos) << lines[i];
    }
    if (name[0] == "lo") lo++;
  }
  EXPECT_EQ(lo, 1);
}

TEST(InterfaceListTest, ProcNetIfInet6HasLoopback) {
  if (!HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback address ::1 here";
  std::vector<std::string> lines = Lines("/proc/net/if_inet6");
  int lo = 0;
  for (const std::string& line : lines) {
    // address, ifindex, prefix length, scope, flags (all hex), name.
    std::vector<std::string> f = Fields(line);
    ASSERT_EQ(f.size(), 6u) << line;
    EXPECT_EQ(f[0].size(), 32u) << line;
    if (f[5] != "lo") continue;
    lo++;
    EXPECT_EQ(f[0], "00000000000000000000000000000001");
    EXPECT_EQ(strtol(f[1].c_str(), nullptr, 16), kLoopbackIndex);
    EXPECT_EQ(f[2], "80") << "prefix length 128";
    EXPECT_EQ(f[3], "10") << "IPV6_ADDR_LOOPBACK scope";
  }
  EXPECT_EQ(lo, 1);
}

TEST(InterfaceListTest, ProcNetRouteParses) {
  std::vector<std::string> lines = Lines("/proc/net/route");
  ASSERT_GE(lines.size(), 1u);
  std::vector<std::string> header = Fields(lines[0]);
  std::vector<std::string> want = {"Iface",  "Destination", "Gateway", "Flags",  "RefCnt", "Use",
                                   "Metric", "Mask",        "MTU",     "Window", "IRTT"};
  EXPECT_EQ(header, want);
  // Only the main table is shown, so a namespace with just lo has no rows
  // (lo's routes live in the local table). Any rows there are must be
  // eleven fields with hexadecimal addresses.
  for (size_t i = 1; i < lines.size(); i++) {
    std::vector<std::string> f = Fields(lines[i]);
    ASSERT_EQ(f.size(), 11u) << lines[i];
    for (size_t k : {1u, 2u, 7u}) {
      EXPECT_EQ(f[k].size(), 8u) << lines[i];
      EXPECT_EQ(f[k].find_first_not_of("0123456789ABCDEF"), std::string::npos) << lines[i];
    }
  }
}

}  // namespace
}  // namespace syscall_test
