// /dev as null(4), zero(4), full(4), random(4), proc(5) (/dev/fd, the
// stdio links) and shm_overview(7) (/dev/shm) describe it: the memory
// devices' reads and writes and their device numbers, the links into
// /proc/self/fd, and shared memory through files in /dev/shm.
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#include <string>
#include <vector>

#include "syscall_test_util.h"

namespace {

using syscall_test::ReadToEof;
using syscall_test::WaitStatus;

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

bool AllZero(const std::vector<char>& v) {
  for (char c : v) {
    if (c != 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// The memory devices (devices.txt: character major 1)

struct MemDevice {
  const char* path;
  unsigned minor;
};
constexpr MemDevice kMemDevices[] = {
    {"/dev/null", 3}, {"/dev/zero", 5}, {"/dev/full", 7}, {"/dev/random", 8}, {"/dev/urandom", 9},
};

TEST(MemDevices, AreCharacterDevicesWithTheirNumbers) {
  for (const MemDevice& d : kMemDevices) {
    struct stat st;
    ASSERT_EQ(stat(d.path, &st), 0) << d.path;
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << d.path;
    EXPECT_EQ(st.st_mode & 07777, 0666u) << d.path;
    EXPECT_EQ(major(st.st_rdev), 1u) << d.path;
    EXPECT_EQ(minor(st.st_rdev), d.minor) << d.path;
    // An open descriptor says the same.
    int fd = open(d.path, O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << d.path;
    struct stat fst;
    ASSERT_EQ(fstat(fd, &fst), 0);
    EXPECT_TRUE(S_ISCHR(fst.st_mode)) << d.path;
    EXPECT_EQ(fst.st_rdev, st.st_rdev) << d.path;
    close(fd);
  }
}

// null(4): "Data written to /dev/null ... is discarded. Reads from
// /dev/null always return end of file".
TEST(DevNull, ReadsEofAndSwallowsWrites) {
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  char buf[64];
  EXPECT_EQ(read(fd, buf, sizeof buf), 0);
  EXPECT_EQ(write(fd, "discarded", 9), 9);
  EXPECT_EQ(read(fd, buf, sizeof buf), 0);
  EXPECT_EQ(pread(fd, buf, sizeof buf, 100), 0);
  std::vector<char> big(1 << 20, 'x');
  EXPECT_EQ(write(fd, big.data(), big.size()), static_cast<ssize_t>(big.size()));
  // lseek succeeds and the position stays at 0.
  EXPECT_EQ(lseek(fd, 100, SEEK_SET), 0);
  close(fd);
}

// What a shell's "> /dev/null" does.
TEST(DevNull, OpensWithCreatAndTrunc) {
  int fd = open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(write(fd, "x", 1), 1);
  close(fd);
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "still the device";
}

TEST(DevNull, IsAlwaysReady) {
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct pollfd p = {fd, POLLIN | POLLOUT, 0};
  EXPECT_EQ(poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents & (POLLIN | POLLOUT), POLLIN | POLLOUT);
  close(fd);
}

// zero(4): "Reads from /dev/zero always return bytes containing zero".
TEST(DevZero, ReadsZerosAndSwallowsWrites) {
  int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<char> buf(3 * 4096 + 17, '\x5a');
  EXPECT_EQ(read(fd, buf.data(), buf.size()), static_cast<ssize_t>(buf.size()));
  EXPECT_TRUE(AllZero(buf));
  // Scattered reads fill every piece.
  char a[10], b[20];
  memset(a, 1, sizeof a);
  memset(b, 1, sizeof b);
  struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
  EXPECT_EQ(readv(fd, iov, 2), 30);
  EXPECT_TRUE(AllZero(std::vector<char>(a, a + sizeof a)));
  EXPECT_TRUE(AllZero(std::vector<char>(b, b + sizeof b)));
  EXPECT_EQ(write(fd, "gone", 4), 4);
  close(fd);
}

TEST(DevZero, PrivateMappingIsZeroFilled) {
  int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* p = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  std::vector<char> v(static_cast<char*>(p), static_cast<char*>(p) + 8192);
  EXPECT_TRUE(AllZero(v));
  static_cast<char*>(p)[100] = 'w';  // writable, like anonymous memory
  munmap(p, 8192);
}

// A shared mapping of /dev/zero is shared anonymous memory (mmap(2)):
// a forked child's stores are seen by the parent.
TEST(DevZero, SharedMappingIsSharedAcrossFork) {
  int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto* p = static_cast<volatile int*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  close(fd);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  EXPECT_EQ(p[0], 0);
  pid_t child = syscall_test::ForkChild([&] {
    p[0] = 7;
    return 0;
  });
  EXPECT_EXITED_WITH(WaitStatus(child), 0);
  EXPECT_EQ(p[0], 7);
  munmap(const_cast<int*>(p), 4096);
}

TEST(MemDevices, OnlyZeroCanBeMapped) {
  for (const char* path : {"/dev/null", "/dev/full", "/dev/urandom"}) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path;
    void* p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    EXPECT_EQ(p, MAP_FAILED) << path;
    EXPECT_EQ(errno, ENODEV) << path;
    if (p != MAP_FAILED) munmap(p, 4096);
    close(fd);
  }
}

// full(4): "Writes to the /dev/full device fail with an ENOSPC error.
// ... Reads from the /dev/full device will return \0 characters."
TEST(DevFull, WritesFailWithEnospcAndReadsZeros) {
  int fd = open("/dev/full", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(write(fd, "x", 1), -1);
  EXPECT_EQ(errno, ENOSPC);
  std::vector<char> buf(100, '\x7f');
  EXPECT_EQ(read(fd, buf.data(), buf.size()), 100);
  EXPECT_TRUE(AllZero(buf));
  close(fd);
}

// random(4): reads return the requested bytes (up to 32 MiB - 1 for
// urandom; small reads are never short).
TEST(DevRandom, ReadsTheRequestedCount) {
  for (const char* path : {"/dev/urandom", "/dev/random"}) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path;
    std::vector<char> a(256), b(256);
    EXPECT_EQ(read(fd, a.data(), a.size()), 256) << path;
    EXPECT_EQ(read(fd, b.data(), b.size()), 256) << path;
    EXPECT_NE(a, b) << path << ": two reads of 256 random bytes matched";
    EXPECT_FALSE(AllZero(a)) << path;
    close(fd);
  }
}

TEST(DevRandom, WritesAreAccepted) {
  // Writing mixes data into the pool (random(4)); it is never refused.
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(write(fd, "entropy?", 8), 8);
  close(fd);
}

// ---------------------------------------------------------------------------
// /dev/fd and the stdio links (proc(5): /dev/fd is a link to /proc/self/fd)

TEST(DevFd, LinksIntoProcSelfFd) {
  const struct {
    const char* link;
    const char* target;
  } links[] = {{"/dev/fd", "/proc/self/fd"},
               {"/dev/stdin", "/proc/self/fd/0"},
               {"/dev/stdout", "/proc/self/fd/1"},
               {"/dev/stderr", "/proc/self/fd/2"}};
  for (const auto& l : links) {
    struct stat st;
    ASSERT_EQ(lstat(l.link, &st), 0) << l.link;
    EXPECT_TRUE(S_ISLNK(st.st_mode)) << l.link;
    EXPECT_EQ(ReadLink(l.link), l.target) << l.link;
  }
}

TEST(DevFd, OpeningAnFdReopensItsFile) {
  char templ[] = "/tmp/devfs_test.XXXXXX";
  int fd = mkstemp(templ);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "contents", 8), 8);
  int again = open(("/dev/fd/" + std::to_string(fd)).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(again, 0);
  char buf[16] = {};
  EXPECT_EQ(read(again, buf, sizeof buf), 8);
  EXPECT_STREQ(buf, "contents");
  struct stat a, b;
  ASSERT_EQ(fstat(fd, &a), 0);
  ASSERT_EQ(fstat(again, &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  close(again);
  close(fd);
  unlink(templ);
}

// Writing to /dev/stdout reaches whatever fd 1 is: here a pipe.
TEST(DevFd, DevStdoutWritesWhereFdOneGoes) {
  syscall_test::Pipe out;
  ASSERT_TRUE(out.ok());
  pid_t child = syscall_test::ForkChild([&] {
    CHILD_CHECK(dup2(out.wr(), 1) == 1);
    out.CloseRead();
    out.CloseWrite();
    int fd = open("/dev/stdout", O_WRONLY | O_CLOEXEC);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(write(fd, "via /dev/stdout\n", 16) == 16);
    close(fd);
    int fd2 = open("/dev/fd/1", O_WRONLY | O_CLOEXEC);
    CHILD_CHECK(fd2 >= 0);
    CHILD_CHECK(write(fd2, "via /dev/fd/1\n", 14) == 14);
    return 0;
  });
  ASSERT_GT(child, 0);
  out.CloseWrite();
  EXPECT_EQ(ReadToEof(out.rd()), "via /dev/stdout\nvia /dev/fd/1\n");
  EXPECT_EXITED_WITH(WaitStatus(child), 0);
}

TEST(DevFd, DevStdinReadsWhatFdZeroReads) {
  syscall_test::Pipe in, result;
  ASSERT_TRUE(in.ok() && result.ok());
  pid_t child = syscall_test::ForkChild([&] {
    CHILD_CHECK(dup2(in.rd(), 0) == 0);
    in.CloseRead();
    in.CloseWrite();
    int fd = open("/dev/stdin", O_RDONLY | O_CLOEXEC);
    CHILD_CHECK(fd >= 0);
    std::string got = ReadToEof(fd);
    CHILD_CHECK(syscall_test::WriteAll(result.wr(), got.data(), got.size()));
    return 0;
  });
  ASSERT_GT(child, 0);
  in.CloseRead();
  result.CloseWrite();
  ASSERT_TRUE(syscall_test::WriteAll(in.wr(), "to stdin", 8));
  in.CloseWrite();
  EXPECT_EQ(ReadToEof(result.rd()), "to stdin");
  EXPECT_EXITED_WITH(WaitStatus(child), 0);
}

// ---------------------------------------------------------------------------
// /dev/shm (shm_overview(7): POSIX shared memory objects live there)

TEST(DevShm, IsAStickyWorldWritableDirectory) {
  struct stat st;
  ASSERT_EQ(stat("/dev/shm", &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

TEST(DevShm, MappedFileIsSharedAcrossFork) {
  const std::string path = "/dev/shm/devfs_test." + std::to_string(getpid());
  int fd = open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  auto* shared = static_cast<volatile int*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(shared, MAP_FAILED);
  shared[0] = 1;
  pid_t child = syscall_test::ForkChild([&] {
    CHILD_CHECK(shared[0] == 1);
    shared[1] = 42;  // through the inherited mapping
    // And through a mapping of its own of the same file.
    int cfd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    CHILD_CHECK(cfd >= 0);
    auto* own = static_cast<volatile int*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0));
    CHILD_CHECK(own != MAP_FAILED);
    own[2] = 43;
    return 0;
  });
  EXPECT_EXITED_WITH(WaitStatus(child), 0);
  EXPECT_EQ(shared[1], 42);
  EXPECT_EQ(shared[2], 43);
  // The stores are the file's contents too.
  int words[3] = {};
  EXPECT_EQ(pread(fd, words, sizeof words, 0), static_cast<ssize_t>(sizeof words));
  EXPECT_EQ(words[2], 43);
  munmap(const_cast<int*>(shared), 4096);
  close(fd);
  EXPECT_EQ(unlink(path.c_str()), 0);
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
}

// shm_open(3) makes its objects in /dev/shm; shm_unlink removes them.
TEST(DevShm, ShmOpenAndUnlink) {
  const std::string name = "/devfs_test_shm." + std::to_string(getpid());
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(("/dev/shm" + name).c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), -1);
  EXPECT_EQ(errno, EEXIST);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  auto* p = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(p, MAP_FAILED);
  memcpy(p, "posix shm", 10);
  // A second opening sees the same object.
  int fd2 = shm_open(name.c_str(), O_RDONLY, 0);
  ASSERT_GE(fd2, 0);
  char buf[10] = {};
  EXPECT_EQ(read(fd2, buf, sizeof buf), 10);
  EXPECT_STREQ(buf, "posix shm");
  close(fd2);
  munmap(p, 4096);
  close(fd);
  EXPECT_EQ(shm_unlink(name.c_str()), 0);
  EXPECT_EQ(stat(("/dev/shm" + name).c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(shm_unlink(name.c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(shm_open(name.c_str(), O_RDWR, 0), -1);
  EXPECT_EQ(errno, ENOENT);
}

}  // namespace
