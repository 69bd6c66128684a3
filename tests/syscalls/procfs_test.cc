// /proc and /sys as proc(5) and sysfs(5) describe them. These compare
// structure, not host values: which entries exist, the fields and formats
// of the files, and how they follow the caller's own state (its pid, its
// signal mask, its descriptors, its mappings, its limits, its threads).
//
// The binary creates threads (ThreadSelf*, StatThreads*) and, in forked
// children, changes the children's comm, oom_score_adj and credentials.
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#include <cinttypes>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "syscall_test_util.h"

namespace {

using syscall_test::kChildFailed;
using syscall_test::ReadToEof;
using syscall_test::RunInChild;
using syscall_test::WaitStatus;

pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// The whole file, or nullopt (errno set) when it cannot be opened.
std::optional<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string s = ReadToEof(fd);
  close(fd);
  return s;
}

// Writes `text` in one write(2); returns its result (errno set on -1).
ssize_t WriteFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text.data(), text.size());
  int saved = errno;
  close(fd);
  errno = saved;
  return n;
}

// readlink(2) as a string; empty (errno set) on failure.
std::string ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Whitespace-separated fields.
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// The names in a directory, without "." and "..".
std::set<std::string> DirNames(const std::string& path) {
  std::set<std::string> out;
  DIR* d = opendir(path.c_str());
  if (!d) return out;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.insert(name);
  }
  closedir(d);
  return out;
}

