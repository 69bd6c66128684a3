// The host CPUs the sandbox may use: the Sentry's affinity when it started,
// before the platform pinned any of its threads to one CPU. What the
// application is told (sched_getaffinity(2), /proc, sysfs) and how many
// CPUs its threads can use comes from here, never from the calling
// thread's own (pinned) affinity.
#pragma once

#include <sched.h>
#include <sys/types.h>

namespace runsc {

// Read at the first call; call it early in the Sentry (the platform does).
const cpu_set_t& sandbox_cpus();
int sandbox_cpu_count();
// The k-th CPU (from 0, modulo the count) of that set.
int sandbox_cpu(unsigned k);
// Pins thread `tid` (0: the caller) to `cpu`; false if the host refused.
bool pin_to_cpu(pid_t tid, int cpu);

}  // namespace runsc
