// execve(2): argument and environment passing, errors, and what survives an
// exec (pid, parent, signal mask, pending signals, ignored signals, fds
// without FD_CLOEXEC) and what does not (handlers, the alternate signal
// stack, close-on-exec fds). The exec'd programs are /bin/echo, /usr/bin/env,
// /bin/sh and this binary itself: run with SYSCALL_TEST_EXEC_HELPER=report
// in its environment, it prints what it inherited and exits before gtest
// starts. Output comes back through pipes; nothing touches the filesystem.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <thread>
#include <map>
#include <string>
#include <vector>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

constexpr char kHelperVar[] = "SYSCALL_TEST_EXEC_HELPER";
// Single-digit fds, so that /bin/sh (dash) can name them in redirections.
constexpr int kCloexecFd = 7;
constexpr int kInheritedFd = 8;

// This binary's path (argv[0]), for re-executing it as the helper. A plain
// pointer: set by a constructor, it must need no dynamic initialization.
const char* g_self = nullptr;

// ---------------------------------------------------------------------------
// The helper: runs from a constructor, before main, when kHelperVar is set.

void Out(std::string& out, const std::string& key, const std::string& value) {
  out += key + "=" + value + "\n";
}

std::string SignalSet(const sigset_t& set) {
  std::string s;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sigismember(&set, sig) == 1) s += (s.empty() ? "" : ",") + std::to_string(sig);
  }
  return s;
}

[[noreturn]] void RunHelper(int argc, char** argv, char** envp) {
  std::string out;
  Out(out, "pid", std::to_string(getpid()));
  Out(out, "tid", std::to_string(syscall(SYS_gettid)));
  Out(out, "ppid", std::to_string(getppid()));
  Out(out, "argc", std::to_string(argc));
  for (int i = 0; i < argc; i++) Out(out, "argv" + std::to_string(i), argv[i]);
  int envc = 0;
  for (char** e = envp; *e != nullptr; e++) Out(out, "env" + std::to_string(envc++), *e);
  Out(out, "envc", std::to_string(envc));
  for (int sig : {SIGUSR1, SIGUSR2, SIGTERM, SIGCHLD, SIGALRM}) {
    struct sigaction sa = {};
    sigaction(sig, nullptr, &sa);
    std::string d = sa.sa_handler == SIG_DFL ? "DFL" : sa.sa_handler == SIG_IGN ? "IGN" : "HANDLER";
    Out(out, "sig" + std::to_string(sig), d);
  }
  sigset_t set;
  sigprocmask(SIG_SETMASK, nullptr, &set);
  Out(out, "blocked", SignalSet(set));
  sigpending(&set);
  Out(out, "pending", SignalSet(set));
  stack_t ss = {};
  sigaltstack(nullptr, &ss);
  Out(out, "altstack", ss.ss_flags == SS_DISABLE ? "disabled" : std::to_string(ss.ss_flags));
  for (int fd : {kCloexecFd, kInheritedFd}) {
    int flags = fcntl(fd, F_GETFD);
    Out(out, "fd" + std::to_string(fd), flags < 0 ? "EBADF" : std::to_string(flags));
  }
  WriteAll(1, out.data(), out.size());
  _exit(0);
}

// glibc passes (argc, argv, envp) to constructors, static binaries included.
__attribute__((constructor)) void MaybeRunHelper(int argc, char** argv, char** envp) {
  if (argc > 0) g_self = argv[0];
  const char* mode = getenv(kHelperVar);
  if (mode != nullptr && strcmp(mode, "report") == 0) RunHelper(argc, argv, envp);
}

// ---------------------------------------------------------------------------
// Running a program in a child and capturing its stdout.

struct Result {
  int status = -1;
  std::string out;
};

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> r;
  for (const std::string& s : v) r.push_back(const_cast<char*>(s.c_str()));
  r.push_back(nullptr);
  return r;
}

