// The gofer server and client over a real socketpair, against a directory
// tree made for each test. serve() runs in a thread of the test; the
// confinement of gofer_main() is exercised in a child process.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "gofer/client.h"
#include "gofer/protocol.h"
#include "gofer/server.h"
#include "gofer/transport.h"

namespace runsc::gofer {
namespace {

namespace fs = std::filesystem;

constexpr char kFileContent[] = "hello gofer\n";
constexpr int kBigDirEntries = 1500;

void write_file(const fs::path& path, std::string_view content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd.valid()) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::write(fd.get(), content.data(), content.size()), static_cast<ssize_t>(content.size()));
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Names of varied lengths, long enough on average that listing the big
// directory takes several 64 KiB replies.
std::string big_name(int i) { return "entry-" + std::to_string(i) + "-" + std::string(static_cast<size_t>(i % 200), 'x'); }

// The tree every test serves:
//   file.txt          kFileContent
//   dir/nested        "nested"
//   link          ->  file.txt
//   passwd_link   ->  /etc/passwd
//   dotdot_link   ->  ..
//   fifo              a named pipe
//   big/              kBigDirEntries empty files
//   empty/
class GoferServerTest : public ::testing::Test {
 protected:
  // Whether the server under test refuses changes (the default, as the
  // overlay's lower layer is served).
  virtual bool read_only() const { return true; }

