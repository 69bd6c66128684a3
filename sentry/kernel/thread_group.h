// ThreadGroup: a process. Its pid, its threads, its place in the process
// tree, its process group and session, and what its parent collects with
// wait4(2) once every thread has exited.
#pragma once

#include <signal.h>

#include <atomic>
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

struct ThreadGroup {
  explicit ThreadGroup(int pid_) : pid(pid_), pgid(pid_), sid(pid_) {}

  const int pid;
  // Everything below is guarded by Kernel::tree_mutex().
  std::weak_ptr<ThreadGroup> parent;  // empty for pid 1
  std::vector<std::shared_ptr<ThreadGroup>> children;
  int pgid;
  int sid;
  // The signal the parent gets when this process ends (clone's low byte).
  int exit_signal = SIGCHLD;
  bool did_exec = false;
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
