// socket_fuzz: throws malformed arguments at the socket calls, the way an
// attacker inside the sandbox would: lying lengths, garbage addresses and
// control messages, unmapped pointers, closed FDs, random netlink bytes,
// FDs in flight by the thousand. Every call must come back with a result
// or an errno; the test is that the program (and the Sentry under it)
// survives and still works afterwards. Deterministic (fixed seed).
// Inet addresses are always forced to 127.0.0.1: no traffic leaves.
// Usage: socket_fuzz [ITERATIONS [SEED]]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}
static uint64_t pick(uint64_t n) { return rnd() % n; }

static uint8_t buf[70000];
static void* bad_ptr;  // an unmapped page

// A length an attacker would try.
static socklen_t any_len(void) {
  static const socklen_t lens[] = {0, 1, 2, 3, 15, 16, 27, 28, 110, 111, 112, 128, 129, 4096, 0x7fffffff, 0xffffffff};
  return lens[pick(sizeof(lens) / sizeof(lens[0]))];
}

static void* any_ptr(void) {
  switch (pick(4)) {
    case 0: return NULL;
    case 1: return bad_ptr;
    default: return buf;
  }
}

// Random bytes for an address, with inet ones pointed at loopback.
static void fill_address(int family_hint) {
  for (int i = 0; i < 256; ++i) buf[i] = (uint8_t)rnd();
  int family = pick(3) == 0 ? (int)(rnd() & 0xffff) : family_hint;
  ((struct sockaddr*)buf)->sa_family = (sa_family_t)family;
  if (family == AF_INET || family == AF_INET6) {
    struct sockaddr_in* in = (struct sockaddr_in*)buf;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  if (family == AF_UNIX && pick(2)) {
    struct sockaddr_un* un = (struct sockaddr_un*)buf;
    snprintf(un->sun_path, sizeof(un->sun_path), "/tmp/socket-fuzz-%d-%d", getpid(), (int)pick(4));
  }
}

// A control buffer of cmsgs, some well formed, some lying.
static size_t fill_control(uint8_t* ctl, size_t room, int fd_hint) {
  size_t at = 0;
  while (at + sizeof(struct cmsghdr) + 16 <= room && pick(3)) {
    struct cmsghdr* h = (struct cmsghdr*)(ctl + at);
    size_t nfds = pick(6);
    h->cmsg_level = pick(4) ? SOL_SOCKET : (int)rnd();
    h->cmsg_type = pick(2) ? SCM_RIGHTS : (pick(2) ? SCM_CREDENTIALS : (int)rnd());
    h->cmsg_len = pick(5) ? CMSG_LEN(nfds * sizeof(int)) : (size_t)rnd();
    int* fds = (int*)CMSG_DATA(h);
    for (size_t i = 0; i < nfds && (uint8_t*)(fds + i + 1) <= ctl + room; ++i) {
      fds[i] = pick(3) ? fd_hint : (int)rnd();
    }
    at += CMSG_SPACE(nfds * sizeof(int));
  }
  return at;
}

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? atol(argv[1]) : 20000;
  if (argc > 2) state ^= strtoull(argv[2], NULL, 0) * 0x2545f4914f6cdd1dull;
  signal(SIGPIPE, SIG_IGN);
  bad_ptr = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static const int families[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNSPEC, 12345};
  static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, 0, 99};
  int fds[16];
  for (int i = 0; i < 16; ++i) fds[i] = -1;
  for (long it = 0; it < iterations; ++it) {
    int slot = (int)pick(16);
    int fd = fds[slot] >= 0 && pick(8) ? fds[slot] : (int)pick(64);
    int family = families[pick(sizeof(families) / sizeof(families[0]))];
    switch (pick(14)) {
      case 0: {
        if (fds[slot] >= 0) close(fds[slot]);
        int type = types[pick(sizeof(types) / sizeof(types[0]))] | SOCK_NONBLOCK | (pick(2) ? SOCK_CLOEXEC : 0);
        int proto = pick(3) ? 0 : (family == AF_NETLINK ? NETLINK_ROUTE : (int)pick(300));
        fds[slot] = socket(family, type, proto);
        break;
      }
      case 1: {
        int sv[2];
        if (socketpair(AF_UNIX, types[pick(3)] | SOCK_NONBLOCK, 0, sv) == 0) {
          if (fds[slot] >= 0) close(fds[slot]);
          fds[slot] = sv[0];
          int other = (slot + 1) % 16;
          if (fds[other] >= 0) close(fds[other]);
          fds[other] = sv[1];
        }
        break;
      }
      case 2: fill_address(family); bind(fd, pick(8) ? (struct sockaddr*)buf : any_ptr(), any_len()); break;
      case 3: fill_address(family); connect(fd, pick(8) ? (struct sockaddr*)buf : any_ptr(), any_len()); break;
      case 4: listen(fd, (int)rnd()); break;
      case 5: {
        socklen_t len = any_len();
        accept4(fd, any_ptr(), pick(2) ? &len : any_ptr(), pick(2) ? SOCK_NONBLOCK : (int)rnd());
        break;
      }
      case 6: {
        socklen_t len = any_len();
        if (pick(2)) getsockname(fd, any_ptr(), pick(2) ? &len : any_ptr());
        else getpeername(fd, any_ptr(), pick(2) ? &len : any_ptr());
        break;
      }
      case 7: {
        socklen_t len = any_len();
        int level = pick(2) ? SOL_SOCKET : (int)pick(300);
        if (pick(2)) setsockopt(fd, level, (int)pick(80), any_ptr(), any_len());
        else getsockopt(fd, level, (int)pick(80), any_ptr(), pick(2) ? &len : any_ptr());
        break;
      }
      case 8:
      case 9: {
        struct iovec iov[3] = {{buf, pick(70000)}, {any_ptr(), pick(100)}, {buf, pick(10)}};
        static uint8_t ctl[4096];
        struct msghdr m = {0};
        fill_address(family);
        m.msg_name = pick(3) ? NULL : buf + 60000;
        memcpy(buf + 60000, buf, 256);
        m.msg_namelen = any_len();
        m.msg_iov = pick(8) ? iov : any_ptr();
        m.msg_iovlen = pick(8) ? 1 + pick(3) : (size_t)rnd();
        m.msg_control = pick(2) ? ctl : any_ptr();
        m.msg_controllen = pick(4) ? fill_control(ctl, sizeof(ctl), fds[pick(16)]) : (size_t)rnd();
        int flags = (int)(pick(2) ? MSG_DONTWAIT | MSG_NOSIGNAL : (rnd() | MSG_DONTWAIT));
        if (pick(2)) sendmsg(fd, &m, flags);
        else recvmsg(fd, &m, flags | MSG_DONTWAIT);
        break;
      }
      case 10: {
        // Random bytes to a netlink socket: the Sentry's own parser.
        size_t n = pick(512);
        for (size_t i = 0; i < n; ++i) buf[i] = (uint8_t)rnd();
        if (n >= 16 && pick(2)) {
          struct nlmsghdr* h = (struct nlmsghdr*)buf;
          h->nlmsg_len = (uint32_t)(pick(2) ? n : rnd());
          h->nlmsg_type = (uint16_t)(16 + pick(80));
        }
        send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        break;
      }
      case 11: {
        struct mmsghdr mm[4];
        memset(mm, 0, sizeof(mm));
        struct iovec iov = {buf, pick(1000)};
        for (int i = 0; i < 4; ++i) mm[i].msg_hdr.msg_iov = &iov, mm[i].msg_hdr.msg_iovlen = 1;
        if (pick(2)) sendmmsg(fd, pick(4) ? mm : any_ptr(), (unsigned)pick(2000), MSG_DONTWAIT | MSG_NOSIGNAL);
        else recvmmsg(fd, pick(4) ? mm : any_ptr(), (unsigned)pick(2000), MSG_DONTWAIT, NULL);
        break;
      }
      case 12: ioctl(fd, pick(2) ? FIONREAD : (unsigned long)(0x8900 + pick(0x50)), any_ptr()); break;
      case 13: shutdown(fd, (int)pick(5)); break;
    }
  }
  // Thousands of FDs in flight on one pair, then everything closed.
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) != 0) return 1;
  int sent = 0;
  for (int i = 0; i < 2000; ++i) {
    uint8_t ctl[CMSG_SPACE(253 * sizeof(int))];
    struct msghdr m = {0};
    struct iovec iov = {buf, 1};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof(ctl);
    struct cmsghdr* h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(253 * sizeof(int));
    for (int k = 0; k < 253; ++k) ((int*)CMSG_DATA(h))[k] = sv[k % 2];
    if (sendmsg(sv[0], &m, MSG_DONTWAIT) < 0) break;
    sent += 253;
  }
  for (int i = 0; i < 16; ++i) if (fds[i] >= 0) close(fds[i]);
  close(sv[0]);
  close(sv[1]);
  // Still working: a socketpair carries a message.
  int check[2];
  char got[8] = {0};
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, check) != 0 || write(check[0], "alive", 5) != 5 ||
      read(check[1], got, sizeof(got)) != 5 || memcmp(got, "alive", 5) != 0) {
    fprintf(stderr, "socket_fuzz: sockets no longer work\n");
    return 1;
  }
  printf("socket_fuzz: %ld calls, %d FDs in flight at once, still working\n", iterations, sent);
  return 0;
}
