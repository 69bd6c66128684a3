// sendfile(2), copy_file_range(2), splice(2), tee(2) and vmsplice(2):
// data moved between FDs, the offsets they use and update, and the
// argument errors their man pages list.
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include <string>

#include "syscall_test_util.h"

namespace {

class SpliceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/splice_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    for (const auto& p : made_) unlink(p.c_str());
    rmdir(dir_.c_str());
  }
  int File(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    made_.push_back(path);
    int fd = open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    lseek(fd, 0, SEEK_SET);
    return fd;
  }
  static std::string ReadAll(int fd, off_t offset = 0) {
    std::string out(4096, '\0');
    ssize_t n = pread(fd, out.data(), out.size(), offset);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }

  std::string dir_;
  std::vector<std::string> made_;
};

TEST_F(SpliceTest, SendfileWithAnOffsetLeavesTheFilePositionAlone) {
  int in = File("in", "hello sendfile");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  off_t offset = 6;
  ASSERT_EQ(sendfile(p[1], in, &offset, 100), 8);
  EXPECT_EQ(offset, 14) << "the offset moves past what was sent";
  EXPECT_EQ(lseek(in, 0, SEEK_CUR), 0) << "the file position does not";
  char buf[16] = {};
  ASSERT_EQ(read(p[0], buf, sizeof buf), 8);
  EXPECT_STREQ(buf, "sendfile");
  close(in);
  close(p[0]);
  close(p[1]);
}

TEST_F(SpliceTest, SendfileWithoutAnOffsetAdvancesThePosition) {
  int in = File("in", "0123456789");
  int out = File("out", "");
  ASSERT_EQ(lseek(in, 4, SEEK_SET), 4);
  ASSERT_EQ(sendfile(out, in, nullptr, 3), 3);
  EXPECT_EQ(lseek(in, 0, SEEK_CUR), 7);
  EXPECT_EQ(ReadAll(out), "456");
  close(in);
  close(out);
}

TEST_F(SpliceTest, SendfileFromAPipeIsEinval) {
  int out = File("out", "");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(write(p[1], "x", 1), 1);
  EXPECT_EQ(sendfile(out, p[0], nullptr, 1), -1);
  EXPECT_EQ(errno, EINVAL);
  close(out);
  close(p[0]);
  close(p[1]);
}

TEST_F(SpliceTest, CopyFileRangeCopiesBetweenOffsets) {
  int in = File("in", "abcdefghij");
  int out = File("out", "0123456789");
  loff_t in_off = 2, out_off = 5;
  ASSERT_EQ(copy_file_range(in, &in_off, out, &out_off, 3, 0), 3);
  EXPECT_EQ(in_off, 5);
  EXPECT_EQ(out_off, 8);
  EXPECT_EQ(ReadAll(out), "01234cde89");
  // At the end of the input there is nothing more to copy.
  loff_t at_end = 10;
  EXPECT_EQ(copy_file_range(in, &at_end, out, nullptr, 5, 0), 0);
  close(in);
  close(out);
}

TEST_F(SpliceTest, CopyFileRangeRefusesFlagsAndOverlapsAndPipes) {
  int f = File("f", "0123456789");
  loff_t a = 0, b = 2;
  EXPECT_EQ(copy_file_range(f, &a, f, &b, 4, 0), -1);
  EXPECT_EQ(errno, EINVAL) << "overlapping ranges of one file";
  EXPECT_EQ(copy_file_range(f, nullptr, f, nullptr, 1, 1), -1);
  EXPECT_EQ(errno, EINVAL) << "flags must be 0";
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  EXPECT_EQ(copy_file_range(f, nullptr, p[1], nullptr, 1, 0), -1);
  EXPECT_EQ(errno, EINVAL) << "not a regular file";
  close(f);
  close(p[0]);
  close(p[1]);
}

TEST_F(SpliceTest, SpliceMovesFromAPipeIntoAFileAtAnOffset) {
  int out = File("out", "..........");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(write(p[1], "xyz", 3), 3);
  loff_t off = 4;
  ASSERT_EQ(splice(p[0], nullptr, out, &off, 10, 0), 3);
  EXPECT_EQ(off, 7);
  EXPECT_EQ(ReadAll(out), "....xyz...");
  close(out);
  close(p[0]);
  close(p[1]);
}

TEST_F(SpliceTest, SpliceFromAFileIntoAPipe) {
  int in = File("in", "spliced data");
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(splice(in, nullptr, p[1], nullptr, 7, 0), 7);
  EXPECT_EQ(lseek(in, 0, SEEK_CUR), 7);
  char buf[8] = {};
  ASSERT_EQ(read(p[0], buf, 7), 7);
  EXPECT_STREQ(buf, "spliced");
  close(in);
  close(p[0]);
  close(p[1]);
}

TEST_F(SpliceTest, SpliceArgumentErrors) {
  int a = File("a", "x"), b = File("b", "");
  EXPECT_EQ(splice(a, nullptr, b, nullptr, 1, 0), -1);
  EXPECT_EQ(errno, EINVAL) << "neither end is a pipe";
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  loff_t off = 0;
  EXPECT_EQ(splice(p[0], &off, b, nullptr, 1, 0), -1);
  EXPECT_EQ(errno, ESPIPE) << "an offset for the pipe end";
  EXPECT_EQ(splice(p[0], nullptr, b, nullptr, 1, SPLICE_F_NONBLOCK), -1);
  EXPECT_EQ(errno, EAGAIN) << "an empty pipe with SPLICE_F_NONBLOCK";
  close(a);
  close(b);
  close(p[0]);
  close(p[1]);
}

TEST_F(SpliceTest, TeeCopiesWithoutConsuming) {
  int p[2], q[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(pipe(q), 0);
  ASSERT_EQ(write(p[1], "teedata", 7), 7);
  ASSERT_EQ(tee(p[0], q[1], 100, 0), 7);
  char a[8] = {}, b[8] = {};
  ASSERT_EQ(read(q[0], b, 7), 7);
  ASSERT_EQ(read(p[0], a, 7), 7) << "the source pipe still holds the data";
  EXPECT_STREQ(a, "teedata");
  EXPECT_STREQ(b, "teedata");
  int f = File("f", "x");
  EXPECT_EQ(tee(f, q[1], 1, 0), -1);
  EXPECT_EQ(errno, EINVAL) << "tee needs two pipes";
  close(f);
  for (int fd : {p[0], p[1], q[0], q[1]}) close(fd);
}

TEST_F(SpliceTest, VmspliceWritesUserMemoryIntoAPipe) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  char one[] = "vm", two[] = "splice";
  iovec iov[2] = {{one, 2}, {two, 6}};
  ASSERT_EQ(vmsplice(p[1], iov, 2, 0), 8);
  char buf[9] = {};
  ASSERT_EQ(read(p[0], buf, 8), 8);
  EXPECT_STREQ(buf, "vmsplice");
  int f = File("f", "x");
  EXPECT_EQ(vmsplice(f, iov, 1, 0), -1);
  EXPECT_EQ(errno, EBADF) << "not a pipe";
  close(f);
  close(p[0]);
  close(p[1]);
}

}  // namespace
