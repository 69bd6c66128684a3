// Changing credentials: setuid(2), setreuid(2), setresuid(2), setfsuid(2),
// their gid twins, setgroups(2), and capget(2)/capset(2), with the
// permission rules of credentials(7) and the capability changes that
// capabilities(7) describes for uid transitions (no SECBIT_KEEP_CAPS).
#include <linux/capability.h>
#include <sys/syscall.h>

#include <algorithm>

#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;
using kernel::Credentials;

constexpr uint32_t kUnchanged = static_cast<uint32_t>(-1);
constexpr int kCapSetuid = 7, kCapSetgid = 6;
constexpr size_t kNgroupsMax = 65536;

// "Effect of user ID changes on capabilities" in capabilities(7).
void fix_capabilities(Credentials& c, uint32_t old_ruid, uint32_t old_euid, uint32_t old_suid) {
  const bool had_root = old_ruid == 0 || old_euid == 0 || old_suid == 0;
  if (had_root && c.ruid != 0 && c.euid != 0 && c.suid != 0 && !c.keep_caps) {
    c.cap_permitted = 0;
    c.cap_effective = 0;
  }
  if (old_euid == 0 && c.euid != 0) c.cap_effective = 0;
  if (old_euid != 0 && c.euid == 0) c.cap_effective = c.cap_permitted;
}

// Sets the real, effective and saved IDs (kUnchanged keeps one); the
// filesystem ID follows the effective one. No permission check here.
void apply_ids(Credentials& c, bool uid, uint32_t r, uint32_t e, uint32_t s) {
  const uint32_t old_r = c.ruid, old_e = c.euid, old_s = c.suid;
  uint32_t& cr = uid ? c.ruid : c.rgid;
  uint32_t& ce = uid ? c.euid : c.egid;
  uint32_t& cs = uid ? c.suid : c.sgid;
  uint32_t& cf = uid ? c.fsuid : c.fsgid;
  if (r != kUnchanged) cr = r;
  if (e != kUnchanged) ce = e;
  if (s != kUnchanged) cs = s;
  cf = ce;
  if (uid) fix_capabilities(c, old_r, old_e, old_s);
}

// setresuid/setresgid: each new ID (or kUnchanged) must be one of the
// current three unless the task has the capability.
Result<void> set_ids(Credentials& c, bool uid, uint32_t r, uint32_t e, uint32_t s) {
  if (!c.has_capability(uid ? kCapSetuid : kCapSetgid)) {
    const uint32_t cr = uid ? c.ruid : c.rgid, ce = uid ? c.euid : c.egid, cs = uid ? c.suid : c.sgid;
    auto allowed = [&](uint32_t id) { return id == kUnchanged || id == cr || id == ce || id == cs; };
    if (!allowed(r) || !allowed(e) || !allowed(s)) return Err(EPERM);
  }
  apply_ids(c, uid, r, e, s);
  return {};
}

// The task's count in RLIMIT_NPROC follows its real uid.
void recount_user(Task& t) {
  std::lock_guard lock(t.kernel().tree_mutex());
  t.kernel().set_task_uid_locked(t, t.creds().ruid);
}

Result<uint64_t> do_setresid(Task& t, bool uid, uint32_t r, uint32_t e, uint32_t s) {
  if (auto res = set_ids(t.creds(), uid, r, e, s); !res) return Err(res.error());
  if (uid) recount_user(t);
  return ok();
}

// setuid(2): with the capability all three IDs, else only the effective
// one, and only to the real or saved ID.
Result<uint64_t> do_setid(Task& t, bool uid, uint32_t id) {
  if (id == kUnchanged) return Err(EINVAL);
  Credentials& c = t.creds();
  if (c.has_capability(uid ? kCapSetuid : kCapSetgid)) return do_setresid(t, uid, id, id, id);
  const uint32_t r = uid ? c.ruid : c.rgid, s = uid ? c.suid : c.sgid;
  if (id != r && id != s) return Err(EPERM);
  return do_setresid(t, uid, kUnchanged, id, kUnchanged);
}

