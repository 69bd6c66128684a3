// ELF parsing for execve. The checks, their order and their errnos follow
// Linux's fs/binfmt_elf.c (load_elf_binary, load_elf_phdrs, elf_load), with
// one deliberate difference: Linux discovers a bad PT_LOAD only while mapping
// it, after begin_new_exec() has passed the point of no return, so the caller
// is killed with SIGSEGV. We check everything up front, so execve can fail
// with the errno Linux computed and the old image keeps running.
#include "sentry/loader/elf.h"

#include <algorithm>
#include <climits>
#include <cstring>

namespace runsc::loader {
namespace {

// load_elf_phdrs() refuses a table larger than 64 KiB or than ELF_MIN_ALIGN
// (one page on x86-64): at most 73 program headers.
constexpr size_t kMaxPhdrTableSize = std::min<size_t>(65536, kPageSize);

constexpr uint64_t page_down(uint64_t v) { return v & ~(kPageSize - 1); }
constexpr uint64_t page_offset(uint64_t v) { return v & (kPageSize - 1); }
constexpr uint64_t page_up(uint64_t v) { return page_down(v + kPageSize - 1); }

// Reads until `out` is full or the file ends, so a ReadAt that returns
// short counts before EOF still works.
Result<size_t> read_full(const ReadAt& read_at, uint64_t offset, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    auto n = read_at(offset + done, out.subspan(done));
    if (!n) return Err(n.error());
    if (*n == 0) break;
    done += std::min(*n, out.size() - done);
  }
  return done;
}

int prot_from_flags(uint32_t p_flags) {
  // make_prot(); arch_elf_adjust_prot() is a no-op on x86, and
  // READ_IMPLIES_EXEC is never set for 64-bit programs since Linux 5.8.
  int prot = PROT_NONE;
  if (p_flags & PF_R) prot |= PROT_READ;
  if (p_flags & PF_W) prot |= PROT_WRITE;
  if (p_flags & PF_X) prot |= PROT_EXEC;
  return prot;
}

Result<void> check_load(const Elf64_Phdr& ph, uint16_t type) {
  // elf_map() hands mmap p_offset - PAGEOFFSET(p_vaddr) as the file offset;
  // mmap refuses an offset that is not page aligned with EINVAL. Since
  // Linux 6.7 elf_load() maps a segment with p_filesz == 0 anonymously,
  // never through the file, so only segments with file bytes must agree.
  if (ph.p_filesz != 0 && page_offset(ph.p_vaddr) != page_offset(ph.p_offset)) return Err(EINVAL);
  // do_mmap(): the file range must not wrap (EOVERFLOW).
  if (ph.p_filesz != 0 && ph.p_offset + ph.p_filesz < ph.p_offset) return Err(EOVERFLOW);
  // load_elf_binary(): "set_brk can never work. Avoid overflows." -> EINVAL.
  if (ph.p_filesz > ph.p_memsz) return Err(EINVAL);
  if (ph.p_memsz > kTaskSize) return Err(EINVAL);
  // The end, rounded up to a page, must be representable at all; for
  // ET_DYN the bias is only known when mapping, so that is all we can say.
  if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr || ph.p_vaddr + ph.p_memsz > UINT64_MAX - (kPageSize - 1)) {
    return Err(EINVAL);
  }
  // ET_EXEC is mapped where it says: BAD_ADDR(k) || TASK_SIZE - p_memsz < k.
  if (type == ET_EXEC && (ph.p_vaddr >= kTaskSize || kTaskSize - ph.p_memsz < ph.p_vaddr)) return Err(EINVAL);
  return {};
}

}  // namespace

