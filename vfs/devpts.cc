#include "vfs/devpts.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "common/interrupt.h"
#include "common/unique_fd.h"
#include "vfs/line_discipline.h"

namespace runsc::vfs {
namespace {

std::atomic<TerminalControl*> g_terminal_control{nullptr};

constexpr unsigned kPtyMajor = 136;  // UNIX98_PTY_SLAVE_MAJOR (136-143)
constexpr unsigned kMaxPtys = 8 * 256;
constexpr long kDevptsMagic = 0x1cd1;  // DEVPTS_SUPER_MAGIC
const uint64_t kPtmxDevice = makedev(5, 2);

timespec now() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

class DevptsFs;

// One pseudo-terminal: the line discipline between its two ends, who has
// them open, and the slave node's attributes.
class Pty {
 public:
  Pty(std::shared_ptr<DevptsFs> fs, unsigned index, uint32_t uid, uint32_t gid, mode_t mode)
      : uid_(uid), gid_(gid), mode_(mode), atime_(now()), mtime_(atime_), ctime_(atime_), fs_(std::move(fs)),
        index_(index) {}

  unsigned index() const { return index_; }
  uint64_t device() const { return makedev(kPtyMajor + index_ / 256, index_ % 256); }
  const std::shared_ptr<DevptsFs>& fs() const { return fs_; }

  std::mutex mu;
  LineDiscipline ld;           // with mu
  bool locked = true;          // TIOCSPTLCK: the slave cannot be opened
  bool master_closed = false;  // the slave is hung up
  int slaves_open = 0;         // slave descriptions alive
  bool slave_closed = false;   // every slave opened so far has closed
  uint32_t uid_, gid_;
  mode_t mode_;
  timespec atime_, mtime_, ctime_;

  // Eventfds written when anything changes: blocked readers and writers
  // and the wake FDs of tasks polling either end.
  void add_waiter(int fd) {
    std::lock_guard lock(waiters_mu_);
    waiters_.push_back(fd);
  }
  void remove_waiter(int fd) {
    std::lock_guard lock(waiters_mu_);
    if (auto it = std::find(waiters_.begin(), waiters_.end(), fd); it != waiters_.end()) waiters_.erase(it);
  }
  void notify() {
    std::lock_guard lock(waiters_mu_);
    const uint64_t one = 1;
    for (int fd : waiters_) (void)!::write(fd, &one, sizeof(one));
  }

  // Waits with `lock` (on mu) released until notify(), a signal (EINTR)
  // or `timeout_ms` (ETIMEDOUT; < 0 none). 0 when woken.
  int wait(std::unique_lock<std::mutex>& lock, int timeout_ms = -1) {
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake) return errno;
    add_waiter(wake.get());
    lock.unlock();
    const int rc = wait_fd_or_interrupt(wake.get(), POLLIN, timeout_ms);
    remove_waiter(wake.get());
    lock.lock();
    return rc;
  }

  // A write's loop (write(2)): `take(done)` moves what it can of the rest
  // and returns how many bytes (or EIO); between tries the writer waits
  // for room unless `nonblocking`; a signal or O_NONBLOCK after some bytes
  // returns that count. `lock` holds mu.
  template <class Take>
  Result<size_t> write_all(std::unique_lock<std::mutex>& lock, size_t total, bool nonblocking, Take take) {
    size_t done = 0;
    for (;;) {
      Result<size_t> n = take(done);
      if (!n) return done ? Result<size_t>(done) : n;
      done += *n;
      if (done == total) break;
      if (nonblocking) {
        if (done) break;
        return Err(EAGAIN);
      }
      notify();
      if (const int rc = wait(lock); rc != 0) {
        if (done) break;
        return Err(rc);
      }
    }
    lock.unlock();
    notify();
    return done;
  }

