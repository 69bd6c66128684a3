// The Sentry's side of the gofer protocol: synchronous calls, one request
// and one reply at a time, safe to share between threads.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "gofer/types.h"

namespace runsc::gofer {

struct Request;
struct Reply;
struct MakeRequest;
struct SetattrRequest;

class Client {
 public:
  // `socket` is our end of the SOCK_SEQPACKET pair the gofer serves.
  explicit Client(UniqueFd socket);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // The child `name` of directory `dir`, not following a symlink. `name` is
  // one path component: "", ".", "..", or a name holding '/' or NUL gives
  // EINVAL without asking the gofer.
  Result<WalkResult> walk(Handle dir, std::string_view name);
  // A host FD for I/O on the file (regular files and directories only; a
  // symlink gives ELOOP). `flags` are open(2) flags.
  Result<UniqueFd> open(Handle handle, int flags);
  Result<FileStat> stat(Handle handle);
  Result<std::string> readlink(Handle handle);
  // Every entry of the directory but "." and "..", fetched in as many
  // exchanges as it takes.
  Result<std::vector<DirEntry>> getdents(Handle dir);
  // Forgets a handle from walk(). Releasing the root does nothing.
  void release(Handle handle);

  // Changes to the tree (EROFS from a read-only gofer). Each new name
  // comes back as a handle with its attributes, as walk() gives.
  // create(): a new regular file, opened for I/O with `flags`.
  Result<std::pair<WalkResult, UniqueFd>> create(Handle dir, std::string_view name, int flags, uint32_t mode,
                                                 uint32_t uid, uint32_t gid);
  Result<WalkResult> mkdir(Handle dir, std::string_view name, uint32_t mode, uint32_t uid, uint32_t gid);
  // Regular files, FIFOs and sockets (the S_IFMT bits of `mode`).
  Result<WalkResult> mknod(Handle dir, std::string_view name, uint32_t mode, uint32_t uid, uint32_t gid);
  Result<WalkResult> symlink(Handle dir, std::string_view name, std::string_view target, uint32_t uid, uint32_t gid);
  Result<WalkResult> link(Handle dir, std::string_view name, Handle target);
  // `flags`: AT_REMOVEDIR for a directory.
  Result<void> unlink(Handle dir, std::string_view name, int flags);
  Result<void> rename(Handle old_dir, std::string_view old_name, Handle new_dir, std::string_view new_name,
                      unsigned flags);
  Result<FileStat> setattr(const SetattrRequest& request);

 private:
  // One exchange. EIO, for this and every later call, when the gofer is
  // gone or answers out of step (wrong tag or op, malformed reply).
  Result<Reply> call(const Request& request, UniqueFd* fd);
  Result<WalkResult> make(const MakeRequest& request, UniqueFd* fd);

  std::mutex mu_;
  UniqueFd socket_;
  uint32_t next_tag_ = 1;
  bool broken_ = false;
  std::vector<uint8_t> buffer_;
};

}  // namespace runsc::gofer
