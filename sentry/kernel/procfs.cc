#include "sentry/kernel/procfs.h"

#include "common/cpus.h"

#include <cpuid.h>
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include <spdlog/fmt/fmt.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <map>

#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/mm.h"
#include "netstack/hostinet/host_socket.h"
#include "netstack/netlink/route.h"
#include "netstack/unix/unix_socket.h"
#include "vfs/synthetic.h"

namespace runsc::kernel {
namespace {

using vfs::DirEntry;
using vfs::Inode;
using vfs::SyntheticDir;
using vfs::SyntheticFile;
using vfs::SyntheticIds;
using vfs::SyntheticSymlink;

constexpr int kClockTicks = 100;  // USER_HZ: what times in /proc count in

std::optional<int> parse_id(std::string_view name) {
  int v = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
  if (ec != std::errc() || end != name.data() + name.size() || v <= 0 || name[0] == '0') return std::nullopt;
  return v;
}

// The facts about the machine the Sentry presents, gathered once at boot
// (before its seccomp filter) from CPUID and its own view of the host.
struct MachineFacts {
  int cpus = 1;
  std::string boot_id;
  std::string cpuinfo;
};

std::string cpu_brand() {
  unsigned regs[12] = {};
  unsigned max_ext = __get_cpuid_max(0x80000000, nullptr);
  if (max_ext < 0x80000004) return "Unknown CPU";
  for (unsigned i = 0; i < 3; ++i) __get_cpuid(0x80000002 + i, &regs[i * 4], &regs[i * 4 + 1], &regs[i * 4 + 2], &regs[i * 4 + 3]);
  std::string s(reinterpret_cast<const char*>(regs), sizeof(regs));
  s = s.c_str();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

// The flags line: CPUID feature bits under their /proc/cpuinfo names.
std::string cpu_flags() {
  unsigned a, b, c, d;
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    const char* edx_names[32] = {"fpu", "vme",  "de",   "pse",   "tsc", "msr",  "pae",  "mce",  "cx8",  "apic", nullptr,
                                 "sep", "mtrr", "pge",  "mca",   "cmov", "pat", "pse36", nullptr, "clflush", nullptr, "dts",
                                 "acpi", "mmx", "fxsr", "sse",  "sse2", "ss",  "ht",   "tm",   nullptr, "pbe"};
    for (int i = 0; i < 32; ++i) add(edx_names[i] && (d >> i & 1), edx_names[i] ? edx_names[i] : "");
    add(c & 1, "pni");
    add(c >> 1 & 1, "pclmulqdq");
    add(c >> 9 & 1, "ssse3");
    add(c >> 12 & 1, "fma");
    add(c >> 13 & 1, "cx16");
    add(c >> 19 & 1, "sse4_1");
    add(c >> 20 & 1, "sse4_2");
    add(c >> 22 & 1, "movbe");
    add(c >> 23 & 1, "popcnt");
    add(c >> 25 & 1, "aes");
    add(c >> 26 & 1, "xsave");
    add(c >> 28 & 1, "avx");
    add(c >> 29 & 1, "f16c");
    add(c >> 30 & 1, "rdrand");
    add(c >> 31 & 1, "hypervisor");
  }
  if (__get_cpuid(0x80000001, &a, &b, &c, &d)) {
    add(d >> 11 & 1, "syscall");
    add(d >> 20 & 1, "nx");
    add(d >> 27 & 1, "rdtscp");
    add(d >> 29 & 1, "lm");
    add(c & 1, "lahf_lm");
    add(c >> 5 & 1, "abm");
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    add(b >> 3 & 1, "bmi1");
    add(b >> 5 & 1, "avx2");
    add(b >> 8 & 1, "bmi2");
    add(b >> 9 & 1, "erms");
    add(b >> 16 & 1, "avx512f");
    add(b >> 18 & 1, "rdseed");
    add(b >> 19 & 1, "adx");
    add(b >> 29 & 1, "sha_ni");
  }
  return out;
}

MachineFacts gather_facts() {
  MachineFacts f;
  f.cpus = sandbox_cpu_count();
  uint8_t r[16];
  if (::getrandom(r, sizeof(r), 0) != sizeof(r)) std::memset(r, 0x5a, sizeof(r));
  r[6] = (r[6] & 0x0f) | 0x40;  // a version-4 UUID, as the kernel makes
  r[8] = (r[8] & 0x3f) | 0x80;
  f.boot_id = fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}\n",
                          r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
                          r[15]);
  unsigned a = 0, b = 0, c = 0, d = 0;
  char vendor[13] = {};
  __get_cpuid(0, &a, &b, &c, &d);
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  __get_cpuid(1, &a, &b, &c, &d);
  unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf, stepping = a & 0xf;
  if (family == 0xf) family += (a >> 20) & 0xff;
  if (family >= 6) model += ((a >> 16) & 0xf) << 4;
  const std::string brand = cpu_brand(), flags = cpu_flags();
  for (int i = 0; i < f.cpus; ++i) {
    f.cpuinfo += fmt::format(
        "processor\t: {}\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\nmodel name\t: {}\nstepping\t: {}\n"
        "cpu MHz\t\t: 0.000\ncache size\t: 0 KB\nphysical id\t: 0\nsiblings\t: {}\ncore id\t\t: {}\ncpu cores\t: {}\n"
        "apicid\t\t: {}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\nflags\t\t: {}\n"
        "bogomips\t: 0.00\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 46 bits physical, 48 bits virtual\n"
        "power management:\n\n",
        i, vendor, family, model, brand, stepping, f.cpus, i, f.cpus, i, flags);
  }
  return f;
}

