// Unix98 pseudo-terminals, from pty(7), posix_openpt(3), grantpt(3),
// unlockpt(3), ptsname(3), termios(3) and ioctl_tty(2): the ptmx/devpts
// pair (locking, the pts/N node, TIOCGPTPEER), the N_TTY line discipline of
// the slave (canonical editing, echo, output processing, raw mode, ISIG),
// window sizes and SIGWINCH, hangup on either side's last close, poll and
// FIONREAD. Masters are opened with O_NOCTTY and no pty number is assumed;
// whatever needs a controlling terminal happens in a forked session leader.
//
// Input written to the master reaches the slave's line discipline
// asynchronously on Linux (and echoes come back the same way), so a test
// that checks that something has NOT arrived first waits for an echo or a
// marker that is ordered after it; polls wait 5 s only as a safety net.
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

constexpr int kTimeoutMs = 5000;

// A master (and, unless asked otherwise, its slave) opened as pty(7) says:
// posix_openpt, grantpt, unlockpt, ptsname, open.
struct Pty {
  int master = -1;
  int slave = -1;
  std::string name;

  Pty() = default;
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;
  ~Pty() {
    CloseSlave();
    CloseMaster();
  }
  void CloseMaster() {
    if (master >= 0) close(master);
    master = -1;
  }
  void CloseSlave() {
    if (slave >= 0) close(slave);
    slave = -1;
  }
};

::testing::AssertionResult OpenPty(Pty* p, bool open_slave = true, bool unlock = true) {
  p->master = posix_openpt(O_RDWR | O_NOCTTY);
  if (p->master < 0) return ::testing::AssertionFailure() << "posix_openpt: " << strerror(errno);
  if (grantpt(p->master) != 0) return ::testing::AssertionFailure() << "grantpt: " << strerror(errno);
  if (unlock && unlockpt(p->master) != 0) {
    return ::testing::AssertionFailure() << "unlockpt: " << strerror(errno);
  }
  char buf[128];
  if (ptsname_r(p->master, buf, sizeof buf) != 0) {
    return ::testing::AssertionFailure() << "ptsname_r: " << strerror(errno);
  }
  p->name = buf;
  if (open_slave) {
    p->slave = open(buf, O_RDWR | O_NOCTTY);
    if (p->slave < 0) return ::testing::AssertionFailure() << "open " << buf << ": " << strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

// poll() for one fd; returns revents, 0 on timeout, -1 on error.
int PollEvents(int fd, short events, int timeout_ms) {
  struct pollfd pfd = {fd, events, 0};
  int r;
  do {
    r = poll(&pfd, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  return r == 0 ? 0 : pfd.revents;
}

// Waits (safety net) until fd is readable, then does one read. Returns what
// read() returned (-1 with errno set), or -2 if nothing came in time.
ssize_t PollRead(int fd, std::string* out, size_t max = 4096) {
  if (PollEvents(fd, POLLIN, kTimeoutMs) <= 0) return -2;
  char buf[4096];
  ssize_t n;
  do {
    n = read(fd, buf, max < sizeof buf ? max : sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n > 0) out->append(buf, static_cast<size_t>(n));
  return n;
}

// One read as a string ("<timeout>", "<error ...>" or the bytes).
std::string ReadOnce(int fd) {
  std::string s;
  ssize_t n = PollRead(fd, &s);
  if (n == -2) return "<timeout>";
  if (n < 0) return std::string("<error ") + strerror(errno) + ">";
  return s;
}

// Reads until n bytes came (or a read fails / nothing comes in time).
std::string ReadBytes(int fd, size_t n) {
  std::string s;
  while (s.size() < n) {
    if (PollRead(fd, &s, n - s.size()) <= 0) break;
  }
  return s;
}

// Reads until the data ends with marker; returns everything read.
std::string ReadThrough(int fd, const std::string& marker) {
  std::string s;
  while (s.size() < marker.size() || s.compare(s.size() - marker.size(), marker.size(), marker) != 0) {
    if (PollRead(fd, &s) <= 0) break;
  }
  return s;
}

bool Put(int fd, const std::string& s) { return WriteAll(fd, s.data(), s.size()); }

// The result of a read() that must not block, and its errno.
std::pair<ssize_t, int> NonblockingRead(int fd) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  char buf[256];
  errno = 0;
  ssize_t n = read(fd, buf, sizeof buf);
  int err = errno;
  fcntl(fd, F_SETFL, flags);
  return {n, err};
}

int Inq(int fd) {
  int n = -1;
  if (ioctl(fd, FIONREAD, &n) != 0) return -1;
  return n;
}

bool SetLflag(int fd, tcflag_t flag, bool on) {
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return false;
  t.c_lflag = on ? (t.c_lflag | flag) : (t.c_lflag & ~flag);
  return tcsetattr(fd, TCSANOW, &t) == 0;
}

// The super options of the devpts mount holding the slave node: the
// /proc/self/mountinfo entry whose device is st_dev, else the last devpts
// mounted on /dev/pts; "" if there is neither.
std::string DevptsOptions(dev_t dev) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, by_dev, by_path;
  std::string want = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, devno, root, mount_point;
    ls >> id >> parent >> devno >> root >> mount_point;
    size_t sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream rest(line.substr(sep + 3));
    std::string type, source, opts;
    rest >> type >> source >> opts;
    if (type != "devpts") continue;
    if (devno == want) by_dev = "," + opts + ",";
    if (mount_point == "/dev/pts") by_path = "," + opts + ",";
  }
  return by_dev.empty() ? by_path : by_dev;
}

// The numeric value of ",key=value," in opts (mode= is octal), or def.
long Option(const std::string& opts, const std::string& key, int base, long def) {
  size_t at = opts.find("," + key + "=");
  if (at == std::string::npos) return def;
  return strtol(opts.c_str() + at + key.size() + 2, nullptr, base);
}

// pty(7): ptsname() names /dev/pts/N, N being what TIOCGPTN reports; the
// node is a character device (Unix98 slaves: majors 136-143, minor = N % 256)
// owned by the caller after grantpt(3).
TEST(Pty, PtsnameMatchesTiocgptnAndNodeIsACharDevice) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p, /*open_slave=*/false));
  unsigned int n = 0;
  ASSERT_EQ(ioctl(p.master, TIOCGPTN, &n), 0) << strerror(errno);
  EXPECT_EQ(p.name, "/dev/pts/" + std::to_string(n));
  EXPECT_STREQ(ptsname(p.master), p.name.c_str());
  struct stat st;
  ASSERT_EQ(stat(p.name.c_str(), &st), 0) << strerror(errno);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_GE(major(st.st_rdev), 136u);
  EXPECT_LE(major(st.st_rdev), 143u);
  EXPECT_EQ(major(st.st_rdev), 136u + n / 256);
  EXPECT_EQ(minor(st.st_rdev), n % 256);
  EXPECT_EQ(st.st_uid, getuid());
  // ptsname() of something that is not a master fails.
  Pipe pipe;
  ASSERT_TRUE(pipe.ok());
  EXPECT_EQ(ptsname(pipe.rd()), nullptr);
  EXPECT_EQ(errno, ENOTTY);
}