// Forks; the child runs setup() (which may fail with CHILD_CHECK), points
// stdout at a pipe and execs path. Returns the exit status and the output.
Result RunProgram(
    const std::string& path, const std::vector<std::string>& args,
    const std::vector<std::string>& env, const std::function<void()>& setup = [] {}) {
  Result r;
  Pipe out;
  if (!out.ok()) return r;
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(env);
  pid_t pid = ForkChild([&] {
    // Out of the way of the fds the tests place.
    int w = fcntl(out.wr(), F_DUPFD, 20);
    CHILD_CHECK(w >= 0);
    out.CloseRead();
    out.CloseWrite();
    setup();
    CHILD_CHECK(dup2(w, 1) == 1);
    close(w);
    execve(path.c_str(), argv.data(), envp.data());
    fprintf(stderr, "execve %s: %s\n", path.c_str(), strerror(errno));
    return 127;
  });
  if (pid < 0) return r;
  out.CloseWrite();
  r.out = ReadToEof(out.rd());
  r.status = WaitStatus(pid);
  return r;
}

std::map<std::string, std::string> Parse(const std::string& out) {
  std::map<std::string, std::string> m;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::string line = out.substr(pos, nl - pos);
    size_t eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
    pos = nl + 1;
  }
  return m;
}

std::string HelperEnv() { return std::string(kHelperVar) + "=report"; }

// Runs this binary as the helper and returns what it reported.
std::map<std::string, std::string> RunHelperWith(const std::function<void()>& setup,
                                                 int* status = nullptr,
                                                 std::vector<std::string> args = {"helper"}) {
  Result r = RunProgram(g_self, args, {HelperEnv()}, setup);
  if (status != nullptr) *status = r.status;
  return Parse(r.out);
}

class ExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (g_self == nullptr || strchr(g_self, '/') == nullptr || access(g_self, X_OK) != 0) {
      GTEST_SKIP() << "cannot re-execute this binary (argv[0] is '"
                   << (g_self != nullptr ? g_self : "(null)") << "')";
    }
  }
};