  void SetUp() override {
    char templ[] = "/tmp/gofer_test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    root_ = templ;
    write_file(root_ / "file.txt", kFileContent);
    fs::create_directory(root_ / "dir");
    write_file(root_ / "dir" / "nested", "nested");
    fs::create_symlink("file.txt", root_ / "link");
    fs::create_symlink("/etc/passwd", root_ / "passwd_link");
    fs::create_symlink("..", root_ / "dotdot_link");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
    fs::create_directory(root_ / "big");
    for (int i = 0; i < kBigDirEntries; ++i) write_file(root_ / "big" / big_name(i), "");
    fs::create_directory(root_ / "empty");

    int sp[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
    raw_.reset(sp[0]);
    server_end_.reset(sp[1]);
    ServerOptions options;
    options.root = root_.string();
    options.read_only = read_only();
    server_ = std::thread([this, options] { server_result_ = serve(server_end_.get(), options); });
    // The client and the raw socket are two FDs for one end; tests use one
    // or the other at a time.
    client_ = std::make_unique<Client>(UniqueFd(::dup(raw_.get())));
  }

  void TearDown() override {
    client_.reset();
    raw_.reset();
    if (server_.joinable()) server_.join();
    // The server ends cleanly when the peer goes away.
    EXPECT_EQ(server_result_.load(), 0);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Sends raw bytes as one packet and reads the reply, if any comes within
  // `timeout_ms`.
  std::optional<Reply> raw_exchange(std::span<const uint8_t> bytes, int timeout_ms = 5000, int fd = -1) {
    EXPECT_EQ(send_message(raw_.get(), bytes, fd), 0);
    return raw_receive(timeout_ms);
  }
  std::optional<Reply> raw_receive(int timeout_ms) {
    pollfd p{raw_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    std::vector<uint8_t> buffer(kMaxMessageSize);
    auto got = receive_message(raw_.get(), buffer, /*accept_fd=*/true);
    EXPECT_TRUE(got.has_value());
    if (!got) return std::nullopt;
    auto reply = decode_reply(std::span<const uint8_t>(buffer.data(), got->size));
    EXPECT_TRUE(reply.has_value());
    if (!reply) return std::nullopt;
    return *reply;
  }
  std::optional<Reply> raw_call(const Request& request) {
    auto bytes = encode_request(request);
    EXPECT_TRUE(bytes.has_value());
    return raw_exchange(*bytes);
  }

  // The server still answers properly.
  void expect_serving() {
    auto st = client_->stat(kRootHandle);
    ASSERT_TRUE(st.has_value()) << st.error();
    EXPECT_TRUE(S_ISDIR(st->mode));
  }

  WalkResult walk(Handle dir, std::string_view name) {
    auto w = client_->walk(dir, name);
    EXPECT_TRUE(w.has_value()) << name << ": " << (w ? 0 : w.error());
    return w.value_or(WalkResult{});
  }

  fs::path root_;
  UniqueFd raw_;
  UniqueFd server_end_;
  std::thread server_;
  std::atomic<int> server_result_{-1};
  std::unique_ptr<Client> client_;
};

int error_of(const std::optional<Reply>& reply) {
  if (!reply) return -1;
  const auto* e = std::get_if<ErrorReply>(&reply->body);
  return e ? e->error : 0;
}

// Serving the host's "/" (what `runsc do` does without --root-dir): the
// host's /proc and /sys are mount points the Sentry sees as empty
// directories; nothing of the host's processes (not even the gofer's own
// /proc/self) can be walked to or listed.
TEST(GoferHostRoot, HostKernelFilesystemsAreNotServed) {
  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  UniqueFd server_end(sp[1]);
  ServerOptions options;
  options.root = "/";
  options.read_only = true;
  std::thread server([&] { serve(server_end.get(), options); });
  {
    Client client{UniqueFd(sp[0])};
    for (const char* dir : {"proc", "sys"}) {
      auto w = client.walk(kRootHandle, dir);
      ASSERT_TRUE(w.has_value()) << dir;
      EXPECT_TRUE(S_ISDIR(w->stat.mode));
      auto entries = client.getdents(w->handle);
      ASSERT_TRUE(entries.has_value()) << dir;
      EXPECT_TRUE(entries->empty()) << dir << " lists " << entries->size() << " entries";
    }
    auto proc = client.walk(kRootHandle, "proc");
    ASSERT_TRUE(proc.has_value());
    EXPECT_EQ(client.walk(proc->handle, "self").error(), ENOENT);
    EXPECT_EQ(client.walk(proc->handle, "1").error(), ENOENT);
    // Ordinary directories of the host root are served.
    auto etc = client.walk(kRootHandle, "etc");
    ASSERT_TRUE(etc.has_value());
    EXPECT_TRUE(client.walk(etc->handle, "passwd").has_value());
  }
  server.join();
}

TEST_F(GoferServerTest, StatRoot) {
  auto st = client_->stat(kRootHandle);
  ASSERT_TRUE(st.has_value());
  struct stat host;
  ASSERT_EQ(::lstat(root_.c_str(), &host), 0);
  EXPECT_EQ(*st, file_stat_from_host(host));
}

TEST_F(GoferServerTest, WalkAndStat) {
  WalkResult file = walk(kRootHandle, "file.txt");
  struct stat host;
  ASSERT_EQ(::lstat((root_ / "file.txt").c_str(), &host), 0);
  EXPECT_NE(file.handle, kRootHandle);
  EXPECT_TRUE(S_ISREG(file.stat.mode));
  EXPECT_EQ(file.stat.ino, host.st_ino);
  EXPECT_EQ(file.stat.dev, host.st_dev);
  EXPECT_EQ(file.stat.size, static_cast<int64_t>(sizeof(kFileContent) - 1));
  auto again = client_->stat(file.handle);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->ino, host.st_ino);
  EXPECT_EQ(again->size, file.stat.size);

  WalkResult dir = walk(kRootHandle, "dir");
  EXPECT_TRUE(S_ISDIR(dir.stat.mode));
  WalkResult nested = walk(dir.handle, "nested");
  EXPECT_TRUE(S_ISREG(nested.stat.mode));
  EXPECT_EQ(nested.stat.size, 6);
  // Each walk gets a handle of its own.
  WalkResult file2 = walk(kRootHandle, "file.txt");
  EXPECT_NE(file2.handle, file.handle);
}

TEST_F(GoferServerTest, WalkErrors) {
  EXPECT_EQ(client_->walk(kRootHandle, "missing").error(), ENOENT);
  WalkResult file = walk(kRootHandle, "file.txt");
  EXPECT_EQ(client_->walk(file.handle, "x").error(), ENOTDIR);
  EXPECT_EQ(client_->walk(987654, "file.txt").error(), EBADF);
  EXPECT_EQ(client_->walk(kRootHandle, std::string(300, 'a')).error(), ENAMETOOLONG);
}

TEST_F(GoferServerTest, WalkOfASymlinkReturnsTheLink) {
  WalkResult link = walk(kRootHandle, "link");
  EXPECT_TRUE(S_ISLNK(link.stat.mode));
  auto target = client_->readlink(link.handle);
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(*target, "file.txt");
  // Only symlinks have targets (readlink(2)).
  WalkResult file = walk(kRootHandle, "file.txt");
  EXPECT_EQ(client_->readlink(file.handle).error(), EINVAL);
  EXPECT_EQ(client_->readlink(kRootHandle).error(), EINVAL);
  // A symlink is not a directory to walk through, even one to a directory.
  WalkResult up = walk(kRootHandle, "dotdot_link");
  EXPECT_TRUE(S_ISLNK(up.stat.mode));
  EXPECT_EQ(client_->walk(up.handle, "etc").error(), ENOTDIR);
}

TEST_F(GoferServerTest, SymlinkOutOfTheTreeCannotBeOpened) {
  WalkResult link = walk(kRootHandle, "passwd_link");
  EXPECT_TRUE(S_ISLNK(link.stat.mode));
  EXPECT_EQ(client_->readlink(link.handle).value_or(""), "/etc/passwd");
  EXPECT_EQ(client_->open(link.handle, O_RDONLY).error(), ELOOP);
  EXPECT_EQ(client_->open(link.handle, O_RDONLY | O_DIRECTORY).error(), ELOOP);
  EXPECT_EQ(client_->walk(link.handle, "x").error(), ENOTDIR);
  WalkResult up = walk(kRootHandle, "dotdot_link");
  EXPECT_EQ(client_->open(up.handle, O_RDONLY | O_DIRECTORY).error(), ELOOP);
  // Same for a link inside the tree: the Sentry follows links, the gofer never.
  WalkResult inside = walk(kRootHandle, "link");
  EXPECT_EQ(client_->open(inside.handle, O_RDONLY).error(), ELOOP);
}

TEST_F(GoferServerTest, DotDotIsRefused) {
  for (std::string_view name : {"..", ".", "", "dir/nested", "../etc", "/etc"}) {
    EXPECT_EQ(client_->walk(kRootHandle, name).error(), EINVAL) << name;
  }
  WalkResult dir = walk(kRootHandle, "dir");
  EXPECT_EQ(client_->walk(dir.handle, "..").error(), EINVAL);

  // A peer that skips the client's checks gets the same answer from the
  // server: a Walk of ".." put on the wire by hand.
  std::vector<uint8_t> raw = {0x44, 0x33, 0x22, 0x11, static_cast<uint8_t>(Op::kWalk), 0, 0, 0};
  raw.resize(raw.size() + 8, 0);  // the root handle
  raw.insert(raw.end(), {2, 0, '.', '.'});
  auto reply = raw_exchange(raw);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->tag, 0x11223344u);
  EXPECT_EQ(error_of(reply), EINVAL);
  expect_serving();
}

TEST_F(GoferServerTest, OpenForWriteIsRefused) {
  WalkResult file = walk(kRootHandle, "file.txt");
  for (int flags : {O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_RDONLY | O_APPEND, O_RDONLY | O_CREAT,
                    O_WRONLY | O_CREAT | O_TRUNC, O_TMPFILE | O_RDWR}) {
    EXPECT_EQ(client_->open(file.handle, flags).error(), EROFS) << std::oct << flags;
  }
  EXPECT_EQ(client_->open(kRootHandle, O_TMPFILE | O_WRONLY).error(), EROFS);
  struct stat host;
  ASSERT_EQ(::stat((root_ / "file.txt").c_str(), &host), 0);
  EXPECT_EQ(host.st_size, static_cast<off_t>(sizeof(kFileContent) - 1));
}

TEST_F(GoferServerTest, OpenForReadDonatesTheFile) {
  WalkResult file = walk(kRootHandle, "file.txt");
  auto fd = client_->open(file.handle, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ASSERT_TRUE(fd.has_value()) << fd.error();
  EXPECT_EQ(read_all(fd->get()), kFileContent);
  struct stat st;
  ASSERT_EQ(::fstat(fd->get(), &st), 0);
  EXPECT_EQ(st.st_ino, file.stat.ino);
  // Received close-on-exec, and blocking as asked, though the server opens
  // with O_NONBLOCK.
  EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
  int status = ::fcntl(fd->get(), F_GETFL);
  EXPECT_EQ(status & O_NONBLOCK, 0);
  EXPECT_EQ(status & O_ACCMODE, O_RDONLY);

  auto nb = client_->open(file.handle, O_RDONLY | O_NONBLOCK);
  ASSERT_TRUE(nb.has_value());
  EXPECT_NE(::fcntl(nb->get(), F_GETFL) & O_NONBLOCK, 0);

  // The root reopens as ".".
  auto dir = client_->open(kRootHandle, O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(dir.has_value()) << dir.error();
  ASSERT_EQ(::fstat(dir->get(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(client_->open(file.handle, O_RDONLY | O_DIRECTORY).error(), ENOTDIR);
}

TEST_F(GoferServerTest, OpenRefusesOtherFileTypesAndFlags) {
  // Opening a FIFO would block the server; it is refused, promptly.
  WalkResult fifo = walk(kRootHandle, "fifo");
  EXPECT_TRUE(S_ISFIFO(fifo.stat.mode));
  EXPECT_EQ(client_->open(fifo.handle, O_RDONLY).error(), EACCES);
  WalkResult file = walk(kRootHandle, "file.txt");
  EXPECT_EQ(client_->open(file.handle, O_PATH).error(), EINVAL);
  EXPECT_EQ(client_->open(file.handle, O_ACCMODE).error(), EINVAL);
  EXPECT_EQ(client_->open(file.handle, O_RDONLY | O_ASYNC).error(), EINVAL);
  EXPECT_EQ(client_->open(file.handle, O_RDONLY | 0x40000000).error(), EINVAL);
  EXPECT_EQ(client_->open(424242, O_RDONLY).error(), EBADF);
  expect_serving();
}

TEST_F(GoferServerTest, OpenOfAReplacedFileIsStale) {
  WalkResult file = walk(kRootHandle, "dir");
  WalkResult nested = walk(file.handle, "nested");
  // The host renames another file over the name the handle was walked by.
  write_file(root_ / "dir" / "other", "other");
  ASSERT_EQ(::rename((root_ / "dir" / "other").c_str(), (root_ / "dir" / "nested").c_str()), 0);
  EXPECT_EQ(client_->open(nested.handle, O_RDONLY).error(), ESTALE);
}

TEST_F(GoferServerTest, GetdentsListsWithoutDotEntries) {
  auto entries = client_->getdents(kRootHandle);
  ASSERT_TRUE(entries.has_value()) << entries.error();
  std::map<std::string, DirEntry> by_name;
  for (const DirEntry& e : *entries) EXPECT_TRUE(by_name.emplace(e.name, e).second) << "twice: " << e.name;
  std::set<std::string> names;
  for (const auto& [name, e] : by_name) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"file.txt", "dir", "link", "passwd_link", "dotdot_link", "fifo", "big",
                                          "empty"}));
  struct stat host;
  ASSERT_EQ(::lstat((root_ / "file.txt").c_str(), &host), 0);
  EXPECT_EQ(by_name["file.txt"].ino, host.st_ino);
  // d_type is the filesystem's to give; DT_UNKNOWN is allowed.
  auto type_is = [](uint8_t got, uint8_t want) { return got == want || got == DT_UNKNOWN; };
  EXPECT_TRUE(type_is(by_name["file.txt"].type, DT_REG));
  EXPECT_TRUE(type_is(by_name["dir"].type, DT_DIR));
  EXPECT_TRUE(type_is(by_name["link"].type, DT_LNK));
  EXPECT_TRUE(type_is(by_name["fifo"].type, DT_FIFO));

  WalkResult empty = walk(kRootHandle, "empty");
  auto none = client_->getdents(empty.handle);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());

  WalkResult file = walk(kRootHandle, "file.txt");
  EXPECT_EQ(client_->getdents(file.handle).error(), ENOTDIR);
  WalkResult link = walk(kRootHandle, "dotdot_link");
  EXPECT_EQ(client_->getdents(link.handle).error(), ELOOP);
  EXPECT_EQ(client_->getdents(31337).error(), EBADF);
}

TEST_F(GoferServerTest, GetdentsFromTheStartSeesChangesSinceAnEarlierListing) {
  // A listing that ended (here: of an empty directory) leaves the server's
  // stream at its end; the next one from the start must read the
  // directory again, as a new getdents64(2) after a rewind does.
  WalkResult empty = walk(kRootHandle, "empty");
  auto before = client_->getdents(empty.handle);
  ASSERT_TRUE(before.has_value());
  EXPECT_TRUE(before->empty());
  write_file(root_ / "empty" / "new", "x");
  auto after = client_->getdents(empty.handle);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].name, "new");
  fs::remove(root_ / "empty" / "new");
}

TEST_F(GoferServerTest, GetdentsOfAHugeDirectoryIsComplete) {
  WalkResult big = walk(kRootHandle, "big");
  std::set<std::string> want;
  for (int i = 0; i < kBigDirEntries; ++i) want.insert(big_name(i));
  for (int round = 0; round < 2; ++round) {  // the second listing starts over
    auto entries = client_->getdents(big.handle);
    ASSERT_TRUE(entries.has_value()) << entries.error();
    ASSERT_EQ(entries->size(), static_cast<size_t>(kBigDirEntries));
    std::set<std::string> got;
    for (const DirEntry& e : *entries) got.insert(e.name);
    EXPECT_EQ(got, want);
  }
}

TEST_F(GoferServerTest, GetdentsBatchesFitOneMessageAndResumeAnywhere) {
  WalkResult big = walk(kRootHandle, "big");
  auto all = client_->getdents(big.handle);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), static_cast<size_t>(kBigDirEntries));

  // Batch by batch, by hand: several batches, each a prefix of the rest.
  uint64_t start = 0;
  int batches = 0;
  for (;;) {
    auto reply = raw_call(Request{100u + static_cast<uint32_t>(batches), GetdentsRequest{big.handle, start}});
    ASSERT_TRUE(reply.has_value());
    const auto* p = std::get_if<GetdentsReply>(&reply->body);
    ASSERT_NE(p, nullptr);
    ++batches;
    for (size_t i = 0; i < p->entries.size(); ++i) EXPECT_EQ(p->entries[i], (*all)[start + i]);
    start += p->entries.size();
    if (p->end) break;
    ASSERT_FALSE(p->entries.empty());
  }
  EXPECT_EQ(start, static_cast<uint64_t>(kBigDirEntries));
  EXPECT_GE(batches, 3);

  // Going back, jumping ahead, and past the end.
  for (uint64_t at : {uint64_t{5}, uint64_t{1400}, uint64_t{2}, uint64_t{1499}}) {
    auto reply = raw_call(Request{7, GetdentsRequest{big.handle, at}});
    ASSERT_TRUE(reply.has_value());
    const auto* p = std::get_if<GetdentsReply>(&reply->body);
    ASSERT_NE(p, nullptr);
    ASSERT_FALSE(p->entries.empty());
    EXPECT_EQ(p->entries.front(), (*all)[at]);
  }
  auto past = raw_call(Request{8, GetdentsRequest{big.handle, UINT64_MAX}});
  ASSERT_TRUE(past.has_value());
  const auto* p = std::get_if<GetdentsReply>(&past->body);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->entries.empty());
  EXPECT_TRUE(p->end);
}

