// execve(2): loading a program into a fresh address space, the way
// fs/exec.c, fs/binfmt_elf.c and fs/binfmt_script.c do it.
#include <cpuid.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/random.h>

#include <cstring>

#include "common/log.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/elf.h"
#include "sentry/loader/shebang.h"
#include "sentry/loader/stack.h"

namespace runsc::kernel {
namespace {

// Where an ET_DYN main program goes (ELF_ET_DYN_BASE without ASLR:
// two thirds of the address space, as x86-64 Linux places PIE programs).
constexpr uint64_t kDynBase = 0x555555554000;
// #! interpreters may themselves be scripts this many times (Linux: 4).
constexpr int kMaxInterpreterDepth = 4;

struct OpenedFile {
  std::shared_ptr<vfs::FileDescription> file;
  std::string path;
};

Result<OpenedFile> open_executable(Task& task, const std::string& path) {
  auto dentry = vfs::resolve(task.fs().root, task.fs().cwd, path);
  if (!dentry) return Err(dentry.error());
  if ((*dentry)->is_dir()) return Err(EACCES);
  auto st = (*dentry)->inode().stat();
  if (!st) return Err(st.error());
  if (!S_ISREG(st->st_mode)) return Err(EACCES);
  // execve(2): EACCES without an execute bit for anyone.
  if ((st->st_mode & 0111) == 0) return Err(EACCES);
  auto file = (*dentry)->inode().open(O_RDONLY);
  if (!file) return Err(file.error());
  (*file)->set_dentry(*dentry);
  return OpenedFile{std::move(*file), path};
}

loader::ReadAt reader_for(const std::shared_ptr<vfs::FileDescription>& file) {
  return [file](uint64_t offset, std::span<uint8_t> out) -> Result<size_t> {
    iovec v{out.data(), out.size()};
    size_t done = 0;
    while (done < out.size()) {
      v = iovec{out.data() + done, out.size() - done};
      auto n = file->read(std::span<const iovec>(&v, 1), static_cast<int64_t>(offset + done));
      if (!n) return Err(n.error());
      if (*n == 0) break;
      done += *n;
    }
    return done;
  };
}

struct LoadedObject {
  uint64_t bias = 0;
  uint64_t end = 0;  // highest mapped address (for brk)
};

// Maps the PT_LOAD segments of `elf` from `file` into `mm`.
Result<LoadedObject> map_object(mm::MemoryManager& mm, const loader::ElfInfo& elf,
                                const std::shared_ptr<vfs::FileDescription>& file, const std::string& name,
                                bool is_interpreter) {
  auto mappable = file->mappable();
  if (!mappable) return Err(EACCES);
  // The file's identity as /proc/pid/maps shows it.
  struct stat ids {};
  if (auto st = file->dentry() ? file->dentry()->inode().stat() : file->stat()) ids = *st;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& seg : elf.segments) {
    lo = std::min(lo, mm::page_down(seg.vaddr));
    hi = std::max(hi, mm::page_up(seg.vaddr + seg.memsz));
  }
  if (elf.segments.empty() || hi <= lo) return Err(ENOEXEC);
  LoadedObject out;
  if (elf.type == ET_DYN) {
    // Reserve the whole span at once, so the segments land together.
    mm::MmapRequest reserve;
    reserve.addr = is_interpreter ? 0 : kDynBase;
    reserve.length = hi - lo;
    reserve.prot = PROT_NONE;
    reserve.flags = MAP_PRIVATE | MAP_ANONYMOUS;
    auto at = mm.mmap(reserve);
    if (!at) return Err(at.error());
    out.bias = *at - lo;
  }
  for (const auto& seg : elf.segments) {
    uint64_t start = mm::page_down(seg.vaddr + out.bias);
    uint64_t file_end = seg.vaddr + out.bias + seg.filesz;
    uint64_t mem_end = mm::page_up(seg.vaddr + out.bias + seg.memsz);
    if (seg.filesz > 0) {
      mm::MmapRequest req;
      req.addr = start;
      req.length = mm::page_up(file_end) - start;
      req.prot = seg.prot;
      req.flags = MAP_PRIVATE | MAP_FIXED;
      req.file = mappable;
      req.offset = mm::page_down(seg.offset);
      req.name = name;
      req.dev = ids.st_dev;
      req.ino = ids.st_ino;
      if (auto r = mm.mmap(req); !r) return Err(r.error());
      // The rest of the last file page belongs to .bss and must read as
      // zero (Linux's padzero); the private copy holds file bytes there.
      uint64_t pad = mm::page_up(file_end) - file_end;
      if (pad && seg.memsz > seg.filesz && (seg.prot & PROT_WRITE)) {
        std::vector<uint8_t> zeros(pad, 0);
        (void)mm.copy_out(file_end, zeros.data(), zeros.size());
      }
    }
    uint64_t anon_start = seg.filesz > 0 ? mm::page_up(file_end) : start;
    if (mem_end > anon_start) {
      mm::MmapRequest bss;
      bss.addr = anon_start;
      bss.length = mem_end - anon_start;
      bss.prot = seg.prot;
      bss.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
      if (auto r = mm.mmap(bss); !r) return Err(r.error());
    }
    out.end = std::max(out.end, mem_end);
  }
  return out;
}

uint64_t hwcap() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  return edx;  // AT_HWCAP on x86 is CPUID.1:EDX
}

}  // namespace

