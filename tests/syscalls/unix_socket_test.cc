// AF_UNIX sockets as unix(7), socket(7), socketpair(2), send(2), recv(2),
// cmsg(3), signal(7) and epoll(7) describe them, checked against Linux:
// socket()/socketpair() types, flags and errors; I/O on socket pairs; binding
// to paths and abstract names (and autobind); connect/listen/accept and their
// errors, the listen backlog; send/recv flags (MSG_PEEK, MSG_DONTWAIT,
// MSG_WAITALL, MSG_TRUNC, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC, MSG_CTRUNC);
// SCM_RIGHTS and SCM_CREDENTIALS, SO_PEERCRED and SO_PEEK_OFF; close and
// shutdown (EOF, EPIPE/SIGPIPE, ECONNRESET); message boundaries; datagram
// addressing; socket options; FIONREAD/SIOCINQ/SIOCOUTQ; poll, epoll and
// select readiness; blocking receives interrupted by signals or SO_RCVTIMEO;
// /proc/net/unix.
//
// Sockets bound to paths live in a mkdtemp() directory under /tmp that each
// test removes; abstract names carry the pid and a counter, so the binary can
// run next to other copies of itself. Where Linux differs from what the man
// pages suggest the assertion follows Linux and says so. No threads.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

// ---------------------------------------------------------------------------
// Helpers

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
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

struct SocketPair {
  Fd a, b;
  bool ok() const { return a.ok() && b.ok(); }
};

SocketPair MakePair(int type) {
  int sv[2] = {-1, -1};
  if (socketpair(AF_UNIX, type, 0, sv) != 0) return {};
  return {Fd(sv[0]), Fd(sv[1])};
}

// A directory made by mkdtemp() under /tmp; removed with what it holds.
class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/unix_socket_test.XXXXXX";
    if (mkdtemp(templ) != nullptr) path_ = templ;
  }
  ~TempDir() {
    if (path_.empty()) return;
    if (DIR* d = opendir(path_.c_str())) {
      while (struct dirent* e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        unlinkat(dirfd(d), e->d_name, 0);
      }
      closedir(d);
    }
    rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string Child(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

constexpr socklen_t kPathOffset = offsetof(struct sockaddr_un, sun_path);
constexpr socklen_t kFamilyLen = sizeof(sa_family_t);

// A socket address and its length.
struct Addr {
  struct sockaddr_un sun {};
  socklen_t len = 0;
  const struct sockaddr* sa() const { return reinterpret_cast<const struct sockaddr*>(&sun); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&sun); }
  // The name after the family: a path with its NUL, or an abstract name
  // with its leading NUL.
  std::string Name() const {
    return len > kPathOffset ? std::string(sun.sun_path, len - kPathOffset) : std::string();
  }
};

// A filesystem address; the length counts the terminating NUL.
Addr PathAddr(const std::string& path) {
  Addr a;
  a.sun.sun_family = AF_UNIX;
  memcpy(a.sun.sun_path, path.data(), path.size());
  a.len = static_cast<socklen_t>(kPathOffset + path.size() + 1);
  return a;
}

// An abstract address: a NUL, then `name` (no terminating NUL).
Addr AbstractAddr(const std::string& name) {
  Addr a;
  a.sun.sun_family = AF_UNIX;
  a.sun.sun_path[0] = '\0';
  memcpy(a.sun.sun_path + 1, name.data(), name.size());
  a.len = static_cast<socklen_t>(kPathOffset + 1 + name.size());
  return a;
}

// A name nothing else uses: abstract names are global to the network
// namespace, so they carry the pid and a counter.
std::string UniqueName() {
  static int counter = 0;
  return "unix_socket_test." + std::to_string(getpid()) + "." + std::to_string(counter++);
}

Fd Socket(int type) { return Fd(socket(AF_UNIX, type, 0)); }

Fd BoundSocket(int type, const Addr& a) {
  Fd fd = Socket(type);
  if (fd.ok() && bind(fd.get(), a.sa(), a.len) != 0) fd.reset();
  return fd;
}

Fd ListeningSocket(int type, const Addr& a, int backlog = 16) {
  Fd fd = BoundSocket(type, a);
  if (fd.ok() && listen(fd.get(), backlog) != 0) fd.reset();
  return fd;
}

Fd ConnectedSocket(int type, const Addr& a) {
  Fd fd = Socket(type);
  if (fd.ok() && connect(fd.get(), a.sa(), a.len) != 0) fd.reset();
  return fd;
}

// getsockname()/getpeername() into a full-sized buffer; len is
// (socklen_t)-1 when the call fails.
Addr SockName(int fd) {
  Addr a;
  memset(&a.sun, 0x5a, sizeof a.sun);
  a.len = sizeof a.sun;
  if (getsockname(fd, a.sa(), &a.len) != 0) a.len = static_cast<socklen_t>(-1);
  return a;
}

Addr PeerName(int fd) {
  Addr a;
  memset(&a.sun, 0x5a, sizeof a.sun);
  a.len = sizeof a.sun;
  if (getpeername(fd, a.sa(), &a.len) != 0) a.len = static_cast<socklen_t>(-1);
  return a;
}

// A SOL_SOCKET integer option, or INT_MIN if getsockopt fails.
int GetIntOpt(int fd, int opt) {
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) != 0) return INT_MIN;
  return v;
}

bool SetIntOpt(int fd, int opt, int v) {
  return setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) == 0;
}

bool SetRcvTimeout(int fd, long usec) {
  struct timeval tv = {usec / 1000000, usec % 1000000};
  return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
}

// A suitably aligned control-message buffer of at least `bytes` bytes.
class ControlBuffer {
 public:
  explicit ControlBuffer(size_t bytes) : words_((bytes + 7) / 8 + 1, 0), bytes_(bytes) {}
  void* data() { return words_.data(); }
  size_t size() const { return bytes_; }

 private:
  std::vector<uint64_t> words_;
  size_t bytes_;
};

// Sends `data` with `fds` in one SCM_RIGHTS control message.
ssize_t SendFds(int sock, const std::vector<int>& fds, const std::string& data = "F",
                int flags = 0) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control(CMSG_SPACE(fds.size() * sizeof(int)));
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
  memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  return sendmsg(sock, &msg, flags);
}

struct Received {
  ssize_t n = -1;
  int err = 0;        // errno when n < 0
  int msg_flags = 0;  // msghdr.msg_flags on return
  std::string data;
  std::vector<Fd> fds;  // from SCM_RIGHTS messages
  int other_cmsgs = 0;  // control messages that are not SCM_RIGHTS
};

// recvmsg() with room for `max_data` bytes and a control buffer of
// `control_len` bytes (by default room for `max_fds` descriptors).
Received RecvFds(int sock, size_t max_fds, int flags = 0, size_t max_data = 64,
                 size_t control_len = 0) {
  Received r;
  std::vector<char> buf(max_data);
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (control_len == 0) control_len = CMSG_SPACE(max_fds * sizeof(int));
  ControlBuffer control(control_len);
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  r.n = recvmsg(sock, &msg, flags);
  if (r.n < 0) {
    r.err = errno;
    return r;
  }
  r.msg_flags = msg.msg_flags;
  r.data.assign(buf.data(), static_cast<size_t>(std::min<ssize_t>(r.n, buf.size())));
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        r.fds.emplace_back(fd);
      }
    } else {
      r.other_cmsgs++;
    }
  }
  return r;
}

// The same open file description or socket: same device and inode.
bool SameFile(int a, int b) {
  struct stat sa, sb;
  if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

short Revents(int fd, short events, int timeout_ms = 0) {
  struct pollfd p = {fd, events, 0};
  int r = poll(&p, 1, timeout_ms);
  return r < 0 ? static_cast<short>(-1) : p.revents;
}

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1); }

// Installs CountSignal for SIGALRM (with or without SA_RESTART) and makes
// ITIMER_REAL fire every `interval_us`, so that a blocking call is hit by a
// signal even if the first one arrives before the call blocks. Destruction
// stops the timer, then restores SIGALRM's disposition.
class RepeatingAlarm {
 public:
  RepeatingAlarm(bool restart, long interval_us) : action_(SIGALRM, MakeAction(restart)) {
    g_signals.store(0);
    struct itimerval it = {};
    it.it_interval.tv_usec = interval_us;
    it.it_value.tv_usec = interval_us;
    ok_ = action_.ok() && setitimer(ITIMER_REAL, &it, nullptr) == 0;
  }
  ~RepeatingAlarm() { Stop(); }
  void Stop() {
    struct itimerval zero = {};
    setitimer(ITIMER_REAL, &zero, nullptr);
  }
  bool ok() const { return ok_; }

 private:
  static struct sigaction MakeAction(bool restart) {
    struct sigaction sa = {};
    sa.sa_handler = CountSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    return sa;
  }
  ScopedSigaction action_;
  bool ok_ = false;
};

// A child that writes `data` to fd after `delay_ms` and exits 0.
pid_t WriteLater(int fd, int delay_ms, const std::string& data) {
  return ForkChild([=] {
    usleep(static_cast<useconds_t>(delay_ms) * 1000);
    CHILD_CHECK(WriteAll(fd, data.data(), data.size()));
    return 0;
  });
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  WaitStatus(pid);
}

// ---------------------------------------------------------------------------
// socket() and socketpair()

TEST(UnixSocketTest, SocketCreatesEachType) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    Fd fd = Socket(type);
    ASSERT_TRUE(fd.ok()) << "type " << type << ": " << strerror(errno);
    EXPECT_EQ(GetIntOpt(fd.get(), SO_TYPE), type);
    EXPECT_EQ(fcntl(fd.get(), F_GETFD), 0) << "type " << type;
    EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0) << "type " << type;
    EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_ACCMODE, O_RDWR) << "type " << type;
  }
}

TEST(UnixSocketTest, SocketpairOfEachTypeCarriesDataBothWays) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok()) << "type " << type << ": " << strerror(errno);
    EXPECT_NE(p.a.get(), p.b.get());
    EXPECT_EQ(GetIntOpt(p.a.get(), SO_TYPE), type);
    EXPECT_EQ(GetIntOpt(p.b.get(), SO_TYPE), type);
    ASSERT_EQ(write(p.a.get(), "ping", 4), 4) << "type " << type;
    ASSERT_EQ(write(p.b.get(), "pong!", 5), 5) << "type " << type;
    char buf[16];
    ASSERT_EQ(read(p.b.get(), buf, sizeof buf), 4) << "type " << type;
    EXPECT_EQ(std::string(buf, 4), "ping");
    ASSERT_EQ(read(p.a.get(), buf, sizeof buf), 5) << "type " << type;
    EXPECT_EQ(std::string(buf, 5), "pong!");
  }
}