 private:
  std::shared_ptr<DevptsFs> fs_;
  unsigned index_;
  std::mutex waiters_mu_;
  std::vector<int> waiters_;
};

void signal_foreground(uint64_t device, const std::vector<int>& signals) {
  TerminalControl* control = g_terminal_control.load();
  if (!control) return;
  for (int signo : signals) control->signal_foreground(device, signo);
}

class DevptsFs : public std::enable_shared_from_this<DevptsFs> {
 public:
  explicit DevptsFs(const DevptsOptions& options) : options_(options), made_(now()) {}
  const DevptsOptions& options() const { return options_; }
  // When the instance was mounted: the times of its root and ptmx.
  timespec made() const { return made_; }

  // A new pty numbered with the lowest free index (ENOSPC when all are
  // taken, as Linux's devpts_new_index()).
  Result<std::shared_ptr<Pty>> make_pty(const Owner& opener) {
    std::lock_guard lock(mu_);
    unsigned index = 0;
    while (index < kMaxPtys && ptys_.count(index)) ++index;
    if (index == kMaxPtys) return Err(ENOSPC);
    auto pty = std::make_shared<Pty>(shared_from_this(), index, opener.uid, options_.gid.value_or(opener.gid),
                                     options_.mode);
    ptys_[index] = pty;
    return pty;
  }
  // The master went: /dev/pts/N with it (devpts_pty_kill()).
  void forget(unsigned index) {
    std::lock_guard lock(mu_);
    ptys_.erase(index);
  }
  std::shared_ptr<Pty> find(unsigned index) {
    std::lock_guard lock(mu_);
    auto it = ptys_.find(index);
    return it == ptys_.end() ? nullptr : it->second.lock();
  }
  std::vector<unsigned> indices() {
    std::lock_guard lock(mu_);
    std::vector<unsigned> out;
    for (const auto& [index, pty] : ptys_) out.push_back(index);
    return out;
  }
  void set_root(const std::shared_ptr<Dentry>& root) { root_ = root; }
  std::shared_ptr<Dentry> root() const { return root_.lock(); }