TEST_F(GoferServerTest, Release) {
  WalkResult dir = walk(kRootHandle, "dir");
  WalkResult nested = walk(dir.handle, "nested");
  client_->release(dir.handle);
  EXPECT_EQ(client_->stat(dir.handle).error(), EBADF);
  // A child outlives its parent's handle: it keeps what it needs to reopen.
  auto fd = client_->open(nested.handle, O_RDONLY);
  ASSERT_TRUE(fd.has_value()) << fd.error();
  EXPECT_EQ(read_all(fd->get()), "nested");
  // Releasing twice, or releasing the root, does no harm.
  auto twice = raw_call(Request{5, ReleaseRequest{dir.handle}});
  EXPECT_EQ(error_of(twice), EBADF);
  auto root = raw_call(Request{6, ReleaseRequest{kRootHandle}});
  EXPECT_EQ(error_of(root), 0);
  expect_serving();
}

TEST_F(GoferServerTest, HostileMessagesGetErrorsAndServingGoesOn) {
  // Unknown op: answered with the tag and op it came with.
  std::vector<uint8_t> unknown = {7, 0, 0, 0, 99, 0, 0, 0, 1, 2, 3};
  auto reply = raw_exchange(unknown);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->tag, 7u);
  ASSERT_TRUE(std::holds_alternative<ErrorReply>(reply->body));
  EXPECT_EQ(std::get<ErrorReply>(reply->body).op, 99u);
  EXPECT_EQ(error_of(reply), ENOSYS);

  // Truncated, and with trailing bytes.
  auto stat = encode_request(Request{8, StatRequest{kRootHandle}});
  ASSERT_TRUE(stat.has_value());
  std::vector<uint8_t> truncated(stat->begin(), stat->end() - 1);
  reply = raw_exchange(truncated);
  EXPECT_EQ(reply ? reply->tag : 0, 8u);
  EXPECT_EQ(error_of(reply), EBADMSG);
  std::vector<uint8_t> trailing = *stat;
  trailing.push_back(0);
  EXPECT_EQ(error_of(raw_exchange(trailing)), EBADMSG);

  // Larger than any message may be.
  std::vector<uint8_t> oversized(kMaxMessageSize + 100, 0xee);
  oversized[0] = 9;
  oversized[1] = oversized[2] = oversized[3] = 0;
  reply = raw_exchange(oversized);
  EXPECT_EQ(reply ? reply->tag : 0, 9u);
  EXPECT_EQ(error_of(reply), EBADMSG);

  // Too short to hold a tag, and empty: dropped without a reply.
  std::vector<uint8_t> tiny = {1, 2, 3};
  EXPECT_FALSE(raw_exchange(tiny, 200).has_value());
  EXPECT_FALSE(raw_exchange(std::span<const uint8_t>(), 200).has_value());

  // A request with an FD attached: answered, and the FD is not kept.
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  reply = raw_exchange(*stat, 5000, write_end.get());
  EXPECT_EQ(error_of(reply), 0);
  write_end.reset();
  // Had the server kept its copy of the write end, no hangup would show.
  pollfd p{read_end.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_NE(p.revents & POLLHUP, 0);

  // Random garbage, a lot of it.
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::vector<uint8_t> junk(8 + rng() % 64);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    junk[4] = static_cast<uint8_t>(1 + rng() % 7);
    junk[5] = junk[6] = junk[7] = 0;
    // Open of a garbage handle may succeed only for the root; whatever the
    // answer, one comes.
    reply = raw_exchange(junk);
    ASSERT_TRUE(reply.has_value()) << i;
    EXPECT_EQ(reply->tag, uint32_t{junk[0]} | uint32_t{junk[1]} << 8 | uint32_t{junk[2]} << 16 |
                              uint32_t{junk[3]} << 24);
  }
  expect_serving();
  WalkResult file = walk(kRootHandle, "file.txt");
  auto fd = client_->open(file.handle, O_RDONLY);
  ASSERT_TRUE(fd.has_value());
  EXPECT_EQ(read_all(fd->get()), kFileContent);
}