std::string cpu_range(int cpus) { return cpus == 1 ? "0\n" : fmt::format("0-{}\n", cpus - 1); }

// One ID block of the procfs superblock, shared by its files.
class Procfs : public std::enable_shared_from_this<Procfs> {
 public:
  explicit Procfs(Kernel& kernel) : kernel_(kernel), facts_(gather_facts()) {
    static std::atomic<unsigned> minor{200};
    dev_ = makedev(0, minor++);
  }

  std::shared_ptr<Inode> root();
  std::shared_ptr<Inode> sysfs_root();

 private:
  SyntheticIds ids(std::function<vfs::Owner()> owner = nullptr) const { return SyntheticIds{dev_, std::move(owner)}; }
  std::shared_ptr<Inode> file(std::string path, SyntheticFile::Reader read, mode_t mode = 0444,
                              SyntheticFile::Writer write = nullptr, std::function<vfs::Owner()> owner = nullptr) {
    return std::make_shared<SyntheticFile>(ids(std::move(owner)), vfs::synthetic_ino(path), mode, std::move(read),
                                           std::move(write));
  }
  std::shared_ptr<Inode> constant(std::string path, std::string text) {
    return file(std::move(path), [text]() -> Result<std::string> { return text; });
  }

  std::shared_ptr<Inode> process_dir(const std::shared_ptr<ThreadGroup>& group, int tid);
  std::shared_ptr<Inode> sys_dir();
  std::shared_ptr<Inode> net_dir();
  Task* caller() const { return current_task(); }

  std::string proc_stat_text();
  std::string meminfo_text();
  std::string mounts_text(bool mountinfo);


  Kernel& kernel_;
  MachineFacts facts_;
  dev_t dev_;
  std::string overcommit_ = "0\n";
};

// An integer written to a proc file: surrounding whitespace is allowed,
// anything else is EINVAL (Linux's kstrtoint on the stripped buffer).
Result<int> parse_written_int(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  int value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return Err(EINVAL);
  return value;
}

// The live task `tid` of `group`, or its leader (any live thread) for 0.
std::shared_ptr<Task> task_of(Kernel& kernel, const ThreadGroup& group, int tid) {
  std::lock_guard lock(kernel.tree_mutex());
  if (tid) {
    auto t = kernel.find_task_locked(tid);
    return t && &t->group() == &group ? t : nullptr;
  }
  if (auto leader = group.leader.lock()) return leader;
  for (const auto& w : group.tasks) {
    if (auto t = w.lock()) return t;
  }
  return nullptr;
}

// What opening /proc/pid/fd/N of a file without a name gives: the same
// open file (Linux reopens the pipe; sharing the description is what the
// callers, such as bash's /dev/fd/63, need). open(2) then makes the
// dentry this inode sits in the description's own, so the reference back
// is weak: a strong one would keep the description, and a pipe's end,
// open forever.
class ReopenInode final : public Inode {
 public:
  explicit ReopenInode(std::weak_ptr<vfs::FileDescription> file) : file_(std::move(file)) {}
  Result<struct stat> stat() override {
    auto f = file_.lock();
    if (!f) return Err(ENOENT);
    return f->stat();
  }
  mode_t file_type() const override {
    auto f = file_.lock();
    auto st = f ? f->stat() : Result<struct stat>(Err(ENOENT));
    return st ? (st->st_mode & S_IFMT) : S_IFREG;
  }
  Result<std::shared_ptr<vfs::FileDescription>> open(int) override {
    auto f = file_.lock();
    if (!f) return Err(ENOENT);
    return f;
  }
  bool cacheable() const override { return false; }

 private:
  std::weak_ptr<vfs::FileDescription> file_;
};

// The dentry naming an open file, or null for a file without a name (a
// reopened nameless file carries a ReopenInode dentry, which names nothing).
std::shared_ptr<vfs::Dentry> named_dentry(const vfs::FileDescription& f) {
  const auto& d = f.dentry();
  if (!d || dynamic_cast<ReopenInode*>(&d->inode())) return nullptr;
  return d;
}

// What a /proc/pid/fd/N link shows (proc(5)): the file's path, or
// "pipe:[inode]" and the like for files with no name.
std::string fd_link_text(vfs::FileDescription& f) {
  if (auto d = named_dentry(f)) return d->path() + (d->deleted() ? " (deleted)" : "");
  auto st = f.stat();
  if (st && S_ISFIFO(st->st_mode)) return fmt::format("pipe:[{}]", st->st_ino);
  if (st && S_ISSOCK(st->st_mode)) return fmt::format("socket:[{}]", st->st_ino);
  if (st && S_ISCHR(st->st_mode)) return "/dev/pts/0";
  return "anon_inode:[file]";
}

std::string signal_mask_hex(uint64_t m) { return fmt::format("{:016x}", m); }

// The signals a task ignores and those it catches (SigIgn and SigCgt).
struct Dispositions {
  uint64_t ignored = 0, caught = 0;
};
Dispositions dispositions(Task& t) {
  Dispositions d;
  std::lock_guard lock(t.signal_mutex());
  const auto& actions = t.signal_actions();
  for (int s = 1; s <= 64; ++s) {
    const uint64_t h = actions[s - 1].handler;
    if (h == reinterpret_cast<uint64_t>(SIG_IGN)) d.ignored |= uint64_t{1} << (s - 1);
    else if (h != reinterpret_cast<uint64_t>(SIG_DFL)) d.caught |= uint64_t{1} << (s - 1);
  }
  return d;
}

