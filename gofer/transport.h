// Moving one protocol message, and at most one FD beside it, over a
// SOCK_SEQPACKET socket. Shared by the gofer server and client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc::gofer {

// Sends `message` as one packet, with `fd` attached (SCM_RIGHTS) unless it
// is negative. Retries EINTR, waits out EAGAIN on a non-blocking socket and
// never raises SIGPIPE. Returns 0 or a positive errno (EPIPE once the peer
// has gone).
int send_message(int socket, std::span<const uint8_t> message, int fd = -1);

struct Received {
  // The peer has closed its end and every packet it sent has been read.
  bool closed = false;
  size_t size = 0;
  // The packet was longer than the buffer; its tail is lost.
  bool truncated = false;
  // The first FD that came with the packet, when asked for. Any other FD
  // the peer attached is closed, never leaked into this process.
  UniqueFd fd;
};

Result<Received> receive_message(int socket, std::span<uint8_t> buffer, bool accept_fd);

}  // namespace runsc::gofer