TEST_F(GoferServerTest, ClientIsThreadSafe) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto w = client_->walk(kRootHandle, (i + t) % 2 ? "file.txt" : "dir");
        if (!w) {
          ++failures;
          continue;
        }
        auto st = client_->stat(w->handle);
        if (!st || st->ino != w->stat.ino) ++failures;
        if ((i + t) % 2) {
          auto fd = client_->open(w->handle, O_RDONLY);
          if (!fd || read_all(fd->get()) != kFileContent) ++failures;
        }
        client_->release(w->handle);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// The client against a fake gofer that misbehaves.
TEST_F(GoferServerTest, ChangesAreRefusedByAReadOnlyServer) {
  WalkResult file = walk(kRootHandle, "file.txt");
  EXPECT_EQ(client_->mkdir(kRootHandle, "new", 0755, 0, 0).error(), EROFS);
  EXPECT_EQ(client_->create(kRootHandle, "new", O_RDWR, 0644, 0, 0).error(), EROFS);
  EXPECT_EQ(client_->mknod(kRootHandle, "new", S_IFIFO | 0644, 0, 0).error(), EROFS);
  EXPECT_EQ(client_->symlink(kRootHandle, "new", "file.txt", 0, 0).error(), EROFS);
  EXPECT_EQ(client_->link(kRootHandle, "new", file.handle).error(), EROFS);
  EXPECT_EQ(client_->unlink(kRootHandle, "file.txt", 0).error(), EROFS);
  EXPECT_EQ(client_->rename(kRootHandle, "file.txt", kRootHandle, "moved", 0).error(), EROFS);
  SetattrRequest chmod{file.handle, kSetMode, 0600};
  EXPECT_EQ(client_->setattr(chmod).error(), EROFS);
  EXPECT_FALSE(fs::exists(root_ / "new"));
  EXPECT_TRUE(fs::exists(root_ / "file.txt"));
  EXPECT_EQ(fs::status(root_ / "file.txt").permissions(), fs::perms(0644));
}