 private:
  DevptsOptions options_;
  timespec made_;
  std::mutex mu_;
  std::map<unsigned, std::weak_ptr<Pty>> ptys_;
  std::weak_ptr<Dentry> root_;
};

size_t total(std::span<const iovec> v) {
  size_t n = 0;
  for (const auto& e : v) n += e.iov_len;
  return n;
}

void scatter(std::span<const iovec> dst, const uint8_t* data, size_t n) {
  for (const auto& v : dst) {
    const size_t chunk = std::min(v.iov_len, n);
    std::copy_n(data, chunk, static_cast<uint8_t*>(v.iov_base));
    data += chunk;
    n -= chunk;
    if (n == 0) break;
  }
}

std::vector<uint8_t> gather(std::span<const iovec> src) {
  std::vector<uint8_t> out;
  out.reserve(total(src));
  for (const auto& v : src) {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    out.insert(out.end(), p, p + v.iov_len);
  }
  return out;
}

// The ioctls both ends share (tty_ioctl(4)): on the master they act on
// the slave's settings, which are the pty's only ones (Linux's
// tty_mode_ioctl() uses the slave for a master). nullopt: not one of them.
std::optional<Result<int64_t>> common_ioctl(Pty& pty, bool master, uint64_t cmd, uint64_t arg, UserMemory& mem) {
  std::vector<int> signals;
  {
    std::unique_lock lock(pty.mu);
    switch (cmd) {
      case TCGETS: {
        const KernelTermios t = pty.ld.termios();
        if (auto r = mem.copy_out(arg, &t, sizeof(t)); !r) return Err(r.error());
        return 0;
      }
      case TCSETS:
      case TCSETSW:
      case TCSETSF: {
        KernelTermios t;
        if (auto r = mem.copy_in(arg, &t, sizeof(t)); !r) return Err(r.error());
        // TCSETSW and TCSETSF wait for output to drain, which on a pty is
        // at once (it has no transmitter); TCSETSF also drops input.
        if (cmd == TCSETSF) pty.ld.flush_input();
        pty.ld.set_termios(t);
        break;
      }
      case TIOCGWINSZ: {
        const winsize w = pty.ld.window_size();
        if (auto r = mem.copy_out(arg, &w, sizeof(w)); !r) return Err(r.error());
        return 0;
      }
      case TIOCSWINSZ: {
        winsize w;
        if (auto r = mem.copy_in(arg, &w, sizeof(w)); !r) return Err(r.error());
        const winsize old = pty.ld.window_size();
        // A change signals the foreground process group (tty_do_resize()).
        if (std::memcmp(&old, &w, sizeof(w)) != 0) signals.push_back(SIGWINCH);
        pty.ld.set_window_size(w);
        break;
      }
      case FIONREAD: {
        // The bytes a read of this end would find.
        const int n = static_cast<int>(master ? pty.ld.output_available() : pty.ld.input_available());
        if (auto r = mem.copy_out(arg, &n, sizeof(n)); !r) return Err(r.error());
        return 0;
      }
      case TIOCOUTQ: {
        // Nothing waits to be sent on a pty: what the slave wrote is the
        // master's to read (Linux reports 0 on both ends).
        const int n = 0;
        if (auto r = mem.copy_out(arg, &n, sizeof(n)); !r) return Err(r.error());
        return 0;
      }
      case TCFLSH: {
        // A master's input is the slave's output and the other way round.
        const int which = static_cast<int>(arg);
        if (which != TCIFLUSH && which != TCOFLUSH && which != TCIOFLUSH) return Err(EINVAL);
        const bool in = which == TCIFLUSH || which == TCIOFLUSH;
        const bool out = which == TCOFLUSH || which == TCIOFLUSH;
        if (master ? out : in) pty.ld.flush_input();
        if (master ? in : out) pty.ld.flush_output();
        break;
      }
      case TCXONC:
        switch (static_cast<int>(arg)) {
          case TCOOFF:
            pty.ld.set_output_stopped(true);
            break;
          case TCOON:
            pty.ld.set_output_stopped(false);
            break;
          case TCIOFF:
          case TCION:
            break;  // would send STOP/START to the other end: nothing to do
          default:
            return Err(EINVAL);
        }
        break;
      case TCSBRK:
      case TCSBRKP:
        return 0;  // tcdrain(3)/tcsendbreak(3): nothing is ever in transit
      case TIOCGETD: {
        const int discipline = 0;  // N_TTY
        if (auto r = mem.copy_out(arg, &discipline, sizeof(discipline)); !r) return Err(r.error());
        return 0;
      }
      default:
        return std::nullopt;
    }
  }
  pty.notify();
  signal_foreground(pty.device(), signals);
  return 0;
}

// The slave end; a hung-up slave (its master gone) reads end of file and
// fails everything else with EIO (Linux's hung_up_tty_fops).
class PtySlaveDescription final : public FileDescription {
 public:
  PtySlaveDescription(std::shared_ptr<Pty> pty, int flags) : FileDescription(flags), pty_(std::move(pty)) {
    std::lock_guard lock(pty_->mu);
    ++pty_->slaves_open;
    pty_->slave_closed = false;
  }
  ~PtySlaveDescription() override {
    {
      std::lock_guard lock(pty_->mu);
      if (--pty_->slaves_open == 0) pty_->slave_closed = true;
    }
    pty_->notify();
  }

