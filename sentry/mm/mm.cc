#include "sentry/mm/mm.h"

#include <sys/sysmacros.h>

#include <fmt/core.h>

#include <algorithm>
#include <unordered_set>
#include <cstring>

#include "common/log.h"

namespace runsc::mm {
namespace {

// Pages are populated and mapped in windows this large around a fault, so
// a program walking through memory takes one fault per window, not per page.
constexpr uint64_t kFaultWindow = 64 * 1024;

bool can_read(int prot) { return (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) != 0; }

}  // namespace

// Every live address space, for forget_file_pages_everywhere().
std::mutex& live_mu() {
  static std::mutex mu;
  return mu;
}
std::unordered_set<MemoryManager*>& live() {
  static std::unordered_set<MemoryManager*> set;
  return set;
}

MemoryManager::MemoryManager(MemoryFile& memfile, std::unique_ptr<platform::AddressSpace> as)
    : memfile_(memfile), as_(std::move(as)) {
  std::lock_guard lock(live_mu());
  live().insert(this);
}

void MemoryManager::forget_file_pages_everywhere(const void* identity, uint64_t from, uint64_t to) {
  if (from >= to) return;
  // The registry's lock keeps each address space alive while it is visited.
  std::lock_guard lock(live_mu());
  for (MemoryManager* mm : live()) mm->forget_file_pages(identity, from, to);
}

void MemoryManager::forget_file_pages(const void* identity, uint64_t from, uint64_t to) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // addresses mapping [from, to) of the file
  for (const auto& [start, entry] : vmas_.ranges()) {
    const Vma& vma = entry.value;
    if (!vma.file || !vma.shared || vma.file->identity() != identity) continue;
    const uint64_t file_end = vma.file_offset + (entry.end - start);
    const uint64_t lo = std::max(from, vma.file_offset), hi = std::min(to, file_end);
    if (lo >= hi) continue;
    ranges.emplace_back(start + (lo - vma.file_offset), start + (hi - vma.file_offset));
  }
  for (auto [lo, hi] : ranges) {
    bool any_mapped = false;
    std::vector<std::pair<uint64_t, uint64_t>> to_release;
    auto it = pmas_.isolate(lo, hi);
    while (it != pmas_.end() && it->first < hi) {
      any_mapped |= it->second.value.mapped;
      to_release.emplace_back(it->second.value.memfile_offset, it->second.end - it->first);
      it = pmas_.erase(it);
    }
    if (!any_mapped) {
      for (auto [offset, len] : to_release) memfile_.release(offset, len);
      continue;
    }
    // Mapped in the host: only a thread of this address space may unmap
    // (ptrace), and the pages stay held until it has, so that no other
    // use of them shows through a stale host mapping.
    pending_unmaps_.push_back(PendingUnmap{lo, hi - lo, std::move(to_release)});
    has_pending_unmaps_.store(true);
  }
}

void MemoryManager::flush_pending_unmaps() {
  if (!has_pending_unmaps_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mu_);
  flush_pending_unmaps_locked();
}

void MemoryManager::flush_pending_unmaps_locked() {
  if (!has_pending_unmaps_.exchange(false)) return;
  for (auto& u : pending_unmaps_) {
    (void)as_->unmap(u.addr, u.length);
    for (auto [offset, len] : u.release) memfile_.release(offset, len);
  }
  pending_unmaps_.clear();
}

MemoryManager::~MemoryManager() {
  {
    std::lock_guard lock(live_mu());
    live().erase(this);
  }
  sync_shared_files_locked(0, ~uint64_t{0});
  // The stub (and its host mappings) goes with the address space.
  for (auto& u : pending_unmaps_) {
    for (auto [offset, len] : u.release) memfile_.release(offset, len);
  }
  for (auto& [start, entry] : pmas_) memfile_.release(entry.value.memfile_offset, entry.end - start);
}

