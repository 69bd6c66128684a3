// Advisory locks: flock(2) and fcntl(2)'s record locks (F_GETLK,
// F_SETLK, F_SETLKW and the F_OFD_* variants). A blocked locker waits
// interruptibly and retries whenever a lock on the file is dropped.
#include <sys/file.h>
#include <sys/syscall.h>

#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

// Retries `attempt` until it stops failing with `busy`, sleeping between
// tries until a lock on the file is dropped or a signal arrives (EINTR).
Result<void> wait_for_lock(Task& t, vfs::FileLocks& locks, int busy, const std::function<Result<void>()>& attempt) {
  for (;;) {
    auto r = attempt();
    if (r || r.error() != busy) return r;
    const uint64_t waker = locks.add_waker([&t] { t.wake(); });
    r = attempt();  // a lock dropped between the try and the registration
    if (r || r.error() != busy) {
      locks.remove_waker(waker);
      return r;
    }
    const int woke = t.block();
    locks.remove_waker(waker);
    if (woke == EINTR) return Err(EINTR);
  }
}

Result<uint64_t> sys_flock(Task& t, const SyscallArgs& a) {
  auto f = get_file(t, a.i(0));
  if (!f) return Err(f.error());
  const int op = a.i(1);
  const int kind = op & ~LOCK_NB;
  if (kind != LOCK_SH && kind != LOCK_EX && kind != LOCK_UN) return Err(EINVAL);
  if ((*f)->flags() & O_PATH) return Err(EBADF);
  // A file with no name in the sandbox (a pipe, the sandbox's stdio) has
  // no other opener to contend with.
  if (!(*f)->dentry()) return ok();
  vfs::FileLocks& locks = (*f)->dentry()->inode().locks();
  const void* owner = f->get();
  if (kind == LOCK_UN) {
    locks.flock_unlock(owner);
    return ok();
  }
  auto attempt = [&]() { return locks.try_flock(owner, kind == LOCK_EX); };
  auto r = (op & LOCK_NB) ? attempt() : wait_for_lock(t, locks, EWOULDBLOCK, attempt);
  if (!r) return Err(r.error());
  return ok();
}

}  // namespace

Result<uint64_t> fcntl_lock(Task& t, int fd, int cmd, uint64_t arg) {
  auto f = get_file(t, fd);
  if (!f) return Err(f.error());
  if ((*f)->flags() & O_PATH) return Err(EBADF);
  struct flock fl;
  if (auto r = t.mm().copy_in(arg, &fl, sizeof(fl)); !r) return Err(r.error());
  const bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
  const bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
  const bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
  if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK) return Err(EINVAL);
  if (get && fl.l_type == F_UNLCK) return Err(EINVAL);
  // F_OFD_* need l_pid 0 (fcntl(2)).
  if (ofd && fl.l_pid != 0) return Err(EINVAL);
  if (!get) {
    if (fl.l_type == F_RDLCK && !(*f)->readable()) return Err(EBADF);
    if (fl.l_type == F_WRLCK && !(*f)->writable()) return Err(EBADF);
  }
  // The range: l_start from l_whence, l_len bytes (0: to the end of the
  // file, whatever it grows to; negative: the bytes before l_start).
  int64_t base = 0;
  switch (fl.l_whence) {
    case SEEK_SET: break;
    case SEEK_CUR: {
      auto pos = (*f)->seek(0, SEEK_CUR);
      if (!pos) return Err(pos.error());
      base = *pos;
      break;
    }
    case SEEK_END: {
      auto st = (*f)->stat();
      if (!st) return Err(st.error());
      base = st->st_size;
      break;
    }
    default: return Err(EINVAL);
  }
  int64_t start;
  if (__builtin_add_overflow(base, static_cast<int64_t>(fl.l_start), &start)) return Err(EOVERFLOW);
  uint64_t end = vfs::kLockToEnd;
  if (fl.l_len > 0) {
    int64_t e;
    if (__builtin_add_overflow(start, static_cast<int64_t>(fl.l_len), &e)) return Err(EOVERFLOW);
    end = static_cast<uint64_t>(e);
  } else if (fl.l_len < 0) {
    end = static_cast<uint64_t>(start);
    start += fl.l_len;
  }
  if (start < 0) return Err(EINVAL);
  // Files with no name in the sandbox (pipes, stdio) cannot be contended.
  if (!(*f)->dentry()) {
    if (get) {
      fl.l_type = F_UNLCK;
      if (auto r = t.mm().copy_out(arg, &fl, sizeof(fl)); !r) return Err(r.error());
    }
    return ok();
  }
  vfs::FileLocks& locks = (*f)->dentry()->inode().locks();
  vfs::LockOwner owner = ofd ? vfs::LockOwner{reinterpret_cast<uintptr_t>(f->get()), true, -1}
                             : vfs::LockOwner{static_cast<uintptr_t>(t.pid()), false, t.pid()};
  const bool write = fl.l_type == F_WRLCK;
  if (get) {
    auto conflict = locks.test(owner, write, static_cast<uint64_t>(start), end);
    if (!conflict) {
      fl.l_type = F_UNLCK;
    } else {
      fl.l_type = conflict->write ? F_WRLCK : F_RDLCK;
      fl.l_whence = SEEK_SET;
      fl.l_start = static_cast<off_t>(conflict->start);
      fl.l_len = conflict->end == vfs::kLockToEnd ? 0 : static_cast<off_t>(conflict->end - conflict->start);
      fl.l_pid = conflict->owner.ofd ? -1 : conflict->owner.pid;
    }
    if (auto r = t.mm().copy_out(arg, &fl, sizeof(fl)); !r) return Err(r.error());
    return ok();
  }
  auto attempt = [&]() {
    return locks.try_set(owner, write, fl.l_type == F_UNLCK, static_cast<uint64_t>(start), end);
  };
  auto r = wait ? wait_for_lock(t, locks, EAGAIN, attempt) : attempt();
  if (!r) return Err(r.error());
  return ok();
}

void release_posix_locks(Task& t, const vfs::FileDescription& file) {
  if (!file.dentry()) return;
  if (vfs::FileLocks* locks = file.dentry()->inode().existing_locks()) locks->release_process(t.pid());
}

void register_lock(kernel::SyscallTable& tb) {
  using A = kernel::Arg;
  tb.set(SYS_flock, "flock", sys_flock, {A::kFd, A::kHex});
}

}  // namespace runsc::syscalls