// The same tree served writable, as for a root without the overlay or a
// read-write bind mount.
class GoferWritableTest : public GoferServerTest {
 protected:
  bool read_only() const override { return false; }
};

TEST_F(GoferWritableTest, MakesDirectoriesFilesFifosAndSymlinksOnTheHost) {
  auto dir = client_->mkdir(kRootHandle, "newdir", 0750, ::getuid(), ::getgid());
  ASSERT_TRUE(dir.has_value()) << dir.error();
  EXPECT_TRUE(S_ISDIR(dir->stat.mode));
  EXPECT_EQ(fs::status(root_ / "newdir").permissions(), fs::perms(0750));
  auto file = client_->create(dir->handle, "f", O_RDWR, 0640, ::getuid(), ::getgid());
  ASSERT_TRUE(file.has_value()) << file.error();
  ASSERT_EQ(::write(file->second.get(), "abc", 3), 3);
  EXPECT_EQ(fs::file_size(root_ / "newdir" / "f"), 3u);
  EXPECT_EQ(client_->create(dir->handle, "f", O_RDWR, 0640, 0, 0).error(), EEXIST);
  auto fifo = client_->mknod(kRootHandle, "newfifo", S_IFIFO | 0600, ::getuid(), ::getgid());
  ASSERT_TRUE(fifo.has_value()) << fifo.error();
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(root_ / "newfifo")));
  auto link = client_->symlink(kRootHandle, "newlink", "/etc/passwd", ::getuid(), ::getgid());
  ASSERT_TRUE(link.has_value()) << link.error();
  EXPECT_EQ(fs::read_symlink(root_ / "newlink"), "/etc/passwd");
  // Device nodes are never made: the Sentry emulates its devices.
  EXPECT_EQ(client_->mknod(kRootHandle, "dev", S_IFCHR | 0600, 0, 0).error(), EPERM);
  EXPECT_EQ(client_->mknod(kRootHandle, "blk", S_IFBLK | 0600, 0, 0).error(), EPERM);
  EXPECT_FALSE(fs::exists(root_ / "dev"));
}

