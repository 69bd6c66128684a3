// Files and directories: open(2), creat(2), read/write/pread/pwrite and
// lseek(2) on regular files, mkdir(2), rmdir(2), unlink(2), rename(2) and
// renameat2(2), link(2), symlink(2), readlink(2), chmod(2), chown(2),
// utimensat(2), truncate(2), fallocate(2), statfs(2), getdents64(2),
// access(2), umask(2), the xattr calls (setxattr(2), getxattr(2),
// listxattr(2), removexattr(2)), the permission checks of
// path_resolution(7) for an unprivileged caller, and MAP_SHARED file
// mappings (mmap(2)). Every case works in a fresh directory made with
// mkdtemp(3) under /tmp and removed at the end. The permission cases need
// to start as root.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// Removes `path` and everything under it; returns 0 or an errno value.
int RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = opendir(path.c_str());
    if (!dir) return errno;
    std::vector<std::string> names;
    while (struct dirent* e = readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
    for (const auto& name : names) {
      if (int r = RemoveTree(path + "/" + name); r != 0) return r;
    }
    return rmdir(path.c_str()) == 0 ? 0 : errno;
  }
  return unlink(path.c_str()) == 0 ? 0 : errno;
}

// Writes `data` to a new file `path` (mode 0644 before the umask).
bool WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return false;
  bool ok = WriteAll(fd, data.data(), data.size());
  return close(fd) == 0 && ok;
}

// The whole content of `path`, or "<errno N>" if it cannot be opened.
std::string ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return "<errno " + std::to_string(errno) + ">";
  std::string out = ReadToEof(fd);
  close(fd);
  return out;
}

// Restores the umask on destruction.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

class FileOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/file_ops_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr) << strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      EXPECT_EQ(RemoveTree(dir_), 0) << "removing " << dir_;
    }
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

// ---------------------------------------------------------------------------
// open(2), creat(2) and file I/O

TEST_F(FileOpsTest, OpenCreatAppliesUmaskToMode) {
  // open(2): "the mode of the created file is (mode & ~umask)".
  {
    ScopedUmask mask(022);
    int fd = open(Path("a").c_str(), O_CREAT | O_WRONLY, 0777);
    ASSERT_GE(fd, 0) << strerror(errno);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(st.st_size, 0);
    EXPECT_EQ(st.st_nlink, 1u);
    EXPECT_EQ(st.st_uid, geteuid());
    close(fd);
  }
  {
    ScopedUmask mask(077);
    int fd = open(Path("b").c_str(), O_CREAT | O_RDWR, 0666);
    ASSERT_GE(fd, 0) << strerror(errno);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    close(fd);
  }
}

TEST_F(FileOpsTest, UmaskReturnsThePreviousMask) {
  // umask(2): "returns the previous value of the mask"; only 0777 is kept.
  mode_t old = umask(027);
  EXPECT_EQ(umask(07777), 027u);
  EXPECT_EQ(umask(old), 0777u);
}

TEST_F(FileOpsTest, OpenCreatDoesNotChangeAnExistingFile) {
  ASSERT_TRUE(WriteFile(Path("f"), "keep", 0640));
  int fd = open(Path("f").c_str(), O_CREAT | O_RDWR, 0777);
  ASSERT_GE(fd, 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u) << "mode applies only when the file is created";
  EXPECT_EQ(ReadToEof(fd), "keep");
  close(fd);
}

TEST_F(FileOpsTest, OpenMissingFileWithoutCreatGivesEnoent) {
  errno = 0;
  EXPECT_EQ(open(Path("missing").c_str(), O_RDONLY), -1);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(open(Path("missing/x").c_str(), O_RDONLY | O_CREAT, 0644), -1);
  EXPECT_EQ(errno, ENOENT) << "a missing directory in the path";
}

TEST_F(FileOpsTest, OpenExclOnExistingFileGivesEexist) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  errno = 0;
  EXPECT_EQ(open(Path("f").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), -1);
  EXPECT_EQ(errno, EEXIST);
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(open(Path("d").c_str(), O_CREAT | O_EXCL | O_RDONLY, 0644), -1);
  EXPECT_EQ(errno, EEXIST) << "a directory exists too";
}

TEST_F(FileOpsTest, OpenExclOnDanglingSymlinkGivesEexist) {
  // open(2): with O_CREAT|O_EXCL "symbolic links are not followed": a
  // link whose target is missing still makes the name exist.
  ASSERT_EQ(symlink(Path("target").c_str(), Path("link").c_str()), 0);
  errno = 0;
  EXPECT_EQ(open(Path("link").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), -1);
  EXPECT_EQ(errno, EEXIST);
  struct stat st;
  errno = 0;
  EXPECT_EQ(stat(Path("target").c_str(), &st), -1) << "the target was not created";
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, OpenTruncEmptiesTheFile) {
  ASSERT_TRUE(WriteFile(Path("f"), "some data"));
  int fd = open(Path("f").c_str(), O_RDWR | O_TRUNC);
  ASSERT_GE(fd, 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(ReadToEof(fd), "");
  close(fd);
}

TEST_F(FileOpsTest, OpenAppendWritesAtTheEndEvenAfterLseek) {
  // open(2) O_APPEND: "before each write(2), the file offset is positioned
  // at the end of the file, as if with lseek(2)".
  ASSERT_TRUE(WriteFile(Path("f"), "abc"));
  int fd = open(Path("f").c_str(), O_RDWR | O_APPEND);
  ASSERT_GE(fd, 0) << strerror(errno);
  EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
  ASSERT_EQ(write(fd, "de", 2), 2);
  EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 5) << "the offset is left past the appended data";
  EXPECT_EQ(lseek(fd, 1, SEEK_SET), 1);
  ASSERT_EQ(write(fd, "f", 1), 1);
  close(fd);
  EXPECT_EQ(ReadFile(Path("f")), "abcdef");
}

TEST_F(FileOpsTest, OpenDirectoryOnAFileGivesEnotdir) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  errno = 0;
  EXPECT_EQ(open(Path("f").c_str(), O_RDONLY | O_DIRECTORY), -1);
  EXPECT_EQ(errno, ENOTDIR);
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  int fd = open(Path("d").c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_GE(fd, 0) << strerror(errno);
  close(fd);
}

TEST_F(FileOpsTest, OpenDirectoryForWritingGivesEisdir) {
  // open(2) EISDIR: "pathname refers to a directory and the access
  // requested involved writing".
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  for (int flags : {O_WRONLY, O_RDWR}) {
    errno = 0;
    EXPECT_EQ(open(Path("d").c_str(), flags), -1) << "flags " << flags;
    EXPECT_EQ(errno, EISDIR) << "flags " << flags;
  }
  int fd = open(Path("d").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << strerror(errno);
  char b;
  errno = 0;
  EXPECT_EQ(read(fd, &b, 1), -1) << "read(2) of a directory";
  EXPECT_EQ(errno, EISDIR);
  close(fd);
}

TEST_F(FileOpsTest, OpenCreatWithTrailingSlashGivesEisdir) {
  // open(2) EISDIR: "pathname refers to a directory and the access
  // requested involved writing"; and a name with a trailing slash can
  // only be a directory, which O_CREAT cannot make: EISDIR as well.
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(open(Path("d/").c_str(), O_CREAT | O_WRONLY, 0644), -1);
  EXPECT_EQ(errno, EISDIR);
  errno = 0;
  EXPECT_EQ(open(Path("new/").c_str(), O_CREAT | O_WRONLY, 0644), -1);
  EXPECT_EQ(errno, EISDIR);
  struct stat st;
  EXPECT_EQ(lstat(Path("new").c_str(), &st), -1) << "nothing was created";
}

TEST_F(FileOpsTest, OpenNofollowOnSymlinkGivesEloop) {
  // open(2) O_NOFOLLOW: "If the trailing component of pathname is a
  // symbolic link, then the open fails, with the error ELOOP."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(symlink("f", Path("link").c_str()), 0);
  errno = 0;
  EXPECT_EQ(open(Path("link").c_str(), O_RDONLY | O_NOFOLLOW), -1);
  EXPECT_EQ(errno, ELOOP);
  // Links earlier in the path are still followed.
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("d/g"), "y"));
  ASSERT_EQ(symlink("d", Path("dlink").c_str()), 0);
  int fd = open(Path("dlink/g").c_str(), O_RDONLY | O_NOFOLLOW);
  EXPECT_GE(fd, 0) << strerror(errno);
  close(fd);
  // Without O_NOFOLLOW the link is followed.
  EXPECT_EQ(ReadFile(Path("link")), "x");
}

TEST_F(FileOpsTest, OpenCreatOnAnExistingDirectoryGivesEisdir) {
  // open(2) EISDIR: with O_CREAT, "pathname ... refers to a directory"
  // even for O_RDONLY: O_CREAT never opens a directory.
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(open(Path("d").c_str(), O_CREAT | O_RDONLY, 0644), -1);
  EXPECT_EQ(errno, EISDIR);
  errno = 0;
  EXPECT_EQ(creat(Path("d").c_str(), 0644), -1);
  EXPECT_EQ(errno, EISDIR);
}

TEST_F(FileOpsTest, OpenCreatThroughADanglingSymlinkCreatesTheTarget) {
  // open(2) O_CREAT: without O_EXCL a symbolic link is followed, so a
  // dangling one gets its target created.
  ASSERT_EQ(symlink("target", Path("link").c_str()), 0);
  int fd = open(Path("link").c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(write(fd, "via link", 8), 8);
  close(fd);
  EXPECT_EQ(ReadFile(Path("target")), "via link");
  struct stat st;
  ASSERT_EQ(lstat(Path("link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link itself is left alone";
  // With O_NOFOLLOW the link is not followed: ELOOP.
  ASSERT_EQ(symlink("other", Path("link2").c_str()), 0);
  errno = 0;
  EXPECT_EQ(open(Path("link2").c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW, 0600), -1);
  EXPECT_EQ(errno, ELOOP);
  EXPECT_EQ(lstat(Path("other").c_str(), &st), -1);
}

TEST_F(FileOpsTest, TrailingSlashOnAFileGivesEnotdir) {
  // path_resolution(7): a pathname ending in "/" must name a directory.
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  struct stat st;
  errno = 0;
  EXPECT_EQ(stat(Path("f/").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOTDIR);
  errno = 0;
  EXPECT_EQ(open(Path("f/").c_str(), O_RDONLY), -1);
  EXPECT_EQ(errno, ENOTDIR);
  errno = 0;
  EXPECT_EQ(open(Path("f/x").c_str(), O_RDONLY), -1);
  EXPECT_EQ(errno, ENOTDIR) << "a file in the middle of the path";
}

TEST_F(FileOpsTest, SymlinkLoopGivesEloop) {
  // path_resolution(7): too many symbolic links while resolving: ELOOP.
  ASSERT_EQ(symlink("loop", Path("loop").c_str()), 0);
  errno = 0;
  EXPECT_EQ(open(Path("loop").c_str(), O_RDONLY), -1);
  EXPECT_EQ(errno, ELOOP);
  ASSERT_EQ(symlink("b", Path("a").c_str()), 0);
  ASSERT_EQ(symlink("a", Path("b").c_str()), 0);
  struct stat st;
  errno = 0;
  EXPECT_EQ(stat(Path("a").c_str(), &st), -1);
  EXPECT_EQ(errno, ELOOP);
  EXPECT_EQ(lstat(Path("a").c_str(), &st), 0);
}

TEST_F(FileOpsTest, PwriteOnAnAppendFdAppends) {
  // pwrite(2) BUGS: "if a file is opened with O_APPEND, pwrite() appends
  // data to the end of the file, regardless of the value of offset."
  ASSERT_TRUE(WriteFile(Path("f"), "abc"));
  int fd = open(Path("f").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "Z", 1, 0), 1);
  close(fd);
  EXPECT_EQ(ReadFile(Path("f")), "abcZ");
}

TEST_F(FileOpsTest, WriteOnAReadOnlyFdGivesEbadf) {
  ASSERT_TRUE(WriteFile(Path("f"), "abc"));
  int fd = open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  errno = 0;
  EXPECT_EQ(write(fd, "x", 1), -1);
  EXPECT_EQ(errno, EBADF);
  close(fd);
}

TEST_F(FileOpsTest, WriteUpdatesModificationTime) {
  // write(2): "the file's last modification time ... is updated".
  ASSERT_TRUE(WriteFile(Path("f"), "abc"));
  const timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), old, 0), 0);
  int fd = open(Path("f").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "x", 1), 1);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_GT(st.st_mtim.tv_sec, 1000);
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), old, 0), 0);
  ASSERT_EQ(ftruncate(fd, 100), 0);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_GT(st.st_mtim.tv_sec, 1000) << "truncate(2) changes it too";
  close(fd);
}