// devpts(5) mount options: a new slave node gets mode=... (0600 by default)
// and gid=... (the creator's group when absent); glibc's grantpt(3) on devpts
// changes neither, so they are what the mount says. Our sandbox mounts with
// mode=0620,gid=5; this host's /dev/pts uses mode=600 and no gid.
TEST(Pty, SlaveModeAndGroupFollowTheDevptsMount) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p, /*open_slave=*/false));
  struct stat st;
  ASSERT_EQ(stat(p.name.c_str(), &st), 0) << strerror(errno);
  std::string opts = DevptsOptions(st.st_dev);
  if (opts.empty()) GTEST_SKIP() << "no devpts entry for the slave in /proc/self/mountinfo";
  EXPECT_EQ(st.st_mode & 07777, static_cast<mode_t>(Option(opts, "mode", 8, 0600))) << opts;
  long gid = Option(opts, "gid", 10, -1);
  if (gid >= 0) {
    EXPECT_EQ(st.st_gid, static_cast<gid_t>(gid)) << opts;
  } else {
    EXPECT_EQ(st.st_gid, getegid()) << "no gid= option: the creator's group; " << opts;
  }
}

// unlockpt(3): the slave cannot be opened (EIO) while the pty is locked, as
// it is after posix_openpt; TIOCGPTLCK reads the lock and TIOCSPTLCK sets it.
TEST(Pty, SlaveIsLockedUntilUnlockpt) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p, /*open_slave=*/false, /*unlock=*/false));
  int locked = -1;
  ASSERT_EQ(ioctl(p.master, TIOCGPTLCK, &locked), 0) << strerror(errno);
  EXPECT_EQ(locked, 1);
  EXPECT_EQ(open(p.name.c_str(), O_RDWR | O_NOCTTY), -1);
  EXPECT_EQ(errno, EIO);

  int zero = 0;
  ASSERT_EQ(ioctl(p.master, TIOCSPTLCK, &zero), 0) << strerror(errno);
  ASSERT_EQ(ioctl(p.master, TIOCGPTLCK, &locked), 0);
  EXPECT_EQ(locked, 0);
  int fd = open(p.name.c_str(), O_RDWR | O_NOCTTY);
  EXPECT_GE(fd, 0) << strerror(errno);
  if (fd >= 0) close(fd);

  // Locking again refuses new opens once more.
  int one = 1;
  ASSERT_EQ(ioctl(p.master, TIOCSPTLCK, &one), 0);
  EXPECT_EQ(open(p.name.c_str(), O_RDWR | O_NOCTTY), -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_EQ(unlockpt(p.master), 0);
  ASSERT_EQ(ioctl(p.master, TIOCGPTLCK, &locked), 0);
  EXPECT_EQ(locked, 0);
}

// The errno of stat(pts/N) just after the master closed (0 if it kept
// succeeding). Linux hands out the lowest free number, so a concurrent
// process may get the same name at once: a still-present name is retried.
int StatErrnoAfterMasterClose(bool open_slave) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    Pty p;
    if (!OpenPty(&p, open_slave)) return -1;
    struct stat st;
    if (stat(p.name.c_str(), &st) != 0) return -1;
    p.CloseMaster();
    if (stat(p.name.c_str(), &st) != 0) return errno;
  }
  return 0;
}

// pty(7): the pts/N entry lives as long as the master; closing the master
// removes it, whether or not the slave is still open.
TEST(Pty, SlaveNodeDisappearsWhenTheMasterCloses) {
  EXPECT_EQ(StatErrnoAfterMasterClose(/*open_slave=*/false), ENOENT);
  EXPECT_EQ(StatErrnoAfterMasterClose(/*open_slave=*/true), ENOENT) << "slave still open";
}

// termios(3) defaults of a new Linux pty slave: canonical mode with echo and
// signals, ICRNL|IXON input, OPOST|ONLCR output, CS8|CREAD, and the usual
// control characters (^C ^\ DEL ^U ^D ^Z, VMIN 1, VTIME 0).
TEST(Pty, FreshSlaveHasTheDefaultTermios) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  struct termios t;
  ASSERT_EQ(tcgetattr(p.slave, &t), 0) << strerror(errno);
  tcflag_t lwant = ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | ISIG | IEXTEN;
  EXPECT_EQ(t.c_lflag & lwant, lwant);
  EXPECT_EQ(t.c_lflag & (ECHONL | NOFLSH | TOSTOP), 0u);
  EXPECT_EQ(t.c_iflag & (ICRNL | IXON), static_cast<tcflag_t>(ICRNL | IXON));
  EXPECT_EQ(t.c_iflag & (INLCR | IGNCR), 0u);
  EXPECT_EQ(t.c_oflag & (OPOST | ONLCR), static_cast<tcflag_t>(OPOST | ONLCR));
  EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_NE(t.c_cflag & CREAD, 0u);
  EXPECT_EQ(t.c_cc[VINTR], 003);
  EXPECT_EQ(t.c_cc[VQUIT], 034);
  EXPECT_EQ(t.c_cc[VERASE], 0177);
  EXPECT_EQ(t.c_cc[VKILL], 025);
  EXPECT_EQ(t.c_cc[VEOF], 004);
  EXPECT_EQ(t.c_cc[VSUSP], 032);
  EXPECT_EQ(t.c_cc[VSTART], 021);
  EXPECT_EQ(t.c_cc[VSTOP], 023);
  EXPECT_EQ(t.c_cc[VMIN], 1);
  EXPECT_EQ(t.c_cc[VTIME], 0);
  // Linux applies termios requests made on the master to the slave: both
  // read the same settings and a change through the master shows on the slave.
  struct termios m;
  ASSERT_EQ(tcgetattr(p.master, &m), 0);
  EXPECT_EQ(m.c_lflag, t.c_lflag);
  EXPECT_EQ(m.c_iflag, t.c_iflag);
  EXPECT_EQ(m.c_oflag, t.c_oflag);
  m.c_lflag &= ~ECHO;
  ASSERT_EQ(tcsetattr(p.master, TCSANOW, &m), 0);
  ASSERT_EQ(tcgetattr(p.slave, &t), 0);
  EXPECT_EQ(t.c_lflag & ECHO, 0u);
}