// Runs fn in a child that must _exit(0) for the test to pass; for execve
// calls that are expected to fail (and so must not replace the test).
template <typename Fn>
void ExpectInChild(Fn fn) {
  int status = RunInChild([&] {
    fn();
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// ---------------------------------------------------------------------------
// Arguments and environment

TEST_F(ExecTest, ArgvIsPassedExactly) {
  int status;
  auto m = RunHelperWith([] {}, &status, {"argv zero", "two words", "", "last"});
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EQ(m["argc"], "4");
  EXPECT_EQ(m["argv0"], "argv zero") << "argv[0] is what the caller passed, not the path";
  EXPECT_EQ(m["argv1"], "two words");
  EXPECT_EQ(m.count("argv2"), 1u);
  EXPECT_EQ(m["argv2"], "");
  EXPECT_EQ(m["argv3"], "last");
}

TEST_F(ExecTest, EnvironmentIsPassedExactly) {
  Result r = RunProgram(g_self, {"helper"}, {"A=1", HelperEnv(), "B=two words", "EMPTY="});
  EXPECT_EXITED_WITH(r.status, 0);
  auto m = Parse(r.out);
  EXPECT_EQ(m["envc"], "4");
  EXPECT_EQ(m["env0"], "A=1");
  EXPECT_EQ(m["env1"], HelperEnv());
  EXPECT_EQ(m["env2"], "B=two words");
  EXPECT_EQ(m["env3"], "EMPTY=");
}

TEST(ExecProgramsTest, EchoPrintsItsArguments) {
  Result r = RunProgram("/bin/echo", {"echo", "a", "b  c", "", "d"}, {});
  EXPECT_EXITED_WITH(r.status, 0);
  EXPECT_EQ(r.out, "a b  c  d\n");
}

TEST(ExecProgramsTest, EnvPrintsExactlyTheGivenEnvironment) {
  Result r = RunProgram("/usr/bin/env", {"env"}, {"X=1", "Y=two words"});
  EXPECT_EXITED_WITH(r.status, 0);
  EXPECT_EQ(r.out, "X=1\nY=two words\n");
  Result empty = RunProgram("/usr/bin/env", {"env"}, {});
  EXPECT_EXITED_WITH(empty.status, 0);
  EXPECT_EQ(empty.out, "");
}

TEST(ExecProgramsTest, ShellSeesArgumentsAndEnvironment) {
  Result r =
      RunProgram("/bin/sh", {"sh", "-c", "echo \"$0|$1|$2|$X\"", "zero", "one", "two"}, {"X=ex"});
  EXPECT_EXITED_WITH(r.status, 0);
  EXPECT_EQ(r.out, "zero|one|two|ex\n");
}

TEST(ExecProgramsTest, ExitStatusIsTheNewProgramsExitStatus) {
  Result r = RunProgram("/bin/sh", {"sh", "-c", "exit 3"}, {});
  EXPECT_EXITED_WITH(r.status, 3);
  Result t = RunProgram("/bin/true", {"true"}, {});
  EXPECT_EXITED_WITH(t.status, 0);
  Result f = RunProgram("/bin/false", {"false"}, {});
  EXPECT_EXITED_WITH(f.status, 1);
}

// ---------------------------------------------------------------------------
// What survives

TEST_F(ExecTest, PidAndParentAreUnchanged) {
  Pipe pid_pipe;
  ASSERT_TRUE(pid_pipe.ok());
  int status;
  auto m = RunHelperWith(
      [&] {
        pid_t me = getpid();
        CHILD_CHECK(WriteAll(pid_pipe.wr(), &me, sizeof me));
      },
      &status);
  EXPECT_EXITED_WITH(status, 0);
  pid_t before;
  ASSERT_TRUE(ReadFull(pid_pipe.rd(), &before, sizeof before));
  EXPECT_EQ(m["pid"], std::to_string(before));
  EXPECT_EQ(m["ppid"], std::to_string(getpid()));
}

void NoopHandler(int) {}

TEST_F(ExecTest, HandledSignalsAreResetAndIgnoredOnesStayIgnored) {
  int status;
  auto m = RunHelperWith(
      [] {
        struct sigaction h = {};
        h.sa_handler = NoopHandler;
        CHILD_CHECK(sigaction(SIGUSR1, &h, nullptr) == 0);
        CHILD_CHECK(sigaction(SIGTERM, &h, nullptr) == 0);
        struct sigaction ign = {};
        ign.sa_handler = SIG_IGN;
        CHILD_CHECK(sigaction(SIGUSR2, &ign, nullptr) == 0);
        CHILD_CHECK(sigaction(SIGCHLD, &ign, nullptr) == 0);
        struct sigaction dfl = {};
        dfl.sa_handler = SIG_DFL;
        CHILD_CHECK(sigaction(SIGALRM, &dfl, nullptr) == 0);
      },
      &status);
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EQ(m["sig" + std::to_string(SIGUSR1)], "DFL");
  EXPECT_EQ(m["sig" + std::to_string(SIGTERM)], "DFL");
  EXPECT_EQ(m["sig" + std::to_string(SIGUSR2)], "IGN");
  EXPECT_EQ(m["sig" + std::to_string(SIGCHLD)], "IGN");
  EXPECT_EQ(m["sig" + std::to_string(SIGALRM)], "DFL");
}

TEST_F(ExecTest, SignalMaskIsPreserved) {
  int status;
  auto m = RunHelperWith(
      [] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGALRM);
        CHILD_CHECK(sigprocmask(SIG_SETMASK, &set, nullptr) == 0);
      },
      &status);
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EQ(m["blocked"], std::to_string(SIGUSR1) + "," + std::to_string(SIGALRM));
}

TEST_F(ExecTest, PendingSignalsArePreserved) {
  int status;
  auto m = RunHelperWith(
      [] {
        struct sigaction h = {};
        h.sa_handler = NoopHandler;
        CHILD_CHECK(sigaction(SIGUSR2, &h, nullptr) == 0);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        CHILD_CHECK(sigprocmask(SIG_SETMASK, &set, nullptr) == 0);
        CHILD_CHECK(kill(getpid(), SIGUSR2) == 0);
        sigset_t pending;
        CHILD_CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR2) == 1);
      },
      &status);
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EQ(m["pending"], std::to_string(SIGUSR2));
  EXPECT_EQ(m["blocked"], std::to_string(SIGUSR2));
  EXPECT_EQ(m["sig" + std::to_string(SIGUSR2)], "DFL");
}

alignas(16) char g_altstack[64 * 1024];

TEST_F(ExecTest, AlternateSignalStackIsNotInherited) {
  int status;
  auto m = RunHelperWith(
      [] {
        stack_t ss = {};
        ss.ss_sp = g_altstack;
        ss.ss_size = sizeof g_altstack;
        CHILD_CHECK(sigaltstack(&ss, nullptr) == 0);
      },
      &status);
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EQ(m["altstack"], "disabled");
}