std::shared_ptr<Inode> Procfs::process_dir(const std::shared_ptr<ThreadGroup>& group_ptr, int tid) {
  std::weak_ptr<ThreadGroup> weak = group_ptr;
  Kernel& kernel = kernel_;
  const int pid = group_ptr->pid;
  const std::string base = tid ? fmt::format("/{}/task/{}", pid, tid) : fmt::format("/{}", pid);
  auto task = [&kernel, weak, tid]() -> std::shared_ptr<Task> {
    auto g = weak.lock();
    if (!g) return nullptr;
    return task_of(kernel, *g, tid);
  };
  auto owner = [task]() -> vfs::Owner {
    auto t = task();
    return t ? vfs::Owner{t->creds().euid, t->creds().egid} : vfs::Owner{};
  };
  auto self = shared_from_this();

  auto stat_text = [self, task, weak, &kernel, tid]() -> Result<std::string> {
    auto t = task();
    auto g = weak.lock();
    if (!t || !g) return Err(ESRCH);
    int ppid = 0, pgid = 0, sid = 0, threads = 0, exit_signal = SIGCHLD, tpgid = -1;
    uint64_t tty_nr = 0;
    char state = 'S';
    {
      std::lock_guard lock(kernel.tree_mutex());
      if (auto p = g->parent.lock()) ppid = p->pid;
      pgid = g->pgid;
      sid = g->sid;
      if (g->ctty) {
        // (7) tty_nr as new_encode_dev() packs it, (8) the terminal's
        // foreground process group.
        const uint64_t major = ::major(g->ctty), minor = ::minor(g->ctty);
        tty_nr = (minor & 0xff) | (major << 8) | ((minor & ~uint64_t{0xff}) << 12);
        tpgid = kernel.terminal_locked(g->ctty).fg_pgrp;
      }
      for (const auto& w : g->tasks) threads += w.expired() ? 0 : 1;
      if (g->stopped) state = 'T';
      if (g->zombie) state = 'Z';
      exit_signal = g->exit_signal;
    }
    if (t.get() == current_task()) state = 'R';
    auto mm = t->mm_ptr();
    mm::MemoryManager::ImageInfo image;
    uint64_t rss_pages = 0;
    if (mm) {
      image = mm->image();
      rss_pages = mm->resident_bytes() / 4096;
    }
    const uint64_t vsize = rss_pages * 4096;
    const int64_t utime = t->user_time_ns() / (1000000000 / kClockTicks);
    const int64_t stime = t->sys_time_ns() / (1000000000 / kClockTicks);
    (void)tid;
    const Dispositions d = dispositions(*t);
    // proc(5)'s 52 fields; (31)-(34) are the pending, blocked, ignored and
    // caught signals, (38) the exit signal, (48)-(51) the argv and
    // environment bounds.
    return fmt::format(
        "{} ({}) {} {} {} {} {} {} 4194560 0 0 0 0 {} {} 0 0 20 0 {} 0 0 {} {} 18446744073709551615 0 0 0 0 0 "
        "{} {} {} {} 0 0 0 {} 0 0 0 0 0 0 0 0 0 {} {} {} {} 0\n",
        t->tid(), t->comm(), state, ppid, pgid, sid, tty_nr, tpgid, utime, stime, threads, vsize, rss_pages,
        t->pending_signals() & ~g->shared_pending.mask.load(), t->signal_mask(), d.ignored, d.caught, exit_signal,
        image.arg_start, image.arg_end, image.env_start, image.env_end);
  };

  auto status_text = [task, weak, &kernel]() -> Result<std::string> {
    auto t = task();
    auto g = weak.lock();
    if (!t || !g) return Err(ESRCH);
    int ppid = 0, threads = 0, pgid = 0, sid = 0;
    std::string state = "S (sleeping)";
    {
      std::lock_guard lock(kernel.tree_mutex());
      if (auto p = g->parent.lock()) ppid = p->pid;
      pgid = g->pgid;
      sid = g->sid;
      for (const auto& w : g->tasks) threads += w.expired() ? 0 : 1;
      if (g->stopped) state = "T (stopped)";
    }
    if (t.get() == current_task()) state = "R (running)";
    const auto& c = t->creds();
    std::string groups;
    for (uint32_t gid : c.groups) groups += fmt::format("{} ", gid);
    const auto [ignored, caught] = dispositions(*t);
    auto mm = t->mm_ptr();
    const uint64_t rss_kb = mm ? mm->resident_bytes() / 1024 : 0;
    auto fds = t->fds_ptr();
    auto fs = t->fs_ptr();
    return fmt::format(
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0\n"
        "Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t{}\nNStgid:\t{}\nNSpid:\t{}\nNSpgid:\t{}\n"
        "NSsid:\t{}\nVmPeak:\t{:8} kB\nVmSize:\t{:8} kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\nVmHWM:\t{:8} kB\n"
        "VmRSS:\t{:8} kB\nVmData:\t{:8} kB\nVmStk:\t     132 kB\nVmExe:\t       0 kB\nVmLib:\t       0 kB\n"
        "VmPTE:\t       0 kB\nVmSwap:\t       0 kB\nThreads:\t{}\nSigQ:\t0/{}\nSigPnd:\t{}\nShdPnd:\t{}\nSigBlk:\t{}\n"
        "SigIgn:\t{}\nSigCgt:\t{}\nCapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\n"
        "CapAmb:\t0000000000000000\nNoNewPrivs:\t{}\nSeccomp:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\n"
        "Cpus_allowed:\t1\nCpus_allowed_list:\t0\nMems_allowed:\t1\nMems_allowed_list:\t0\n"
        "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
        t->comm(), fs ? fs->umask : 022, state, g->pid, t->tid(), ppid, c.ruid, c.euid, c.suid, c.fsuid, c.rgid,
        c.egid, c.sgid, c.fsgid, fds ? std::max(64, fds->limit()) : 64, groups, g->pid, t->tid(), pgid, sid, rss_kb,
        rss_kb, rss_kb, rss_kb, rss_kb, threads, t->rlimits()[RLIMIT_SIGPENDING].rlim_cur,
        signal_mask_hex(t->pending_signals() & ~g->shared_pending.mask.load()),
        signal_mask_hex(g->shared_pending.mask.load()), signal_mask_hex(t->signal_mask()), signal_mask_hex(ignored),
        signal_mask_hex(caught), c.cap_inheritable, c.cap_permitted, c.cap_effective, kAllCapabilities, t->no_new_privs() ? 1 : 0);
  };

  auto memory_range = [task](bool environ) -> Result<std::string> {
    auto t = task();
    if (!t) return Err(ESRCH);
    auto mm = t->mm_ptr();
    if (!mm) return std::string();
    auto image = mm->image();
    const uint64_t start = environ ? image.env_start : image.arg_start;
    const uint64_t end = environ ? image.env_end : image.arg_end;
    if (end <= start) return std::string();
    std::string out(end - start, '\0');
    if (!mm->copy_in(start, out.data(), out.size())) return std::string();
    return out;
  };

  auto fd_dir = [self, task, base, owner](bool info) -> std::shared_ptr<Inode> {
    const std::string dir_path = base + (info ? "/fdinfo" : "/fd");
    auto lookup = [self, task, dir_path, info, owner](std::string_view name) -> Result<std::shared_ptr<Inode>> {
      auto fd = parse_id(name);
      if (!fd && name != "0") return Err(ENOENT);
      const int n = fd ? *fd : 0;
      auto t = task();
      if (!t || !t->fds_ptr()) return Err(ENOENT);
      auto file = t->fds_ptr()->get(n);
      if (!file) return Err(ENOENT);
      const std::string path = fmt::format("{}/{}", dir_path, n);
      if (info) {
        std::weak_ptr<vfs::FileDescription> weak_file = file;
        std::weak_ptr<FdTable> weak_table = t->fds_ptr();
        return self->file(path, [weak_file, weak_table, n]() -> Result<std::string> {
          auto f = weak_file.lock();
          if (!f) return Err(ENOENT);
          auto pos = f->seekable() ? f->seek(0, SEEK_CUR) : Result<int64_t>(0);
          const int mnt = f->dentry() && f->dentry()->mount() ? f->dentry()->mount()->id : 0;
          // proc(5): "If the close-on-exec file descriptor flag is set,
          // then flags will also include the value O_CLOEXEC."
          int flags = f->flags();
          auto table = weak_table.lock();
          if (auto cloexec = table ? table->cloexec(n) : Result<bool>(false); cloexec && *cloexec) flags |= O_CLOEXEC;
          return fmt::format("pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\n", pos ? *pos : 0, flags, mnt);
        }, 0444, nullptr, owner);
      }
      std::weak_ptr<vfs::FileDescription> weak_file = file;
      return std::shared_ptr<Inode>(std::make_shared<SyntheticSymlink>(
          self->ids(owner), vfs::synthetic_ino(path),
          [weak_file]() -> Result<std::string> {
            auto f = weak_file.lock();
            if (!f) return Err(ENOENT);
            return fd_link_text(*f);
          },
          [weak_file]() -> Result<std::shared_ptr<vfs::Dentry>> {
            auto f = weak_file.lock();
            if (!f) return Err(ENOENT);
            if (f->dentry()) return f->dentry();
            return std::make_shared<vfs::Dentry>(fd_link_text(*f), nullptr, std::make_shared<ReopenInode>(f));
          }));
    };
    auto list = [task, dir_path, info]() -> Result<std::vector<DirEntry>> {
      auto t = task();
      if (!t || !t->fds_ptr()) return Err(ENOENT);
      std::vector<DirEntry> out;
      for (int fd : t->fds_ptr()->open_fds()) {
        out.push_back({vfs::synthetic_ino(fmt::format("{}/{}", dir_path, fd)),
                       static_cast<uint8_t>(info ? DT_REG : DT_LNK), std::to_string(fd)});
      }
      return out;
    };
    return std::make_shared<SyntheticDir>(self->ids(owner), vfs::synthetic_ino(dir_path), 0500, lookup, list);
  };

  auto fs_link = [self, task, base, owner](const char* name, bool root) -> std::shared_ptr<Inode> {
    auto dentry = [task, root]() -> Result<std::shared_ptr<vfs::Dentry>> {
      auto t = task();
      if (!t) return Err(ENOENT);
      auto fs = t->fs_ptr();
      if (!fs) return Err(ENOENT);
      return root ? fs->root : fs->cwd;
    };
    return std::make_shared<SyntheticSymlink>(
        self->ids(owner), vfs::synthetic_ino(base + "/" + name),
        [dentry]() -> Result<std::string> {
          auto d = dentry();
          if (!d) return Err(d.error());
          return (*d)->path() + ((*d)->deleted() ? " (deleted)" : "");
        },
        dentry);
  };

  auto limits_text = [task]() -> Result<std::string> {
    auto t = task();
    if (!t) return Err(ESRCH);
    struct Row {
      const char* name;
      int resource;
      const char* unit;
    };
    static const Row rows[] = {
        {"Max cpu time", RLIMIT_CPU, "seconds"},       {"Max file size", RLIMIT_FSIZE, "bytes"},
        {"Max data size", RLIMIT_DATA, "bytes"},        {"Max stack size", RLIMIT_STACK, "bytes"},
        {"Max core file size", RLIMIT_CORE, "bytes"},   {"Max resident set", RLIMIT_RSS, "bytes"},
        {"Max processes", RLIMIT_NPROC, "processes"},   {"Max open files", RLIMIT_NOFILE, "files"},
        {"Max locked memory", RLIMIT_MEMLOCK, "bytes"}, {"Max address space", RLIMIT_AS, "bytes"},
        {"Max file locks", RLIMIT_LOCKS, "locks"},      {"Max pending signals", RLIMIT_SIGPENDING, "signals"},
        {"Max msgqueue size", RLIMIT_MSGQUEUE, "bytes"}, {"Max nice priority", RLIMIT_NICE, ""},
        {"Max realtime priority", RLIMIT_RTPRIO, ""},   {"Max realtime timeout", RLIMIT_RTTIME, "us"},
    };
    auto value = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); };
    std::string out = fmt::format("{:<25} {:<20} {:<20} {:<10}\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (const Row& r : rows) {
      const rlimit& l = t->rlimits()[r.resource];
      out += fmt::format("{:<25} {:<20} {:<20} {:<10}\n", r.name, value(l.rlim_cur), value(l.rlim_max), r.unit);
    }
    return out;
  };

  auto maps_text = [task]() -> Result<std::string> {
    auto t = task();
    if (!t) return Err(ESRCH);
    auto mm = t->mm_ptr();
    return mm ? mm->describe_maps() : std::string();
  };

  std::vector<vfs::StaticEntry> entries = {
      {"stat", file(base + "/stat", stat_text, 0444, nullptr, owner)},
      {"statm", file(base + "/statm", [task]() -> Result<std::string> {
         auto t = task();
         if (!t) return Err(ESRCH);
         auto mm = t->mm_ptr();
         const uint64_t pages = mm ? mm->resident_bytes() / 4096 : 0;
         return fmt::format("{} {} 0 0 0 {} 0\n", pages, pages, pages);
       }, 0444, nullptr, owner)},
      {"status", file(base + "/status", status_text, 0444, nullptr, owner)},
      {"cmdline", file(base + "/cmdline", [memory_range]() { return memory_range(false); }, 0444, nullptr, owner)},
      {"environ", file(base + "/environ", [memory_range]() { return memory_range(true); }, 0400, nullptr, owner)},
      {"comm", file(base + "/comm", [task]() -> Result<std::string> {
         auto t = task();
         if (!t) return Err(ESRCH);
         return t->comm() + "\n";
       }, 0644, [task](std::string_view v) -> Result<void> {
         // proc(5): a thread may rename itself or another thread of its
         // process; the bytes written (a newline too) cut to 15.
         auto t = task();
         Task* caller = current_task();
         if (!t) return Err(ESRCH);
         if (!caller || &caller->group() != &t->group()) return Err(EINVAL);
         t->comm() = std::string(v.substr(0, 15));
         return {};
       }, owner)},
      {"maps", file(base + "/maps", maps_text, 0444, nullptr, owner)},
      {"smaps", file(base + "/smaps", maps_text, 0444, nullptr, owner)},
      {"exe", std::make_shared<SyntheticSymlink>(ids(owner), vfs::synthetic_ino(base + "/exe"),
                                                 [task]() -> Result<std::string> {
                                                   auto t = task();
                                                   if (!t || !t->mm_ptr()) return Err(ENOENT);
                                                   return t->mm_ptr()->image().exe;
                                                 })},
      {"cwd", fs_link("cwd", false)},
      {"root", fs_link("root", true)},
      {"fd", fd_dir(false)},
      {"fdinfo", fd_dir(true)},
      {"mounts", file(base + "/mounts", [self]() -> Result<std::string> { return self->mounts_text(false); })},
      {"mountinfo", file(base + "/mountinfo", [self]() -> Result<std::string> { return self->mounts_text(true); })},
      {"limits", file(base + "/limits", limits_text, 0444, nullptr, owner)},
      {"cgroup", constant(base + "/cgroup", "0::/\n")},
      {"oom_score", constant(base + "/oom_score", "0\n")},
      {"oom_score_adj", file(base + "/oom_score_adj", [weak]() -> Result<std::string> {
         auto g = weak.lock();
         if (!g) return Err(ESRCH);
         return fmt::format("{}\n", g->oom_score_adj.load());
       }, 0644, [weak](std::string_view v) -> Result<void> {
         // proc(5): -1000 (never kill) to 1000 (kill first).
         auto value = parse_written_int(v);
         if (!value || *value < -1000 || *value > 1000) return Err(EINVAL);
         auto g = weak.lock();
         if (!g) return Err(ESRCH);
         g->oom_score_adj = *value;
         return {};
       }, owner)},
  };
  if (!tid) {
    auto task_lookup = [self, weak, &kernel](std::string_view name) -> Result<std::shared_ptr<Inode>> {
      auto g = weak.lock();
      auto id = parse_id(name);
      if (!g || !id) return Err(ENOENT);
      if (!task_of(kernel, *g, *id)) return Err(ENOENT);
      return self->process_dir(g, *id);
    };
    auto task_list = [weak, pid]() -> Result<std::vector<DirEntry>> {
      auto g = weak.lock();
      if (!g) return Err(ENOENT);
      std::vector<DirEntry> out;
      for (const auto& w : g->tasks) {
        if (auto t = w.lock()) {
          out.push_back({vfs::synthetic_ino(fmt::format("/{}/task/{}", pid, t->tid())), DT_DIR, std::to_string(t->tid())});
        }
      }
      return out;
    };
    entries.push_back({"task", std::make_shared<SyntheticDir>(ids(owner), vfs::synthetic_ino(base + "/task"), 0555,
                                                              task_lookup, task_list)});
  }
  auto shared = std::make_shared<std::vector<vfs::StaticEntry>>(std::move(entries));
  auto lookup = [shared, task](std::string_view name) -> Result<std::shared_ptr<Inode>> {
    if (!task()) return Err(ENOENT);
    for (const auto& e : *shared) {
      if (e.name == name) return e.inode;
    }
    return Err(ENOENT);
  };
  auto list = [shared, task]() -> Result<std::vector<DirEntry>> {
    if (!task()) return Err(ENOENT);
    std::vector<DirEntry> out;
    for (const auto& e : *shared) {
      auto st = e.inode->stat();
      out.push_back({st ? st->st_ino : 1, static_cast<uint8_t>(IFTODT(e.inode->file_type())), e.name});
    }
    return out;
  };
  return std::make_shared<SyntheticDir>(ids(owner), vfs::synthetic_ino(base), 0555, lookup, list);
}