TEST_F(FileOpsTest, CreatingAndRemovingNamesUpdatesTheDirectoryMtime) {
  // Adding or removing an entry modifies the directory (mkdir(2), unlink(2)).
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  const timespec old[2] = {{1000, 0}, {1000, 0}};
  struct stat st;
  ASSERT_EQ(utimensat(AT_FDCWD, Path("d").c_str(), old, 0), 0);
  ASSERT_TRUE(WriteFile(Path("d/f"), "x"));
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_GT(st.st_mtim.tv_sec, 1000) << "after creating a file";
  ASSERT_EQ(utimensat(AT_FDCWD, Path("d").c_str(), old, 0), 0);
  ASSERT_EQ(unlink(Path("d/f").c_str()), 0);
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_GT(st.st_mtim.tv_sec, 1000) << "after removing it";
  ASSERT_EQ(utimensat(AT_FDCWD, Path("d").c_str(), old, 0), 0);
  ASSERT_EQ(mkdir(Path("d/sub").c_str(), 0755), 0);
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_GT(st.st_mtim.tv_sec, 1000) << "after mkdir";
}

TEST_F(FileOpsTest, SeekDataAndSeekHole) {
  // lseek(2) SEEK_DATA/SEEK_HOLE: "ENXIO ... offset is beyond the end of
  // the file"; the end of the file counts as a hole, and a filesystem may
  // treat the whole file as data.
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  EXPECT_EQ(lseek(fd, 0, SEEK_DATA), 0);
  EXPECT_EQ(lseek(fd, 0, SEEK_HOLE), 3);
  errno = 0;
  EXPECT_EQ(lseek(fd, 3, SEEK_DATA), -1);
  EXPECT_EQ(errno, ENXIO);
  errno = 0;
  EXPECT_EQ(lseek(fd, 10, SEEK_HOLE), -1);
  EXPECT_EQ(errno, ENXIO);
  close(fd);
}

TEST_F(FileOpsTest, CreatTruncatesAndOpensWriteOnly) {
  // creat(2) "is equivalent to open() with flags O_CREAT|O_WRONLY|O_TRUNC".
  ASSERT_TRUE(WriteFile(Path("f"), "old contents"));
  int fd = creat(Path("f").c_str(), 0600);
  ASSERT_GE(fd, 0) << strerror(errno);
  EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 0);
  char b;
  errno = 0;
  EXPECT_EQ(read(fd, &b, 1), -1);
  EXPECT_EQ(errno, EBADF);
  ASSERT_EQ(write(fd, "new", 3), 3);
  close(fd);
  EXPECT_EQ(ReadFile(Path("f")), "new");

  ScopedUmask mask(022);
  fd = creat(Path("g").c_str(), 0666);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  close(fd);
}

TEST_F(FileOpsTest, WrittenDataIsReadBack) {
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << strerror(errno);
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>('a' + i % 26));
  ASSERT_TRUE(WriteAll(fd, data.data(), data.size()));
  EXPECT_EQ(lseek(fd, 0, SEEK_CUR), static_cast<off_t>(data.size()));
  EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
  EXPECT_EQ(ReadToEof(fd), data);
  char b;
  EXPECT_EQ(read(fd, &b, 1), 0) << "end of file";
  close(fd);
  EXPECT_EQ(ReadFile(Path("f")), data) << "through a second open";
  struct stat st;
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(data.size()));
}

TEST_F(FileOpsTest, PreadPwriteUseTheirOffsetAndLeaveTheFileOffset) {
  // pread(2): "The file offset is not changed."
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(write(fd, "0123456789", 10), 10);
  ASSERT_EQ(lseek(fd, 2, SEEK_SET), 2);
  EXPECT_EQ(pwrite(fd, "ab", 2, 4), 2);
  char buf[8] = {};
  EXPECT_EQ(pread(fd, buf, 4, 3), 4);
  EXPECT_EQ(std::string(buf, 4), "3ab6");
  EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 2);
  ASSERT_EQ(read(fd, buf, 3), 3);
  EXPECT_EQ(std::string(buf, 3), "23a");
  EXPECT_EQ(pread(fd, buf, sizeof buf, 8), 2) << "a short read at the end";
  EXPECT_EQ(pread(fd, buf, sizeof buf, 100), 0) << "past the end";
  errno = 0;
  EXPECT_EQ(pread(fd, buf, 1, -1), -1);
  EXPECT_EQ(errno, EINVAL);
  close(fd);
  EXPECT_EQ(ReadFile(Path("f")), "0123ab6789");
}

TEST_F(FileOpsTest, HolesReadAsZeros) {
  // lseek(2): "If data is later written at this point, subsequent reads
  // of the data in the gap (a 'hole') return null bytes".
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(write(fd, "ab", 2), 2);
  ASSERT_EQ(lseek(fd, 20000, SEEK_SET), 20000);
  ASSERT_EQ(write(fd, "z", 1), 1);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 20001);
  std::string want = "ab" + std::string(19998, '\0') + "z";
  EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
  EXPECT_TRUE(ReadToEof(fd) == want) << "the gap reads as zeros";
  // pwrite past the end leaves a hole too.
  ASSERT_EQ(pwrite(fd, "q", 1, 30000), 1);
  char buf[10];
  ASSERT_EQ(pread(fd, buf, sizeof buf, 25000), 10);
  EXPECT_EQ(std::string(buf, 10), std::string(10, '\0'));
  close(fd);
}

TEST_F(FileOpsTest, LseekSeekEndAndSeekCur) {
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(write(fd, "hello", 5), 5);
  EXPECT_EQ(lseek(fd, 0, SEEK_END), 5);
  EXPECT_EQ(lseek(fd, -2, SEEK_END), 3);
  char buf[4];
  ASSERT_EQ(read(fd, buf, sizeof buf), 2);
  EXPECT_EQ(std::string(buf, 2), "lo");
  EXPECT_EQ(lseek(fd, -4, SEEK_CUR), 1);
  errno = 0;
  EXPECT_EQ(lseek(fd, -10, SEEK_END), -1) << "a negative resulting offset";
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 1) << "a failed lseek leaves the offset";
  errno = 0;
  EXPECT_EQ(lseek(fd, 0, 12345), -1);
  EXPECT_EQ(errno, EINVAL);
  // Seeking past the end is allowed and does not change the size.
  EXPECT_EQ(lseek(fd, 100, SEEK_END), 105);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 5);
  close(fd);
}

// ---------------------------------------------------------------------------
// mkdir(2) and rmdir(2)

TEST_F(FileOpsTest, MkdirCreatesADirectoryWithModeAndUmask) {
  ScopedUmask mask(027);
  ASSERT_EQ(mkdir(Path("d").c_str(), 0777), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_nlink, 2u) << "its name and its own \".\"";
}

TEST_F(FileOpsTest, MkdirOnExistingNameGivesEexist) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(symlink("nowhere", Path("dangling").c_str()), 0);
  for (const char* name : {"d", "f", "dangling"}) {
    errno = 0;
    EXPECT_EQ(mkdir(Path(name).c_str(), 0755), -1) << name;
    EXPECT_EQ(errno, EEXIST) << name;
  }
}

TEST_F(FileOpsTest, MkdirWithMissingParentGivesEnoent) {
  errno = 0;
  EXPECT_EQ(mkdir(Path("a/b").c_str(), 0755), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, MkdirUnderAFileGivesEnotdir) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  errno = 0;
  EXPECT_EQ(mkdir(Path("f/d").c_str(), 0755), -1);
  EXPECT_EQ(errno, ENOTDIR);
}