TEST(UnixSocketTest, NonblockAndCloexecTypeFlags) {
  Fd both(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(both.ok()) << strerror(errno);
  EXPECT_EQ(fcntl(both.get(), F_GETFD), FD_CLOEXEC);
  EXPECT_NE(fcntl(both.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(GetIntOpt(both.get(), SO_TYPE), SOCK_STREAM) << "the flags are not part of the type";

  SocketPair nb = MakePair(SOCK_DGRAM | SOCK_NONBLOCK);
  ASSERT_TRUE(nb.ok()) << strerror(errno);
  for (int fd : {nb.a.get(), nb.b.get()}) {
    EXPECT_NE(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_EQ(fcntl(fd, F_GETFD), 0);
  }
  char b;
  errno = 0;
  EXPECT_EQ(read(nb.a.get(), &b, 1), -1) << "non-blocking read of an empty socket";
  EXPECT_EQ(errno, EAGAIN);

  SocketPair ce = MakePair(SOCK_SEQPACKET | SOCK_CLOEXEC);
  ASSERT_TRUE(ce.ok()) << strerror(errno);
  for (int fd : {ce.a.get(), ce.b.get()}) {
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
  }
}

TEST(UnixSocketTest, BadTypesAreRejected) {
  int sv[2];
  struct Case {
    int type;
    int err;
  };
  // Linux: a type number beyond SOCK_MAX or an unknown flag bit is EINVAL;
  // a known type that AF_UNIX does not do is ESOCKTNOSUPPORT.
  for (Case c : {Case{99, EINVAL}, Case{-1, EINVAL}, Case{SOCK_STREAM | 0x100, EINVAL},
                 Case{SOCK_RDM, ESOCKTNOSUPPORT}, Case{SOCK_PACKET, ESOCKTNOSUPPORT},
                 Case{0, ESOCKTNOSUPPORT}}) {
    errno = 0;
    EXPECT_EQ(socket(AF_UNIX, c.type, 0), -1) << "type " << c.type;
    EXPECT_EQ(errno, c.err) << "socket type " << c.type << ": " << strerror(errno);
    errno = 0;
    EXPECT_EQ(socketpair(AF_UNIX, c.type, 0, sv), -1) << "type " << c.type;
    EXPECT_EQ(errno, c.err) << "socketpair type " << c.type << ": " << strerror(errno);
  }
}

TEST(UnixSocketTest, SockRawIsTreatedAsDgram) {
  // Linux quirk: AF_UNIX accepts SOCK_RAW and makes a datagram socket.
  Fd fd(socket(AF_UNIX, SOCK_RAW, 0));
  ASSERT_TRUE(fd.ok()) << strerror(errno);
  EXPECT_EQ(GetIntOpt(fd.get(), SO_TYPE), SOCK_DGRAM);
}

TEST(UnixSocketTest, BadProtocolIsEprotonosupport) {
  int sv[2];
  for (int proto : {2, 17, 255}) {
    errno = 0;
    EXPECT_EQ(socket(AF_UNIX, SOCK_STREAM, proto), -1) << "protocol " << proto;
    EXPECT_EQ(errno, EPROTONOSUPPORT) << "protocol " << proto;
    errno = 0;
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, proto, sv), -1) << "protocol " << proto;
    EXPECT_EQ(errno, EPROTONOSUPPORT) << "protocol " << proto;
  }
  // Linux accepts PF_UNIX (1) as the protocol too; SO_PROTOCOL still says 0.
  Fd fd(socket(AF_UNIX, SOCK_STREAM, PF_UNIX));
  ASSERT_TRUE(fd.ok()) << strerror(errno);
  EXPECT_EQ(GetIntOpt(fd.get(), SO_PROTOCOL), 0);
}

TEST(UnixSocketTest, FstatAndProcFdLinkNameTheSocketInode) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  struct stat sa, sb;
  ASSERT_EQ(fstat(p.a.get(), &sa), 0) << strerror(errno);
  ASSERT_EQ(fstat(p.b.get(), &sb), 0) << strerror(errno);
  EXPECT_TRUE(S_ISSOCK(sa.st_mode)) << std::oct << sa.st_mode;
  EXPECT_TRUE(S_ISSOCK(sb.st_mode)) << std::oct << sb.st_mode;
  EXPECT_NE(sa.st_ino, sb.st_ino) << "each end is its own socket";
  for (auto [fd, ino] : {std::pair{p.a.get(), sa.st_ino}, std::pair{p.b.get(), sb.st_ino}}) {
    char link[64] = {};
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = readlink(proc.c_str(), link, sizeof link - 1);
    ASSERT_GT(n, 0) << proc << ": " << strerror(errno);
    EXPECT_EQ(std::string(link, static_cast<size_t>(n)),
              "socket:[" + std::to_string(static_cast<unsigned long>(ino)) + "]");
  }
}

// ---------------------------------------------------------------------------
// I/O on connected sockets

TEST(UnixSocketTest, ReadvAndWritevOnASocketpair) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  char w1[] = "abc", w2[] = "defgh", w3[] = "ij";
  struct iovec wv[3] = {{w1, 3}, {w2, 5}, {w3, 2}};
  ASSERT_EQ(writev(p.a.get(), wv, 3), 10) << strerror(errno);
  char r1[4] = {}, r2[6] = {};
  struct iovec rv[2] = {{r1, 4}, {r2, 6}};
  ASSERT_EQ(readv(p.b.get(), rv, 2), 10) << strerror(errno);
  EXPECT_EQ(std::string(r1, 4), "abcd");
  EXPECT_EQ(std::string(r2, 6), "efghij");
}

TEST(UnixSocketTest, DupSharesTheSocket) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  Fd copy(dup(p.a.get()));
  ASSERT_TRUE(copy.ok()) << strerror(errno);
  EXPECT_TRUE(SameFile(copy.get(), p.a.get()));
  ASSERT_EQ(write(copy.get(), "via dup", 7), 7);
  char buf[16];
  ASSERT_EQ(read(p.b.get(), buf, sizeof buf), 7);
  EXPECT_EQ(std::string(buf, 7), "via dup");
  // Closing one descriptor leaves the socket open: no end of file yet.
  p.a.reset();
  ASSERT_EQ(fcntl(p.b.get(), F_SETFL, O_NONBLOCK), 0);
  errno = 0;
  EXPECT_EQ(read(p.b.get(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_EQ(write(copy.get(), "x", 1), 1);
  EXPECT_EQ(read(p.b.get(), buf, sizeof buf), 1);
  copy.reset();
  EXPECT_EQ(read(p.b.get(), buf, sizeof buf), 0) << "the last close ends the stream";
}

TEST(UnixSocketTest, SendmsgAndRecvmsgWithSeveralIovecs) {
  SocketPair p = MakePair(SOCK_SEQPACKET);
  ASSERT_TRUE(p.ok());
  char a[] = "one-", b[] = "two-", c[] = "three";
  struct iovec wv[3] = {{a, 4}, {b, 4}, {c, 5}};
  struct msghdr wm = {};
  wm.msg_iov = wv;
  wm.msg_iovlen = 3;
  ASSERT_EQ(sendmsg(p.a.get(), &wm, 0), 13) << strerror(errno);
  char r1[2], r2[5], r3[20];
  struct iovec rv[3] = {{r1, 2}, {r2, 5}, {r3, 20}};
  struct msghdr rm = {};
  rm.msg_iov = rv;
  rm.msg_iovlen = 3;
  ASSERT_EQ(recvmsg(p.b.get(), &rm, 0), 13) << strerror(errno);
  EXPECT_EQ(rm.msg_flags & MSG_TRUNC, 0);
  EXPECT_EQ(std::string(r1, 2) + std::string(r2, 5) + std::string(r3, 6), "one-two-three");
}

TEST(UnixSocketTest, SendmmsgAndRecvmmsgOnADgramPair) {
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  const char* texts[3] = {"first", "second!", "3"};
  struct iovec wv[3];
  struct mmsghdr out[3] = {};
  for (int i = 0; i < 3; i++) {
    wv[i] = {const_cast<char*>(texts[i]), strlen(texts[i])};
    out[i].msg_hdr.msg_iov = &wv[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }
  ASSERT_EQ(sendmmsg(p.a.get(), out, 3, 0), 3) << strerror(errno);
  for (int i = 0; i < 3; i++) EXPECT_EQ(out[i].msg_len, strlen(texts[i])) << "message " << i;

  char bufs[3][16];
  struct iovec rv[3];
  struct mmsghdr in[3] = {};
  for (int i = 0; i < 3; i++) {
    rv[i] = {bufs[i], sizeof bufs[i]};
    in[i].msg_hdr.msg_iov = &rv[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  ASSERT_EQ(recvmmsg(p.b.get(), in, 3, MSG_DONTWAIT, nullptr), 3) << strerror(errno);
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(in[i].msg_len, strlen(texts[i])) << "message " << i;
    EXPECT_EQ(std::string(bufs[i], in[i].msg_len), texts[i]);
  }
  errno = 0;
  EXPECT_EQ(recvmmsg(p.b.get(), in, 3, MSG_DONTWAIT, nullptr), -1) << "all three were taken";
  EXPECT_EQ(errno, EAGAIN);
}

// ---------------------------------------------------------------------------
// bind() and getsockname()

TEST(UnixSocketTest, BindToAPathCreatesASocketNode) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.Child("sock");
  Fd fd = BoundSocket(SOCK_STREAM, PathAddr(path));
  ASSERT_TRUE(fd.ok()) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0) << strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
  // The node outlives the socket (unix(7): remove it with unlink).
  fd.reset();
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(unlink(path.c_str()), 0);
}

TEST(UnixSocketTest, BindToAnExistingPathIsEaddrinuse) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("sock"));
  Fd first = BoundSocket(SOCK_STREAM, a);
  ASSERT_TRUE(first.ok()) << strerror(errno);
  Fd second = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(bind(second.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // A stale node left by a closed socket is in the way too.
  first.reset();
  errno = 0;
  EXPECT_EQ(bind(second.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // So is a regular file.
  std::string file = dir.Child("file");
  Fd f(open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  ASSERT_TRUE(f.ok());
  Addr fa = PathAddr(file);
  errno = 0;
  EXPECT_EQ(bind(second.get(), fa.sa(), fa.len), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // After unlink the name is free again.
  ASSERT_EQ(unlink(dir.Child("sock").c_str()), 0);
  EXPECT_EQ(bind(second.get(), a.sa(), a.len), 0) << strerror(errno);
}

TEST(UnixSocketTest, BindingTwiceIsEinval) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Fd fd = BoundSocket(SOCK_DGRAM, PathAddr(dir.Child("one")));
  ASSERT_TRUE(fd.ok()) << strerror(errno);
  Addr other = PathAddr(dir.Child("two"));
  errno = 0;
  EXPECT_EQ(bind(fd.get(), other.sa(), other.len), -1);
  EXPECT_EQ(errno, EINVAL);
  Addr abstract = AbstractAddr(UniqueName());
  errno = 0;
  EXPECT_EQ(bind(fd.get(), abstract.sa(), abstract.len), -1);
  EXPECT_EQ(errno, EINVAL);
  struct stat st;
  EXPECT_EQ(stat(dir.Child("two").c_str(), &st), -1) << "the failed bind made no node";
}

TEST(UnixSocketTest, BindInAMissingDirectoryIsEnoent) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Fd fd = Socket(SOCK_STREAM);
  Addr a = PathAddr(dir.Child("missing/sock"));
  errno = 0;
  EXPECT_EQ(bind(fd.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST(UnixSocketTest, GetsocknameOfAPathCountsTheTerminatingNul) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.Child("sock");
  const socklen_t want = static_cast<socklen_t>(kPathOffset + path.size() + 1);

  // Bound with the whole structure as the length.
  Addr full = PathAddr(path);
  full.len = sizeof full.sun;
  Fd a = BoundSocket(SOCK_STREAM, full);
  ASSERT_TRUE(a.ok()) << strerror(errno);
  Addr got = SockName(a.get());
  EXPECT_EQ(got.len, want);
  EXPECT_EQ(got.sun.sun_family, AF_UNIX);
  EXPECT_STREQ(got.sun.sun_path, path.c_str());

  // Bound with a length that leaves the NUL out: Linux adds it back.
  std::string path2 = dir.Child("sock2");
  Addr exact = PathAddr(path2);
  exact.len--;
  Fd b = BoundSocket(SOCK_STREAM, exact);
  ASSERT_TRUE(b.ok()) << strerror(errno);
  got = SockName(b.get());
  EXPECT_EQ(got.len, kPathOffset + path2.size() + 1);
  EXPECT_STREQ(got.sun.sun_path, path2.c_str());

  // A short buffer gets a truncated address and the full length.
  struct sockaddr_un small;
  memset(&small, 0x5a, sizeof small);
  socklen_t len = kPathOffset + 4;
  ASSERT_EQ(getsockname(a.get(), reinterpret_cast<struct sockaddr*>(&small), &len), 0);
  EXPECT_EQ(len, want);
  EXPECT_EQ(std::string(small.sun_path, 4), path.substr(0, 4));
  EXPECT_EQ(small.sun_path[4], 0x5a) << "nothing beyond the buffer is written";
}

TEST(UnixSocketTest, GetsocknameOfAnUnboundSocketIsJustTheFamily) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    Fd fd = Socket(type);
    Addr got = SockName(fd.get());
    EXPECT_EQ(got.len, kFamilyLen) << "type " << type;
    EXPECT_EQ(got.sun.sun_family, AF_UNIX) << "type " << type;
  }
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(SockName(p.a.get()).len, kFamilyLen) << "socketpair ends are unnamed";
  EXPECT_EQ(PeerName(p.a.get()).len, kFamilyLen) << "and so are their peers";
}

// ---------------------------------------------------------------------------
// connect()

TEST(UnixSocketTest, ConnectToABoundSocketThatIsNotListeningIsEconnrefused) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("sock"));
  Fd server = BoundSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  Fd client = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(connect(client.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  // Nor once the bound socket is closed and only its node remains.
  server.reset();
  errno = 0;
  EXPECT_EQ(connect(client.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
}

TEST(UnixSocketTest, ConnectToAMissingPathIsEnoent) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("nobody"));
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    Fd client = Socket(type);
    errno = 0;
    EXPECT_EQ(connect(client.get(), a.sa(), a.len), -1) << "type " << type;
    EXPECT_EQ(errno, ENOENT) << "type " << type;
  }
}

TEST(UnixSocketTest, ConnectToARegularFileIsEconnrefused) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string file = dir.Child("file");
  Fd f(open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  ASSERT_TRUE(f.ok());
  Addr a = PathAddr(file);
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    Fd client = Socket(type);
    errno = 0;
    EXPECT_EQ(connect(client.get(), a.sa(), a.len), -1) << "type " << type;
    EXPECT_EQ(errno, ECONNREFUSED) << "type " << type;
  }
}

TEST(UnixSocketTest, ConnectToASocketOfAnotherTypeIsEprototype) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr dgram_addr = PathAddr(dir.Child("dgram"));
  Fd dgram = BoundSocket(SOCK_DGRAM, dgram_addr);
  ASSERT_TRUE(dgram.ok());
  Addr stream_addr = PathAddr(dir.Child("stream"));
  Fd stream = ListeningSocket(SOCK_STREAM, stream_addr);
  ASSERT_TRUE(stream.ok());

  Fd c1 = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(connect(c1.get(), dgram_addr.sa(), dgram_addr.len), -1) << "stream to dgram";
  EXPECT_EQ(errno, EPROTOTYPE);
  Fd c2 = Socket(SOCK_SEQPACKET);
  errno = 0;
  EXPECT_EQ(connect(c2.get(), stream_addr.sa(), stream_addr.len), -1) << "seqpacket to stream";
  EXPECT_EQ(errno, EPROTOTYPE);
  Fd c3 = Socket(SOCK_DGRAM);
  errno = 0;
  EXPECT_EQ(connect(c3.get(), stream_addr.sa(), stream_addr.len), -1) << "dgram to stream";
  EXPECT_EQ(errno, EPROTOTYPE);
}

TEST(UnixSocketTest, ConnectOnAListeningSocketIsEinval) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("a"));
  Fd one = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(one.ok());
  Addr b = PathAddr(dir.Child("b"));
  Fd two = ListeningSocket(SOCK_STREAM, b);
  ASSERT_TRUE(two.ok());
  errno = 0;
  EXPECT_EQ(connect(one.get(), b.sa(), b.len), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(UnixSocketTest, SecondConnectIsEisconn) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("sock"));
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  Fd client = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(client.ok()) << strerror(errno);
  errno = 0;
  EXPECT_EQ(connect(client.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, EISCONN);
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  errno = 0;
  EXPECT_EQ(connect(p.a.get(), a.sa(), a.len), -1) << "a socketpair end is connected";
  EXPECT_EQ(errno, EISCONN);
}