  Result<size_t> read(std::span<const iovec> dst, int64_t) override {
    const size_t want = total(dst);
    std::vector<uint8_t> buffer(want);
    std::unique_lock lock(pty_->mu);
    const KernelTermios& tio = pty_->ld.termios();
    const bool canonical = tio.lflag & ICANON;
    const uint8_t vmin = tio.cc[VMIN], vtime = tio.cc[VTIME];
    size_t got = 0;
    for (;;) {
      if (pty_->master_closed) break;  // hung up: end of file
      if (pty_->ld.input_readable()) {
        bool eof = false;
        got += pty_->ld.read_input(std::span(buffer).subspan(got), eof);
        // A canonical read returns one line (or the end of file);
        // otherwise VMIN bytes (at most what was asked) end the read.
        if (canonical || got >= std::min<size_t>(std::max<uint8_t>(vmin, 1), want)) break;
      }
      // Non-canonical, VMIN 0 and VTIME 0: whatever there is, at once.
      if (!canonical && vmin == 0 && vtime == 0) break;
      if (flags_ & O_NONBLOCK) {
        if (got) break;
        return Err(EAGAIN);
      }
      // VTIME tenths of a second: for the first byte when VMIN is 0, and
      // between bytes once one came when VMIN is not (termios(3)).
      int timeout_ms = -1;
      if (!canonical && vtime != 0 && (vmin == 0 || got > 0)) timeout_ms = vtime * 100;
      pty_->notify();  // the input read so far made room for the master
      const int rc = pty_->wait(lock, timeout_ms);
      if (rc == ETIMEDOUT) break;
      if (rc != 0) {
        if (got) break;
        return Err(rc);
      }
    }
    lock.unlock();
    pty_->notify();
    scatter(dst, buffer.data(), got);
    return got;
  }

  Result<size_t> write(std::span<const iovec> src, int64_t) override {
    const std::vector<uint8_t> data = gather(src);
    std::unique_lock lock(pty_->mu);
    // Output waits while IXON's stop character holds it; a hung-up slave
    // takes nothing (EIO).
    return pty_->write_all(lock, data.size(), flags_ & O_NONBLOCK, [&](size_t done) -> Result<size_t> {
      if (pty_->master_closed) return Err(EIO);
      if (pty_->ld.output_stopped()) return size_t{0};
      return pty_->ld.write_output(std::span(data).subspan(done));
    });
  }

  Result<int64_t> ioctl(uint64_t cmd, uint64_t arg, UserMemory& mem) override {
    {
      std::lock_guard lock(pty_->mu);
      if (pty_->master_closed) return Err(EIO);
    }
    if (auto r = common_ioctl(*pty_, false, cmd, arg, mem)) return *r;
    return Err(ENOTTY);
  }

  Result<struct stat> stat() override;
  uint64_t terminal_device() const override { return pty_->device(); }
  Result<std::shared_ptr<FileDescription>> reopen_terminal(int flags) override;
  bool sentry_pollable() const override { return true; }
  void add_poll_waiter(int fd) override { pty_->add_waiter(fd); }
  void remove_poll_waiter(int fd) override { pty_->remove_waiter(fd); }
  short readiness(short events) const override {
    std::lock_guard lock(pty_->mu);
    if (pty_->master_closed) return events | POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
    short ready = 0;
    const KernelTermios& tio = pty_->ld.termios();
    // Without VTIME a non-canonical reader is ready at VMIN bytes (n_tty_poll()).
    // A canonical end of file is readable too (a read returns 0).
    bool readable = pty_->ld.input_readable();
    if (readable && !(tio.lflag & ICANON) && tio.cc[VTIME] == 0 && tio.cc[VMIN] > 1)
      readable = pty_->ld.input_available() >= tio.cc[VMIN];
    if (readable) ready |= POLLIN | POLLRDNORM;
    if (!pty_->ld.output_full() && !pty_->ld.output_stopped()) ready |= POLLOUT | POLLWRNORM;
    return ready & (events | POLLERR | POLLHUP);
  }