Result<std::unique_ptr<MemoryManager>> MemoryManager::fork(std::unique_ptr<platform::AddressSpace> as) {
  auto child = std::make_unique<MemoryManager>(memfile_, std::move(as));
  std::lock_guard lock(mu_);
  child->vmas_ = vmas_;
  child->brk_base_ = brk_base_;
  child->brk_ = brk_;
  for (auto& [start, entry] : pmas_) {
    const uint64_t length = entry.end - start;
    const Vma* vma = vmas_.find(start);
    const bool shared = vma && vma->shared;
    memfile_.add_ref(entry.value.memfile_offset, length);
    if (!shared && !entry.value.cow) {
      // The parent keeps the page but may no longer write it in place.
      entry.value.cow = true;
      if (entry.value.mapped && vma && (vma->prot & PROT_WRITE)) {
        if (auto r = as_->protect(start, length, vma->prot & ~PROT_WRITE); !r) return Err(r.error());
      }
    }
    // Nothing is in the child's stub yet: its pages map in on fault.
    child->pmas_.insert(start, entry.end, Pma{entry.value.memfile_offset, false, !shared});
  }
  return child;
}

Result<void> MemoryManager::break_cow_locked(uint64_t page, const Vma& vma) {
  auto it = pmas_.isolate(page, page + kPageSize);
  if (it == pmas_.end() || it->first != page) return Err(EFAULT);
  Pma& p = it->second.value;
  if (!p.cow) return {};
  if (memfile_.is_shared(p.memfile_offset)) {
    auto copy = memfile_.allocate(kPageSize);
    if (!copy) return Err(copy.error());
    std::memcpy(memfile_.at(*copy), memfile_.at(p.memfile_offset), kPageSize);
    memfile_.release(p.memfile_offset, kPageSize);
    p.memfile_offset = *copy;
    p.cow = false;
    // The stub maps the old page: point it at the copy (or let it fault).
    if (p.mapped) return as_->map(page, p.memfile_offset, kPageSize, vma.prot);
    return {};
  }
  // The other side let go: the page is ours alone again.
  p.cow = false;
  if (p.mapped) return as_->protect(page, kPageSize, vma.prot);
  return {};
}

Result<uint64_t> MemoryManager::find_free_locked(uint64_t length, uint64_t hint, bool below_2g) {
  if (hint >= kMinMmapAddr && hint + length > hint && hint + length <= platform::kMaxUserAddress &&
      vmas_.is_free(hint, hint + length))
    return hint;
  // MAP_32BIT: the first 2 GiB, as x86-64 Linux places such mappings.
  if (below_2g) {
    if (auto gap = vmas_.find_gap_top_down(length, 0x40000000, 0x80000000)) return *gap;
    return Err(ENOMEM);
  }
  if (auto gap = vmas_.find_gap_top_down(length, kMinMmapAddr, kMmapBase)) return *gap;
  if (auto gap = vmas_.find_gap_top_down(length, kMmapBase, platform::kMaxUserAddress)) return *gap;
  return Err(ENOMEM);
}

Result<uint64_t> MemoryManager::mmap(const MmapRequest& req) {
  // Argument checks in the order of mm/mmap.c's do_mmap and mmap(2).
  if (req.length == 0) return Err(EINVAL);
  if (req.offset % kPageSize != 0) return Err(EINVAL);
  int type = req.flags & MAP_TYPE;
  if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) return Err(EINVAL);
  uint64_t length = page_up(req.length);
  if (length == 0 || length > platform::kMaxUserAddress) return Err(ENOMEM);
  bool anonymous = (req.flags & MAP_ANONYMOUS) != 0 || !req.file;
  if (!anonymous && req.offset + length < req.offset) return Err(EOVERFLOW);
  bool fixed = (req.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;

  std::lock_guard lock(mu_);
  flush_pending_unmaps_locked();
  uint64_t start;
  if (fixed) {
    if (req.addr % kPageSize != 0) return Err(EINVAL);
    if (req.addr + length > platform::kMaxUserAddress || req.addr + length < req.addr) return Err(ENOMEM);
    if (req.addr < kMinMmapAddr) return Err(EPERM);
    start = req.addr;
    if (!vmas_.is_free(start, start + length)) {
      if ((req.flags & MAP_FIXED) == 0) return Err(EEXIST);
      if (auto r = unmap_locked(start, start + length); !r) return Err(r.error());
    }
  } else {
    auto found = find_free_locked(length, page_down(req.addr), (req.flags & MAP_32BIT) != 0);
    if (!found) return Err(found.error());
    start = *found;
  }
  Vma vma;
  vma.prot = req.prot;
  vma.max_prot = req.max_prot;
  vma.shared = type != MAP_PRIVATE;
  vma.grows_down = (req.flags & MAP_GROWSDOWN) != 0;
  if (!anonymous) {
    vma.file = req.file;
    vma.file_offset = req.offset;
  }
  vma.name = req.name;
  vma.dev = req.dev;
  vma.ino = req.ino;
  vmas_.insert(start, start + length, std::move(vma));
  return start;
}