Result<ElfInfo> parse_elf(const ReadAt& read_at) {
  // fs/exec.c reads the header into the zeroed bprm->buf, so a short file
  // reads as zeros and a truncated header fails a field check with ENOEXEC.
  uint8_t buf[sizeof(Elf64_Ehdr)] = {};
  auto got = read_full(read_at, 0, buf);
  if (!got) return Err(got.error());  // prepare_binprm passes read errors on
  Elf64_Ehdr eh;
  std::memcpy(&eh, buf, sizeof(eh));

  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return Err(ENOEXEC);
  // Linux's x86-64 elf_check_arch() looks only at e_machine; an ELFCLASS32
  // file with EM_X86_64 (x32) is the compat loader's, which we do not have,
  // and reading it as ELF64 would be nonsense. Big-endian likewise.
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) return Err(ENOEXEC);
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return Err(ENOEXEC);
  if (eh.e_machine != EM_X86_64) return Err(ENOEXEC);

  // load_elf_phdrs(): any failure there, short read included, leaves
  // load_elf_binary's retval at -ENOEXEC.
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) return Err(ENOEXEC);
  const size_t table_size = size_t{eh.e_phnum} * sizeof(Elf64_Phdr);
  if (table_size == 0 || table_size > kMaxPhdrTableSize) return Err(ENOEXEC);
  if (eh.e_phoff + table_size < eh.e_phoff) return Err(ENOEXEC);
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  auto table = std::span<uint8_t>(reinterpret_cast<uint8_t*>(phdrs.data()), table_size);
  auto n = read_full(read_at, eh.e_phoff, table);
  if (!n || *n != table_size) return Err(ENOEXEC);

  ElfInfo info;
  info.type = eh.e_type;
  info.entry = eh.e_entry;
  info.phoff = eh.e_phoff;
  info.phentsize = eh.e_phentsize;
  info.phnum = eh.e_phnum;

  // PT_INTERP: Linux uses the first one and ignores any later ones (its
  // loop breaks after opening the interpreter), so we do too.
  for (const auto& ph : phdrs) {
    if (ph.p_type != PT_INTERP) continue;
    // At least one character and the NUL, at most PATH_MAX: ENOEXEC.
    if (ph.p_filesz > PATH_MAX || ph.p_filesz < 2) return Err(ENOEXEC);
    std::vector<uint8_t> path(ph.p_filesz);
    auto r = read_full(read_at, ph.p_offset, path);
    if (!r) return Err(r.error());
    if (*r != path.size()) return Err(EIO);  // elf_read(): short read is -EIO
    if (path.back() != '\0') return Err(ENOEXEC);
    // open_exec() takes it as a C string: an embedded NUL ends it.
    info.interpreter.assign(reinterpret_cast<const char*>(path.data()));
    break;
  }

  // PT_GNU_STACK: each one overrides the previous, so the last one counts.
  for (const auto& ph : phdrs) {
    if (ph.p_type == PT_GNU_STACK) info.executable_stack = (ph.p_flags & PF_X) != 0;
  }

  std::optional<uint64_t> covering_load;
  std::optional<uint64_t> pt_phdr;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& ph : phdrs) {
    if (ph.p_type == PT_PHDR && !pt_phdr) pt_phdr = ph.p_vaddr;
    if (ph.p_type != PT_LOAD) continue;
    if (auto ok = check_load(ph, eh.e_type); !ok) return Err(ok.error());
    info.segments.push_back(LoadSegment{ph.p_vaddr, ph.p_filesz, ph.p_memsz, ph.p_offset, prot_from_flags(ph.p_flags)});
    // Linux (since 5.18) derives AT_PHDR from the PT_LOAD whose file range
    // holds e_phoff; the last such segment wins there.
    if (ph.p_offset <= eh.e_phoff && eh.e_phoff < ph.p_offset + ph.p_filesz) {
      covering_load = eh.e_phoff - ph.p_offset + ph.p_vaddr;
    }
    lo = std::min(lo, page_down(ph.p_vaddr));
    hi = std::max(hi, ph.p_vaddr + ph.p_memsz);
  }
  // total_mapping_size() == 0 is EINVAL for ET_DYN; an ET_EXEC without
  // PT_LOAD would only crash at its entry point, so refuse it the same way.
  if (info.segments.empty()) return Err(EINVAL);
  // An ET_DYN is reserved in one piece; a piece larger than the address
  // space makes that mmap fail with ENOMEM.
  if (eh.e_type == ET_DYN && page_up(hi) - lo > kTaskSize) return Err(ENOMEM);
  // Without an interpreter the entry point is used as is: BAD_ADDR -> EINVAL.
  if (eh.e_type == ET_EXEC && info.interpreter.empty() && eh.e_entry >= kTaskSize) return Err(EINVAL);

  // glibc's ld.so computes the main program's load bias as AT_PHDR minus
  // PT_PHDR's p_vaddr, so PT_PHDR is the authoritative answer when present;
  // for linker output it equals what the covering PT_LOAD gives.
  info.phdr_vaddr = pt_phdr ? pt_phdr : covering_load;
  return info;
}

LoadExtent load_extent(const ElfInfo& info) {
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& seg : info.segments) {
    lo = std::min(lo, page_down(seg.vaddr));
    hi = std::max(hi, seg.vaddr + seg.memsz);
  }
  if (info.segments.empty()) return LoadExtent{0, 0};
  // parse_elf guarantees vaddr + memsz rounds up without wrapping.
  return LoadExtent{lo, page_up(hi)};
}

}  // namespace runsc::loader