 private:
  std::shared_ptr<Pty> pty_;
};

// /dev/pts/N: exists while the master is open.
class SlaveInode final : public Inode {
 public:
  explicit SlaveInode(std::shared_ptr<Pty> pty) : pty_(std::move(pty)) {}
  mode_t file_type() const override { return S_IFCHR; }
  Result<struct stat> stat() override {
    std::lock_guard lock(pty_->mu);
    struct stat st{};
    st.st_ino = pty_->index() + 3;  // devpts: root 1, ptmx 2, then the slaves
    st.st_mode = S_IFCHR | pty_->mode_;
    st.st_nlink = 1;
    st.st_uid = pty_->uid_;
    st.st_gid = pty_->gid_;
    st.st_rdev = pty_->device();
    st.st_blksize = 1024;
    st.st_atim = pty_->atime_;
    st.st_mtim = pty_->mtime_;
    st.st_ctim = pty_->ctime_;
    return st;
  }
  Result<void> setattr(const SetAttr& attr) override {
    if (attr.size) return Err(EINVAL);
    std::lock_guard lock(pty_->mu);
    if (attr.mode) pty_->mode_ = *attr.mode & 07777;
    if (attr.uid) pty_->uid_ = *attr.uid;
    if (attr.gid) pty_->gid_ = *attr.gid;
    if (attr.atime) pty_->atime_ = *attr.atime;
    if (attr.mtime) pty_->mtime_ = *attr.mtime;
    pty_->ctime_ = now();
    return {};
  }
  Result<std::shared_ptr<FileDescription>> open(int flags) override {
    {
      // A locked slave (before unlockpt(3)) and one whose master is gone
      // cannot be opened (pty(7), ptmx(4)): EIO.
      std::lock_guard lock(pty_->mu);
      if (pty_->locked || pty_->master_closed) return Err(EIO);
    }
    return std::shared_ptr<FileDescription>(
        std::make_shared<PtySlaveDescription>(pty_, flags & (O_ACCMODE | O_NONBLOCK | O_APPEND)));
  }
  bool cacheable() const override { return false; }
  const void* filesystem() const override { return pty_->fs().get(); }
  Result<struct statfs> statfs() override;

 private:
  std::shared_ptr<Pty> pty_;
};

Result<struct statfs> devpts_statfs() {
  struct statfs st{};
  st.f_type = kDevptsMagic;
  st.f_bsize = 4096;
  st.f_namelen = 255;
  return st;
}

Result<struct statfs> SlaveInode::statfs() { return devpts_statfs(); }

Result<struct stat> PtySlaveDescription::stat() { return SlaveInode(pty_).stat(); }

std::shared_ptr<Dentry> slave_dentry(const Pty& pty) {
  auto root = pty.fs()->root();
  if (!root) return nullptr;
  auto d = root->child(std::to_string(pty.index()));
  return d ? *d : nullptr;
}

Result<std::shared_ptr<FileDescription>> PtySlaveDescription::reopen_terminal(int flags) {
  SlaveInode inode(pty_);
  auto opened = inode.open(flags);
  if (opened) (*opened)->set_dentry(slave_dentry(*pty_));
  return opened;
}

class PtyMasterDescription final : public FileDescription {
 public:
  PtyMasterDescription(std::shared_ptr<Pty> pty, int flags) : FileDescription(flags), pty_(std::move(pty)) {}
  ~PtyMasterDescription() override {
    {
      std::lock_guard lock(pty_->mu);
      pty_->master_closed = true;
    }
    pty_->notify();
    if (TerminalControl* control = g_terminal_control.load()) control->hang_up(pty_->device());
    // The number is free only once the hangup is done: a new pty with it
    // must not lose its session to this one's hangup.
    pty_->fs()->forget(pty_->index());
  }

  const std::shared_ptr<Pty>& pty() const { return pty_; }

  Result<size_t> read(std::span<const iovec> dst, int64_t) override {
    std::vector<uint8_t> buffer(total(dst));
    std::unique_lock lock(pty_->mu);
    size_t got = 0;
    for (;;) {
      got = pty_->ld.read_output(buffer);
      if (got) break;
      // Every slave closed and nothing left to read: EIO, as Linux.
      if (pty_->slave_closed) return Err(EIO);
      if (flags_ & O_NONBLOCK) return Err(EAGAIN);
      if (const int rc = pty_->wait(lock); rc != 0) return Err(rc);
    }
    lock.unlock();
    pty_->notify();  // room for the slave's writers
    scatter(dst, buffer.data(), got);
    return got;
  }

