// The host CPUs the sandbox may use: the Sentry's affinity when it started,
// before the platform pinned any of its threads to one CPU. What the
// application is told (sched_getaffinity(2), /proc, sysfs) and how many
// CPUs its threads can use comes from here, never from the calling
// thread's own (pinned) affinity.
#pragma once

#include <sched.h>

namespace runsc {

// Read at the first call; call it early in the Sentry (the platform does).
const cpu_set_t& sandbox_cpus();
int sandbox_cpu_count();

}  // namespace runsc
