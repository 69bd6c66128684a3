// The memory file: one memfd holding every page of application memory.
// The Sentry maps it once into itself and reads or writes application
// memory through that mapping; platforms map the same pages into stubs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc::mm {

class MemoryFile {
 public:
  // `capacity` is virtual: the file is sparse and pages cost memory only
  // once touched.
  static Result<std::unique_ptr<MemoryFile>> create(uint64_t capacity);
  ~MemoryFile();
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  int fd() const { return fd_.get(); }
  // Reserves `length` (page multiple) bytes; the pages read as zero.
  Result<uint64_t> allocate(uint64_t length);
  // Drops one reference to each page of the range; pages nobody refers
  // to any more go back to the allocator and are freed on the host.
  void release(uint64_t offset, uint64_t length);
  // One more reference to each page of an allocated range: a MAP_SHARED
  // mapping that fork(2) gives to the child as well.
  void add_ref(uint64_t offset, uint64_t length);
  uint8_t* at(uint64_t offset) const { return base_ + offset; }
  // Whether more than one reference holds the page at `offset`.
  bool is_shared(uint64_t offset) const;
  uint64_t allocated_bytes() const;
  // The sandbox's memory limit: an allocation that would take the pages in
  // use past `bytes` is ENOMEM (the application's page fault becomes the
  // OOM killer's SIGKILL, a tmpfs write ENOSPC), never the host's OOM.
  void set_limit(uint64_t bytes);
  uint64_t limit() const;

 private:
  MemoryFile(UniqueFd fd, uint8_t* base, uint64_t capacity) : fd_(std::move(fd)), base_(base), capacity_(capacity), limit_(capacity) {}

  UniqueFd fd_;
  uint8_t* base_;
  uint64_t capacity_;
  mutable std::mutex mu_;
  uint64_t bump_ = 0;                       // everything above is never used
  std::map<uint64_t, uint64_t> free_;       // offset -> length, below bump_
  uint64_t in_use_ = 0;
  uint64_t limit_;  // capacity_ unless set_limit
  // Page offset -> references beyond the first, for shared pages only.
  std::map<uint64_t, uint32_t> extra_refs_;

  void free_range(uint64_t offset, uint64_t length);
};

}  // namespace runsc::mm