// ---------------------------------------------------------------------------
// Abstract names and autobind

TEST(UnixSocketTest, AbstractNameBindConnectAndExchangeData) {
  Addr a = AbstractAddr(UniqueName());
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok()) << strerror(errno);
  Fd client = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(client.ok()) << strerror(errno);
  Fd conn(accept(server.get(), nullptr, nullptr));
  ASSERT_TRUE(conn.ok()) << strerror(errno);
  ASSERT_EQ(write(client.get(), "abstract", 8), 8);
  char buf[16];
  ASSERT_EQ(read(conn.get(), buf, sizeof buf), 8);
  EXPECT_EQ(std::string(buf, 8), "abstract");
  Addr peer = PeerName(client.get());
  EXPECT_EQ(peer.len, a.len);
  EXPECT_EQ(peer.Name(), a.Name());
}

TEST(UnixSocketTest, AbstractGetsocknameHasTheLengthGiven) {
  std::string name = UniqueName();
  Addr a = AbstractAddr(name);
  Fd fd = BoundSocket(SOCK_DGRAM, a);
  ASSERT_TRUE(fd.ok()) << strerror(errno);
  Addr got = SockName(fd.get());
  EXPECT_EQ(got.len, a.len) << "no NUL is added to an abstract name";
  EXPECT_EQ(got.sun.sun_path[0], '\0');
  EXPECT_EQ(got.Name(), std::string(1, '\0') + name);
  // The length is part of the name: the same bytes plus a NUL is another.
  Addr longer = a;
  longer.len++;
  Fd other = BoundSocket(SOCK_DGRAM, longer);
  ASSERT_TRUE(other.ok()) << "name plus NUL is distinct: " << strerror(errno);
  EXPECT_EQ(SockName(other.get()).len, longer.len);
}