// setreuid(2): the saved ID follows the new effective one when the real ID
// is set, or the effective one is set to something other than the old real ID.
Result<uint64_t> do_setreid(Task& t, bool uid, uint32_t r, uint32_t e) {
  Credentials& c = t.creds();
  const uint32_t cr = uid ? c.ruid : c.rgid, ce = uid ? c.euid : c.egid, cs = uid ? c.suid : c.sgid;
  if (!c.has_capability(uid ? kCapSetuid : kCapSetgid)) {
    if (r != kUnchanged && r != cr && r != ce) return Err(EPERM);
    if (e != kUnchanged && e != cr && e != ce && e != cs) return Err(EPERM);
  }
  const uint32_t new_e = e != kUnchanged ? e : ce;
  uint32_t s = kUnchanged;
  if (r != kUnchanged || (e != kUnchanged && e != cr)) s = new_e;
  apply_ids(c, uid, r, new_e, s);
  if (uid) recount_user(t);
  return ok();
}

// setfsuid(2): returns the old value; changes it if allowed, silently not otherwise.
Result<uint64_t> do_setfsid(Task& t, bool uid, uint32_t id) {
  Credentials& c = t.creds();
  uint32_t& f = uid ? c.fsuid : c.fsgid;
  const uint32_t old = f;
  const bool allowed = c.has_capability(uid ? kCapSetuid : kCapSetgid) ||
                       id == (uid ? c.ruid : c.rgid) || id == (uid ? c.euid : c.egid) ||
                       id == (uid ? c.suid : c.sgid) || id == old;
  if (allowed && id != kUnchanged) f = id;
  return old;
}

Result<uint64_t> sys_setuid(Task& t, const SyscallArgs& a) { return do_setid(t, true, static_cast<uint32_t>(a.u(0))); }
Result<uint64_t> sys_setgid(Task& t, const SyscallArgs& a) { return do_setid(t, false, static_cast<uint32_t>(a.u(0))); }
Result<uint64_t> sys_setreuid(Task& t, const SyscallArgs& a) {
  return do_setreid(t, true, static_cast<uint32_t>(a.u(0)), static_cast<uint32_t>(a.u(1)));
}
Result<uint64_t> sys_setregid(Task& t, const SyscallArgs& a) {
  return do_setreid(t, false, static_cast<uint32_t>(a.u(0)), static_cast<uint32_t>(a.u(1)));
}
Result<uint64_t> sys_setresuid(Task& t, const SyscallArgs& a) {
  return do_setresid(t, true, static_cast<uint32_t>(a.u(0)), static_cast<uint32_t>(a.u(1)),
                     static_cast<uint32_t>(a.u(2)));
}
Result<uint64_t> sys_setresgid(Task& t, const SyscallArgs& a) {
  return do_setresid(t, false, static_cast<uint32_t>(a.u(0)), static_cast<uint32_t>(a.u(1)),
                     static_cast<uint32_t>(a.u(2)));
}
Result<uint64_t> sys_setfsuid(Task& t, const SyscallArgs& a) { return do_setfsid(t, true, static_cast<uint32_t>(a.u(0))); }
Result<uint64_t> sys_setfsgid(Task& t, const SyscallArgs& a) { return do_setfsid(t, false, static_cast<uint32_t>(a.u(0))); }

Result<uint64_t> sys_setgroups(Task& t, const SyscallArgs& a) {
  const int size = a.i(0);
  if (size < 0 || static_cast<size_t>(size) > kNgroupsMax) return Err(EINVAL);
  if (!t.creds().has_capability(kCapSetgid)) return Err(EPERM);
  std::vector<uint32_t> groups(static_cast<size_t>(size));
  if (size > 0) {
    if (auto r = t.mm().copy_in(a.u(1), groups.data(), groups.size() * 4); !r) return Err(r.error());
  }
  std::sort(groups.begin(), groups.end());
  t.creds().groups = std::move(groups);
  return ok();
}

// capget(2)/capset(2) with the header versions Linux accepts; an unknown
// version is answered with the preferred one and EINVAL.
struct CapData {
  uint32_t effective, permitted, inheritable;
};