// Places a pipe's write end at kCloexecFd (with FD_CLOEXEC) and another's at
// kInheritedFd (without), in the child, before the exec.
void PlaceFds(int cloexec_src, int inherited_src) {
  int a = fcntl(cloexec_src, F_DUPFD, 30);
  int b = fcntl(inherited_src, F_DUPFD, 30);
  CHILD_CHECK(a >= 0 && b >= 0);
  CHILD_CHECK(dup3(a, kCloexecFd, O_CLOEXEC) == kCloexecFd);
  CHILD_CHECK(dup2(b, kInheritedFd) == kInheritedFd);
  close(a);
  close(b);
  CHILD_CHECK(fcntl(kCloexecFd, F_GETFD) == FD_CLOEXEC);
  CHILD_CHECK(fcntl(kInheritedFd, F_GETFD) == 0);
}

// execve(2) from a thread other than the leader: the other threads,
// the leader included, go, and the caller takes over the leader's thread
// ID, which is the process ID.
TEST_F(ExecTest, ExecFromANonLeaderThreadTakesTheProcessId) {
  Pipe out;
  ASSERT_TRUE(out.ok());
  std::string self = g_self;
  std::string env = HelperEnv();
  pid_t pid = ForkChild([&] {
    CHILD_CHECK(dup2(out.wr(), 1) == 1);
    out.CloseRead();
    std::thread([&] {
      std::vector<char*> argv = {const_cast<char*>("helper"), nullptr};
      std::vector<char*> envp = {const_cast<char*>(env.c_str()), nullptr};
      CHILD_CHECK(syscall(SYS_gettid) != getpid());
      execve(self.c_str(), argv.data(), envp.data());
      _exit(127);
    }).join();
    return 126;  // the thread's execve replaced the process before this
  });
  ASSERT_GT(pid, 0);
  out.CloseWrite();
  auto m = Parse(ReadToEof(out.rd()));
  int status = WaitStatus(pid);
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EQ(m["pid"], std::to_string(pid));
  EXPECT_EQ(m["tid"], std::to_string(pid)) << "the exec'ing thread now has the leader's ID";
}

TEST_F(ExecTest, CloseOnExecFdsAreClosedAndOthersInherited) {
  Pipe a, b;
  ASSERT_TRUE(a.ok() && b.ok());
  int status;
  auto m = RunHelperWith([&] { PlaceFds(a.wr(), b.wr()); }, &status);
  EXPECT_EXITED_WITH(status, 0);
  EXPECT_EQ(m["fd" + std::to_string(kCloexecFd)], "EBADF");
  EXPECT_EQ(m["fd" + std::to_string(kInheritedFd)], "0");
}

TEST(ExecProgramsTest, ShellCannotWriteToACloseOnExecFd) {
  Pipe a, b;
  ASSERT_TRUE(a.ok() && b.ok());
  std::string script = "echo inherited >&" + std::to_string(kInheritedFd) +
                       "; echo cloexec 2>&- >&" + std::to_string(kCloexecFd);
  Result r = RunProgram("/bin/sh", {"sh", "-c", script}, {}, [&] { PlaceFds(a.wr(), b.wr()); });
  a.CloseWrite();
  b.CloseWrite();
  // dash reports a redirection to a closed fd with status 2.
  EXPECT_EXITED_WITH(r.status, 2);
  EXPECT_EQ(ReadToEof(b.rd()), "inherited\n");
  EXPECT_EQ(ReadToEof(a.rd()), "") << "the close-on-exec fd was open in the new program";
}

TEST(ExecProgramsTest, ShellIgnoringInheritedSigtermSurvivesKillTerm) {
  // SIG_IGN survives the exec, and a non-interactive shell keeps signals
  // that were ignored on entry ignored.
  Result r = RunProgram("/bin/sh", {"sh", "-c", "kill -TERM $$; echo survived"}, {}, [] {
    struct sigaction ign = {};
    ign.sa_handler = SIG_IGN;
    CHILD_CHECK(sigaction(SIGTERM, &ign, nullptr) == 0);
  });
  EXPECT_EXITED_WITH(r.status, 0);
  EXPECT_EQ(r.out, "survived\n");
}