void MemoryManager::sync_shared_files_locked(uint64_t start, uint64_t end) {
  const void* last = nullptr;
  for (auto it = vmas_.ranges().first_ending_after(start); it != vmas_.ranges().end() && it->first < end; ++it) {
    const Vma& vma = it->second.value;
    if (!vma.file || !vma.shared || vma.file->identity() == last) continue;
    last = vma.file->identity();
    vma.file->sync();
  }
}

Result<void> MemoryManager::msync(uint64_t start, uint64_t end) {
  std::lock_guard lock(mu_);
  if (!vmas_.covered(start, end)) return Err(ENOMEM);
  sync_shared_files_locked(start, end);
  return {};
}

Result<void> MemoryManager::unmap_locked(uint64_t start, uint64_t end) {
  // What shared mappings of a cached host file stored reaches the file as
  // they go (Linux writes dirty pages back at the latest then, too).
  sync_shared_files_locked(start, end);
  vmas_.remove(start, end);
  bool any_mapped = false;
  std::vector<std::pair<uint64_t, uint64_t>> to_release;
  pmas_.remove(start, end, [&](uint64_t s, uint64_t e, const Pma& p) {
    any_mapped |= p.mapped;
    to_release.emplace_back(p.memfile_offset, e - s);
  });
  if (any_mapped) {
    if (auto r = as_->unmap(start, end - start); !r) return r;
  }
  // Only once the stub no longer maps them may the pages be reused.
  for (auto [offset, length] : to_release) memfile_.release(offset, length);
  return {};
}

Result<void> MemoryManager::munmap(uint64_t addr, uint64_t length) {
  if (addr % kPageSize != 0 || length == 0) return Err(EINVAL);
  uint64_t end = page_up(addr + length);
  // do_vmi_munmap(): a range past TASK_SIZE (the last page below 2^47,
  // two pages above kMaxUserAddress) is EINVAL.
  if (end < addr || end > platform::kMaxUserAddress + kPageSize * 2) return Err(EINVAL);
  // Nothing of the application's lies above kMaxUserAddress (the platform's
  // own pages do, the stub's code): what the host is asked to unmap stops there.
  end = std::min(end, platform::kMaxUserAddress);
  if (addr >= end) return {};
  std::lock_guard lock(mu_);
  flush_pending_unmaps_locked();
  return unmap_locked(addr, end);
}

Result<void> MemoryManager::mprotect(uint64_t addr, uint64_t length, int prot) {
  if (addr % kPageSize != 0) return Err(EINVAL);
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) != 0) return Err(EINVAL);
  prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
  if (length == 0) return {};
  uint64_t end = page_up(addr + length);
  if (end <= addr) return Err(ENOMEM);
  std::lock_guard lock(mu_);
  flush_pending_unmaps_locked();
  if (auto r = vmas_.protect(addr, end, prot); !r) return r;
  // Re-protect what the stub already maps, in runs of adjacent mapped pmas.
  auto it = pmas_.isolate(addr, end);
  uint64_t run_start = 0, run_end = 0;
  bool run_cow = false;
  auto flush = [&]() -> Result<void> {
    if (run_end > run_start) {
      // Copy-on-write pages stay read-only until their first write.
      auto r = as_->protect(run_start, run_end - run_start, run_cow ? prot & ~PROT_WRITE : prot);
      run_start = run_end = 0;
      return r;
    }
    return {};
  };
  for (; it != pmas_.end() && it->first < end; ++it) {
    if (!it->second.value.mapped) continue;
    if (run_end != it->first || run_cow != it->second.value.cow) {
      if (auto r = flush(); !r) return r;
      run_start = it->first;
      run_cow = it->second.value.cow;
    }
    run_end = it->second.end;
  }
  return flush();
}

