// inotify(7): the events a watch reports for changes made by this
// process and its children, their names and cookies, watch lifetimes
// (IN_IGNORED, IN_ONESHOT), and the instance's read, poll and error rules.
#include <poll.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "syscall_test_util.h"

namespace {

struct Event {
  int wd;
  uint32_t mask;
  uint32_t cookie;
  std::string name;
};

// Every event queued now (the instance is non-blocking).
std::vector<Event> Drain(int fd) {
  std::vector<Event> out;
  alignas(inotify_event) char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      auto* e = reinterpret_cast<inotify_event*>(buf + off);
      out.push_back({e->wd, e->mask, e->cookie, e->len ? std::string(e->name) : std::string()});
      off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  return out;
}

std::string Describe(const std::vector<Event>& events) {
  std::string s;
  for (const auto& e : events) s += "{wd " + std::to_string(e.wd) + " mask " + std::to_string(e.mask) + " " + e.name + "} ";
  return s;
}

class InotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/inotify_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    close(fd_);
    std::string cmd = "rm -rf " + dir_;
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Touch(const std::string& name) {
    int f = open(Path(name).c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(f, 0);
    close(f);
  }

  std::string dir_;
  int fd_ = -1;
};

TEST_F(InotifyTest, CreateAndDeleteInAWatchedDirectoryCarryTheName) {
  int wd = inotify_add_watch(fd_, dir_.c_str(), IN_CREATE | IN_DELETE);
  ASSERT_GT(wd, 0);
  Touch("a");
  ASSERT_EQ(mkdir(Path("sub").c_str(), 0755), 0);
  ASSERT_EQ(unlink(Path("a").c_str()), 0);
  ASSERT_EQ(rmdir(Path("sub").c_str()), 0);
  auto events = Drain(fd_);
  ASSERT_EQ(events.size(), 4u) << Describe(events);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_CREATE));
  EXPECT_EQ(events[0].name, "a");
  EXPECT_EQ(events[0].wd, wd);
  EXPECT_EQ(events[1].mask, static_cast<uint32_t>(IN_CREATE | IN_ISDIR));
  EXPECT_EQ(events[1].name, "sub");
  EXPECT_EQ(events[2].mask, static_cast<uint32_t>(IN_DELETE));
  EXPECT_EQ(events[2].name, "a");
  EXPECT_EQ(events[3].mask, static_cast<uint32_t>(IN_DELETE | IN_ISDIR));
  EXPECT_EQ(events[3].name, "sub");
}

TEST_F(InotifyTest, OpenModifyCloseOnAWatchedFile) {
  Touch("f");
  int wd = inotify_add_watch(fd_, Path("f").c_str(), IN_OPEN | IN_MODIFY | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
  ASSERT_GT(wd, 0);
  int f = open(Path("f").c_str(), O_WRONLY);
  ASSERT_GE(f, 0);
  ASSERT_EQ(write(f, "x", 1), 1);
  close(f);
  f = open(Path("f").c_str(), O_RDONLY);
  close(f);
  auto events = Drain(fd_);
  ASSERT_EQ(events.size(), 5u) << Describe(events);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_OPEN));
  EXPECT_EQ(events[1].mask, static_cast<uint32_t>(IN_MODIFY));
  EXPECT_EQ(events[2].mask, static_cast<uint32_t>(IN_CLOSE_WRITE));
  EXPECT_EQ(events[3].mask, static_cast<uint32_t>(IN_OPEN));
  EXPECT_EQ(events[4].mask, static_cast<uint32_t>(IN_CLOSE_NOWRITE));
  for (const auto& e : events) EXPECT_EQ(e.name, "") << "a file's own watch gets no name";
}

TEST_F(InotifyTest, RenameGivesAPairWithOneCookieAndMoveSelf) {
  Touch("old");
  int dwd = inotify_add_watch(fd_, dir_.c_str(), IN_MOVED_FROM | IN_MOVED_TO);
  int fwd = inotify_add_watch(fd_, Path("old").c_str(), IN_MOVE_SELF);
  ASSERT_GT(dwd, 0);
  ASSERT_GT(fwd, 0);
  ASSERT_NE(dwd, fwd);
  ASSERT_EQ(rename(Path("old").c_str(), Path("new").c_str()), 0);
  auto events = Drain(fd_);
  ASSERT_EQ(events.size(), 3u) << Describe(events);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_MOVED_FROM));
  EXPECT_EQ(events[0].name, "old");
  EXPECT_EQ(events[1].mask, static_cast<uint32_t>(IN_MOVED_TO));
  EXPECT_EQ(events[1].name, "new");
  EXPECT_NE(events[0].cookie, 0u);
  EXPECT_EQ(events[0].cookie, events[1].cookie);
  EXPECT_EQ(events[2].wd, fwd);
  EXPECT_EQ(events[2].mask, static_cast<uint32_t>(IN_MOVE_SELF));
}

