#include "runsc/console.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <span>

#include "gofer/transport.h"

namespace runsc::cli {

Result<UniqueFd> open_console(const std::string& console_socket, ConsoleSize size, std::string& error) {
  auto failed = [&](const std::string& what) {
    const int e = errno;
    error = what + ": " + std::strerror(e);
    return Err(e);
  };
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return failed("cannot open a pseudo-terminal");
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) return failed("cannot unlock the pseudo-terminal");
  char name[64];
  if (::ptsname_r(master.get(), name, sizeof(name)) != 0) return failed("ptsname");
  UniqueFd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return failed(std::string("cannot open ") + name);
  if (size.rows && size.columns) {
    winsize w{size.rows, size.columns, 0, 0};
    if (::ioctl(slave.get(), TIOCSWINSZ, &w) != 0) return failed("cannot size the terminal");
  }

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (console_socket.size() >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return failed("console socket " + console_socket);
  }
  std::memcpy(addr.sun_path, console_socket.c_str(), console_socket.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock || ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return failed("cannot connect to the console socket " + console_socket);
  // The pty's name travels as the payload, as runc sends it.
  const std::span<const uint8_t> payload(reinterpret_cast<const uint8_t*>(name), std::strlen(name));
  if (int e = gofer::send_message(sock.get(), payload, master.get())) {
    errno = e;
    return failed("cannot send the terminal over " + console_socket);
  }
  return slave;
}

Result<void> use_as_stdio(int slave) {
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave, fd) < 0) return ErrFromErrno();
  }
  return {};
}

}  // namespace runsc::cli