  Result<size_t> write(std::span<const iovec> src, int64_t) override {
    const std::vector<uint8_t> data = gather(src);
    std::unique_lock lock(pty_->mu);
    return pty_->write_all(lock, data.size(), flags_ & O_NONBLOCK, [&](size_t done) -> Result<size_t> {
      std::vector<int> signals;
      const size_t n = pty_->ld.receive(std::span(data).subspan(done), signals);
      // Signals go out without the pty's lock (the kernel takes its own).
      if (!signals.empty()) {
        lock.unlock();
        signal_foreground(pty_->device(), signals);
        lock.lock();
      }
      return n;
    });
  }

  Result<int64_t> ioctl(uint64_t cmd, uint64_t arg, UserMemory& mem) override {
    switch (cmd) {
      case TIOCGPTN: {
        const unsigned index = pty_->index();
        if (auto r = mem.copy_out(arg, &index, sizeof(index)); !r) return Err(r.error());
        return 0;
      }
      case TIOCSPTLCK: {
        int lock_value;
        if (auto r = mem.copy_in(arg, &lock_value, sizeof(lock_value)); !r) return Err(r.error());
        std::lock_guard lock(pty_->mu);
        pty_->locked = lock_value != 0;
        return 0;
      }
      case TIOCGPTLCK: {
        int lock_value;
        {
          std::lock_guard lock(pty_->mu);
          lock_value = pty_->locked ? 1 : 0;
        }
        if (auto r = mem.copy_out(arg, &lock_value, sizeof(lock_value)); !r) return Err(r.error());
        return 0;
      }
      case TIOCSIG: {
        // The slave's foreground process group gets one of the signals
        // its ISIG characters would send; no other (pty_signal()).
        const int signo = static_cast<int>(arg);
        if (signo != SIGINT && signo != SIGQUIT && signo != SIGTSTP) return Err(EINVAL);
        signal_foreground(pty_->device(), {signo});
        return 0;
      }
      default:
        break;
    }
    if (auto r = common_ioctl(*pty_, true, cmd, arg, mem)) return *r;
    return Err(ENOTTY);
  }

  Result<struct stat> stat() override {
    // The master is /dev/ptmx to fstat(2).
    struct stat st{};
    st.st_ino = 2;
    st.st_mode = S_IFCHR | pty_->fs()->options().ptmx_mode;
    st.st_nlink = 1;
    st.st_rdev = kPtmxDevice;
    st.st_blksize = 1024;
    return st;
  }
  bool sentry_pollable() const override { return true; }
  void add_poll_waiter(int fd) override { pty_->add_waiter(fd); }
  void remove_poll_waiter(int fd) override { pty_->remove_waiter(fd); }
  short readiness(short events) const override {
    std::lock_guard lock(pty_->mu);
    short ready = 0;
    if (pty_->ld.output_available()) ready |= POLLIN | POLLRDNORM;
    if (pty_->slave_closed) ready |= POLLHUP;
    if (!pty_->ld.input_full()) ready |= POLLOUT | POLLWRNORM;
    return ready & (events | POLLERR | POLLHUP);
  }

 private:
  std::shared_ptr<Pty> pty_;
};

// /dev/pts/ptmx: each open makes a new pty.
class PtmxInode final : public Inode {
 public:
  explicit PtmxInode(std::shared_ptr<DevptsFs> fs) : fs_(std::move(fs)) {}
  mode_t file_type() const override { return S_IFCHR; }
  Result<struct stat> stat() override {
    struct stat st{};
    st.st_ino = 2;
    st.st_mode = S_IFCHR | fs_->options().ptmx_mode;
    st.st_nlink = 1;
    st.st_rdev = kPtmxDevice;
    st.st_blksize = 1024;
    st.st_atim = st.st_mtim = st.st_ctim = fs_->made();
    return st;
  }
  Result<std::shared_ptr<FileDescription>> open(int flags) override { return open_as(flags, Owner{}); }
  Result<std::shared_ptr<FileDescription>> open_as(int flags, const Owner& opener) override {
    auto pty = fs_->make_pty(opener);
    if (!pty) return Err(pty.error());
    return std::shared_ptr<FileDescription>(
        std::make_shared<PtyMasterDescription>(std::move(*pty), flags & (O_ACCMODE | O_NONBLOCK | O_APPEND)));
  }
  bool cacheable() const override { return false; }
  const void* filesystem() const override { return fs_.get(); }
  Result<struct statfs> statfs() override { return devpts_statfs(); }

