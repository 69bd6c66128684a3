// Extended attributes: the get/set/list/remove calls in their path,
// no-follow path and FD forms (xattr(7)). Namespace and permission rules
// follow fs/xattr.c's xattr_permission().
#include <linux/limits.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "syscalls/util.h"
#include "vfs/inotify.h"

namespace runsc::syscalls {
namespace {

constexpr size_t kNameMax = XATTR_NAME_MAX;  // 255
constexpr size_t kSizeMax = XATTR_SIZE_MAX;  // 65536
constexpr size_t kListMax = XATTR_LIST_MAX;  // 65536

enum class Form { kPath, kNoFollow, kFd };

bool has_cap_sys_admin(Task& t) { return (t.creds().cap_effective >> 21) & 1; }

Result<std::shared_ptr<vfs::Dentry>> target(Task& t, Form form, uint64_t arg) {
  if (form == Form::kFd) {
    auto f = get_file(t, static_cast<int>(arg));
    if (!f) return Err(f.error());
    if ((*f)->flags() & O_PATH) return Err(EBADF);
    if (!(*f)->dentry()) return Err(EOPNOTSUPP);  // pipes and the sandbox's stdio
    return (*f)->dentry();
  }
  auto path = path_arg(t, arg);
  if (!path) return Err(path.error());
  return resolve_at(t, AT_FDCWD, *path, form == Form::kPath);
}

Result<std::string> name_arg(Task& t, uint64_t addr) {
  auto name = t.mm().copy_in_string(addr, kNameMax + 1);
  if (!name) return Err(name.error() == ENAMETOOLONG ? ERANGE : name.error());
  if (name->empty() || name->size() > kNameMax) return Err(ERANGE);
  return name;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// xattr_permission(): the namespace decides who may read or write.
Result<void> xattr_permission(Task& t, const vfs::Dentry& d, std::string_view name, bool write) {
  if (starts_with(name, "trusted.")) {
    if (!has_cap_sys_admin(t)) return Err(write ? EPERM : ENODATA);
    return {};
  }
  if (starts_with(name, "security.") || starts_with(name, "system.")) return {};
  if (!starts_with(name, "user.")) return Err(EOPNOTSUPP);
  auto st = d.inode().stat();
  if (!st) return Err(st.error());
  // user.* only on regular files and directories (no quotas of them on
  // devices, sockets or links).
  if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) return Err(write ? EPERM : ENODATA);
  const vfs::Caller caller = caller_of(t);
  if (write && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && !vfs::owner_or_capable(caller, *st))
    return Err(EPERM);
  return vfs::may_access(caller, *st, write ? vfs::kMayWrite : vfs::kMayRead);
}

// A namespace prefix with nothing after it names no attribute: Linux's
// xattr_resolve_name() refuses it with EINVAL once permission is checked.
Result<void> check_attribute_name(std::string_view name) {
  for (std::string_view prefix : {"user.", "trusted.", "security."}) {
    if (name == prefix) return Err(EINVAL);
  }
  return {};
}

Result<uint64_t> do_getxattr(Task& t, Form form, const SyscallArgs& a) {
  auto d = target(t, form, a.u(0));
  if (!d) return Err(d.error());
  auto name = name_arg(t, a.u(1));
  if (!name) return Err(name.error());
  if (auto r = xattr_permission(t, **d, *name, false); !r) return Err(r.error());
  if (auto r = check_attribute_name(*name); !r) return Err(r.error());
  // POSIX ACLs are not kept: a file simply has none.
  if (starts_with(*name, "system.")) return Err(ENODATA);
  auto value = (*d)->inode().getxattr(*name);
  if (!value) return Err(value.error());
  const uint64_t size = a.u(3);
  if (size == 0) return value->size();
  if (size < value->size()) return Err(ERANGE);
  if (auto r = t.mm().copy_out(a.u(2), value->data(), value->size()); !r) return Err(r.error());
  return value->size();
}

Result<uint64_t> do_setxattr(Task& t, Form form, const SyscallArgs& a) {
  auto d = target(t, form, a.u(0));
  if (!d) return Err(d.error());
  const int flags = a.i(4);
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) return Err(EINVAL);
  auto name = name_arg(t, a.u(1));
  if (!name) return Err(name.error());
  const uint64_t size = a.u(3);
  if (size > kSizeMax) return Err(E2BIG);
  std::string value(size, '\0');
  if (size) {
    if (auto r = t.mm().copy_in(a.u(2), value.data(), size); !r) return Err(r.error());
  }
  if (vfs::on_read_only_mount(**d)) return Err(EROFS);
  if (auto r = xattr_permission(t, **d, *name, true); !r) return Err(r.error());
  if (auto r = check_attribute_name(*name); !r) return Err(r.error());
  if (starts_with(*name, "system.")) return Err(EOPNOTSUPP);
  if (auto r = (*d)->inode().setxattr(*name, value, flags); !r) return Err(r.error());
  vfs::notify(**d, IN_ATTRIB);
  return ok();
}

Result<uint64_t> do_listxattr(Task& t, Form form, const SyscallArgs& a) {
  auto d = target(t, form, a.u(0));
  if (!d) return Err(d.error());
  auto names = (*d)->inode().listxattr();
  if (!names) return Err(names.error());
  std::string out;
  const bool admin = has_cap_sys_admin(t);
  for (const auto& n : *names) {
    if (starts_with(n, "trusted.") && !admin) continue;
    out += n;
    out.push_back('\0');
  }
  const uint64_t size = a.u(2);
  if (size == 0) return out.size();
  if (out.size() > kListMax) return Err(E2BIG);
  if (size < out.size()) return Err(ERANGE);
  if (!out.empty()) {
    if (auto r = t.mm().copy_out(a.u(1), out.data(), out.size()); !r) return Err(r.error());
  }
  return out.size();
}

Result<uint64_t> do_removexattr(Task& t, Form form, const SyscallArgs& a) {
  auto d = target(t, form, a.u(0));
  if (!d) return Err(d.error());
  auto name = name_arg(t, a.u(1));
  if (!name) return Err(name.error());
  if (vfs::on_read_only_mount(**d)) return Err(EROFS);
  if (auto r = xattr_permission(t, **d, *name, true); !r) return Err(r.error());
  if (auto r = check_attribute_name(*name); !r) return Err(r.error());
  if (starts_with(*name, "system.")) return Err(ENODATA);
  if (auto r = (*d)->inode().removexattr(*name); !r) return Err(r.error());
  vfs::notify(**d, IN_ATTRIB);
  return ok();
}

}  // namespace