TEST_F(GoferWritableTest, UnlinkRenameAndHandlesThatFollowTheMove) {
  WalkResult file = walk(kRootHandle, "file.txt");
  WalkResult dir = walk(kRootHandle, "dir");
  ASSERT_TRUE(client_->rename(kRootHandle, "file.txt", dir.handle, "moved", 0).has_value());
  EXPECT_FALSE(fs::exists(root_ / "file.txt"));
  EXPECT_TRUE(fs::exists(root_ / "dir" / "moved"));
  // The handle walked before the move still opens the file.
  auto fd = client_->open(file.handle, O_RDONLY);
  ASSERT_TRUE(fd.has_value()) << fd.error();
  EXPECT_EQ(read_all(fd->get()), kFileContent);
  EXPECT_EQ(client_->rename(dir.handle, "nested", dir.handle, "moved", RENAME_NOREPLACE).error(), EEXIST);
  EXPECT_EQ(client_->rename(dir.handle, "nested", dir.handle, "x", RENAME_WHITEOUT).error(), EINVAL);
  ASSERT_TRUE(client_->unlink(dir.handle, "moved", 0).has_value());
  EXPECT_FALSE(fs::exists(root_ / "dir" / "moved"));
  EXPECT_EQ(client_->unlink(kRootHandle, "empty", 0).error(), EISDIR);
  ASSERT_TRUE(client_->unlink(kRootHandle, "empty", AT_REMOVEDIR).has_value());
  EXPECT_FALSE(fs::exists(root_ / "empty"));
  EXPECT_EQ(client_->unlink(kRootHandle, "dir", AT_REMOVEDIR).error(), ENOTEMPTY);
}