// termios(3) canonical mode: input is available a line at a time, a line
// ends at NL (CR becomes NL with ICRNL), ERASE removes a character, KILL the
// line; EOF on an empty line reads 0 bytes and after "xy" hands "xy" over
// without a newline.
TEST(Pty, CanonicalModeDeliversEditedLines) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "abc"));
  EXPECT_EQ(ReadBytes(p.master, 3), "abc") << "echo: the input was processed";
  auto [n, err] = NonblockingRead(p.slave);
  EXPECT_EQ(n, -1) << "no full line yet";
  EXPECT_EQ(err, EAGAIN);
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(ReadOnce(p.slave), "abc\n");

  ASSERT_TRUE(Put(p.master, "def\r"));
  EXPECT_EQ(ReadOnce(p.slave), "def\n") << "ICRNL";

  ASSERT_TRUE(Put(p.master, "abx\177c\n"));
  EXPECT_EQ(ReadOnce(p.slave), "abc\n") << "VERASE";
  ASSERT_TRUE(Put(p.master, "junk\025ok\n"));
  EXPECT_EQ(ReadOnce(p.slave), "ok\n") << "VKILL";

  ASSERT_TRUE(Put(p.master, "\004"));
  EXPECT_EQ(ReadOnce(p.slave), "") << "VEOF on an empty line";
  ASSERT_TRUE(Put(p.master, "xy\004"));
  EXPECT_EQ(ReadOnce(p.slave), "xy") << "VEOF ends the line without a newline";

  // One read returns at most one line.
  ASSERT_TRUE(Put(p.master, "l1\nl2\n"));
  EXPECT_EQ(ReadOnce(p.slave), "l1\n");
  EXPECT_EQ(ReadOnce(p.slave), "l2\n");
}

// termios(3) ECHO / ECHOE: input is echoed to the master, NL as CR NL through
// ONLCR; an erased character echoes as BS SP BS. Without ECHO nothing comes
// back (checked with a marker the slave writes after the input was read).
TEST(Pty, EchoFollowsEchoAndEchoe) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "hi\n"));
  EXPECT_EQ(ReadBytes(p.master, 4), "hi\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "hi\n");

  ASSERT_TRUE(Put(p.master, "ab\177"));
  EXPECT_EQ(ReadBytes(p.master, 5), "ab\b \b");
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(ReadBytes(p.master, 2), "\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "a\n");

  ASSERT_TRUE(SetLflag(p.slave, ECHO, false));
  ASSERT_TRUE(Put(p.master, "quiet\n"));
  EXPECT_EQ(ReadOnce(p.slave), "quiet\n");
  ASSERT_TRUE(Put(p.slave, "M"));
  EXPECT_EQ(ReadThrough(p.master, "M"), "M") << "no echo before the marker";
}

// termios(3) OPOST|ONLCR: the slave's NL reaches the master as CR NL; with
// OPOST cleared output passes unchanged.
TEST(Pty, OutputProcessingMapsNewlines) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.slave, "a\nb"));
  EXPECT_EQ(ReadBytes(p.master, 4), "a\r\nb");

  struct termios t;
  ASSERT_EQ(tcgetattr(p.slave, &t), 0);
  t.c_oflag &= ~OPOST;
  ASSERT_EQ(tcsetattr(p.slave, TCSANOW, &t), 0);
  ASSERT_TRUE(Put(p.slave, "a\nb"));
  EXPECT_EQ(ReadBytes(p.master, 3), "a\nb");
}

// termios(3) noncanonical mode after cfmakeraw(): bytes are not edited,
// mapped or echoed and signals are off; VMIN=1 returns what is there, and
// VMIN=0 VTIME=0 with nothing queued returns 0 at once (not EAGAIN).
TEST(Pty, RawModePassesBytesThrough) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  struct termios t;
  ASSERT_EQ(tcgetattr(p.slave, &t), 0);
  cfmakeraw(&t);
  ASSERT_EQ(tcsetattr(p.slave, TCSANOW, &t), 0);
  EXPECT_EQ(t.c_cc[VMIN], 1);

  std::string in("x\ry\177\003\025z", 7);
  ASSERT_TRUE(Put(p.master, in));
  EXPECT_EQ(ReadBytes(p.slave, in.size()), in);
  ASSERT_TRUE(Put(p.slave, "M\n"));
  EXPECT_EQ(ReadThrough(p.master, "M\n"), "M\n") << "no echo, no ONLCR";

  // VMIN=1: a read asking for 4096 bytes returns with those available.
  ASSERT_TRUE(Put(p.master, "pq"));
  std::string got;
  ASSERT_GT(PollRead(p.slave, &got), 0);
  EXPECT_EQ(std::string("pq").substr(0, got.size()), got);
  if (got.size() < 2) {
    EXPECT_EQ(ReadBytes(p.slave, 1), "q");
  }
  char buf[8];
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  ASSERT_EQ(tcsetattr(p.slave, TCSANOW, &t), 0);
  EXPECT_EQ(read(p.slave, buf, sizeof buf), 0) << strerror(errno);
}

// Runs fn in a child that becomes a session leader with the slave as its
// controlling terminal (by opening it without O_NOCTTY, or with TIOCSCTTY),
// writes a byte to ready once set up, then runs fn. Returns the child's pid.
template <typename Fn>
pid_t ForkSessionLeader(const std::string& name, bool use_tiocsctty, Pipe* ready, Fn fn) {
  return ForkChild([&] {
    ready->CloseRead();
    CHILD_CHECK(setsid() == getpid());
    int fd = open(name.c_str(), use_tiocsctty ? O_RDWR | O_NOCTTY : O_RDWR);
    CHILD_CHECK(fd >= 0);
    if (use_tiocsctty) CHILD_CHECK(ioctl(fd, TIOCSCTTY, 0) == 0);
    pid_t sid = -1;
    CHILD_CHECK(ioctl(fd, TIOCGSID, &sid) == 0);
    CHILD_CHECK(sid == getpid());
    CHILD_CHECK(tcgetsid(fd) == getpid());
    CHILD_CHECK(tcgetpgrp(fd) == getpid());
    return fn(fd);
  });
}

// termios(3) ISIG: the INTR character (^C) sends SIGINT to the terminal's
// foreground process group and, with ECHO|ECHOCTL, echoes as "^C". A session
// leader without a controlling terminal acquires the tty it opens without
// O_NOCTTY (credentials(7)), or one it names with TIOCSCTTY (ioctl_tty(2)).
void CheckInterrupt(bool use_tiocsctty) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  pid_t sid = 0;
  EXPECT_EQ(ioctl(p.master, TIOCGSID, &sid), -1) << "no session yet";
  EXPECT_EQ(errno, ENOTTY);
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  pid_t child = ForkSessionLeader(p.name, use_tiocsctty, &ready, [&](int) {
    CHILD_CHECK(signal(SIGINT, SIG_DFL) != SIG_ERR);
    CHILD_CHECK(write(ready.wr(), "r", 1) == 1);
    alarm(30);  // safety net: dies of SIGALRM instead of hanging
    for (;;) pause();
    return 0;
  });
  ASSERT_GT(child, 0);
  ready.CloseWrite();
  char c;
  ASSERT_TRUE(ReadFull(ready.rd(), &c, 1)) << DescribeStatus(WaitStatus(child));
  // The master reports the slave's session and foreground group.
  EXPECT_EQ(tcgetsid(p.master), child);
  EXPECT_EQ(tcgetpgrp(p.master), child);
  ASSERT_TRUE(Put(p.master, "\003"));
  EXPECT_KILLED_BY(WaitStatus(child), SIGINT);
  EXPECT_EQ(ReadBytes(p.master, 2), "^C");
}