std::string Procfs::mounts_text(bool mountinfo) {
  std::string out;
  for (const auto& m : vfs::all_mounts()) {
    const std::string point = m->mountpoint ? m->mountpoint->path() : "/";
    const std::string flags = std::string(m->read_only ? "ro" : "rw") + ((m->flags & MS_NOSUID) ? ",nosuid" : "");
    const std::string opts = m->options.empty() ? flags : flags + "," + m->options;
    if (mountinfo) {
      auto st = m->root->inode().stat();
      const dev_t dev = st ? st->st_dev : 0;
      // proc(5): per-mount options (nosuid, relatime) before the " - ",
      // the filesystem's own (mode=...) after it.
      const std::string ro_rw = m->read_only ? "ro" : "rw";
      const std::string super = m->options.empty() ? ro_rw : ro_rw + "," + m->options;
      out += fmt::format("{} {} {}:{} / {} {},relatime - {} {} {}\n", m->id, m->parent_id, major(dev), minor(dev), point,
                         flags, m->fstype, m->source, super);
    } else {
      out += fmt::format("{} {} {} {} 0 0\n", m->source, point, m->fstype, opts);
    }
  }
  return out;
}

std::string Procfs::proc_stat_text() {
  // The whole sandbox's CPU time is not tracked per state; report the
  // uptime as idle, which keeps top and vmstat's arithmetic sane.
  const int64_t ticks = kernel_.monotonic_ns() / (1000000000 / kClockTicks);
  std::string out = fmt::format("cpu  0 0 0 {} 0 0 0 0 0 0\n", ticks * facts_.cpus);
  for (int i = 0; i < facts_.cpus; ++i) out += fmt::format("cpu{} 0 0 0 {} 0 0 0 0 0 0\n", i, ticks);
  const auto boot_wall = std::chrono::system_clock::now() - std::chrono::nanoseconds(kernel_.monotonic_ns());
  int processes = 0;
  {
    std::lock_guard lock(kernel_.tree_mutex());
    processes = static_cast<int>(kernel_.processes_locked().size());
  }
  out += fmt::format("intr 0\nctxt 0\nbtime {}\nprocesses {}\nprocs_running 1\nprocs_blocked 0\nsoftirq 0\n",
                     std::chrono::duration_cast<std::chrono::seconds>(boot_wall.time_since_epoch()).count(),
                     processes);
  return out;
}