Result<int> cap_words(Task& t, uint64_t header_addr, bool probe_ok, uint64_t data_addr, int* pid) {
  __user_cap_header_struct header;
  if (auto r = t.mm().copy_in(header_addr, &header, sizeof(header)); !r) return Err(r.error());
  *pid = header.pid;
  switch (header.version) {
    case _LINUX_CAPABILITY_VERSION_1:
      return 1;
    case _LINUX_CAPABILITY_VERSION_2:
    case _LINUX_CAPABILITY_VERSION_3:
      return 2;
    default: {
      header.version = _LINUX_CAPABILITY_VERSION_3;
      if (auto r = t.mm().copy_out(header_addr, &header, sizeof(header)); !r) return Err(r.error());
      if (probe_ok && data_addr == 0) return 0;
      return Err(EINVAL);
    }
  }
}

Result<uint64_t> sys_capget(Task& t, const SyscallArgs& a) {
  int pid = 0;
  auto words = cap_words(t, a.u(0), true, a.u(1), &pid);
  if (!words) return Err(words.error());
  if (*words == 0) return ok();
  if (pid < 0) return Err(EINVAL);
  const Credentials* c = &t.creds();
  std::shared_ptr<Task> other;
  if (pid != 0 && pid != t.tid()) {
    std::lock_guard lock(t.kernel().tree_mutex());
    other = t.kernel().find_task_locked(pid);
    if (!other) return Err(ESRCH);
    c = &other->creds();
  }
  if (a.u(1) == 0) return ok();
  CapData data[2];
  for (int i = 0; i < 2; ++i) {
    data[i] = CapData{static_cast<uint32_t>(c->cap_effective >> (32 * i)),
                      static_cast<uint32_t>(c->cap_permitted >> (32 * i)),
                      static_cast<uint32_t>(c->cap_inheritable >> (32 * i))};
  }
  if (auto r = t.mm().copy_out(a.u(1), data, sizeof(CapData) * static_cast<size_t>(*words)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_capset(Task& t, const SyscallArgs& a) {
  int pid = 0;
  auto words = cap_words(t, a.u(0), false, a.u(1), &pid);
  if (!words) return Err(words.error());
  if (pid != 0 && pid != t.tid()) return Err(EPERM);  // only oneself (capset(2))
  CapData data[2]{};
  if (auto r = t.mm().copy_in(a.u(1), data, sizeof(CapData) * static_cast<size_t>(*words)); !r) return Err(r.error());
  auto join = [&](uint32_t CapData::*field) {
    return (uint64_t{data[1].*field} << 32 | data[0].*field) & kernel::kAllCapabilities;
  };
  const uint64_t eff = join(&CapData::effective), perm = join(&CapData::permitted), inh = join(&CapData::inheritable);
  Credentials& c = t.creds();
  constexpr int kCapSetpcap = 8;
  // New permitted within the old; effective within the new permitted;
  // inheritable within old inheritable | permitted (without CAP_SETPCAP).
  if (perm & ~c.cap_permitted) return Err(EPERM);
  if (eff & ~perm) return Err(EPERM);
  if (!c.has_capability(kCapSetpcap) && (inh & ~(c.cap_inheritable | c.cap_permitted))) return Err(EPERM);
  c.cap_effective = eff;
  c.cap_permitted = perm;
  c.cap_inheritable = inh;
  return ok();
}

}  // namespace

void register_creds(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_setuid, "setuid", sys_setuid, {A::kInt});
  tb.set(SYS_setgid, "setgid", sys_setgid, {A::kInt});
  tb.set(SYS_setreuid, "setreuid", sys_setreuid, {A::kInt, A::kInt});
  tb.set(SYS_setregid, "setregid", sys_setregid, {A::kInt, A::kInt});
  tb.set(SYS_setresuid, "setresuid", sys_setresuid, {A::kInt, A::kInt, A::kInt});
  tb.set(SYS_setresgid, "setresgid", sys_setresgid, {A::kInt, A::kInt, A::kInt});
  tb.set(SYS_setfsuid, "setfsuid", sys_setfsuid, {A::kInt});
  tb.set(SYS_setfsgid, "setfsgid", sys_setfsgid, {A::kInt});
  tb.set(SYS_setgroups, "setgroups", sys_setgroups, {A::kInt, A::kPtr});
  tb.set(SYS_capget, "capget", sys_capget, {A::kPtr, A::kPtr});
  tb.set(SYS_capset, "capset", sys_capset, {A::kPtr, A::kPtr});
}

}  // namespace runsc::syscalls