TEST(Pty, InterruptCharSignalsForegroundGroupOfImplicitCtty) { CheckInterrupt(false); }

TEST(Pty, InterruptCharSignalsForegroundGroupOfTiocsctty) { CheckInterrupt(true); }

// ioctl_tty(2) TIOCSWINSZ/TIOCGWINSZ: the size set on the master is the
// slave's; a change sends SIGWINCH to the foreground process group.
TEST(Pty, WindowSizeIsSharedAndChangesSendSigwinch) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  struct winsize ws = {24, 80, 0, 0}, got = {};
  ASSERT_EQ(ioctl(p.master, TIOCSWINSZ, &ws), 0) << strerror(errno);
  ASSERT_EQ(ioctl(p.slave, TIOCGWINSZ, &got), 0) << strerror(errno);
  EXPECT_EQ(got.ws_row, 24);
  EXPECT_EQ(got.ws_col, 80);

  Pipe ready;
  ASSERT_TRUE(ready.ok());
  pid_t child = ForkSessionLeader(p.name, false, &ready, [&](int fd) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    CHILD_CHECK(sigprocmask(SIG_BLOCK, &set, nullptr) == 0);
    CHILD_CHECK(write(ready.wr(), "r", 1) == 1);
    struct timespec ts = {5, 0};
    siginfo_t si;
    int sig;
    do {
      sig = sigtimedwait(&set, &si, &ts);
    } while (sig < 0 && errno == EINTR);
    CHILD_CHECK(sig == SIGWINCH);
    struct winsize w = {};
    CHILD_CHECK(ioctl(fd, TIOCGWINSZ, &w) == 0);
    CHILD_CHECK(w.ws_row == 50 && w.ws_col == 132);
    return 0;
  });
  ASSERT_GT(child, 0);
  ready.CloseWrite();
  char c;
  ASSERT_TRUE(ReadFull(ready.rd(), &c, 1)) << DescribeStatus(WaitStatus(child));
  ws = {50, 132, 0, 0};
  ASSERT_EQ(ioctl(p.master, TIOCSWINSZ, &ws), 0);
  EXPECT_EXITED_WITH(WaitStatus(child), 0);
}

// pty(7) hangup when the master's last fd closes: the slave is hung up, so
// read returns 0 (end of file), write fails with EIO and poll reports POLLHUP.
TEST(Pty, SlaveIsHungUpWhenTheMasterCloses) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "pending\n"));
  ASSERT_EQ(ReadBytes(p.master, 9), "pending\r\n");
  p.CloseMaster();
  int ev = PollEvents(p.slave, POLLIN | POLLOUT, kTimeoutMs);
  EXPECT_GT(ev, 0);
  EXPECT_NE(ev & POLLHUP, 0) << ev;
  EXPECT_NE(ev & POLLIN, 0) << ev;  // readable: the read sees end of file
  char buf[16];
  EXPECT_EQ(read(p.slave, buf, sizeof buf), 0) << "hung up: end of file, queued line dropped";
  EXPECT_EQ(write(p.slave, "x", 1), -1);
  EXPECT_EQ(errno, EIO);
}

// pty(7) when the slave's last fd closes (after it had been opened): the
// master still reads what was written, then read fails with EIO and poll
// reports POLLHUP.
TEST(Pty, MasterReadsEioAfterTheSlaveCloses) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.slave, "bye"));
  p.CloseSlave();
  EXPECT_EQ(ReadBytes(p.master, 3), "bye");
  int ev = PollEvents(p.master, POLLIN, kTimeoutMs);
  EXPECT_NE(ev & POLLHUP, 0) << ev;
  char buf[16];
  EXPECT_EQ(read(p.master, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EIO);
}

// poll(2) on a pty: the master is readable once the slave wrote; the slave in
// canonical mode only once a whole line is there; both are writable.
TEST(Pty, PollReportsLinesAndOutput) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  EXPECT_EQ(PollEvents(p.master, POLLIN | POLLOUT, 0), POLLOUT);
  EXPECT_EQ(PollEvents(p.slave, POLLIN | POLLOUT, 0), POLLOUT);

  ASSERT_TRUE(Put(p.slave, "out"));
  int ev = PollEvents(p.master, POLLIN, kTimeoutMs);
  EXPECT_EQ(ev, POLLIN);
  EXPECT_EQ(ReadBytes(p.master, 3), "out");

  ASSERT_TRUE(Put(p.master, "ab"));
  EXPECT_EQ(ReadBytes(p.master, 2), "ab") << "echo: the input was processed";
  EXPECT_EQ(PollEvents(p.slave, POLLIN, 0), 0) << "half a line";
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(PollEvents(p.slave, POLLIN, kTimeoutMs), POLLIN);
  EXPECT_EQ(ReadOnce(p.slave), "ab\n");
}

// ioctl_tty(2) FIONREAD (TIOCINQ): in canonical mode the slave counts the
// bytes of complete lines only; the master counts the slave's output queued.
TEST(Pty, FionreadCountsCompleteLinesAndQueuedOutput) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  EXPECT_EQ(Inq(p.slave), 0);
  EXPECT_EQ(Inq(p.master), 0);
  ASSERT_TRUE(Put(p.master, "ab\ncd"));
  EXPECT_EQ(ReadBytes(p.master, 6), "ab\r\ncd") << "echo: the input was processed";
  EXPECT_EQ(Inq(p.slave), 3);
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(ReadBytes(p.master, 2), "\r\n");
  EXPECT_EQ(Inq(p.slave), 6);
  EXPECT_EQ(ReadOnce(p.slave), "ab\n");
  EXPECT_EQ(Inq(p.slave), 3);

  ASSERT_TRUE(Put(p.slave, "x\ny"));
  ASSERT_EQ(PollEvents(p.master, POLLIN, kTimeoutMs), POLLIN);
  EXPECT_EQ(Inq(p.master), 4) << "x CR NL y";
}

// ioctl_tty(2) TIOCGPTPEER: opens the master's slave (with the given flags)
// without a path; it is the same device as pts/N. Like an open by name it
// fails with EIO while the pty is locked.
TEST(Pty, TiocgptpeerOpensTheSlave) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p, /*open_slave=*/false, /*unlock=*/false));
  EXPECT_EQ(ioctl(p.master, TIOCGPTPEER, O_RDWR | O_NOCTTY), -1);
  EXPECT_EQ(errno, EIO);
  ASSERT_EQ(unlockpt(p.master), 0);
  int peer = ioctl(p.master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  ASSERT_GE(peer, 0) << strerror(errno);
  struct stat a, b;
  ASSERT_EQ(fstat(peer, &a), 0);
  ASSERT_EQ(stat(p.name.c_str(), &b), 0);
  EXPECT_EQ(a.st_rdev, b.st_rdev);
  EXPECT_TRUE(Put(peer, "peer"));
  EXPECT_EQ(ReadBytes(p.master, 4), "peer");
  ASSERT_TRUE(Put(p.master, "back\n"));
  EXPECT_EQ(ReadOnce(peer), "back\n");
  close(peer);
}

