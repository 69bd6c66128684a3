// The gofer wire protocol: one SOCK_SEQPACKET message is one request or one
// reply, so message boundaries come from the kernel and never from parsing.
//
// All integers are little-endian. Layouts (u8/u16/u32/u64, s64 for signed):
//
//   request  = tag:u32 op:u32 payload
//     Walk      dir:u64 name_len:u16 name
//     Open      handle:u64 flags:u32         (flags are Linux O_* values)
//     Stat      handle:u64
//     Readlink  handle:u64
//     Getdents  dir:u64 start:u64            (index of the first entry wanted)
//     Release   handle:u64
//
//     Create    dir:u64 name_len:u16 name mode:u32 uid:u32 gid:u32 flags:u32 target_len:u16 target
//     Mkdir, Mknod, Symlink: the same layout (flags 0; target only for Symlink)
//     Link      dir:u64 name_len:u16 name target:u64
//     Unlink    dir:u64 name_len:u16 name flags:u32     (flags: AT_REMOVEDIR)
//     Rename    old_dir:u64 old_len:u16 old_name new_dir:u64 new_len:u16 new_name flags:u32
//     Setattr   handle:u64 mask:u32 mode:u32 uid:u32 gid:u32 size:s64
//               atime_sec:s64 atime_nsec:s64 mtime_sec:s64 mtime_nsec:s64
//
//   reply    = tag:u32 op:u32 error:u32 payload   (payload only if error == 0)
//     Walk      handle:u64 stat
//     Open      (nothing: the FD travels as SCM_RIGHTS with this message)
//     Stat      stat
//     Readlink  len:u32 target
//     Getdents  end:u8 count:u32 count * (ino:u64 type:u8 name_len:u16 name)
//     Release   (nothing)
//     Create, Mkdir, Mknod, Symlink, Link   handle:u64 stat   (Create: the
//               opened FD travels as SCM_RIGHTS)
//     Unlink, Rename   (nothing)
//     Setattr   stat
//
//   stat     = dev:u64 ino:u64 nlink:u64 mode:u32 uid:u32 gid:u32 rdev:u64
//              size:s64 blksize:s64 blocks:s64 (atime mtime ctime) * (sec:s64 nsec:s64)
//
// Decoding is strict: a message shorter or longer than its layout, larger
// than kMaxMessageSize, or holding an out-of-range value is refused with
// EBADMSG; a request naming an operation we do not know is refused with
// ENOSYS (so a newer Sentry can tell an older gofer); a name that is not a
// single path component is refused with EINVAL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "gofer/types.h"