std::string Procfs::meminfo_text() {
  // The sandbox's memory limit (the host's RAM unless configured) is its
  // RAM, as free(1) inside shows it.
  const uint64_t total = kernel_.memfile().limit() / 1024;
  const uint64_t used = kernel_.memfile().allocated_bytes() / 1024;
  const uint64_t free = total > used ? total - used : 0;
  return fmt::format(
      "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nBuffers:               0 kB\n"
      "Cached:                0 kB\nSwapCached:            0 kB\nActive:         {:8} kB\nInactive:              0 kB\n"
      "Shmem:                 0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nDirty:                 0 kB\n"
      "Writeback:             0 kB\nAnonPages:      {:8} kB\nMapped:                0 kB\nCommitLimit:    {:8} kB\n"
      "Committed_AS:   {:8} kB\nHugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n",
      total, free, free, used, used, total, used);
}

std::shared_ptr<Inode> Procfs::sys_dir() {
  Kernel& kernel = kernel_;
  auto s = shared_from_this();
  auto overcommit = file("/sys/vm/overcommit_memory", [s]() -> Result<std::string> { return s->overcommit_; }, 0644,
                         [s](std::string_view v) -> Result<void> {
                           if (v.empty() || v[0] < '0' || v[0] > '2') return Err(EINVAL);
                           s->overcommit_ = std::string(1, v[0]) + "\n";
                           return {};
                         });
  auto kernel_dir = vfs::make_static_dir(
      ids(), vfs::synthetic_ino("/sys/kernel"),
      {{"hostname", file("/sys/kernel/hostname", [&kernel]() -> Result<std::string> { return kernel.hostname() + "\n"; })},
       {"domainname", constant("/sys/kernel/domainname", "(none)\n")},
       {"osrelease", constant("/sys/kernel/osrelease", "4.4.0\n")},
       {"ostype", constant("/sys/kernel/ostype", "Linux\n")},
       {"version", constant("/sys/kernel/version", "#1 SMP runsc-cpp\n")},
       {"pid_max", constant("/sys/kernel/pid_max", "4194304\n")},
       {"cap_last_cap", constant("/sys/kernel/cap_last_cap", "37\n")},
       {"ngroups_max", constant("/sys/kernel/ngroups_max", "65536\n")},
       {"overflowuid", constant("/sys/kernel/overflowuid", "65534\n")},
       {"overflowgid", constant("/sys/kernel/overflowgid", "65534\n")},
       {"random", vfs::make_static_dir(ids(), vfs::synthetic_ino("/sys/kernel/random"),
                                       {{"boot_id", constant("/sys/kernel/random/boot_id", facts_.boot_id)},
                                        {"uuid", file("/sys/kernel/random/uuid", []() -> Result<std::string> {
                                           uint8_t r[16];
                                           if (::getrandom(r, sizeof(r), 0) != sizeof(r)) return Err(EIO);
                                           r[6] = (r[6] & 0x0f) | 0x40;
                                           r[8] = (r[8] & 0x3f) | 0x80;
                                           std::string hex;
                                           for (int i = 0; i < 16; ++i) {
                                             if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
                                             hex += fmt::format("{:02x}", r[i]);
                                           }
                                           return hex + "\n";
                                         })}})}});
  auto vm_dir = vfs::make_static_dir(ids(), vfs::synthetic_ino("/sys/vm"),
                                     {{"overcommit_memory", overcommit},
                                      {"max_map_count", constant("/sys/vm/max_map_count", "65530\n")},
                                      {"mmap_min_addr", constant("/sys/vm/mmap_min_addr", "65536\n")}});
  auto fs_dir = vfs::make_static_dir(
      ids(), vfs::synthetic_ino("/sys/fs"),
      {{"file-max", constant("/sys/fs/file-max", "9223372036854775807\n")},
       {"nr_open", constant("/sys/fs/nr_open", "1048576\n")},
       {"inotify", vfs::make_static_dir(ids(), vfs::synthetic_ino("/sys/fs/inotify"),
                                        {{"max_user_watches", constant("/sys/fs/inotify/max_user_watches", "8192\n")},
                                         {"max_user_instances", constant("/sys/fs/inotify/max_user_instances", "128\n")}})}});
  // net: what the Sentry itself answers by (the rest of /proc/sys/net
  // comes with the sandbox's own network stack).
  auto net_dir = vfs::make_static_dir(
      ids(), vfs::synthetic_ino("/sys/net"),
      {{"ipv4", vfs::make_static_dir(ids(), vfs::synthetic_ino("/sys/net/ipv4"),
                                     {{"ip_unprivileged_port_start",
                                       file("/sys/net/ipv4/ip_unprivileged_port_start", []() -> Result<std::string> {
                                         return fmt::format("{}\n", netstack::unprivileged_port_start());
                                       })}})}});
  return vfs::make_static_dir(ids(), vfs::synthetic_ino("/sys"),
                              {{"kernel", kernel_dir}, {"vm", vm_dir}, {"fs", fs_dir}, {"net", net_dir}});
}