bool IsUnsigned(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// /proc/[pid]/stat split into its fields, numbered from 1 as in proc(5):
// fields[0] is the pid, fields[1] the comm without its parentheses. The
// comm may hold spaces and parentheses, so it ends at the last ')'.
std::vector<std::string> StatFields(const std::string& text) {
  std::vector<std::string> out;
  const size_t open = text.find(" (");
  const size_t close = text.rfind(") ");
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  out.push_back(text.substr(0, open));
  out.push_back(text.substr(open + 2, close - open - 2));
  for (auto& f : Fields(text.substr(close + 2))) out.push_back(f);
  return out;
}

// "Key:\tvalue" lines (/proc/[pid]/status, /proc/meminfo) as a map.
std::map<std::string, std::string> KeyValues(const std::string& text) {
  std::map<std::string, std::string> out;
  for (const auto& line : Lines(text)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(" \t", colon + 1);
    out[line.substr(0, colon)] = v == std::string::npos ? "" : line.substr(v);
  }
  return out;
}

bool IsUuid(const std::string& s) {
  static const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  return s.size() == 36 && std::regex_match(s, uuid);
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> Argv() { return ::testing::internal::GetArgvs(); }

// ---------------------------------------------------------------------------
// /proc/self, /proc/thread-self, /proc/[pid]

TEST(ProcSelf, IsASymlinkToTheCallersPid) {
  struct stat st;
  ASSERT_EQ(lstat("/proc/self", &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(ReadLink("/proc/self"), std::to_string(getpid()));
  // Through the link: the caller's own directory.
  struct stat self, by_pid;
  ASSERT_EQ(stat("/proc/self", &self), 0);
  ASSERT_EQ(stat(("/proc/" + std::to_string(getpid())).c_str(), &by_pid), 0);
  EXPECT_TRUE(S_ISDIR(self.st_mode));
  EXPECT_EQ(self.st_ino, by_pid.st_ino);
}

TEST(ProcSelf, ResolvesPerProcess) {
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    CHILD_CHECK(ReadLink("/proc/self") == std::to_string(getpid()));
    CHILD_CHECK(getpid() != parent);
    _exit(0);
  }
  EXPECT_EXITED_WITH(WaitStatus(child), 0);
}

// proc(5): /proc/thread-self "points to the subdirectory of the
// /proc/self/task directory" for the calling thread: "[pid]/task/[tid]".
TEST(ProcSelf, ThreadSelfNamesTheCallingThread) {
  const std::string pid = std::to_string(getpid());
  EXPECT_EQ(ReadLink("/proc/thread-self"), pid + "/task/" + std::to_string(Tid()));
  std::string in_thread, self_in_thread;
  pid_t thread_tid = 0;
  std::thread t([&] {
    thread_tid = Tid();
    in_thread = ReadLink("/proc/thread-self");
    self_in_thread = ReadLink("/proc/self");
  });
  t.join();
  EXPECT_NE(thread_tid, getpid());
  EXPECT_EQ(in_thread, pid + "/task/" + std::to_string(thread_tid));
  EXPECT_EQ(self_in_thread, pid) << "/proc/self names the process, not the thread";
}

TEST(ProcPid, ChildDirectoryGoesAwayWhenReaped) {
  auto child = syscall_test::ForkBlockedChild(0);
  ASSERT_GT(child.pid, 0);
  const std::string dir = "/proc/" + std::to_string(child.pid);
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(DirNames("/proc").count(std::to_string(child.pid)), 1u) << "readdir(/proc) lists the child";
  auto fields = StatFields(ReadFile(dir + "/stat").value_or(""));
  ASSERT_GE(fields.size(), 4u);
  EXPECT_EQ(fields[0], std::to_string(child.pid));
  EXPECT_EQ(fields[3], std::to_string(getpid())) << "the child's ppid is us";
  child.Release();
  EXPECT_EXITED_WITH(WaitStatus(child.pid), 0);
  EXPECT_EQ(stat(dir.c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(DirNames("/proc").count(std::to_string(child.pid)), 0u);
}

TEST(ProcPid, NonPidNamesDoNotExist) {
  struct stat st;
  for (const char* name : {"/proc/0", "/proc/-1", "/proc/01", "/proc/no_such_entry"}) {
    EXPECT_EQ(stat(name, &st), -1) << name;
    EXPECT_EQ(errno, ENOENT) << name;
  }
  const std::string reaped = "/proc/" + std::to_string(syscall_test::ReapedPid());
  EXPECT_EQ(stat(reaped.c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
}

// ---------------------------------------------------------------------------
// /proc/[pid]/stat

TEST(ProcStat, LeadingFieldsAreTheCallersIds) {
  auto text = ReadFile("/proc/self/stat");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->back(), '\n');
  auto f = StatFields(*text);
  // Linux has printed 52 fields since 3.5; "at least 44" is the guest_time era.
  ASSERT_GE(f.size(), 44u) << *text;
  EXPECT_EQ(f[0], std::to_string(getpid()));                 // (1) pid
  EXPECT_EQ(f[2].size(), 1u);                                 // (3) state
  EXPECT_NE(std::string("RSDZTtWXxKWPI").find(f[2][0]), std::string::npos) << f[2];
  EXPECT_EQ(f[3], std::to_string(getppid()));                 // (4) ppid
  EXPECT_EQ(f[4], std::to_string(getpgrp()));                 // (5) pgrp
  EXPECT_EQ(f[5], std::to_string(getsid(0)));                 // (6) session
  for (size_t i = 3; i < f.size(); ++i) {
    const std::string& v = f[i];
    EXPECT_TRUE(IsUnsigned(v) || (v[0] == '-' && IsUnsigned(v.substr(1))))
        << "field " << i + 1 << " is not a number: " << v;
  }
}

TEST(ProcStat, CommMatchesProcSelfComm) {
  auto f = StatFields(ReadFile("/proc/self/stat").value_or(""));
  ASSERT_GE(f.size(), 2u);
  auto comm = ReadFile("/proc/self/comm");
  ASSERT_TRUE(comm.has_value());
  ASSERT_FALSE(comm->empty());
  EXPECT_EQ(comm->back(), '\n');
  EXPECT_EQ(f[1], comm->substr(0, comm->size() - 1));
  // The comm is the executable's base name, cut to TASK_COMM_LEN - 1.
  const std::string argv0 = Argv()[0];
  const std::string base = argv0.substr(argv0.rfind('/') + 1);
  EXPECT_EQ(f[1], base.substr(0, 15));
}

TEST(ProcStat, BlockedSignalsAndExitSignal) {
  syscall_test::ScopedSigmask restore;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, nullptr), 0);
  auto f = StatFields(ReadFile("/proc/self/stat").value_or(""));
  ASSERT_GE(f.size(), 38u);
  // (32) blocked: the mask as a decimal number. (38) exit_signal: SIGCHLD
  // for a process made by fork(2).
  const uint64_t blocked = strtoull(f[31].c_str(), nullptr, 10);
  EXPECT_TRUE(blocked >> (SIGUSR1 - 1) & 1) << "blocked field: " << f[31];
  EXPECT_EQ(f[37], std::to_string(SIGCHLD));
}

// (48)-(51) arg_start, arg_end, env_start, env_end: where argv and the
// environment strings lie; argv[0] (program_invocation_name) is the first.
TEST(ProcStat, ArgumentAreaHoldsArgv) {
  auto f = StatFields(ReadFile("/proc/self/stat").value_or(""));
  ASSERT_GE(f.size(), 51u);
  const uint64_t arg_start = strtoull(f[47].c_str(), nullptr, 10);
  const uint64_t arg_end = strtoull(f[48].c_str(), nullptr, 10);
  const uint64_t env_start = strtoull(f[49].c_str(), nullptr, 10);
  const uint64_t env_end = strtoull(f[50].c_str(), nullptr, 10);
  EXPECT_EQ(arg_start, reinterpret_cast<uintptr_t>(program_invocation_name));
  EXPECT_LT(arg_start, arg_end);
  EXPECT_LE(arg_end, env_start);
  EXPECT_LE(env_start, env_end);
  auto cmdline = ReadFile("/proc/self/cmdline");
  ASSERT_TRUE(cmdline.has_value());
  EXPECT_EQ(arg_end - arg_start, cmdline->size());
}

// (20) num_threads, and the entries of /proc/[pid]/task, follow the
// threads a process starts. In a child, where no other thread can linger.
TEST(ProcStat, NumThreadsFollowsThreads) {
  int status = RunInChild([] {
    auto num_threads = [] {
      auto f = StatFields(ReadFile("/proc/self/stat").value_or(""));
      return f.size() >= 20 ? f[19] : std::string("?");
    };
    CHILD_CHECK(num_threads() == "1");
    CHILD_CHECK(DirNames("/proc/self/task") == std::set<std::string>{std::to_string(getpid())});
    int tid_pipe[2], release[2];
    CHILD_CHECK(pipe(tid_pipe) == 0 && pipe(release) == 0);
    std::thread t([&] {
      pid_t tid = Tid();
      (void)!write(tid_pipe[1], &tid, sizeof tid);
      char c;
      (void)!read(release[0], &c, 1);
    });
    pid_t tid = 0;
    CHILD_CHECK(read(tid_pipe[0], &tid, sizeof tid) == sizeof tid);
    CHILD_CHECK(num_threads() == "2");
    const auto tasks = DirNames("/proc/self/task");
    CHILD_CHECK(tasks == (std::set<std::string>{std::to_string(getpid()), std::to_string(tid)}));
    auto status = KeyValues(ReadFile("/proc/self/status").value_or(""));
    CHILD_CHECK(status["Threads"] == "2");
    // proc(5): a thread's ID works under /proc though readdir omits it.
    const std::string by_tid = "/proc/" + std::to_string(tid);
    struct stat st;
    CHILD_CHECK(stat(by_tid.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
    CHILD_CHECK(DirNames("/proc").count(std::to_string(tid)) == 0);
    // The thread's own task directory: its stat's first field is its tid.
    auto tf = StatFields(ReadFile("/proc/self/task/" + std::to_string(tid) + "/stat").value_or(""));
    CHILD_CHECK(tf.size() >= 20 && tf[0] == std::to_string(tid) && tf[19] == "2");
    CHILD_CHECK(write(release[1], "x", 1) == 1);
    t.join();
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// ---------------------------------------------------------------------------
// /proc/[pid]/status

TEST(ProcStatus, HasTheDocumentedFields) {
  auto text = ReadFile("/proc/self/status");
  ASSERT_TRUE(text.has_value());
  auto kv = KeyValues(*text);
  for (const char* key : {"Name", "Umask", "State", "Tgid", "Pid", "PPid", "TracerPid", "Uid", "Gid", "FDSize",
                          "Groups", "VmRSS", "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
                          "CapInh", "CapPrm", "CapEff", "CapBnd"}) {
    EXPECT_EQ(kv.count(key), 1u) << "no " << key << " line in\n" << *text;
  }
  EXPECT_EQ(text->substr(0, 5), "Name:") << "Name is the first line";
  EXPECT_EQ(kv["Name"], Trimmed(ReadFile("/proc/self/comm").value_or("")));
  EXPECT_TRUE(std::regex_match(kv["State"], std::regex("^[RSDZTtXI] \\([a-z ]+\\)$"))) << kv["State"];
  EXPECT_TRUE(std::regex_match(kv["Umask"], std::regex("^0[0-7]{3}$"))) << kv["Umask"];
  EXPECT_EQ(kv["Tgid"], std::to_string(getpid()));
  EXPECT_EQ(kv["Pid"], std::to_string(getpid()));
  EXPECT_EQ(kv["PPid"], std::to_string(getppid()));
  EXPECT_TRUE(IsUnsigned(kv["Threads"])) << kv["Threads"];
  EXPECT_TRUE(std::regex_match(kv["VmRSS"], std::regex("^[0-9]+ kB$"))) << kv["VmRSS"];
  for (const char* key : {"SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd"}) {
    EXPECT_TRUE(std::regex_match(kv[key], std::regex("^[0-9a-f]{16}$"))) << key << ": " << kv[key];
  }
}

TEST(ProcStatus, IdsAreTheCallersCredentials) {
  auto kv = KeyValues(ReadFile("/proc/self/status").value_or(""));
  // Real, effective, saved and filesystem IDs.
  auto uid = Fields(kv["Uid"]), gid = Fields(kv["Gid"]);
  ASSERT_EQ(uid.size(), 4u) << kv["Uid"];
  ASSERT_EQ(gid.size(), 4u) << kv["Gid"];
  uid_t r, e, s;
  ASSERT_EQ(getresuid(&r, &e, &s), 0);
  EXPECT_EQ(uid[0], std::to_string(r));
  EXPECT_EQ(uid[1], std::to_string(e));
  EXPECT_EQ(uid[2], std::to_string(s));
  gid_t gr, ge, gs;
  ASSERT_EQ(getresgid(&gr, &ge, &gs), 0);
  EXPECT_EQ(gid[0], std::to_string(gr));
  EXPECT_EQ(gid[1], std::to_string(ge));
  EXPECT_EQ(gid[2], std::to_string(gs));
}

TEST(ProcStatus, IdsFollowSetresuid) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to change uids";
  int status = RunInChild([] {
    CHILD_CHECK(setresgid(65534, 65534, 0) == 0);
    CHILD_CHECK(setresuid(65534, 65534, 0) == 0);
    auto kv = KeyValues(ReadFile("/proc/self/status").value_or(""));
    CHILD_CHECK(Fields(kv["Uid"]) == (std::vector<std::string>{"65534", "65534", "0", "65534"}));
    CHILD_CHECK(Fields(kv["Gid"]) == (std::vector<std::string>{"65534", "65534", "0", "65534"}));
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

uint64_t StatusMask(const char* key) {
  auto kv = KeyValues(ReadFile("/proc/self/status").value_or(""));
  return strtoull(kv[key].c_str(), nullptr, 16);
}

TEST(ProcStatus, SigBlkFollowsTheSignalMask) {
  syscall_test::ScopedSigmask restore;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ASSERT_EQ(sigprocmask(SIG_UNBLOCK, &set, nullptr), 0);
  EXPECT_FALSE(StatusMask("SigBlk") >> (SIGUSR1 - 1) & 1);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, nullptr), 0);
  EXPECT_TRUE(StatusMask("SigBlk") >> (SIGUSR1 - 1) & 1) << "bit 9 (SIGUSR1 - 1)";
}

TEST(ProcStatus, SigIgnAndSigCgtFollowDispositions) {
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  syscall_test::ScopedSigaction a(SIGUSR2, ign);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(StatusMask("SigIgn") >> (SIGUSR2 - 1) & 1);
  EXPECT_FALSE(StatusMask("SigCgt") >> (SIGUSR2 - 1) & 1);
  struct sigaction handle {};
  handle.sa_handler = [](int) {};
  syscall_test::ScopedSigaction b(SIGUSR2, handle);
  EXPECT_FALSE(StatusMask("SigIgn") >> (SIGUSR2 - 1) & 1);
  EXPECT_TRUE(StatusMask("SigCgt") >> (SIGUSR2 - 1) & 1);
}

TEST(ProcStatus, SigPndShowsAPendingBlockedSignal) {
  syscall_test::ScopedSigmask restore;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, nullptr), 0);
  // kill(2) makes it pending for the process: ShdPnd (SigPnd is the
  // thread's own).
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  EXPECT_TRUE(StatusMask("ShdPnd") >> (SIGUSR1 - 1) & 1);
  int sig = 0;
  ASSERT_EQ(sigwait(&set, &sig), 0);
  EXPECT_FALSE(StatusMask("ShdPnd") >> (SIGUSR1 - 1) & 1);
}

// ---------------------------------------------------------------------------
// /proc/[pid]/cmdline, environ, exe, cwd, root

TEST(ProcCmdline, IsArgvJoinedByNuls) {
  std::string want;
  for (const auto& a : Argv()) want += a + '\0';
  EXPECT_EQ(ReadFile("/proc/self/cmdline").value_or("?"), want);
}

// A new image's cmdline and environ are what execve(2) was given.
TEST(ProcCmdline, ExecedChildSeesItsArgvAndEnvp) {
  syscall_test::Pipe out;
  ASSERT_TRUE(out.ok());
  pid_t child = fork();
  if (child == 0) {
    CHILD_CHECK(dup2(out.wr(), 1) == 1);
    char* const argv[] = {const_cast<char*>("renamed-cat"), const_cast<char*>("/proc/self/cmdline"),
                          const_cast<char*>("/proc/self/environ"), nullptr};
    char* const envp[] = {const_cast<char*>("A=1"), const_cast<char*>("B=two words"), nullptr};
    execve("/bin/cat", argv, envp);
    CHILD_CHECK(!"execve /bin/cat");
  }
  out.CloseWrite();
  const std::string got = ReadToEof(out.rd());
  EXPECT_EXITED_WITH(WaitStatus(child), 0);
  EXPECT_EQ(got, std::string("renamed-cat\0/proc/self/cmdline\0/proc/self/environ\0A=1\0B=two words\0", 66));
}

TEST(ProcExe, NamesTheRunningBinary) {
  struct stat st;
  ASSERT_EQ(lstat("/proc/self/exe", &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  const std::string exe = ReadLink("/proc/self/exe");
  EXPECT_EQ(exe, RealPath(Argv()[0]));
  // Following it opens the binary itself.
  struct stat through, direct;
  ASSERT_EQ(stat("/proc/self/exe", &through), 0);
  ASSERT_EQ(stat(exe.c_str(), &direct), 0);
  EXPECT_EQ(through.st_ino, direct.st_ino);
  EXPECT_EQ(through.st_dev, direct.st_dev);
}

class ProcTempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/procfs_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = RealPath(templ);
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    for (const auto& name : DirNames(dir_)) unlink((dir_ + "/" + name).c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
};

using ProcCwd = ProcTempDir;

TEST_F(ProcCwd, FollowsChdir) {
  int old = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(old, 0);
  ASSERT_EQ(chdir(dir_.c_str()), 0);
  EXPECT_EQ(ReadLink("/proc/self/cwd"), dir_);
  // The link leads into the directory: a file made through it is there.
  int fd = open("/proc/self/cwd/made_through_cwd", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0);
  if (fd >= 0) close(fd);
  struct stat st;
  EXPECT_EQ(stat((dir_ + "/made_through_cwd").c_str(), &st), 0);
  ASSERT_EQ(fchdir(old), 0);
  close(old);
  EXPECT_EQ(ReadLink("/proc/self/cwd"), RealPath("."));
}

TEST(ProcRoot, IsSlash) {
  EXPECT_EQ(ReadLink("/proc/self/root"), "/");
  struct stat a, b;
  ASSERT_EQ(stat("/proc/self/root/", &a), 0);
  ASSERT_EQ(stat("/", &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

// ---------------------------------------------------------------------------
// /proc/[pid]/fd and fdinfo

using ProcFd = ProcTempDir;

TEST_F(ProcFd, ListsOpenDescriptors) {
  const std::string path = dir_ + "/file";
  int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  auto names = DirNames("/proc/self/fd");
  for (const char* std_fd : {"0", "1", "2"}) EXPECT_EQ(names.count(std_fd), 1u) << std_fd;
  EXPECT_EQ(names.count(std::to_string(fd)), 1u);
  struct stat st;
  ASSERT_EQ(lstat(("/proc/self/fd/" + std::to_string(fd)).c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(ReadLink("/proc/self/fd/" + std::to_string(fd)), path);
  // A closed fd goes (one well above the lowest free number, which
  // opendir itself would take).
  const int high = 200;
  ASSERT_EQ(dup2(fd, high), high);
  EXPECT_EQ(DirNames("/proc/self/fd").count(std::to_string(high)), 1u);
  close(high);
  close(fd);
  EXPECT_EQ(DirNames("/proc/self/fd").count(std::to_string(high)), 0u);
  EXPECT_EQ(ReadLink("/proc/self/fd/" + std::to_string(high)), "");
  EXPECT_EQ(errno, ENOENT);
}

// Opening /proc/[pid]/fd/N opens the file anew: a new description with its
// own offset, even after the file was unlinked (whose link then says so).
TEST_F(ProcFd, ReopensTheFileEvenWhenDeleted) {
  const std::string path = dir_ + "/file";
  int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "hello", 5), 5);
  ASSERT_EQ(unlink(path.c_str()), 0);
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  EXPECT_EQ(ReadLink(link), path + " (deleted)");
  int again = open(link.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(again, 0);
  char buf[8] = {};
  EXPECT_EQ(read(again, buf, sizeof buf), 5) << "offset 0, not the first description's 5";
  EXPECT_STREQ(buf, "hello");
  EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 5);
  close(again);
  close(fd);
}

TEST(ProcFdPipe, LinkNamesThePipeInode) {
  syscall_test::Pipe p;
  ASSERT_TRUE(p.ok());
  const std::string link = ReadLink("/proc/self/fd/" + std::to_string(p.rd()));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(link, m, std::regex("^pipe:\\[([0-9]+)\\]$"))) << link;
  struct stat st;
  ASSERT_EQ(fstat(p.rd(), &st), 0);
  EXPECT_EQ(m[1].str(), std::to_string(st.st_ino));
  EXPECT_EQ(ReadLink("/proc/self/fd/" + std::to_string(p.wr())), link) << "both ends, one pipe";
}

TEST(ProcFdPipe, OpeningTheReadEndReadsThePipe) {
  syscall_test::Pipe p;
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(write(p.wr(), "through proc", 12), 12);
  int fd = open(("/proc/self/fd/" + std::to_string(p.rd())).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  char buf[32] = {};
  EXPECT_EQ(read(fd, buf, sizeof buf), 12);
  EXPECT_STREQ(buf, "through proc");
  // Both descriptors still name the pipe.
  const std::string link = ReadLink("/proc/self/fd/" + std::to_string(p.rd()));
  EXPECT_TRUE(std::regex_match(link, std::regex("^pipe:\\[[0-9]+\\]$"))) << link;
  EXPECT_EQ(ReadLink("/proc/self/fd/" + std::to_string(fd)), link);
  close(fd);
}

// A write end opened through /proc/self/fd is one more writer: once it
// and the original are closed, the reader sees end of file (pipe(7)).
TEST(ProcFdPipe, ReopenedWriteEndClosesLikeAnyOther) {
  syscall_test::Pipe p(O_NONBLOCK);
  ASSERT_TRUE(p.ok());
  int fd = open(("/proc/self/fd/" + std::to_string(p.wr())).c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(write(fd, "w", 1), 1);
  close(fd);
  char c;
  EXPECT_EQ(read(p.rd(), &c, 1), 1);
  EXPECT_EQ(read(p.rd(), &c, 1), -1) << "the original write end is still open";
  EXPECT_EQ(errno, EAGAIN);
  p.CloseWrite();
  EXPECT_EQ(read(p.rd(), &c, 1), 0) << "no writer left: end of file, not EAGAIN";
}

TEST_F(ProcFd, FdinfoShowsPositionAndFlags) {
  int fd = open((dir_ + "/file").c_str(), O_CREAT | O_RDWR | O_APPEND, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "0123456789", 10), 10);
  ASSERT_EQ(lseek(fd, 3, SEEK_SET), 3);
  auto kv = KeyValues(ReadFile("/proc/self/fdinfo/" + std::to_string(fd)).value_or(""));
  ASSERT_EQ(kv.count("pos"), 1u);
  ASSERT_EQ(kv.count("flags"), 1u);
  EXPECT_EQ(kv["pos"], "3");
  // proc(5): "flags: an octal number that displays the file access mode
  // and file status flags"; with the close-on-exec flag, O_CLOEXEC too.
  ASSERT_EQ(kv["flags"][0], '0') << "octal: " << kv["flags"];
  long flags = strtol(kv["flags"].c_str(), nullptr, 8);
  EXPECT_EQ(flags & O_ACCMODE, O_RDWR);
  EXPECT_TRUE(flags & O_APPEND);
  EXPECT_FALSE(flags & O_CLOEXEC);
  ASSERT_EQ(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
  kv = KeyValues(ReadFile("/proc/self/fdinfo/" + std::to_string(fd)).value_or(""));
  flags = strtol(kv["flags"].c_str(), nullptr, 8);
  EXPECT_TRUE(flags & O_CLOEXEC) << kv["flags"];
  close(fd);
  EXPECT_EQ(ReadFile("/proc/self/fdinfo/" + std::to_string(fd)), std::nullopt);
  EXPECT_EQ(errno, ENOENT);
}

// ---------------------------------------------------------------------------
// /proc/[pid]/maps

const std::regex& MapsLine() {
  static const std::regex re("^[0-9a-f]+-[0-9a-f]+ [r-][w-][x-][ps] [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ [0-9]+ *.*$");
  return re;
}

// The maps line whose range starts at `addr`, or "".
std::string MapsLineAt(const void* addr) {
  char prefix[32];
  snprintf(prefix, sizeof prefix, "%" PRIxPTR "-", reinterpret_cast<uintptr_t>(addr));
  for (const auto& line : Lines(ReadFile("/proc/self/maps").value_or(""))) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

TEST(ProcMaps, EveryLineHasTheDocumentedFormat) {
  auto text = ReadFile("/proc/self/maps");
  ASSERT_TRUE(text.has_value());
  auto lines = Lines(*text);
  ASSERT_FALSE(lines.empty());
  bool stack = false;
  uint64_t last_end = 0;
  int local = 0;
  for (const auto& line : lines) {
    EXPECT_TRUE(std::regex_match(line, MapsLine())) << line;
    const uint64_t start = strtoull(line.c_str(), nullptr, 16);
    const uint64_t end = strtoull(line.c_str() + line.find('-') + 1, nullptr, 16);
    EXPECT_LT(start, end) << line;
    EXPECT_LE(last_end, start) << "sorted and disjoint: " << line;
    last_end = end;
    if (line.size() >= 7 && line.compare(line.size() - 7, 7, "[stack]") == 0) {
      stack = true;
      // The stack holds our locals.
      const uint64_t here = reinterpret_cast<uintptr_t>(&local);
      EXPECT_TRUE(start <= here && here < end) << line;
    }
  }
  EXPECT_TRUE(stack) << *text;
}

TEST(ProcMaps, ShowsAnMmapWithItsPermissions) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, 3 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  char* c = static_cast<char*>(p);
  std::string line = MapsLineAt(p);
  char want[64];
  snprintf(want, sizeof want, "%" PRIxPTR "-%" PRIxPTR " r--p ", reinterpret_cast<uintptr_t>(c),
           reinterpret_cast<uintptr_t>(c + 3 * page));
  EXPECT_EQ(line.rfind(want, 0), 0u) << "want " << want << " got " << line;
  // mprotect of the middle page splits the range in three.
  ASSERT_EQ(mprotect(c + page, page, PROT_READ | PROT_WRITE), 0);
  line = MapsLineAt(c + page);
  snprintf(want, sizeof want, "%" PRIxPTR "-%" PRIxPTR " rw-p ", reinterpret_cast<uintptr_t>(c + page),
           reinterpret_cast<uintptr_t>(c + 2 * page));
  EXPECT_EQ(line.rfind(want, 0), 0u) << "want " << want << " got " << line;
  EXPECT_NE(MapsLineAt(c + 2 * page), "");
  ASSERT_EQ(munmap(p, 3 * page), 0);
  EXPECT_EQ(MapsLineAt(p), "");
  EXPECT_EQ(MapsLineAt(c + page), "");
}

TEST(ProcMaps, SharedMappingsAreMarkedS) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::string line = MapsLineAt(p);
  EXPECT_EQ(line.find(" rwxs "), line.find(' ')) << line;
  munmap(p, page);
}

using ProcMapsFile = ProcTempDir;

// A file mapping shows the file's offset (hex) and its path.
TEST_F(ProcMapsFile, FileMappingShowsOffsetAndPath) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const std::string path = dir_ + "/mapped";
  int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(2 * page)), 0);
  void* p = mmap(nullptr, page, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(page));
  ASSERT_NE(p, MAP_FAILED);
  close(fd);
  auto f = Fields(MapsLineAt(p));
  ASSERT_EQ(f.size(), 6u) << MapsLineAt(p);
  EXPECT_EQ(f[1], "r--s");
  EXPECT_EQ(strtoull(f[2].c_str(), nullptr, 16), page);
  EXPECT_EQ(f[5], path);
  munmap(p, page);
}

// ---------------------------------------------------------------------------
// /proc/[pid]/mounts and mountinfo

TEST(ProcMounts, FstabFormatListsRootAndProc) {
  struct stat st;
  ASSERT_EQ(lstat("/proc/mounts", &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "proc(5): a link to self/mounts";
  EXPECT_EQ(ReadLink("/proc/mounts"), "self/mounts");
  auto text = ReadFile("/proc/self/mounts");
  ASSERT_TRUE(text.has_value());
  std::map<std::string, std::string> fstype;  // the last mount on each point
  for (const auto& line : Lines(*text)) {
    auto f = Fields(line);
    ASSERT_EQ(f.size(), 6u) << line;  // spec file vfstype mntops freq passno
    EXPECT_TRUE(f[3].rfind("rw", 0) == 0 || f[3].rfind("ro", 0) == 0) << line;
    EXPECT_TRUE(IsUnsigned(f[4]) && IsUnsigned(f[5])) << line;
    fstype[f[1]] = f[2];
  }
  EXPECT_EQ(fstype.count("/"), 1u) << *text;
  EXPECT_EQ(fstype["/proc"], "proc") << *text;
  EXPECT_EQ(ReadFile("/proc/mounts"), text);
}

TEST(ProcMounts, MountinfoFormat) {
  auto text = ReadFile("/proc/self/mountinfo");
  ASSERT_TRUE(text.has_value());
  std::set<std::string> ids;
  std::string proc_dev;
  bool root = false;
  for (const auto& line : Lines(*text)) {
    // proc(5): id parent major:minor root mountpoint options [optional...] - fstype source superopts
    const size_t sep = line.find(" - ");
    ASSERT_NE(sep, std::string::npos) << line;
    auto before = Fields(line.substr(0, sep)), after = Fields(line.substr(sep + 3));
    ASSERT_GE(before.size(), 6u) << line;
    ASSERT_GE(after.size(), 2u) << line;  // the source may be empty on Linux
    EXPECT_TRUE(IsUnsigned(before[0]) && IsUnsigned(before[1])) << line;
    EXPECT_TRUE(ids.insert(before[0]).second) << "duplicate mount id: " << line;
    EXPECT_TRUE(std::regex_match(before[2], std::regex("^[0-9]+:[0-9]+$"))) << line;
    // The root within its filesystem: a path, or for a bind mount of a
    // namespace file (nsfs, as `ip netns` and Docker make) "net:[inode]".
    EXPECT_TRUE(before[3][0] == '/' || (after[0] == "nsfs" && before[3].find(":[") != std::string::npos)) << line;
    if (before[4] == "/") root = true;
    if (before[4] == "/proc") {
      EXPECT_EQ(after[0], "proc") << line;
      proc_dev = before[2];
    }
  }
  EXPECT_TRUE(root) << *text;
  ASSERT_FALSE(proc_dev.empty()) << *text;
  // "major:minor: the value of st_dev for files on this filesystem".
  struct stat st;
  ASSERT_EQ(stat("/proc", &st), 0);
  EXPECT_EQ(proc_dev, std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)));
}

// ---------------------------------------------------------------------------
// /proc/[pid]/limits

std::vector<std::string> LimitsRow(const std::string& text, const std::string& name) {
  for (const auto& line : Lines(text)) {
    if (line.rfind(name, 0) == 0) return Fields(line.substr(name.size()));
  }
  return {};
}

TEST(ProcLimits, ShowsTheCallersLimits) {
  auto text = ReadFile("/proc/self/limits");
  ASSERT_TRUE(text.has_value());
  auto lines = Lines(*text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(Fields(lines[0]), (std::vector<std::string>{"Limit", "Soft", "Limit", "Hard", "Limit", "Units"}));
  auto row = LimitsRow(*text, "Max open files");
  ASSERT_GE(row.size(), 2u) << *text;
  struct rlimit rl;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  EXPECT_EQ(row[0], std::to_string(rl.rlim_cur));
  EXPECT_EQ(row[1], std::to_string(rl.rlim_max));
  // RLIM_INFINITY shows as "unlimited".
  struct Limit {
    const char* name;
    int resource;
  };
  for (const Limit& l : {Limit{"Max cpu time", RLIMIT_CPU}, Limit{"Max file size", RLIMIT_FSIZE},
                         Limit{"Max stack size", RLIMIT_STACK}, Limit{"Max core file size", RLIMIT_CORE},
                         Limit{"Max processes", RLIMIT_NPROC}, Limit{"Max address space", RLIMIT_AS},
                         Limit{"Max pending signals", RLIMIT_SIGPENDING}}) {
    auto r = LimitsRow(*text, l.name);
    ASSERT_GE(r.size(), 2u) << l.name;
    ASSERT_EQ(getrlimit(l.resource, &rl), 0);
    auto shown = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); };
    EXPECT_EQ(r[0], shown(rl.rlim_cur)) << l.name;
    EXPECT_EQ(r[1], shown(rl.rlim_max)) << l.name;
  }
}

TEST(ProcLimits, FollowsSetrlimit) {
  int status = RunInChild([] {
    struct rlimit rl;
    CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = 77;
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHILD_CHECK(LimitsRow(ReadFile("/proc/self/limits").value_or(""), "Max open files")[0] == "77");
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// ---------------------------------------------------------------------------
// System-wide files

TEST(ProcSystem, CpuinfoHasOneProcessorPerOnlineCpu) {
  auto text = ReadFile("/proc/cpuinfo");
  ASSERT_TRUE(text.has_value());
  long processors = 0;
  for (const auto& line : Lines(*text)) {
    if (line.rfind("processor", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, std::regex("^processor\\s*: [0-9]+$"))) << line;
      ++processors;
    }
  }
  EXPECT_EQ(processors, sysconf(_SC_NPROCESSORS_ONLN));
}

TEST(ProcSystem, Meminfo) {
  auto text = ReadFile("/proc/meminfo");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->rfind("MemTotal:", 0), 0u);
  for (const auto& line : Lines(*text)) {
    EXPECT_TRUE(std::regex_match(line, std::regex("^[A-Za-z0-9_()]+: +[0-9]+( kB)?$"))) << line;
  }
  auto kv = KeyValues(*text);
  ASSERT_TRUE(std::regex_match(kv["MemTotal"], std::regex("^[0-9]+ kB$"))) << kv["MemTotal"];
  const uint64_t total = strtoull(kv["MemTotal"].c_str(), nullptr, 10);
  EXPECT_GT(total, 0u);
  ASSERT_EQ(kv.count("MemFree"), 1u);
  ASSERT_EQ(kv.count("MemAvailable"), 1u);
  EXPECT_LE(strtoull(kv["MemFree"].c_str(), nullptr, 10), total);
  EXPECT_LE(strtoull(kv["MemAvailable"].c_str(), nullptr, 10), total);
}

TEST(ProcSystem, Stat) {
  auto text = ReadFile("/proc/stat");
  ASSERT_TRUE(text.has_value());
  auto lines = Lines(*text);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("cpu ", 0), 0u) << "the first line sums all CPUs";
  EXPECT_GE(Fields(lines[0]).size(), 5u);  // user nice system idle ...
  long cpus = 0;
  std::string btime;
  for (const auto& line : lines) {
    if (std::regex_search(line, std::regex("^cpu[0-9]+ "))) ++cpus;
    if (line.rfind("btime ", 0) == 0) btime = line.substr(6);
  }
  EXPECT_EQ(cpus, sysconf(_SC_NPROCESSORS_ONLN));
  ASSERT_TRUE(IsUnsigned(btime)) << btime;
  EXPECT_LE(strtoll(btime.c_str(), nullptr, 10), time(nullptr)) << "booted in the past";
}

TEST(ProcSystem, UptimeIsTwoDecimals) {
  auto a = ReadFile("/proc/uptime");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(std::regex_match(*a, std::regex("^[0-9]+\\.[0-9]{2} [0-9]+\\.[0-9]{2}\n$"))) << *a;
  auto b = ReadFile("/proc/uptime");
  EXPECT_LE(strtod(a->c_str(), nullptr), strtod(b.value_or("").c_str(), nullptr)) << "uptime never goes back";
}

TEST(ProcSystem, Loadavg) {
  auto text = ReadFile("/proc/loadavg");
  ASSERT_TRUE(text.has_value());
  std::smatch m;
  ASSERT_TRUE(std::regex_match(*text, m, std::regex("^[0-9.]+ [0-9.]+ [0-9.]+ ([0-9]+)/([0-9]+) [0-9]+\n$"))) << *text;
  EXPECT_GE(std::stol(m[1].str()), 1) << "we are running";
  EXPECT_LE(std::stol(m[1].str()), std::stol(m[2].str()));
}

TEST(ProcSystem, VersionNamesTheRelease) {
  struct utsname u;
  ASSERT_EQ(uname(&u), 0);
  auto text = ReadFile("/proc/version");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->rfind(std::string("Linux version ") + u.release + " ", 0), 0u) << *text;
  EXPECT_EQ(text->back(), '\n');
}

TEST(ProcSystem, FilesystemsListsProcAndTmpfs) {
  auto text = ReadFile("/proc/filesystems");
  ASSERT_TRUE(text.has_value());
  std::set<std::string> names;
  for (const auto& line : Lines(*text)) {
    // "nodev\tname" for filesystems with no device, "\tname" otherwise.
    EXPECT_TRUE(std::regex_match(line, std::regex("^(nodev)?\t[a-z0-9_.-]+$"))) << line;
    auto f = Fields(line);
    if (!f.empty()) names.insert(f.back());
  }
  EXPECT_EQ(names.count("proc"), 1u);
  EXPECT_EQ(names.count("tmpfs"), 1u);
  EXPECT_EQ(names.count("sysfs"), 1u);
}

// ---------------------------------------------------------------------------
// /proc/sys

std::string Sysctl(const std::string& name) { return ReadFile("/proc/sys/" + name).value_or("<unreadable>"); }

TEST(ProcSys, KernelNamesMatchUname) {
  struct utsname u;
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(Sysctl("kernel/hostname"), std::string(u.nodename) + "\n");
  EXPECT_EQ(Sysctl("kernel/osrelease"), std::string(u.release) + "\n");
  EXPECT_EQ(Sysctl("kernel/ostype"), "Linux\n");
  EXPECT_EQ(Sysctl("kernel/ostype"), std::string(u.sysname) + "\n");
}

TEST(ProcSys, NumericKnobs) {
  for (const char* name : {"kernel/pid_max", "fs/nr_open", "kernel/ngroups_max", "vm/max_map_count"}) {
    const std::string v = Sysctl(name);
    ASSERT_FALSE(v.empty()) << name;
    EXPECT_EQ(v.back(), '\n') << name;
    const std::string n = Trimmed(v);
    EXPECT_TRUE(IsUnsigned(n) && n != "0") << name << " = " << v;
  }
  EXPECT_TRUE(std::regex_match(Sysctl("vm/overcommit_memory"), std::regex("^[012]\n$")))
      << Sysctl("vm/overcommit_memory");
  // No live pid may reach pid_max.
  EXPECT_LT(getpid(), std::stol(Sysctl("kernel/pid_max")));
}

TEST(ProcSys, BootIdIsAStableUuid) {
  const std::string a = Sysctl("kernel/random/boot_id"), b = Sysctl("kernel/random/boot_id");
  EXPECT_TRUE(IsUuid(Trimmed(a))) << a;
  EXPECT_EQ(a.back(), '\n');
  EXPECT_EQ(a, b);
  const std::string child_view = [] {
    syscall_test::Pipe p;
    pid_t pid = fork();
    if (pid == 0) {
      std::string s = Sysctl("kernel/random/boot_id");
      CHILD_CHECK(syscall_test::WriteAll(p.wr(), s.data(), s.size()));
      _exit(0);
    }
    p.CloseWrite();
    std::string s = ReadToEof(p.rd());
    WaitStatus(pid);
    return s;
  }();
  EXPECT_EQ(child_view, a) << "one boot, one id";
}

TEST(ProcSys, UuidIsFreshOnEveryRead) {
  const std::string a = Trimmed(Sysctl("kernel/random/uuid")), b = Trimmed(Sysctl("kernel/random/uuid"));
  EXPECT_TRUE(IsUuid(a)) << a;
  EXPECT_TRUE(IsUuid(b)) << b;
  EXPECT_NE(a, b);
}

TEST(ProcSys, ListsItsDirectories) {
  auto sys = DirNames("/proc/sys");
  for (const char* d : {"kernel", "vm", "fs"}) EXPECT_EQ(sys.count(d), 1u) << d;
  auto kernel = DirNames("/proc/sys/kernel");
  for (const char* f : {"hostname", "osrelease", "ostype", "pid_max", "random"}) EXPECT_EQ(kernel.count(f), 1u) << f;
}

// ---------------------------------------------------------------------------
// /sys

TEST(Sysfs, CpuOnlineMatchesSysconf) {
  auto text = ReadFile("/sys/devices/system/cpu/online");
  ASSERT_TRUE(text.has_value());
  std::smatch m;
  if (!std::regex_match(*text, m, std::regex("^0(-([0-9]+))?\n$"))) {
    GTEST_SKIP() << "online CPUs are not a single range from 0 here: " << *text;
  }
  const long n = m[2].matched ? std::stol(m[2].str()) + 1 : 1;
  EXPECT_EQ(n, sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_TRUE(std::regex_match(ReadFile("/sys/devices/system/cpu/possible").value_or(""),
                               std::regex("^0(-[0-9]+)?\n$")));
}

// ---------------------------------------------------------------------------
// Writes

// A read-only proc file cannot be written: open(2) refuses it (EACCES) or,
// for root whose CAP_DAC_OVERRIDE passes the mode check on Linux, the
// file's missing write operation does (EINVAL, or EIO for the files of
// proc_create_single).
TEST(ProcWrite, ReadOnlyFilesRefuseWrites) {
  for (const char* path : {"/proc/self/stat", "/proc/self/status", "/proc/version", "/proc/self/maps"}) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      EXPECT_EQ(errno, EACCES) << path;
      continue;
    }
    EXPECT_EQ(write(fd, "1", 1), -1) << path;
    EXPECT_TRUE(errno == EINVAL || errno == EIO) << path << ": " << strerror(errno);
    close(fd);
  }
}

TEST(ProcWrite, ReadOnlyFilesRefuseAnUnprivilegedOpener) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to drop to another uid";
  int status = RunInChild([] {
    CHILD_CHECK(setresgid(65534, 65534, 65534) == 0);
    CHILD_CHECK(setresuid(65534, 65534, 65534) == 0);
    for (const char* path : {"/proc/self/stat", "/proc/version", "/proc/sys/kernel/ostype"}) {
      errno = 0;
      CHILD_CHECK(open(path, O_WRONLY) == -1 && errno == EACCES);
    }
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// proc(5): oom_score_adj takes -1000..1000; anything else is EINVAL.
// Raising it needs no privilege (lowering needs CAP_SYS_RESOURCE, which
// root may lack in a container). In a child, as it changes the process.
TEST(ProcWrite, OomScoreAdjValidatesItsValue) {
  int status = RunInChild([] {
    CHILD_CHECK(Trimmed(ReadFile("/proc/self/oom_score_adj").value_or("?")) ==
                Trimmed(ReadFile("/proc/" + std::to_string(getppid()) + "/oom_score_adj").value_or("!")));
    CHILD_CHECK(WriteFile("/proc/self/oom_score_adj", "1000\n") == 5);
    CHILD_CHECK(ReadFile("/proc/self/oom_score_adj") == "1000\n");
    CHILD_CHECK(WriteFile("/proc/self/oom_score_adj", "abc") == -1 && errno == EINVAL);
    CHILD_CHECK(WriteFile("/proc/self/oom_score_adj", "5000") == -1 && errno == EINVAL);
    CHILD_CHECK(WriteFile("/proc/self/oom_score_adj", "12abc") == -1 && errno == EINVAL);
    CHILD_CHECK(ReadFile("/proc/self/oom_score_adj") == "1000\n");
    // A forked child starts with its parent's value.
    pid_t grandchild = syscall_test::ForkChild([] { return ReadFile("/proc/self/oom_score_adj") == "1000\n" ? 0 : 1; });
    CHILD_CHECK(grandchild > 0);
    CHILD_CHECK(syscall_test::WaitStatus(grandchild) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// proc(5): a thread may change its comm by writing /proc/self/comm; the
// name is cut to 15 bytes, and prctl(PR_GET_NAME) sees it.
TEST(ProcWrite, CommCanBeRenamed) {
  int status = RunInChild([] {
    CHILD_CHECK(WriteFile("/proc/self/comm", "renamed") == 7);
    CHILD_CHECK(ReadFile("/proc/self/comm") == "renamed\n");
    char name[16] = {};
    CHILD_CHECK(prctl(PR_GET_NAME, name) == 0 && std::string(name) == "renamed");
    auto f = StatFields(ReadFile("/proc/self/stat").value_or(""));
    CHILD_CHECK(f.size() > 1 && f[1] == "renamed");
    CHILD_CHECK(WriteFile("/proc/self/comm", "abcdefghijklmnopqrstuvwxyz") == 26);
    CHILD_CHECK(ReadFile("/proc/self/comm") == "abcdefghijklmno\n");
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// Only threads of the same process may rename it: another's comm is EINVAL.
TEST(ProcWrite, CommOfAnotherProcessIsRefused) {
  const std::string before = ReadFile("/proc/self/comm").value_or("");
  const std::string parent_comm = "/proc/" + std::to_string(getpid()) + "/comm";
  int status = RunInChild([&] {
    int fd = open(parent_comm.c_str(), O_WRONLY);
    if (fd < 0) {
      CHILD_CHECK(errno == EACCES);  // not root: the mode already refuses
      return 0;
    }
    CHILD_CHECK(write(fd, "hijacked", 8) == -1 && errno == EINVAL);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EQ(ReadFile("/proc/self/comm"), before);
}

}  // namespace
