#include "common/seccomp.h"

#include <linux/futex.h>
#include <linux/mman.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/signal_safe.h"

namespace runsc::seccomp {
namespace {

// Kept for the SIGSYS handler, which may only read plain memory.
const char* g_who = "runsc";

using signal_safe::append;
using signal_safe::append_number;

// Async-signal-safe: no allocation, no locks, only write(2) and _exit(2),
// both of which every allowlist permits.
void on_sigsys(int, siginfo_t* info, void*) {
  char line[256];
  size_t len = 0;
  append(line, &len, sizeof(line), "runsc: ");
  append(line, &len, sizeof(line), g_who);
  append(line, &len, sizeof(line), ": host syscall ");
  append_number(line, &len, sizeof(line), info->si_syscall);
  append(line, &len, sizeof(line), " is not in the seccomp allowlist; stopping\n");
  (void)!::write(STDERR_FILENO, line, len);
  ::_exit(128 + SIGSYS);
}

}  // namespace

Result<void> install_allowlist(std::span<const Rule> allow, const char* who, Enforcement enforcement) {
  g_who = who;
  struct sigaction sa {};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGSYS, &sa, nullptr) != 0) return ErrFromErrno();
  sigset_t sys;
  sigemptyset(&sys);
  sigaddset(&sys, SIGSYS);
  ::pthread_sigmask(SIG_UNBLOCK, &sys, nullptr);

  if (enforcement == Enforcement::kLog)
    log::warn("seccomp: {}: host syscalls outside the allowlist are logged (dmesg), not refused", who);
  scmp_filter_ctx ctx = ::seccomp_init(enforcement == Enforcement::kLog ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
  if (ctx == nullptr) return Err(ENOMEM);
  struct Release {
    scmp_filter_ctx ctx;
    ~Release() { ::seccomp_release(ctx); }
  } release{ctx};
  // Every thread gets the filter, not only the caller (SECCOMP_FILTER_FLAG_TSYNC).
  if (int rc = ::seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); rc < 0) return Err(-rc);
  for (const Rule& rule : allow) {
    std::vector<scmp_arg_cmp> cmps;
    for (const ArgEq& a : rule.args) {
      cmps.push_back(a.mask == ~uint64_t{0} ? SCMP_CMP64(a.index, SCMP_CMP_EQ, a.value)
                                            : SCMP_CMP64(a.index, SCMP_CMP_MASKED_EQ, a.mask, a.value));
    }
    const uint32_t action = rule.fail_with ? SCMP_ACT_ERRNO(static_cast<uint32_t>(rule.fail_with)) : SCMP_ACT_ALLOW;
    int rc = ::seccomp_rule_add_array(ctx, action, rule.nr, static_cast<unsigned>(cmps.size()),
                                      cmps.empty() ? nullptr : cmps.data());
    // EEXIST: an unconditional rule already covers this form.
    if (rc < 0 && rc != -EEXIST) {
      log::error("seccomp: cannot add a rule for syscall {}: {}", rule.nr, std::strerror(-rc));
      return Err(-rc);
    }
  }
  if (int rc = ::seccomp_load(ctx); rc < 0) return Err(-rc);
  return {};
}

std::vector<Rule> memory_rules(bool stub_mappings) {
  // prot and flags are unsigned long to the kernel: every bit is checked.
  constexpr uint64_t kReadWrite = PROT_READ | PROT_WRITE;
  constexpr uint64_t kAnyProt = PROT_READ | PROT_WRITE | PROT_EXEC;
  constexpr uint64_t kOwnMapFlags = MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK | MAP_FIXED;
  std::vector<Rule> rules = {
      // malloc's arenas and large blocks, pthread stacks (PROT_NONE, then
      // read-write), the memory file (MAP_SHARED | MAP_NORESERVE): never
      // executable.
      Rule{SYS_mmap, {{2, 0, ~kReadWrite}, {3, 0, ~kOwnMapFlags}}},
      Rule{SYS_mprotect, {{2, 0, ~(stub_mappings ? kAnyProt : kReadWrite)}}},
      Rule{SYS_munmap},
      // realloc of a large block.
      Rule{SYS_mremap, {{3, 0}}},
      Rule{SYS_mremap, {{3, MREMAP_MAYMOVE}}},
      // free() returning pages (DONTNEED, FREE), a tmpfs filling its pages
      // (POPULATE_WRITE), transparent huge pages (glibc's tunable).
      Rule{SYS_madvise, {{2, MADV_DONTNEED}}},
      Rule{SYS_madvise, {{2, MADV_FREE}}},
      Rule{SYS_madvise, {{2, MADV_POPULATE_WRITE}}},
      Rule{SYS_madvise, {{2, MADV_HUGEPAGE}}},
      Rule{SYS_madvise, {{2, MADV_NOHUGEPAGE}}},
      Rule{SYS_brk},
  };
  // A stub mapping the application's memory from the memory file, at the
  // application's address, with the application's protection.
  if (stub_mappings) rules.push_back(Rule{SYS_mmap, {{2, 0, ~kAnyProt}, {3, MAP_SHARED | MAP_FIXED}}});
  return rules;
}

std::vector<Rule> futex_rules() {
  // The op is an int: only its low 32 bits count.
  constexpr uint64_t kOpMask = 0xffffffffULL & ~uint64_t{FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME};
  std::vector<Rule> rules;
  for (int op : {FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP, FUTEX_CMP_REQUEUE})
    rules.push_back(Rule{SYS_futex, {{1, static_cast<uint64_t>(op), kOpMask}}});
  return rules;
}

void require_fd_first_argument(std::vector<Rule>& rules) {
  static constexpr int kFdFirst[] = {
      SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_preadv, SYS_pwritev,
      SYS_lseek, SYS_close, SYS_fstat, SYS_fstatfs, SYS_getdents64, SYS_ftruncate, SYS_fdatasync, SYS_fsync,
      SYS_fallocate, SYS_fchmod, SYS_fcntl, SYS_ioctl, SYS_sendmsg, SYS_recvmsg, SYS_bind, SYS_listen,
      SYS_connect, SYS_accept4, SYS_getsockname, SYS_getpeername, SYS_shutdown, SYS_getsockopt,
      SYS_setsockopt, SYS_epoll_ctl, SYS_epoll_wait, SYS_epoll_pwait, SYS_timerfd_settime,
      SYS_timerfd_gettime, SYS_tee};
  for (Rule& rule : rules) {
    if (rule.fail_with != 0) continue;
    for (int nr : kFdFirst) {
      // An int: bit 31 is its sign (the kernel reads the low 32 bits).
      if (rule.nr == nr) rule.args.push_back(ArgEq{0, 0, 0x80000000ULL});
    }
  }
}

std::vector<Rule> thread_rules() {
  // glibc 2.36's create_thread() flags.
  constexpr uint64_t kPthreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD |
                                     CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  return {
      Rule{SYS_clone, {{0, kPthreadFlags}}},
      Rule{SYS_clone3, {}, ENOSYS},
      Rule{SYS_set_robust_list},
      Rule{SYS_rseq},
  };
}

}  // namespace runsc::seccomp
