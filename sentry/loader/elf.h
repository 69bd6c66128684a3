// ELF64 x86-64 program-header parsing for execve, validated the way Linux's
// fs/binfmt_elf.c (load_elf_binary, load_elf_phdrs) validates a binary.
// Pure: it reads the file through a callback and maps nothing.
#pragma once

#include <elf.h>
#include <sys/mman.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace runsc::loader {

// The highest user address + 1 an x86-64 task may map with 4-level paging
// (Linux's TASK_SIZE_MAX: 2^47 minus one guard page).
inline constexpr uint64_t kTaskSize = (uint64_t{1} << 47) - 4096;
inline constexpr uint64_t kPageSize = 4096;

struct LoadSegment {
  uint64_t vaddr;
  uint64_t filesz;
  uint64_t memsz;
  uint64_t offset;
  int prot;  // PROT_* from p_flags
};

struct ElfInfo {
  uint16_t type;  // ET_EXEC or ET_DYN
  uint64_t entry;
  uint64_t phoff;
  uint16_t phentsize;
  uint16_t phnum;
  // Unbiased address of the program header table in memory (for AT_PHDR):
  // PT_PHDR's p_vaddr, else where the PT_LOAD covering e_phoff maps it.
  std::optional<uint64_t> phdr_vaddr;
  std::vector<LoadSegment> segments;  // PT_LOAD in file order; never empty
  std::string interpreter;            // PT_INTERP without the NUL; empty if none
  // PT_GNU_STACK with PF_X. Absent PT_GNU_STACK means a non-executable stack
  // on x86-64 since Linux 5.8 (elf_read_implies_exec is ia32-only).
  bool executable_stack = false;
};

// Reads up to out.size() bytes at `offset`; returns how many were read.
// Fewer than asked (or 0) means end of file; parse_elf retries short reads.
using ReadAt = std::function<Result<size_t>(uint64_t offset, std::span<uint8_t> out)>;

// ENOEXEC: not ELF, not x86-64 ELF64 LSB, bad e_type/e_phentsize/e_phnum,
//          unreadable program headers, bad PT_INTERP.
// EINVAL:  a PT_LOAD that Linux would refuse to map (filesz > memsz, beyond
//          the task size, p_offset/p_vaddr not congruent mod the page size),
//          or no PT_LOAD at all.
// ENOMEM:  an ET_DYN whose PT_LOADs span more than the address space.
// EIO:     PT_INTERP contents cut short by end of file; read_at's own errors.
Result<ElfInfo> parse_elf(const ReadAt& read_at);

// Page-aligned [start, end) covering every PT_LOAD at its unbiased address:
// the reservation an ET_DYN object needs (Linux's total_mapping_size).
struct LoadExtent {
  uint64_t start;
  uint64_t end;
  uint64_t size() const { return end - start; }
};
LoadExtent load_extent(const ElfInfo& info);

}  // namespace runsc::loader
