// Attacks from inside the sandbox on what lies outside it: the platform's
// stub page at the top of the address space, syscalls made from unusual
// addresses, the host processes behind the sandbox (Sentry, gofers,
// stubs), and the host objects the Sentry holds. Each case asserts what
// Linux does natively, which is also what the sandbox must do: the
// machinery behind it stays invisible and untouchable, and the process
// goes on working afterwards.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "syscall_test_util.h"

namespace syscall_test {
namespace {

// Where the ptrace platform keeps its stub page (platform/ptrace/ptrace.h):
// above the application's half of the address space, which ends at
// 0x7fffffffd000 in the sandbox. Natively it is ordinary address space.
constexpr uintptr_t kStubPage = 0x7fffffffe000;

// Whether [addr, addr + len) overlaps a mapping of this process.
bool Mapped(uintptr_t addr, size_t len) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == nullptr) return true;  // cannot tell: assume so
  unsigned long start, end;
  char line[512];
  bool found = false;
  while (!found && fgets(line, sizeof(line), f)) {
    if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start < addr + len && addr < end) found = true;
  }
  fclose(f);
  return found;
}

TEST(AttacksTest, TheStubPageCannotBeWrittenOrJumpedTo) {
  if (Mapped(kStubPage, 4096)) GTEST_SKIP() << "something of this process is mapped at the stub page's address";
  // Natively nothing is there; in the sandbox the stub's code is, but not
  // for the application: writing or jumping there is a SIGSEGV in both.
  EXPECT_KILLED_BY(RunInChild([] {
                     *reinterpret_cast<volatile char*>(kStubPage) = 1;
                     return 0;
                   }),
                   SIGSEGV);
  EXPECT_KILLED_BY(RunInChild([] {
                     reinterpret_cast<void (*)()>(kStubPage)();
                     return 0;
                   }),
                   SIGSEGV);
  // (A read there is a SIGSEGV natively, but in the sandbox it shows the
  // stub's code: x86 has no execute-only pages a process cannot undo, and
  // the code is no secret. README, "Security".)
}

