// Virtual memory areas: what the application has mapped where, as the
// Sentry records it (the host stub only ever holds a subset of it).
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "sentry/mm/range_map.h"

namespace runsc::mm {

constexpr uint64_t kPageSize = 4096;
inline uint64_t page_down(uint64_t a) { return a & ~(kPageSize - 1); }
inline uint64_t page_up(uint64_t a) { return (a + kPageSize - 1) & ~(kPageSize - 1); }

// What backs a file mapping: something that can read the file's bytes.
class Mappable {
 public:
  virtual ~Mappable() = default;
  virtual Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) = 0;
  // For MAP_SHARED: the memory-file offset of the file's own page at
  // `offset`, with a reference the mapping releases; ENODEV for files
  // whose pages are not in the memory file (their shared mappings get a
  // copy), EFAULT past the end of the file.
  virtual Result<uint64_t> shared_page(uint64_t offset) {
    (void)offset;
    return Err(ENODEV);
  }
  // What the mapped file is, the same for every Mappable of it (its inode):
  // how MemoryManager::forget_file_pages_everywhere finds its mappings.
  virtual const void* identity() const { return this; }
  // Writes what shared mappings stored back to the file behind them, for
  // files whose pages are a cache of another (msync(2), munmap, exit).
  virtual void sync() {}
};

struct Vma {
  int prot = PROT_NONE;       // PROT_READ | PROT_WRITE | PROT_EXEC
  int max_prot = PROT_READ | PROT_WRITE | PROT_EXEC;
  bool shared = false;        // MAP_SHARED
  bool grows_down = false;    // MAP_GROWSDOWN / the stack
  std::shared_ptr<Mappable> file;  // null: anonymous
  uint64_t file_offset = 0;   // file offset of the VMA's start
  std::string name;           // "[heap]", "[stack]" or the file's path
  uint64_t dev = 0, ino = 0;  // the mapped file's, for /proc/pid/maps

  Vma slice(uint64_t delta) const {
    Vma v = *this;
    if (v.file) v.file_offset += delta;
    return v;
  }
};

// Linux merges neighbouring VMAs that would behave identically
// (mm/mmap.c: same flags, same file, contiguous file offsets).
bool vmas_mergeable(uint64_t left_start, uint64_t left_end, const Vma& left, const Vma& right);

class VmaSet {
 public:
  using Map = RangeMap<Vma>;
  Map& ranges() { return map_; }
  const Map& ranges() const { return map_; }

  const Vma* find(uint64_t addr) const {
    auto it = map_.find(addr);
    return it == map_.end() ? nullptr : &it->second.value;
  }
  bool is_free(uint64_t start, uint64_t end) { return map_.is_free(start, end); }

  // Adds a VMA over a free range, merging with compatible neighbours.
  void insert(uint64_t start, uint64_t end, Vma vma);
  void remove(uint64_t start, uint64_t end) { map_.remove(start, end); }
  // Changes protection of [start, end); ENOMEM if part of it is unmapped,
  // EACCES if a VMA does not allow `prot` (mprotect(2)).
  Result<void> protect(uint64_t start, uint64_t end, int prot);
  // True when [start, end) is wholly covered by VMAs.
  bool covered(uint64_t start, uint64_t end) const;
  // The highest free range of `length` bytes within [low, high), searching
  // downward, or nullopt.
  std::optional<uint64_t> find_gap_top_down(uint64_t length, uint64_t low, uint64_t high) const;

 private:
  Map map_;
};

}  // namespace runsc::mm
