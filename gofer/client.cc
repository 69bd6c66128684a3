#include "gofer/client.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/log.h"
#include "gofer/protocol.h"
#include "gofer/transport.h"

namespace runsc::gofer {
namespace {

uint32_t reply_op(const ReplyBody& body) {
  if (const auto* e = std::get_if<ErrorReply>(&body)) return e->op;
  if (std::holds_alternative<WalkReply>(body)) return static_cast<uint32_t>(Op::kWalk);
  if (std::holds_alternative<OpenReply>(body)) return static_cast<uint32_t>(Op::kOpen);
  if (std::holds_alternative<StatReply>(body)) return static_cast<uint32_t>(Op::kStat);
  if (std::holds_alternative<ReadlinkReply>(body)) return static_cast<uint32_t>(Op::kReadlink);
  if (std::holds_alternative<GetdentsReply>(body)) return static_cast<uint32_t>(Op::kGetdents);
  if (const auto* p = std::get_if<EntryReply>(&body)) return static_cast<uint32_t>(p->op);
  if (const auto* p = std::get_if<DoneReply>(&body)) return static_cast<uint32_t>(p->op);
  if (std::holds_alternative<SetattrReply>(body)) return static_cast<uint32_t>(Op::kSetattr);
  return static_cast<uint32_t>(Op::kRelease);
}

// The result a reply carries: its errno, or its body of type T.
template <class T>
Result<T> result_of(Result<Reply> reply) {
  if (!reply) return Err(reply.error());
  if (const auto* e = std::get_if<ErrorReply>(&reply->body)) return Err(e->error);
  // call() checked that the op matches, so the body is a T.
  return std::get<T>(std::move(reply->body));
}

}  // namespace

Client::Client(UniqueFd socket) : socket_(std::move(socket)), buffer_(kMaxMessageSize) {}

Client::~Client() = default;

Result<Reply> Client::call(const Request& prototype, UniqueFd* fd) {
  std::lock_guard lock(mu_);
  if (broken_) return Err(EIO);
  Request request = prototype;
  request.tag = next_tag_++;
  // Caller errors (a bad name) are refused here and leave the connection
  // as it was.
  auto bytes = encode_request(request);
  if (!bytes) return Err(bytes.error());

  // Anything past this point that goes wrong leaves requests and replies
  // out of step, or the gofer gone: no later reply could be trusted to
  // answer the request it seems to answer.
  auto broken = [this](std::string_view why) {
    log::warn("gofer client: {}; the connection is unusable", why);
    broken_ = true;
    return Err(EIO);
  };
  if (int e = send_message(socket_.get(), *bytes)) return broken(std::strerror(e));
  auto got = receive_message(socket_.get(), buffer_, /*accept_fd=*/true);
  if (!got) return broken(std::strerror(got.error()));
  if (got->closed) return broken("the gofer closed the connection");
  if (got->truncated) return broken("oversized reply");
  auto reply = decode_reply(std::span<const uint8_t>(buffer_.data(), got->size));
  if (!reply) return broken("malformed reply");
  if (reply->tag != request.tag) return broken("reply tag does not match the request");
  if (reply_op(reply->body) != static_cast<uint32_t>(op_of(request.body))) return broken("reply op does not match");
  bool success = !std::holds_alternative<ErrorReply>(reply->body);
  if (fd != nullptr && success) {
    if (!got->fd) return broken("no FD came with the reply");
    *fd = std::move(got->fd);
  }
  // An FD attached to any other reply is dropped (closed) with `got`.
  return reply;
}

Result<WalkResult> Client::walk(Handle dir, std::string_view name) {
  auto walked = result_of<WalkReply>(call(Request{0, WalkRequest{dir, std::string(name)}}, nullptr));
  if (!walked) return Err(walked.error());
  return WalkResult{walked->handle, walked->stat};
}

Result<UniqueFd> Client::open(Handle handle, int flags) {
  UniqueFd fd;
  auto opened = result_of<OpenReply>(call(Request{0, OpenRequest{handle, static_cast<uint32_t>(flags)}}, &fd));
  if (!opened) return Err(opened.error());
  return fd;
}

Result<FileStat> Client::stat(Handle handle) {
  auto st = result_of<StatReply>(call(Request{0, StatRequest{handle}}, nullptr));
  if (!st) return Err(st.error());
  return st->stat;
}

Result<std::string> Client::readlink(Handle handle) {
  auto link = result_of<ReadlinkReply>(call(Request{0, ReadlinkRequest{handle}}, nullptr));
  if (!link) return Err(link.error());
  return std::move(link->target);
}

Result<std::vector<DirEntry>> Client::getdents(Handle dir) {
  std::vector<DirEntry> all;
  for (;;) {
    auto batch = result_of<GetdentsReply>(call(Request{0, GetdentsRequest{dir, all.size()}}, nullptr));
    if (!batch) return Err(batch.error());
    // An empty batch that is not the end would have us ask forever.
    if (batch->entries.empty() && !batch->end) return Err(EIO);
    for (DirEntry& e : batch->entries) all.push_back(std::move(e));
    if (batch->end) return all;
  }
}

void Client::release(Handle handle) {
  // Nothing to do for a failure: the handle is gone from our side either way.
  (void)call(Request{0, ReleaseRequest{handle}}, nullptr);
}

Result<WalkResult> Client::make(const MakeRequest& request, UniqueFd* fd) {
  auto made = result_of<EntryReply>(call(Request{0, request}, fd));
  if (!made) return Err(made.error());
  return WalkResult{made->handle, made->stat};
}

Result<std::pair<WalkResult, UniqueFd>> Client::create(Handle dir, std::string_view name, int flags, uint32_t mode,
                                                       uint32_t uid, uint32_t gid) {
  UniqueFd fd;
  auto made = make(MakeRequest{Op::kCreate, dir, std::string(name), mode, uid, gid, static_cast<uint32_t>(flags), {}},
                   &fd);
  if (!made) return Err(made.error());
  return std::pair<WalkResult, UniqueFd>{*made, std::move(fd)};
}

Result<WalkResult> Client::mkdir(Handle dir, std::string_view name, uint32_t mode, uint32_t uid, uint32_t gid) {
  return make(MakeRequest{Op::kMkdir, dir, std::string(name), mode, uid, gid, 0, {}}, nullptr);
}

Result<WalkResult> Client::mknod(Handle dir, std::string_view name, uint32_t mode, uint32_t uid, uint32_t gid) {
  return make(MakeRequest{Op::kMknod, dir, std::string(name), mode, uid, gid, 0, {}}, nullptr);
}

Result<WalkResult> Client::symlink(Handle dir, std::string_view name, std::string_view target, uint32_t uid,
                                   uint32_t gid) {
  return make(MakeRequest{Op::kSymlink, dir, std::string(name), 0777, uid, gid, 0, std::string(target)}, nullptr);
}

Result<WalkResult> Client::link(Handle dir, std::string_view name, Handle target) {
  auto made = result_of<EntryReply>(call(Request{0, LinkRequest{dir, std::string(name), target}}, nullptr));
  if (!made) return Err(made.error());
  return WalkResult{made->handle, made->stat};
}

Result<void> Client::unlink(Handle dir, std::string_view name, int flags) {
  auto done = result_of<DoneReply>(
      call(Request{0, UnlinkRequest{dir, std::string(name), static_cast<uint32_t>(flags)}}, nullptr));
  if (!done) return Err(done.error());
  return {};
}

Result<void> Client::rename(Handle old_dir, std::string_view old_name, Handle new_dir, std::string_view new_name,
                            unsigned flags) {
  auto done = result_of<DoneReply>(call(
      Request{0, RenameRequest{old_dir, std::string(old_name), new_dir, std::string(new_name), flags}}, nullptr));
  if (!done) return Err(done.error());
  return {};
}

Result<FileStat> Client::setattr(const SetattrRequest& request) {
  auto st = result_of<SetattrReply>(call(Request{0, request}, nullptr));
  if (!st) return Err(st.error());
  return st->stat;
}

}  // namespace runsc::gofer