TEST(AttacksTest, MappingOverTheStubPageLeavesTheProcessWorking) {
  if (Mapped(kStubPage, 4096)) GTEST_SKIP() << "something of this process is mapped at the stub page's address";
  // Natively the address is free and the mapping works; the sandbox
  // refuses it (ENOMEM: outside the application's range). Either way the
  // process must go on making system calls, which it could not if its
  // stub page were replaced or made writable.
  int status = RunInChild([] {
    void* p = mmap(reinterpret_cast<void*>(kStubPage), 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHILD_CHECK(p == reinterpret_cast<void*>(kStubPage) || (p == MAP_FAILED && errno == ENOMEM));
    if (p != MAP_FAILED) memset(p, 0xcc, 4096);
    errno = 0;
    int r = mprotect(reinterpret_cast<void*>(kStubPage), 4096, PROT_READ | PROT_WRITE);
    CHILD_CHECK(r == 0 || errno == ENOMEM);
    // mremap a page of ours onto it.
    void* mine = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_CHECK(mine != MAP_FAILED);
    void* moved = mremap(mine, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, reinterpret_cast<void*>(kStubPage));
    CHILD_CHECK(moved == reinterpret_cast<void*>(kStubPage) || (moved == MAP_FAILED && (errno == ENOMEM || errno == EINVAL)));
    CHILD_CHECK(getpid() > 0);
    CHILD_CHECK(write(STDOUT_FILENO, "", 0) == 0);
    return 0;
  });
  EXPECT_EXITED_WITH(status, 0);
}

// `syscall; ret`, placed at `addr` and called with rax = nr.
long SyscallFrom(void* page, long nr) {
  static const unsigned char kCode[] = {0x0f, 0x05, 0xc3};
  memcpy(page, kCode, sizeof(kCode));
  long result;
  asm volatile("call *%1" : "=a"(result) : "r"(page), "a"(nr) : "rcx", "r11", "memory");
  return result;
}

TEST(AttacksTest, ASyscallFromAnyAddressIsTheApplicationsOwn) {
  // The stub's seccomp filter lets through host syscalls made from the stub
  // page only; every other address must reach the Sentry (which answers
  // getpid with the sandbox's pid), never the host.
  const uintptr_t places[] = {0x10000, 0x40000000, 0x7fff00000000, 0x7fffffffc000};
  int tried = 0;
  for (uintptr_t at : places) {
    void* page = mmap(reinterpret_cast<void*>(at), 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page == MAP_FAILED) continue;  // taken here (EEXIST) or below mmap_min_addr (EPERM)
    ++tried;
    EXPECT_EQ(SyscallFrom(page, SYS_getpid), getpid()) << "from " << page;
    EXPECT_EQ(SyscallFrom(page, SYS_gettid), syscall(SYS_gettid)) << "from " << page;
    munmap(page, 4096);
  }
  EXPECT_GT(tried, 0) << "no place to put the code";
}

TEST(AttacksTest, NoProcessOutsideOnesViewCanBeSignalledOrTraced) {
  // The Sentry, the gofers and the stubs are host processes with host
  // pids; from inside the sandbox's PID namespace every pid that is not
  // one of its own is ESRCH, for kill(2) and ptrace(2) alike. kill(pid, 0)
  // probes (a thread's id is a pid to it too, though /proc does not list
  // it); only a pid it calls absent is then tried with PTRACE_SEIZE, which
  // must find nothing either (SEIZE, unlike ATTACH, stops nobody should a
  // process be born there meanwhile: it is let go at once).
  int absent = 0, reached = 0;
  for (int pid = 2; pid <= 65536; ++pid) {
    errno = 0;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;  // a process or thread of this namespace
    ++absent;
    errno = 0;
    if (ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0) {
      ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
      if (access(("/proc/" + std::to_string(pid)).c_str(), F_OK) == 0) continue;  // born meanwhile
      ADD_FAILURE() << "pid " << pid << " does not exist for kill(2) but ptrace(2) seized it";
      if (++reached > 5) break;
    } else {
      EXPECT_TRUE(errno == ESRCH || errno == ENOSYS) << "pid " << pid << ": " << strerror(errno);
    }
  }
  EXPECT_EQ(reached, 0);
  EXPECT_GT(absent, 60000) << "nearly every pid is absent here";
}

TEST(AttacksTest, FileDescriptorsAndMappingsShowNoHostObject) {
  // The Sentry's own FDs (the memory file, the gofer and control sockets,
  // its configuration) are never an application's: no FD of this process
  // or of a child of it, and no mapping, names one. Nothing of runsc's
  // appears. (Only our own processes: natively, other sandboxes may run
  // on the host meanwhile.)
  BlockedChild child = ForkBlockedChild(0);
  ASSERT_GT(child.pid, 0);
  for (int pid : {static_cast<int>(getpid()), static_cast<int>(child.pid)}) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;  // gone, or not ours to look at
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      char target[4096];
      ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof(target) - 1);
      if (n < 0) continue;
      target[n] = '\0';
      EXPECT_EQ(strstr(target, "runsc"), nullptr) << dir << "/" << e->d_name << " -> " << target;
    }
    closedir(d);
  }
  child.Release();
  EXPECT_EXITED_WITH(WaitStatus(child.pid), 0);
  FILE* maps = fopen("/proc/self/maps", "r");
  ASSERT_NE(maps, nullptr);
  char line[512];
  while (fgets(line, sizeof(line), maps)) EXPECT_EQ(strstr(line, "runsc"), nullptr) << line;
  fclose(maps);
  // FD numbers this process never opened are not there, however high.
  std::set<int> open_fds;
  DIR* d = opendir("/proc/self/fd");
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') open_fds.insert(atoi(e->d_name));
  }
  closedir(d);
  for (int fd = 0; fd < 4096; ++fd) {
    if (open_fds.count(fd)) continue;
    errno = 0;
    EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "fd " << fd;
    EXPECT_EQ(errno, EBADF) << "fd " << fd;
  }
}

}  // namespace
}  // namespace syscall_test
