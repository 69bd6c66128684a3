// pipe(2), pipe2(2) and pipe(7): flags, blocking and non-blocking I/O, end
// of file, EPIPE/SIGPIPE, PIPE_BUF atomicity, FIONREAD and dup2 of pipe ends.
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

TEST(PipeTest, DataWrittenToWriteEndIsReadFromReadEnd) {
  int fds[2] = {-1, -1};
  ASSERT_EQ(pipe(fds), 0) << strerror(errno);
  EXPECT_GE(fds[0], 0);
  EXPECT_GE(fds[1], 0);
  EXPECT_NE(fds[0], fds[1]);
  ASSERT_EQ(write(fds[1], "abcdef", 6), 6);
  char buf[16] = {};
  ASSERT_EQ(read(fds[0], buf, 2), 2) << "a short read takes only what was asked";
  EXPECT_EQ(std::string(buf, 2), "ab");
  ASSERT_EQ(read(fds[0], buf, sizeof buf), 4) << "a read returns what is available";
  EXPECT_EQ(std::string(buf, 4), "cdef");
  close(fds[0]);
  close(fds[1]);
}

TEST(PipeTest, EndsAreOneWay) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  char b = 'x';
  errno = 0;
  EXPECT_EQ(write(p.rd(), &b, 1), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(read(p.wr(), &b, 1), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(fcntl(p.rd(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(fcntl(p.wr(), F_GETFL) & O_ACCMODE, O_WRONLY);
}

TEST(PipeTest, PlainPipeHasNoCloexecOrNonblock) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  for (int fd : {p.rd(), p.wr()}) {
    EXPECT_EQ(fcntl(fd, F_GETFD), 0) << "fd " << fd;
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "fd " << fd;
  }
}

TEST(PipeTest, Pipe2CloexecSetsFdCloexecOnBothEnds) {
  Pipe p(O_CLOEXEC);
  ASSERT_TRUE(p.ok()) << strerror(errno);
  for (int fd : {p.rd(), p.wr()}) {
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC) << "fd " << fd;
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "fd " << fd;
  }
}

TEST(PipeTest, Pipe2NonblockSetsONonblockOnBothEnds) {
  Pipe p(O_NONBLOCK);
  ASSERT_TRUE(p.ok()) << strerror(errno);
  for (int fd : {p.rd(), p.wr()}) {
    EXPECT_NE(fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "fd " << fd;
    EXPECT_EQ(fcntl(fd, F_GETFD), 0) << "fd " << fd;
  }
}

TEST(PipeTest, Pipe2InvalidFlagsGiveEinval) {
  int fds[2] = {-1, -1};
  for (int flags : {O_APPEND, O_TRUNC, O_RDWR, 0x7fffffff}) {
    errno = 0;
    EXPECT_EQ(pipe2(fds, flags), -1) << "flags " << std::hex << flags;
    EXPECT_EQ(errno, EINVAL) << "flags " << std::hex << flags;
  }
}

TEST(PipeTest, BadAddressGivesEfault) {
  errno = 0;
  EXPECT_EQ(syscall(SYS_pipe2, nullptr, 0), -1);
  EXPECT_EQ(errno, EFAULT);
  errno = 0;
  EXPECT_EQ(syscall(SYS_pipe, reinterpret_cast<int*>(8)), -1);
  EXPECT_EQ(errno, EFAULT);
}

TEST(PipeTest, NonblockingReadOfEmptyPipeGivesEagain) {
  Pipe p(O_NONBLOCK);
  ASSERT_TRUE(p.ok());
  char b;
  errno = 0;
  EXPECT_EQ(read(p.rd(), &b, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
  // A zero-length read returns 0 rather than blocking or failing.
  EXPECT_EQ(read(p.rd(), &b, 0), 0);
}

// Fills a non-blocking pipe with page-sized writes; returns the bytes taken.
long FillPipe(int wr) {
  std::vector<char> chunk(4096, 'z');
  long total = 0;
  for (;;) {
    ssize_t n = write(wr, chunk.data(), chunk.size());
    if (n < 0) break;
    if (n != static_cast<ssize_t>(chunk.size())) return -1;  // PIPE_BUF-sized: all or nothing
    total += n;
    if (total > (64L << 20)) return -2;  // never fills up
  }
  return errno == EAGAIN ? total : -3;
}

TEST(PipeTest, NonblockingWriteToFullPipeGivesEagain) {
  Pipe p(O_NONBLOCK);
  ASSERT_TRUE(p.ok());
  long total = FillPipe(p.wr());
  // pipe(7): the default capacity is 16 pages since Linux 2.6.11.
  EXPECT_EQ(total, 16 * 4096);
  int avail = -1;
  ASSERT_EQ(ioctl(p.rd(), FIONREAD, &avail), 0);
  EXPECT_EQ(avail, total);
  errno = 0;
  EXPECT_EQ(write(p.wr(), "x", 1), -1) << "still full";
  EXPECT_EQ(errno, EAGAIN);
  // Room again after reading one page.
  char page[4096];
  ASSERT_EQ(read(p.rd(), page, sizeof page), static_cast<ssize_t>(sizeof page));
  EXPECT_EQ(write(p.wr(), "x", 1), 1);
}

TEST(PipeTest, FGetpipeSzIsTheCapacity) {
  Pipe p(O_NONBLOCK);
  ASSERT_TRUE(p.ok());
  int capacity = fcntl(p.wr(), F_GETPIPE_SZ);
  ASSERT_EQ(capacity, 16 * 4096) << strerror(errno);
  EXPECT_EQ(fcntl(p.rd(), F_GETPIPE_SZ), capacity) << "both ends name the same pipe";
  EXPECT_EQ(FillPipe(p.wr()), capacity);
}

TEST(PipeTest, ReadReturnsZeroOnceAllWriteEndsAreClosed) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  int dup_wr = dup(p.wr());
  ASSERT_GE(dup_wr, 0);
  ASSERT_EQ(write(p.wr(), "q", 1), 1);
  p.CloseWrite();
  char buf[4];
  EXPECT_EQ(read(p.rd(), buf, sizeof buf), 1) << "buffered data outlives the writer";
  // One write end (the dup) is still open: a non-blocking read would block.
  ASSERT_EQ(fcntl(p.rd(), F_SETFL, O_NONBLOCK), 0);
  errno = 0;
  EXPECT_EQ(read(p.rd(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  close(dup_wr);
  EXPECT_EQ(read(p.rd(), buf, sizeof buf), 0);
  EXPECT_EQ(read(p.rd(), buf, sizeof buf), 0) << "end of file is sticky";
}

TEST(PipeTest, ReaderSeesEofWhenWritingChildExits) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  pid_t pid = ForkChild([&] {
    p.CloseRead();
    CHILD_CHECK(WriteAll(p.wr(), "from child", 10));
    return 0;
  });
  ASSERT_GT(pid, 0);
  p.CloseWrite();
  EXPECT_EQ(ReadToEof(p.rd()), "from child");
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(PipeTest, WriteWithNoReaderGivesEpipeWhenSigpipeIgnored) {
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  ScopedSigaction restore(SIGPIPE, ign);
  ASSERT_TRUE(restore.ok());
  Pipe p;
  ASSERT_TRUE(p.ok());
  p.CloseRead();
  errno = 0;
  EXPECT_EQ(write(p.wr(), "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(PipeTest, WriteWithNoReaderKillsWithSigpipe) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  p.CloseRead();
  int status = RunInChild([&] {
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ssize_t n = write(p.wr(), "x", 1);
    fprintf(stderr, "write returned %zd (errno %d) instead of killing\n", n, errno);
    return kChildFailed;
  });
  EXPECT_KILLED_BY(status, SIGPIPE);
}

TEST(PipeTest, BlockedSigpipeIsLeftPendingAndWriteGivesEpipe) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  p.CloseRead();
  int status = RunInChild([&] {
    signal(SIGPIPE, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    CHILD_CHECK(sigprocmask(SIG_SETMASK, &set, nullptr) == 0);
    errno = 0;
    CHILD_CHECK(write(p.wr(), "x", 1) == -1);
    CHILD_CHECK(errno == EPIPE);
    sigset_t pending;
    CHILD_CHECK(sigpending(&pending) == 0);
    CHILD_CHECK(sigismember(&pending, SIGPIPE) == 1);
    siginfo_t si;
    struct timespec zero = {0, 0};
    CHILD_CHECK(sigtimedwait(&set, &si, &zero) == SIGPIPE);
    // The kernel sends it as from the writer itself.
    CHILD_CHECK(si.si_code == SI_USER);
    CHILD_CHECK(si.si_pid == getpid());
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST(PipeTest, DataFlowsBothWaysBetweenParentAndChild) {
  Pipe down, up;
  ASSERT_TRUE(down.ok() && up.ok());
  pid_t pid = ForkChild([&] {
    down.CloseWrite();
    up.CloseRead();
    // Echo everything back in upper case until end of file.
    std::string in = ReadToEof(down.rd());
    for (char& c : in) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    CHILD_CHECK(WriteAll(up.wr(), in.data(), in.size()));
    return 0;
  });
  ASSERT_GT(pid, 0);
  down.CloseRead();
  up.CloseWrite();
  ASSERT_TRUE(WriteAll(down.wr(), "hello child", 11));
  down.CloseWrite();
  EXPECT_EQ(ReadToEof(up.rd()), "HELLO CHILD");
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
}

TEST(PipeTest, WritesOfPipeBufBytesAreAtomic) {
  constexpr int kChunks = 100;
  Pipe p;
  ASSERT_TRUE(p.ok());
  pid_t writers[2];
  const char letters[2] = {'A', 'B'};
  for (int w = 0; w < 2; w++) {
    char letter = letters[w];
    writers[w] = ForkChild([&p, letter] {
      p.CloseRead();
      std::vector<char> chunk(PIPE_BUF, letter);
      for (int i = 0; i < kChunks; i++) {
        // One write() call per chunk: a partial write would break atomicity.
        CHILD_CHECK(write(p.wr(), chunk.data(), chunk.size()) == PIPE_BUF);
      }
      return 0;
    });
    ASSERT_GT(writers[w], 0);
  }
  p.CloseWrite();
  // Read in odd-sized pieces so that reads do not line up with writes.
  std::string all;
  std::vector<char> buf(PIPE_BUF / 3 + 7);
  for (;;) {
    ssize_t n = read(p.rd(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GE(n, 0) << strerror(errno);
    if (n == 0) break;
    all.append(buf.data(), static_cast<size_t>(n));
  }
  EXPECT_EXITED_WITH(WaitStatus(writers[0]), 0);
  EXPECT_EXITED_WITH(WaitStatus(writers[1]), 0);
  ASSERT_EQ(all.size(), 2u * kChunks * PIPE_BUF);
  int counts[2] = {0, 0};
  for (size_t off = 0; off < all.size(); off += PIPE_BUF) {
    char first = all[off];
    ASSERT_TRUE(first == 'A' || first == 'B') << "offset " << off;
    for (size_t i = off; i < off + PIPE_BUF; i++) {
      ASSERT_EQ(all[i], first) << "chunk at offset " << off << " is interleaved at " << i;
    }
    counts[first == 'A' ? 0 : 1]++;
  }
  EXPECT_EQ(counts[0], kChunks);
  EXPECT_EQ(counts[1], kChunks);
}

TEST(PipeTest, BlockedWriterResumesWhenReaderDrains) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  // Fill the pipe without blocking, then make the write end blocking again.
  ASSERT_EQ(fcntl(p.wr(), F_SETFL, O_NONBLOCK), 0);
  std::vector<char> page(4096, 'f');
  long filled = 0;
  for (;;) {
    ssize_t n = write(p.wr(), page.data(), page.size());
    if (n < 0) break;
    filled += n;
  }
  ASSERT_EQ(errno, EAGAIN);
  ASSERT_EQ(fcntl(p.wr(), F_SETFL, 0), 0);
  pid_t pid = ForkChild([&] {
    p.CloseRead();
    CHILD_CHECK(WriteAll(p.wr(), "0123456789", 10));  // blocks until there is room
    return 0;
  });
  ASSERT_GT(pid, 0);
  p.CloseWrite();
  std::string all = ReadToEof(p.rd());
  EXPECT_EXITED_WITH(WaitStatus(pid), 0);
  ASSERT_EQ(static_cast<long>(all.size()), filled + 10);
  EXPECT_EQ(all.substr(all.size() - 10), "0123456789");
}

TEST(PipeTest, FionreadCountsUnreadBytes) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  int n = -1;
  ASSERT_EQ(ioctl(p.rd(), FIONREAD, &n), 0) << strerror(errno);
  EXPECT_EQ(n, 0);
  std::string data(123, 'd');
  ASSERT_TRUE(WriteAll(p.wr(), data.data(), data.size()));
  ASSERT_EQ(ioctl(p.rd(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 123);
  char buf[23];
  ASSERT_EQ(read(p.rd(), buf, sizeof buf), 23);
  ASSERT_EQ(ioctl(p.rd(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 100);
  // The write end answers FIONREAD too, with the same count.
  ASSERT_EQ(ioctl(p.wr(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 100);
}

TEST(PipeTest, Dup2OfPipeEnds) {
  Pipe p(O_CLOEXEC);
  ASSERT_TRUE(p.ok());
  constexpr int kHighFd = 100;
  ASSERT_EQ(dup2(p.wr(), kHighFd), kHighFd) << strerror(errno);
  EXPECT_EQ(fcntl(kHighFd, F_GETFD), 0) << "dup2 clears FD_CLOEXEC on the new fd";
  EXPECT_EQ(fcntl(kHighFd, F_GETFL) & O_ACCMODE, O_WRONLY);
  ASSERT_EQ(write(kHighFd, "via dup", 7), 7);
  p.CloseWrite();
  // The duplicate keeps the pipe's write side open: no end of file yet.
  int n = -1;
  ASSERT_EQ(ioctl(p.rd(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 7);
  ASSERT_EQ(fcntl(p.rd(), F_SETFL, O_NONBLOCK), 0);
  char buf[16];
  ASSERT_EQ(read(p.rd(), buf, sizeof buf), 7);
  EXPECT_EQ(std::string(buf, 7), "via dup");
  errno = 0;
  EXPECT_EQ(read(p.rd(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_EQ(close(kHighFd), 0);
  EXPECT_EQ(read(p.rd(), buf, sizeof buf), 0);
}

TEST(PipeTest, Dup2OntoItselfAndDup3) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(dup2(p.rd(), p.rd()), p.rd()) << "dup2 onto itself returns the fd";
  errno = 0;
  EXPECT_EQ(dup3(p.rd(), p.rd(), 0), -1) << "dup3 onto itself fails";
  EXPECT_EQ(errno, EINVAL);
  constexpr int kFd = 101;
  ASSERT_EQ(dup3(p.rd(), kFd, O_CLOEXEC), kFd) << strerror(errno);
  EXPECT_EQ(fcntl(kFd, F_GETFD), FD_CLOEXEC);
  // dup2 over an open pipe end closes it silently first.
  ASSERT_EQ(dup2(p.wr(), kFd), kFd);
  EXPECT_EQ(fcntl(kFd, F_GETFL) & O_ACCMODE, O_WRONLY);
  ASSERT_EQ(write(kFd, "w", 1), 1);
  char b;
  EXPECT_EQ(read(p.rd(), &b, 1), 1);
  close(kFd);
}

TEST(PipeTest, PipesAreNotSeekable) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  errno = 0;
  EXPECT_EQ(lseek(p.rd(), 0, SEEK_CUR), -1);
  EXPECT_EQ(errno, ESPIPE);
  ASSERT_EQ(write(p.wr(), "abc", 3), 3);
  char buf[3];
  errno = 0;
  EXPECT_EQ(pread(p.rd(), buf, 3, 0), -1);
  EXPECT_EQ(errno, ESPIPE);
  errno = 0;
  EXPECT_EQ(pwrite(p.wr(), buf, 3, 0), -1);
  EXPECT_EQ(errno, ESPIPE);
}

TEST(PipeTest, ZeroLengthWriteSucceeds) {
  Pipe p(O_NONBLOCK);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(write(p.wr(), "", 0), 0);
  int n = -1;
  ASSERT_EQ(ioctl(p.rd(), FIONREAD, &n), 0);
  EXPECT_EQ(n, 0);
}

}  // namespace
}  // namespace syscall_test
