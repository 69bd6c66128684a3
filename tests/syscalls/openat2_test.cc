// openat2(2): the open_how checks and the RESOLVE_* flags that confine a
// path walk to a directory.
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <string>

#include "syscall_test_util.h"

namespace {

// openat2(2): with RESOLVE_BENEATH or RESOLVE_IN_ROOT, Linux answers
// EAGAIN when a rename or mount anywhere raced a ".." walk (other tests
// rename in parallel), and says to retry.
long Openat2(int dirfd, const char* path, const open_how& how, size_t size = sizeof(open_how)) {
  long r;
  do {
    r = syscall(SYS_openat2, dirfd, path, &how, size);
  } while (r == -1 && errno == EAGAIN);
  return r;
}

open_how How(uint64_t flags, uint64_t resolve, uint64_t mode = 0) {
  open_how how{};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return how;
}

// A tree: ROOT/file, ROOT/sub/inner, ROOT/sub/up -> ../.., ROOT/sub/abs ->
// /file, ROOT/sub/rel -> ../file; and OUTSIDE/secret next to ROOT.
class Openat2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/openat2_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    base_ = templ;
    root_ = base_ + "/root";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/sub").c_str(), 0755), 0);
    Write(root_ + "/file", "inside");
    Write(root_ + "/sub/inner", "inner");
    Write(base_ + "/secret", "outside");
    ASSERT_EQ(symlink("../..", (root_ + "/sub/up").c_str()), 0);
    ASSERT_EQ(symlink("/file", (root_ + "/sub/abs").c_str()), 0);
    ASSERT_EQ(symlink("../file", (root_ + "/sub/rel").c_str()), 0);
    dirfd_ = open(root_.c_str(), O_PATH | O_DIRECTORY);
    ASSERT_GE(dirfd_, 0);
  }
  void TearDown() override {
    close(dirfd_);
    std::string cmd = "rm -rf " + base_;
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  static void Write(const std::string& path, const std::string& text) {
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }
  static std::string Read(long fd) {
    char buf[64] = {};
    ssize_t n = read(static_cast<int>(fd), buf, sizeof buf - 1);
    close(static_cast<int>(fd));
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

  std::string base_, root_;
  int dirfd_ = -1;
};

TEST_F(Openat2Test, OpensLikeOpenat) {
  long fd = Openat2(dirfd_, "sub/inner", How(O_RDONLY, 0));
  ASSERT_GE(fd, 0) << strerror(errno);
  EXPECT_EQ(Read(fd), "inner");
}

TEST_F(Openat2Test, OpenHowIsCheckedStrictly) {
  open_how how = How(O_RDONLY, 0);
  EXPECT_EQ(Openat2(dirfd_, "file", how, 16), -1);
  EXPECT_EQ(errno, EINVAL) << "smaller than OPEN_HOW_SIZE_VER0";
  struct {
    open_how how;
    uint64_t extra;
  } bigger{how, 0};
  long fd = syscall(SYS_openat2, dirfd_, "file", &bigger, sizeof bigger);
  EXPECT_GE(fd, 0) << "a larger struct with a zero tail is accepted";
  if (fd >= 0) close(static_cast<int>(fd));
  bigger.extra = 1;
  EXPECT_EQ(syscall(SYS_openat2, dirfd_, "file", &bigger, sizeof bigger), -1);
  EXPECT_EQ(errno, E2BIG) << "a non-zero field the kernel does not know";
  EXPECT_EQ(Openat2(dirfd_, "file", How(O_RDONLY, 0, 0644)), -1);
  EXPECT_EQ(errno, EINVAL) << "a mode without O_CREAT";
  EXPECT_EQ(Openat2(dirfd_, "file", How(O_RDONLY | (1ULL << 40), 0)), -1);
  EXPECT_EQ(errno, EINVAL) << "unknown flags";
  EXPECT_EQ(Openat2(dirfd_, "file", How(O_RDONLY, 1ULL << 30)), -1);
  EXPECT_EQ(errno, EINVAL) << "unknown resolve flags";
  EXPECT_EQ(Openat2(dirfd_, "file", How(O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT)), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(Openat2Test, BeneathRefusesEveryWayOut) {
  long fd = Openat2(dirfd_, "sub/rel", How(O_RDONLY, RESOLVE_BENEATH));
  ASSERT_GE(fd, 0) << "a symlink that stays inside is fine: " << strerror(errno);
  EXPECT_EQ(Read(fd), "inside");
  for (const char* path : {"../secret", "sub/../../secret", "/etc/passwd", "sub/up/secret", "sub/abs"}) {
    EXPECT_EQ(Openat2(dirfd_, path, How(O_RDONLY, RESOLVE_BENEATH)), -1) << path;
    EXPECT_EQ(errno, EXDEV) << path;
  }
}

TEST_F(Openat2Test, InRootTreatsTheDirectoryAsRoot) {
  long fd = Openat2(dirfd_, "/file", How(O_RDONLY, RESOLVE_IN_ROOT));
  ASSERT_GE(fd, 0) << strerror(errno);
  EXPECT_EQ(Read(fd), "inside");
  fd = Openat2(dirfd_, "../../../file", How(O_RDONLY, RESOLVE_IN_ROOT));
  ASSERT_GE(fd, 0) << "\"..\" stops at the root: " << strerror(errno);
  EXPECT_EQ(Read(fd), "inside");
  fd = Openat2(dirfd_, "sub/abs", How(O_RDONLY, RESOLVE_IN_ROOT));
  ASSERT_GE(fd, 0) << "an absolute symlink resolves inside: " << strerror(errno);
  EXPECT_EQ(Read(fd), "inside");
  EXPECT_EQ(Openat2(dirfd_, "sub/up/secret", How(O_RDONLY, RESOLVE_IN_ROOT)), -1);
  EXPECT_EQ(errno, ENOENT) << "the secret outside is not reachable";
}

TEST_F(Openat2Test, NoSymlinksRefusesAnyLink) {
  EXPECT_EQ(Openat2(dirfd_, "sub/rel", How(O_RDONLY, RESOLVE_NO_SYMLINKS)), -1);
  EXPECT_EQ(errno, ELOOP);
  EXPECT_EQ(Openat2(dirfd_, "sub/up/root/file", How(O_RDONLY, RESOLVE_NO_SYMLINKS)), -1);
  EXPECT_EQ(errno, ELOOP) << "a link in the middle too";
  long fd = Openat2(dirfd_, "sub/inner", How(O_RDONLY, RESOLVE_NO_SYMLINKS));
  ASSERT_GE(fd, 0);
  close(static_cast<int>(fd));
}

TEST_F(Openat2Test, NoMagicLinksRefusesProcFdLinks) {
  int file = open((root_ + "/file").c_str(), O_RDONLY);
  ASSERT_GE(file, 0);
  std::string magic = "/proc/self/fd/" + std::to_string(file);
  EXPECT_EQ(Openat2(AT_FDCWD, magic.c_str(), How(O_RDONLY, RESOLVE_NO_MAGICLINKS)), -1);
  EXPECT_EQ(errno, ELOOP);
  long fd = Openat2(AT_FDCWD, magic.c_str(), How(O_RDONLY, 0));
  ASSERT_GE(fd, 0) << "without the flag the magic link opens the file";
  EXPECT_EQ(Read(fd), "inside");
  close(file);
}

TEST_F(Openat2Test, NoXdevRefusesCrossingIntoAnotherMount) {
  int root = open("/", O_PATH | O_DIRECTORY);
  ASSERT_GE(root, 0);
  EXPECT_EQ(Openat2(root, "proc/self/status", How(O_RDONLY, RESOLVE_NO_XDEV)), -1);
  EXPECT_EQ(errno, EXDEV) << "/proc is a mount of its own";
  close(root);
}

TEST_F(Openat2Test, CreateBeneathMakesTheFileInside) {
  long fd = Openat2(dirfd_, "sub/new", How(O_CREAT | O_WRONLY, RESOLVE_BENEATH, 0600));
  ASSERT_GE(fd, 0) << strerror(errno);
  close(static_cast<int>(fd));
  struct stat st;
  ASSERT_EQ(stat((root_ + "/sub/new").c_str(), &st), 0);
  EXPECT_EQ(Openat2(dirfd_, "../escaped", How(O_CREAT | O_WRONLY, RESOLVE_BENEATH, 0600)), -1);
  EXPECT_EQ(errno, EXDEV);
  EXPECT_NE(access((base_ + "/escaped").c_str(), F_OK), 0);
}

}  // namespace
