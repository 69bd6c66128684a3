// O_TMPFILE (open(2)): unnamed files in a directory's filesystem, named
// later with linkat(AT_EMPTY_PATH) unless opened with O_EXCL.
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "syscall_test_util.h"

namespace {

class TmpfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/tmpfile_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::string cmd = "rm -rf " + dir_;
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  int Entries() {
    int n = 0;
    DIR* d = opendir(dir_.c_str());
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    return n;
  }
  std::string dir_;
};

TEST_F(TmpfileTest, AnUnnamedFileWorksAndLinkatNamesIt) {
  int fd = open(dir_.c_str(), O_TMPFILE | O_RDWR, 0600);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(write(fd, "tmp", 3), 3);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_nlink, 0u) << "no name yet";
  EXPECT_EQ(Entries(), 0) << "nothing shows in the directory";
  std::string named = dir_ + "/named";
  ASSERT_EQ(linkat(fd, "", AT_FDCWD, named.c_str(), AT_EMPTY_PATH), 0) << strerror(errno);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(Entries(), 1);
  int again = open(named.c_str(), O_RDONLY);
  ASSERT_GE(again, 0);
  char buf[4] = {};
  EXPECT_EQ(read(again, buf, 3), 3);
  EXPECT_STREQ(buf, "tmp");
  close(again);
  close(fd);
}

TEST_F(TmpfileTest, ExclusiveTmpfilesCannotBeNamed) {
  int fd = open(dir_.c_str(), O_TMPFILE | O_RDWR | O_EXCL, 0600);
  ASSERT_GE(fd, 0) << strerror(errno);
  std::string named = dir_ + "/named";
  EXPECT_EQ(linkat(fd, "", AT_FDCWD, named.c_str(), AT_EMPTY_PATH), -1);
  EXPECT_EQ(errno, ENOENT);
  close(fd);
}

TEST_F(TmpfileTest, ArgumentErrors) {
  EXPECT_EQ(open(dir_.c_str(), O_TMPFILE | O_RDONLY, 0600), -1);
  EXPECT_EQ(errno, EINVAL) << "O_TMPFILE needs write access";
  std::string file = dir_ + "/file";
  int f = open(file.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(f, 0);
  close(f);
  EXPECT_EQ(open(file.c_str(), O_TMPFILE | O_RDWR, 0600), -1);
  EXPECT_EQ(errno, ENOTDIR);
  EXPECT_EQ(open((dir_ + "/missing").c_str(), O_TMPFILE | O_RDWR, 0600), -1);
  EXPECT_EQ(errno, ENOENT);
}

}  // namespace
