#include "vfs/devices.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>

#include "sentry/mm/vma.h"

namespace runsc::vfs {
namespace {

enum class MemDevice { kNull = 3, kZero = 5, kFull = 7, kRandom = 8, kUrandom = 9 };

size_t total(std::span<const iovec> v) {
  size_t n = 0;
  for (const auto& e : v) n += e.iov_len;
  return n;
}

// What mmap of /dev/zero maps: pages of zeros. Linux makes a private
// mapping anonymous memory and a shared one shared anonymous memory
// (mmap_zero()); both are what the memory manager gives a file whose
// pages are not its own (ENODEV from shared_page) and read as zeros.
class ZeroMappable final : public mm::Mappable {
 public:
  Result<size_t> read_at(uint64_t, std::span<uint8_t> out) override {
    std::memset(out.data(), 0, out.size());
    return out.size();
  }
};

class MemDeviceDescription final : public FileDescription {
 public:
  MemDeviceDescription(MemDevice kind, dev_t rdev, int flags) : FileDescription(flags), kind_(kind), rdev_(rdev) {}

  Result<size_t> read(std::span<const iovec> dst, int64_t) override {
    if (!readable()) return Err(EBADF);
    switch (kind_) {
      case MemDevice::kNull:
        return size_t{0};  // always at end of file
      case MemDevice::kZero:
      case MemDevice::kFull:
        for (const auto& v : dst) std::memset(v.iov_base, 0, v.iov_len);
        return total(dst);
      case MemDevice::kRandom:
      case MemDevice::kUrandom: {
        size_t done = 0;
        for (const auto& v : dst) {
          size_t got = 0;
          while (got < v.iov_len) {
            ssize_t n = ::getrandom(static_cast<uint8_t*>(v.iov_base) + got, v.iov_len - got, 0);
            if (n < 0) {
              if (errno == EINTR) continue;
              return done + got > 0 ? Result<size_t>(done + got) : ErrFromErrno();
            }
            got += static_cast<size_t>(n);
          }
          done += got;
        }
        return done;
      }
    }
    return Err(EINVAL);
  }

  Result<size_t> write(std::span<const iovec> src, int64_t) override {
    if (!writable()) return Err(EBADF);
    // /dev/full: "always full" (full(4)); the others swallow everything.
    if (kind_ == MemDevice::kFull) return Err(ENOSPC);
    return total(src);
  }

  Result<int64_t> seek(int64_t, int) override { return 0; }  // mem devices: lseek succeeds, position stays 0
  // pread(2)/pwrite(2) work on them (the offset means nothing), as on Linux.
  bool seekable() const override { return true; }

  // Only /dev/zero can be mapped (the others have no mmap: ENODEV).
  std::shared_ptr<mm::Mappable> mappable() override {
    return kind_ == MemDevice::kZero ? std::make_shared<ZeroMappable>() : nullptr;
  }

  Result<struct stat> stat() override {
    struct stat st{};
    st.st_mode = S_IFCHR | 0666;
    st.st_rdev = rdev_;
    st.st_nlink = 1;
    st.st_blksize = 4096;
    return st;
  }

 private:
  MemDevice kind_;
  dev_t rdev_;
};

}  // namespace

Result<std::shared_ptr<FileDescription>> open_char_device(dev_t rdev, int flags) {
  if (major(rdev) == 1) {
    switch (minor(rdev)) {
      case 3: case 5: case 7: case 8: case 9:
        return std::shared_ptr<FileDescription>(
            std::make_shared<MemDeviceDescription>(static_cast<MemDevice>(minor(rdev)), rdev, flags));
      default:
        break;
    }
  }
  return Err(ENXIO);
}

}  // namespace runsc::vfs