Result<void> Task::exec(const ExecRequest& request) {
  std::vector<std::string> argv = request.argv;
  std::string path = request.path;
  OpenedFile exe;
  std::vector<uint8_t> head(256);
  loader::ElfInfo elf;
  for (int depth = 0;; ++depth) {
    auto opened = open_executable(*this, path);
    if (!opened) return Err(opened.error());
    exe = std::move(*opened);
    auto read = reader_for(exe.file)(0, head);
    if (!read) return Err(read.error());
    auto script = loader::parse_shebang(std::span<const uint8_t>(head.data(), *read));
    if (!script) return Err(script.error());
    if (!*script) break;
    if (depth >= kMaxInterpreterDepth) return Err(ELOOP);
    // binfmt_script: argv becomes interpreter [argument] script-path rest...
    std::vector<std::string> next{(*script)->interpreter};
    if ((*script)->argument) next.push_back(*(*script)->argument);
    next.push_back(path);
    for (size_t i = 1; i < argv.size(); ++i) next.push_back(argv[i]);
    argv = std::move(next);
    path = (*script)->interpreter;
  }
  auto parsed = loader::parse_elf(reader_for(exe.file));
  if (!parsed) return Err(parsed.error());
  elf = std::move(*parsed);

  // Point of no return is after everything that can fail is loaded into a
  // fresh address space; the old one is only replaced at the end.
  auto as = kernel_.platform().new_address_space();
  if (!as) return Err(as.error());
  auto mm = std::make_shared<mm::MemoryManager>(kernel_.memfile(), std::move(*as));
  auto main_obj = map_object(*mm, elf, exe.file, exe.file->dentry() ? exe.file->dentry()->path() : path, false);
  if (!main_obj) return Err(main_obj.error());

  uint64_t entry = elf.entry + main_obj->bias;
  uint64_t interp_base = 0;
  if (!elf.interpreter.empty()) {
    auto interp = open_executable(*this, elf.interpreter);
    if (!interp) return Err(interp.error() == EACCES ? ELIBBAD : interp.error());
    auto interp_elf = loader::parse_elf(reader_for(interp->file));
    if (!interp_elf) return Err(ELIBBAD);
    auto interp_obj = map_object(*mm, *interp_elf, interp->file, interp->file->dentry()->path(), true);
    if (!interp_obj) return Err(interp_obj.error());
    interp_base = interp_obj->bias;
    entry = interp_elf->entry + interp_obj->bias;
  }
  mm->set_brk_base(main_obj->end);

  mm::MmapRequest stack;
  stack.addr = mm::kStackTop - mm::kStackSize;
  stack.length = mm::kStackSize;
  stack.prot = PROT_READ | PROT_WRITE;
  stack.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN;
  stack.name = "[stack]";
  if (auto r = mm->mmap(stack); !r) return Err(r.error());

  loader::StackInput in;
  in.stack_top = mm::kStackTop;
  in.argv = argv;
  in.envp = request.envp;
  in.execfn = request.path;
  if (::getrandom(in.random.data(), in.random.size(), 0) != static_cast<ssize_t>(in.random.size())) return Err(EIO);
  uint64_t phdr = elf.phdr_vaddr ? *elf.phdr_vaddr + main_obj->bias : 0;
  in.auxv = {
      {AT_PHDR, phdr},
      {AT_PHENT, elf.phentsize},
      {AT_PHNUM, elf.phnum},
      {AT_PAGESZ, 4096},
      {AT_BASE, interp_base},
      {AT_FLAGS, 0},
      {AT_ENTRY, elf.entry + main_obj->bias},
      {AT_UID, creds_.ruid},
      {AT_EUID, creds_.euid},
      {AT_GID, creds_.rgid},
      {AT_EGID, creds_.egid},
      {AT_SECURE, 0},
      {AT_HWCAP, hwcap()},
      {AT_HWCAP2, 0},
      {AT_CLKTCK, 100},
  };
  auto image = loader::build_stack(in);
  if (!image) return Err(image.error());
  if (auto r = mm->copy_out(image->sp, image->bytes.data(), image->bytes.size()); !r) return Err(r.error());
  mm->set_image({image->argv_start, image->argv_end, image->envp_start, image->envp_end,
                 exe.file->dentry() ? exe.file->dentry()->path() : path});

  // Past the point of no return: the other threads go first (de_thread()).
  kill_other_threads();
  // A thread other than the leader takes the leader's place and its
  // thread ID, which is the process ID (execve(2): "all other threads ...
  // are destroyed ... the thread ID of the thread that called execve
  // becomes the PID").
  {
    std::lock_guard lock(kernel_.tree_mutex());
    if (tid_ != group_->pid) {
      kernel_.remove_task_locked(tid_);
      tid_ = group_->pid;
      kernel_.add_task_locked(shared_from_this());
      group_->leader = shared_from_this();
    }
  }
  // Commit: the new image replaces the old one. did_exec is set before
  // the close-on-exec FDs go, since their closing is observable.
  {
    std::lock_guard lock(kernel_.tree_mutex());
    group_->did_exec = true;
  }
  // A vfork child leaves the address space it borrowed: give back its
  // stub thread there, which the parent's process still runs on.
  fold_user_time();  // the old stub's clock stays behind
  if (mm_ && mm_.use_count() > 1) mm_->address_space().release_thread();
  mm_ = std::move(mm);
  fds_->close_on_exec();
  creds_.keep_caps = false;  // capabilities(7): execve clears the keep-capabilities flag
  std::memset(&regs_, 0, sizeof(regs_));
  regs_.rip = entry;
  regs_.rsp = image->sp;
  regs_.cs = 0x33;  // __USER_CS
  regs_.ss = 0x2b;  // __USER_DS
  regs_.eflags = 0x202;
  regs_replaced_ = true;
  // The alternate signal stack was in the old image (execve(2)).
  altstack_ = AltStack{};
  {
    // The new image gets dispositions of its own, even if they were shared
    // with another process (CLONE_SIGHAND), as de_thread() unshares them.
    auto fresh = std::make_shared<SignalHandlers>();
    {
      std::lock_guard lock(sighand_->mu);
      fresh->actions = sighand_->actions;
    }
    for (auto& a : fresh->actions) {
      // execve resets handled signals to SIG_DFL; ignored ones stay ignored.
      if (a.handler != reinterpret_cast<uint64_t>(SIG_IGN)) a = SignalAction{};
    }
    auto old = sighand_;  // outlives the lock on its mutex
    std::lock_guard lock(old->mu);
    sighand_ = std::move(fresh);
  }
  auto slash = path.rfind('/');
  comm_ = path.substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 15);
  // A vfork(2) parent resumes once its child has a new image.
  release_vfork_parent();
  log::debug("task {}: exec {} entry {:#x}", tid_, path, entry);
  return {};
}

}  // namespace runsc::kernel