TEST_F(GoferWritableTest, SetattrChangesModeSizeAndTimes) {
  WalkResult file = walk(kRootHandle, "file.txt");
  SetattrRequest q{file.handle, kSetMode | kSetSize | kSetMtime, 0600, 0, 0, 4};
  q.mtime_sec = 1000000000;
  q.mtime_nsec = 5;
  auto st = client_->setattr(q);
  ASSERT_TRUE(st.has_value()) << st.error();
  EXPECT_EQ(st->mode & 07777, 0600u);
  EXPECT_EQ(st->size, 4);
  struct stat host;
  ASSERT_EQ(::stat((root_ / "file.txt").c_str(), &host), 0);
  EXPECT_EQ(host.st_mode & 07777, 0600u);
  EXPECT_EQ(host.st_size, 4);
  EXPECT_EQ(host.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(host.st_mtim.tv_nsec, 5);
}

TEST_F(GoferWritableTest, HardLinksNeverFollowALinkOrLinkADirectory) {
  WalkResult file = walk(kRootHandle, "file.txt");
  auto hard = client_->link(kRootHandle, "hard", file.handle);
  ASSERT_TRUE(hard.has_value()) << hard.error();
  EXPECT_EQ(fs::hard_link_count(root_ / "file.txt"), 2u);
  WalkResult dir = walk(kRootHandle, "dir");
  EXPECT_EQ(client_->link(kRootHandle, "dirlink", dir.handle).error(), EPERM);
  // Linking a symlink that points out of the tree links the symlink itself.
  WalkResult out = walk(kRootHandle, "passwd_link");
  ASSERT_TRUE(client_->link(kRootHandle, "passwd_hard", out.handle).has_value());
  EXPECT_TRUE(fs::is_symlink(root_ / "passwd_hard"));
}

// Symlinks, "..", and renames on the host cannot make a change land
// outside the served tree.
TEST_F(GoferWritableTest, ChangesCannotEscapeTheTree) {
  char outside_templ[] = "/tmp/gofer_outside.XXXXXX";
  ASSERT_NE(::mkdtemp(outside_templ), nullptr);
  fs::path outside = outside_templ;
  write_file(outside / "victim", "keep");
  fs::create_symlink(outside, root_ / "out_link");
  fs::create_symlink(outside / "victim", root_ / "victim_link");

  // A symlink's handle is not a directory to make things in.
  WalkResult out_link = walk(kRootHandle, "out_link");
  EXPECT_EQ(client_->mkdir(out_link.handle, "escaped", 0755, 0, 0).error(), ENOTDIR);
  EXPECT_EQ(client_->create(out_link.handle, "escaped", O_RDWR, 0644, 0, 0).error(), ENOTDIR);
  WalkResult dotdot = walk(kRootHandle, "dotdot_link");
  EXPECT_EQ(client_->mkdir(dotdot.handle, "escaped", 0755, 0, 0).error(), ENOTDIR);
  // Attributes of a symlink's target are never changed through it.
  WalkResult victim_link = walk(kRootHandle, "victim_link");
  SetattrRequest truncate{victim_link.handle, kSetSize | kSetMode, 0777, 0, 0, 0};
  EXPECT_EQ(client_->setattr(truncate).error(), EOPNOTSUPP);
  // Names are single components: never "..", never a path.
  EXPECT_EQ(client_->mkdir(kRootHandle, "..", 0755, 0, 0).error(), EINVAL);
  EXPECT_EQ(client_->create(kRootHandle, "../escaped", O_RDWR, 0644, 0, 0).error(), EINVAL);
  EXPECT_EQ(client_->rename(kRootHandle, "file.txt", kRootHandle, "../escaped", 0).error(), EINVAL);

  // The rename race: the directory walked to is moved away on the host
  // and a symlink out of the tree put in its place. The handle names the
  // directory itself, not its old path, so the change stays in the tree.
  WalkResult dir = walk(kRootHandle, "dir");
  WalkResult nested = walk(dir.handle, "nested");
  fs::rename(root_ / "dir", root_ / "moved_dir");
  fs::create_symlink(outside, root_ / "dir");
  auto made = client_->mkdir(dir.handle, "made", 0755, 0, 0);
  ASSERT_TRUE(made.has_value()) << made.error();
  EXPECT_TRUE(fs::exists(root_ / "moved_dir" / "made"));
  EXPECT_FALSE(fs::exists(outside / "made"));
  // A file handle whose name now leads out of the tree is stale.
  fs::rename(root_ / "moved_dir" / "nested", root_ / "moved_dir" / "nested_moved");
  fs::create_symlink(outside / "victim", root_ / "moved_dir" / "nested");
  SetattrRequest shrink{nested.handle, kSetSize, 0, 0, 0, 0};
  EXPECT_NE(client_->setattr(shrink).error(), 0);

  EXPECT_EQ(fs::directory_iterator(outside) == fs::directory_iterator(), false);
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(outside)) (void)e, ++entries;
  EXPECT_EQ(entries, 1u) << "nothing was created outside the tree";
  UniqueFd vfd(::open((outside / "victim").c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(read_all(vfd.get()), "keep");
  EXPECT_EQ(fs::status(outside / "victim").permissions(), fs::perms(0644));
  std::error_code ec;
  fs::remove_all(outside, ec);
}

TEST_F(GoferWritableTest, MalformedChangeRequestsGetErrors) {
  // A Create with flags the server does not know, and an Unlink with
  // flags other than AT_REMOVEDIR.
  EXPECT_EQ(client_->create(kRootHandle, "x", O_RDWR | O_PATH, 0644, 0, 0).error(), EINVAL);
  EXPECT_EQ(client_->create(kRootHandle, "x", O_ACCMODE, 0644, 0, 0).error(), EINVAL);
  EXPECT_EQ(client_->unlink(kRootHandle, "file.txt", 0x4000).error(), EINVAL);
  EXPECT_EQ(client_->mkdir(424242, "x", 0755, 0, 0).error(), EBADF);
  // A truncated Mkdir packet.
  MakeRequest q{Op::kMkdir, kRootHandle, "x", 0755, 0, 0, 0, {}};
  auto bytes = encode_request(Request{7, q});
  ASSERT_TRUE(bytes.has_value());
  bytes->resize(bytes->size() - 3);
  auto reply = raw_exchange(*bytes);
  EXPECT_EQ(error_of(reply), EBADMSG);
  EXPECT_FALSE(fs::exists(root_ / "x"));
  expect_serving();
}

class GoferClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sp[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
    client_ = std::make_unique<Client>(UniqueFd(sp[0]));
    fake_.reset(sp[1]);
  }
  void TearDown() override {
    if (fake_thread_.joinable()) fake_thread_.join();
  }

  // Answers the next request with what `make` builds from it.
  template <class F>
  void answer_once(F make) {
    fake_thread_ = std::thread([this, make] {
      std::vector<uint8_t> buffer(kMaxMessageSize);
      auto got = receive_message(fake_.get(), buffer, false);
      if (!got || got->closed) return;
      auto request = decode_request(std::span<const uint8_t>(buffer.data(), got->size));
      if (!request) return;
      make(*request);
    });
  }
  void send_reply(const Reply& reply, int fd = -1) {
    auto bytes = encode_reply(reply);
    ASSERT_TRUE(bytes.has_value());
    EXPECT_EQ(send_message(fake_.get(), *bytes, fd), 0);
  }

  std::unique_ptr<Client> client_;
  UniqueFd fake_;
  std::thread fake_thread_;
};

TEST_F(GoferClientTest, MismatchedTagIsEioForGood) {
  answer_once([this](const Request& r) { send_reply(Reply{r.tag + 1, StatReply{}}); });
  EXPECT_EQ(client_->stat(kRootHandle).error(), EIO);
  fake_thread_.join();
  // Out of step now: later replies cannot be matched to requests.
  EXPECT_EQ(client_->stat(kRootHandle).error(), EIO);
}

TEST_F(GoferClientTest, MismatchedOpIsEio) {
  answer_once([this](const Request& r) { send_reply(Reply{r.tag, ReleaseReply{}}); });
  EXPECT_EQ(client_->stat(kRootHandle).error(), EIO);
}

TEST_F(GoferClientTest, ErrorRepliesPassThrough) {
  answer_once([this](const Request& r) { send_reply(Reply{r.tag, ErrorReply{uint32_t(op_of(r.body)), EACCES}}); });
  EXPECT_EQ(client_->stat(kRootHandle).error(), EACCES);
  fake_thread_.join();
  // Not a protocol failure: the connection stays usable.
  answer_once([this](const Request& r) { send_reply(Reply{r.tag, StatReply{FileStat{.ino = 77}}}); });
  auto st = client_->stat(kRootHandle);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->ino, 77u);
}

TEST_F(GoferClientTest, ClosedSocketIsEio) {
  fake_.reset();
  EXPECT_EQ(client_->stat(kRootHandle).error(), EIO);
  EXPECT_EQ(client_->getdents(kRootHandle).error(), EIO);
}

TEST_F(GoferClientTest, GoferClosingMidRequestIsEio) {
  answer_once([this](const Request&) { fake_.reset(); });
  EXPECT_EQ(client_->readlink(kRootHandle).error(), EIO);
}

TEST_F(GoferClientTest, OpenWithoutAnFdIsEio) {
  answer_once([this](const Request& r) { send_reply(Reply{r.tag, OpenReply{}}); });
  EXPECT_EQ(client_->open(kRootHandle, O_RDONLY).error(), EIO);
}