Result<uint64_t> MemoryManager::mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags,
                                       uint64_t new_addr) {
  if (old_addr % kPageSize != 0) return Err(EINVAL);
  if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) != 0) return Err(EINVAL);
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) return Err(EINVAL);
  old_len = page_up(old_len);
  new_len = page_up(new_len);
  if (new_len == 0) return Err(EINVAL);
  if (new_len > platform::kMaxUserAddress) return Err(ENOMEM);

  std::lock_guard lock(mu_);
  flush_pending_unmaps_locked();
  auto vit = vmas_.ranges().find(old_addr);
  if (vit == vmas_.ranges().end()) return Err(EFAULT);
  // Duplicating a mapping with old_len == 0 is only for shared ones.
  if (old_len == 0) return Err(EINVAL);
  if (old_addr + old_len > vit->second.end) return Err(EFAULT);
  Vma vma = vit->second.value.slice(old_addr - vit->first);

  auto move_to = [&](uint64_t dest) -> Result<uint64_t> {
    uint64_t keep = std::min(old_len, new_len);
    // Carry the populated pages over (the stub maps them afresh on fault)
    // and free those past the new length.
    struct Piece {
      uint64_t rel_start, rel_end, memfile_offset;
      bool cow;
    };
    std::vector<Piece> moved;
    std::vector<std::pair<uint64_t, uint64_t>> dropped;
    bool any_mapped = false;
    pmas_.remove(old_addr, old_addr + old_len, [&](uint64_t s, uint64_t e, const Pma& p) {
      any_mapped |= p.mapped;
      uint64_t kept_end = std::min(e, old_addr + keep);
      if (s < kept_end) {
        moved.push_back({s - old_addr, kept_end - old_addr, p.memfile_offset, p.cow});
        if (kept_end < e) dropped.emplace_back(p.memfile_offset + (kept_end - s), e - kept_end);
      } else {
        dropped.emplace_back(p.memfile_offset, e - s);
      }
    });
    vmas_.remove(old_addr, old_addr + old_len);
    if (any_mapped) {
      if (auto r = as_->unmap(old_addr, old_len); !r) return Err(r.error());
    }
    vmas_.insert(dest, dest + new_len, vma);
    for (const Piece& piece : moved)
      pmas_.insert(dest + piece.rel_start, dest + piece.rel_end, Pma{piece.memfile_offset, false, piece.cow});
    for (auto [offset, length] : dropped) memfile_.release(offset, length);
    return dest;
  };

  if (flags & MREMAP_FIXED) {
    if (new_addr % kPageSize != 0) return Err(EINVAL);
    if (new_addr + new_len > platform::kMaxUserAddress || new_addr < kMinMmapAddr) return Err(EINVAL);
    if (new_addr < old_addr + old_len && old_addr < new_addr + new_len) return Err(EINVAL);
    if (auto r = unmap_locked(new_addr, new_addr + new_len); !r) return Err(r.error());
    return move_to(new_addr);
  }
  if (new_len <= old_len) {
    if (new_len < old_len) {
      if (auto r = unmap_locked(old_addr + new_len, old_addr + old_len); !r) return Err(r.error());
    }
    return old_addr;
  }
  uint64_t old_end = old_addr + old_len;
  uint64_t grown_end = old_addr + new_len;
  if (old_end == vit->second.end && grown_end <= platform::kMaxUserAddress && vmas_.is_free(old_end, grown_end)) {
    vmas_.insert(old_end, grown_end, vma.slice(old_len));
    return old_addr;
  }
  if (!(flags & MREMAP_MAYMOVE)) return Err(ENOMEM);
  auto dest = find_free_locked(new_len, 0, false);
  if (!dest) return Err(dest.error());
  return move_to(*dest);
}

void MemoryManager::set_brk_base(uint64_t base) {
  std::lock_guard lock(mu_);
  brk_base_ = brk_ = base;
}

uint64_t MemoryManager::brk(uint64_t addr) {
  std::lock_guard lock(mu_);
  flush_pending_unmaps_locked();
  if (addr < brk_base_) return brk_;
  uint64_t cur_end = page_up(brk_);
  uint64_t new_end = page_up(addr);
  if (new_end > cur_end) {
    if (new_end > kMmapBase - kStackSize || !vmas_.is_free(cur_end, new_end)) return brk_;
    Vma heap;
    heap.prot = PROT_READ | PROT_WRITE;
    heap.name = "[heap]";
    vmas_.insert(cur_end, new_end, std::move(heap));
  } else if (new_end < cur_end) {
    if (!unmap_locked(new_end, cur_end)) return brk_;
  }
  brk_ = addr;
  return brk_;
}

