// The pages of a host file (a writable gofer tree: --overlay2=none, a
// read-write bind mount) that MAP_SHARED mappings share. They live in the
// memory file, so every mapping in the sandbox maps the same pages (as
// Linux's page cache makes every mapping of a file one), and read(2) and
// write(2) through the Sentry stay coherent with them: what mappings
// stored is written back to the host file before the Sentry reads it, and
// what write(2) puts in the host file is copied into the cached pages.
// Written back too on msync(2), fsync(2), munmap and the mapping process's
// exit, so the host file has it once the sandbox lets go.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>

#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc::mm {
class MemoryFile;
}

namespace runsc::vfs {

class SharedFilePages {
 public:
  explicit SharedFilePages(std::shared_ptr<mm::MemoryFile> memfile) : memfile_(std::move(memfile)) {}
  ~SharedFilePages();
  SharedFilePages(const SharedFilePages&) = delete;
  SharedFilePages& operator=(const SharedFilePages&) = delete;

  // Whether any page is cached: everything below is skipped until then.
  bool empty() const { return !has_pages_.load(std::memory_order_acquire); }

  // The memory-file offset of the page at `offset` (page-aligned), read
  // from the host file through `fd` on first use, with one reference for
  // the mapping; EFAULT past the end of the file. `fd` is kept for filling
  // and (when `writable`: a mapping that may store) for writing back.
  Result<uint64_t> page(const std::shared_ptr<UniqueFd>& fd, bool writable, uint64_t offset);
  // Writes every cached page back to the host file (never past its end).
  Result<void> write_back();
  // write(2) put `data` at `offset` of the host file: cached pages there
  // take the same bytes.
  void written(uint64_t offset, std::span<const iovec> data, size_t length);
  // fallocate(2) made [offset, offset + length) read zero (punch hole,
  // zero range): so do the cached pages.
  void zeroed(uint64_t offset, uint64_t length);
  // The file is now `size` bytes: pages wholly past it go (mappings of
  // them fault with SIGBUS), the tail of the last one reads zero.
  void truncated(uint64_t size);

 private:
  // fn(bytes, length) for each piece of [offset, offset + length) within
  // one page: the cached bytes, or null where the page is not cached.
  void each_cached_locked(uint64_t offset, uint64_t length, const std::function<void(uint8_t*, size_t)>& fn);

  std::shared_ptr<mm::MemoryFile> memfile_;
  std::mutex mu_;
  std::map<uint64_t, uint64_t> pages_;  // page index -> memory-file offset
  std::shared_ptr<UniqueFd> reader_, writer_;
  std::atomic<bool> has_pages_{false};
};

}  // namespace runsc::vfs
