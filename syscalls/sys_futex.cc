// futex(2): waits and wakes through the kernel's FutexTable; the checks,
// the value comparisons, the timeouts and the updates to user memory follow
// futex(2), the PI operations included (without priority inheritance).
#include <linux/futex.h>
#include <sys/syscall.h>

#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

Result<uint32_t> read_word(Task& t, uint64_t addr) {
  // "uaddr ... must be aligned on a four-byte boundary" (EINVAL otherwise).
  if (addr % 4 != 0) return Err(EINVAL);
  uint32_t value;
  if (auto r = t.mm().copy_in(addr, &value, sizeof(value)); !r) return Err(r.error());
  return value;
}

// The queue a futex word belongs to: private futexes are per address
// space; without FUTEX_PRIVATE_FLAG a word in MAP_SHARED memory is named
// by its memory-file page, so every process mapping it meets there.
Result<kernel::FutexKey> key_for(Task& t, uint64_t addr, int op) {
  if (addr % 4 != 0) return Err(EINVAL);
  if (!(op & FUTEX_PRIVATE_FLAG)) {
    auto shared = t.mm().shared_offset(addr);
    if (!shared) return Err(shared.error());
    if (*shared) return kernel::FutexKey{0, **shared};
  }
  return kernel::FutexKey{reinterpret_cast<uintptr_t>(&t.mm()), addr};
}