TEST_F(FileOpsTest, RmdirRemovesAnEmptyDirectory) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_EQ(rmdir(Path("d").c_str()), 0) << strerror(errno);
  struct stat st;
  errno = 0;
  EXPECT_EQ(stat(Path("d").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(rmdir(Path("d").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, RmdirOfANonEmptyDirectoryGivesEnotempty) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("d/f"), "x"));
  errno = 0;
  EXPECT_EQ(rmdir(Path("d").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  ASSERT_EQ(unlink(Path("d/f").c_str()), 0);
  EXPECT_EQ(rmdir(Path("d").c_str()), 0) << "empty once the file is gone";
}

TEST_F(FileOpsTest, RmdirDotGivesEinval) {
  // rmdir(2) EINVAL: "pathname has . as last component."
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(rmdir(Path("d/.").c_str()), -1);
  EXPECT_EQ(errno, EINVAL);
  // rmdir(2) ENOTEMPTY: "pathname contains .. as its final component".
  errno = 0;
  EXPECT_EQ(rmdir(Path("d/..").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
}

TEST_F(FileOpsTest, RmdirOfAFileGivesEnotdir) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  errno = 0;
  EXPECT_EQ(rmdir(Path("f").c_str()), -1);
  EXPECT_EQ(errno, ENOTDIR);
}

TEST_F(FileOpsTest, DirectoryLinkCountIsTwoPlusSubdirectories) {
  // Each subdirectory's ".." is a link to its parent; files add none.
  struct stat st;
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  ASSERT_EQ(mkdir(Path("d/a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("d/b").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("d/f"), "x"));
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 4u);
  ASSERT_EQ(rmdir(Path("d/a").c_str()), 0);
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 3u);
  // Moving a subdirectory elsewhere moves its ".." link with it.
  ASSERT_EQ(rename(Path("d/b").c_str(), Path("b").c_str()), 0);
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
}

TEST_F(FileOpsTest, MkdirAndRmdirAcceptATrailingSlash) {
  ASSERT_EQ(mkdir(Path("d/").c_str(), 0755), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(rmdir(Path("d/").c_str()), 0) << strerror(errno);
}

TEST_F(FileOpsTest, MkdirKeepsTheStickyBit) {
  // mkdir(2): the new directory's mode is "(mode & ~umask & 01777)".
  ScopedUmask mask(0);
  ASSERT_EQ(mkdir(Path("d").c_str(), 01777), 0);
  struct stat st;
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

TEST_F(FileOpsTest, SetGroupIdDirectoryPassesItsGroupOn) {
  // mkdir(2)/open(2): "if the parent directory has the set-group-ID bit
  // set, then the group ownership is inherited from the parent", and a
  // new subdirectory inherits the bit.
  if (geteuid() != 0) GTEST_SKIP() << "needs to run as root (CAP_CHOWN)";
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("d").c_str(), 0, 4321), 0);
  ASSERT_EQ(chmod(Path("d").c_str(), 02775), 0);
  ASSERT_TRUE(WriteFile(Path("d/f"), "x"));
  ASSERT_EQ(mkdir(Path("d/sub").c_str(), 0755), 0);
  struct stat st;
  ASSERT_EQ(stat(Path("d/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 4321u);
  EXPECT_EQ(st.st_mode & S_ISGID, 0u) << "a file does not get the bit";
  ASSERT_EQ(stat(Path("d/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 4321u);
  EXPECT_NE(st.st_mode & S_ISGID, 0u) << "a directory does";
}

TEST_F(FileOpsTest, RemovedDirectoryCannotGainEntries) {
  // A directory removed while open stays usable as a descriptor, but
  // nothing can be created in it (ENOENT).
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  int dfd = open(Path("d").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dfd, 0);
  ASSERT_EQ(rmdir(Path("d").c_str()), 0);
  struct stat st;
  ASSERT_EQ(fstat(dfd, &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  errno = 0;
  EXPECT_EQ(openat(dfd, "f", O_CREAT | O_WRONLY, 0644), -1);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(mkdirat(dfd, "sub", 0755), -1);
  EXPECT_EQ(errno, ENOENT);
  close(dfd);
}

TEST_F(FileOpsTest, UnlinkatRemovedirRemovesDirectoriesOnly) {
  // unlinkat(2): with AT_REMOVEDIR it "performs the equivalent of rmdir(2)".
  int dfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dfd, 0);
  ASSERT_EQ(mkdirat(dfd, "d", 0755), 0);
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  errno = 0;
  EXPECT_EQ(unlinkat(dfd, "f", AT_REMOVEDIR), -1);
  EXPECT_EQ(errno, ENOTDIR);
  errno = 0;
  EXPECT_EQ(unlinkat(dfd, "d", 0), -1);
  EXPECT_EQ(errno, EISDIR);
  errno = 0;
  EXPECT_EQ(unlinkat(dfd, "d", 0x1000), -1) << "an unknown flag";
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(unlinkat(dfd, "d", AT_REMOVEDIR), 0) << strerror(errno);
  EXPECT_EQ(unlinkat(dfd, "f", 0), 0) << strerror(errno);
  close(dfd);
}

// ---------------------------------------------------------------------------
// unlink(2)

TEST_F(FileOpsTest, UnlinkRemovesTheName) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(unlink(Path("f").c_str()), 0) << strerror(errno);
  struct stat st;
  errno = 0;
  EXPECT_EQ(lstat(Path("f").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(open(Path("f").c_str(), O_RDONLY), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, UnlinkOfADirectoryGivesEisdir) {
  // unlink(2) EISDIR: "pathname refers to a directory. (This is the
  // non-POSIX value returned since Linux 2.1.132.)"
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(unlink(Path("d").c_str()), -1);
  EXPECT_EQ(errno, EISDIR);
  struct stat st;
  EXPECT_EQ(stat(Path("d").c_str(), &st), 0) << "still there";
}

TEST_F(FileOpsTest, UnlinkOfAMissingNameGivesEnoent) {
  errno = 0;
  EXPECT_EQ(unlink(Path("missing").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(unlink(Path("missing/f").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, UnlinkedFileStaysReadableThroughAnOpenFd) {
  // unlink(2): "If the name was the last link to a file but any processes
  // still have the file open, the file will remain in existence until the
  // last file descriptor referring to it is closed."
  ASSERT_TRUE(WriteFile(Path("f"), "still here"));
  int fd = open(Path("f").c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(unlink(Path("f").c_str()), 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_size, 10);
  EXPECT_EQ(ReadToEof(fd), "still here");
  ASSERT_EQ(pwrite(fd, "S", 1, 0), 1) << "and writable";
  char buf[5];
  ASSERT_EQ(pread(fd, buf, 5, 0), 5);
  EXPECT_EQ(std::string(buf, 5), "Still");
  // The name is free again for a new, unrelated file.
  ASSERT_TRUE(WriteFile(Path("f"), "new"));
  struct stat st2;
  ASSERT_EQ(stat(Path("f").c_str(), &st2), 0);
  EXPECT_EQ(st2.st_size, 3);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 10);
  close(fd);
}

TEST_F(FileOpsTest, UnlinkWithTrailingSlashOnAFileGivesEnotdir) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  errno = 0;
  EXPECT_EQ(unlink(Path("f/").c_str()), -1);
  EXPECT_EQ(errno, ENOTDIR);
  struct stat st;
  EXPECT_EQ(stat(Path("f").c_str(), &st), 0) << "still there";
}

// ---------------------------------------------------------------------------
// rename(2) and renameat2(2)

int Renameat2(const std::string& from, const std::string& to, unsigned flags) {
  return static_cast<int>(syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags));
}

TEST_F(FileOpsTest, RenameFileOverFileReplacesIt) {
  // rename(2): "If newpath already exists, it will be atomically replaced".
  ASSERT_TRUE(WriteFile(Path("a"), "from a"));
  ASSERT_TRUE(WriteFile(Path("b"), "from b"));
  struct stat a_st;
  ASSERT_EQ(stat(Path("a").c_str(), &a_st), 0);
  ASSERT_EQ(rename(Path("a").c_str(), Path("b").c_str()), 0) << strerror(errno);
  struct stat st;
  errno = 0;
  EXPECT_EQ(stat(Path("a").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  ASSERT_EQ(stat(Path("b").c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, a_st.st_ino) << "the same file under its new name";
  EXPECT_EQ(ReadFile(Path("b")), "from a");
}

TEST_F(FileOpsTest, RenameToANewNameInAnotherDirectory) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("a"), "data"));
  ASSERT_EQ(rename(Path("a").c_str(), Path("d/b").c_str()), 0) << strerror(errno);
  EXPECT_EQ(ReadFile(Path("d/b")), "data");
  errno = 0;
  EXPECT_EQ(rename(Path("a").c_str(), Path("c").c_str()), -1);
  EXPECT_EQ(errno, ENOENT) << "the old name is gone";
}

TEST_F(FileOpsTest, RenameDirectoryOverEmptyDirectory) {
  // rename(2): "oldpath can specify a directory. In this case, newpath
  // must either not exist, or it must specify an empty directory."
  ASSERT_EQ(mkdir(Path("a").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("a/f"), "inside"));
  ASSERT_EQ(mkdir(Path("b").c_str(), 0755), 0);
  ASSERT_EQ(rename(Path("a").c_str(), Path("b").c_str()), 0) << strerror(errno);
  EXPECT_EQ(ReadFile(Path("b/f")), "inside");
  struct stat st;
  EXPECT_EQ(stat(Path("a").c_str(), &st), -1);
}

TEST_F(FileOpsTest, RenameDirectoryOverNonEmptyDirectoryGivesEnotempty) {
  // rename(2) ENOTEMPTY or EEXIST: "newpath is a nonempty directory";
  // Linux's local filesystems give ENOTEMPTY.
  ASSERT_EQ(mkdir(Path("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("b").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("b/f"), "x"));
  errno = 0;
  EXPECT_EQ(rename(Path("a").c_str(), Path("b").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  EXPECT_EQ(ReadFile(Path("b/f")), "x");
}

TEST_F(FileOpsTest, RenameFileOverDirectoryGivesEisdir) {
  // rename(2) EISDIR: "newpath is an existing directory, but oldpath is
  // not a directory."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(rename(Path("f").c_str(), Path("d").c_str()), -1);
  EXPECT_EQ(errno, EISDIR);
}

TEST_F(FileOpsTest, RenameDirectoryOverFileGivesEnotdir) {
  // rename(2) ENOTDIR: "oldpath is a directory, and newpath exists but is
  // not a directory."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(rename(Path("d").c_str(), Path("f").c_str()), -1);
  EXPECT_EQ(errno, ENOTDIR);
  EXPECT_EQ(ReadFile(Path("f")), "x");
}

TEST_F(FileOpsTest, RenameDirectoryIntoItsOwnSubdirectoryGivesEinval) {
  // rename(2) EINVAL: "The new pathname contained a path prefix of the
  // old, ... an attempt was made to make a directory a subdirectory of itself."
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("d/sub").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(rename(Path("d").c_str(), Path("d/sub/d").c_str()), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(rename(Path("d").c_str(), Path("d/x").c_str()), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(FileOpsTest, RenameNoreplaceOnExistingNameGivesEexist) {
  // renameat2(2) RENAME_NOREPLACE: "Don't overwrite newpath ... Return an
  // error if newpath already exists."
  ASSERT_TRUE(WriteFile(Path("a"), "a"));
  ASSERT_TRUE(WriteFile(Path("b"), "b"));
  errno = 0;
  EXPECT_EQ(Renameat2(Path("a"), Path("b"), RENAME_NOREPLACE), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(ReadFile(Path("a")), "a");
  EXPECT_EQ(ReadFile(Path("b")), "b");
  EXPECT_EQ(Renameat2(Path("a"), Path("c"), RENAME_NOREPLACE), 0) << strerror(errno);
  EXPECT_EQ(ReadFile(Path("c")), "a");
}

TEST_F(FileOpsTest, RenameExchangeSwapsTheTwoNames) {
  // renameat2(2) RENAME_EXCHANGE: "Atomically exchange oldpath and
  // newpath. Both pathnames must exist but may be of different types".
  ASSERT_TRUE(WriteFile(Path("a"), "first"));
  ASSERT_TRUE(WriteFile(Path("b"), "second"));
  ASSERT_EQ(Renameat2(Path("a"), Path("b"), RENAME_EXCHANGE), 0) << strerror(errno);
  EXPECT_EQ(ReadFile(Path("a")), "second");
  EXPECT_EQ(ReadFile(Path("b")), "first");
  // A file and a directory in different directories.
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("d/sub").c_str(), 0755), 0);
  ASSERT_EQ(Renameat2(Path("a"), Path("d/sub"), RENAME_EXCHANGE), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(Path("a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(ReadFile(Path("d/sub")), "second");
  ASSERT_EQ(stat(Path("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u) << "the subdirectory left d";
  // ENOENT when the new name is missing.
  errno = 0;
  EXPECT_EQ(Renameat2(Path("b"), Path("missing"), RENAME_EXCHANGE), -1);
  EXPECT_EQ(errno, ENOENT);
  // EINVAL with RENAME_NOREPLACE as well.
  errno = 0;
  EXPECT_EQ(Renameat2(Path("a"), Path("b"), RENAME_EXCHANGE | RENAME_NOREPLACE), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(FileOpsTest, RenameBetweenHardLinksOfOneFileDoesNothing) {
  // rename(2): "If oldpath and newpath are existing hard links referring
  // to the same file, then rename() does nothing, and returns a success
  // status."
  ASSERT_TRUE(WriteFile(Path("a"), "data"));
  ASSERT_EQ(link(Path("a").c_str(), Path("b").c_str()), 0);
  ASSERT_EQ(rename(Path("a").c_str(), Path("b").c_str()), 0) << strerror(errno);
  struct stat a_st, b_st;
  ASSERT_EQ(stat(Path("a").c_str(), &a_st), 0) << "both names are kept";
  ASSERT_EQ(stat(Path("b").c_str(), &b_st), 0);
  EXPECT_EQ(a_st.st_ino, b_st.st_ino);
  EXPECT_EQ(a_st.st_nlink, 2u);
}

TEST_F(FileOpsTest, RenameOfAMissingNameGivesEnoent) {
  errno = 0;
  EXPECT_EQ(rename(Path("missing").c_str(), Path("b").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, RenameOverAFileLeavesItReadableThroughAnOpenFd) {
  // The replaced file loses its name like an unlinked one.
  ASSERT_TRUE(WriteFile(Path("a"), "new"));
  ASSERT_TRUE(WriteFile(Path("b"), "old"));
  int fd = open(Path("b").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(rename(Path("a").c_str(), Path("b").c_str()), 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(ReadToEof(fd), "old");
  close(fd);
  EXPECT_EQ(ReadFile(Path("b")), "new");
}

TEST_F(FileOpsTest, RenameOverOneOfSeveralLinksDropsTheCount) {
  ASSERT_TRUE(WriteFile(Path("a"), "linked"));
  ASSERT_EQ(link(Path("a").c_str(), Path("b").c_str()), 0);
  ASSERT_TRUE(WriteFile(Path("c"), "other"));
  ASSERT_EQ(rename(Path("c").c_str(), Path("b").c_str()), 0);
  struct stat st;
  ASSERT_EQ(stat(Path("a").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(ReadFile(Path("b")), "other");
}

TEST_F(FileOpsTest, RenameMovesADirectorysDotDot) {
  ASSERT_EQ(mkdir(Path("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("b").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("a/sub").c_str(), 0755), 0);
  ASSERT_EQ(rename(Path("a/sub").c_str(), Path("b/sub").c_str()), 0) << strerror(errno);
  struct stat b_st, dotdot_st, a_st;
  ASSERT_EQ(stat(Path("b").c_str(), &b_st), 0);
  ASSERT_EQ(stat(Path("b/sub/..").c_str(), &dotdot_st), 0);
  EXPECT_EQ(dotdot_st.st_ino, b_st.st_ino);
  EXPECT_EQ(b_st.st_nlink, 3u);
  ASSERT_EQ(stat(Path("a").c_str(), &a_st), 0);
  EXPECT_EQ(a_st.st_nlink, 2u);
  // Replacing an empty directory elsewhere: the old parent loses a link,
  // the replaced one's parent keeps its count.
  ASSERT_EQ(mkdir(Path("a/victim").c_str(), 0755), 0);
  ASSERT_EQ(rename(Path("b/sub").c_str(), Path("a/victim").c_str()), 0) << strerror(errno);
  ASSERT_EQ(stat(Path("a").c_str(), &a_st), 0);
  EXPECT_EQ(a_st.st_nlink, 3u);
  ASSERT_EQ(stat(Path("b").c_str(), &b_st), 0);
  EXPECT_EQ(b_st.st_nlink, 2u);
}

TEST_F(FileOpsTest, RenameOntoAnAncestorGivesEnotempty) {
  // The target is a non-empty directory (it holds the source).
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("d/sub").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(rename(Path("d/sub").c_str(), Path("d").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
}

TEST_F(FileOpsTest, RenameAFileWithATrailingSlashGivesEnotdir) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  errno = 0;
  EXPECT_EQ(rename(Path("f").c_str(), Path("g/").c_str()), -1);
  EXPECT_EQ(errno, ENOTDIR);
  errno = 0;
  EXPECT_EQ(rename(Path("f/").c_str(), Path("g").c_str()), -1);
  EXPECT_EQ(errno, ENOTDIR);
  // A directory may have one.
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  EXPECT_EQ(rename(Path("d/").c_str(), Path("e/").c_str()), 0) << strerror(errno);
}

TEST_F(FileOpsTest, RenameToItselfDoesNothing) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  EXPECT_EQ(rename(Path("f").c_str(), Path("f").c_str()), 0);
  EXPECT_EQ(ReadFile(Path("f")), "x");
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  EXPECT_EQ(rename(Path("d").c_str(), Path("d").c_str()), 0);
}

// ---------------------------------------------------------------------------
// link(2), symlink(2) and readlink(2)

TEST_F(FileOpsTest, LinkAddsANameAndCountsIt) {
  ASSERT_TRUE(WriteFile(Path("a"), "shared"));
  ASSERT_EQ(link(Path("a").c_str(), Path("b").c_str()), 0) << strerror(errno);
  struct stat a_st, b_st;
  ASSERT_EQ(stat(Path("a").c_str(), &a_st), 0);
  ASSERT_EQ(stat(Path("b").c_str(), &b_st), 0);
  EXPECT_EQ(a_st.st_ino, b_st.st_ino);
  EXPECT_EQ(a_st.st_nlink, 2u);
  // Both names reach the same data.
  int fd = open(Path("b").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "!", 1), 1);
  close(fd);
  EXPECT_EQ(ReadFile(Path("a")), "shared!");
  ASSERT_EQ(unlink(Path("a").c_str()), 0);
  ASSERT_EQ(stat(Path("b").c_str(), &b_st), 0);
  EXPECT_EQ(b_st.st_nlink, 1u);
  EXPECT_EQ(ReadFile(Path("b")), "shared!");
}

TEST_F(FileOpsTest, LinkToAnExistingNameGivesEexist) {
  ASSERT_TRUE(WriteFile(Path("a"), "a"));
  ASSERT_TRUE(WriteFile(Path("b"), "b"));
  errno = 0;
  EXPECT_EQ(link(Path("a").c_str(), Path("b").c_str()), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(ReadFile(Path("b")), "b");
}

TEST_F(FileOpsTest, LinkToADirectoryGivesEperm) {
  // link(2) EPERM: "oldpath is a directory."
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(link(Path("d").c_str(), Path("e").c_str()), -1);
  EXPECT_EQ(errno, EPERM);
}

TEST_F(FileOpsTest, LinkOfAMissingFileGivesEnoent) {
  errno = 0;
  EXPECT_EQ(link(Path("missing").c_str(), Path("b").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, SymlinkAndReadlinkRoundTrip) {
  // readlink(2) "does not append a terminating null byte" and truncates
  // to the buffer size.
  const std::string target = "some/relative/target";
  ASSERT_EQ(symlink(target.c_str(), Path("link").c_str()), 0) << strerror(errno);
  char buf[64];
  memset(buf, 'X', sizeof buf);
  ssize_t n = readlink(Path("link").c_str(), buf, sizeof buf);
  ASSERT_EQ(n, static_cast<ssize_t>(target.size())) << strerror(errno);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), target);
  EXPECT_EQ(buf[n], 'X') << "no terminating NUL";
  EXPECT_EQ(readlink(Path("link").c_str(), buf, 4), 4) << "truncated";
  EXPECT_EQ(std::string(buf, 4), "some");
  // The target need not exist; the name does.
  errno = 0;
  EXPECT_EQ(symlink("other", Path("link").c_str()), -1);
  EXPECT_EQ(errno, EEXIST);
}

TEST_F(FileOpsTest, ReadlinkOfANonLinkGivesEinval) {
  // readlink(2) EINVAL: "The named file ... is not a symbolic link."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  char buf[16];
  errno = 0;
  EXPECT_EQ(readlink(Path("f").c_str(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(readlink(dir_.c_str(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(readlink(Path("missing").c_str(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, LstatDescribesTheLinkAndStatItsTarget) {
  // stat(2): "lstat() is identical to stat(), except that if pathname is
  // a symbolic link, then it returns information about the link itself";
  // a link's size is the length of its target.
  ASSERT_TRUE(WriteFile(Path("file"), "twelve bytes"));
  ASSERT_EQ(symlink("file", Path("link").c_str()), 0);
  struct stat lst, st;
  ASSERT_EQ(lstat(Path("link").c_str(), &lst), 0);
  ASSERT_EQ(stat(Path("link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(lst.st_mode));
  EXPECT_EQ(lst.st_size, 4);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 12);
  EXPECT_NE(lst.st_ino, st.st_ino);
  // A dangling link: lstat works, stat does not.
  ASSERT_EQ(symlink("nowhere", Path("dangling").c_str()), 0);
  EXPECT_EQ(lstat(Path("dangling").c_str(), &lst), 0);
  errno = 0;
  EXPECT_EQ(stat(Path("dangling").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, LinkDoesNotFollowASymlink) {
  // link(2): "If oldpath is a symbolic link, newpath is created as a
  // link to the same symbolic link file" (Linux does not dereference).
  ASSERT_EQ(symlink("nowhere", Path("link").c_str()), 0);
  ASSERT_EQ(link(Path("link").c_str(), Path("hard").c_str()), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(lstat(Path("hard").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_nlink, 2u);
  // linkat(2) with AT_SYMLINK_FOLLOW dereferences it.
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(symlink("f", Path("flink").c_str()), 0);
  ASSERT_EQ(linkat(AT_FDCWD, Path("flink").c_str(), AT_FDCWD, Path("fhard").c_str(), AT_SYMLINK_FOLLOW), 0);
  ASSERT_EQ(lstat(Path("fhard").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_nlink, 2u);
}

TEST_F(FileOpsTest, ReadlinkWithZeroSizeGivesEinval) {
  // readlink(2) EINVAL: "bufsiz is not positive."
  ASSERT_EQ(symlink("t", Path("link").c_str()), 0);
  char buf[4];
  errno = 0;
  EXPECT_EQ(readlink(Path("link").c_str(), buf, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(FileOpsTest, SymlinkWithAnEmptyTargetGivesEnoent) {
  // symlink(2) ENOENT: "target is an empty string".
  errno = 0;
  EXPECT_EQ(symlink("", Path("link").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
}

// ---------------------------------------------------------------------------
// chmod(2), chown(2), utimensat(2)

TEST_F(FileOpsTest, ChmodAndFchmodSetTheMode) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  struct stat st;
  ASSERT_EQ(chmod(Path("f").c_str(), 04751), 0) << strerror(errno);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04751u);
  EXPECT_TRUE(S_ISREG(st.st_mode)) << "the type is kept";
  int fd = open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fchmod(fd, 0600), 0) << strerror(errno);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  close(fd);
  // chmod follows symlinks.
  ASSERT_EQ(symlink("f", Path("link").c_str()), 0);
  ASSERT_EQ(chmod(Path("link").c_str(), 0444), 0);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  errno = 0;
  EXPECT_EQ(chmod(Path("missing").c_str(), 0644), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FileOpsTest, ChownAsRootChangesOwnerAndGroup) {
  if (geteuid() != 0) GTEST_SKIP() << "needs to run as root (CAP_CHOWN)";
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  struct stat st;
  ASSERT_EQ(chown(Path("f").c_str(), 1234, 5678), 0) << strerror(errno);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  // -1 leaves that ID as it is.
  ASSERT_EQ(chown(Path("f").c_str(), static_cast<uid_t>(-1), 42), 0);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 42u);
  int fd = open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fchown(fd, 7, static_cast<gid_t>(-1)), 0) << strerror(errno);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_uid, 7u);
  EXPECT_EQ(st.st_gid, 42u);
  close(fd);
  // lchown changes the link, not its target.
  ASSERT_EQ(symlink("f", Path("link").c_str()), 0);
  ASSERT_EQ(lchown(Path("link").c_str(), 99, 99), 0) << strerror(errno);
  ASSERT_EQ(lstat(Path("link").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 99u);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 7u);
}

TEST_F(FileOpsTest, ChownClearsSetUserId) {
  // chown(2): "When the owner or group of an executable file is changed
  // by an unprivileged user, the S_ISUID and S_ISGID mode bits are
  // cleared. ... since Linux 2.2.13, root is treated like other users."
  if (geteuid() != 0) GTEST_SKIP() << "needs to run as root (CAP_CHOWN)";
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(chmod(Path("f").c_str(), 06755), 0);
  ASSERT_EQ(chown(Path("f").c_str(), 1000, 1000), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "S_ISUID and (group-executable) S_ISGID cleared";
  // "In case of a non-group-executable file (i.e., one for which the
  // S_IXGRP bit is not set) the S_ISGID bit indicates mandatory locking,
  // and is not cleared by a chown()."
  ASSERT_EQ(chmod(Path("f").c_str(), 06745), 0);
  ASSERT_EQ(chown(Path("f").c_str(), 1001, static_cast<gid_t>(-1)), 0);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02745u);
  // Even a chown that changes neither ID drops S_ISUID (chown_common()
  // asks for it on every non-directory).
  ASSERT_EQ(chmod(Path("f").c_str(), 04755), 0);
  ASSERT_EQ(chown(Path("f").c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(-1)), 0);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(FileOpsTest, UtimensatSetsExplicitTimes) {
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  const timespec times[2] = {{1000, 500}, {2000000000, 999999999}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), times, 0), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_atim.tv_nsec, 500);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 999999999);
  // futimens(3) is utimensat on the descriptor.
  int fd = open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const timespec later[2] = {{3000, 0}, {4000, 0}};
  ASSERT_EQ(futimens(fd, later), 0) << strerror(errno);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 3000);
  EXPECT_EQ(st.st_mtim.tv_sec, 4000);
  close(fd);
  // utimensat(2) EINVAL: "Invalid value in one of the tv_nsec fields".
  const timespec bad[2] = {{0, 1000000000}, {0, 0}};
  errno = 0;
  EXPECT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), bad, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(FileOpsTest, UtimensatOmitLeavesATimestamp) {
  // utimensat(2): "If the tv_nsec field of one of the timespec structures
  // has the special value UTIME_OMIT, then the corresponding file
  // timestamp is left unchanged."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  const timespec start[2] = {{1000, 0}, {2000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), start, 0), 0);
  const timespec mtime_only[2] = {{0, UTIME_OMIT}, {5000, 7}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), mtime_only, 0), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_mtim.tv_sec, 5000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 7);
  const timespec atime_only[2] = {{6000, 0}, {0, UTIME_OMIT}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), atime_only, 0), 0);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 6000);
  EXPECT_EQ(st.st_mtim.tv_sec, 5000);
}

TEST_F(FileOpsTest, UtimensatNowSetsTheCurrentTime) {
  // utimensat(2): UTIME_NOW sets "the corresponding file timestamp ... to
  // the current time"; a null `times` sets both.
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  const timespec old[2] = {{1000, 0}, {2000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), old, 0), 0);
  const time_t before = time(nullptr);
  const timespec mtime_now[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), mtime_now, 0), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  // The filesystem's clock may lag time(2) by a tick: allow a second.
  EXPECT_GE(st.st_mtim.tv_sec, before - 1);
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), nullptr, 0), 0) << strerror(errno);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_GE(st.st_atim.tv_sec, before - 1);
  EXPECT_GE(st.st_mtim.tv_sec, before - 1);
}

// ---------------------------------------------------------------------------
// truncate(2), ftruncate(2), fallocate(2)

TEST_F(FileOpsTest, TruncateShrinksAndGrowsWithZeros) {
  // truncate(2): "If the file previously was larger than this size, the
  // extra data is lost. If the file previously was shorter, it is
  // extended, and the extended part reads as null bytes".
  ASSERT_TRUE(WriteFile(Path("f"), "hello world"));
  ASSERT_EQ(truncate(Path("f").c_str(), 5), 0) << strerror(errno);
  EXPECT_EQ(ReadFile(Path("f")), "hello");
  ASSERT_EQ(truncate(Path("f").c_str(), 11), 0);
  EXPECT_EQ(ReadFile(Path("f")), std::string("hello") + std::string(6, '\0'))
      << "the old bytes do not come back";
  struct stat st;
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 11);
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  errno = 0;
  EXPECT_EQ(truncate(Path("d").c_str(), 0), -1);
  EXPECT_EQ(errno, EISDIR);
  errno = 0;
  EXPECT_EQ(truncate(Path("f").c_str(), -1), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(FileOpsTest, FtruncateShrinkThenGrowReadsZeros) {
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << strerror(errno);
  std::string data(10000, 'x');
  ASSERT_TRUE(WriteAll(fd, data.data(), data.size()));
  ASSERT_EQ(ftruncate(fd, 100), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 100);
  ASSERT_EQ(ftruncate(fd, 9000), 0);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 9000);
  std::string want = std::string(100, 'x') + std::string(8900, '\0');
  EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
  EXPECT_TRUE(ReadToEof(fd) == want) << "the regrown part reads as zeros";
  // "the file offset is not changed": it stays past the end.
  EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 9000);
  close(fd);
}

TEST_F(FileOpsTest, FtruncateOnAReadOnlyFdGivesEinval) {
  // ftruncate(2) "EBADF or EINVAL: fd is not open for writing"; Linux
  // gives EINVAL.
  ASSERT_TRUE(WriteFile(Path("f"), "data"));
  int fd = open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  errno = 0;
  EXPECT_EQ(ftruncate(fd, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  close(fd);
  EXPECT_EQ(ReadFile(Path("f")), "data");
}

TEST_F(FileOpsTest, FallocateGrowsTheFile) {
  // fallocate(2): "the file size will be changed if offset+len is greater
  // than the file size"; the new range reads as zeros.
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  ASSERT_EQ(fallocate(fd, 0, 0, 8192), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 8192);
  EXPECT_GE(st.st_blocks, 8192 / 512);
  std::string want = "abc" + std::string(8189, '\0');
  EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
  EXPECT_TRUE(ReadToEof(fd) == want) << "existing data kept, the rest zeros";
  // A range inside the file changes nothing.
  ASSERT_EQ(fallocate(fd, 0, 10, 10), 0);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 8192);
  // fallocate(2) EINVAL: "offset was less than 0, or len was less than or
  // equal to 0."
  errno = 0;
  EXPECT_EQ(fallocate(fd, 0, 0, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  close(fd);
}

TEST_F(FileOpsTest, FallocateKeepSizeLeavesTheSize) {
  // fallocate(2) FALLOC_FL_KEEP_SIZE: "the file size will not be changed
  // even if offset+len is greater than the file size."
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  ASSERT_EQ(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 3);
  EXPECT_GE(st.st_blocks, 65536 / 512) << "the space is allocated all the same";
  close(fd);
  EXPECT_EQ(ReadFile(Path("f")), "abc");
}

TEST_F(FileOpsTest, FallocateOnAReadOnlyFdGivesEbadf) {
  // fallocate(2) EBADF: "fd is not a valid file descriptor, or is not
  // opened for writing."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  int fd = open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  errno = 0;
  EXPECT_EQ(fallocate(fd, 0, 0, 4096), -1);
  EXPECT_EQ(errno, EBADF);
  close(fd);
}

TEST_F(FileOpsTest, UtimensatNofollowSetsTheLinksOwnTimes) {
  // utimensat(2) AT_SYMLINK_NOFOLLOW: "update the timestamps of the link,
  // rather than the file to which it refers."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(symlink("f", Path("link").c_str()), 0);
  const timespec target_times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("f").c_str(), target_times, 0), 0);
  const timespec link_times[2] = {{2000, 0}, {3000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("link").c_str(), link_times, AT_SYMLINK_NOFOLLOW), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(lstat(Path("link").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 2000);
  EXPECT_EQ(st.st_mtim.tv_sec, 3000);
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000);
}

TEST_F(FileOpsTest, ChmodKeepsTheModeOfALinkedFileForAllNames) {
  ASSERT_TRUE(WriteFile(Path("a"), "x"));
  ASSERT_EQ(link(Path("a").c_str(), Path("b").c_str()), 0);
  ASSERT_EQ(chmod(Path("a").c_str(), 0604), 0);
  struct stat st;
  ASSERT_EQ(stat(Path("b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0604u);
}

TEST_F(FileOpsTest, FallocatePunchHoleZeroesTheRange) {
  // fallocate(2) FALLOC_FL_PUNCH_HOLE: "Deallocates space ... Within the
  // specified range, partial filesystem blocks are zeroed ... the file
  // size ... will not be changed"; it "must be ORed with FALLOC_FL_KEEP_SIZE".
  int fd = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  std::string data(3 * 4096, 'x');
  ASSERT_TRUE(WriteAll(fd, data.data(), data.size()));
  errno = 0;
  EXPECT_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  ASSERT_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5000), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 3 * 4096);
  std::string want = std::string(100, 'x') + std::string(5000, '\0') + std::string(3 * 4096 - 5100, 'x');
  EXPECT_EQ(lseek(fd, 0, SEEK_SET), 0);
  EXPECT_TRUE(ReadToEof(fd) == want);
  close(fd);
}

// ---------------------------------------------------------------------------
// statfs(2), getdents64(2), access(2)

TEST_F(FileOpsTest, StatfsOfTheTemporaryDirectory) {
  struct statfs sfs;
  ASSERT_EQ(statfs(dir_.c_str(), &sfs), 0) << strerror(errno);
  EXPECT_GT(sfs.f_bsize, 0);
  EXPECT_GT(sfs.f_namelen, 0);
  EXPECT_LE(sfs.f_bfree, sfs.f_blocks);
  struct statfs fsfs;
  int fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fstatfs(fd, &fsfs), 0) << strerror(errno);
  EXPECT_EQ(fsfs.f_type, sfs.f_type) << "the same filesystem";
  close(fd);
  errno = 0;
  EXPECT_EQ(statfs(Path("missing").c_str(), &sfs), -1);
  EXPECT_EQ(errno, ENOENT);
}

struct Dirent {
  std::string name;
  unsigned char type;
};

// Every entry of `path` read with getdents64(2) in small batches.
std::vector<Dirent> ListDir(const std::string& path) {
  std::vector<Dirent> out;
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return out;
  alignas(8) char buf[256];
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long pos = 0; pos < n;) {
      // linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name.
      auto* d = reinterpret_cast<struct dirent64*>(buf + pos);
      out.push_back({d->d_name, d->d_type});
      pos += d->d_reclen;
    }
  }
  close(fd);
  return out;
}

TEST_F(FileOpsTest, GetdentsListsCurrentNamesWithDotAndDotDot) {
  // getdents64(2) reads "several linux_dirent structures from the
  // directory"; readdir(3) lists "." and ".." too.
  for (const char* name : {"one", "two", "three", "gone"}) ASSERT_TRUE(WriteFile(Path(name), "x"));
  ASSERT_EQ(mkdir(Path("sub").c_str(), 0755), 0);
  ASSERT_EQ(symlink("one", Path("link").c_str()), 0);
  ASSERT_EQ(unlink(Path("gone").c_str()), 0);
  // Enough names that a 256-byte buffer needs several calls.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(WriteFile(Path("file_with_a_longer_name_" + std::to_string(i)), ""));
  std::vector<Dirent> entries = ListDir(dir_);
  std::multiset<std::string> names;
  for (const auto& e : entries) names.insert(e.name);
  std::multiset<std::string> want = {".", "..", "one", "two", "three", "sub", "link"};
  for (int i = 0; i < 20; ++i) want.insert("file_with_a_longer_name_" + std::to_string(i));
  EXPECT_EQ(names, want);
  for (const auto& e : entries) {
    if (e.name == "one") {
      EXPECT_EQ(e.type, DT_REG);
    } else if (e.name == "sub" || e.name == "." || e.name == "..") {
      EXPECT_EQ(e.type, DT_DIR) << e.name;
    } else if (e.name == "link") {
      EXPECT_EQ(e.type, DT_LNK);
    }
  }
}

TEST_F(FileOpsTest, ReaddirOfAnEmptyDirectoryHasOnlyDotAndDotDot) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("d/f"), "x"));
  ASSERT_EQ(unlink(Path("d/f").c_str()), 0);
  DIR* dir = opendir(Path("d").c_str());
  ASSERT_NE(dir, nullptr) << strerror(errno);
  std::set<std::string> names;
  while (struct dirent* e = readdir(dir)) names.insert(e->d_name);
  closedir(dir);
  EXPECT_EQ(names, (std::set<std::string>{".", ".."}));
}

TEST_F(FileOpsTest, RewinddirSeesNamesAddedSinceTheFirstRead) {
  // rewinddir(3): it "shall also cause the directory stream to refer to
  // the current state of the corresponding directory".
  ASSERT_TRUE(WriteFile(Path("first"), "x"));
  DIR* dir = opendir(dir_.c_str());
  ASSERT_NE(dir, nullptr);
  std::set<std::string> names;
  while (struct dirent* e = readdir(dir)) names.insert(e->d_name);
  EXPECT_TRUE(names.contains("first"));
  ASSERT_TRUE(WriteFile(Path("second"), "x"));
  ASSERT_EQ(unlink(Path("first").c_str()), 0);
  rewinddir(dir);
  names.clear();
  while (struct dirent* e = readdir(dir)) names.insert(e->d_name);
  closedir(dir);
  EXPECT_EQ(names, (std::set<std::string>{".", "..", "second"}));
}

TEST_F(FileOpsTest, GetdentsInodeNumbersMatchStat) {
  // readdir(3): d_ino is the entry's inode number, as stat(2) shows it.
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  DIR* dir = opendir(dir_.c_str());
  ASSERT_NE(dir, nullptr);
  int seen = 0;
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "..") continue;
    struct stat st;
    ASSERT_EQ(lstat(Path(name).c_str(), &st), 0) << name;
    EXPECT_EQ(e->d_ino, st.st_ino) << name;
    ++seen;
  }
  closedir(dir);
  EXPECT_EQ(seen, 3);
}

TEST_F(FileOpsTest, GetdentsOfARemovedDirectoryGivesEnoent) {
  // A directory removed while open lists nothing: Linux refuses to read
  // a dead directory with ENOENT.
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  int fd = open(Path("d").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(rmdir(Path("d").c_str()), 0);
  alignas(8) char buf[256];
  errno = 0;
  EXPECT_EQ(syscall(SYS_getdents64, fd, buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENOENT);
  close(fd);
}

TEST_F(FileOpsTest, GetdentsWithATooSmallBufferGivesEinval) {
  // getdents64(2) EINVAL: "Result buffer is too small."
  int fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  alignas(8) char buf[8];
  errno = 0;
  EXPECT_EQ(syscall(SYS_getdents64, fd, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EINVAL);
  close(fd);
  // ENOTDIR: "File descriptor does not refer to a directory."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  fd = open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  alignas(8) char big[256];
  errno = 0;
  EXPECT_EQ(syscall(SYS_getdents64, fd, big, sizeof big), -1);
  EXPECT_EQ(errno, ENOTDIR);
  close(fd);
}

TEST_F(FileOpsTest, AccessChecksExistenceAndPermissionsForRoot) {
  ASSERT_TRUE(WriteFile(Path("f"), "x", 0000));
  ASSERT_EQ(chmod(Path("f").c_str(), 0), 0);
  EXPECT_EQ(access(Path("f").c_str(), F_OK), 0);
  if (geteuid() == 0) {
    // access(2): for root, R_OK and W_OK always succeed; "X_OK ... will
    // succeed if ... execute permission is enabled for any of the file's
    // owner, group, or other."
    EXPECT_EQ(access(Path("f").c_str(), R_OK | W_OK), 0);
    errno = 0;
    EXPECT_EQ(access(Path("f").c_str(), X_OK), -1);
    EXPECT_EQ(errno, EACCES);
    ASSERT_EQ(chmod(Path("f").c_str(), 0001), 0);
    EXPECT_EQ(access(Path("f").c_str(), X_OK), 0);
  }
  errno = 0;
  EXPECT_EQ(access(Path("missing").c_str(), F_OK), -1);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(access(Path("f").c_str(), 0100), -1) << "an invalid mode";
  EXPECT_EQ(errno, EINVAL);
}

// ---------------------------------------------------------------------------
// Permissions for an unprivileged caller (path_resolution(7), "Permission
// checking"). Each case sets up files as root, then drops to nobody in a
// forked child.

class FilePermissionTest : public FileOpsTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs to start as root (euid 0)";
    FileOpsTest::SetUp();
    // mkdtemp makes the directory 0700: let nobody search it.
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  }
};

// In a child: drops every privilege, becoming nobody/nogroup.
#define CHILD_BECOME_NOBODY()                 \
  do {                                        \
    CHILD_CHECK(setgroups(0, nullptr) == 0);  \
    CHILD_CHECK(setgid(kNogroup) == 0);       \
    CHILD_CHECK(setuid(kNobody) == 0);        \
    CHILD_CHECK(geteuid() == kNobody);        \
  } while (0)

TEST_F(FilePermissionTest, CreatingInARootOwnedDirectoryGivesEacces) {
  // path_resolution(7): creating a name needs write permission on the
  // directory; 0755 grants others only read and search.
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  const std::string d = Path("d");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    errno = 0;
    CHILD_CHECK(open((d + "/f").c_str(), O_CREAT | O_WRONLY, 0644) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(mkdir((d + "/sub").c_str(), 0755) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(symlink("x", (d + "/link").c_str()) == -1 && errno == EACCES);
    struct stat st;
    CHILD_CHECK(stat(d.c_str(), &st) == 0);  // searching the parent is fine
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
  struct stat st;
  EXPECT_EQ(lstat(Path("d/f").c_str(), &st), -1) << "nothing was created";
}

TEST_F(FilePermissionTest, OpeningARootOnlyFileGivesEacces) {
  ASSERT_TRUE(WriteFile(Path("secret"), "root only"));
  ASSERT_EQ(chmod(Path("secret").c_str(), 0600), 0);
  ASSERT_TRUE(WriteFile(Path("public"), "for all"));
  ASSERT_EQ(chmod(Path("public").c_str(), 0644), 0);
  const std::string secret = Path("secret"), pub = Path("public");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    for (int flags : {O_RDONLY, O_WRONLY, O_RDWR}) {
      errno = 0;
      CHILD_CHECK(open(secret.c_str(), flags) == -1 && errno == EACCES);
    }
    int fd = open(pub.c_str(), O_RDONLY);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(ReadToEof(fd) == "for all");
    close(fd);
    errno = 0;
    CHILD_CHECK(open(pub.c_str(), O_WRONLY) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(truncate(pub.c_str(), 0) == -1 && errno == EACCES);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(FilePermissionTest, SearchingADirectoryWithoutExecuteGivesEacces) {
  // path_resolution(7): "If the process does not have search permission
  // on the current lookup directory, an EACCES error is returned".
  ASSERT_EQ(mkdir(Path("d").c_str(), 0744), 0);
  ASSERT_EQ(chmod(Path("d").c_str(), 0744), 0);
  ASSERT_TRUE(WriteFile(Path("d/f"), "x"));
  ASSERT_EQ(chmod(Path("d/f").c_str(), 0644), 0);
  const std::string f = Path("d/f");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    struct stat st;
    errno = 0;
    CHILD_CHECK(stat(f.c_str(), &st) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(open(f.c_str(), O_RDONLY) == -1 && errno == EACCES);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(FilePermissionTest, UnlinkingAnotherUsersFileInAStickyDirectoryGivesEperm) {
  // unlink(2) EPERM: "The directory containing pathname has the sticky
  // bit (S_ISVTX) set and the process's effective UID is neither the UID
  // of the file to be deleted nor that of the directory containing it".
  ASSERT_EQ(mkdir(Path("sticky").c_str(), 0755), 0);
  ASSERT_EQ(chmod(Path("sticky").c_str(), 01777), 0);
  ASSERT_TRUE(WriteFile(Path("sticky/roots"), "x"));
  ASSERT_EQ(chmod(Path("sticky/roots").c_str(), 0666), 0);
  const std::string sticky = Path("sticky");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    errno = 0;
    CHILD_CHECK(unlink((sticky + "/roots").c_str()) == -1 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(rename((sticky + "/roots").c_str(), (sticky + "/moved").c_str()) == -1 && errno == EPERM);
    // Writable all the same: the sticky bit guards the name only.
    int fd = open((sticky + "/roots").c_str(), O_WRONLY);
    CHILD_CHECK(fd >= 0);
    close(fd);
    // A file of one's own can be created and removed.
    fd = open((sticky + "/mine").c_str(), O_CREAT | O_WRONLY, 0644);
    CHILD_CHECK(fd >= 0);
    close(fd);
    struct stat st;
    CHILD_CHECK(stat((sticky + "/mine").c_str(), &st) == 0 && st.st_uid == kNobody && st.st_gid == kNogroup);
    CHILD_CHECK(unlink((sticky + "/mine").c_str()) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
  struct stat st;
  EXPECT_EQ(stat(Path("sticky/roots").c_str(), &st), 0) << "root's file is still there";
}

TEST_F(FilePermissionTest, ChmodAndChownOfAnotherUsersFileGiveEperm) {
  // chmod(2) EPERM: "The effective UID does not match the owner of the
  // file, and the process is not privileged"; chown(2) likewise.
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(chmod(Path("f").c_str(), 0666), 0);
  const std::string f = Path("f");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    errno = 0;
    CHILD_CHECK(chmod(f.c_str(), 0777) == -1 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(chown(f.c_str(), kNobody, kNogroup) == -1 && errno == EPERM);
    // Even an open descriptor (it is writable) does not allow fchmod.
    int fd = open(f.c_str(), O_RDWR);
    CHILD_CHECK(fd >= 0);
    errno = 0;
    CHILD_CHECK(fchmod(fd, 0777) == -1 && errno == EPERM);
    close(fd);
    // Explicit timestamps need ownership too (utimensat(2) EPERM).
    const timespec times[2] = {{1, 0}, {1, 0}};
    errno = 0;
    CHILD_CHECK(utimensat(AT_FDCWD, f.c_str(), times, 0) == -1 && errno == EPERM);
    // But "now" needs only write permission.
    CHILD_CHECK(utimensat(AT_FDCWD, f.c_str(), nullptr, 0) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
  struct stat st;
  ASSERT_EQ(stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(FilePermissionTest, AccessWriteOnARootFileGivesEacces) {
  // access(2) checks "using the calling process's real UID and GID".
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(chmod(Path("f").c_str(), 0644), 0);
  const std::string f = Path("f");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    CHILD_CHECK(access(f.c_str(), F_OK) == 0);
    CHILD_CHECK(access(f.c_str(), R_OK) == 0);
    errno = 0;
    CHILD_CHECK(access(f.c_str(), W_OK) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(access(f.c_str(), R_OK | X_OK) == -1 && errno == EACCES);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(FilePermissionTest, DirectoryOwnerMayUnlinkOthersFilesInAStickyDirectory) {
  // unlink(2) EPERM only when the caller owns neither the file nor the
  // sticky directory.
  ASSERT_EQ(mkdir(Path("sticky").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("sticky").c_str(), kNobody, kNogroup), 0);
  ASSERT_EQ(chmod(Path("sticky").c_str(), 01777), 0);
  ASSERT_TRUE(WriteFile(Path("sticky/roots"), "x"));
  const std::string sticky = Path("sticky");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    CHILD_CHECK(unlink((sticky + "/roots").c_str()) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(FilePermissionTest, ChmodByOwnerOutsideTheGroupDropsSetGroupId) {
  // chmod(2): "If the calling process is not privileged ..., and the group
  // of the file does not match the effective group ID of the process or
  // one of its supplementary group IDs, the S_ISGID bit will be turned
  // off, but this will not cause an error to be returned."
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(chown(Path("f").c_str(), kNobody, 4321), 0);
  const std::string f = Path("f");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    CHILD_CHECK(chmod(f.c_str(), 02755) == 0);
    struct stat st;
    CHILD_CHECK(stat(f.c_str(), &st) == 0);
    CHILD_CHECK((st.st_mode & 07777) == 0755);
    // The owner may change the group only to one of its own.
    errno = 0;
    CHILD_CHECK(chown(f.c_str(), static_cast<uid_t>(-1), 4322) == -1 && errno == EPERM);
    CHILD_CHECK(chown(f.c_str(), static_cast<uid_t>(-1), kNogroup) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(FilePermissionTest, UtimeNowWithoutWritePermissionGivesEacces) {
  // utimensat(2) EACCES: "times is NULL, or both tv_nsec values are
  // UTIME_NOW, and the effective user ID of the caller does not match the
  // owner of the file, the caller does not have write access to the file".
  ASSERT_TRUE(WriteFile(Path("f"), "x"));
  ASSERT_EQ(chmod(Path("f").c_str(), 0644), 0);
  const std::string f = Path("f");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    errno = 0;
    CHILD_CHECK(utimensat(AT_FDCWD, f.c_str(), nullptr, 0) == -1 && errno == EACCES);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(FilePermissionTest, RemovingFromARootOwnedDirectoryGivesEacces) {
  // unlink(2)/rename(2) EACCES: "Write access to the directory containing
  // pathname is not allowed".
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(Path("d/f"), "x"));
  ASSERT_EQ(chown(Path("d/f").c_str(), kNobody, kNogroup), 0);
  ASSERT_EQ(mkdir(Path("d/sub").c_str(), 0755), 0);
  const std::string d = Path("d");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    errno = 0;
    CHILD_CHECK(unlink((d + "/f").c_str()) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(rmdir((d + "/sub").c_str()) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(rename((d + "/f").c_str(), (d + "/g").c_str()) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(link((d + "/f").c_str(), (d + "/h").c_str()) == -1 && errno == EACCES);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

TEST_F(FilePermissionTest, TruncationByAnUnprivilegedUserDropsSetUserId) {
  // truncate(2)/open(2) O_TRUNC change the file like a write does: for a
  // caller without CAP_FSETID the set-user-ID bit goes, as
  // should_remove_suid() has it; root's truncation keeps it.
  ASSERT_TRUE(WriteFile(Path("a"), "data"));
  ASSERT_TRUE(WriteFile(Path("b"), "data"));
  ASSERT_TRUE(WriteFile(Path("c"), "data"));
  for (const char* name : {"a", "b", "c"}) ASSERT_EQ(chmod(Path(name).c_str(), 04777), 0);
  ASSERT_EQ(truncate(Path("a").c_str(), 1), 0);
  struct stat st;
  ASSERT_EQ(stat(Path("a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04777u) << "root keeps it";
  const std::string a = Path("a"), b = Path("b"), c = Path("c");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    CHILD_CHECK(truncate(a.c_str(), 0) == 0);
    int fd = open(b.c_str(), O_WRONLY);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(ftruncate(fd, 2) == 0);
    close(fd);
    fd = open(c.c_str(), O_WRONLY | O_TRUNC);
    CHILD_CHECK(fd >= 0);
    close(fd);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_EQ(stat(Path(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0777u) << name;
  }
}

TEST_F(FilePermissionTest, MovingAnotherUsersDirectoryToANewParentGivesEacces) {
  // rename(2) EACCES: "oldpath is a directory and does not allow write
  // permission (needed to update the .. entry)".
  ASSERT_EQ(mkdir(Path("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("b").c_str(), 0755), 0);
  ASSERT_EQ(chmod(Path("a").c_str(), 0777), 0);
  ASSERT_EQ(chmod(Path("b").c_str(), 0777), 0);
  ASSERT_EQ(mkdir(Path("a/sub").c_str(), 0755), 0);
  const std::string a = Path("a"), b = Path("b");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    errno = 0;
    CHILD_CHECK(rename((a + "/sub").c_str(), (b + "/sub").c_str()) == -1 && errno == EACCES);
    // Within one directory ".." stays: only the parent must be writable.
    CHILD_CHECK(rename((a + "/sub").c_str(), (a + "/renamed").c_str()) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// ---------------------------------------------------------------------------
// Extended attributes (xattr(7))

class XattrTest : public FileOpsTest {
 protected:
  void SetUp() override {
    FileOpsTest::SetUp();
    if (HasFatalFailure()) return;
    file_ = Path("f");
    ASSERT_TRUE(WriteFile(file_, "x"));
    // The native run uses the host's /tmp; a filesystem without user
    // xattrs (xattr(7): "user extended attributes ... not supported") makes
    // these cases moot there.
    if (setxattr(file_.c_str(), "user.probe", "", 0, 0) != 0) {
      if (errno == EOPNOTSUPP) GTEST_SKIP() << "the filesystem of /tmp does not support user.* xattrs";
      FAIL() << "setxattr user.probe: " << strerror(errno);
    }
    ASSERT_EQ(removexattr(file_.c_str(), "user.probe"), 0) << strerror(errno);
  }
  std::string file_;
};

TEST_F(XattrTest, SetThenGetRoundTrips) {
  const std::string value("v\0lue", 5);
  ASSERT_EQ(setxattr(file_.c_str(), "user.test", value.data(), value.size(), 0), 0) << strerror(errno);
  char buf[32];
  ssize_t n = getxattr(file_.c_str(), "user.test", buf, sizeof buf);
  ASSERT_EQ(n, 5) << strerror(errno);
  EXPECT_EQ(std::string(buf, 5), value) << "values are bytes, not strings";
  // Through a descriptor as well.
  int fd = open(file_.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fgetxattr(fd, "user.test", buf, sizeof buf), 5);
  ASSERT_EQ(fsetxattr(fd, "user.test", "new", 3, 0), 0) << strerror(errno);
  close(fd);
  n = getxattr(file_.c_str(), "user.test", buf, sizeof buf);
  ASSERT_EQ(n, 3);
  EXPECT_EQ(std::string(buf, 3), "new") << "replaced without flags";
  // An empty value is a value.
  ASSERT_EQ(setxattr(file_.c_str(), "user.empty", "", 0, 0), 0);
  EXPECT_EQ(getxattr(file_.c_str(), "user.empty", buf, sizeof buf), 0);
}

TEST_F(XattrTest, ZeroSizeReturnsTheValueLength) {
  // getxattr(2): "If size is specified as zero, these calls return the
  // current size of the named extended attribute".
  ASSERT_EQ(setxattr(file_.c_str(), "user.len", "twelve bytes", 12, 0), 0);
  EXPECT_EQ(getxattr(file_.c_str(), "user.len", nullptr, 0), 12);
}

TEST_F(XattrTest, TooSmallBufferGivesErange) {
  // getxattr(2) ERANGE: "The size of the value buffer is too small to hold the result."
  ASSERT_EQ(setxattr(file_.c_str(), "user.big", "0123456789", 10, 0), 0);
  char buf[4];
  errno = 0;
  EXPECT_EQ(getxattr(file_.c_str(), "user.big", buf, sizeof buf), -1);
  EXPECT_EQ(errno, ERANGE);
}

TEST_F(XattrTest, CreateOnAnExistingNameGivesEexist) {
  // setxattr(2) EEXIST: "XATTR_CREATE was specified, and the attribute exists already."
  ASSERT_EQ(setxattr(file_.c_str(), "user.x", "1", 1, XATTR_CREATE), 0) << strerror(errno);
  errno = 0;
  EXPECT_EQ(setxattr(file_.c_str(), "user.x", "2", 1, XATTR_CREATE), -1);
  EXPECT_EQ(errno, EEXIST);
  char b;
  ASSERT_EQ(getxattr(file_.c_str(), "user.x", &b, 1), 1);
  EXPECT_EQ(b, '1');
  ASSERT_EQ(setxattr(file_.c_str(), "user.x", "3", 1, XATTR_REPLACE), 0) << "replacing an existing one";
  ASSERT_EQ(getxattr(file_.c_str(), "user.x", &b, 1), 1);
  EXPECT_EQ(b, '3');
}

TEST_F(XattrTest, ReplaceOnAMissingNameGivesEnodata) {
  // setxattr(2) ENODATA: "XATTR_REPLACE was specified, and the attribute does not exist."
  errno = 0;
  EXPECT_EQ(setxattr(file_.c_str(), "user.none", "1", 1, XATTR_REPLACE), -1);
  EXPECT_EQ(errno, ENODATA);
  errno = 0;
  EXPECT_EQ(getxattr(file_.c_str(), "user.none", nullptr, 0), -1);
  EXPECT_EQ(errno, ENODATA) << "it was not created";
}

TEST_F(XattrTest, ListxattrNamesTheAttributes) {
  // listxattr(2): "The list is the set of (null-terminated) names, one
  // after the other."
  ASSERT_EQ(setxattr(file_.c_str(), "user.alpha", "1", 1, 0), 0);
  ASSERT_EQ(setxattr(file_.c_str(), "user.beta", "2", 1, 0), 0);
  ssize_t size = listxattr(file_.c_str(), nullptr, 0);
  ASSERT_GT(size, 0) << strerror(errno);
  std::vector<char> buf(static_cast<size_t>(size));
  ssize_t n = listxattr(file_.c_str(), buf.data(), buf.size());
  ASSERT_EQ(n, size);
  std::set<std::string> names;
  for (ssize_t pos = 0; pos < n;) {
    std::string name(buf.data() + pos);
    names.insert(name);
    pos += static_cast<ssize_t>(name.size()) + 1;
  }
  EXPECT_TRUE(names.contains("user.alpha"));
  EXPECT_TRUE(names.contains("user.beta"));
  // ERANGE: "The size of the list buffer is too small to hold the result."
  char small[4];
  errno = 0;
  EXPECT_EQ(listxattr(file_.c_str(), small, sizeof small), -1);
  EXPECT_EQ(errno, ERANGE);
}

TEST_F(XattrTest, RemovexattrRemovesTheAttribute) {
  ASSERT_EQ(setxattr(file_.c_str(), "user.gone", "1", 1, 0), 0);
  ASSERT_EQ(removexattr(file_.c_str(), "user.gone"), 0) << strerror(errno);
  errno = 0;
  EXPECT_EQ(getxattr(file_.c_str(), "user.gone", nullptr, 0), -1);
  EXPECT_EQ(errno, ENODATA);
  // removexattr(2) ENODATA: "The named attribute does not exist".
  errno = 0;
  EXPECT_EQ(removexattr(file_.c_str(), "user.gone"), -1);
  EXPECT_EQ(errno, ENODATA);
  char buf[256];
  ssize_t n = listxattr(file_.c_str(), buf, sizeof buf);
  ASSERT_GE(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).find("user.gone"), std::string::npos);
}

TEST_F(XattrTest, UnknownNamespaceGivesEopnotsupp) {
  // xattr(7): names are "namespace.attribute"; setxattr(2) ENOTSUP: "The
  // namespace prefix of name is not valid."
  errno = 0;
  EXPECT_EQ(setxattr(file_.c_str(), "foo.bar", "1", 1, 0), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  errno = 0;
  EXPECT_EQ(getxattr(file_.c_str(), "foo.bar", nullptr, 0), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST_F(XattrTest, NamespacePrefixAloneGivesEinval) {
  // A name must have something after its namespace prefix: "user." names
  // no attribute, and Linux refuses it with EINVAL.
  errno = 0;
  EXPECT_EQ(setxattr(file_.c_str(), "user.", "1", 1, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(getxattr(file_.c_str(), "user.", nullptr, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(removexattr(file_.c_str(), "user."), -1);
  EXPECT_EQ(errno, EINVAL);
  // Without the dot it is no namespace at all.
  errno = 0;
  EXPECT_EQ(getxattr(file_.c_str(), "user", nullptr, 0), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
}

TEST_F(XattrTest, MissingFileGivesEnoent) {
  errno = 0;
  EXPECT_EQ(setxattr(Path("missing").c_str(), "user.a", "1", 1, 0), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(XattrTest, DirectoriesHaveUserAttributesToo) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  ASSERT_EQ(setxattr(Path("d").c_str(), "user.dir", "v", 1, 0), 0) << strerror(errno);
  char b;
  EXPECT_EQ(getxattr(Path("d").c_str(), "user.dir", &b, 1), 1);
}

TEST_F(XattrTest, SymlinksGetNoUserAttributes) {
  // xattr(7): user attributes are allowed only on regular files and
  // directories; lsetxattr on a link gives EPERM, lgetxattr ENODATA.
  ASSERT_EQ(symlink("f", Path("link").c_str()), 0);
  errno = 0;
  EXPECT_EQ(lsetxattr(Path("link").c_str(), "user.a", "1", 1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  errno = 0;
  EXPECT_EQ(lgetxattr(Path("link").c_str(), "user.a", nullptr, 0), -1);
  EXPECT_EQ(errno, ENODATA);
  // Without the l the link is followed to the file.
  ASSERT_EQ(setxattr(Path("link").c_str(), "user.a", "1", 1, 0), 0) << strerror(errno);
  EXPECT_EQ(getxattr(file_.c_str(), "user.a", nullptr, 0), 1);
}

TEST_F(XattrTest, AttributesBelongToTheFileNotTheName) {
  ASSERT_EQ(setxattr(file_.c_str(), "user.keep", "k", 1, 0), 0);
  ASSERT_EQ(link(file_.c_str(), Path("hard").c_str()), 0);
  EXPECT_EQ(getxattr(Path("hard").c_str(), "user.keep", nullptr, 0), 1);
  ASSERT_EQ(rename(file_.c_str(), Path("moved").c_str()), 0);
  EXPECT_EQ(getxattr(Path("moved").c_str(), "user.keep", nullptr, 0), 1);
  ASSERT_EQ(setxattr(Path("hard").c_str(), "user.new", "n", 1, 0), 0);
  EXPECT_EQ(getxattr(Path("moved").c_str(), "user.new", nullptr, 0), 1);
}

TEST_F(XattrTest, BadNamesAndSizes) {
  // setxattr(2) ERANGE: "The size of name or value exceeds a
  // filesystem-specific limit" (names up to 255 bytes); E2BIG: the value
  // is larger than 64 KiB.
  const std::string long_name = "user." + std::string(251, 'n');
  errno = 0;
  EXPECT_EQ(setxattr(file_.c_str(), long_name.c_str(), "1", 1, 0), -1);
  EXPECT_EQ(errno, ERANGE);
  errno = 0;
  EXPECT_EQ(setxattr(file_.c_str(), "", "1", 1, 0), -1);
  EXPECT_EQ(errno, ERANGE);
  std::string huge(65537, 'v');
  errno = 0;
  EXPECT_EQ(setxattr(file_.c_str(), "user.huge", huge.data(), huge.size(), 0), -1);
  EXPECT_EQ(errno, E2BIG);
  errno = 0;
  EXPECT_EQ(setxattr(file_.c_str(), "user.x", "1", 1, XATTR_CREATE | XATTR_REPLACE | 4), -1);
  EXPECT_EQ(errno, EINVAL) << "unknown flags";
}

TEST_F(XattrTest, NonOwnerNeedsPermissionForUserAttributes) {
  // xattr(7): "access to user attributes is governed by the file
  // permission bits": reading needs read, writing needs write permission.
  if (geteuid() != 0) GTEST_SKIP() << "needs to start as root (euid 0)";
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  ASSERT_EQ(setxattr(file_.c_str(), "user.a", "1", 1, 0), 0);
  ASSERT_EQ(chmod(file_.c_str(), 0644), 0);
  ASSERT_TRUE(WriteFile(Path("private"), "x"));
  ASSERT_EQ(chmod(Path("private").c_str(), 0600), 0);
  const std::string f = file_, priv = Path("private");
  int status = RunInChild([&] {
    CHILD_BECOME_NOBODY();
    CHILD_CHECK(getxattr(f.c_str(), "user.a", nullptr, 0) == 1);
    errno = 0;
    CHILD_CHECK(setxattr(f.c_str(), "user.a", "2", 1, 0) == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(removexattr(f.c_str(), "user.a") == -1 && errno == EACCES);
    errno = 0;
    CHILD_CHECK(getxattr(priv.c_str(), "user.a", nullptr, 0) == -1 && errno == EACCES);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// ---------------------------------------------------------------------------
// MAP_SHARED file mappings (mmap(2))

class MmapFileTest : public FileOpsTest {
 protected:
  void SetUp() override {
    FileOpsTest::SetUp();
    if (HasFatalFailure()) return;
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    fd_ = open(Path("f").c_str(), O_RDWR | O_CREAT, 0644);
    ASSERT_GE(fd_, 0) << strerror(errno);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    FileOpsTest::TearDown();
  }
  // Maps `length` bytes of the file shared, read-write.
  char* MapShared(size_t length) {
    void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }

  size_t page_ = 4096;
  int fd_ = -1;
};

TEST_F(MmapFileTest, StoresThroughASharedMappingAreSeenByRead) {
  // mmap(2) MAP_SHARED: "Updates to the mapping are visible to other
  // processes mapping the same region, and ... carried through to the
  // underlying file."
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(page_)), 0);
  char* p = MapShared(page_);
  ASSERT_NE(p, nullptr) << strerror(errno);
  memcpy(p + 100, "mapped", 6);
  char buf[6];
  ASSERT_EQ(pread(fd_, buf, 6, 100), 6);
  EXPECT_EQ(std::string(buf, 6), "mapped");
  EXPECT_EQ(munmap(p, page_), 0);
  // Still there once unmapped, through a new descriptor.
  std::string all = ReadFile(Path("f"));
  ASSERT_EQ(all.size(), page_);
  EXPECT_EQ(all.substr(100, 6), "mapped");
}

TEST_F(MmapFileTest, WritesAreSeenThroughASharedMapping) {
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(2 * page_)), 0);
  char* p = MapShared(2 * page_);
  ASSERT_NE(p, nullptr) << strerror(errno);
  EXPECT_EQ(p[0], 0) << "a hole reads as zeros";
  ASSERT_EQ(pwrite(fd_, "written", 7, static_cast<off_t>(page_ + 5)), 7);
  EXPECT_EQ(std::string(p + page_ + 5, 7), "written");
  ASSERT_EQ(pwrite(fd_, "again", 5, 5), 5);
  EXPECT_EQ(std::string(p + 5, 5), "again");
  EXPECT_EQ(munmap(p, 2 * page_), 0);
}

TEST_F(MmapFileTest, TwoSharedMappingsSeeEachOthersStores) {
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(page_)), 0);
  char* a = MapShared(page_);
  ASSERT_NE(a, nullptr) << strerror(errno);
  // The second one through its own descriptor.
  int fd2 = open(Path("f").c_str(), O_RDWR);
  ASSERT_GE(fd2, 0);
  void* bp = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
  ASSERT_NE(bp, MAP_FAILED) << strerror(errno);
  char* b = static_cast<char*>(bp);
  ASSERT_NE(a, b);
  strcpy(a + 10, "from a");
  EXPECT_STREQ(b + 10, "from a");
  strcpy(b + 20, "from b");
  EXPECT_STREQ(a + 20, "from b");
  EXPECT_EQ(munmap(a, page_), 0);
  EXPECT_EQ(munmap(b, page_), 0);
  close(fd2);
}

TEST_F(MmapFileTest, SharedMappingIsSeenByAForkedChild) {
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(page_)), 0);
  char* p = MapShared(page_);
  ASSERT_NE(p, nullptr) << strerror(errno);
  int status = RunInChild([&] {
    strcpy(p, "child wrote");
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_STREQ(p, "child wrote");
  char buf[11];
  ASSERT_EQ(pread(fd_, buf, sizeof buf, 0), 11);
  EXPECT_EQ(std::string(buf, 11), "child wrote");
  EXPECT_EQ(munmap(p, page_), 0);
}

// Reads (or writes) p[offset] in a forked child; its wait status (a
// SIGBUS there kills the child only).
int TouchInChild(char* p, size_t offset, bool write) {
  return RunInChild([&] {
    volatile char* q = p;
    if (write) {
      q[offset] = 1;
    } else {
      char c = q[offset];
      (void)c;
    }
    return 0;
  });
}

TEST_F(MmapFileTest, AccessPastTheEndOfTheFileGivesSigbus) {
  // mmap(2) SIGBUS: "Attempted access to a page of the buffer that lies
  // beyond the end of the mapped file." The rest of the last page reads
  // as zeros.
  ASSERT_EQ(write(fd_, "x", 1), 1);
  char* p = MapShared(2 * page_);
  ASSERT_NE(p, nullptr) << strerror(errno);
  EXPECT_EQ(p[0], 'x');
  EXPECT_EQ(p[page_ - 1], 0) << "the tail of the last page";
  EXPECT_KILLED_BY(TouchInChild(p, page_, true), SIGBUS);
  EXPECT_KILLED_BY(TouchInChild(p, page_ + 10, false), SIGBUS) << "reading too";
  // Growing the file makes the page accessible.
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(2 * page_)), 0);
  p[page_] = 'y';
  char c;
  ASSERT_EQ(pread(fd_, &c, 1, static_cast<off_t>(page_)), 1);
  EXPECT_EQ(c, 'y');
  EXPECT_EQ(munmap(p, 2 * page_), 0);
}

TEST_F(MmapFileTest, ShrinkingTheFileTakesMappedPagesAwayEverywhere) {
  // truncate(2) shrinking a file: its shared mappings raise SIGBUS past
  // the new end, in every process, even for pages already touched there.
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(2 * page_)), 0);
  char* p = MapShared(2 * page_);
  ASSERT_NE(p, nullptr) << strerror(errno);
  p[0] = 'k';
  p[page_] = 'a';  // mapped in this address space
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  const size_t page = page_;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    volatile char* q = p;
    q[page] = 'b';  // mapped in the child's too
    char c;
    if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1) _exit(2);
    q[page] = 'c';  // after the shrink: SIGBUS
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(page_)), 0);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_KILLED_BY(status, SIGBUS) << "a process that had the page mapped";
  EXPECT_KILLED_BY(TouchInChild(p, page_, false), SIGBUS) << "this process's mapping, inherited";
  EXPECT_EQ(p[0], 'k') << "the page before the end stays";
  // Grown again, the page is the file's new (zero) page.
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(2 * page_)), 0);
  EXPECT_EQ(p[page_], 0);
  for (int fd : {ready[0], ready[1], go[0], go[1]}) close(fd);
  EXPECT_EQ(munmap(p, 2 * page_), 0);
}

TEST_F(MmapFileTest, PunchingAHoleZeroesMappedPages) {
  // fallocate(2) FALLOC_FL_PUNCH_HOLE: the range reads as zeros, through a
  // shared mapping too, which stays coherent with the file afterwards.
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(2 * page_)), 0);
  char* p = MapShared(2 * page_);
  ASSERT_NE(p, nullptr) << strerror(errno);
  p[0] = 'k';
  p[page_] = 'z';
  ASSERT_EQ(fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(page_),
                      static_cast<off_t>(page_)), 0) << strerror(errno);
  EXPECT_EQ(p[page_], 0);
  EXPECT_EQ(p[0], 'k');
  p[page_] = 'w';
  char c = 0;
  ASSERT_EQ(pread(fd_, &c, 1, static_cast<off_t>(page_)), 1);
  EXPECT_EQ(c, 'w');
  EXPECT_EQ(munmap(p, 2 * page_), 0);
}

TEST_F(MmapFileTest, PrivateMappingStoresStayPrivate) {
  // mmap(2) MAP_PRIVATE: "Updates to the mapping are not visible to other
  // processes mapping the same file, and are not carried through to the
  // underlying file."
  ASSERT_EQ(pwrite(fd_, "file", 4, 0), 4);
  void* mp = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd_, 0);
  ASSERT_NE(mp, MAP_FAILED) << strerror(errno);
  char* p = static_cast<char*>(mp);
  EXPECT_EQ(std::string(p, 4), "file");
  memcpy(p, "priv", 4);
  char buf[4];
  ASSERT_EQ(pread(fd_, buf, 4, 0), 4);
  EXPECT_EQ(std::string(buf, 4), "file");
  EXPECT_EQ(munmap(p, page_), 0);
}

TEST_F(MmapFileTest, SharedWritableMappingNeedsAReadWriteFd) {
  // mmap(2) EACCES: "MAP_SHARED was requested and PROT_WRITE is set, but
  // fd is not open in read/write (O_RDWR) mode", or "fd is not open for
  // reading".
  ASSERT_EQ(ftruncate(fd_, static_cast<off_t>(page_)), 0);
  int ro = open(Path("f").c_str(), O_RDONLY);
  ASSERT_GE(ro, 0);
  errno = 0;
  EXPECT_EQ(mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), MAP_FAILED);
  EXPECT_EQ(errno, EACCES);
  void* p = mmap(nullptr, page_, PROT_READ, MAP_SHARED, ro, 0);
  EXPECT_NE(p, MAP_FAILED) << "read-only is fine";
  if (p != MAP_FAILED) munmap(p, page_);
  close(ro);
  int wo = open(Path("f").c_str(), O_WRONLY);
  ASSERT_GE(wo, 0);
  errno = 0;
  EXPECT_EQ(mmap(nullptr, page_, PROT_READ, MAP_SHARED, wo, 0), MAP_FAILED);
  EXPECT_EQ(errno, EACCES);
  close(wo);
}

}  // namespace
}  // namespace syscall_test