TEST(UnixSocketTest, AbstractNameInUseIsEaddrinuseUntilClosed) {
  Addr a = AbstractAddr(UniqueName());
  Fd first = BoundSocket(SOCK_STREAM, a);
  ASSERT_TRUE(first.ok()) << strerror(errno);
  Fd second = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(bind(second.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  // Abstract names vanish with their socket; nothing to unlink.
  first.reset();
  EXPECT_EQ(bind(second.get(), a.sa(), a.len), 0) << strerror(errno);
}

TEST(UnixSocketTest, AbstractNamesAreSeparatePerSocketType) {
  // Linux keys abstract names by socket type as well: a datagram socket can
  // take a name a stream socket holds, and connecting finds only the
  // socket of the caller's type.
  Addr a = AbstractAddr(UniqueName());
  Fd stream = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(stream.ok()) << strerror(errno);
  Fd dgram = BoundSocket(SOCK_DGRAM, a);
  ASSERT_TRUE(dgram.ok()) << "same name, other type: " << strerror(errno);
  Fd seq = Socket(SOCK_SEQPACKET);
  errno = 0;
  EXPECT_EQ(connect(seq.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, ECONNREFUSED) << "no SOCK_SEQPACKET socket has the name";
  Fd sender = Socket(SOCK_DGRAM);
  ASSERT_EQ(sendto(sender.get(), "d", 1, 0, a.sa(), a.len), 1) << strerror(errno);
  char c;
  EXPECT_EQ(recv(dgram.get(), &c, 1, MSG_DONTWAIT), 1);
  Fd client = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(client.ok()) << strerror(errno);
  EXPECT_EQ(Revents(stream.get(), POLLIN), POLLIN);
}

TEST(UnixSocketTest, ConnectToAnUnknownAbstractNameIsEconnrefused) {
  // Unlike a missing path (ENOENT), a missing abstract name is refused.
  Addr a = AbstractAddr(UniqueName());
  Fd client = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(connect(client.get(), a.sa(), a.len), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
}

bool IsAutobindName(const Addr& a) {
  if (a.len != kPathOffset + 6 || a.sun.sun_path[0] != '\0') return false;
  for (int i = 1; i <= 5; i++) {
    char c = a.sun.sun_path[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(UnixSocketTest, AutobindGivesFiveHexDigitAbstractName) {
  Fd a = Socket(SOCK_DGRAM);
  Fd b = Socket(SOCK_STREAM);
  struct sockaddr_un family_only = {};
  family_only.sun_family = AF_UNIX;
  ASSERT_EQ(bind(a.get(), reinterpret_cast<struct sockaddr*>(&family_only), kFamilyLen), 0)
      << strerror(errno);
  ASSERT_EQ(bind(b.get(), reinterpret_cast<struct sockaddr*>(&family_only), kFamilyLen), 0)
      << strerror(errno);
  Addr na = SockName(a.get());
  Addr nb = SockName(b.get());
  EXPECT_EQ(na.len, kPathOffset + 6u);
  EXPECT_TRUE(IsAutobindName(na)) << "got " << na.len << " bytes: " << na.Name().substr(1);
  EXPECT_TRUE(IsAutobindName(nb)) << "got " << nb.len << " bytes: " << nb.Name().substr(1);
  EXPECT_NE(na.Name(), nb.Name());
  // The autobound name is reachable like any abstract name.
  Fd sender = Socket(SOCK_DGRAM);
  ASSERT_EQ(sendto(sender.get(), "to auto", 7, 0, na.sa(), na.len), 7) << strerror(errno);
  char buf[16];
  EXPECT_EQ(recv(a.get(), buf, sizeof buf, MSG_DONTWAIT), 7);
  // Linux: asking to autobind a socket that already has a name succeeds
  // and changes nothing.
  EXPECT_EQ(bind(a.get(), reinterpret_cast<struct sockaddr*>(&family_only), kFamilyLen), 0)
      << strerror(errno);
  EXPECT_EQ(SockName(a.get()).Name(), na.Name());
}

// ---------------------------------------------------------------------------
// listen(), accept() and accept4()

TEST(UnixSocketTest, AcceptReturnsAConnectedSocket) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("sock"));
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok()) << strerror(errno);
  Fd client = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(client.ok()) << strerror(errno);
  Addr peer;
  peer.len = sizeof peer.sun;
  memset(&peer.sun, 0x5a, sizeof peer.sun);
  Fd conn(accept(server.get(), peer.sa(), &peer.len));
  ASSERT_TRUE(conn.ok()) << strerror(errno);
  // The client never bound: its address is just the family.
  EXPECT_EQ(peer.len, kFamilyLen);
  EXPECT_EQ(peer.sun.sun_family, AF_UNIX);
  EXPECT_FALSE(SameFile(conn.get(), server.get())) << "a new socket";
  EXPECT_EQ(GetIntOpt(conn.get(), SO_ACCEPTCONN), 0);
  ASSERT_EQ(write(conn.get(), "hello", 5), 5);
  char buf[8];
  ASSERT_EQ(read(client.get(), buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  // The accepted socket carries the listener's name.
  Addr local = SockName(conn.get());
  EXPECT_EQ(local.len, a.len);
  EXPECT_EQ(local.Name(), a.Name());
}

TEST(UnixSocketTest, AcceptReportsABoundClientsPath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("server"));
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  Addr ca = PathAddr(dir.Child("client"));
  Fd client = BoundSocket(SOCK_STREAM, ca);
  ASSERT_TRUE(client.ok());
  ASSERT_EQ(connect(client.get(), a.sa(), a.len), 0) << strerror(errno);
  Addr peer;
  peer.len = sizeof peer.sun;
  Fd conn(accept(server.get(), peer.sa(), &peer.len));
  ASSERT_TRUE(conn.ok()) << strerror(errno);
  EXPECT_EQ(peer.len, ca.len);
  EXPECT_EQ(peer.Name(), ca.Name());
  Addr pn = PeerName(conn.get());
  EXPECT_EQ(pn.len, ca.len);
  EXPECT_EQ(pn.Name(), ca.Name());
}

TEST(UnixSocketTest, Accept4AppliesNonblockAndCloexec) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("sock"));
  // A non-blocking listener: accept() does not pass O_NONBLOCK on (accept(2)).
  Fd server(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(bind(server.get(), a.sa(), a.len), 0);
  ASSERT_EQ(listen(server.get(), 4), 0);
  Fd c1 = ConnectedSocket(SOCK_STREAM, a);
  Fd c2 = ConnectedSocket(SOCK_STREAM, a);
  Fd c3 = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(c1.ok() && c2.ok() && c3.ok()) << strerror(errno);

  Fd plain(accept(server.get(), nullptr, nullptr));
  ASSERT_TRUE(plain.ok()) << strerror(errno);
  EXPECT_EQ(fcntl(plain.get(), F_GETFD), 0);
  EXPECT_EQ(fcntl(plain.get(), F_GETFL) & O_NONBLOCK, 0);

  Fd flagged(accept4(server.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  ASSERT_TRUE(flagged.ok()) << strerror(errno);
  EXPECT_EQ(fcntl(flagged.get(), F_GETFD), FD_CLOEXEC);
  EXPECT_NE(fcntl(flagged.get(), F_GETFL) & O_NONBLOCK, 0);
  char b;
  errno = 0;
  EXPECT_EQ(read(flagged.get(), &b, 1), -1);
  EXPECT_EQ(errno, EAGAIN);

  errno = 0;
  EXPECT_EQ(accept4(server.get(), nullptr, nullptr, 0x40), -1) << "an unknown flag";
  EXPECT_EQ(errno, EINVAL);
  Fd cloexec_only(accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(cloexec_only.ok()) << "the failed accept4 left the connection queued";
  EXPECT_EQ(fcntl(cloexec_only.get(), F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(fcntl(cloexec_only.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(UnixSocketTest, GetpeernameOnTheClientReturnsTheServerPath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.Child("sock");
  Addr a = PathAddr(path);
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  Fd client = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(client.ok());
  Addr peer = PeerName(client.get());
  EXPECT_EQ(peer.len, kPathOffset + path.size() + 1);
  EXPECT_EQ(peer.sun.sun_family, AF_UNIX);
  EXPECT_STREQ(peer.sun.sun_path, path.c_str());
  EXPECT_EQ(SockName(client.get()).len, kFamilyLen) << "the client itself is unnamed";
}

TEST(UnixSocketTest, GetpeernameOnAnUnconnectedSocketIsEnotconn) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr a = PathAddr(dir.Child("sock"));
  Fd listener = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(listener.ok());
  Fd unbound_stream = Socket(SOCK_STREAM);
  Fd dgram = Socket(SOCK_DGRAM);
  for (int fd : {unbound_stream.get(), dgram.get(), listener.get()}) {
    struct sockaddr_un sun;
    socklen_t len = sizeof sun;
    errno = 0;
    EXPECT_EQ(getpeername(fd, reinterpret_cast<struct sockaddr*>(&sun), &len), -1) << "fd " << fd;
    EXPECT_EQ(errno, ENOTCONN) << "fd " << fd;
  }
}

TEST(UnixSocketTest, AcceptOnASocketThatIsNotListeningIsEinval) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Fd bound = BoundSocket(SOCK_STREAM, PathAddr(dir.Child("sock")));
  ASSERT_TRUE(bound.ok());
  Fd unbound = Socket(SOCK_STREAM);
  for (int fd : {bound.get(), unbound.get()}) {
    errno = 0;
    EXPECT_EQ(accept(fd, nullptr, nullptr), -1) << "fd " << fd;
    EXPECT_EQ(errno, EINVAL) << "fd " << fd;
  }
  // A datagram socket cannot accept at all.
  Fd dgram = Socket(SOCK_DGRAM);
  errno = 0;
  EXPECT_EQ(accept(dgram.get(), nullptr, nullptr), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST(UnixSocketTest, ListenNeedsABoundConnectionOrientedSocket) {
  // Linux: listen() on an unbound AF_UNIX socket is EINVAL (no autobind).
  Fd unbound = Socket(SOCK_STREAM);
  errno = 0;
  EXPECT_EQ(listen(unbound.get(), 1), -1);
  EXPECT_EQ(errno, EINVAL);
  Fd dgram = BoundSocket(SOCK_DGRAM, AbstractAddr(UniqueName()));
  ASSERT_TRUE(dgram.ok());
  errno = 0;
  EXPECT_EQ(listen(dgram.get(), 1), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  // listen() on a listening socket just updates the backlog.
  Fd seq = BoundSocket(SOCK_SEQPACKET, AbstractAddr(UniqueName()));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(listen(seq.get(), 1), 0) << strerror(errno);
  EXPECT_EQ(listen(seq.get(), 5), 0) << strerror(errno);
}

TEST(UnixSocketTest, NonblockingAcceptWithNothingPendingIsEagain) {
  Addr a = AbstractAddr(UniqueName());
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(fcntl(server.get(), F_SETFL, O_NONBLOCK), 0);
  errno = 0;
  EXPECT_EQ(accept(server.get(), nullptr, nullptr), -1);
  EXPECT_EQ(errno, EAGAIN);
  Fd client = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(client.ok());
  Fd conn(accept(server.get(), nullptr, nullptr));
  EXPECT_TRUE(conn.ok()) << strerror(errno);
  errno = 0;
  EXPECT_EQ(accept(server.get(), nullptr, nullptr), -1) << "the one connection was taken";
  EXPECT_EQ(errno, EAGAIN);
}

TEST(UnixSocketTest, ClientCanWriteBeforeTheServerAccepts) {
  Addr a = AbstractAddr(UniqueName());
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  Fd client = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(client.ok());
  ASSERT_EQ(write(client.get(), "early", 5), 5) << strerror(errno);
  // Even closing before the accept leaves the data to be read.
  ASSERT_EQ(write(client.get(), " bird", 5), 5) << strerror(errno);
  client.reset();
  Fd conn(accept(server.get(), nullptr, nullptr));
  ASSERT_TRUE(conn.ok()) << strerror(errno);
  EXPECT_EQ(ReadToEof(conn.get()), "early bird");
}

TEST(UnixSocketTest, NonblockingConnectToAFullBacklogIsEagain) {
  Addr a = AbstractAddr(UniqueName());
  Fd server = ListeningSocket(SOCK_STREAM, a, 1);
  ASSERT_TRUE(server.ok());
  std::vector<Fd> clients;
  int connected = 0;
  int last_errno = 0;
  // Linux takes backlog + 1 connections; allow some slack, not unbounded.
  for (int i = 0; i < 10; i++) {
    Fd c(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    ASSERT_TRUE(c.ok());
    if (connect(c.get(), a.sa(), a.len) != 0) {
      last_errno = errno;
      break;
    }
    connected++;
    clients.push_back(std::move(c));
  }
  EXPECT_GE(connected, 1);
  EXPECT_LT(connected, 10) << "the backlog never filled up";
  EXPECT_EQ(last_errno, EAGAIN) << strerror(last_errno);
  // Accepting one makes room for one more.
  Fd conn(accept(server.get(), nullptr, nullptr));
  ASSERT_TRUE(conn.ok()) << strerror(errno);
  Fd more(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
  EXPECT_EQ(connect(more.get(), a.sa(), a.len), 0) << strerror(errno);
}

// ---------------------------------------------------------------------------
// send and receive flags

TEST(UnixSocketTest, MsgPeekLeavesTheDataQueued) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(write(p.a.get(), "peekaboo", 8), 8);
  char buf[16];
  ASSERT_EQ(recv(p.b.get(), buf, 4, MSG_PEEK), 4);
  EXPECT_EQ(std::string(buf, 4), "peek");
  ASSERT_EQ(recv(p.b.get(), buf, sizeof buf, MSG_PEEK), 8);
  EXPECT_EQ(std::string(buf, 8), "peekaboo");
  ASSERT_EQ(recv(p.b.get(), buf, sizeof buf, 0), 8);
  EXPECT_EQ(std::string(buf, 8), "peekaboo");
  errno = 0;
  EXPECT_EQ(recv(p.b.get(), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(UnixSocketTest, MsgDontwaitOnAnEmptyBlockingSocketIsEagain) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok());
    char b;
    errno = 0;
    EXPECT_EQ(recv(p.a.get(), &b, 1, MSG_DONTWAIT), -1) << "type " << type;
    EXPECT_EQ(errno, EAGAIN) << "type " << type;
    EXPECT_EQ(fcntl(p.a.get(), F_GETFL) & O_NONBLOCK, 0) << "the socket stays blocking";
  }
}

TEST(UnixSocketTest, MsgWaitallCollectsDataWrittenInPieces) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    p.b.reset();
    CHILD_CHECK(WriteAll(p.a.get(), "hello ", 6));
    usleep(100 * 1000);  // let the parent see the first piece alone
    CHILD_CHECK(WriteAll(p.a.get(), "world", 5));
    return 0;
  });
  ASSERT_GT(pid, 0);
  char buf[11];
  ssize_t n;
  do {
    n = recv(p.b.get(), buf, sizeof buf, MSG_WAITALL);
  } while (n < 0 && errno == EINTR);
  EXPECT_EQ(n, 11) << strerror(errno);
  EXPECT_EQ(std::string(buf, 11), "hello world");
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(UnixSocketTest, MsgWaitallReturnsShortAtEndOfFile) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(write(p.a.get(), "abc", 3), 3);
  p.a.reset();
  char buf[10];
  EXPECT_EQ(recv(p.b.get(), buf, sizeof buf, MSG_WAITALL), 3);
}

void ExpectMsgTruncReportsTheFullLength(int type) {
  SocketPair p = MakePair(type);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(send(p.a.get(), "0123456789", 10, 0), 10);
  ASSERT_EQ(send(p.a.get(), "abcdefghij", 10, 0), 10);
  ASSERT_EQ(send(p.a.get(), "xy", 2, 0), 2);

  // Without MSG_TRUNC: the buffer's worth, MSG_TRUNC in msg_flags.
  Received r = RecvFds(p.b.get(), 0, 0, 4);
  ASSERT_EQ(r.n, 4) << strerror(r.err);
  EXPECT_EQ(r.data, "0123");
  EXPECT_NE(r.msg_flags & MSG_TRUNC, 0);
  // With MSG_TRUNC: the real length. The rest of each message is gone.
  r = RecvFds(p.b.get(), 0, MSG_TRUNC, 4);
  ASSERT_EQ(r.n, 10) << strerror(r.err);
  EXPECT_EQ(r.data, "abcd");
  EXPECT_NE(r.msg_flags & MSG_TRUNC, 0);
  r = RecvFds(p.b.get(), 0, 0, 4);
  ASSERT_EQ(r.n, 2);
  EXPECT_EQ(r.data, "xy");
  EXPECT_EQ(r.msg_flags & MSG_TRUNC, 0) << "it fitted";
}

TEST(UnixSocketTest, MsgTruncOnDgram) { ExpectMsgTruncReportsTheFullLength(SOCK_DGRAM); }

TEST(UnixSocketTest, MsgTruncOnSeqpacket) { ExpectMsgTruncReportsTheFullLength(SOCK_SEQPACKET); }

TEST(UnixSocketTest, MsgTruncWithPeekLeavesTheMessage) {
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(send(p.a.get(), "0123456789", 10, 0), 10);
  // A zero-length peek with MSG_TRUNC finds the next datagram's size.
  EXPECT_EQ(recv(p.b.get(), nullptr, 0, MSG_PEEK | MSG_TRUNC), 10);
  char buf[16];
  EXPECT_EQ(recv(p.b.get(), buf, sizeof buf, 0), 10);
}

TEST(UnixSocketTest, MsgNosignalGivesEpipeWithoutSigpipe) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  p.b.reset();
  int status = RunInChild([&] {
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    errno = 0;
    CHILD_CHECK(send(p.a.get(), "x", 1, MSG_NOSIGNAL) == -1);
    CHILD_CHECK(errno == EPIPE);
    sigset_t pending;
    CHILD_CHECK(sigpending(&pending) == 0);
    CHILD_CHECK(sigismember(&pending, SIGPIPE) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(UnixSocketTest, MsgCmsgCloexecMarksReceivedFds) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  Pipe pipe;
  ASSERT_TRUE(pipe.ok());
  ASSERT_EQ(SendFds(p.a.get(), {pipe.rd()}), 1) << strerror(errno);
  ASSERT_EQ(SendFds(p.a.get(), {pipe.rd()}), 1) << strerror(errno);
  Received with = RecvFds(p.b.get(), 1, MSG_CMSG_CLOEXEC, 1);
  ASSERT_EQ(with.n, 1) << strerror(with.err);
  ASSERT_EQ(with.fds.size(), 1u);
  EXPECT_EQ(fcntl(with.fds[0].get(), F_GETFD), FD_CLOEXEC);
  Received without = RecvFds(p.b.get(), 1, 0, 1);
  ASSERT_EQ(without.n, 1) << strerror(without.err);
  ASSERT_EQ(without.fds.size(), 1u);
  EXPECT_EQ(fcntl(without.fds[0].get(), F_GETFD), 0);
}

TEST(UnixSocketTest, MsgCtruncWhenTheControlBufferIsTooSmall) {
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  Pipe pipe;
  ASSERT_TRUE(pipe.ok());
  ASSERT_EQ(SendFds(p.a.get(), {pipe.wr(), pipe.wr(), pipe.wr()}), 1) << strerror(errno);
  pipe.CloseWrite();
  // Room for the header and one descriptor only. Linux delivers as many as
  // fit ((msg_controllen - sizeof(struct cmsghdr)) / sizeof(int), so note
  // that CMSG_SPACE(sizeof(int)) would already hold two on x86-64).
  Received r = RecvFds(p.b.get(), 3, 0, 8, CMSG_LEN(sizeof(int)));
  ASSERT_EQ(r.n, 1) << strerror(r.err);
  EXPECT_NE(r.msg_flags & MSG_CTRUNC, 0);
  EXPECT_EQ(r.fds.size(), 1u);
  for (Fd& fd : r.fds) EXPECT_EQ(write(fd.get(), "w", 1), 1) << "a working write end";
  // The descriptors that did not fit were closed, not leaked: once the
  // delivered one is closed the pipe has no writer left.
  r.fds.clear();
  char buf[8];
  EXPECT_EQ(read(pipe.rd(), buf, sizeof buf), 1);
  EXPECT_EQ(read(pipe.rd(), buf, sizeof buf), 0);
}

TEST(UnixSocketTest, MsgCtruncWithNoControlBufferAtAll) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  Pipe pipe;
  ASSERT_TRUE(pipe.ok());
  ASSERT_EQ(SendFds(p.a.get(), {pipe.wr()}, "d"), 1);
  pipe.CloseWrite();
  char c;
  struct iovec iov = {&c, 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ASSERT_EQ(recvmsg(p.b.get(), &msg, 0), 1) << strerror(errno);
  EXPECT_EQ(c, 'd');
  EXPECT_NE(msg.msg_flags & MSG_CTRUNC, 0);
  char buf[4];
  EXPECT_EQ(read(pipe.rd(), buf, sizeof buf), 0) << "the dropped write end was closed";
}

// ---------------------------------------------------------------------------
// SCM_RIGHTS

TEST(UnixSocketTest, PassAPipeEndFromAChild) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    p.b.reset();
    int fds[2];
    CHILD_CHECK(pipe(fds) == 0);
    CHILD_CHECK(SendFds(p.a.get(), {fds[0]}) == 1);
    close(fds[0]);
    CHILD_CHECK(WriteAll(fds[1], "through the pipe", 16));
    return 0;
  });
  ASSERT_GT(pid, 0);
  p.a.reset();
  Received r = RecvFds(p.b.get(), 1, 0, 8);
  ASSERT_EQ(r.n, 1) << strerror(r.err);
  EXPECT_EQ(r.data, "F");
  ASSERT_EQ(r.fds.size(), 1u);
  EXPECT_EQ(fcntl(r.fds[0].get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(ReadToEof(r.fds[0].get()), "through the pipe") << "EOF once the child is gone";
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(UnixSocketTest, PassARegularFileSharesTheOffset) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Fd file(open(dir.Child("f").c_str(), O_CREAT | O_RDWR, 0600));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(WriteAll(file.get(), "0123456789", 10));
  ASSERT_EQ(lseek(file.get(), 0, SEEK_SET), 0);
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(SendFds(p.a.get(), {file.get()}), 1) << strerror(errno);
  Received r = RecvFds(p.b.get(), 1);
  ASSERT_EQ(r.n, 1) << strerror(r.err);
  ASSERT_EQ(r.fds.size(), 1u);
  int got = r.fds[0].get();
  EXPECT_NE(got, file.get()) << "a new descriptor";
  EXPECT_TRUE(SameFile(got, file.get()));
  char buf[4];
  ASSERT_EQ(read(got, buf, 4), 4);
  EXPECT_EQ(std::string(buf, 4), "0123");
  EXPECT_EQ(lseek(file.get(), 0, SEEK_CUR), 4) << "one open file description";
  ASSERT_EQ(read(file.get(), buf, 2), 2);
  EXPECT_EQ(std::string(buf, 2), "45");
  EXPECT_EQ(lseek(got, 0, SEEK_CUR), 6);
  EXPECT_EQ(fcntl(got, F_GETFL) & O_ACCMODE, O_RDWR);
}

TEST(UnixSocketTest, PassAnEpollFd) {
  Fd ep(epoll_create1(0));
  ASSERT_TRUE(ep.ok());
  Pipe pipe;
  ASSERT_TRUE(pipe.ok());
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.u64 = 0x1234;
  ASSERT_EQ(epoll_ctl(ep.get(), EPOLL_CTL_ADD, pipe.rd(), &ev), 0);
  SocketPair p = MakePair(SOCK_SEQPACKET);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(SendFds(p.a.get(), {ep.get()}), 1) << strerror(errno);
  ep.reset();
  Received r = RecvFds(p.b.get(), 1);
  ASSERT_EQ(r.n, 1) << strerror(r.err);
  ASSERT_EQ(r.fds.size(), 1u);
  int got = r.fds[0].get();
  struct epoll_event out = {};
  EXPECT_EQ(epoll_wait(got, &out, 1, 0), 0) << "nothing ready yet";
  ASSERT_EQ(write(pipe.wr(), "x", 1), 1);
  ASSERT_EQ(epoll_wait(got, &out, 1, 0), 1) << strerror(errno);
  EXPECT_EQ(out.data.u64, 0x1234u) << "the interest list came along";
  EXPECT_NE(out.events & EPOLLIN, 0u);
}

TEST(UnixSocketTest, PassAMemfd) {
  Fd mem(memfd_create("unix_socket_test", 0));
  if (!mem.ok() && errno == ENOSYS) GTEST_SKIP() << "no memfd_create";
  ASSERT_TRUE(mem.ok()) << strerror(errno);
  ASSERT_TRUE(WriteAll(mem.get(), "memfd contents", 14));
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(SendFds(p.a.get(), {mem.get()}), 1) << strerror(errno);
  mem.reset();
  Received r = RecvFds(p.b.get(), 1);
  ASSERT_EQ(r.n, 1) << strerror(r.err);
  ASSERT_EQ(r.fds.size(), 1u);
  int got = r.fds[0].get();
  struct stat st;
  ASSERT_EQ(fstat(got, &st), 0);
  EXPECT_EQ(st.st_size, 14);
  char buf[14];
  ASSERT_EQ(pread(got, buf, sizeof buf, 0), 14);
  EXPECT_EQ(std::string(buf, 14), "memfd contents");
}

TEST(UnixSocketTest, PassASocket) {
  SocketPair carrier = MakePair(SOCK_STREAM);
  SocketPair cargo = MakePair(SOCK_SEQPACKET);
  ASSERT_TRUE(carrier.ok() && cargo.ok());
  ASSERT_EQ(SendFds(carrier.a.get(), {cargo.a.get()}), 1) << strerror(errno);
  cargo.a.reset();
  Received r = RecvFds(carrier.b.get(), 1);
  ASSERT_EQ(r.n, 1) << strerror(r.err);
  ASSERT_EQ(r.fds.size(), 1u);
  int got = r.fds[0].get();
  EXPECT_EQ(GetIntOpt(got, SO_TYPE), SOCK_SEQPACKET);
  ASSERT_EQ(write(got, "over", 4), 4);
  char buf[8];
  ASSERT_EQ(read(cargo.b.get(), buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "over");
}

TEST(UnixSocketTest, PassSeveralFdsInOneMessage) {
  Pipe p1, p2;
  ASSERT_TRUE(p1.ok() && p2.ok());
  Fd null(open("/dev/null", O_WRONLY));
  ASSERT_TRUE(null.ok());
  std::vector<int> sent = {p1.wr(), p2.rd(), null.get(), p1.wr()};
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(SendFds(p.a.get(), sent, "four"), 4) << strerror(errno);
  Received r = RecvFds(p.b.get(), sent.size());
  ASSERT_EQ(r.n, 4) << strerror(r.err);
  EXPECT_EQ(r.data, "four");
  EXPECT_EQ(r.msg_flags & MSG_CTRUNC, 0);
  ASSERT_EQ(r.fds.size(), sent.size());
  for (size_t i = 0; i < sent.size(); i++) {
    int got = r.fds[i].get();
    EXPECT_GE(fcntl(got, F_GETFD), 0) << "fd " << got << " is open";
    for (int original : sent) EXPECT_NE(got, original) << "received fds are new numbers";
    for (size_t j = 0; j < i; j++) EXPECT_NE(got, r.fds[j].get());
    EXPECT_TRUE(SameFile(got, sent[i])) << "in the order sent, index " << i;
  }
  // And they work: write through the received p1 write end.
  ASSERT_EQ(write(r.fds[0].get(), "A", 1), 1);
  ASSERT_EQ(write(p2.wr(), "B", 1), 1);
  char c;
  ASSERT_EQ(read(p1.rd(), &c, 1), 1);
  EXPECT_EQ(c, 'A');
  ASSERT_EQ(read(r.fds[1].get(), &c, 1), 1);
  EXPECT_EQ(c, 'B');
}

TEST(UnixSocketTest, PassedFdsStayOpenWhileInFlight) {
  SocketPair p = MakePair(SOCK_STREAM);
  Pipe pipe;
  ASSERT_TRUE(p.ok() && pipe.ok());
  ASSERT_EQ(SendFds(p.a.get(), {pipe.wr()}), 1);
  pipe.CloseWrite();
  // The only write end is in the socket's queue: no EOF for the reader.
  ASSERT_EQ(fcntl(pipe.rd(), F_SETFL, O_NONBLOCK), 0);
  char c;
  errno = 0;
  EXPECT_EQ(read(pipe.rd(), &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  {
    Received r = RecvFds(p.b.get(), 1);
    ASSERT_EQ(r.fds.size(), 1u);
  }
  EXPECT_EQ(read(pipe.rd(), &c, 1), 0) << "the received copy was the last";
}

TEST(UnixSocketTest, PassingAClosedFdIsEbadf) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  int closed = dup(p.a.get());
  ASSERT_GE(closed, 0);
  ASSERT_EQ(close(closed), 0);
  errno = 0;
  EXPECT_EQ(SendFds(p.a.get(), {p.a.get(), closed}), -1);
  EXPECT_EQ(errno, EBADF);
  char c;
  errno = 0;
  EXPECT_EQ(recv(p.b.get(), &c, 1, MSG_DONTWAIT), -1) << "nothing was sent";
  EXPECT_EQ(errno, EAGAIN);
}

// Makes sure `want` descriptors can be open at once; false if impossible.
bool EnsureFdLimit(rlim_t want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= want) return true;
  if (rl.rlim_max < want) return false;
  rl.rlim_cur = want;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

TEST(UnixSocketTest, MoreThanScmMaxFdInOneMessageIsEinval) {
  constexpr size_t kScmMaxFd = 253;  // unix(7), cmsg(3): SCM_MAX_FD
  if (!EnsureFdLimit(2 * kScmMaxFd + 64)) GTEST_SKIP() << "RLIMIT_NOFILE is too low";
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  Fd null(open("/dev/null", O_RDONLY));
  ASSERT_TRUE(null.ok());
  std::vector<int> too_many(kScmMaxFd + 1, null.get());
  errno = 0;
  EXPECT_EQ(SendFds(p.a.get(), too_many), -1);
  EXPECT_EQ(errno, EINVAL);
  // Exactly SCM_MAX_FD is fine.
  std::vector<int> most(kScmMaxFd, null.get());
  ASSERT_EQ(SendFds(p.a.get(), most), 1) << strerror(errno);
  Received r = RecvFds(p.b.get(), kScmMaxFd);
  ASSERT_EQ(r.n, 1) << strerror(r.err);
  EXPECT_EQ(r.msg_flags & MSG_CTRUNC, 0);
  ASSERT_EQ(r.fds.size(), kScmMaxFd);
  EXPECT_TRUE(SameFile(r.fds[0].get(), null.get()));
  EXPECT_TRUE(SameFile(r.fds[kScmMaxFd - 1].get(), null.get()));
}

TEST(UnixSocketTest, CmsgLenBeyondTheControlBufferIsEinval) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  char c = 'c';
  struct iovec iov = {&c, 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control(CMSG_SPACE(sizeof(int)));
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(4 * sizeof(int));  // claims four fds, room for one
  int fd = p.a.get();
  memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  errno = 0;
  EXPECT_EQ(sendmsg(p.a.get(), &msg, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  // A cmsg_len shorter than the header is invalid too.
  cm->cmsg_len = sizeof(struct cmsghdr) - 1;
  errno = 0;
  EXPECT_EQ(sendmsg(p.a.get(), &msg, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

// ---------------------------------------------------------------------------
// SCM_CREDENTIALS, SO_PASSCRED and SO_PEERCRED

// The SCM_CREDENTIALS of a received message, if any.
bool RecvCreds(int sock, struct ucred* creds, std::string* data) {
  char buf[32];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control(CMSG_SPACE(sizeof(struct ucred)) + 64);
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  data->assign(buf, static_cast<size_t>(n));
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
        c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
      memcpy(creds, CMSG_DATA(c), sizeof *creds);
      return true;
    }
  }
  return false;
}

TEST(UnixSocketTest, SoPasscredRoundTrip) {
  Fd fd = Socket(SOCK_STREAM);
  EXPECT_EQ(GetIntOpt(fd.get(), SO_PASSCRED), 0);
  ASSERT_TRUE(SetIntOpt(fd.get(), SO_PASSCRED, 1)) << strerror(errno);
  EXPECT_EQ(GetIntOpt(fd.get(), SO_PASSCRED), 1);
  ASSERT_TRUE(SetIntOpt(fd.get(), SO_PASSCRED, 0));
  EXPECT_EQ(GetIntOpt(fd.get(), SO_PASSCRED), 0);
}

TEST(UnixSocketTest, ScmCredentialsCarryTheSendersIds) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(SetIntOpt(p.b.get(), SO_PASSCRED, 1)) << strerror(errno);
    // The sender attaches nothing: the kernel supplies its credentials.
    pid_t pid = ForkChild([&] {
      CHILD_CHECK(write(p.a.get(), "who", 3) == 3);
      return 0;
    });
    ASSERT_GT(pid, 0);
    struct ucred creds = {};
    std::string data;
    bool got = RecvCreds(p.b.get(), &creds, &data);  // before the child is reaped
    EXPECT_EXITED_WITH(WaitStatus(pid), 0);
    ASSERT_TRUE(got) << "type " << type << ": no credentials";
    EXPECT_EQ(data, "who");
    EXPECT_EQ(creds.pid, pid) << "type " << type;
    EXPECT_EQ(creds.uid, getuid());
    EXPECT_EQ(creds.gid, getgid());
  }
}

TEST(UnixSocketTest, NoScmCredentialsWithoutSoPasscred) {
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(write(p.a.get(), "x", 1), 1);
  Received r = RecvFds(p.b.get(), 0, 0, 8, 64);
  ASSERT_EQ(r.n, 1);
  EXPECT_EQ(r.other_cmsgs, 0);
  EXPECT_EQ(r.fds.size(), 0u);
}

TEST(UnixSocketTest, ExplicitScmCredentialsEqualToOwnAreAccepted) {
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(SetIntOpt(p.b.get(), SO_PASSCRED, 1));
  struct ucred mine = {getpid(), getuid(), getgid()};
  char c = 'e';
  struct iovec iov = {&c, 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control(CMSG_SPACE(sizeof mine));
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_CREDENTIALS;
  cm->cmsg_len = CMSG_LEN(sizeof mine);
  memcpy(CMSG_DATA(cm), &mine, sizeof mine);
  ASSERT_EQ(sendmsg(p.a.get(), &msg, 0), 1) << strerror(errno);
  struct ucred got = {};
  std::string data;
  ASSERT_TRUE(RecvCreds(p.b.get(), &got, &data));
  EXPECT_EQ(data, "e");
  EXPECT_EQ(got.pid, mine.pid);
  EXPECT_EQ(got.uid, mine.uid);
  EXPECT_EQ(got.gid, mine.gid);
}

TEST(UnixSocketTest, SoPeercredOnASocketpairIsTheCreator) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  for (int fd : {p.a.get(), p.b.get()}) {
    struct ucred creds = {};
    socklen_t len = sizeof creds;
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &creds, &len), 0) << strerror(errno);
    EXPECT_EQ(len, sizeof creds);
    EXPECT_EQ(creds.pid, getpid());
    EXPECT_EQ(creds.uid, getuid());
    EXPECT_EQ(creds.gid, getgid());
  }
}

TEST(UnixSocketTest, SoPeercredOnAnAcceptedConnectionIsTheConnectingChild) {
  Addr a = AbstractAddr(UniqueName());
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  const pid_t parent = getpid();
  pid_t pid = ForkChild([&] {
    server.reset();
    Fd c = ConnectedSocket(SOCK_STREAM, a);
    CHILD_CHECK(c.ok());
    // The client's peer credentials are the listener's (from listen()).
    struct ucred creds = {};
    socklen_t len = sizeof creds;
    CHILD_CHECK(getsockopt(c.get(), SOL_SOCKET, SO_PEERCRED, &creds, &len) == 0);
    CHILD_CHECK(creds.pid == parent);
    char b;
    CHILD_CHECK(read(c.get(), &b, 1) == 0);  // wait for the parent to finish
    return 0;
  });
  ASSERT_GT(pid, 0);
  Fd conn(accept(server.get(), nullptr, nullptr));
  ASSERT_TRUE(conn.ok()) << strerror(errno);
  struct ucred creds = {};
  socklen_t len = sizeof creds;
  ASSERT_EQ(getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &creds, &len), 0) << strerror(errno);
  EXPECT_EQ(creds.pid, pid);
  EXPECT_EQ(creds.uid, getuid());
  EXPECT_EQ(creds.gid, getgid());
  conn.reset();
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(UnixSocketTest, SoPeekOffAdvancesWithPeeksAndRetreatsWithReads) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(GetIntOpt(p.b.get(), SO_PEEK_OFF), -1) << "disabled by default";
  ASSERT_TRUE(SetIntOpt(p.b.get(), SO_PEEK_OFF, 0)) << strerror(errno);
  EXPECT_EQ(GetIntOpt(p.b.get(), SO_PEEK_OFF), 0);
  ASSERT_EQ(write(p.a.get(), "abcdefgh", 8), 8);
  char buf[8];
  ASSERT_EQ(recv(p.b.get(), buf, 3, MSG_PEEK), 3);
  EXPECT_EQ(std::string(buf, 3), "abc");
  EXPECT_EQ(GetIntOpt(p.b.get(), SO_PEEK_OFF), 3);
  ASSERT_EQ(recv(p.b.get(), buf, 3, MSG_PEEK), 3);
  EXPECT_EQ(std::string(buf, 3), "def") << "the second peek starts where the first ended";
  EXPECT_EQ(GetIntOpt(p.b.get(), SO_PEEK_OFF), 6);
  // A normal read starts at the front and pulls the offset back.
  ASSERT_EQ(recv(p.b.get(), buf, 4, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "abcd");
  EXPECT_EQ(GetIntOpt(p.b.get(), SO_PEEK_OFF), 2);
  ASSERT_EQ(recv(p.b.get(), buf, sizeof buf, MSG_PEEK), 2);
  EXPECT_EQ(std::string(buf, 2), "gh");
}

// ---------------------------------------------------------------------------
// close and shutdown

TEST(UnixSocketTest, WriteAfterThePeerClosedRaisesSigpipe) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  p.b.reset();
  int status = RunInChild([&] {
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ssize_t n = write(p.a.get(), "x", 1);
    fprintf(stderr, "write returned %zd (errno %d) instead of killing\n", n, errno);
    return kChildFailed;
  });
  EXPECT_KILLED_BY(status, SIGPIPE);
}

TEST(UnixSocketTest, WriteAfterThePeerClosedIsEpipeWithSigpipeIgnored) {
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  ScopedSigaction restore(SIGPIPE, ign);
  ASSERT_TRUE(restore.ok());
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok());
    p.b.reset();
    errno = 0;
    EXPECT_EQ(write(p.a.get(), "x", 1), -1) << "type " << type;
    EXPECT_EQ(errno, EPIPE) << "type " << type;
  }
}

TEST(UnixSocketTest, ReadReturnsZeroAfterThePeerClosed) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(write(p.a.get(), "last", 4), 4);
    p.a.reset();
    char buf[8];
    EXPECT_EQ(read(p.b.get(), buf, sizeof buf), 4) << "type " << type << ": data first";
    EXPECT_EQ(read(p.b.get(), buf, sizeof buf), 0) << "type " << type;
    EXPECT_EQ(read(p.b.get(), buf, sizeof buf), 0) << "type " << type << ": EOF is sticky";
  }
}

TEST(UnixSocketTest, ShutdownWrGivesThePeerEofButTheOtherWayStillWorks) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(write(p.a.get(), "bye", 3), 3);
  ASSERT_EQ(shutdown(p.a.get(), SHUT_WR), 0) << strerror(errno);
  char buf[8];
  EXPECT_EQ(read(p.b.get(), buf, sizeof buf), 3);
  EXPECT_EQ(read(p.b.get(), buf, sizeof buf), 0);
  // The peer can still write to the half-closed side.
  ASSERT_EQ(write(p.b.get(), "reply", 5), 5) << strerror(errno);
  ASSERT_EQ(read(p.a.get(), buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf, 5), "reply");
  // The side that shut down writing may not write.
  errno = 0;
  EXPECT_EQ(send(p.a.get(), "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(UnixSocketTest, ShutdownRdMakesOwnReadsReturnEof) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(shutdown(p.b.get(), SHUT_RD), 0) << strerror(errno);
  char buf[8];
  EXPECT_EQ(read(p.b.get(), buf, sizeof buf), 0) << "no blocking after SHUT_RD";
  // The peer sees the shutdown as a closed reader.
  errno = 0;
  EXPECT_EQ(send(p.a.get(), "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(UnixSocketTest, ShutdownOfAnUnconnectedSocket) {
  // Linux: AF_UNIX allows shutdown() on any socket, connected or not
  // (no ENOTCONN), but still checks `how`.
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    Fd fd = Socket(type);
    EXPECT_EQ(shutdown(fd.get(), SHUT_RDWR), 0) << "type " << type << ": " << strerror(errno);
    errno = 0;
    EXPECT_EQ(shutdown(fd.get(), 5), -1) << "type " << type;
    EXPECT_EQ(errno, EINVAL) << "type " << type;
  }
}

TEST(UnixSocketTest, ClosingWithUnreadDataResetsThePeer) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(write(p.a.get(), "unread", 6), 6);  // left in b's queue
  ASSERT_EQ(write(p.b.get(), "zz", 2), 2);      // for a to read later
  p.b.reset();
  char buf[8];
  // Linux: the survivor first reads what was queued for it, then gets
  // ECONNRESET once, then end of file.
  EXPECT_EQ(read(p.a.get(), buf, sizeof buf), 2);
  errno = 0;
  EXPECT_EQ(read(p.a.get(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(read(p.a.get(), buf, sizeof buf), 0);
}

TEST(UnixSocketTest, ClosingWithNothingUnreadIsAPlainEof) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  char buf[8];
  ASSERT_EQ(write(p.a.get(), "read", 4), 4);
  ASSERT_EQ(read(p.b.get(), buf, sizeof buf), 4);
  p.b.reset();
  EXPECT_EQ(read(p.a.get(), buf, sizeof buf), 0) << "no ECONNRESET: b had read everything";
}

// ---------------------------------------------------------------------------
// Message boundaries

TEST(UnixSocketTest, SeqpacketKeepsMessageBoundaries) {
  Addr a = AbstractAddr(UniqueName());
  Fd server = ListeningSocket(SOCK_SEQPACKET, a);
  ASSERT_TRUE(server.ok()) << strerror(errno);
  Fd client = ConnectedSocket(SOCK_SEQPACKET, a);
  ASSERT_TRUE(client.ok()) << strerror(errno);
  Fd conn(accept(server.get(), nullptr, nullptr));
  ASSERT_TRUE(conn.ok()) << strerror(errno);
  ASSERT_EQ(send(client.get(), "first", 5, 0), 5);
  ASSERT_EQ(send(client.get(), "second", 6, 0), 6);
  ASSERT_EQ(send(client.get(), "", 0, 0), 0) << "an empty record";
  char buf[64];
  ASSERT_EQ(recv(conn.get(), buf, sizeof buf, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "first");
  ASSERT_EQ(recv(conn.get(), buf, sizeof buf, 0), 6);
  EXPECT_EQ(std::string(buf, 6), "second");
  EXPECT_EQ(recv(conn.get(), buf, sizeof buf, MSG_DONTWAIT), 0) << "the empty record";
  errno = 0;
  EXPECT_EQ(recv(conn.get(), buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN) << "and then nothing";
}

TEST(UnixSocketTest, DgramKeepsMessageBoundaries) {
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(send(p.a.get(), "one", 3, 0), 3);
  ASSERT_EQ(send(p.a.get(), "two!", 4, 0), 4);
  char buf[64];
  ASSERT_EQ(recv(p.b.get(), buf, sizeof buf, 0), 3);
  EXPECT_EQ(std::string(buf, 3), "one");
  ASSERT_EQ(recv(p.b.get(), buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "two!");
}

TEST(UnixSocketTest, StreamMergesWrites) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(write(p.a.get(), "one", 3), 3);
  ASSERT_EQ(write(p.a.get(), "two", 3), 3);
  // Linux hands both writes to one large enough read.
  char buf[64];
  ASSERT_EQ(read(p.b.get(), buf, sizeof buf), 6);
  EXPECT_EQ(std::string(buf, 6), "onetwo");
}

// ---------------------------------------------------------------------------
// Datagram addressing

TEST(UnixSocketTest, DgramSendtoAPathAndRecvfromTheSendersPath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr ra = PathAddr(dir.Child("receiver"));
  Fd receiver = BoundSocket(SOCK_DGRAM, ra);
  ASSERT_TRUE(receiver.ok());
  Addr sa = PathAddr(dir.Child("sender"));
  Fd sender = BoundSocket(SOCK_DGRAM, sa);
  ASSERT_TRUE(sender.ok());
  ASSERT_EQ(sendto(sender.get(), "dgram", 5, 0, ra.sa(), ra.len), 5) << strerror(errno);
  Addr from;
  from.len = sizeof from.sun;
  char buf[16];
  ASSERT_EQ(recvfrom(receiver.get(), buf, sizeof buf, 0, from.sa(), &from.len), 5);
  EXPECT_EQ(std::string(buf, 5), "dgram");
  EXPECT_EQ(from.len, sa.len);
  EXPECT_EQ(from.Name(), sa.Name());
  // Reply to the address recvfrom gave.
  ASSERT_EQ(sendto(receiver.get(), "back", 4, 0, from.sa(), from.len), 4) << strerror(errno);
  EXPECT_EQ(recv(sender.get(), buf, sizeof buf, 0), 4);
}

TEST(UnixSocketTest, RecvfromAnUnboundSenderHasLengthZero) {
  Addr ra = AbstractAddr(UniqueName());
  Fd receiver = BoundSocket(SOCK_DGRAM, ra);
  ASSERT_TRUE(receiver.ok());
  Fd sender = Socket(SOCK_DGRAM);
  ASSERT_EQ(sendto(sender.get(), "anon", 4, 0, ra.sa(), ra.len), 4) << strerror(errno);
  struct sockaddr_un from;
  socklen_t len = sizeof from;
  char buf[8];
  ASSERT_EQ(
      recvfrom(receiver.get(), buf, sizeof buf, 0, reinterpret_cast<struct sockaddr*>(&from), &len),
      4);
  // Linux: no address at all (not even the family) for an unnamed sender.
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(SockName(sender.get()).len, kFamilyLen) << "sending did not bind the sender";
}

TEST(UnixSocketTest, ConnectedDgramSendsWithoutAnAddress) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr ra = PathAddr(dir.Child("receiver"));
  Fd receiver = BoundSocket(SOCK_DGRAM, ra);
  ASSERT_TRUE(receiver.ok());
  Fd sender = ConnectedSocket(SOCK_DGRAM, ra);
  ASSERT_TRUE(sender.ok()) << strerror(errno);
  Addr peer = PeerName(sender.get());
  EXPECT_EQ(peer.len, ra.len);
  EXPECT_EQ(peer.Name(), ra.Name());
  ASSERT_EQ(send(sender.get(), "conn", 4, 0), 4) << strerror(errno);
  ASSERT_EQ(write(sender.get(), "ected", 5), 5) << strerror(errno);
  char buf[16];
  ASSERT_EQ(recv(receiver.get(), buf, sizeof buf, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "conn");
  ASSERT_EQ(recv(receiver.get(), buf, sizeof buf, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "ected");
}

TEST(UnixSocketTest, UnconnectedDgramSendWithoutAnAddressIsEnotconn) {
  Fd fd = Socket(SOCK_DGRAM);
  errno = 0;
  EXPECT_EQ(send(fd.get(), "x", 1, 0), -1);
  EXPECT_EQ(errno, ENOTCONN);
  errno = 0;
  EXPECT_EQ(write(fd.get(), "x", 1), -1);
  EXPECT_EQ(errno, ENOTCONN);
}

TEST(UnixSocketTest, UnconnectedStreamErrors) {
  // Linux: sending on an unconnected stream socket is ENOTCONN, but
  // receiving is EINVAL (a seqpacket socket says ENOTCONN for both).
  Fd stream = Socket(SOCK_STREAM);
  char b;
  errno = 0;
  EXPECT_EQ(send(stream.get(), "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, ENOTCONN);
  errno = 0;
  EXPECT_EQ(recv(stream.get(), &b, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EINVAL);
  Fd seq = Socket(SOCK_SEQPACKET);
  errno = 0;
  EXPECT_EQ(send(seq.get(), "x", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, ENOTCONN);
  errno = 0;
  EXPECT_EQ(recv(seq.get(), &b, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, ENOTCONN);
}

TEST(UnixSocketTest, DgramSendToAClosedPeerIsEconnrefused) {
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  p.b.reset();
  // Linux: the first send notices the dead peer and disconnects...
  errno = 0;
  EXPECT_EQ(send(p.a.get(), "x", 1, 0), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  // ...so the next one has no peer at all.
  errno = 0;
  EXPECT_EQ(send(p.a.get(), "x", 1, 0), -1);
  EXPECT_EQ(errno, ENOTCONN);
}

TEST(UnixSocketTest, DgramSendtoAClosedPathIsEconnrefused) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Addr ra = PathAddr(dir.Child("gone"));
  Fd receiver = BoundSocket(SOCK_DGRAM, ra);
  ASSERT_TRUE(receiver.ok());
  receiver.reset();  // the node stays, nobody behind it
  Fd sender = Socket(SOCK_DGRAM);
  errno = 0;
  EXPECT_EQ(sendto(sender.get(), "x", 1, 0, ra.sa(), ra.len), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
}

// ---------------------------------------------------------------------------
// Socket options

TEST(UnixSocketTest, SndbufAndRcvbufAreDoubled) {
  Fd fd = Socket(SOCK_STREAM);
  for (int n : {8192, 65536}) {
    ASSERT_TRUE(SetIntOpt(fd.get(), SO_SNDBUF, n)) << strerror(errno);
    EXPECT_EQ(GetIntOpt(fd.get(), SO_SNDBUF), 2 * n) << "socket(7): the kernel doubles it";
    ASSERT_TRUE(SetIntOpt(fd.get(), SO_RCVBUF, n)) << strerror(errno);
    EXPECT_EQ(GetIntOpt(fd.get(), SO_RCVBUF), 2 * n);
  }
  EXPECT_GT(GetIntOpt(fd.get(), SO_SNDBUF), 0);
}

TEST(UnixSocketTest, TinyBufferSizesAreRaisedToAMinimum) {
  Fd fd = Socket(SOCK_DGRAM);
  ASSERT_TRUE(SetIntOpt(fd.get(), SO_SNDBUF, 1)) << strerror(errno);
  ASSERT_TRUE(SetIntOpt(fd.get(), SO_RCVBUF, 1)) << strerror(errno);
  // Linux's minima are 2 KiB plus per-packet overhead (SOCK_MIN_SNDBUF is
  // twice that): certainly more than twice the 1 asked for.
  EXPECT_GE(GetIntOpt(fd.get(), SO_SNDBUF), 2048);
  EXPECT_GE(GetIntOpt(fd.get(), SO_RCVBUF), 2048);
}

TEST(UnixSocketTest, TypeDomainAndProtocolOptions) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    Fd fd = Socket(type);
    EXPECT_EQ(GetIntOpt(fd.get(), SO_TYPE), type);
    EXPECT_EQ(GetIntOpt(fd.get(), SO_DOMAIN), AF_UNIX);
    EXPECT_EQ(GetIntOpt(fd.get(), SO_PROTOCOL), 0);
    errno = 0;
    EXPECT_FALSE(SetIntOpt(fd.get(), SO_TYPE, SOCK_DGRAM)) << "SO_TYPE is read-only";
    EXPECT_EQ(errno, ENOPROTOOPT);
  }
}

TEST(UnixSocketTest, SoAcceptconnIsSetByListen) {
  Fd fd = BoundSocket(SOCK_STREAM, AbstractAddr(UniqueName()));
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(GetIntOpt(fd.get(), SO_ACCEPTCONN), 0);
  ASSERT_EQ(listen(fd.get(), 1), 0);
  EXPECT_EQ(GetIntOpt(fd.get(), SO_ACCEPTCONN), 1);
  Fd dgram = Socket(SOCK_DGRAM);
  EXPECT_EQ(GetIntOpt(dgram.get(), SO_ACCEPTCONN), 0);
}

// ---------------------------------------------------------------------------
// ioctls

TEST(UnixSocketTest, FionreadOnAStreamCountsAllQueuedBytes) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  int n = -1;
  ASSERT_EQ(ioctl(p.b.get(), FIONREAD, &n), 0) << strerror(errno);
  EXPECT_EQ(n, 0);
  ASSERT_EQ(write(p.a.get(), "0123456789", 10), 10);
  ASSERT_EQ(write(p.a.get(), "abc", 3), 3);
  ASSERT_EQ(ioctl(p.b.get(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 13);
  ASSERT_EQ(ioctl(p.b.get(), SIOCINQ, &n), 0);
  EXPECT_EQ(n, 13) << "SIOCINQ is FIONREAD";
  char buf[4];
  ASSERT_EQ(read(p.b.get(), buf, 4), 4);
  ASSERT_EQ(ioctl(p.b.get(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 9);
}

TEST(UnixSocketTest, FionreadOnMessagesSocketsDiffers) {
  // Linux: for SOCK_DGRAM it is the size of the next datagram; for
  // SOCK_SEQPACKET the total of all queued records.
  SocketPair d = MakePair(SOCK_DGRAM);
  SocketPair s = MakePair(SOCK_SEQPACKET);
  ASSERT_TRUE(d.ok() && s.ok());
  for (int fd : {d.a.get(), s.a.get()}) {
    ASSERT_EQ(write(fd, "0123456789", 10), 10);
    ASSERT_EQ(write(fd, "abc", 3), 3);
  }
  int n = -1;
  ASSERT_EQ(ioctl(d.b.get(), FIONREAD, &n), 0) << strerror(errno);
  EXPECT_EQ(n, 10);
  ASSERT_EQ(ioctl(s.b.get(), FIONREAD, &n), 0) << strerror(errno);
  EXPECT_EQ(n, 13);
  char buf[16];
  ASSERT_EQ(read(d.b.get(), buf, sizeof buf), 10);
  ASSERT_EQ(ioctl(d.b.get(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 3);
}

TEST(UnixSocketTest, FionreadOnAListeningSocketIsEinval) {
  Fd fd = ListeningSocket(SOCK_STREAM, AbstractAddr(UniqueName()));
  ASSERT_TRUE(fd.ok());
  int n = -1;
  errno = 0;
  EXPECT_EQ(ioctl(fd.get(), FIONREAD, &n), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(UnixSocketTest, SiocoutqCountsUnreadSentData) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok());
    int n = -1;
    ASSERT_EQ(ioctl(p.a.get(), SIOCOUTQ, &n), 0) << strerror(errno);
    EXPECT_EQ(n, 0) << "type " << type;
    ASSERT_EQ(write(p.a.get(), "0123456789", 10), 10);
    ASSERT_EQ(ioctl(p.a.get(), SIOCOUTQ, &n), 0);
    // Linux counts the memory charged to the sender (data plus buffer
    // overhead), so only a lower bound is certain.
    EXPECT_GE(n, 10) << "type " << type;
    char buf[16];
    ASSERT_EQ(read(p.b.get(), buf, sizeof buf), 10);
    ASSERT_EQ(ioctl(p.a.get(), SIOCOUTQ, &n), 0);
    EXPECT_EQ(n, 0) << "type " << type << ": all read";
  }
}

// ---------------------------------------------------------------------------
// poll, epoll and select

TEST(UnixSocketTest, PollInWhenDataArrives) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Revents(p.b.get(), POLLIN), 0);
  ASSERT_EQ(write(p.a.get(), "x", 1), 1);
  EXPECT_EQ(Revents(p.b.get(), POLLIN), POLLIN);
  char c;
  ASSERT_EQ(read(p.b.get(), &c, 1), 1);
  EXPECT_EQ(Revents(p.b.get(), POLLIN), 0);
}

TEST(UnixSocketTest, PollInWakesABlockedPoller) {
  SocketPair p = MakePair(SOCK_DGRAM);
  ASSERT_TRUE(p.ok());
  pid_t pid = WriteLater(p.a.get(), 100, "w");
  ASSERT_GT(pid, 0);
  struct pollfd pfd = {p.b.get(), POLLIN, 0};
  int r;
  do {
    r = poll(&pfd, 1, 30000);
  } while (r < 0 && errno == EINTR);
  EXPECT_EQ(r, 1);
  EXPECT_EQ(pfd.revents, POLLIN);
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(UnixSocketTest, PollOutOnAFreshSocketpair) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(Revents(p.a.get(), POLLIN | POLLOUT), POLLOUT) << "type " << type;
    EXPECT_EQ(Revents(p.b.get(), POLLIN | POLLOUT), POLLOUT) << "type " << type;
  }
}

TEST(UnixSocketTest, PollHupAndRdhupAfterThePeerCloses) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok());
    p.b.reset();
    short ev = Revents(p.a.get(), POLLIN | POLLRDHUP);
    EXPECT_NE(ev & POLLHUP, 0) << "type " << type << " revents " << std::hex << ev;
    EXPECT_NE(ev & POLLRDHUP, 0) << "type " << type << " revents " << std::hex << ev;
    EXPECT_NE(ev & POLLIN, 0) << "type " << type << ": a read would not block";
    EXPECT_EQ(ev & POLLERR, 0) << "type " << type << " revents " << std::hex << ev;
  }
}

TEST(UnixSocketTest, EpollRdhupAfterPeerShutdownWr) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  Fd ep(epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(ep.ok());
  struct epoll_event ev = {};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = p.b.get();
  ASSERT_EQ(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.b.get(), &ev), 0);
  struct epoll_event out = {};
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 0);
  ASSERT_EQ(shutdown(p.a.get(), SHUT_WR), 0);
  ASSERT_EQ(epoll_wait(ep.get(), &out, 1, 0), 1);
  EXPECT_EQ(out.data.fd, p.b.get());
  EXPECT_NE(out.events & EPOLLRDHUP, 0u) << std::hex << out.events;
  EXPECT_NE(out.events & EPOLLIN, 0u) << std::hex << out.events;
  EXPECT_EQ(out.events & EPOLLHUP, 0u) << "only half closed: " << std::hex << out.events;
  // Once the peer closes completely it is a hangup.
  p.a.reset();
  ASSERT_EQ(epoll_wait(ep.get(), &out, 1, 0), 1);
  EXPECT_NE(out.events & EPOLLHUP, 0u) << std::hex << out.events;
}

TEST(UnixSocketTest, EpollEdgeTriggeredReportsEachChangeOnce) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  Fd ep(epoll_create1(0));
  ASSERT_TRUE(ep.ok());
  struct epoll_event ev = {};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ev.data.u32 = 7;
  ASSERT_EQ(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.b.get(), &ev), 0);
  struct epoll_event out = {};
  ASSERT_EQ(epoll_wait(ep.get(), &out, 1, 0), 1) << "writable from the start";
  EXPECT_EQ(out.events, static_cast<uint32_t>(EPOLLOUT));
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 0) << "edge-triggered: reported once";

  ASSERT_EQ(write(p.a.get(), "data", 4), 4);
  ASSERT_EQ(epoll_wait(ep.get(), &out, 1, 0), 1) << "new data is a new edge";
  EXPECT_EQ(out.data.u32, 7u);
  EXPECT_NE(out.events & EPOLLIN, 0u);
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 0) << "unread data is not reported again";

  ASSERT_EQ(write(p.a.get(), "more", 4), 4);
  ASSERT_EQ(epoll_wait(ep.get(), &out, 1, 0), 1) << "more data, another edge";
  EXPECT_NE(out.events & EPOLLIN, 0u);
  EXPECT_EQ(epoll_wait(ep.get(), &out, 1, 0), 0);
}

TEST(UnixSocketTest, ListeningSocketIsReadableWhenAClientConnects) {
  Addr a = AbstractAddr(UniqueName());
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(Revents(server.get(), POLLIN), 0);
  Fd client = ConnectedSocket(SOCK_STREAM, a);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(Revents(server.get(), POLLIN), POLLIN);
  Fd conn(accept(server.get(), nullptr, nullptr));
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(Revents(server.get(), POLLIN), 0) << "nothing left to accept";
}

TEST(UnixSocketTest, SelectSeesReadableAndWritableSockets) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  int fd = p.b.get();
  ASSERT_LT(fd, FD_SETSIZE);
  fd_set rd, wr;
  FD_ZERO(&rd);
  FD_SET(fd, &rd);
  struct timeval zero = {0, 0};
  EXPECT_EQ(select(fd + 1, &rd, nullptr, nullptr, &zero), 0);
  ASSERT_EQ(write(p.a.get(), "s", 1), 1);
  FD_ZERO(&rd);
  FD_SET(fd, &rd);
  FD_ZERO(&wr);
  FD_SET(fd, &wr);
  zero = {0, 0};
  EXPECT_EQ(select(fd + 1, &rd, &wr, nullptr, &zero), 2);
  EXPECT_TRUE(FD_ISSET(fd, &rd));
  EXPECT_TRUE(FD_ISSET(fd, &wr));
}

// ---------------------------------------------------------------------------
// Blocking receives, signals and SO_RCVTIMEO

TEST(UnixSocketTest, BlockingRecvInterruptedWithoutSaRestartIsEintr) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  // If recv were wrongly restarted it would wait for this late byte and
  // fail the test instead of hanging.
  pid_t backstop = WriteLater(p.a.get(), 5000, "b");
  ASSERT_GT(backstop, 0);
  ssize_t n;
  int err;
  {
    RepeatingAlarm alarm(false, 20 * 1000);
    ASSERT_TRUE(alarm.ok());
    char c;
    n = recv(p.b.get(), &c, 1, 0);
    err = errno;
  }
  KillAndReap(backstop);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EINTR) << strerror(err);
  EXPECT_GE(g_signals.load(), 1);
}

TEST(UnixSocketTest, BlockingRecvWithSaRestartContinuesAndGetsTheData) {
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  RepeatingAlarm alarm(true, 10 * 1000);
  ASSERT_TRUE(alarm.ok());
  pid_t pid = WriteLater(p.a.get(), 300, "late");
  ASSERT_GT(pid, 0);
  char buf[8];
  ssize_t n = recv(p.b.get(), buf, sizeof buf, 0);
  int err = errno;
  alarm.Stop();
  EXPECT_EQ(n, 4) << strerror(err);
  EXPECT_EQ(std::string(buf, 4), "late");
  EXPECT_GE(g_signals.load(), 1) << "signals arrived while recv waited";
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(UnixSocketTest, SoRcvtimeoMakesRecvFailWithEagain) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    SocketPair p = MakePair(type);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(SetRcvTimeout(p.b.get(), 100 * 1000)) << strerror(errno);
    struct timeval tv = {};
    socklen_t len = sizeof tv;
    ASSERT_EQ(getsockopt(p.b.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
    EXPECT_EQ(tv.tv_sec, 0);
    EXPECT_EQ(tv.tv_usec, 100000);
    char c;
    errno = 0;
    EXPECT_EQ(recv(p.b.get(), &c, 1, 0), -1) << "type " << type;
    EXPECT_EQ(errno, EAGAIN) << "type " << type;
  }
}

TEST(UnixSocketTest, SoRcvtimeoRecvIsNotRestartedAfterASignal) {
  // signal(7): socket calls with a timeout set by SO_RCVTIMEO fail with
  // EINTR after a handler runs, even with SA_RESTART.
  SocketPair p = MakePair(SOCK_STREAM);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(SetRcvTimeout(p.b.get(), 5 * 1000 * 1000));
  ssize_t n;
  int err;
  {
    RepeatingAlarm alarm(true, 20 * 1000);
    ASSERT_TRUE(alarm.ok());
    char c;
    n = recv(p.b.get(), &c, 1, 0);
    err = errno;
  }
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EINTR) << strerror(err);
  EXPECT_GE(g_signals.load(), 1);
}

TEST(UnixSocketTest, BlockingAcceptInterruptedWithoutSaRestartIsEintr) {
  Addr a = AbstractAddr(UniqueName());
  Fd server = ListeningSocket(SOCK_STREAM, a);
  ASSERT_TRUE(server.ok());
  // A late client keeps a wrongly restarted accept from hanging.
  pid_t backstop = ForkChild([&] {
    usleep(5000 * 1000);
    Fd c = ConnectedSocket(SOCK_STREAM, a);
    return 0;
  });
  ASSERT_GT(backstop, 0);
  int r;
  int err;
  {
    RepeatingAlarm alarm(false, 20 * 1000);
    ASSERT_TRUE(alarm.ok());
    r = accept(server.get(), nullptr, nullptr);
    err = errno;
  }
  KillAndReap(backstop);
  if (r >= 0) close(r);
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, EINTR) << strerror(err);
}

// ---------------------------------------------------------------------------
// /proc/net/unix

// The /proc/net/unix line of the socket with inode `ino`, split in fields.
bool ProcNetUnixEntry(ino_t ino, std::vector<std::string>* fields, bool* missing) {
  std::ifstream in("/proc/net/unix");
  *missing = !in.is_open();
  if (!in.is_open()) return false;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> f;
    std::string word;
    while (ls >> word) f.push_back(word);
    // Num RefCount Protocol Flags Type St Inode [Path]
    if (f.size() >= 7 && f[6] == std::to_string(static_cast<unsigned long>(ino))) {
      *fields = f;
      return true;
    }
  }
  return false;
}

bool InSandbox() { return getenv("SYSCALL_TEST_SANDBOX") != nullptr; }

TEST(UnixSocketTest, ProcNetUnixListsABoundSocket) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.Child("listed");
  Fd fd = ListeningSocket(SOCK_STREAM, PathAddr(path));
  ASSERT_TRUE(fd.ok());
  struct stat st;
  ASSERT_EQ(fstat(fd.get(), &st), 0);
  std::vector<std::string> f;
  bool missing = false;
  bool found = ProcNetUnixEntry(st.st_ino, &f, &missing);
  if (missing && !InSandbox()) GTEST_SKIP() << "this kernel has no /proc/net/unix";
  ASSERT_FALSE(missing) << "/proc/net/unix is missing";
  ASSERT_TRUE(found) << "no line for inode " << st.st_ino;
  ASSERT_EQ(f.size(), 8u);
  EXPECT_EQ(f[7], path);
  EXPECT_EQ(f[3], "00010000") << "Flags: __SO_ACCEPTCON for a listener";
  EXPECT_EQ(f[4], "0001") << "Type: SOCK_STREAM";
  EXPECT_EQ(f[5], "01") << "St: SS_UNCONNECTED";
}

TEST(UnixSocketTest, ProcNetUnixShowsAbstractNamesWithAnAt) {
  std::string name = UniqueName();
  Fd fd = BoundSocket(SOCK_DGRAM, AbstractAddr(name));
  ASSERT_TRUE(fd.ok());
  struct stat st;
  ASSERT_EQ(fstat(fd.get(), &st), 0);
  std::vector<std::string> f;
  bool missing = false;
  bool found = ProcNetUnixEntry(st.st_ino, &f, &missing);
  if (missing && !InSandbox()) GTEST_SKIP() << "this kernel has no /proc/net/unix";
  ASSERT_FALSE(missing) << "/proc/net/unix is missing";
  ASSERT_TRUE(found) << "no line for inode " << st.st_ino;
  ASSERT_EQ(f.size(), 8u);
  EXPECT_EQ(f[7], "@" + name);
  EXPECT_EQ(f[4], "0002") << "Type: SOCK_DGRAM";
}

}  // namespace
}  // namespace syscall_test
