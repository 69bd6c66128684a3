#include "common/proc_file.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace runsc {

Result<std::string> read_proc_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrFromErrno();
  char buf[4096];
  const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
  if (n < 0) return ErrFromErrno();
  return std::string(buf, static_cast<size_t>(n));
}

Result<void> write_proc_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrFromErrno();
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) return ErrFromErrno();
  return {};
}

}  // namespace runsc
