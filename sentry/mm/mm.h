// MemoryManager: one application address space as the Sentry sees it.
// VMAs record what the application asked for; "pmas" record which of those
// pages have memory-file pages behind them, and whether those are mapped
// into the platform's address space yet. Pages are populated and mapped
// lazily, on the application's faults or when the Sentry touches them.
#pragma once

#include <optional>

#include <sys/uio.h>

#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/vma.h"

namespace runsc::mm {

struct Pma {
  uint64_t memfile_offset = 0;
  bool mapped = false;  // present in the platform address space (read-only while cow)
  // Private pages fork(2) left shared with another address space: they are
  // mapped read-only, and the first write gets a copy (copy-on-write).
  bool cow = false;
  Pma slice(uint64_t delta) const { return Pma{memfile_offset + delta, mapped, cow}; }
};

struct MmapRequest {
  uint64_t addr = 0;
  uint64_t length = 0;
  int prot = PROT_NONE;
  int flags = 0;  // MAP_*
  std::shared_ptr<Mappable> file;
  uint64_t offset = 0;
  int max_prot = PROT_READ | PROT_WRITE | PROT_EXEC;
  std::string name;
  uint64_t dev = 0, ino = 0;  // the file's device and inode numbers
};

// Layout constants. Without ASLR for now: the same places each run, like
// Linux with randomize_va_space=0.
constexpr uint64_t kStackTop = 0x7ffffffde000;
constexpr uint64_t kStackSize = 8 << 20;  // RLIMIT_STACK's default
constexpr uint64_t kMmapBase = 0x7ffff7fff000;
constexpr uint64_t kMinMmapAddr = 0x10000;  // vm.mmap_min_addr

class MemoryManager {
 public:
  MemoryManager(MemoryFile& memfile, std::unique_ptr<platform::AddressSpace> as);
  ~MemoryManager();
  MemoryManager(const MemoryManager&) = delete;
  MemoryManager& operator=(const MemoryManager&) = delete;

  platform::AddressSpace& address_space() { return *as_; }

  // A file took pages back (truncate(2) shrinking it, fallocate(2)
  // punching a hole): every shared mapping of file `identity`
  // (Mappable::identity()) in every address space drops its pages at file
  // offsets [from, to), so the next touch maps what the file has then or,
  // past its end, raises SIGBUS (mmap(2)). Call without the file's locks:
  // the fault path takes them under an address space's.
  static void forget_file_pages_everywhere(const void* identity, uint64_t from, uint64_t to);
  // Applies the host unmaps that forget_file_pages_everywhere queued here
  // from another thread; a task calls it before running application code.
  void flush_pending_unmaps();

  // fork(2): a copy of this address space on `as`. Private pages are
  // shared copy-on-write (both sides map them read-only until one writes);
  // MAP_SHARED pages are shared.
  Result<std::unique_ptr<MemoryManager>> fork(std::unique_ptr<platform::AddressSpace> as);

  Result<uint64_t> mmap(const MmapRequest& req);
  Result<void> munmap(uint64_t addr, uint64_t length);
  Result<void> mprotect(uint64_t addr, uint64_t length, int prot);
  Result<uint64_t> mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr);
  // brk(2): returns the new break, or the old one when it cannot move.
  uint64_t brk(uint64_t addr);
  void set_brk_base(uint64_t base);
  // What execve(2) left: where argv and envp strings are, and the
  // executable's path (/proc/pid/cmdline, environ, exe).
  struct ImageInfo {
    uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
    std::string exe;
  };
  void set_image(ImageInfo info) {
    std::lock_guard lock(mu_);
    image_ = std::move(info);
  }
  ImageInfo image() {
    std::lock_guard lock(mu_);
    return image_;
  }
  Result<void> madvise(uint64_t addr, uint64_t length, int advice);
  // msync(2) of [start, end): ENOMEM unless wholly mapped; shared file
  // mappings there write back what they stored (Mappable::sync).
  Result<void> msync(uint64_t start, uint64_t end);
  // Whether [start, end) is wholly mapped (msync(2), mlock(2) ENOMEM).
  bool covered(uint64_t start, uint64_t end) {
    std::lock_guard lock(mu_);
    return vmas_.covered(start, end);
  }

  // An application fault at `addr`. Ok when the page is now mapped and the
  // application may retry; EFAULT when the access is a real violation;
  // EAGAIN when the page was mapped already (by another thread racing with
  // this fault, or the access is a violation: retrying tells which).
  Result<void> handle_fault(uint64_t addr);
  // Whether a VMA covers `addr` (SIGSEGV's si_code: ACCERR, not MAPERR).
  bool has_vma(uint64_t addr);
  // For a shared futex: the memory-file offset behind `addr` when it lies in
  // a MAP_SHARED mapping (the same for every process mapping it), or
  // nullopt for private memory. EFAULT for an unreadable address.
  Result<std::optional<uint64_t>> shared_offset(uint64_t addr);
  // An atomic compare-and-exchange of the 32-bit word at `addr` (aligned),
  // seen by the application's threads as their own atomics are, since the
  // Sentry's view of the page is the same memory. Returns the old value;
  // EFAULT if the word is not writable.
  Result<uint32_t> compare_exchange32(uint64_t addr, uint32_t expected, uint32_t desired);
  // Bytes of application memory with memory-file pages behind them.
  uint64_t resident_bytes();
  // The protection of the VMA covering `addr`, or -1.
  int vma_prot(uint64_t addr);

  // Sentry access to application memory, with the VMA's permissions
  // checked: EFAULT for any byte the application could not access itself.
  Result<void> copy_out(uint64_t addr, const void* src, size_t length);
  Result<void> copy_in(uint64_t addr, void* dst, size_t length);
  // A NUL-terminated string of at most `max` bytes (ENAMETOOLONG beyond).
  Result<std::string> copy_in_string(uint64_t addr, size_t max);
  // Sentry-side iovecs covering [addr, addr+length) for direct I/O.
  Result<std::vector<iovec>> io_spans(uint64_t addr, size_t length, bool write);

  // "start-end perms offset name" lines, as /proc/pid/maps.
  std::string describe_maps();

 private:
  Result<void> unmap_locked(uint64_t start, uint64_t end);
  // Mappable::sync() of every shared file mapping in [start, end).
  void sync_shared_files_locked(uint64_t start, uint64_t end);
  // Gives the copy-on-write page at `page` its own copy (or takes it
  // back when nobody else holds it) and maps it writable.
  Result<void> break_cow_locked(uint64_t page, const Vma& vma);
  Result<void> populate_locked(uint64_t start, uint64_t end, const Vma& vma, uint64_t vma_start);
  Result<uint8_t*> page_for_access_locked(uint64_t addr, bool write);
  Result<uint64_t> find_free_locked(uint64_t length, uint64_t hint, bool below_2g);

  MemoryFile& memfile_;
  std::unique_ptr<platform::AddressSpace> as_;
  std::mutex mu_;
  void forget_file_pages(const void* identity, uint64_t from, uint64_t to);
  void flush_pending_unmaps_locked();
  struct PendingUnmap {
    uint64_t addr = 0, length = 0;
    std::vector<std::pair<uint64_t, uint64_t>> release;  // memory-file ranges to let go of after
  };
  std::vector<PendingUnmap> pending_unmaps_;  // guarded by mu_
  std::atomic<bool> has_pending_unmaps_{false};
  VmaSet vmas_;
  RangeMap<Pma> pmas_;
  uint64_t brk_base_ = 0;
  ImageInfo image_;
  uint64_t brk_ = 0;
};

}  // namespace runsc::mm