// isatty(3) holds for both ends; ttyname(3) of the slave is its ptsname.
TEST(Pty, BothEndsAreTtysAndTtynameIsPtsname) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  EXPECT_EQ(isatty(p.master), 1);
  EXPECT_EQ(isatty(p.slave), 1);
  char buf[128];
  ASSERT_EQ(ttyname_r(p.slave, buf, sizeof buf), 0);
  EXPECT_EQ(std::string(buf), p.name);
  Pipe pipe;
  ASSERT_TRUE(pipe.ok());
  EXPECT_EQ(isatty(pipe.rd()), 0);
  EXPECT_EQ(errno, ENOTTY);
}

// tcflush(3) TCIFLUSH: input received but not read is discarded; later input
// is delivered as usual.
TEST(Pty, TcflushDiscardsPendingInput) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "old\n"));
  ASSERT_EQ(PollEvents(p.slave, POLLIN, kTimeoutMs), POLLIN);
  ASSERT_EQ(tcflush(p.slave, TCIFLUSH), 0) << strerror(errno);
  EXPECT_EQ(Inq(p.slave), 0);
  auto [n, err] = NonblockingRead(p.slave);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EAGAIN);
  ASSERT_TRUE(Put(p.master, "new\n"));
  EXPECT_EQ(ReadOnce(p.slave), "new\n");
}

// Applies fn to fd's termios and sets the result with tcsetattr(TCSANOW).
template <typename Fn>
bool ChangeTermios(int fd, Fn fn) {
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return false;
  fn(&t);
  return tcsetattr(fd, TCSANOW, &t) == 0;
}

// termios(3) VWERASE (^W), with ICANON and IEXTEN: erases any blanks before
// the cursor and then the word before them; each erased character echoes as
// BS SP BS (ECHOE). Without IEXTEN ^W is an ordinary character ("^W" echoed).
TEST(Pty, WeraseErasesThePreviousWord) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "foo bar\027"));
  EXPECT_EQ(ReadBytes(p.master, 16), "foo bar\b \b\b \b\b \b");
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(ReadBytes(p.master, 2), "\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "foo \n");

  // Blanks between the word and the cursor go with it.
  ASSERT_TRUE(Put(p.master, "ab cd  \027\n"));
  EXPECT_EQ(ReadBytes(p.master, 21), "ab cd  \b \b\b \b\b \b\b \b\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "ab \n");

  ASSERT_TRUE(SetLflag(p.slave, IEXTEN, false));
  ASSERT_TRUE(Put(p.master, "foo bar\027\n"));
  EXPECT_EQ(ReadBytes(p.master, 11), "foo bar^W\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "foo bar\027\n");
}

// termios(3) VLNEXT (^V), with IEXTEN: the next character is taken literally,
// so ^C is data rather than INTR (which would also have flushed the "a").
// Linux echoes ^V as "^" BS, then the literal character as "^C" (ECHOCTL).
TEST(Pty, LnextQuotesTheNextCharacter) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "a\026"));
  EXPECT_EQ(ReadBytes(p.master, 3), "a^\b");
  ASSERT_TRUE(Put(p.master, "\003"));
  EXPECT_EQ(ReadBytes(p.master, 2), "^C");
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(ReadBytes(p.master, 2), "\r\n");
  EXPECT_EQ(ReadOnce(p.slave), std::string("a\003\n"));
}

// termios(3) ECHOCTL: with ECHO, a control character is echoed as ^X, and
// erasing it (ECHOE) rubs out both columns. Without ECHOCTL it is echoed as
// itself; Linux then counts it as taking no column, so erasing it echoes
// nothing.
TEST(Pty, EchoctlEchoesControlCharactersInCaretNotation) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "\001"));
  EXPECT_EQ(ReadBytes(p.master, 2), "^A");
  ASSERT_TRUE(Put(p.master, "\177"));
  EXPECT_EQ(ReadBytes(p.master, 6), "\b \b\b \b");
  ASSERT_TRUE(Put(p.master, "x\n"));
  EXPECT_EQ(ReadBytes(p.master, 3), "x\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "x\n");

  ASSERT_TRUE(SetLflag(p.slave, ECHOCTL, false));
  ASSERT_TRUE(Put(p.master, "\001"));
  EXPECT_EQ(ReadBytes(p.master, 1), "\001");
  ASSERT_TRUE(Put(p.master, "\001\177y\n"));
  EXPECT_EQ(ReadBytes(p.master, 4), "\001y\r\n") << "no rubout for a raw control character";
  EXPECT_EQ(ReadOnce(p.slave), "\001y\n");
}

