// Memory syscalls: mmap, munmap, mprotect, mremap, brk, madvise.
#include <sys/mman.h>
#include <sys/syscall.h>

#include "syscalls/util.h"

namespace runsc::syscalls {
namespace {

using kernel::Arg;

Result<uint64_t> sys_mmap(Task& t, const SyscallArgs& a) {
  mm::MmapRequest req;
  req.addr = a.u(0);
  req.length = a.u(1);
  req.prot = a.i(2);
  req.flags = a.i(3);
  req.offset = a.u(5);
  if (req.prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) return Err(EINVAL);
  req.prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
  if (!(req.flags & MAP_ANONYMOUS)) {
    auto f = get_file(t, a.i(4));
    if (!f) return Err(f.error());
    // mmap(2): EACCES unless the file is open for reading, and for
    // MAP_SHARED with PROT_WRITE also for writing.
    if (!(*f)->readable() || (*f)->flags() & O_PATH) return Err(EACCES);
    int type = req.flags & MAP_TYPE;
    if (type != MAP_PRIVATE && (req.prot & PROT_WRITE) && !(*f)->writable()) return Err(EACCES);
    auto st = (*f)->stat();
    if (st && S_ISDIR(st->st_mode)) return Err(ENODEV);
    req.file = (*f)->mappable();
    if (!req.file) return Err(ENODEV);
    if (type != MAP_PRIVATE && !(*f)->writable()) req.max_prot &= ~PROT_WRITE;
    if ((*f)->dentry()) {
      req.name = (*f)->dentry()->path();
      if (auto fst = (*f)->dentry()->inode().stat()) req.dev = fst->st_dev, req.ino = fst->st_ino;
    }
  }
  return t.mm().mmap(req);
}

Result<uint64_t> sys_munmap(Task& t, const SyscallArgs& a) {
  if (auto r = t.mm().munmap(a.u(0), a.u(1)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_mprotect(Task& t, const SyscallArgs& a) {
  if (auto r = t.mm().mprotect(a.u(0), a.u(1), a.i(2)); !r) return Err(r.error());
  return ok();
}

Result<uint64_t> sys_mremap(Task& t, const SyscallArgs& a) {
  return t.mm().mremap(a.u(0), a.u(1), a.u(2), a.i(3), a.u(4));
}

Result<uint64_t> sys_brk(Task& t, const SyscallArgs& a) { return t.mm().brk(a.u(0)); }

Result<uint64_t> sys_madvise(Task& t, const SyscallArgs& a) {
  if (auto r = t.mm().madvise(a.u(0), a.u(1), a.i(2)); !r) return Err(r.error());
  return ok();
}

// msync(2): shared mappings of tmpfs files write into the file's own
// pages; those of host files write into cached pages, which go back to
// the host file now.
Result<uint64_t> sys_msync(Task& t, const SyscallArgs& a) {
  const uint64_t addr = a.u(0), length = a.u(1);
  const int flags = a.i(2);
  if (addr % 4096 != 0) return Err(EINVAL);
  if (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) return Err(EINVAL);
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return Err(EINVAL);
  const uint64_t end = addr + ((length + 4095) & ~uint64_t{4095});
  if (end < addr) return Err(ENOMEM);
  if (end > addr) {
    if (auto r = t.mm().msync(addr, end); !r) return Err(r.error());
  }
  return ok();
}

}  // namespace

void register_mmap(kernel::SyscallTable& tb) {
  using A = Arg;
  tb.set(SYS_mmap, "mmap", sys_mmap, {A::kHex, A::kInt, A::kHex, A::kHex, A::kFd, A::kHex});
  tb.set(SYS_munmap, "munmap", sys_munmap, {A::kHex, A::kInt});
  tb.set(SYS_mprotect, "mprotect", sys_mprotect, {A::kHex, A::kInt, A::kHex});
  tb.set(SYS_mremap, "mremap", sys_mremap, {A::kHex, A::kInt, A::kInt, A::kHex, A::kHex});
  tb.set(SYS_brk, "brk", sys_brk, {A::kHex});
  tb.set(SYS_madvise, "madvise", sys_madvise, {A::kHex, A::kInt, A::kInt});
  tb.set(SYS_msync, "msync", sys_msync, {A::kHex, A::kInt, A::kHex});
}

}  // namespace runsc::syscalls