TEST(ExecProgramsTest, ShellDiesOfASignalWhoseHandlerWasReset) {
  Result r = RunProgram("/bin/sh", {"sh", "-c", "kill -USR1 $$; echo survived"}, {}, [] {
    struct sigaction h = {};
    h.sa_handler = NoopHandler;
    CHILD_CHECK(sigaction(SIGUSR1, &h, nullptr) == 0);
    sigset_t none;
    sigemptyset(&none);
    CHILD_CHECK(sigprocmask(SIG_SETMASK, &none, nullptr) == 0);
  });
  EXPECT_KILLED_BY(r.status, SIGUSR1);
  EXPECT_EQ(r.out, "");
}

// ---------------------------------------------------------------------------
// Errors (each in a child: a wrongly successful execve must not replace the
// test binary)

char* const kArgs[] = {const_cast<char*>("x"), nullptr};

TEST(ExecErrorsTest, DirectoryGivesEacces) {
  ExpectInChild([] {
    for (const char* dir : {"/", "/usr", "/bin/"}) {
      errno = 0;
      CHILD_CHECK(execve(dir, kArgs, environ) == -1);
      CHILD_CHECK(errno == EACCES);
    }
  });
}

TEST(ExecErrorsTest, FileWithoutExecutePermissionGivesEacces) {
  const char* path = "/etc/passwd";
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111) != 0) {
    GTEST_SKIP() << path << " is not a regular file without execute bits";
  }
  // Even root needs at least one execute bit.
  ExpectInChild([path] {
    errno = 0;
    CHILD_CHECK(execve(path, kArgs, environ) == -1);
    CHILD_CHECK(errno == EACCES);
  });
}

TEST(ExecErrorsTest, MissingFilesGiveEnoentAndEnotdir) {
  ExpectInChild([] {
    errno = 0;
    CHILD_CHECK(execve("/nonexistent/program", kArgs, environ) == -1);
    CHILD_CHECK(errno == ENOENT);
    errno = 0;
    CHILD_CHECK(execve("", kArgs, environ) == -1);
    CHILD_CHECK(errno == ENOENT);
    errno = 0;
    CHILD_CHECK(execve("/bin/true/x", kArgs, environ) == -1);
    CHILD_CHECK(errno == ENOTDIR);
  });
}

TEST(ExecErrorsTest, BadPointersGiveEfault) {
  ExpectInChild([] {
    errno = 0;
    CHILD_CHECK(syscall(SYS_execve, reinterpret_cast<char*>(8), kArgs, environ) == -1);
    CHILD_CHECK(errno == EFAULT);
    errno = 0;
    CHILD_CHECK(syscall(SYS_execve, "/bin/true", reinterpret_cast<char**>(8), environ) == -1);
    CHILD_CHECK(errno == EFAULT);
    char* bad_arg[] = {const_cast<char*>("true"), reinterpret_cast<char*>(8), nullptr};
    errno = 0;
    CHILD_CHECK(syscall(SYS_execve, "/bin/true", bad_arg, environ) == -1);
    CHILD_CHECK(errno == EFAULT);
  });
}

TEST(ExecErrorsTest, OverlongArgumentGivesE2big) {
  // A single string longer than MAX_ARG_STRLEN (32 pages).
  std::string huge(200 * 1024, 'a');
  ExpectInChild([&] {
    char* argv[] = {const_cast<char*>("true"), huge.data(), nullptr};
    errno = 0;
    CHILD_CHECK(execve("/bin/true", argv, environ) == -1);
    CHILD_CHECK(errno == E2BIG);
    char* envp[] = {huge.data(), nullptr};
    errno = 0;
    CHILD_CHECK(execve("/bin/true", kArgs, envp) == -1);
    CHILD_CHECK(errno == E2BIG);
  });
}

TEST(ExecErrorsTest, FailedExecveLeavesTheProcessRunning) {
  Pipe p;
  ASSERT_TRUE(p.ok());
  int status = RunInChild([&] {
    int before = 1234;
    execve("/nonexistent", kArgs, environ);
    // Memory, fds and the rest are intact.
    CHILD_CHECK(before == 1234);
    CHILD_CHECK(WriteAll(p.wr(), "still here", 10));
    return 5;
  });
  p.CloseWrite();
  EXPECT_EXITED_WITH(status, 5);
  EXPECT_EQ(ReadToEof(p.rd()), "still here");
}

}  // namespace
}  // namespace syscall_test