TEST_F(InotifyTest, UnlinkingTheLastNameEndsTheWatch) {
  Touch("f");
  int wd = inotify_add_watch(fd_, Path("f").c_str(), IN_ATTRIB | IN_DELETE_SELF);
  ASSERT_GT(wd, 0);
  ASSERT_EQ(unlink(Path("f").c_str()), 0);
  auto events = Drain(fd_);
  ASSERT_EQ(events.size(), 3u) << Describe(events);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_ATTRIB)) << "the link count changed";
  EXPECT_EQ(events[1].mask, static_cast<uint32_t>(IN_DELETE_SELF));
  EXPECT_EQ(events[2].mask, static_cast<uint32_t>(IN_IGNORED));
  EXPECT_EQ(inotify_rm_watch(fd_, wd), -1) << "the watch is gone";
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(InotifyTest, ChmodIsAttrib) {
  Touch("f");
  int wd = inotify_add_watch(fd_, dir_.c_str(), IN_ATTRIB);
  ASSERT_EQ(chmod(Path("f").c_str(), 0600), 0);
  auto events = Drain(fd_);
  ASSERT_EQ(events.size(), 1u) << Describe(events);
  EXPECT_EQ(events[0].wd, wd);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_ATTRIB));
  EXPECT_EQ(events[0].name, "f");
}

TEST_F(InotifyTest, RemovingAWatchQueuesIgnored) {
  int wd = inotify_add_watch(fd_, dir_.c_str(), IN_CREATE);
  ASSERT_EQ(inotify_rm_watch(fd_, wd), 0);
  Touch("after");
  auto events = Drain(fd_);
  ASSERT_EQ(events.size(), 1u) << Describe(events);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_IGNORED));
  EXPECT_EQ(inotify_rm_watch(fd_, 12345), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(InotifyTest, OneshotReportsOnceThenIgnored) {
  int wd = inotify_add_watch(fd_, dir_.c_str(), IN_CREATE | IN_ONESHOT);
  ASSERT_GT(wd, 0);
  Touch("one");
  Touch("two");
  auto events = Drain(fd_);
  ASSERT_EQ(events.size(), 2u) << Describe(events);
  EXPECT_EQ(events[0].mask, static_cast<uint32_t>(IN_CREATE));
  EXPECT_EQ(events[0].name, "one");
  EXPECT_EQ(events[1].mask, static_cast<uint32_t>(IN_IGNORED));
}

TEST_F(InotifyTest, AddWatchRulesAndErrors) {
  int wd = inotify_add_watch(fd_, dir_.c_str(), IN_CREATE);
  EXPECT_EQ(inotify_add_watch(fd_, dir_.c_str(), IN_DELETE), wd) << "the same inode keeps its descriptor";
  EXPECT_EQ(inotify_add_watch(fd_, dir_.c_str(), IN_DELETE | IN_MASK_CREATE), -1);
  EXPECT_EQ(errno, EEXIST);
  Touch("file");
  EXPECT_EQ(inotify_add_watch(fd_, Path("file").c_str(), IN_CREATE | IN_ONLYDIR), -1);
  EXPECT_EQ(errno, ENOTDIR);
  EXPECT_EQ(inotify_add_watch(fd_, dir_.c_str(), 0), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(inotify_add_watch(fd_, Path("missing").c_str(), IN_CREATE), -1);
  EXPECT_EQ(errno, ENOENT);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  EXPECT_EQ(inotify_add_watch(p[0], dir_.c_str(), IN_CREATE), -1);
  EXPECT_EQ(errno, EINVAL) << "not an inotify instance";
  close(p[0]);
  close(p[1]);
  EXPECT_EQ(inotify_init1(0x1234), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(InotifyTest, ReadRulesPollAndFionread) {
  char small[8];
  EXPECT_EQ(read(fd_, small, sizeof small), -1);
  EXPECT_EQ(errno, EAGAIN) << "nothing queued on a non-blocking instance";
  ASSERT_GT(inotify_add_watch(fd_, dir_.c_str(), IN_CREATE), 0);
  pollfd p{fd_, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
  Touch("named");
  EXPECT_EQ(poll(&p, 1, 0), 1);
  EXPECT_TRUE(p.revents & POLLIN);
  int pending = 0;
  ASSERT_EQ(ioctl(fd_, FIONREAD, &pending), 0);
  EXPECT_GE(pending, static_cast<int>(sizeof(inotify_event) + 6));
  EXPECT_EQ(read(fd_, small, sizeof small), -1);
  EXPECT_EQ(errno, EINVAL) << "a buffer too small for the next event";
  EXPECT_EQ(Drain(fd_).size(), 1u);
}

TEST_F(InotifyTest, ABlockingReadWakesForAnotherProcesssChange) {
  int blocking = inotify_init1(IN_CLOEXEC);
  ASSERT_GE(blocking, 0);
  ASSERT_GT(inotify_add_watch(blocking, dir_.c_str(), IN_CREATE), 0);
  pid_t child = fork();
  if (child == 0) {
    int f = open(Path("from_child").c_str(), O_CREAT | O_WRONLY, 0644);
    CHILD_CHECK(f >= 0);
    _exit(0);
  }
  alignas(inotify_event) char buf[256];
  ssize_t n = read(blocking, buf, sizeof buf);
  ASSERT_GT(n, 0);
  auto* e = reinterpret_cast<inotify_event*>(buf);
  EXPECT_EQ(e->mask, static_cast<uint32_t>(IN_CREATE));
  EXPECT_STREQ(e->name, "from_child");
  int status = syscall_test::WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(blocking);
}

}  // namespace