namespace runsc::gofer {

inline constexpr size_t kMaxMessageSize = 64 * 1024;
// NAME_MAX: no Linux filesystem stores a longer component.
inline constexpr size_t kMaxNameLength = 255;
// PATH_MAX less the NUL: the longest symlink target Linux keeps.
inline constexpr size_t kMaxLinkTargetLength = 4095;

enum class Op : uint32_t {
  kWalk = 1,
  kOpen = 2,
  kStat = 3,
  kReadlink = 4,
  kGetdents = 5,
  kRelease = 6,
  // Changes to the tree, refused with EROFS by a read-only server.
  kCreate = 7,
  kMkdir = 8,
  kMknod = 9,
  kSymlink = 10,
  kLink = 11,
  kUnlink = 12,
  kRename = 13,
  kSetattr = 14,
};

// Setattr's mask: which fields apply.
inline constexpr uint32_t kSetMode = 1, kSetUid = 2, kSetGid = 4, kSetSize = 8, kSetAtime = 16, kSetMtime = 32;

struct WalkRequest {
  Handle dir = 0;
  std::string name;
  bool operator==(const WalkRequest&) const = default;
};
struct OpenRequest {
  Handle handle = 0;
  uint32_t flags = 0;
  bool operator==(const OpenRequest&) const = default;
};
struct StatRequest {
  Handle handle = 0;
  bool operator==(const StatRequest&) const = default;
};
struct ReadlinkRequest {
  Handle handle = 0;
  bool operator==(const ReadlinkRequest&) const = default;
};
struct GetdentsRequest {
  Handle dir = 0;
  uint64_t start = 0;
  bool operator==(const GetdentsRequest&) const = default;
};
struct ReleaseRequest {
  Handle handle = 0;
  bool operator==(const ReleaseRequest&) const = default;
};

// Create (a regular file, opened with `flags`), Mkdir, Mknod (regular
// files, FIFOs and sockets only) or Symlink (to `target`): `op` says which.
// The new file gets `mode` and, if the server may, `uid` and `gid`.
struct MakeRequest {
  Op op = Op::kMkdir;
  Handle dir = 0;
  std::string name;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t flags = 0;
  std::string target;
  bool operator==(const MakeRequest&) const = default;
};
struct LinkRequest {
  Handle dir = 0;
  std::string name;
  Handle target = 0;  // an existing non-directory
  bool operator==(const LinkRequest&) const = default;
};
struct UnlinkRequest {
  Handle dir = 0;
  std::string name;
  uint32_t flags = 0;  // AT_REMOVEDIR
  bool operator==(const UnlinkRequest&) const = default;
};
struct RenameRequest {
  Handle old_dir = 0;
  std::string old_name;
  Handle new_dir = 0;
  std::string new_name;
  uint32_t flags = 0;  // RENAME_NOREPLACE or RENAME_EXCHANGE
  bool operator==(const RenameRequest&) const = default;
};
struct SetattrRequest {
  Handle handle = 0;
  uint32_t mask = 0;  // kSet*
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t size = 0;
  int64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
  bool operator==(const SetattrRequest&) const = default;
};

using RequestBody = std::variant<WalkRequest, OpenRequest, StatRequest, ReadlinkRequest, GetdentsRequest,
                                 ReleaseRequest, MakeRequest, LinkRequest, UnlinkRequest, RenameRequest, SetattrRequest>;

struct Request {
  uint32_t tag = 0;
  RequestBody body;
  bool operator==(const Request&) const = default;
};

// A failed request: `op` echoes the request's op field, even one we do not
// know; `error` is a positive errno.
struct ErrorReply {
  uint32_t op = 0;
  int error = 0;
  bool operator==(const ErrorReply&) const = default;
};
struct WalkReply {
  Handle handle = 0;
  FileStat stat;
  bool operator==(const WalkReply&) const = default;
};
struct OpenReply {
  bool operator==(const OpenReply&) const = default;
};
struct StatReply {
  FileStat stat;
  bool operator==(const StatReply&) const = default;
};
struct ReadlinkReply {
  std::string target;
  bool operator==(const ReadlinkReply&) const = default;
};
struct GetdentsReply {
  std::vector<DirEntry> entries;
  bool end = false;  // no entry follows the last one in `entries`
  bool operator==(const GetdentsReply&) const = default;
};
struct ReleaseReply {
  bool operator==(const ReleaseReply&) const = default;
};

// A new name in the tree (Create, Mkdir, Mknod, Symlink, Link): a handle
// to it and its attributes; `op` echoes the request's.
struct EntryReply {
  Op op = Op::kMkdir;
  Handle handle = 0;
  FileStat stat;
  bool operator==(const EntryReply&) const = default;
};
// Unlink and Rename: nothing but success.
struct DoneReply {
  Op op = Op::kUnlink;
  bool operator==(const DoneReply&) const = default;
};
struct SetattrReply {
  FileStat stat;
  bool operator==(const SetattrReply&) const = default;
};

using ReplyBody = std::variant<ErrorReply, WalkReply, OpenReply, StatReply, ReadlinkReply, GetdentsReply, ReleaseReply,
                               EntryReply, DoneReply, SetattrReply>;

struct Reply {
  uint32_t tag = 0;
  ReplyBody body;
  bool operator==(const Reply&) const = default;
};

// The op a request body or a successful reply body stands for.
Op op_of(const RequestBody& body);

// 0 if `name` is one path component the server may look up; EINVAL for "",
// ".", ".." and anything holding '/' or NUL; ENAMETOOLONG past NAME_MAX.
int check_name(std::string_view name);

// EINVAL for names check_name refuses, EMSGSIZE past kMaxMessageSize.
Result<std::vector<uint8_t>> encode_request(const Request& request);
Result<Request> decode_request(std::span<const uint8_t> message);

// EINVAL for an error outside 1..4095 or an invalid entry name or link
// target, EMSGSIZE past kMaxMessageSize.
Result<std::vector<uint8_t>> encode_reply(const Reply& reply);
Result<Reply> decode_reply(std::span<const uint8_t> message);

// The tag and op fields of a message that did not decode, so that the
// server can still answer it; nullopt if the message is too short to hold
// them.
struct RequestHeader {
  uint32_t tag = 0;
  uint32_t op = 0;
};
std::optional<RequestHeader> peek_request_header(std::span<const uint8_t> message);

// Sizes the server needs to fill a Getdents reply up to kMaxMessageSize.
inline constexpr size_t kGetdentsReplyFixedSize = 4 + 4 + 4 + 1 + 4;
inline constexpr size_t dirent_wire_size(size_t name_length) { return 8 + 1 + 2 + name_length; }

}  // namespace runsc::gofer