Result<void> MemoryManager::madvise(uint64_t addr, uint64_t length, int advice) {
  if (addr % kPageSize != 0) return Err(EINVAL);
  uint64_t end = page_up(addr + length);
  if (end < addr) return Err(EINVAL);
  switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTFORK: case MADV_DOFORK: case MADV_MERGEABLE: case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP:
    case MADV_WIPEONFORK: case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT:
      break;
    case MADV_DONTNEED:
    case MADV_FREE: {
      std::lock_guard lock(mu_);
      if (!vmas_.covered(addr, end)) return Err(ENOMEM);
      // Private pages are dropped: the next touch sees zeroes (anonymous) or
      // the file's contents again. Shared pages keep their contents.
      std::vector<std::pair<uint64_t, uint64_t>> to_release;
      bool any_mapped = false;
      auto it = pmas_.isolate(addr, end);
      while (it != pmas_.end() && it->first < end) {
        const Vma* vma = vmas_.find(it->first);
        any_mapped |= it->second.value.mapped;
        if (vma && !vma->shared) {
          to_release.emplace_back(it->second.value.memfile_offset, it->second.end - it->first);
          it = pmas_.erase(it);
        } else {
          it->second.value.mapped = false;
          ++it;
        }
      }
      if (any_mapped) {
        if (auto r = as_->unmap(addr, end - addr); !r) return r;
      }
      for (auto [offset, len] : to_release) memfile_.release(offset, len);
      return {};
    }
    default:
      return Err(EINVAL);
  }
  std::lock_guard lock(mu_);
  if (!vmas_.covered(addr, end)) return Err(ENOMEM);
  return {};
}

Result<void> MemoryManager::populate_locked(uint64_t start, uint64_t end, const Vma& vma, uint64_t vma_start) {
  uint64_t cursor = start;
  while (cursor < end) {
    auto it = pmas_.first_ending_after(cursor);
    uint64_t gap_end = (it == pmas_.end()) ? end : std::min(end, it->first);
    if (it != pmas_.end() && it->first <= cursor) {
      cursor = it->second.end;
      continue;
    }
    uint64_t gap_len = gap_end - cursor;
    if (vma.file && vma.shared) {
      // A shared mapping of a file whose pages live in the memory file
      // (tmpfs) maps those very pages, so that stores reach the file.
      bool own_pages = true;
      for (uint64_t page = cursor; page < gap_end; page += kPageSize) {
        auto file_page = vma.file->shared_page(vma.file_offset + (page - vma_start));
        if (!file_page) {
          if (file_page.error() == ENODEV) {
            own_pages = false;  // decided by the file's kind: nothing was inserted
            break;
          }
          // Past the end of the file: those pages stay unpopulated, and an
          // access to them raises SIGBUS (mmap(2)).
          if (file_page.error() == EFAULT) return {};
          return Err(file_page.error());
        }
        pmas_.insert(page, page + kPageSize, Pma{*file_page, false});
      }
      if (own_pages) {
        cursor = gap_end;
        continue;
      }
    }
    auto offset = memfile_.allocate(gap_len);
    if (!offset) return Err(offset.error());
    if (vma.file) {
      // A private copy of the file's bytes; past EOF stays zero.
      uint64_t file_off = vma.file_offset + (cursor - vma_start);
      auto got = vma.file->read_at(file_off, std::span<uint8_t>(memfile_.at(*offset), gap_len));
      if (!got) {
        memfile_.release(*offset, gap_len);
        return Err(got.error());
      }
    }
    pmas_.insert(cursor, gap_end, Pma{*offset, false});
    cursor = gap_end;
  }
  return {};
}

bool MemoryManager::has_vma(uint64_t addr) {
  std::lock_guard lock(mu_);
  return vmas_.find(addr) != nullptr;
}

Result<std::optional<uint64_t>> MemoryManager::shared_offset(uint64_t addr) {
  std::lock_guard lock(mu_);
  auto page = page_for_access_locked(addr, false);
  if (!page) return Err(page.error());
  const Vma* vma = vmas_.find(addr);
  if (!vma || !vma->shared) return std::optional<uint64_t>{};
  return std::optional<uint64_t>{static_cast<uint64_t>(*page - memfile_.at(0))};
}

Result<uint32_t> MemoryManager::compare_exchange32(uint64_t addr, uint32_t expected, uint32_t desired) {
  if (addr % 4 != 0) return Err(EINVAL);
  std::lock_guard lock(mu_);
  auto page = page_for_access_locked(addr, true);
  if (!page) return Err(page.error());
  auto* word = reinterpret_cast<uint32_t*>(*page);
  __atomic_compare_exchange_n(word, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;  // the old value, whether or not it was replaced
}

uint64_t MemoryManager::resident_bytes() {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const auto& [start, entry] : pmas_) total += entry.end - start;
  return total;
}