// termios(3) VERASE of a TAB (ECHOE): the echo moves the cursor back to the
// column where the tab started, with one BS per column the tab took.
TEST(Pty, ErasingATabBacksUpToItsStartColumn) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "a\t"));
  EXPECT_EQ(ReadBytes(p.master, 2), "a\t");
  ASSERT_TRUE(Put(p.master, "\177"));
  EXPECT_EQ(ReadBytes(p.master, 7), "\b\b\b\b\b\b\b") << "the tab went from column 1 to 8";
  ASSERT_TRUE(Put(p.master, "\177"));
  EXPECT_EQ(ReadBytes(p.master, 3), "\b \b");
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(ReadBytes(p.master, 2), "\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "\n");

  ASSERT_TRUE(Put(p.master, "abc\t\177\n"));
  EXPECT_EQ(ReadBytes(p.master, 11), "abc\t\b\b\b\b\b\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "abc\n");
}

// termios(3) ECHONL: with ICANON, NL is echoed even when ECHO is off (as
// CR NL through ONLCR); nothing else is.
TEST(Pty, EchonlEchoesNewlineWithoutEcho) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(ChangeTermios(p.slave, [](struct termios* t) {
    t->c_lflag &= ~ECHO;
    t->c_lflag |= ECHONL;
  }));
  ASSERT_TRUE(Put(p.master, "ab\n"));
  EXPECT_EQ(ReadBytes(p.master, 2), "\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "ab\n");
  ASSERT_TRUE(Put(p.slave, "M"));
  EXPECT_EQ(ReadThrough(p.master, "M"), "M") << "no other echo";
}

// termios(3) ECHOK / ECHOKE with VKILL: with ECHOKE (and ECHOE) the line is
// rubbed out with BS SP BS per character; with ECHOK but not ECHOKE the KILL
// character is echoed ("^U" with ECHOCTL) followed by a newline (CR NL with
// ONLCR); with neither only the KILL character is echoed.
TEST(Pty, KillEchoFollowsEchokAndEchoke) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "abc\025"));
  EXPECT_EQ(ReadBytes(p.master, 12), "abc\b \b\b \b\b \b");
  ASSERT_TRUE(Put(p.master, "d\n"));
  EXPECT_EQ(ReadBytes(p.master, 3), "d\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "d\n");

  ASSERT_TRUE(SetLflag(p.slave, ECHOKE, false));
  ASSERT_TRUE(Put(p.master, "abc\025"));
  EXPECT_EQ(ReadBytes(p.master, 7), "abc^U\r\n");
  ASSERT_TRUE(Put(p.master, "e\n"));
  EXPECT_EQ(ReadBytes(p.master, 3), "e\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "e\n");

  ASSERT_TRUE(SetLflag(p.slave, ECHOK, false));
  ASSERT_TRUE(Put(p.master, "abc\025f\n"));
  EXPECT_EQ(ReadBytes(p.master, 8), "abc^Uf\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "f\n");
}

// termios(3) output flags, each on a fresh pty (output column 0). OCRNL: CR
// is output as NL. ONOCR: no CR at column 0. TABDLY=XTABS (TAB3): tabs are
// expanded to spaces up to the next multiple of 8. OLCUC: lower case is output
// as upper case.
TEST(Pty, OutputFlagsMapCharacters) {
  auto output = [](tcflag_t set, tcflag_t clear, const std::string& in, size_t want) {
    Pty p;
    if (!OpenPty(&p)) return std::string("<no pty>");
    if (!ChangeTermios(p.slave, [&](struct termios* t) {
          t->c_oflag = (t->c_oflag & ~clear) | set;
        })) {
      return std::string("<tcsetattr failed>");
    }
    if (!Put(p.slave, in)) return std::string("<write failed>");
    return ReadBytes(p.master, want);
  };
  EXPECT_EQ(output(OCRNL, 0, "a\rb", 3), "a\nb");
  EXPECT_EQ(output(ONOCR, 0, "\rab\rc\n\rd", 7), "ab\rc\r\nd") << "ONLCR's NL returns to column 0";
  EXPECT_EQ(output(XTABS, TABDLY, "a\tb", 9), "a       b");
  EXPECT_EQ(output(XTABS, TABDLY, "abcdefgh\ti", 17), "abcdefgh        i");
  EXPECT_EQ(output(OLCUC, 0, "abc\n", 5), "ABC\r\n");
}

// termios(3) input flags, with ICANON and ECHO off so that bytes are readable
// as they come: INLCR maps NL to CR, IGNCR drops CR, ISTRIP clears bit 8.
TEST(Pty, InputFlagsMapCharacters) {
  auto input = [](tcflag_t set, tcflag_t clear, const std::string& in, size_t want) {
    Pty p;
    if (!OpenPty(&p)) return std::string("<no pty>");
    if (!ChangeTermios(p.slave, [&](struct termios* t) {
          t->c_lflag &= ~(ICANON | ECHO);
          t->c_cc[VMIN] = 1;
          t->c_cc[VTIME] = 0;
          t->c_iflag = (t->c_iflag & ~clear) | set;
        })) {
      return std::string("<tcsetattr failed>");
    }
    if (!Put(p.master, in)) return std::string("<write failed>");
    return ReadBytes(p.slave, want);
  };
  EXPECT_EQ(input(INLCR, ICRNL, "a\nb", 3), "a\rb");
  EXPECT_EQ(input(IGNCR, 0, "a\rb", 2), "ab");
  EXPECT_EQ(input(ISTRIP, 0, "\xe1z", 2), "az");
  EXPECT_EQ(input(0, ISTRIP, "\xe1z", 2), "\xe1z");
}

// termios(3) NOFLSH: normally INTR flushes the input queue (a complete line
// and the partial one); with NOFLSH both stay. The pty is nobody's
// controlling terminal, so ^C signals no one.
TEST(Pty, IntrFlushesInputUnlessNoflsh) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "line\npart"));
  ASSERT_EQ(ReadBytes(p.master, 10), "line\r\npart");
  ASSERT_TRUE(Put(p.master, "\003"));
  EXPECT_EQ(ReadBytes(p.master, 2), "^C");
  EXPECT_EQ(Inq(p.slave), 0);
  auto [n, err] = NonblockingRead(p.slave);
  EXPECT_EQ(n, -1) << "flushed";
  EXPECT_EQ(err, EAGAIN);
  ASSERT_TRUE(Put(p.master, "new\n"));
  EXPECT_EQ(ReadOnce(p.slave), "new\n") << "the partial line went too";
  ASSERT_EQ(ReadBytes(p.master, 5), "new\r\n");

  ASSERT_TRUE(SetLflag(p.slave, NOFLSH, true));
  ASSERT_TRUE(Put(p.master, "line\npart"));
  ASSERT_EQ(ReadBytes(p.master, 10), "line\r\npart");
  ASSERT_TRUE(Put(p.master, "\003"));
  EXPECT_EQ(ReadBytes(p.master, 2), "^C");
  EXPECT_EQ(ReadOnce(p.slave), "line\n");
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(ReadOnce(p.slave), "part\n") << "INTR itself is not queued";
}

// termios(3) IXON: STOP (^S) received suspends the slave's output and START
// (^Q) resumes it; neither is queued as input. While output is stopped a
// non-blocking write on the slave fails with EAGAIN and poll does not report
// POLLOUT. ioctl_tty(2) TCXONC TCOOFF/TCOON (tcflow(3)) do the same.
TEST(Pty, IxonStopAndStartSuspendOutput) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(SetLflag(p.slave, ECHO, false));
  auto write_nonblocking = [&](const char* s) {
    int flags = fcntl(p.slave, F_GETFL);
    fcntl(p.slave, F_SETFL, flags | O_NONBLOCK);
    errno = 0;
    ssize_t n = write(p.slave, s, strlen(s));
    int err = errno;
    fcntl(p.slave, F_SETFL, flags);
    return std::make_pair(n, err);
  };
  ASSERT_TRUE(Put(p.master, "\023x\n"));
  EXPECT_EQ(ReadOnce(p.slave), "x\n") << "^S was processed before x";
  auto [n, err] = write_nonblocking("data");
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EAGAIN);
  EXPECT_EQ(PollEvents(p.slave, POLLOUT, 0), 0);
  ASSERT_TRUE(Put(p.master, "\021y\n"));
  EXPECT_EQ(ReadOnce(p.slave), "y\n");
  EXPECT_EQ(PollEvents(p.slave, POLLOUT, kTimeoutMs), POLLOUT);
  ASSERT_TRUE(Put(p.slave, "data"));
  EXPECT_EQ(ReadBytes(p.master, 4), "data");

  ASSERT_EQ(tcflow(p.slave, TCOOFF), 0) << strerror(errno);
  std::tie(n, err) = write_nonblocking("more");
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EAGAIN);
  EXPECT_EQ(PollEvents(p.slave, POLLOUT, 0), 0);
  ASSERT_EQ(tcflow(p.slave, TCOON), 0) << strerror(errno);
  EXPECT_EQ(PollEvents(p.slave, POLLOUT, kTimeoutMs), POLLOUT);
  ASSERT_TRUE(Put(p.slave, "more"));
  EXPECT_EQ(ReadBytes(p.master, 4), "more");
}

