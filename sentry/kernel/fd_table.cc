#include "sentry/kernel/fd_table.h"

namespace runsc::kernel {

std::shared_ptr<vfs::FileDescription> FdTable::get(int fd) const {
  std::lock_guard lock(mu_);
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size()) return nullptr;
  return slots_[static_cast<size_t>(fd)].file;
}

std::shared_ptr<FdTable> FdTable::copy() const {
  auto table = std::make_shared<FdTable>();
  std::lock_guard lock(mu_);
  table->slots_ = slots_;
  table->limit_ = limit_;
  return table;
}

Result<int> FdTable::install(std::shared_ptr<vfs::FileDescription> file, bool cloexec, int min_fd) {
  std::lock_guard lock(mu_);
  if (min_fd < 0 || min_fd >= limit_) return Err(EINVAL);
  for (int fd = min_fd; fd < limit_; ++fd) {
    auto i = static_cast<size_t>(fd);
    if (i >= slots_.size()) slots_.resize(i + 1);
    if (!slots_[i].file) {
      slots_[i] = Slot{std::move(file), cloexec};
      return fd;
    }
  }
  return Err(EMFILE);
}

Result<void> FdTable::install_at(int fd, std::shared_ptr<vfs::FileDescription> file, bool cloexec) {
  std::shared_ptr<vfs::FileDescription> old;  // released outside the lock
  {
    std::lock_guard lock(mu_);
    if (fd < 0 || fd >= limit_) return Err(EBADF);
    auto i = static_cast<size_t>(fd);
    if (i >= slots_.size()) slots_.resize(i + 1);
    old = std::move(slots_[i].file);
    slots_[i] = Slot{std::move(file), cloexec};
  }
  return {};
}

Result<void> FdTable::close(int fd) {
  std::shared_ptr<vfs::FileDescription> old;
  {
    std::lock_guard lock(mu_);
    if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[static_cast<size_t>(fd)].file) return Err(EBADF);
    old = std::move(slots_[static_cast<size_t>(fd)].file);
    slots_[static_cast<size_t>(fd)].cloexec = false;
  }
  return {};
}

Result<bool> FdTable::cloexec(int fd) const {
  std::lock_guard lock(mu_);
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[static_cast<size_t>(fd)].file) return Err(EBADF);
  return slots_[static_cast<size_t>(fd)].cloexec;
}

Result<void> FdTable::set_cloexec(int fd, bool on) {
  std::lock_guard lock(mu_);
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[static_cast<size_t>(fd)].file) return Err(EBADF);
  slots_[static_cast<size_t>(fd)].cloexec = on;
  return {};
}

void FdTable::close_on_exec() {
  std::vector<std::shared_ptr<vfs::FileDescription>> closing;
  std::lock_guard lock(mu_);
  for (auto& slot : slots_) {
    if (slot.file && slot.cloexec) {
      closing.push_back(std::move(slot.file));
      slot.cloexec = false;
    }
  }
}

std::vector<int> FdTable::open_fds() const {
  std::lock_guard lock(mu_);
  std::vector<int> out;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].file) out.push_back(static_cast<int>(i));
  }
  return out;
}

}  // namespace runsc::kernel