// /proc/net: the sandbox's sockets (unix, and the inet sockets it holds
// on the host) and the interfaces, addresses and routes of its network
// namespace, in Linux's formats.
std::shared_ptr<Inode> Procfs::net_dir() {
  auto text = [this](const char* name, std::function<std::string()> make) {
    return vfs::StaticEntry{name, file(fmt::format("/net/{}", name), [make]() -> Result<std::string> { return make(); })};
  };
  return vfs::make_static_dir(
      ids(), vfs::synthetic_ino("/net"),
      {text("unix", netstack::proc_net_unix), text("dev", netstack::proc_net_dev),
       text("route", netstack::proc_net_route), text("if_inet6", netstack::proc_net_if_inet6),
       text("tcp", [] { return netstack::proc_net_inet(AF_INET, SOCK_STREAM); }),
       text("tcp6", [] { return netstack::proc_net_inet(AF_INET6, SOCK_STREAM); }),
       text("udp", [] { return netstack::proc_net_inet(AF_INET, SOCK_DGRAM); }),
       text("udp6", [] { return netstack::proc_net_inet(AF_INET6, SOCK_DGRAM); })});
}

std::shared_ptr<Inode> Procfs::root() {
  Kernel& kernel = kernel_;
  auto s = shared_from_this();
  std::vector<vfs::StaticEntry> fixed = {
      {"self", std::make_shared<SyntheticSymlink>(ids(), vfs::synthetic_ino("/self"), [s]() -> Result<std::string> {
         auto t = s->caller();
         if (!t) return Err(ENOENT);
         return std::to_string(t->pid());
       })},
      {"thread-self", std::make_shared<SyntheticSymlink>(ids(), vfs::synthetic_ino("/thread-self"),
                                                         [s]() -> Result<std::string> {
                                                           auto t = s->caller();
                                                           if (!t) return Err(ENOENT);
                                                           return fmt::format("{}/task/{}", t->pid(), t->tid());
                                                         })},
      {"cpuinfo", constant("/cpuinfo", facts_.cpuinfo)},
      {"meminfo", file("/meminfo", [s]() -> Result<std::string> { return s->meminfo_text(); })},
      {"stat", file("/stat", [s]() -> Result<std::string> { return s->proc_stat_text(); })},
      {"uptime", file("/uptime", [&kernel, s]() -> Result<std::string> {
         const double up = static_cast<double>(kernel.monotonic_ns()) / 1e9;
         return fmt::format("{:.2f} {:.2f}\n", up, up * s->facts_.cpus);
       })},
      {"loadavg", file("/loadavg", [&kernel]() -> Result<std::string> {
         std::lock_guard lock(kernel.tree_mutex());
         const auto& procs = kernel.processes_locked();
         const int last = procs.empty() ? 0 : procs.rbegin()->first;
         return fmt::format("0.00 0.00 0.00 1/{} {}\n", procs.size(), last);
       })},
      {"version", constant("/version", "Linux version 4.4.0 (runsc-cpp) (gcc version 12) #1 SMP runsc-cpp\n")},
      {"filesystems", constant("/filesystems",
                               "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\n"
                               "nodev\toverlay\nnodev\tmqueue\n")},
      {"mounts", std::make_shared<SyntheticSymlink>(ids(), vfs::synthetic_ino("/mounts"),
                                                    []() -> Result<std::string> { return std::string("self/mounts"); })},
      {"cmdline", constant("/cmdline", "BOOT_IMAGE=/vmlinuz-4.4.0-runsc quiet\n")},
      {"sys", sys_dir()},
      {"net", net_dir()},
  };
  auto shared = std::make_shared<std::vector<vfs::StaticEntry>>(std::move(fixed));
  auto lookup = [s, shared, &kernel](std::string_view name) -> Result<std::shared_ptr<Inode>> {
    if (auto pid = parse_id(name)) {
      std::shared_ptr<ThreadGroup> group;
      int tid = 0;
      {
        std::lock_guard lock(kernel.tree_mutex());
        group = kernel.find_process_locked(*pid);
        // A thread's ID works too, though it is not listed (proc(5)).
        if (!group) {
          if (auto t = kernel.find_task_locked(*pid)) {
            group = t->group_ptr();
            tid = *pid;
          }
        }
      }
      if (!group) return Err(ENOENT);
      return s->process_dir(group, tid);
    }
    for (const auto& e : *shared) {
      if (e.name == name) return e.inode;
    }
    return Err(ENOENT);
  };
  auto list = [shared, &kernel]() -> Result<std::vector<DirEntry>> {
    std::vector<DirEntry> out;
    for (const auto& e : *shared) {
      auto st = e.inode->stat();
      out.push_back({st ? st->st_ino : 1, static_cast<uint8_t>(IFTODT(e.inode->file_type())), e.name});
    }
    std::lock_guard lock(kernel.tree_mutex());
    for (const auto& [pid, group] : kernel.processes_locked()) {
      out.push_back({vfs::synthetic_ino(fmt::format("/{}", pid)), DT_DIR, std::to_string(pid)});
    }
    return out;
  };
  return std::make_shared<SyntheticDir>(ids(), 1, 0555, lookup, list);
}