void register_xattr(kernel::SyscallTable& tb) {
  using A = kernel::Arg;
  tb.set(SYS_getxattr, "getxattr", [](Task& t, const SyscallArgs& a) { return do_getxattr(t, Form::kPath, a); },
         {A::kPath, A::kPath, A::kPtr, A::kInt});
  tb.set(SYS_lgetxattr, "lgetxattr", [](Task& t, const SyscallArgs& a) { return do_getxattr(t, Form::kNoFollow, a); },
         {A::kPath, A::kPath, A::kPtr, A::kInt});
  tb.set(SYS_fgetxattr, "fgetxattr", [](Task& t, const SyscallArgs& a) { return do_getxattr(t, Form::kFd, a); },
         {A::kFd, A::kPath, A::kPtr, A::kInt});
  tb.set(SYS_setxattr, "setxattr", [](Task& t, const SyscallArgs& a) { return do_setxattr(t, Form::kPath, a); },
         {A::kPath, A::kPath, A::kPtr, A::kInt, A::kHex});
  tb.set(SYS_lsetxattr, "lsetxattr", [](Task& t, const SyscallArgs& a) { return do_setxattr(t, Form::kNoFollow, a); },
         {A::kPath, A::kPath, A::kPtr, A::kInt, A::kHex});
  tb.set(SYS_fsetxattr, "fsetxattr", [](Task& t, const SyscallArgs& a) { return do_setxattr(t, Form::kFd, a); },
         {A::kFd, A::kPath, A::kPtr, A::kInt, A::kHex});
  tb.set(SYS_listxattr, "listxattr", [](Task& t, const SyscallArgs& a) { return do_listxattr(t, Form::kPath, a); },
         {A::kPath, A::kPtr, A::kInt});
  tb.set(SYS_llistxattr, "llistxattr",
         [](Task& t, const SyscallArgs& a) { return do_listxattr(t, Form::kNoFollow, a); }, {A::kPath, A::kPtr, A::kInt});
  tb.set(SYS_flistxattr, "flistxattr", [](Task& t, const SyscallArgs& a) { return do_listxattr(t, Form::kFd, a); },
         {A::kFd, A::kPtr, A::kInt});
  tb.set(SYS_removexattr, "removexattr",
         [](Task& t, const SyscallArgs& a) { return do_removexattr(t, Form::kPath, a); }, {A::kPath, A::kPath});
  tb.set(SYS_lremovexattr, "lremovexattr",
         [](Task& t, const SyscallArgs& a) { return do_removexattr(t, Form::kNoFollow, a); }, {A::kPath, A::kPath});
  tb.set(SYS_fremovexattr, "fremovexattr",
         [](Task& t, const SyscallArgs& a) { return do_removexattr(t, Form::kFd, a); }, {A::kFd, A::kPath});
}

}  // namespace runsc::syscalls