// Echoes are output too: with IXON, input typed after STOP is still read by
// the slave, and its echo is not lost but reaches the master once START comes.
TEST(Pty, EchoIsHeldWhileOutputIsStopped) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "\023ab\n"));
  EXPECT_EQ(ReadOnce(p.slave), "ab\n");
  ASSERT_TRUE(Put(p.master, "\021"));
  EXPECT_EQ(ReadBytes(p.master, 4), "ab\r\n");
}

// termios(3) switching ICANON: a partial canonical line becomes readable at
// once in noncanonical mode; bytes received in noncanonical mode and not yet
// read are readable as one line (without a newline) once ICANON is back on.
TEST(Pty, SwitchingIcanonKeepsPendingInput) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "ab"));
  ASSERT_EQ(ReadBytes(p.master, 2), "ab") << "echo: the input was processed";
  EXPECT_EQ(PollEvents(p.slave, POLLIN, 0), 0);
  ASSERT_TRUE(SetLflag(p.slave, ICANON, false));
  EXPECT_EQ(ReadBytes(p.slave, 2), "ab");

  ASSERT_TRUE(Put(p.master, "cd"));
  ASSERT_EQ(ReadBytes(p.master, 2), "cd");
  ASSERT_TRUE(SetLflag(p.slave, ICANON, true));
  EXPECT_EQ(Inq(p.slave), 2);
  EXPECT_EQ(ReadOnce(p.slave), "cd");
  ASSERT_TRUE(Put(p.master, "ef\n"));
  EXPECT_EQ(ReadOnce(p.slave), "ef\n") << "then lines as usual";
}

// termios(3) noncanonical MIN/TIME. MIN > 0, TIME == 0: read blocks until MIN
// bytes are available (poll too reports POLLIN only then). MIN == 0,
// TIME > 0: with nothing queued read returns 0 once TIME expires.
TEST(Pty, VminAndVtimeInNoncanonicalMode) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(ChangeTermios(p.slave, [](struct termios* t) {
    t->c_lflag &= ~ICANON;
    t->c_cc[VMIN] = 3;
    t->c_cc[VTIME] = 0;
  }));
  ASSERT_TRUE(Put(p.master, "ab"));
  ASSERT_EQ(ReadBytes(p.master, 2), "ab") << "echo: the input was processed";
  EXPECT_EQ(PollEvents(p.slave, POLLIN, 0), 0) << "fewer than MIN bytes";
  ASSERT_TRUE(Put(p.master, "c"));
  EXPECT_EQ(PollEvents(p.slave, POLLIN, kTimeoutMs), POLLIN);
  char buf[10];
  EXPECT_EQ(read(p.slave, buf, sizeof buf), 3);
  EXPECT_EQ(std::string(buf, 3), "abc");

  ASSERT_TRUE(ChangeTermios(p.slave, [](struct termios* t) {
    t->c_cc[VMIN] = 0;
    t->c_cc[VTIME] = 1;
  }));
  EXPECT_EQ(read(p.slave, buf, sizeof buf), 0) << strerror(errno);
}

// tcsetattr(3): TCSAFLUSH (TCSETSF) discards input received but not read;
// TCSANOW (TCSETS) keeps it.
TEST(Pty, TcsaflushDiscardsInputTcsanowKeepsIt) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  struct termios t;
  ASSERT_EQ(tcgetattr(p.slave, &t), 0);
  ASSERT_TRUE(Put(p.master, "one\n"));
  ASSERT_EQ(PollEvents(p.slave, POLLIN, kTimeoutMs), POLLIN);
  ASSERT_EQ(tcsetattr(p.slave, TCSANOW, &t), 0) << strerror(errno);
  EXPECT_EQ(Inq(p.slave), 4);
  EXPECT_EQ(ReadOnce(p.slave), "one\n");

  ASSERT_TRUE(Put(p.master, "two\n"));
  ASSERT_EQ(PollEvents(p.slave, POLLIN, kTimeoutMs), POLLIN);
  ASSERT_EQ(tcsetattr(p.slave, TCSAFLUSH, &t), 0) << strerror(errno);
  EXPECT_EQ(Inq(p.slave), 0);
  auto [n, err] = NonblockingRead(p.slave);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EAGAIN);
  ASSERT_TRUE(Put(p.master, "three\n"));
  EXPECT_EQ(ReadOnce(p.slave), "three\n");
}

// Waits for the ready byte of a ForkSessionLeader child.
::testing::AssertionResult WaitReady(Pipe* ready, pid_t child) {
  ready->CloseWrite();
  char c;
  if (ReadFull(ready->rd(), &c, 1)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "child not ready: " << DescribeStatus(WaitStatus(child));
}

// TIOCSIG on the master (Linux, not in ioctl_tty(2)) sends the signal to the
// slave's foreground process group, as if typed: Linux accepts only SIGINT,
// SIGQUIT and SIGTSTP (others fail with EINVAL), and only on the master.
TEST(Pty, TiocsigSignalsTheForegroundGroup) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  pid_t child = ForkSessionLeader(p.name, false, &ready, [&](int) {
    CHILD_CHECK(signal(SIGINT, SIG_DFL) != SIG_ERR);
    CHILD_CHECK(write(ready.wr(), "r", 1) == 1);
    alarm(30);  // safety net
    for (;;) pause();
    return 0;
  });
  ASSERT_GT(child, 0);
  ASSERT_TRUE(WaitReady(&ready, child));
  EXPECT_EQ(ioctl(p.master, TIOCSIG, SIGTERM), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ioctl(p.slave, TIOCSIG, SIGINT), -1);
  EXPECT_EQ(errno, ENOTTY);
  EXPECT_EQ(ioctl(p.master, TIOCSIG, SIGINT), 0) << strerror(errno);
  EXPECT_KILLED_BY(WaitStatus(child), SIGINT);
}

// pty(7) / credentials(7): when the master's last fd closes the slave is hung
// up, and the session leader whose controlling terminal it is gets SIGHUP.
TEST(Pty, ClosingTheMasterSendsSighupToTheSessionLeader) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  pid_t child = ForkSessionLeader(p.name, false, &ready, [&](int) {
    close(p.master);  // ours is the last
    struct sigaction sa = {};
    sa.sa_handler = [](int) { _exit(42); };
    CHILD_CHECK(sigaction(SIGHUP, &sa, nullptr) == 0);
    CHILD_CHECK(write(ready.wr(), "r", 1) == 1);
    alarm(30);  // safety net
    for (;;) pause();
    return 0;
  });
  ASSERT_GT(child, 0);
  ASSERT_TRUE(WaitReady(&ready, child));
  p.CloseMaster();
  EXPECT_EXITED_WITH(WaitStatus(child), 42);
}

// How a session leader lets its controlling terminal go.
enum class LetGo { kExit, kTiocnotty };