int MemoryManager::vma_prot(uint64_t addr) {
  std::lock_guard lock(mu_);
  const Vma* v = vmas_.find(addr);
  return v ? v->prot : -1;
}

Result<void> MemoryManager::handle_fault(uint64_t addr) {
  std::lock_guard lock(mu_);
  flush_pending_unmaps_locked();
  auto vit = vmas_.ranges().find(addr);
  if (vit == vmas_.ranges().end()) return Err(EFAULT);
  const Vma& vma = vit->second.value;
  if (vma.prot == PROT_NONE) return Err(EFAULT);
  auto pit = pmas_.find(addr);
  // A copy-on-write page mapped read-only in a writable VMA: the fault was
  // a write; it gets its own copy now.
  if (pit != pmas_.end() && pit->second.value.mapped && pit->second.value.cow && (vma.prot & PROT_WRITE)) {
    return break_cow_locked(page_down(addr), vma);
  }
  // Mapped already with the VMA's permissions: either the access itself is
  // wrong, or another thread mapped the page after this fault was raised.
  // EAGAIN lets the caller retry once before calling it a violation.
  if (pit != pmas_.end() && pit->second.value.mapped) return Err(EAGAIN);
  uint64_t win_start = std::max(vit->first, addr & ~(kFaultWindow - 1));
  uint64_t win_end = std::min(vit->second.end, (addr & ~(kFaultWindow - 1)) + kFaultWindow);
  auto populated = populate_locked(win_start, win_end, vma, vit->first);
  if (!populated && populated.error() == ENOMEM && win_end - win_start > kPageSize) {
    // Near the memory limit the window shrinks to the faulting page, so
    // the OOM kill comes only when that one page cannot be had.
    win_start = page_down(addr);
    win_end = win_start + kPageSize;
    populated = populate_locked(win_start, win_end, vma, vit->first);
  }
  if (!populated) return populated;
  // A shared file mapping past the file's end has no page: EIO tells the
  // task to raise SIGBUS.
  if (pmas_.find(addr) == pmas_.end()) return Err(EIO);
  // Map every unmapped pma touching the window, joining runs whose
  // memory-file pages are contiguous into one host mmap.
  uint64_t run_start = 0, run_end = 0, run_off = 0;
  bool run_cow = false;
  auto flush = [&]() -> Result<void> {
    if (run_end > run_start) {
      // Copy-on-write pages go in read-only; a write faults again and copies.
      auto r = as_->map(run_start, run_off, run_end - run_start, run_cow ? vma.prot & ~PROT_WRITE : vma.prot);
      run_start = run_end = 0;
      return r;
    }
    return {};
  };
  for (auto it = pmas_.first_ending_after(win_start); it != pmas_.end() && it->first < win_end; ++it) {
    Pma& p = it->second.value;
    if (p.mapped) continue;
    if (it->first < vit->first || it->second.end > vit->second.end) continue;  // never across VMAs
    bool extends =
        run_end == it->first && run_off + (run_end - run_start) == p.memfile_offset && run_cow == p.cow;
    if (!extends) {
      if (auto r = flush(); !r) return r;
      run_start = it->first;
      run_off = p.memfile_offset;
      run_cow = p.cow;
    }
    run_end = it->second.end;
    p.mapped = true;
  }
  return flush();
}

// Finds the Sentry-side bytes for application address `addr`, populating
// the page if needed: returns a pointer and how many bytes from it are
// contiguous (same VMA, same pma).
static_assert(kFaultWindow % kPageSize == 0);

