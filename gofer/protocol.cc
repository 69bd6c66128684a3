#include "gofer/protocol.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

namespace runsc::gofer {
namespace {

// Linux errnos are below 4096 (MAX_ERRNO); anything else in a reply is not
// an errno the Sentry could hand to an application.
constexpr uint32_t kMaxErrno = 4095;
constexpr int64_t kNanosPerSecond = 1'000'000'000;

constexpr size_t kRequestHeaderSize = 4 + 4;
constexpr size_t kReplyHeaderSize = 4 + 4 + 4;

// Appends little-endian integers and byte strings.
class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void s64(int64_t v) { put(static_cast<uint64_t>(v), 8); }
  void bytes(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }

  Result<std::vector<uint8_t>> finish() && {
    if (out_.size() > kMaxMessageSize) return Err(EMSGSIZE);
    return std::move(out_);
  }

 private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

// Reads little-endian integers from a message; every read checks the bytes
// remaining first, and a failed read leaves the reader failed for good, so
// the decoders can read a whole layout and test ok() once at the end.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}

  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint16_t u16() { return static_cast<uint16_t>(get(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  int64_t s64() { return static_cast<int64_t>(get(8)); }
  std::string bytes(size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  void fail() { ok_ = false; }

  size_t remaining() const { return in_.size() - pos_; }
  bool ok() const { return ok_; }
  // The whole message was consumed: trailing bytes are as malformed as
  // missing ones.
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  uint64_t get(size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(in_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

bool valid_nsec(int64_t nsec) { return nsec >= 0 && nsec < kNanosPerSecond; }

bool valid_stat(const FileStat& st) {
  return valid_nsec(st.atime_nsec) && valid_nsec(st.mtime_nsec) && valid_nsec(st.ctime_nsec);
}

void put_stat(Writer& w, const FileStat& st) {
  w.u64(st.dev);
  w.u64(st.ino);
  w.u64(st.nlink);
  w.u32(st.mode);
  w.u32(st.uid);
  w.u32(st.gid);
  w.u64(st.rdev);
  w.s64(st.size);
  w.s64(st.blksize);
  w.s64(st.blocks);
  w.s64(st.atime_sec);
  w.s64(st.atime_nsec);
  w.s64(st.mtime_sec);
  w.s64(st.mtime_nsec);
  w.s64(st.ctime_sec);
  w.s64(st.ctime_nsec);
}

FileStat get_stat(Reader& r) {
  FileStat st;
  st.dev = r.u64();
  st.ino = r.u64();
  st.nlink = r.u64();
  st.mode = r.u32();
  st.uid = r.u32();
  st.gid = r.u32();
  st.rdev = r.u64();
  st.size = r.s64();
  st.blksize = r.s64();
  st.blocks = r.s64();
  st.atime_sec = r.s64();
  st.atime_nsec = r.s64();
  st.mtime_sec = r.s64();
  st.mtime_nsec = r.s64();
  st.ctime_sec = r.s64();
  st.ctime_nsec = r.s64();
  if (!valid_stat(st)) r.fail();
  return st;
}

// A symlink target as Linux stores it: 1..PATH_MAX-1 bytes, no NUL.
bool valid_link_target(std::string_view target) {
  return !target.empty() && target.size() <= kMaxLinkTargetLength && target.find('\0') == std::string_view::npos;
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};

bool is_make_op(Op op) { return op == Op::kCreate || op == Op::kMkdir || op == Op::kMknod || op == Op::kSymlink; }
bool is_entry_op(Op op) { return is_make_op(op) || op == Op::kLink; }

// A name field: u16 length, then the bytes.
void put_name(Writer& w, std::string_view name) {
  w.u16(static_cast<uint16_t>(name.size()));
  w.bytes(name);
}
std::string get_name(Reader& r) {
  uint16_t length = r.u16();
  return r.bytes(length);
}

}  // namespace

FileStat file_stat_from_host(const struct stat& st) {
  FileStat out;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.nlink = st.st_nlink;
  out.mode = st.st_mode;
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  out.rdev = st.st_rdev;
  out.size = st.st_size;
  out.blksize = st.st_blksize;
  out.blocks = st.st_blocks;
  out.atime_sec = st.st_atim.tv_sec;
  out.atime_nsec = st.st_atim.tv_nsec;
  out.mtime_sec = st.st_mtim.tv_sec;
  out.mtime_nsec = st.st_mtim.tv_nsec;
  out.ctime_sec = st.st_ctim.tv_sec;
  out.ctime_nsec = st.st_ctim.tv_nsec;
  return out;
}

Op op_of(const RequestBody& body) {
  return std::visit(Overloaded{
                        [](const WalkRequest&) { return Op::kWalk; },
                        [](const OpenRequest&) { return Op::kOpen; },
                        [](const StatRequest&) { return Op::kStat; },
                        [](const ReadlinkRequest&) { return Op::kReadlink; },
                        [](const GetdentsRequest&) { return Op::kGetdents; },
                        [](const ReleaseRequest&) { return Op::kRelease; },
                        [](const MakeRequest& q) { return q.op; },
                        [](const LinkRequest&) { return Op::kLink; },
                        [](const UnlinkRequest&) { return Op::kUnlink; },
                        [](const RenameRequest&) { return Op::kRename; },
                        [](const SetattrRequest&) { return Op::kSetattr; },
                    },
                    body);
}

int check_name(std::string_view name) {
  // "." and ".." are not names of children: "." would hand out a second
  // handle to the directory itself and ".." would climb out of it, past the
  // root of the served tree when the directory is the root. The Sentry
  // resolves both itself.
  if (name.empty() || name == "." || name == "..") return EINVAL;
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) return EINVAL;
  if (name.size() > kMaxNameLength) return ENAMETOOLONG;
  return 0;
}

Result<std::vector<uint8_t>> encode_request(const Request& request) {
  Writer w;
  w.u32(request.tag);
  w.u32(static_cast<uint32_t>(op_of(request.body)));
  int error = std::visit(Overloaded{
                             [&](const WalkRequest& q) {
                               if (int e = check_name(q.name)) return e;
                               w.u64(q.dir);
                               w.u16(static_cast<uint16_t>(q.name.size()));
                               w.bytes(q.name);
                               return 0;
                             },
                             [&](const OpenRequest& q) {
                               w.u64(q.handle);
                               w.u32(q.flags);
                               return 0;
                             },
                             [&](const StatRequest& q) {
                               w.u64(q.handle);
                               return 0;
                             },
                             [&](const ReadlinkRequest& q) {
                               w.u64(q.handle);
                               return 0;
                             },
                             [&](const GetdentsRequest& q) {
                               w.u64(q.dir);
                               w.u64(q.start);
                               return 0;
                             },
                             [&](const ReleaseRequest& q) {
                               w.u64(q.handle);
                               return 0;
                             },
                             [&](const MakeRequest& q) {
                               if (!is_make_op(q.op)) return EINVAL;
                               if (int e = check_name(q.name)) return e;
                               if (q.op == Op::kSymlink ? !valid_link_target(q.target) : !q.target.empty()) return EINVAL;
                               w.u64(q.dir);
                               put_name(w, q.name);
                               w.u32(q.mode);
                               w.u32(q.uid);
                               w.u32(q.gid);
                               w.u32(q.flags);
                               put_name(w, q.target);
                               return 0;
                             },
                             [&](const LinkRequest& q) {
                               if (int e = check_name(q.name)) return e;
                               w.u64(q.dir);
                               put_name(w, q.name);
                               w.u64(q.target);
                               return 0;
                             },
                             [&](const UnlinkRequest& q) {
                               if (int e = check_name(q.name)) return e;
                               w.u64(q.dir);
                               put_name(w, q.name);
                               w.u32(q.flags);
                               return 0;
                             },
                             [&](const RenameRequest& q) {
                               if (int e = check_name(q.old_name)) return e;
                               if (int e = check_name(q.new_name)) return e;
                               w.u64(q.old_dir);
                               put_name(w, q.old_name);
                               w.u64(q.new_dir);
                               put_name(w, q.new_name);
                               w.u32(q.flags);
                               return 0;
                             },
                             [&](const SetattrRequest& q) {
                               if (((q.mask & kSetAtime) && !valid_nsec(q.atime_nsec)) ||
                                   ((q.mask & kSetMtime) && !valid_nsec(q.mtime_nsec)))
                                 return EINVAL;
                               w.u64(q.handle);
                               w.u32(q.mask);
                               w.u32(q.mode);
                               w.u32(q.uid);
                               w.u32(q.gid);
                               w.s64(q.size);
                               w.s64(q.atime_sec);
                               w.s64(q.atime_nsec);
                               w.s64(q.mtime_sec);
                               w.s64(q.mtime_nsec);
                               return 0;
                             },
                         },
                         request.body);
  if (error != 0) return Err(error);
  return std::move(w).finish();
}

Result<Request> decode_request(std::span<const uint8_t> message) {
  if (message.size() > kMaxMessageSize || message.size() < kRequestHeaderSize) return Err(EBADMSG);
  Reader r(message);
  Request request;
  request.tag = r.u32();
  uint32_t op = r.u32();
  switch (static_cast<Op>(op)) {
    case Op::kWalk: {
      WalkRequest q;
      q.dir = r.u64();
      uint16_t length = r.u16();
      q.name = r.bytes(length);
      if (!r.done()) return Err(EBADMSG);
      if (int e = check_name(q.name)) return Err(e);
      request.body = std::move(q);
      break;
    }
    case Op::kOpen: {
      OpenRequest q;
      q.handle = r.u64();
      q.flags = r.u32();
      request.body = q;
      break;
    }
    case Op::kStat:
      request.body = StatRequest{r.u64()};
      break;
    case Op::kReadlink:
      request.body = ReadlinkRequest{r.u64()};
      break;
    case Op::kGetdents: {
      GetdentsRequest q;
      q.dir = r.u64();
      q.start = r.u64();
      request.body = q;
      break;
    }
    case Op::kRelease:
      request.body = ReleaseRequest{r.u64()};
      break;
    case Op::kCreate:
    case Op::kMkdir:
    case Op::kMknod:
    case Op::kSymlink: {
      MakeRequest q;
      q.op = static_cast<Op>(op);
      q.dir = r.u64();
      q.name = get_name(r);
      q.mode = r.u32();
      q.uid = r.u32();
      q.gid = r.u32();
      q.flags = r.u32();
      q.target = get_name(r);
      if (!r.done()) return Err(EBADMSG);
      if (int e = check_name(q.name)) return Err(e);
      if (q.op == Op::kSymlink ? !valid_link_target(q.target) : !q.target.empty()) return Err(EINVAL);
      request.body = std::move(q);
      break;
    }
    case Op::kLink: {
      LinkRequest q;
      q.dir = r.u64();
      q.name = get_name(r);
      q.target = r.u64();
      if (!r.done()) return Err(EBADMSG);
      if (int e = check_name(q.name)) return Err(e);
      request.body = std::move(q);
      break;
    }
    case Op::kUnlink: {
      UnlinkRequest q;
      q.dir = r.u64();
      q.name = get_name(r);
      q.flags = r.u32();
      if (!r.done()) return Err(EBADMSG);
      if (int e = check_name(q.name)) return Err(e);
      request.body = std::move(q);
      break;
    }
    case Op::kRename: {
      RenameRequest q;
      q.old_dir = r.u64();
      q.old_name = get_name(r);
      q.new_dir = r.u64();
      q.new_name = get_name(r);
      q.flags = r.u32();
      if (!r.done()) return Err(EBADMSG);
      if (int e = check_name(q.old_name)) return Err(e);
      if (int e = check_name(q.new_name)) return Err(e);
      request.body = std::move(q);
      break;
    }
    case Op::kSetattr: {
      SetattrRequest q;
      q.handle = r.u64();
      q.mask = r.u32();
      q.mode = r.u32();
      q.uid = r.u32();
      q.gid = r.u32();
      q.size = r.s64();
      q.atime_sec = r.s64();
      q.atime_nsec = r.s64();
      q.mtime_sec = r.s64();
      q.mtime_nsec = r.s64();
      if (!r.done()) return Err(EBADMSG);
      if (((q.mask & kSetAtime) && !valid_nsec(q.atime_nsec)) || ((q.mask & kSetMtime) && !valid_nsec(q.mtime_nsec)))
        return Err(EINVAL);
      request.body = q;
      break;
    }
    default:
      return Err(ENOSYS);
  }
  if (!r.done()) return Err(EBADMSG);
  return request;
}

Result<std::vector<uint8_t>> encode_reply(const Reply& reply) {
  Writer w;
  w.u32(reply.tag);
  if (const auto* e = std::get_if<ErrorReply>(&reply.body)) {
    if (e->error <= 0 || static_cast<uint32_t>(e->error) > kMaxErrno) return Err(EINVAL);
    w.u32(e->op);
    w.u32(static_cast<uint32_t>(e->error));
    return std::move(w).finish();
  }
  int error = std::visit(Overloaded{
                             [&](const ErrorReply&) { return EINVAL; },  // handled above
                             [&](const WalkReply& p) {
                               if (p.handle == kRootHandle || !valid_stat(p.stat)) return EINVAL;
                               w.u32(static_cast<uint32_t>(Op::kWalk));
                               w.u32(0);
                               w.u64(p.handle);
                               put_stat(w, p.stat);
                               return 0;
                             },
                             [&](const OpenReply&) {
                               w.u32(static_cast<uint32_t>(Op::kOpen));
                               w.u32(0);
                               return 0;
                             },
                             [&](const StatReply& p) {
                               if (!valid_stat(p.stat)) return EINVAL;
                               w.u32(static_cast<uint32_t>(Op::kStat));
                               w.u32(0);
                               put_stat(w, p.stat);
                               return 0;
                             },
                             [&](const ReadlinkReply& p) {
                               if (!valid_link_target(p.target)) return EINVAL;
                               w.u32(static_cast<uint32_t>(Op::kReadlink));
                               w.u32(0);
                               w.u32(static_cast<uint32_t>(p.target.size()));
                               w.bytes(p.target);
                               return 0;
                             },
                             [&](const GetdentsReply& p) {
                               // Bound the count before the loop so the u32 below cannot wrap;
                               // finish() then checks the exact size.
                               if (p.entries.size() > kMaxMessageSize / dirent_wire_size(1)) return EMSGSIZE;
                               w.u32(static_cast<uint32_t>(Op::kGetdents));
                               w.u32(0);
                               w.u8(p.end ? 1 : 0);
                               w.u32(static_cast<uint32_t>(p.entries.size()));
                               for (const DirEntry& d : p.entries) {
                                 if (check_name(d.name) != 0) return EINVAL;
                                 w.u64(d.ino);
                                 w.u8(d.type);
                                 w.u16(static_cast<uint16_t>(d.name.size()));
                                 w.bytes(d.name);
                               }
                               return 0;
                             },
                             [&](const ReleaseReply&) {
                               w.u32(static_cast<uint32_t>(Op::kRelease));
                               w.u32(0);
                               return 0;
                             },
                             [&](const EntryReply& p) {
                               if (!is_entry_op(p.op) || p.handle == kRootHandle || !valid_stat(p.stat)) return EINVAL;
                               w.u32(static_cast<uint32_t>(p.op));
                               w.u32(0);
                               w.u64(p.handle);
                               put_stat(w, p.stat);
                               return 0;
                             },
                             [&](const DoneReply& p) {
                               if (p.op != Op::kUnlink && p.op != Op::kRename) return EINVAL;
                               w.u32(static_cast<uint32_t>(p.op));
                               w.u32(0);
                               return 0;
                             },
                             [&](const SetattrReply& p) {
                               if (!valid_stat(p.stat)) return EINVAL;
                               w.u32(static_cast<uint32_t>(Op::kSetattr));
                               w.u32(0);
                               put_stat(w, p.stat);
                               return 0;
                             },
                         },
                         reply.body);
  if (error != 0) return Err(error);
  return std::move(w).finish();
}

Result<Reply> decode_reply(std::span<const uint8_t> message) {
  if (message.size() > kMaxMessageSize || message.size() < kReplyHeaderSize) return Err(EBADMSG);
  Reader r(message);
  Reply reply;
  reply.tag = r.u32();
  uint32_t op = r.u32();
  uint32_t error = r.u32();
  if (error != 0) {
    if (error > kMaxErrno || !r.done()) return Err(EBADMSG);
    reply.body = ErrorReply{op, static_cast<int>(error)};
    return reply;
  }
  switch (static_cast<Op>(op)) {
    case Op::kWalk: {
      WalkReply p;
      p.handle = r.u64();
      p.stat = get_stat(r);
      if (p.handle == kRootHandle) return Err(EBADMSG);
      reply.body = p;
      break;
    }
    case Op::kOpen:
      reply.body = OpenReply{};
      break;
    case Op::kStat:
      reply.body = StatReply{get_stat(r)};
      break;
    case Op::kReadlink: {
      uint32_t length = r.u32();
      if (length > kMaxLinkTargetLength) return Err(EBADMSG);
      ReadlinkReply p{r.bytes(length)};
      if (!r.ok() || !valid_link_target(p.target)) return Err(EBADMSG);
      reply.body = std::move(p);
      break;
    }
    case Op::kGetdents: {
      GetdentsReply p;
      uint8_t end = r.u8();
      uint32_t count = r.u32();
      if (!r.ok() || end > 1) return Err(EBADMSG);
      p.end = end == 1;
      // The count is the peer's word; reserve no more than the bytes left
      // could possibly hold.
      p.entries.reserve(std::min<size_t>(count, r.remaining() / dirent_wire_size(1)));
      for (uint32_t i = 0; i < count && r.ok(); ++i) {
        DirEntry d;
        d.ino = r.u64();
        d.type = r.u8();
        uint16_t length = r.u16();
        d.name = r.bytes(length);
        if (r.ok() && check_name(d.name) != 0) return Err(EBADMSG);
        p.entries.push_back(std::move(d));
      }
      if (!r.ok()) return Err(EBADMSG);
      reply.body = std::move(p);
      break;
    }
    case Op::kRelease:
      reply.body = ReleaseReply{};
      break;
    case Op::kCreate:
    case Op::kMkdir:
    case Op::kMknod:
    case Op::kSymlink:
    case Op::kLink: {
      EntryReply p;
      p.op = static_cast<Op>(op);
      p.handle = r.u64();
      p.stat = get_stat(r);
      if (p.handle == kRootHandle) return Err(EBADMSG);
      reply.body = p;
      break;
    }
    case Op::kUnlink:
    case Op::kRename:
      reply.body = DoneReply{static_cast<Op>(op)};
      break;
    case Op::kSetattr:
      reply.body = SetattrReply{get_stat(r)};
      break;
    default:
      return Err(EBADMSG);
  }
  if (!r.done()) return Err(EBADMSG);
  return reply;
}

std::optional<RequestHeader> peek_request_header(std::span<const uint8_t> message) {
  if (message.size() < kRequestHeaderSize) return std::nullopt;
  Reader r(message);
  RequestHeader h;
  h.tag = r.u32();
  h.op = r.u32();
  return h;
}

}  // namespace runsc::gofer