std::shared_ptr<Inode> Procfs::sysfs_root() {
  std::vector<vfs::StaticEntry> cpu_entries = {
      {"online", constant("/sysfs/cpu/online", cpu_range(facts_.cpus))},
      {"possible", constant("/sysfs/cpu/possible", cpu_range(facts_.cpus))},
      {"present", constant("/sysfs/cpu/present", cpu_range(facts_.cpus))},
  };
  // glibc counts the cpuN directories for sysconf(_SC_NPROCESSORS_CONF).
  for (int i = 0; i < facts_.cpus; ++i) {
    cpu_entries.push_back({fmt::format("cpu{}", i), vfs::make_static_dir(ids(), vfs::synthetic_ino(fmt::format("/sysfs/cpu/cpu{}", i)), {})});
  }
  auto cpu = vfs::make_static_dir(ids(), vfs::synthetic_ino("/sysfs/cpu"), std::move(cpu_entries));
  auto system = vfs::make_static_dir(ids(), vfs::synthetic_ino("/sysfs/system"), {{"cpu", cpu}});
  auto devices = vfs::make_static_dir(ids(), vfs::synthetic_ino("/sysfs/devices"), {{"system", system}});
  auto cgroup = vfs::make_static_dir(ids(), vfs::synthetic_ino("/sysfs/fs/cgroup"), {});
  auto fs = vfs::make_static_dir(ids(), vfs::synthetic_ino("/sysfs/fs"), {{"cgroup", cgroup}});
  return vfs::make_static_dir(ids(), vfs::synthetic_ino("/sysfs"), {{"devices", devices}, {"fs", fs}});
}

}  // namespace

std::shared_ptr<vfs::Dentry> make_procfs(Kernel& kernel) {
  auto fs = std::make_shared<Procfs>(kernel);
  return std::make_shared<vfs::Dentry>("", nullptr, fs->root());
}

std::shared_ptr<vfs::Dentry> make_sysfs(Kernel& kernel) {
  auto fs = std::make_shared<Procfs>(kernel);
  return std::make_shared<vfs::Dentry>("", nullptr, fs->sysfs_root());
}

}  // namespace runsc::kernel
