#include "vfs/shared_file_pages.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sentry/mm/memory_file.h"
#include "sentry/mm/mm.h"

namespace runsc::vfs {
namespace {

constexpr uint64_t kPage = 4096;

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

Result<uint64_t> file_size(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrFromErrno();
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

SharedFilePages::~SharedFilePages() {
  (void)write_back();
  for (const auto& [index, offset] : pages_) memfile_->release(offset, kPage);
}

Result<uint64_t> SharedFilePages::page(const std::shared_ptr<UniqueFd>& fd, bool writable, uint64_t offset) {
  std::lock_guard lock(mu_);
  if (!reader_) reader_ = fd;
  if (writable && !writer_) writer_ = fd;
  const uint64_t index = offset / kPage;
  auto it = pages_.find(index);
  if (it == pages_.end()) {
    // A cached page is within the file (truncation drops those past its
    // end); a new one must be.
    auto size = file_size(reader_->get());
    if (!size) return Err(size.error());
    if (offset >= page_up(*size)) return Err(EFAULT);  // past the end: SIGBUS (mmap(2))
    auto fresh = memfile_->allocate(kPage);
    if (!fresh) return Err(fresh.error());
    // A fresh page reads zero, so what lies past the end of the file does.
    uint8_t* bytes = memfile_->at(*fresh);
    size_t done = 0;
    while (done < kPage) {
      ssize_t n = ::pread(reader_->get(), bytes + done, kPage - done, static_cast<off_t>(index * kPage + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int error = errno;
        memfile_->release(*fresh, kPage);
        return Err(error);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    it = pages_.emplace(index, *fresh).first;
    has_pages_.store(true, std::memory_order_release);
  }
  memfile_->add_ref(it->second, kPage);  // the mapping's
  return it->second;
}

Result<void> SharedFilePages::write_back() {
  std::lock_guard lock(mu_);
  // Only a mapping through a writable description can have stored.
  if (!writer_ || pages_.empty()) return {};
  auto size = file_size(writer_->get());
  if (!size) return Err(size.error());
  for (const auto& [index, offset] : pages_) {
    const uint64_t start = index * kPage;
    if (start >= *size) break;
    const size_t length = static_cast<size_t>(std::min(kPage, *size - start));
    size_t done = 0;
    while (done < length) {
      ssize_t n = ::pwrite(writer_->get(), memfile_->at(offset) + done, length - done, static_cast<off_t>(start + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n < 0 ? Result<void>(ErrFromErrno()) : Result<void>(Err(EIO));
      done += static_cast<size_t>(n);
    }
  }
  return {};
}

void SharedFilePages::each_cached_locked(uint64_t offset, uint64_t length,
                                         const std::function<void(uint8_t*, size_t)>& fn) {
  uint64_t position = offset;
  const uint64_t end = offset + length;
  while (position < end) {
    const uint64_t in_page = position % kPage;
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(end - position, kPage - in_page));
    auto it = pages_.find(position / kPage);
    fn(it != pages_.end() ? memfile_->at(it->second) + in_page : nullptr, chunk);
    position += chunk;
  }
}

void SharedFilePages::written(uint64_t offset, std::span<const iovec> data, size_t length) {
  std::lock_guard lock(mu_);
  if (pages_.empty()) return;
  size_t iov = 0, in_iov = 0;
  each_cached_locked(offset, length, [&](uint8_t* cached, size_t chunk) {
    // Walks the source alongside, whether or not the page is cached.
    while (chunk > 0) {
      const size_t n = std::min(chunk, data[iov].iov_len - in_iov);
      if (cached) {
        std::memcpy(cached, static_cast<const uint8_t*>(data[iov].iov_base) + in_iov, n);
        cached += n;
      }
      chunk -= n;
      in_iov += n;
      if (in_iov == data[iov].iov_len) ++iov, in_iov = 0;
    }
  });
}

void SharedFilePages::zeroed(uint64_t offset, uint64_t length) {
  std::lock_guard lock(mu_);
  each_cached_locked(offset, length, [](uint8_t* cached, size_t chunk) {
    if (cached) std::memset(cached, 0, chunk);
  });
}

void SharedFilePages::truncated(uint64_t size) {
  const uint64_t first_gone = page_up(size);
  {
    std::lock_guard lock(mu_);
    for (auto it = pages_.lower_bound(first_gone / kPage); it != pages_.end();) {
      memfile_->release(it->second, kPage);
      it = pages_.erase(it);
    }
    // The part of the last page past the new end reads zero, as Linux's
    // truncate_pagecache() leaves it.
    if (size % kPage != 0) {
      if (auto it = pages_.find(size / kPage); it != pages_.end()) {
        std::memset(memfile_->at(it->second) + size % kPage, 0, kPage - size % kPage);
      }
    }
    has_pages_.store(!pages_.empty(), std::memory_order_release);
  }
  // Mappings let go of the pages that went: touching them raises SIGBUS.
  mm::MemoryManager::forget_file_pages_everywhere(this, first_gone, ~uint64_t{0});
}

}  // namespace runsc::vfs
