#include "sentry/kernel/host_syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "netstack/hostinet/host_socket.h"

namespace runsc::kernel {

// Each entry names who needs it. No call here takes a host path: the
// Sentry's root is an empty tmpfs, and files come from the gofer as FDs.
// (newfstatat is limited to AT_EMPTY_PATH, the form glibc's fstat uses.)
std::vector<seccomp::Rule> sentry_host_syscalls() {
  using seccomp::Rule;
  std::vector<Rule> rules = {
      // The memory file's holes (memory_rules() below has the rest).
      Rule{SYS_fallocate, {{1, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE}}},
      // I/O on donated and stdio FDs, the gofer socket, task eventfds.
      Rule{SYS_read}, Rule{SYS_write}, Rule{SYS_readv}, Rule{SYS_writev}, Rule{SYS_pread64}, Rule{SYS_pwrite64},
      Rule{SYS_preadv}, Rule{SYS_pwritev}, Rule{SYS_lseek}, Rule{SYS_close}, Rule{SYS_fstat},
      // Files of a writable gofer tree, on the FDs it donated (fallocate:
      // the modes that keep bytes in place; punch hole is above).
      Rule{SYS_ftruncate}, Rule{SYS_fdatasync}, Rule{SYS_fallocate, {{1, 0}}},
      Rule{SYS_fallocate, {{1, FALLOC_FL_KEEP_SIZE}}}, Rule{SYS_fallocate, {{1, FALLOC_FL_ZERO_RANGE}}},
      Rule{SYS_fallocate, {{1, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE}}},
      Rule{SYS_newfstatat, {{3, AT_EMPTY_PATH}}},
      // sendmsg/recvmsg: the gofer and control sockets, hostinet and the
      // Sentry's netlink dumps; only the flags they use (the low 32 bits
      // hold the int argument).
      Rule{SYS_sendmsg, {{2, 0, 0xffffffffULL & ~uint64_t{MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE | MSG_CONFIRM |
                                                           MSG_DONTWAIT | MSG_NOSIGNAL}}}},
      Rule{SYS_recvmsg, {{2, 0, 0xffffffffULL & ~uint64_t{MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE |
                                                           MSG_DONTWAIT | MSG_CMSG_CLOEXEC}}}},
      Rule{SYS_poll},
      // The control socket (runsc/control.h): connections from runsc exec, ps...
      Rule{SYS_accept4, {{3, SOCK_CLOEXEC}}}, Rule{SYS_ppoll}, Rule{SYS_eventfd2},
      Rule{SYS_ioctl, {{1, TCGETS}}}, Rule{SYS_ioctl, {{1, TIOCGWINSZ}}}, Rule{SYS_ioctl, {{1, FIONREAD}}},
      // The sandbox's terminal (vfs/host_file.cc): its settings and size.
      Rule{SYS_ioctl, {{1, TCSETS}}}, Rule{SYS_ioctl, {{1, TCSETSW}}}, Rule{SYS_ioctl, {{1, TCSETSF}}},
      Rule{SYS_ioctl, {{1, TIOCSWINSZ}}}, Rule{SYS_ioctl, {{1, TCFLSH}}}, Rule{SYS_ioctl, {{1, TCXONC}}},
      // Application pipes, eventfds, timerfds and epoll instances are host
      // objects the Sentry holds.
      Rule{SYS_timerfd_create}, Rule{SYS_timerfd_settime}, Rule{SYS_timerfd_gettime},
      Rule{SYS_epoll_create1, {{0, EPOLL_CLOEXEC}}}, Rule{SYS_epoll_ctl}, Rule{SYS_epoll_wait}, Rule{SYS_epoll_pwait},
      Rule{SYS_pipe2, {{1, O_CLOEXEC | O_NONBLOCK}}}, Rule{SYS_pipe2, {{1, O_CLOEXEC | O_NONBLOCK | O_DIRECT}}},
      // tee(2) between two application pipes (host pipes the Sentry holds).
      Rule{SYS_tee, {{3, SPLICE_F_NONBLOCK}}},
      Rule{SYS_fcntl, {{1, F_GETFL}}}, Rule{SYS_fcntl, {{1, F_SETFL}}}, Rule{SYS_fcntl, {{1, F_GETFD}}},
      Rule{SYS_fcntl, {{1, F_SETFD}}}, Rule{SYS_fcntl, {{1, F_DUPFD_CLOEXEC}}},
      Rule{SYS_fcntl, {{1, F_GETPIPE_SZ}}}, Rule{SYS_fcntl, {{1, F_SETPIPE_SZ}}},
      // Threads (thread_rules() and futex_rules() below have the rest).
      Rule{SYS_sched_yield}, Rule{SYS_gettid}, Rule{SYS_getpid}, Rule{SYS_exit}, Rule{SYS_exit_group},
      // abort() (a failed assertion in the Sentry) raises SIGABRT at its
      // own thread, so that common/crash.cc reports the failure rather
      // than this filter: only that signal, only in this process.
      Rule{SYS_tgkill, {{0, static_cast<uint64_t>(::getpid())}, {2, SIGABRT}}},
      // Signals: the forwarding thread (sigwait) and masks.
      Rule{SYS_rt_sigprocmask}, Rule{SYS_rt_sigtimedwait}, Rule{SYS_rt_sigreturn}, Rule{SYS_rt_sigaction},
      // A sleep or poll the freezer (runsc pause) interrupted resumes
      // through restart_syscall(2) when thawed.
      Rule{SYS_restart_syscall},
      // Time and host facts some syscalls report (getrandom,
      // sched_getaffinity). sysinfo(2) is answered from the Sentry's state.
      Rule{SYS_clock_gettime}, Rule{SYS_gettimeofday}, Rule{SYS_clock_nanosleep}, Rule{SYS_nanosleep},
      Rule{SYS_getrandom}, Rule{SYS_sched_getaffinity},
      // Never run: glibc's malloc opens /proc/sys/vm/overcommit_memory when
      // it shrinks a thread's heap and takes the default if that fails.
      Rule{SYS_openat, {}, ENOENT},
  };
  // Memory (malloc, thread stacks, the memory file; and, for the ptrace
  // stubs, which are forks of the Sentry under this same filter, the
  // application's mappings), futexes and pthread_create, each narrowed to
  // the arguments their code uses (common/seccomp.cc).
  for (auto& r : seccomp::memory_rules(/*stub_mappings=*/true)) rules.push_back(std::move(r));
  for (auto& r : seccomp::futex_rules()) rules.push_back(std::move(r));
  for (auto& r : seccomp::thread_rules()) rules.push_back(std::move(r));
  // Sockets (netstack/). AF_INET/AF_INET6 through the host (hostinet):
  // only the kinds it offers, always non-blocking; the options and ioctls
  // it passes on, each by level and name. Host netlink sockets only for
  // NETLINK_ROUTE, for the Sentry's own dump requests. No other family:
  // an application can never reach a host unix socket.
  for (const auto& k : netstack::host_socket_kinds()) {
    Rule r{SYS_socket, {{0, static_cast<uint64_t>(k.family)},
                        {1, static_cast<uint64_t>(k.type | SOCK_NONBLOCK | SOCK_CLOEXEC)}}};
    if (k.protocol >= 0) r.args.push_back({2, static_cast<uint64_t>(k.protocol)});
    rules.push_back(r);
  }
  rules.push_back(Rule{SYS_socket, {{0, AF_NETLINK}, {1, SOCK_RAW | SOCK_CLOEXEC}, {2, NETLINK_ROUTE}}});
  for (int nr : {SYS_bind, SYS_listen, SYS_connect, SYS_getsockname, SYS_getpeername, SYS_shutdown})
    rules.push_back(Rule{nr});
  rules.push_back(Rule{SYS_accept4, {{3, SOCK_NONBLOCK | SOCK_CLOEXEC}}});
  for (const auto& o : netstack::host_socket_options()) {
    const std::vector<seccomp::ArgEq> which = {{1, static_cast<uint64_t>(o.level)}, {2, static_cast<uint64_t>(o.name)}};
    rules.push_back(Rule{SYS_getsockopt, which});
    if (o.settable) rules.push_back(Rule{SYS_setsockopt, which});
  }
  for (unsigned long cmd : netstack::host_socket_ioctls()) {
    if (cmd != FIONREAD) rules.push_back(Rule{SYS_ioctl, {{1, cmd}}});
  }
  seccomp::require_fd_first_argument(rules);
  return rules;
}

}  // namespace runsc::kernel