Result<uint64_t> wait(Task& t, const SyscallArgs& a, bool absolute, uint32_t bitset) {
  if (bitset == 0) return Err(EINVAL);
  const int cmd_flags = a.i(1);
  auto key = key_for(t, a.u(0), cmd_flags);
  if (!key) return Err(key.error());
  // FUTEX_WAIT's timeout is relative on CLOCK_MONOTONIC; FUTEX_WAIT_BITSET's
  // is absolute, on CLOCK_REALTIME when FUTEX_CLOCK_REALTIME is set.
  const int clock = (cmd_flags & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
  int64_t deadline = -1;
  if (a.u(3) != 0) {
    t.no_restart_after_handler();
    timespec ts;
    if (auto r = t.mm().copy_in(a.u(3), &ts, sizeof(ts)); !r) return Err(r.error());
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Err(EINVAL);
    if (absolute) {
      deadline = to_ns(ts);
    } else {
      timespec now;
      ::clock_gettime(clock, &now);
      deadline = to_ns(now) + to_ns(ts);
    }
  }
  const uint64_t addr = a.u(0);
  const uint32_t expected = static_cast<uint32_t>(a.u(2));
  auto still_expected = [&]() -> Result<bool> {
    auto value = read_word(t, addr);
    if (!value) return Err(value.error());
    return *value == expected;
  };
  if (auto r = t.kernel().futexes().wait(t, *key, bitset, still_expected, clock, deadline); !r) return Err(r.error());
  return ok(0);
}

// FUTEX_WAKE_OP's operation on *uaddr2 (futex(2), "FUTEX_WAKE_OP").
Result<bool> wake_op_update(Task& t, uint64_t addr, uint32_t encoded) {
  const uint32_t op = (encoded >> 28) & 0xf;
  const uint32_t cmp = (encoded >> 24) & 0xf;
  uint32_t oparg = (encoded >> 12) & 0xfff;
  const uint32_t cmparg = encoded & 0xfff;
  if (op & FUTEX_OP_OPARG_SHIFT) {
    if (oparg > 31) return Err(EINVAL);
    oparg = 1u << oparg;
  }
  if ((op & ~FUTEX_OP_OPARG_SHIFT) > FUTEX_OP_XOR) return Err(ENOSYS);
  auto old = read_word(t, addr);
  if (!old) return Err(old.error());
  // The update is atomic with respect to the application's own atomics
  // (arch_futex_atomic_op_inuser() uses a locked instruction): retry the
  // compare-and-exchange until no other thread changed the word between.
  for (;;) {
    uint32_t next = 0;
    switch (op & ~FUTEX_OP_OPARG_SHIFT) {
      case FUTEX_OP_SET: next = oparg; break;
      case FUTEX_OP_ADD: next = *old + oparg; break;
      case FUTEX_OP_OR: next = *old | oparg; break;
      case FUTEX_OP_ANDN: next = *old & ~oparg; break;
      case FUTEX_OP_XOR: next = *old ^ oparg; break;
    }
    auto seen = t.mm().compare_exchange32(addr, *old, next);
    if (!seen) return Err(seen.error());
    if (*seen == *old) break;
    *old = *seen;
  }
  const int32_t o = static_cast<int32_t>(*old);
  const int32_t c = static_cast<int32_t>(cmparg);
  switch (cmp) {
    case FUTEX_OP_CMP_EQ: return o == c;
    case FUTEX_OP_CMP_NE: return o != c;
    case FUTEX_OP_CMP_LT: return o < c;
    case FUTEX_OP_CMP_LE: return o <= c;
    case FUTEX_OP_CMP_GT: return o > c;
    case FUTEX_OP_CMP_GE: return o >= c;
    default: return Err(ENOSYS);
  }
}

Result<uint64_t> sys_futex(Task& t, const SyscallArgs& a) {
  const int cmd = a.i(1) & FUTEX_CMD_MASK;
  if ((a.i(1) & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET &&
      cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2) {
    return Err(ENOSYS);
  }
  switch (cmd) {
    case FUTEX_WAIT:
      return wait(t, a, /*absolute=*/false, FUTEX_BITSET_MATCH_ANY);
    case FUTEX_WAIT_BITSET:
      return wait(t, a, /*absolute=*/true, static_cast<uint32_t>(a.u(5)));
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const uint32_t bitset = cmd == FUTEX_WAKE_BITSET ? static_cast<uint32_t>(a.u(5)) : FUTEX_BITSET_MATCH_ANY;
      if (bitset == 0) return Err(EINVAL);
      auto key = key_for(t, a.u(0), a.i(1));
      if (!key) return Err(key.error());
      const int count = a.i(2) <= 0 ? 0 : a.i(2);
      return static_cast<uint64_t>(t.kernel().futexes().wake(*key, count, bitset));
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      if (a.i(2) < 0 || a.i(3) < 0) return Err(EINVAL);
      auto from = key_for(t, a.u(0), a.i(1));
      if (!from) return Err(from.error());
      auto to = key_for(t, a.u(4), a.i(1));
      if (!to) return Err(to.error());
      auto check = [&]() -> Result<bool> {
        if (cmd != FUTEX_CMP_REQUEUE) return true;
        auto value = read_word(t, a.u(0));
        if (!value) return Err(value.error());
        return *value == static_cast<uint32_t>(a.u(5));
      };
      // val2 (the requeue limit) travels in the timeout argument.
      auto n = t.kernel().futexes().requeue(*from, *to, a.i(2), static_cast<int>(a.u(3)), check);
      if (!n) return Err(n.error());
      return static_cast<uint64_t>(*n);
    }
    case FUTEX_WAKE_OP: {
      auto key1 = key_for(t, a.u(0), a.i(1));
      if (!key1) return Err(key1.error());
      auto key2 = key_for(t, a.u(4), a.i(1));
      if (!key2) return Err(key2.error());
      auto op = [&]() { return wake_op_update(t, a.u(4), static_cast<uint32_t>(a.u(5))); };
      auto n = t.kernel().futexes().wake_op(*key1, *key2, a.i(2), static_cast<int>(a.u(3)), op);
      if (!n) return Err(n.error());
      return static_cast<uint64_t>(*n);
    }
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_TRYLOCK_PI: {
      // The word holds the owner's tid, FUTEX_WAITERS when someone sleeps
      // on it and FUTEX_OWNER_DIED after a robust owner died. There is no
      // priority inheritance (the Sentry does not schedule), only the
      // locking protocol glibc's PI mutexes rely on.
      auto key = key_for(t, a.u(0), a.i(1));
      if (!key) return Err(key.error());
      const uint64_t addr = a.u(0);
      const uint32_t tid = static_cast<uint32_t>(t.tid());
      auto try_lock = [&]() -> Result<bool> {
        for (;;) {
          auto value = read_word(t, addr);
          if (!value) return Err(value.error());
          const uint32_t owner = *value & FUTEX_TID_MASK;
          if (owner == tid) return Err(EDEADLK);
          uint32_t next;
          if (owner == 0) {
            next = tid | (*value & (FUTEX_OWNER_DIED | FUTEX_WAITERS));
          } else {
            if (cmd == FUTEX_TRYLOCK_PI) return Err(EAGAIN);
            next = *value | FUTEX_WAITERS;
          }
          // The owner may release the word from user space at any moment:
          // change it only if it still holds what was read, else look again.
          if (next != *value) {
            auto old = t.mm().compare_exchange32(addr, *value, next);
            if (!old) return Err(old.error());
            if (*old != *value) continue;
          }
          return owner == 0;
        }
      };
      // LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's on
      // CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME.
      const int clock = (cmd == FUTEX_LOCK_PI || (a.i(1) & FUTEX_CLOCK_REALTIME)) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
      int64_t deadline = -1;
      if (cmd != FUTEX_TRYLOCK_PI && a.u(3)) {
        timespec ts;
        if (auto r = t.mm().copy_in(a.u(3), &ts, sizeof(ts)); !r) return Err(r.error());
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) return Err(EINVAL);
        deadline = to_ns(ts);
        t.no_restart_after_handler();
      }
      if (cmd == FUTEX_TRYLOCK_PI) {
        auto taken = try_lock();
        if (!taken) return Err(taken.error());
        return ok(0);
      }
      if (auto r = t.kernel().futexes().lock_pi(t, *key, try_lock, clock, deadline); !r) return Err(r.error());
      return ok(0);
    }
    case FUTEX_UNLOCK_PI: {
      auto key = key_for(t, a.u(0), a.i(1));
      if (!key) return Err(key.error());
      const uint64_t addr = a.u(0);
      auto hand_over = [&](int next, bool more) -> Result<void> {
        for (;;) {
          auto value = read_word(t, addr);
          if (!value) return Err(value.error());
          if ((*value & FUTEX_TID_MASK) != static_cast<uint32_t>(t.tid())) return Err(EPERM);
          const uint32_t word = next ? (static_cast<uint32_t>(next) | (more ? FUTEX_WAITERS : 0)) : 0;
          // Only the owner (us) changes the tid; a locker may set
          // FUTEX_WAITERS meanwhile, so swap only what was read.
          auto old = t.mm().compare_exchange32(addr, *value, word);
          if (!old) return Err(old.error());
          if (*old == *value) return {};
        }
      };
      if (auto r = t.kernel().futexes().unlock_pi(*key, hand_over); !r) return Err(r.error());
      return ok(0);
    }
    default:
      return Err(ENOSYS);
  }
}

}  // namespace

void register_futex(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_futex, "futex", sys_futex, {A::kHex, A::kHex, A::kInt, A::kPtr, A::kHex, A::kHex});
}

}  // namespace runsc::syscalls
