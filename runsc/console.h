// process.terminal for runc's callers: a host pseudo-terminal whose master
// goes to the caller over --console-socket and whose slave becomes the
// container process's stdio (and controlling terminal, in the sandbox).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc::cli {

struct ConsoleSize {
  uint16_t rows = 0, columns = 0;  // 0: leave the pty's default
};

// Opens a pty, sizes it, sends its master to the unix socket at
// `console_socket` (SCM_RIGHTS, with the pty's name as the payload, as
// runc does) and returns the slave. `error` says what failed.
Result<UniqueFd> open_console(const std::string& console_socket, ConsoleSize size, std::string& error);

// Makes `slave` this process's stdin, stdout and stderr.
Result<void> use_as_stdio(int slave);

}  // namespace runsc::cli
