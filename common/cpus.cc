#include "common/cpus.h"

#include <algorithm>

namespace runsc {

const cpu_set_t& sandbox_cpus() {
  static const cpu_set_t set = [] {
    cpu_set_t s;
    CPU_ZERO(&s);
    if (::sched_getaffinity(0, sizeof(s), &s) != 0) CPU_SET(0, &s);
    return s;
  }();
  return set;
}

int sandbox_cpu_count() { return std::max(1, CPU_COUNT(&sandbox_cpus())); }

int sandbox_cpu(unsigned k) {
  k %= static_cast<unsigned>(sandbox_cpu_count());
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &sandbox_cpus()) && k-- == 0) return c;
  }
  return 0;
}

bool pin_to_cpu(pid_t tid, int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return ::sched_setaffinity(tid, sizeof(one), &one) == 0;
}

}  // namespace runsc
