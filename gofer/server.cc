#include "gofer/server.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstddef>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/crash.h"
#include "common/cpus.h"
#include "common/log.h"
#include "common/privileges.h"
#include "common/unique_fd.h"
#include "gofer/protocol.h"
#include "gofer/transport.h"

namespace runsc::gofer {
namespace {

using SharedFd = std::shared_ptr<const UniqueFd>;

// Linux's x86-64 value of O_LARGEFILE. glibc defines O_LARGEFILE as 0 on
// 64-bit targets because the kernel forces it there, but a Sentry passing
// an application's flags along may still carry the bit.
constexpr uint32_t kKernelOLargefile = 0100000;

// Flags that would modify the file or the tree. O_TMPFILE is tested apart:
// it includes O_DIRECTORY, which a reader may pass.
constexpr uint32_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
constexpr uint32_t kTmpfileBit = O_TMPFILE & ~O_DIRECTORY;

// Everything else Open accepts. O_CREAT and O_EXCL are not here: Open
// works on a file that a walk already found. O_PATH is not here: the
// Sentry gets handles, not path FDs.
constexpr uint32_t kAllowedOpenFlags = O_ACCMODE | O_APPEND | O_TRUNC | O_NONBLOCK | O_DIRECTORY | O_NOFOLLOW |
                                       O_CLOEXEC | kKernelOLargefile | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME |
                                       O_NOCTTY;

// getdents64 fills this much per call: a few hundred entries.
constexpr size_t kDirentBufferSize = 32 * 1024;

// The position of a Getdents listing, so that a listing asked for batch by
// batch (start = 0, n, 2n, ...) reads the directory once rather than once
// per batch.
struct DirStream {
  UniqueFd fd;
  uint64_t next_index = 0;       // index of pending.front(), or of the next entry read
  std::deque<DirEntry> pending;  // read from the host, not yet sent
  bool eof = false;
};

// One handle. The file is held as an O_PATH FD, which grants no access to
// its data; data FDs are opened afresh by (parent FD, name) so that the
// open can carry O_NOFOLLOW, with no path string ever resolved from the
// root. Nodes share their parent's FD, not the parent node, so that a long
// chain of walks cannot build a long chain of destructors.
// A file the Sentry walked to. Directories (and the root) hold an O_PATH
// FD, the parent of everything below them; any other file is named by its
// parent and name, with the identity the walk found, so that a walk over
// many files holds one FD per directory, not one per file.
struct Node {
  SharedFd fd;      // directories only; null for other files
  SharedFd parent;  // the root's is its own FD
  std::string name;  // "." for the root
  std::unique_ptr<DirStream> dir;
  dev_t dev = 0;     // what the walk found under that name
  ino_t ino = 0;
};


// Whether `fd` is on one of the host kernel's own pseudo filesystems. Their
// files describe the host (its processes, devices, cgroups, and in /proc
// the gofer itself), so they are never served: such a directory lists as
// empty and nothing can be walked below it. The Sentry provides its own
// /proc and /sys.
bool on_host_kernel_fs(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return true;  // unknown: assume the worst
  switch (static_cast<unsigned long>(fs.f_type)) {
    case PROC_SUPER_MAGIC: case SYSFS_MAGIC: case DEBUGFS_MAGIC: case TRACEFS_MAGIC:
    case SECURITYFS_MAGIC: case CGROUP_SUPER_MAGIC: case CGROUP2_SUPER_MAGIC: case BPF_FS_MAGIC:
    case PSTOREFS_MAGIC: case EFIVARFS_MAGIC: case BINFMTFS_MAGIC:
      return true;
    default:
      return false;
  }
}

Result<struct stat> stat_fd(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrFromErrno();
  return st;
}

// Whether a node may stand for a directory: only those hold an FD.
bool has_fd(const Node& node) { return node.fd != nullptr; }

// The node's file now: by its FD, or by name under its parent without
// following a symlink. ESTALE when the name leads to another file than the
// walk found (Linux's NFS answer to a handle that no longer names it).
Result<struct stat> node_stat(const Node& node) {
  if (has_fd(node)) return stat_fd(node.fd->get());
  struct stat st;
  if (::fstatat(node.parent->get(), node.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return ErrFromErrno();
  if (st.st_dev != node.dev || st.st_ino != node.ino) return Err(ESTALE);
  return st;
}

// A node for `name` in `parent`, from its O_PATH FD (kept for a directory).
Node make_node(UniqueFd fd, const struct stat& st, SharedFd parent, std::string name) {
  Node node;
  if (S_ISDIR(st.st_mode)) node.fd = std::make_shared<const UniqueFd>(std::move(fd));
  node.parent = std::move(parent);
  node.name = std::move(name);
  node.dev = st.st_dev;
  node.ino = st.st_ino;
  return node;
}

// Opens the file `node` stands for, for I/O. The type is checked first,
// so that no device driver's open() ever runs on the Sentry's behalf, and
// again on the new FD, with its identity, in case the host replaced the
// name in between.
Result<UniqueFd> reopen(const Node& node, uint32_t flags) {
  auto before = node_stat(node);
  if (!before) return Err(before.error());
  // O_NOFOLLOW refuses a symlink with ELOOP (open(2)); say so before
  // asking the host.
  if (S_ISLNK(before->st_mode)) return Err(ELOOP);
  // Only regular files and directories are served. EACCES is what Linux
  // answers for a device on a nodev mount, which is how gofer_main()
  // mounts the tree; FIFOs and sockets the Sentry emulates itself.
  if (!S_ISREG(before->st_mode) && !S_ISDIR(before->st_mode)) return Err(EACCES);

  // O_NONBLOCK so that a FIFO swapped in under this name cannot block the
  // server in open(2); cleared again below unless the Sentry asked for it.
  int host_flags = static_cast<int>(flags) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  UniqueFd fd(::openat(node.parent->get(), node.name.c_str(), host_flags));
  if (!fd) return ErrFromErrno();
  auto after = stat_fd(fd.get());
  if (!after) return Err(after.error());
  // A different file now has this name: the handle no longer names what
  // the Sentry walked to. ESTALE is Linux's (NFS's) answer to that.
  if (after->st_dev != before->st_dev || after->st_ino != before->st_ino) return Err(ESTALE);
  if (!S_ISREG(after->st_mode) && !S_ISDIR(after->st_mode)) return Err(EACCES);
  if ((flags & O_NONBLOCK) == 0) {
    int status = ::fcntl(fd.get(), F_GETFL);
    if (status < 0 || ::fcntl(fd.get(), F_SETFL, status & ~O_NONBLOCK) < 0) return ErrFromErrno();
  }
  return fd;
}

// Reads the next batch of entries from the host into `ds.pending`.
int fill(DirStream& ds, std::vector<unsigned char>& buffer) {
  long n;
  do {
    n = ::getdents64(ds.fd.get(), buffer.data(), buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  if (n == 0) {
    ds.eof = true;
    return 0;
  }
  // linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, then the
  // NUL-terminated name, padded to d_reclen.
  constexpr size_t kNameOffset = offsetof(struct dirent64, d_name);
  size_t end = static_cast<size_t>(n);
  for (size_t off = 0; off < end;) {
    if (end - off < kNameOffset) return EIO;
    const unsigned char* rec = buffer.data() + off;
    uint64_t ino;
    uint16_t reclen;
    uint8_t type;
    std::memcpy(&ino, rec + offsetof(struct dirent64, d_ino), sizeof(ino));
    std::memcpy(&reclen, rec + offsetof(struct dirent64, d_reclen), sizeof(reclen));
    std::memcpy(&type, rec + offsetof(struct dirent64, d_type), sizeof(type));
    if (reclen <= kNameOffset || reclen > end - off) return EIO;
    const char* name = reinterpret_cast<const char*>(rec + kNameOffset);
    std::string_view entry(name, ::strnlen(name, reclen - kNameOffset));
    off += reclen;
    if (entry == "." || entry == "..") continue;
    if (check_name(entry) != 0) {
      // No Linux filesystem should produce one; never pass it on.
      log::warn("gofer: skipping a directory entry with an invalid name");
      continue;
    }
    ds.pending.push_back(DirEntry{ino, type, std::string(entry)});
  }
  return 0;
}

template <class T>
ReplyBody body_or_error(Op op, Result<T> result) {
  if (!result) return ErrorReply{static_cast<uint32_t>(op), result.error()};
  return std::move(*result);
}

class Server {
 public:
  Server(UniqueFd root, const ServerOptions& options) : options_(options), dirent_buffer_(kDirentBufferSize) {
    auto fd = std::make_shared<const UniqueFd>(std::move(root));
    nodes_.emplace(kRootHandle, Node{fd, fd, ".", nullptr});
  }

  // Answers one request; an FD to donate with the reply is left in `donate`.
  ReplyBody handle(const Request& request, UniqueFd& donate) {
    Op op = op_of(request.body);
    switch (op) {
      case Op::kWalk: return body_or_error(op, walk(std::get<WalkRequest>(request.body)));
      case Op::kOpen: return body_or_error(op, open(std::get<OpenRequest>(request.body), donate));
      case Op::kStat: return body_or_error(op, stat(std::get<StatRequest>(request.body)));
      case Op::kReadlink: return body_or_error(op, readlink(std::get<ReadlinkRequest>(request.body)));
      case Op::kGetdents: return body_or_error(op, getdents(std::get<GetdentsRequest>(request.body)));
      case Op::kRelease: return body_or_error(op, release(std::get<ReleaseRequest>(request.body)));
      case Op::kCreate:
      case Op::kMkdir:
      case Op::kMknod:
      case Op::kSymlink: return body_or_error(op, make(std::get<MakeRequest>(request.body), donate));
      case Op::kLink: return body_or_error(op, link(std::get<LinkRequest>(request.body)));
      case Op::kUnlink: return body_or_error(op, unlink(std::get<UnlinkRequest>(request.body)));
      case Op::kRename: return body_or_error(op, rename(std::get<RenameRequest>(request.body)));
      case Op::kSetattr: return body_or_error(op, setattr(std::get<SetattrRequest>(request.body)));
    }
    return ErrorReply{static_cast<uint32_t>(op), ENOSYS};
  }

 private:
  Node* find(Handle handle) {
    auto it = nodes_.find(handle);
    return it == nodes_.end() ? nullptr : &it->second;
  }

  Result<WalkReply> walk(const WalkRequest& q) {
    Node* dir = find(q.dir);
    if (dir == nullptr) return Err(EBADF);
    // The name is one component (decode_request checked), and O_NOFOLLOW
    // with O_PATH gives the symlink itself rather than its target: the
    // Sentry resolves symlinks against its own view of the tree.
    // Below anything but a directory (a symlink too: it is not followed).
    if (!has_fd(*dir)) return Err(ENOTDIR);
    SharedFd parent = dir->fd;
    if (on_host_kernel_fs(parent->get())) return Err(ENOENT);
    UniqueFd fd(::openat(parent->get(), q.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return ErrFromErrno();
    auto st = stat_fd(fd.get());
    if (!st) return Err(st.error());
    Handle handle = next_handle_++;
    nodes_.emplace(handle, make_node(std::move(fd), *st, std::move(parent), q.name));
    return WalkReply{handle, file_stat_from_host(*st)};
  }

  Result<OpenReply> open(const OpenRequest& q, UniqueFd& donate) {
    Node* node = find(q.handle);
    if (node == nullptr) return Err(EBADF);
    // An impossible access mode is malformed whatever the mount; any
    // request to write a read-only tree is EROFS, as open(2) reports it;
    // the remaining flags must be ones this server knows.
    if ((q.flags & O_ACCMODE) == O_ACCMODE) return Err(EINVAL);
    bool writes = (q.flags & kWriteFlags) != 0 || (q.flags & kTmpfileBit) != 0;
    if (writes && options_.read_only) return Err(EROFS);
    if ((q.flags & ~kAllowedOpenFlags) != 0) return Err(EINVAL);
    auto fd = reopen(*node, q.flags);
    if (!fd) return Err(fd.error());
    donate = std::move(*fd);
    return OpenReply{};
  }

  Result<StatReply> stat(const StatRequest& q) {
    Node* node = find(q.handle);
    if (node == nullptr) return Err(EBADF);
    auto st = node_stat(*node);
    if (!st) return Err(st.error());
    return StatReply{file_stat_from_host(*st)};
  }

  Result<ReadlinkReply> readlink(const ReadlinkRequest& q) {
    Node* node = find(q.handle);
    if (node == nullptr) return Err(EBADF);
    auto st = node_stat(*node);
    if (!st) return Err(st.error());
    // readlink(2) of something that is not a symlink.
    if (!S_ISLNK(st->st_mode)) return Err(EINVAL);
    // A symlink is named under its parent (no FD is held for it).
    char buffer[kMaxLinkTargetLength + 1];
    ssize_t n = ::readlinkat(node->parent->get(), node->name.c_str(), buffer, sizeof(buffer));
    if (n < 0) return ErrFromErrno();
    // Filled to the brim: the target may have been cut short.
    if (static_cast<size_t>(n) > kMaxLinkTargetLength) return Err(ENAMETOOLONG);
    if (n == 0) return Err(EIO);
    return ReadlinkReply{std::string(buffer, static_cast<size_t>(n))};
  }

  Result<GetdentsReply> getdents(const GetdentsRequest& q) {
    Node* node = find(q.dir);
    if (node == nullptr) return Err(EBADF);
    auto result = list(*node, q.start);
    // A failed listing leaves the stream in an unknown place; start over.
    // One that reached the end lets its FD go: the next listing starts
    // afresh anyway, and a tree walk must not hold one per directory.
    if (!result || result->end) node->dir.reset();
    return result;
  }

  Result<GetdentsReply> list(Node& node, uint64_t start) {
    if (has_fd(node) && on_host_kernel_fs(node.fd->get())) return GetdentsReply{{}, /*end=*/true};
    // A listing from the start reads the directory afresh (it may have
    // changed since an earlier one ended); a later offset continues or
    // rewinds the stream.
    if (!node.dir || start == 0 || start < node.dir->next_index) {
      if (!node.dir) {
        auto fd = reopen(node, O_RDONLY | O_DIRECTORY);
        if (!fd) return Err(fd.error());
        node.dir = std::make_unique<DirStream>();
        node.dir->fd = std::move(*fd);
      } else if (::lseek(node.dir->fd.get(), 0, SEEK_SET) < 0) {
        return ErrFromErrno();
      }
      node.dir->next_index = 0;
      node.dir->pending.clear();
      node.dir->eof = false;
    }
    DirStream& ds = *node.dir;
    // Whether the next entry is at hand, reading from the host if needed.
    auto more = [&]() -> Result<bool> {
      while (ds.pending.empty() && !ds.eof) {
        if (int e = fill(ds, dirent_buffer_)) return Err(e);
      }
      return !ds.pending.empty();
    };
    while (ds.next_index < start) {
      auto m = more();
      if (!m) return Err(m.error());
      if (!*m) break;
      ds.pending.pop_front();
      ++ds.next_index;
    }
    GetdentsReply reply;
    size_t size = kGetdentsReplyFixedSize;
    for (;;) {
      auto m = more();
      if (!m) return Err(m.error());
      if (!*m) break;
      size_t entry_size = dirent_wire_size(ds.pending.front().name.size());
      if (size + entry_size > kMaxMessageSize) break;
      size += entry_size;
      reply.entries.push_back(std::move(ds.pending.front()));
      ds.pending.pop_front();
      ++ds.next_index;
    }
    reply.end = ds.pending.empty() && ds.eof;
    return reply;
  }

  // The directory a change happens in: a handle to a directory that is
  // not a host kernel filesystem. Every change below names one component
  // in it through its FD (the *at() calls), so nothing outside it can be
  // reached, whatever the Sentry sends.
  Result<Node*> writable_dir(Handle handle) {
    if (options_.read_only) return Err(EROFS);
    Node* dir = find(handle);
    if (dir == nullptr) return Err(EBADF);
    if (!has_fd(*dir)) return Err(ENOTDIR);
    auto st = stat_fd(dir->fd->get());
    if (!st) return Err(st.error());
    if (!S_ISDIR(st->st_mode)) return Err(ENOTDIR);
    if (on_host_kernel_fs(dir->fd->get())) return Err(EACCES);
    return dir;
  }

  // A handle for the name just made in `dir`.
  Result<EntryReply> entry(Op op, const Node& dir, const std::string& name) {
    UniqueFd fd(::openat(dir.fd->get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return ErrFromErrno();
    auto st = stat_fd(fd.get());
    if (!st) return Err(st.error());
    Handle handle = next_handle_++;
    nodes_.emplace(handle, make_node(std::move(fd), *st, dir.fd, name));
    return EntryReply{op, handle, file_stat_from_host(*st)};
  }

  Result<EntryReply> make(const MakeRequest& q, UniqueFd& donate) {
    auto dir = writable_dir(q.dir);
    if (!dir) return Err(dir.error());
    const int dirfd = (*dir)->fd->get();
    const mode_t perm = q.mode & 07777;
    int rc = 0;
    switch (q.op) {
      case Op::kMkdir:
        rc = ::mkdirat(dirfd, q.name.c_str(), perm);
        break;
      case Op::kSymlink:
        rc = ::symlinkat(q.target.c_str(), dirfd, q.name.c_str());
        break;
      case Op::kMknod: {
        // Never a device node: the Sentry emulates the devices it offers.
        const mode_t type = (q.mode & S_IFMT) ? (q.mode & S_IFMT) : S_IFREG;
        if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return Err(EPERM);
        rc = ::mknodat(dirfd, q.name.c_str(), type | perm, 0);
        break;
      }
      case Op::kCreate: {
        if ((q.flags & O_ACCMODE) == O_ACCMODE || (q.flags & ~(kAllowedOpenFlags | O_CREAT | O_EXCL)) != 0)
          return Err(EINVAL);
        // O_EXCL and O_NOFOLLOW: only a new regular file, never an existing
        // name or a symlink's target.
        int flags = static_cast<int>(q.flags) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
        UniqueFd fd(::openat(dirfd, q.name.c_str(), flags, perm));
        if (!fd) return ErrFromErrno();
        donate = std::move(fd);
        break;
      }
      default:
        return Err(EINVAL);
    }
    if (rc != 0) return ErrFromErrno();
    // The owner the Sentry asked for, where this gofer may give it.
    (void)::fchownat(dirfd, q.name.c_str(), q.uid, q.gid, AT_SYMLINK_NOFOLLOW);
    auto made = entry(q.op, **dir, q.name);
    if (!made) donate.reset();
    return made;
  }

  Result<EntryReply> link(const LinkRequest& q) {
    auto dir = writable_dir(q.dir);
    if (!dir) return Err(dir.error());
    Node* target = find(q.target);
    if (target == nullptr || q.target == kRootHandle) return Err(q.target == kRootHandle ? EPERM : EBADF);
    auto before = node_stat(*target);
    if (!before) return Err(before.error());
    if (S_ISDIR(before->st_mode)) return Err(EPERM);
    // By the target's (parent, name), not following a symlink there; if
    // that name now holds another file, undo and report the stale handle.
    if (::linkat(target->parent->get(), target->name.c_str(), (*dir)->fd->get(), q.name.c_str(), 0) != 0)
      return ErrFromErrno();
    auto made = entry(Op::kLink, **dir, q.name);
    if (made && (made->stat.ino != before->st_ino || made->stat.dev != before->st_dev)) {
      (void)::unlinkat((*dir)->fd->get(), q.name.c_str(), 0);
      nodes_.erase(made->handle);
      return Err(ESTALE);
    }
    return made;
  }

  Result<DoneReply> unlink(const UnlinkRequest& q) {
    if ((q.flags & ~static_cast<uint32_t>(AT_REMOVEDIR)) != 0) return Err(EINVAL);
    auto dir = writable_dir(q.dir);
    if (!dir) return Err(dir.error());
    if (::unlinkat((*dir)->fd->get(), q.name.c_str(), static_cast<int>(q.flags)) != 0) return ErrFromErrno();
    return DoneReply{Op::kUnlink};
  }

  Result<DoneReply> rename(const RenameRequest& q) {
    if ((q.flags & ~static_cast<uint32_t>(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) return Err(EINVAL);
    auto from = writable_dir(q.old_dir);
    if (!from) return Err(from.error());
    auto to = writable_dir(q.new_dir);
    if (!to) return Err(to.error());
    if (::syscall(SYS_renameat2, (*from)->fd->get(), q.old_name.c_str(), (*to)->fd->get(), q.new_name.c_str(),
                  q.flags) != 0)
      return ErrFromErrno();
    // Handles reopen their file by (parent, name): follow the move, so
    // that the Sentry's handle for the file still opens it.
    const SharedFd old_parent = (*from)->fd, new_parent = (*to)->fd;
    for (auto& [handle, node] : nodes_) {
      if (handle == kRootHandle) continue;
      if (node.parent == old_parent && node.name == q.old_name) {
        node.parent = new_parent;
        node.name = q.new_name;
      } else if ((q.flags & RENAME_EXCHANGE) && node.parent == new_parent && node.name == q.new_name) {
        node.parent = old_parent;
        node.name = q.old_name;
      }
    }
    return DoneReply{Op::kRename};
  }

  Result<SetattrReply> setattr(const SetattrRequest& q) {
    if (options_.read_only) return Err(EROFS);
    Node* node = find(q.handle);
    if (node == nullptr) return Err(EBADF);
    auto st = node_stat(*node);
    if (!st) return Err(st.error());
    if (q.mask & (kSetUid | kSetGid)) {
      // On a directory's O_PATH FD itself (AT_EMPTY_PATH), or on the name
      // under its parent without following a symlink: one component.
      uid_t uid = (q.mask & kSetUid) ? q.uid : static_cast<uid_t>(-1);
      gid_t gid = (q.mask & kSetGid) ? q.gid : static_cast<gid_t>(-1);
      const int rc = has_fd(*node) ? ::fchownat(node->fd->get(), "", uid, gid, AT_EMPTY_PATH)
                                   : ::fchownat(node->parent->get(), node->name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
      if (rc != 0) return ErrFromErrno();
    }
    if (S_ISLNK(st->st_mode) && (q.mask & (kSetAtime | kSetMtime)) && !(q.mask & (kSetMode | kSetSize))) {
      // A symlink's own times (utimensat(2) AT_SYMLINK_NOFOLLOW), by its
      // name under its parent.
      timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
      if (q.mask & kSetAtime) times[0] = {q.atime_sec, q.atime_nsec};
      if (q.mask & kSetMtime) times[1] = {q.mtime_sec, q.mtime_nsec};
      if (::utimensat(node->parent->get(), node->name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return ErrFromErrno();
    } else if (q.mask & (kSetMode | kSetSize | kSetAtime | kSetMtime)) {
      // The rest needs an FD to the file itself, which reopen() gives for
      // regular files and directories only (a symlink's mode cannot change).
      if (S_ISLNK(st->st_mode)) return Err(EOPNOTSUPP);
      if ((q.mask & kSetSize) && !S_ISREG(st->st_mode)) return Err(S_ISDIR(st->st_mode) ? EISDIR : EINVAL);
      auto fd = reopen(*node, (q.mask & kSetSize) ? O_WRONLY : (S_ISDIR(st->st_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY));
      if (!fd) return Err(fd.error());
      if ((q.mask & kSetSize) && ::ftruncate(fd->get(), q.size) != 0) return ErrFromErrno();
      // The Sentry decides whether a truncation drops set-user-ID and
      // set-group-ID (its caller's CAP_FSETID, Linux's should_remove_suid())
      // and sends the mode it chose. The host drops them on our truncation
      // regardless: it counts CAP_FSETID only in its initial user namespace,
      // and the gofer's is its own. So the mode is set after the size, and
      // the bits the Sentry kept are put back.
      mode_t mode = st->st_mode & 07777;
      if (q.mask & kSetMode) mode = q.mode & 07777;
      if ((q.mask & kSetMode) || ((q.mask & kSetSize) && (mode & (S_ISUID | S_ISGID)))) {
        if (::fchmod(fd->get(), mode) != 0) return ErrFromErrno();
      }
      if (q.mask & (kSetAtime | kSetMtime)) {
        timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
        if (q.mask & kSetAtime) times[0] = {q.atime_sec, q.atime_nsec};
        if (q.mask & kSetMtime) times[1] = {q.mtime_sec, q.mtime_nsec};
        if (::futimens(fd->get(), times) != 0) return ErrFromErrno();
      }
    }
    auto after = node_stat(*node);
    if (!after) return Err(after.error());
    return SetattrReply{file_stat_from_host(*after)};
  }

  Result<ReleaseReply> release(const ReleaseRequest& q) {
    // The root stays valid for the whole connection.
    if (q.handle == kRootHandle) return ReleaseReply{};
    if (nodes_.erase(q.handle) == 0) return Err(EBADF);
    return ReleaseReply{};
  }

  ServerOptions options_;
  std::unordered_map<Handle, Node> nodes_;
  Handle next_handle_ = kRootHandle + 1;
  std::vector<unsigned char> dirent_buffer_;
};

// Linux has no libc wrapper for pivot_root(2) in glibc 2.36.
int pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

// Makes the bind mount of the root nosuid, nodev and, if asked, read-only,
// with every mount below it.
int restrict_mounts(const std::string& root, bool read_only) {
  uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0);
  mount_attr attr{};
  attr.attr_set = attrs;
  // mount_setattr(2) (Linux 5.12) changes a whole tree at once; MS_REMOUNT
  // changes one mount, leaving the submounts MS_REC brought along as they
  // were on the host.
  if (::mount_setattr(AT_FDCWD, root.c_str(), AT_RECURSIVE, &attr, sizeof(attr)) == 0) return 0;
  if (errno != ENOSYS) return errno;
  log::warn("gofer: mount_setattr unsupported; only the top mount of {} is restricted", root);
  // A remount must repeat the flags that are locked on the mount (in a user
  // namespace, those the parent namespace set), or Linux refuses it.
  struct statvfs vfs;
  if (::statvfs(root.c_str(), &vfs) != 0) return errno;
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (read_only ? MS_RDONLY : 0);
  if (vfs.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (vfs.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (vfs.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (vfs.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  if (vfs.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (::mount(nullptr, root.c_str(), nullptr, flags, nullptr) != 0) return errno;
  return 0;
}

// Logs a failed host call of confine() and returns its errno (read before
// logging, which may change it).
int failed(std::string_view what, const std::string& root) {
  int e = errno;
  log::error("gofer: {} ({}): {}", what, root, std::strerror(e));
  return e;
}

std::string spare_directory();
int confine_to_file(const std::string& file, bool read_only);
int pivot_into(const std::string& target, const std::string& root);

// Leaves this process with `root` as its "/", in a mount namespace of its
// own where nothing else of the host is reachable.
int confine(const std::string& root, bool read_only) {
  if (root.empty()) return EINVAL;
  if (::unshare(CLONE_NEWNS) != 0) return failed("unshare(CLONE_NEWNS)", root);
  // Our mounts and unmounts must not propagate back to the host (nor the
  // host's into us), whatever propagation the parent namespace had.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return failed("making / private", root);
  // pivot_root(2) needs the new root to be a mount point, and not the
  // current root. A bind of the directory onto itself makes it one, with
  // the mounts below it. That does not work for "/" itself: a path walk
  // never crosses a mount stacked on the process's own root, so "/" is bound
  // onto an existing directory instead (the bind copies the tree before the
  // new mount is attached, so it does not contain itself).
  char resolved[PATH_MAX];
  if (::realpath(root.c_str(), resolved) == nullptr) return failed("resolving the root", root);
  struct stat root_st;
  if (::stat(resolved, &root_st) != 0) return failed("stat of the root", root);
  std::string target = resolved;
  if (!S_ISDIR(root_st.st_mode)) return confine_to_file(resolved, read_only);
  if (target == "/") target = spare_directory();
  if (::mount(resolved, target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return failed("bind-mounting the root", root);
  }
  if (int e = restrict_mounts(target, read_only)) {
    log::error("gofer: restricting the mounts of {}: {}", root, std::strerror(e));
    return e;
  }
  return pivot_into(target, root);
}

// A directory of the host's that a mount of ours may cover (in our own
// mount namespace only).
std::string spare_directory() {
  struct stat st;
  return (::stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode)) ? "/tmp" : "/mnt";
}

// The root is one file (a bind mount of a regular file, like Docker's
// /etc/hosts): the new root is a tiny read-only tmpfs holding only that
// file, bound onto kFileMountName, so nothing beside the file is reachable.
int confine_to_file(const std::string& file, bool read_only) {
  // Held open across the tmpfs mount, which may cover the file's own path.
  UniqueFd source(::open(file.c_str(), O_PATH | O_CLOEXEC));
  if (!source) return failed("opening the file", file);
  const std::string dir = spare_directory();
  if (::mount("runsc-file", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0755") != 0)
    return failed("mounting the staging tmpfs", file);
  const std::string point = dir + "/" + kFileMountName;
  UniqueFd made(::open(point.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  if (!made) return failed("making the mount point", file);
  made.reset();
  const std::string by_fd = "/proc/self/fd/" + std::to_string(source.get());
  if (::mount(by_fd.c_str(), point.c_str(), nullptr, MS_BIND, nullptr) != 0) return failed("binding the file", file);
  if (int e = restrict_mounts(point, read_only)) {
    log::error("gofer: restricting the mount of {}: {}", file, std::strerror(e));
    return e;
  }
  // Nothing but the bound file may change: the directory is read-only.
  if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return failed("making the staging tmpfs read-only", file);
  return pivot_into(dir, file);
}

// Makes `target` (a mount point) this process's "/", detaching the rest.
int pivot_into(const std::string& target, const std::string& root) {
  if (::chdir(target.c_str()) != 0) return failed("chdir", root);
  // pivot_root(".", ".") stacks the old root on top of the new one at "/";
  // detaching it leaves only the new root (pivot_root(2), NOTES).
  if (pivot_root(".", ".") == 0) {
    if (::umount2(".", MNT_DETACH) != 0) return failed("detaching the old root", root);
  } else {
    // E.g. EINVAL when "/" is the initramfs rootfs, which cannot be
    // pivoted away from. chroot(2) still confines every path we resolve.
    log::warn("gofer: pivot_root into {} failed ({}); falling back to chroot", root, std::strerror(errno));
    if (::chroot(".") != 0) return failed("chroot", root);
  }
  if (::chdir("/") != 0) return failed("chdir /", root);
  return 0;
}

}  // namespace

int serve(int socket_fd, const ServerOptions& options) {
  UniqueFd root(::open(options.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    int e = errno;
    log::error("gofer: cannot open the root {}: {}", options.root, std::strerror(e));
    return e;
  }
  Server server(std::move(root), options);
  std::vector<uint8_t> buffer(kMaxMessageSize);
  for (;;) {
    auto got = receive_message(socket_fd, buffer, /*accept_fd=*/false);
    if (!got) {
      // ECONNRESET: the Sentry died with requests unanswered.
      if (got.error() == ECONNRESET) return 0;
      log::error("gofer: receiving a request: {}", std::strerror(got.error()));
      return got.error();
    }
    if (got->closed) return 0;
    std::span<const uint8_t> message(buffer.data(), got->size);

    Reply reply;
    UniqueFd donate;
    Result<Request> request = got->truncated ? Result<Request>(Err(EBADMSG)) : decode_request(message);
    uint32_t op;
    if (request) {
      reply.tag = request->tag;
      op = static_cast<uint32_t>(op_of(request->body));
      reply.body = server.handle(*request, donate);
    } else {
      auto header = peek_request_header(message);
      if (!header) {
        log::debug("gofer: dropping a {}-byte message with no tag", got->size);
        continue;
      }
      log::debug("gofer: refusing a malformed request (tag {}, op {}): {}", header->tag, header->op,
                 std::strerror(request.error()));
      reply.tag = header->tag;
      op = header->op;
      reply.body = ErrorReply{op, request.error()};
    }
    auto bytes = encode_reply(reply);
    if (!bytes) {
      // A reply we cannot put on the wire (never expected); still answer.
      log::warn("gofer: cannot encode a reply: {}", std::strerror(bytes.error()));
      donate.reset();
      bytes = encode_reply(Reply{reply.tag, ErrorReply{op, EIO}});
      if (!bytes) return bytes.error();
    }
    if (int e = send_message(socket_fd, *bytes, donate.get())) {
      if (e == EPIPE || e == ECONNRESET) return 0;
      log::error("gofer: sending a reply: {}", std::strerror(e));
      return e;
    }
  }
}

std::vector<seccomp::Rule> gofer_host_syscalls(bool writable) {
  using seccomp::Rule;
  std::vector<Rule> rules = {
      // Requests and replies; FDs travel with SCM_RIGHTS.
      Rule{SYS_recvmsg}, Rule{SYS_sendmsg}, Rule{SYS_poll},
      // Walking and opening, always relative to a directory FD and with
      // O_NOFOLLOW (walk(), reopen()); a read-only gofer never for writing.
      Rule{SYS_openat, {{2, O_NOFOLLOW, writable ? O_NOFOLLOW : (O_NOFOLLOW | kWriteFlags)}}},
      // serve() opening the root, once confined.
      Rule{SYS_openat, {{2, O_PATH | O_DIRECTORY | O_CLOEXEC}}},
      Rule{SYS_close}, Rule{SYS_fstat}, Rule{SYS_newfstatat, {{3, AT_EMPTY_PATH}}},
      // A file other than a directory, by name under its parent (node_stat).
      Rule{SYS_newfstatat, {{3, AT_SYMLINK_NOFOLLOW}}},
      Rule{SYS_fstatfs}, Rule{SYS_readlinkat}, Rule{SYS_getdents64}, Rule{SYS_lseek},
      Rule{SYS_fcntl, {{1, F_GETFL}}}, Rule{SYS_fcntl, {{1, F_SETFL}}},
      // malloc, logging, time stamps, exit.
      Rule{SYS_write}, Rule{SYS_writev}, Rule{SYS_clock_gettime}, Rule{SYS_gettid}, Rule{SYS_getpid},
      Rule{SYS_rt_sigreturn}, Rule{SYS_rt_sigprocmask}, Rule{SYS_exit}, Rule{SYS_exit_group},
      // A poll the freezer (runsc pause) interrupted resumes through it.
      Rule{SYS_restart_syscall},
  };
  for (auto& r : seccomp::memory_rules(/*stub_mappings=*/false)) rules.push_back(std::move(r));
  for (auto& r : seccomp::futex_rules()) rules.push_back(std::move(r));
  if (writable) {
    // Changes: each names one component under a directory FD, or works on
    // an FD the server opened. A read-only gofer cannot make them at all.
    for (int nr : {SYS_mkdirat, SYS_mknodat, SYS_symlinkat, SYS_unlinkat, SYS_renameat2, SYS_fchownat, SYS_fchmod,
                    SYS_ftruncate, SYS_utimensat}) {
      rules.push_back(Rule{nr});
    }
    rules.push_back(Rule{SYS_linkat, {{4, 0}}});  // never AT_SYMLINK_FOLLOW or AT_EMPTY_PATH
  }
  seccomp::require_fd_first_argument(rules);
  return rules;
}

int gofer_main(const GoferConfig& config) {
  // Local time for log lines is read now, while /etc/localtime is reachable.
  ::tzset();
  if (int e = confine(config.root, config.read_only)) {
    log::error("gofer: cannot confine to {}: {}", config.root, std::strerror(e));
    return 1;
  }
  // Confined, the gofer keeps only what it needs to read (and, writable,
  // write) files of any owner. Its user namespace maps every host ID to
  // itself (runsc/launch.h), so these count for every file; the rest
  // (CAP_SYS_ADMIN above all) goes, from the bounding set too.
  using privileges::cap_bit;
  uint64_t keep = cap_bit(CAP_DAC_OVERRIDE) | cap_bit(CAP_DAC_READ_SEARCH);
  if (!config.read_only) keep |= cap_bit(CAP_FOWNER) | cap_bit(CAP_CHOWN) | cap_bit(CAP_FSETID);
  if (auto r = privileges::drop_capabilities(keep); !r) {
    log::error("gofer: cannot drop capabilities: {}", std::strerror(r.error()));
    return 1;
  }
  // Modes come from the Sentry with the application's umask applied.
  ::umask(0);
  // The Sentry's first task thread runs on the first CPU of the set both
  // were started with (platform/ptrace pins them round robin from there);
  // the requests of a single-process program then never wait for another,
  // idle CPU to wake, which costs more than the request on a VM.
  if (sandbox_cpu_count() > 1) (void)pin_to_cpu(0, sandbox_cpu(0));
  // Every file the Sentry has walked to holds an FD here, so the soft
  // limit on open files (often 1024 in a shell) would cap how many names a
  // program can look at (find over /usr): take the hard limit.
  if (struct rlimit nofile; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  const auto allow = gofer_host_syscalls(!config.read_only);
  crash::install_handlers("gofer");
  const auto enforcement = config.seccomp_log ? seccomp::Enforcement::kLog : seccomp::Enforcement::kKill;
  if (auto r = seccomp::install_allowlist(allow, "gofer", enforcement); !r) {
    log::error("gofer: cannot install the seccomp allowlist: {}", std::strerror(r.error()));
    return 1;
  }
  ServerOptions options;
  options.root = "/";
  options.read_only = config.read_only;
  return serve(config.socket_fd, options) == 0 ? 0 : 1;
}

}  // namespace runsc::gofer
