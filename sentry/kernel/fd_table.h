// The FD table: small integers naming FileDescriptions, with FD_CLOEXEC.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "common/result.h"
#include "vfs/file.h"

namespace runsc::kernel {

class FdTable {
 public:
  // Linux's default RLIMIT_NOFILE soft limit.
  static constexpr int kDefaultLimit = 1024;

  std::shared_ptr<vfs::FileDescription> get(int fd) const;
  // The lowest free FD >= min_fd (open(2), dup(2), F_DUPFD).
  Result<int> install(std::shared_ptr<vfs::FileDescription> file, bool cloexec, int min_fd = 0);
  // Puts `file` at exactly `fd`, closing what was there (dup2(2)).
  Result<void> install_at(int fd, std::shared_ptr<vfs::FileDescription> file, bool cloexec);
  Result<void> close(int fd);
  Result<bool> cloexec(int fd) const;
  Result<void> set_cloexec(int fd, bool on);
  // fork(2) without CLONE_FILES: a new table naming the same descriptions.
  std::shared_ptr<FdTable> copy() const;
  // execve(2) closes the FD_CLOEXEC descriptors.
  void close_on_exec();
  int limit() const { return limit_; }
  // RLIMIT_NOFILE's soft limit: new FDs stay below it (open(2) EMFILE).
  void set_limit(int limit) { limit_ = limit; }
  // The open FDs in increasing order (/proc/pid/fd).
  std::vector<int> open_fds() const;

 private:
  struct Slot {
    std::shared_ptr<vfs::FileDescription> file;
    bool cloexec = false;
  };
  mutable std::mutex mu_;
  std::vector<Slot> slots_;
  int limit_ = kDefaultLimit;
};

}  // namespace runsc::kernel