TEST_F(GoferClientTest, UnaskedFdsAreClosed) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  answer_once([&](const Request& r) { send_reply(Reply{r.tag, StatReply{}}, write_end.get()); });
  EXPECT_TRUE(client_->stat(kRootHandle).has_value());
  fake_thread_.join();
  write_end.reset();
  pollfd p{read_end.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_NE(p.revents & POLLHUP, 0);
}

TEST_F(GoferClientTest, EndlessEmptyListingIsEio) {
  answer_once([this](const Request& r) { send_reply(Reply{r.tag, GetdentsReply{{}, false}}); });
  EXPECT_EQ(client_->getdents(kRootHandle).error(), EIO);
}

TEST_F(GoferClientTest, BadNamesNeverReachTheGofer) {
  EXPECT_EQ(client_->walk(kRootHandle, "..").error(), EINVAL);
  EXPECT_EQ(client_->walk(kRootHandle, "a/b").error(), EINVAL);
  pollfd p{fake_.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
}

// gofer_main() in a child process: its own mount namespace, pivot_root
// into the tree, then the same service. Needs CAP_SYS_ADMIN.
TEST(GoferMain, ServesFromInsideThePivotedRoot) {
  char templ[] = "/tmp/gofer_main_test.XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  fs::path root = templ;
  write_file(root / "file.txt", kFileContent);
  fs::create_symlink("/etc/passwd", root / "passwd_link");
  struct stat host_root;
  ASSERT_EQ(::stat(root.c_str(), &host_root), 0);

  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(sp[0]);
    // Probe first, so that a host without the privilege skips rather
    // than fails.
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(77);
    GoferConfig config;
    config.root = root.string();
    config.socket_fd = sp[1];
    config.read_only = true;
    ::_exit(gofer_main(config));
  }
  ::close(sp[1]);
  {
    Client client{UniqueFd(sp[0])};
    auto st = client.stat(kRootHandle);
    if (st.has_value()) {
      EXPECT_EQ(st->ino, host_root.st_ino);
      auto file = client.walk(kRootHandle, "file.txt");
      ASSERT_TRUE(file.has_value());
      auto fd = client.open(file->handle, O_RDONLY);
      ASSERT_TRUE(fd.has_value()) << fd.error();
      EXPECT_EQ(read_all(fd->get()), kFileContent);
      EXPECT_EQ(client.open(file->handle, O_RDWR).error(), EROFS);
      auto link = client.walk(kRootHandle, "passwd_link");
      ASSERT_TRUE(link.has_value());
      EXPECT_EQ(client.open(link->handle, O_RDONLY).error(), ELOOP);
      EXPECT_EQ(client.walk(kRootHandle, "..").error(), EINVAL);
      // Serving, it sits on the first CPU of the set it was started with,
      // where the Sentry's first task thread runs (gofer_main()).
      cpu_set_t ours, gofers;
      ASSERT_EQ(::sched_getaffinity(0, sizeof(ours), &ours), 0);
      ASSERT_EQ(::sched_getaffinity(pid, sizeof(gofers), &gofers), 0);
      if (CPU_COUNT(&ours) > 1) {
        int first = 0;
        while (!CPU_ISSET(first, &ours)) ++first;
        EXPECT_EQ(CPU_COUNT(&gofers), 1);
        EXPECT_TRUE(CPU_ISSET(first, &gofers)) << "the gofer is not on CPU " << first;
      }
      auto entries = client.getdents(kRootHandle);
      ASSERT_TRUE(entries.has_value());
      EXPECT_EQ(entries->size(), 2u);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  std::error_code ec;
  fs::remove_all(root, ec);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no permission to unshare a mount namespace";
  // 0: the gofer served until we closed the socket.
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// A gofer for one file (a bind mount of a file): it serves a directory
// holding just that file, writable through the file only, and nothing
// beside it on the host (not its siblings, not the directory).
TEST(GoferMain, ServesOneFileAndNothingBesideIt) {
  char templ[] = "/tmp/gofer_file_test.XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  fs::path dir = templ;
  write_file(dir / "bound", kFileContent);
  write_file(dir / "sibling", "secret");

  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(sp[0]);
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(77);
    GoferConfig config;
    config.root = (dir / "bound").string();
    config.socket_fd = sp[1];
    config.read_only = false;
    ::_exit(gofer_main(config));
  }
  ::close(sp[1]);
  {
    Client client{UniqueFd(sp[0])};
    auto entries = client.getdents(kRootHandle);
    if (entries.has_value()) {
      ASSERT_EQ(entries->size(), 1u);
      EXPECT_EQ((*entries)[0].name, kFileMountName);
      EXPECT_EQ(client.walk(kRootHandle, "sibling").error(), ENOENT);
      EXPECT_EQ(client.walk(kRootHandle, "..").error(), EINVAL);
      auto file = client.walk(kRootHandle, kFileMountName);
      ASSERT_TRUE(file.has_value());
      auto fd = client.open(file->handle, O_RDWR);
      ASSERT_TRUE(fd.has_value()) << fd.error();
      EXPECT_EQ(read_all(fd->get()), kFileContent);
      ASSERT_EQ(::pwrite(fd->get(), "X", 1, 0), 1);
      // Only the file is writable: nothing can be made beside it.
      EXPECT_EQ(client.mkdir(kRootHandle, "new", 0755, 0, 0).error(), EROFS);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  std::string after = read_all(UniqueFd(::open((dir / "bound").c_str(), O_RDONLY)).get());
  std::error_code ec;
  fs::remove_all(dir, ec);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no permission to unshare a mount namespace";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(after, "X" + std::string(kFileContent).substr(1));
}

}  // namespace
}  // namespace runsc::gofer
