#include "gofer/server.h"
#include "runsc/commands.h"

namespace runsc::cli {

int run_gofer(const std::string& root, int socket_fd, bool read_only, bool seccomp_log) {
  gofer::GoferConfig config;
  config.root = root;
  config.socket_fd = socket_fd;
  config.read_only = read_only;
  config.seccomp_log = seccomp_log;
  return gofer::gofer_main(config);
}

}  // namespace runsc::cli
