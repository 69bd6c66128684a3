#include "sentry/mm/memory_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <vector>

namespace runsc::mm {

Result<std::unique_ptr<MemoryFile>> MemoryFile::create(uint64_t capacity) {
  UniqueFd fd(::memfd_create("runsc-memory", MFD_CLOEXEC));
  if (!fd) return ErrFromErrno();
  if (::ftruncate(fd.get(), static_cast<off_t>(capacity)) != 0) return ErrFromErrno();
  void* base = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd.get(), 0);
  if (base == MAP_FAILED) return ErrFromErrno();
  return std::unique_ptr<MemoryFile>(new MemoryFile(std::move(fd), static_cast<uint8_t*>(base), capacity));
}

MemoryFile::~MemoryFile() { ::munmap(base_, capacity_); }

void MemoryFile::set_limit(uint64_t bytes) {
  std::lock_guard lock(mu_);
  limit_ = std::min(bytes, capacity_);
}

uint64_t MemoryFile::limit() const {
  std::lock_guard lock(mu_);
  return limit_;
}

Result<uint64_t> MemoryFile::allocate(uint64_t length) {
  std::lock_guard lock(mu_);
  if (in_use_ > limit_ || length > limit_ - in_use_) return Err(ENOMEM);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < length) continue;
    uint64_t offset = it->first;
    uint64_t rest = it->second - length;
    free_.erase(it);
    if (rest) free_.emplace(offset + length, rest);
    in_use_ += length;
    return offset;
  }
  if (capacity_ - bump_ < length) return Err(ENOMEM);
  uint64_t offset = bump_;
  bump_ += length;
  in_use_ += length;
  return offset;
}

bool MemoryFile::is_shared(uint64_t offset) const {
  std::lock_guard lock(mu_);
  return extra_refs_.contains(offset & ~uint64_t{4095});
}

void MemoryFile::add_ref(uint64_t offset, uint64_t length) {
  std::lock_guard lock(mu_);
  for (uint64_t page = offset; page < offset + length; page += 4096) ++extra_refs_[page];
}

void MemoryFile::release(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  {
    std::unique_lock lock(mu_);
    auto first = extra_refs_.lower_bound(offset);
    if (first != extra_refs_.end() && first->first < offset + length) {
      // Some pages are shared: drop a reference from those and free only
      // the runs of pages that had a single one.
      std::vector<std::pair<uint64_t, uint64_t>> runs;
      uint64_t run_start = offset;
      for (uint64_t page = offset; page < offset + length; page += 4096) {
        auto it = extra_refs_.find(page);
        if (it == extra_refs_.end()) continue;
        if (page > run_start) runs.emplace_back(run_start, page - run_start);
        run_start = page + 4096;
        if (--it->second == 0) extra_refs_.erase(it);
      }
      if (offset + length > run_start) runs.emplace_back(run_start, offset + length - run_start);
      lock.unlock();
      for (auto [o, l] : runs) free_range(o, l);
      return;
    }
  }
  free_range(offset, length);
}

void MemoryFile::free_range(uint64_t offset, uint64_t length) {
  // Punching a hole returns the pages to the host and makes them read as
  // zero for whoever allocates them next.
  ::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
              static_cast<off_t>(length));
  std::lock_guard lock(mu_);
  in_use_ -= length;
  auto [it, inserted] = free_.emplace(offset, length);
  (void)inserted;
  auto next = std::next(it);
  if (next != free_.end() && it->first + it->second == next->first) {
    it->second += next->second;
    free_.erase(next);
  }
  if (it != free_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      free_.erase(it);
      it = prev;
    }
  }
  if (it->first + it->second == bump_) {
    bump_ = it->first;
    free_.erase(it);
  }
}

uint64_t MemoryFile::allocated_bytes() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

}  // namespace runsc::mm