 private:
  std::shared_ptr<DevptsFs> fs_;
};

class DevptsRoot final : public Inode {
 public:
  explicit DevptsRoot(std::shared_ptr<DevptsFs> fs) : fs_(std::move(fs)), ptmx_(std::make_shared<PtmxInode>(fs_)) {}
  mode_t file_type() const override { return S_IFDIR; }
  Result<struct stat> stat() override {
    struct stat st{};
    st.st_ino = 1;
    st.st_mode = S_IFDIR | 0755;
    st.st_nlink = 2;
    st.st_blksize = 4096;
    st.st_atim = st.st_mtim = st.st_ctim = fs_->made();
    return st;
  }
  Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
    if (name == "ptmx") return std::shared_ptr<Inode>(ptmx_);
    unsigned index = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
    if (ec != std::errc() || end != name.data() + name.size() || (name.size() > 1 && name[0] == '0'))
      return Err(ENOENT);
    auto pty = fs_->find(index);
    if (!pty) return Err(ENOENT);
    {
      std::lock_guard lock(pty->mu);
      if (pty->master_closed) return Err(ENOENT);
    }
    return std::shared_ptr<Inode>(std::make_shared<SlaveInode>(std::move(pty)));
  }
  Result<std::vector<DirEntry>> list() override {
    std::vector<DirEntry> out{{2, DT_CHR, "ptmx"}};
    for (unsigned index : fs_->indices()) out.push_back({index + 3, DT_CHR, std::to_string(index)});
    return out;
  }
  Result<std::shared_ptr<FileDescription>> open(int flags) override {
    return std::shared_ptr<FileDescription>(std::make_shared<DirectoryDescription>(shared_from_root(), flags));
  }
  // Nothing is cached: slaves come and go with their masters.
  bool cacheable() const override { return false; }
  const void* filesystem() const override { return fs_.get(); }
  Result<struct statfs> statfs() override { return devpts_statfs(); }
  void set_self(std::weak_ptr<DevptsRoot> self) { self_ = std::move(self); }

 private:
  std::shared_ptr<Inode> shared_from_root() const { return self_.lock(); }
  std::shared_ptr<DevptsFs> fs_;
  std::shared_ptr<PtmxInode> ptmx_;
  std::weak_ptr<DevptsRoot> self_;
};

}  // namespace

void set_terminal_control(TerminalControl* control) { g_terminal_control.store(control); }

std::shared_ptr<Dentry> make_devpts(const DevptsOptions& options) {
  auto fs = std::make_shared<DevptsFs>(options);
  auto root_inode = std::make_shared<DevptsRoot>(fs);
  root_inode->set_self(root_inode);
  auto root = std::make_shared<Dentry>("", nullptr, std::move(root_inode));
  fs->set_root(root);
  return root;
}

Result<std::shared_ptr<FileDescription>> open_pty_peer(FileDescription& master, int flags) {
  auto* m = dynamic_cast<PtyMasterDescription*>(&master);
  if (!m) return Err(ENOTTY);
  SlaveInode inode(m->pty());
  auto opened = inode.open(flags);
  if (opened) (*opened)->set_dentry(slave_dentry(*m->pty()));
  return opened;
}

std::optional<uint64_t> pty_master_peer(const FileDescription& f) {
  auto* m = dynamic_cast<const PtyMasterDescription*>(&f);
  if (!m) return std::nullopt;
  return m->pty()->device();
}

}  // namespace runsc::vfs
