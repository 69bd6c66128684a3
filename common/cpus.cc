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

}  // namespace runsc