// The leader makes a child's group the foreground one and lets the
// terminal go; that child reports the SIGHUP through a pipe, and whether
// its session lost the terminal (tcgetpgrp: ENOTTY).
void CheckForegroundHangup(LetGo how) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  Pipe ready, report;
  ASSERT_TRUE(ready.ok());
  ASSERT_TRUE(report.ok());
  pid_t leader = ForkSessionLeader(p.name, false, &ready, [&](int fd) {
    Pipe joined;
    CHILD_CHECK(joined.ok());
    pid_t member = fork();
    CHILD_CHECK(member >= 0);
    if (member == 0) {
      // SIGHUP is blocked before the leader may let go, then waited for.
      sigset_t hup;
      sigemptyset(&hup);
      sigaddset(&hup, SIGHUP);
      CHILD_CHECK(sigprocmask(SIG_BLOCK, &hup, nullptr) == 0);
      CHILD_CHECK(setpgid(0, 0) == 0);
      CHILD_CHECK(write(joined.wr(), "j", 1) == 1);
      struct timespec limit = {20, 0};  // safety net
      int sig;
      do {
        sig = sigtimedwait(&hup, nullptr, &limit);
      } while (sig < 0 && errno == EINTR);
      CHILD_CHECK(sig == SIGHUP);
      const char got = tcgetpgrp(fd) < 0 && errno == ENOTTY ? 'H' : 'h';  // the session lost the terminal
      CHILD_CHECK(write(report.wr(), &got, 1) == 1);
      _exit(0);
    }
    char c;
    CHILD_CHECK(read(joined.rd(), &c, 1) == 1);
    CHILD_CHECK(tcsetpgrp(fd, member) == 0);
    CHILD_CHECK(write(ready.wr(), "r", 1) == 1);
    if (how == LetGo::kTiocnotty) {
      // Stays alive until the member reported, so that the SIGHUP can only
      // have come from TIOCNOTTY.
      CHILD_CHECK(ioctl(fd, TIOCNOTTY) == 0);
      CHILD_CHECK(WaitStatus(member) == 0);
    }
    return 0;  // the leader exits with a foreground group that is not its own
  });
  ASSERT_GT(leader, 0);
  report.CloseWrite();
  ASSERT_TRUE(WaitReady(&ready, leader));
  EXPECT_EXITED_WITH(WaitStatus(leader), 0);
  char got = 0;
  ASSERT_TRUE(ReadFull(report.rd(), &got, 1)) << "the foreground group's process never reported";
  EXPECT_EQ(got, 'H') << "SIGHUP came, but tcgetpgrp still worked after the leader let go";
}

// _exit(2): when a controlling process (a session leader with a controlling
// terminal) exits, the terminal's foreground process group gets SIGHUP and
// the session loses the terminal.
TEST(Pty, SessionLeaderExitHangsUpTheForegroundGroup) { CheckForegroundHangup(LetGo::kExit); }

// ioctl_tty(2) TIOCNOTTY: "If the process was session leader, then send
// SIGHUP and SIGCONT to the foreground process group and all processes in
// the current session lose their controlling terminal."
TEST(Pty, TiocnottyBySessionLeaderHangsUpTheForegroundGroup) { CheckForegroundHangup(LetGo::kTiocnotty); }

// tty_ioctl(4) TIOCOUTQ: a pty holds nothing waiting to be sent, on either
// end (what the slave wrote is already the master's to read).
TEST(Pty, OutputQueueIsEmptyOnBothEnds) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.slave, "abc"));
  int n = -1;
  ASSERT_EQ(ioctl(p.slave, TIOCOUTQ, &n), 0) << strerror(errno);
  EXPECT_EQ(n, 0);
  n = -1;
  ASSERT_EQ(ioctl(p.master, TIOCOUTQ, &n), 0) << strerror(errno);
  EXPECT_EQ(n, 0);
  EXPECT_EQ(ReadBytes(p.master, 3), "abc");
  int discipline = -1;
  ASSERT_EQ(ioctl(p.slave, TIOCGETD, &discipline), 0) << strerror(errno);
  EXPECT_EQ(discipline, N_TTY);
}

// termios(3): VREPRINT (^R, with ICANON, ECHO and IEXTEN) shows the line
// again on a new line; VEOL ends a line and is read with it; IUCLC (with
// IEXTEN) maps upper case input to lower case, echo included.
TEST(Pty, ReprintEolAndIuclc) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  ASSERT_TRUE(Put(p.master, "ab\022"));
  EXPECT_EQ(ReadBytes(p.master, 8), "ab^R\r\nab");
  ASSERT_TRUE(Put(p.master, "\n"));
  EXPECT_EQ(ReadBytes(p.master, 2), "\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "ab\n");

  ASSERT_TRUE(ChangeTermios(p.slave, [](termios* t) { t->c_cc[VEOL] = '#'; }));
  ASSERT_TRUE(Put(p.master, "xy#"));
  EXPECT_EQ(ReadBytes(p.master, 3), "xy#");
  EXPECT_EQ(ReadOnce(p.slave), "xy#");

  ASSERT_TRUE(ChangeTermios(p.slave, [](termios* t) { t->c_iflag |= IUCLC; }));
  ASSERT_TRUE(Put(p.master, "AbC\n"));
  EXPECT_EQ(ReadBytes(p.master, 5), "abc\r\n");
  EXPECT_EQ(ReadOnce(p.slave), "abc\n");
}

// tty(4): /dev/tty is the process's controlling terminal; opening it without
// one fails with ENXIO.
TEST(Pty, DevTtyIsTheControllingTerminal) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p));
  Pipe ready;
  ASSERT_TRUE(ready.ok());
  pid_t child = ForkSessionLeader(p.name, false, &ready, [&](int) {
    int fd = open("/dev/tty", O_RDWR);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(write(fd, "via-tty", 7) == 7);
    CHILD_CHECK(write(ready.wr(), "r", 1) == 1);
    return 0;
  });
  ASSERT_GT(child, 0);
  ASSERT_TRUE(WaitReady(&ready, child));
  EXPECT_EQ(ReadBytes(p.master, 7), "via-tty");
  EXPECT_EXITED_WITH(WaitStatus(child), 0);

  EXPECT_EXITED_WITH(RunInChild([] {
                       CHILD_CHECK(setsid() == getpid());
                       CHILD_CHECK(open("/dev/tty", O_RDWR) == -1);
                       CHILD_CHECK(errno == ENXIO);
                       return 0;
                     }),
                     0);
}

// pty(7) / devpts: /dev/pts holds ptmx and one node per open master, named by
// its number.
TEST(Pty, DevptsDirectoryListsThePty) {
  Pty p;
  ASSERT_TRUE(OpenPty(&p, /*open_slave=*/false));
  unsigned int num = 0;
  ASSERT_EQ(ioctl(p.master, TIOCGPTN, &num), 0) << strerror(errno);
  DIR* dir = opendir("/dev/pts");
  ASSERT_NE(dir, nullptr) << strerror(errno);
  std::set<std::string> names;
  while (struct dirent* e = readdir(dir)) names.insert(e->d_name);
  closedir(dir);
  EXPECT_TRUE(names.count("ptmx"));
  EXPECT_TRUE(names.count(std::to_string(num))) << num;
  EXPECT_TRUE(names.count("."));
  EXPECT_TRUE(names.count(".."));
}

}  // namespace
}  // namespace syscall_test
