// ThreadGroup: a process. Its pid, its threads, its place in the process
// tree, its process group and session, and what its parent collects with
// wait4(2) once every thread has exited.
#pragma once

#include <signal.h>

#include <atomic>
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "sentry/kernel/wait_queue.h"

namespace runsc::kernel {

class Task;

// How a process ended: exit(n) or a fatal signal.
struct ExitStatus {
  int code = 0;
  int signal = 0;
  bool core_dumped = false;
  // The status as a shell reports it: code, or 128+signal.
  int shell_status() const { return signal ? 128 + signal : code; }
  // The status word wait4(2) stores (WIFEXITED, WTERMSIG, WCOREDUMP).
  int wait_status() const { return signal ? (signal | (core_dumped ? 0x80 : 0)) : (code & 0xff) << 8; }
};

// Signals waiting to be delivered: one thread's, or a whole process's
// (sent with kill(2); any thread not blocking them may take them). The
// queue is guarded by the SignalHandlers mutex of the threads.
struct PendingSignals {
  std::vector<siginfo_t> queue;
  std::atomic<uint64_t> mask{0};  // bit signo-1 set while one is queued

  // Standard signals do not queue: one pending instance at most; real-time
  // ones (32 and up) queue each instance with its siginfo. False if dropped.
  bool enqueue(const siginfo_t& info) {
    const uint64_t bit = 1ULL << (info.si_signo - 1);
    if (info.si_signo < SIGRTMIN && (mask.load() & bit)) return false;
    queue.push_back(info);
    mask.fetch_or(bit);
    return true;
  }
  // Drops every queued instance of the signals in `signals`.
  void erase(uint64_t signals) {
    std::erase_if(queue, [signals](const siginfo_t& i) { return (signals >> (i.si_signo - 1)) & 1; });
    mask.fetch_and(~signals);
  }
  // The first queued instance of `signo`.
  siginfo_t take(int signo) {
    siginfo_t info{};
    bool more = false;
    for (auto it = queue.begin(); it != queue.end(); ++it) {
      if (it->si_signo != signo) continue;
      info = *it;
      queue.erase(it);
      for (const auto& rest : queue) more |= rest.si_signo == signo;
      break;
    }
    if (!more) mask.fetch_and(~(1ULL << (signo - 1)));
    return info;
  }
};

struct ThreadGroup {
  explicit ThreadGroup(int pid_) : pid(pid_), pgid(pid_), sid(pid_) {}

  const int pid;
  // Everything below is guarded by Kernel::tree_mutex().
  std::weak_ptr<ThreadGroup> parent;  // empty for pid 1
  std::vector<std::shared_ptr<ThreadGroup>> children;
  int pgid;
  int sid;
  // The controlling terminal: its host device number (Kernel::terminal_locked),
  // 0 for none. Inherited by fork, dropped by setsid(2).
  uint64_t ctty = 0;
  // The signal the parent gets when this process ends (clone's low byte).
  int exit_signal = SIGCHLD;
  bool did_exec = false;
  // /proc/pid/oom_score_adj (proc(5)): inherited by fork, kept by execve.
  std::atomic<int> oom_score_adj{0};
  bool child_subreaper = false;  // prctl(PR_SET_CHILD_SUBREAPER)  // setpgid(2) on a child that has exec'd: EACCES
  std::weak_ptr<Task> leader;
  std::vector<std::weak_ptr<Task>> tasks;  // the live threads
  // exit_group(2) or a fatal signal: every thread is on its way out, and
  // the process ends with this status.
  std::atomic<bool> group_exiting{false};
  ExitStatus group_exit_status;
  ExitStatus leader_exit_status;  // exit(2) of the leader, if threads outlive it
  // Interval timers (setitimer(2): REAL, VIRTUAL, PROF) and POSIX timers
  // (timer_create(2)), guarded by timers_mu.
  struct Timer {
    int64_t deadline_ns = 0;  // CLOCK_MONOTONIC; 0 when disarmed
    int64_t interval_ns = 0;
    uint64_t service_id = 0;  // the TimerService entry while armed
    int signo = 0;
    int notify = 0;            // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID
    int target_tid = 0;        // SIGEV_THREAD_ID
    uint64_t value = 0;        // sigev_value
    int overrun = 0;
    uint64_t generation = 0;   // bumps on every (re)arm, so stale firings are ignored
  };
  std::mutex timers_mu;
  Timer itimers[3];
  std::map<int, Timer> posix_timers;
  int next_timer_id = 0;
  // CPU time (ns) of threads that have exited, and of reaped children
  // with their own reaped children (getrusage(2), times(2)).
  int64_t dead_user_ns = 0, dead_sys_ns = 0;
  // User time is read from the stub process's clock, which the threads
  // share: a thread that leaves early leaves its reading here, and the
  // process's user time is the largest reading (not a sum).
  int64_t departed_user_ns = 0;
  int64_t children_user_ns = 0, children_sys_ns = 0;
  uint64_t max_rss_kb = 0, children_max_rss_kb = 0;
  PendingSignals shared_pending;  // process-directed signals
  // Threads waiting for the others to go (execve's de_thread()).
  WaitQueue thread_exit_waiters;
  bool zombie = false;  // exited; waits for its parent to reap it
  // Job control (signal(7) "stop" and "continue"): stopped until SIGCONT;
  // a stop or continue not yet collected by wait4(WUNTRACED/WCONTINUED).
  bool stopped = false;
  int stop_to_report = 0;  // the stop signal, 0 when nothing to report
  bool continue_to_report = false;
  ExitStatus exit_status;
  // Tasks of this process blocked in wait4/waitid for a child.
  WaitQueue child_waiters;
};

}  // namespace runsc::kernel