Result<uint8_t*> MemoryManager::page_for_access_locked(uint64_t addr, bool write) {
  auto vit = vmas_.ranges().find(addr);
  if (vit == vmas_.ranges().end()) return Err(EFAULT);
  const Vma& vma = vit->second.value;
  if (write ? !(vma.prot & PROT_WRITE) : !can_read(vma.prot)) return Err(EFAULT);
  auto pit = pmas_.find(addr);
  if (pit == pmas_.end()) {
    uint64_t win_start = std::max(vit->first, addr & ~(kFaultWindow - 1));
    uint64_t win_end = std::min(vit->second.end, (addr & ~(kFaultWindow - 1)) + kFaultWindow);
    if (auto r = populate_locked(win_start, win_end, vma, vit->first); !r) return Err(r.error());
    pit = pmas_.find(addr);
    if (pit == pmas_.end()) return Err(EFAULT);  // past the end of a shared file mapping
  }
  // The Sentry writing into a copy-on-write page (read(2) into a buffer,
  // a futex word) copies it first, as a store by the application would.
  if (write && pit->second.value.cow) {
    if (auto r = break_cow_locked(page_down(addr), vma); !r) return Err(r.error());
    pit = pmas_.find(addr);
  }
  return memfile_.at(pit->second.value.memfile_offset + (addr - pit->first));
}

Result<std::vector<iovec>> MemoryManager::io_spans(uint64_t addr, size_t length, bool write) {
  std::vector<iovec> spans;
  if (length == 0) return spans;
  if (addr + length < addr) return Err(EFAULT);
  std::lock_guard lock(mu_);
  uint64_t cursor = addr;
  uint64_t end = addr + length;
  while (cursor < end) {
    auto p = page_for_access_locked(cursor, write);
    if (!p) return Err(p.error());
    auto pit = pmas_.find(cursor);
    auto vit = vmas_.ranges().find(cursor);
    uint64_t chunk_end = std::min({end, pit->second.end, vit->second.end});
    size_t n = chunk_end - cursor;
    if (!spans.empty() && static_cast<uint8_t*>(spans.back().iov_base) + spans.back().iov_len == *p)
      spans.back().iov_len += n;
    else
      spans.push_back(iovec{*p, n});
    cursor = chunk_end;
  }
  return spans;
}

Result<void> MemoryManager::copy_out(uint64_t addr, const void* src, size_t length) {
  auto spans = io_spans(addr, length, /*write=*/true);
  if (!spans) return Err(spans.error());
  const uint8_t* from = static_cast<const uint8_t*>(src);
  for (const iovec& v : *spans) {
    std::memcpy(v.iov_base, from, v.iov_len);
    from += v.iov_len;
  }
  return {};
}

Result<void> MemoryManager::copy_in(uint64_t addr, void* dst, size_t length) {
  auto spans = io_spans(addr, length, /*write=*/false);
  if (!spans) return Err(spans.error());
  uint8_t* to = static_cast<uint8_t*>(dst);
  for (const iovec& v : *spans) {
    std::memcpy(to, v.iov_base, v.iov_len);
    to += v.iov_len;
  }
  return {};
}

Result<std::string> MemoryManager::copy_in_string(uint64_t addr, size_t max) {
  std::string out;
  std::lock_guard lock(mu_);
  uint64_t cursor = addr;
  while (out.size() < max) {
    auto p = page_for_access_locked(cursor, false);
    if (!p) return Err(p.error());
    uint64_t page_end = page_down(cursor) + kPageSize;
    size_t avail = std::min<uint64_t>(page_end - cursor, max - out.size());
    const void* nul = std::memchr(*p, 0, avail);
    if (nul) {
      out.append(reinterpret_cast<const char*>(*p), static_cast<const uint8_t*>(nul) - *p);
      return out;
    }
    out.append(reinterpret_cast<const char*>(*p), avail);
    cursor += avail;
  }
  return Err(ENAMETOOLONG);
}

std::string MemoryManager::describe_maps() {
  std::lock_guard lock(mu_);
  std::string out;
  for (auto& [start, entry] : vmas_.ranges()) {
    const Vma& v = entry.value;
    // proc(5): "address perms offset dev inode pathname", dev as major:minor in hex.
    out += fmt::format("{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} {}{}\n", start, entry.end,
                       (v.prot & PROT_READ) ? 'r' : '-', (v.prot & PROT_WRITE) ? 'w' : '-',
                       (v.prot & PROT_EXEC) ? 'x' : '-', v.shared ? 's' : 'p', v.file ? v.file_offset : 0,
                       v.file ? major(v.dev) : 0, v.file ? minor(v.dev) : 0, v.file ? v.ino : 0,
                       v.name.empty() ? "" : "                          ", v.name);
  }
  // The legacy vsyscall page, present in every 64-bit process and only
  // executable (Linux's vsyscall=xonly); calls into it are emulated
  // (Task::emulate_vsyscall).
  out += "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
  return out;
}

}  // namespace runsc::mm
