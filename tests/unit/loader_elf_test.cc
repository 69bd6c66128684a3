// parse_elf against real binaries of this machine (cross-checked with what
// the host kernel and ld.so report about this very process) and against
// hand-made headers, each defect of which Linux refuses.
#include <fcntl.h>
#include <link.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "sentry/loader/elf.h"

namespace runsc::loader {
namespace {

ReadAt file_reader(int fd) {
  return [fd](uint64_t off, std::span<uint8_t> out) -> Result<size_t> {
    ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(off));
    if (n < 0) return ErrFromErrno();
    return static_cast<size_t>(n);
  };
}

Result<ElfInfo> parse_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrFromErrno();
  return parse_elf(file_reader(fd.get()));
}

ReadAt memory_reader(const std::vector<uint8_t>& bytes) {
  return [&bytes](uint64_t off, std::span<uint8_t> out) -> Result<size_t> {
    if (off >= bytes.size()) return size_t{0};
    size_t n = std::min<size_t>(out.size(), bytes.size() - off);
    std::memcpy(out.data(), bytes.data() + off, n);
    return n;
  };
}

bool exists(const char* path) { return ::access(path, R_OK) == 0; }

// ---------------------------------------------------------------------------
// Real binaries.

TEST(LoaderElf, StaticBusybox) {
  if (!exists("/usr/bin/busybox")) GTEST_SKIP() << "busybox-static not installed";
  auto info = parse_file("/usr/bin/busybox");
  ASSERT_TRUE(info) << strerror(info.error());
  EXPECT_TRUE(info->interpreter.empty());
  EXPECT_EQ(info->phentsize, sizeof(Elf64_Phdr));
  EXPECT_GT(info->phnum, 0);
  ASSERT_FALSE(info->segments.empty());
  EXPECT_FALSE(info->executable_stack);
  bool has_exec = false;
  for (const auto& s : info->segments) {
    EXPECT_LE(s.filesz, s.memsz);
    EXPECT_EQ(s.vaddr % 4096, s.offset % 4096);
    has_exec |= (s.prot & PROT_EXEC) != 0;
  }
  EXPECT_TRUE(has_exec);
  // The entry point lies inside an executable segment (for ET_DYN too:
  // Debian's busybox-static is a static PIE on some releases).
  bool entry_mapped = false;
  for (const auto& s : info->segments) {
    if ((s.prot & PROT_EXEC) && info->entry >= s.vaddr && info->entry < s.vaddr + s.memsz) entry_mapped = true;
  }
  EXPECT_TRUE(entry_mapped);
  ASSERT_TRUE(info->phdr_vaddr.has_value());
  auto ext = load_extent(*info);
  EXPECT_EQ(ext.start % 4096, 0u);
  EXPECT_EQ(ext.end % 4096, 0u);
  EXPECT_LE(ext.start, info->segments.front().vaddr);
}

TEST(LoaderElf, DynamicTrue) {
  auto info = parse_file("/bin/true");
  ASSERT_TRUE(info) << strerror(info.error());
  EXPECT_EQ(info->type, ET_DYN);
  EXPECT_EQ(info->interpreter, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_FALSE(info->executable_stack);
  ASSERT_TRUE(info->phdr_vaddr.has_value());
  // A PIE's program headers follow its ELF header and are mapped there.
  EXPECT_EQ(*info->phdr_vaddr, info->phoff);
  auto ext = load_extent(*info);
  EXPECT_EQ(ext.start, 0u);
  uint64_t hi = 0;
  for (const auto& s : info->segments) hi = std::max(hi, s.vaddr + s.memsz);
  EXPECT_EQ(ext.end, (hi + 4095) & ~uint64_t{4095});
}

TEST(LoaderElf, DynamicLinkerItself) {
  auto info = parse_file("/lib64/ld-linux-x86-64.so.2");
  ASSERT_TRUE(info) << strerror(info.error());
  EXPECT_EQ(info->type, ET_DYN);
  EXPECT_TRUE(info->interpreter.empty());
  EXPECT_GE(info->segments.size(), 2u);
}

TEST(LoaderElf, NotElf) {
  EXPECT_EQ(parse_file("/etc/passwd").error(), ENOEXEC);
}

// What the host kernel put in our own auxv must agree with parsing our own
// executable: AT_PHNUM, AT_PHENT, and AT_PHDR/AT_ENTRY with the same bias.
TEST(LoaderElf, SelfMatchesKernelAuxv) {
  auto info = parse_file("/proc/self/exe");
  ASSERT_TRUE(info) << strerror(info.error());
  EXPECT_EQ(info->phnum, getauxval(AT_PHNUM));
  EXPECT_EQ(info->phentsize, getauxval(AT_PHENT));
  uint64_t bias = getauxval(AT_ENTRY) - info->entry;
  if (info->type == ET_EXEC) {
    EXPECT_EQ(bias, 0u);
  }
  ASSERT_TRUE(info->phdr_vaddr.has_value());
  EXPECT_EQ(*info->phdr_vaddr + bias, getauxval(AT_PHDR));
  if (getauxval(AT_BASE) != 0) {
    EXPECT_EQ(info->interpreter, "/lib64/ld-linux-x86-64.so.2");
  }
}

struct LoadedObject {
  std::string name;
  uint64_t addr;
  std::vector<Elf64_Phdr> loads;
};

int collect(dl_phdr_info* i, size_t, void* data) {
  LoadedObject o{i->dlpi_name ? i->dlpi_name : "", i->dlpi_addr, {}};
  for (int k = 0; k < i->dlpi_phnum; ++k) {
    if (i->dlpi_phdr[k].p_type == PT_LOAD) o.loads.push_back(i->dlpi_phdr[k]);
  }
  static_cast<std::vector<LoadedObject>*>(data)->push_back(o);
  return 0;
}

void expect_same_loads(const ElfInfo& info, const std::vector<Elf64_Phdr>& loads) {
  ASSERT_EQ(info.segments.size(), loads.size());
  for (size_t i = 0; i < loads.size(); ++i) {
    const auto& s = info.segments[i];
    EXPECT_EQ(s.vaddr, loads[i].p_vaddr);
    EXPECT_EQ(s.offset, loads[i].p_offset);
    EXPECT_EQ(s.filesz, loads[i].p_filesz);
    EXPECT_EQ(s.memsz, loads[i].p_memsz);
    int prot = ((loads[i].p_flags & PF_R) ? PROT_READ : 0) | ((loads[i].p_flags & PF_W) ? PROT_WRITE : 0) |
               ((loads[i].p_flags & PF_X) ? PROT_EXEC : 0);
    EXPECT_EQ(s.prot, prot);
  }
}

// The PT_LOADs ld.so sees in memory for this program and for ld.so itself
// are the ones parse_elf reads from the files.
TEST(LoaderElf, SelfAndInterpreterMatchLoadedPhdrs) {
  std::vector<LoadedObject> objs;
  dl_iterate_phdr(collect, &objs);
  ASSERT_FALSE(objs.empty());
  auto self = parse_file("/proc/self/exe");
  ASSERT_TRUE(self);
  expect_same_loads(*self, objs.front().loads);

  uint64_t base = getauxval(AT_BASE);
  if (base == 0) GTEST_SKIP() << "statically linked test binary";
  for (const auto& o : objs) {
    if (o.addr != base || o.name.empty()) continue;
    auto interp = parse_file(o.name);
    ASSERT_TRUE(interp) << o.name;
    expect_same_loads(*interp, o.loads);
    return;
  }
  ADD_FAILURE() << "ld.so not found among loaded objects";
}

// ---------------------------------------------------------------------------
// Hand-made images. The default is a well-formed ET_EXEC with PT_PHDR,
// PT_INTERP, two PT_LOADs and PT_GNU_STACK; each test breaks one thing.

constexpr uint64_t kBase = 0x400000;
constexpr uint64_t kInterpOff = 0x200;

struct Image {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
  std::string interp = "/lib/ld-test.so";
  size_t file_size = 0x1100;

  Image() {
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = kBase + 0x100;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    ph.push_back(phdr(PT_PHDR, PF_R, 64, kBase + 64, 5 * sizeof(Elf64_Phdr), 5 * sizeof(Elf64_Phdr)));
    ph.push_back(phdr(PT_INTERP, PF_R, kInterpOff, kBase + kInterpOff, interp.size() + 1, interp.size() + 1));
    ph.push_back(phdr(PT_LOAD, PF_R | PF_X, 0, kBase, 0x1000, 0x1000));
    ph.push_back(phdr(PT_LOAD, PF_R | PF_W, 0x1000, kBase + 0x1000, 0x100, 0x2000));
    ph.push_back(phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0));
  }

  static Elf64_Phdr phdr(uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t filesz,
                         uint64_t memsz) {
    Elf64_Phdr p{};
    p.p_type = type;
    p.p_flags = flags;
    p.p_offset = off;
    p.p_vaddr = p.p_paddr = vaddr;
    p.p_filesz = filesz;
    p.p_memsz = memsz;
    p.p_align = 0x1000;
    return p;
  }

  Elf64_Phdr& find(uint32_t type, int nth = 0) {
    for (auto& p : ph) {
      if (p.p_type == type && nth-- == 0) return p;
    }
    throw std::runtime_error("no such phdr");
  }

  std::vector<uint8_t> bytes() {
    eh.e_phnum = static_cast<uint16_t>(ph.size());
    std::vector<uint8_t> b(file_size, 0);
    auto put = [&](uint64_t off, const void* p, size_t n) {
      if (off + n > b.size()) b.resize(off + n);
      std::memcpy(b.data() + off, p, n);
    };
    put(0, &eh, sizeof(eh));
    // An e_phoff far past any real file (the overflow cases) has no table.
    if (!ph.empty() && eh.e_phoff < (1u << 24)) put(eh.e_phoff, ph.data(), ph.size() * sizeof(Elf64_Phdr));
    put(kInterpOff, interp.c_str(), interp.size() + 1);
    return b;
  }

  Result<ElfInfo> parse() {
    auto b = bytes();
    return parse_elf(memory_reader(b));
  }
};

int parse_error(const std::vector<uint8_t>& b) {
  auto r = parse_elf(memory_reader(b));
  return r ? 0 : r.error();
}

TEST(LoaderElfSynthetic, WellFormed) {
  Image img;
  auto info = img.parse();
  ASSERT_TRUE(info) << strerror(info.error());
  EXPECT_EQ(info->type, ET_EXEC);
  EXPECT_EQ(info->entry, kBase + 0x100);
  EXPECT_EQ(info->phoff, 64u);
  EXPECT_EQ(info->phnum, 5);
  EXPECT_EQ(info->interpreter, "/lib/ld-test.so");
  EXPECT_FALSE(info->executable_stack);
  ASSERT_EQ(info->segments.size(), 2u);
  EXPECT_EQ(info->segments[0].vaddr, kBase);
  EXPECT_EQ(info->segments[0].prot, PROT_READ | PROT_EXEC);
  EXPECT_EQ(info->segments[1].offset, 0x1000u);
  EXPECT_EQ(info->segments[1].filesz, 0x100u);
  EXPECT_EQ(info->segments[1].memsz, 0x2000u);
  EXPECT_EQ(info->segments[1].prot, PROT_READ | PROT_WRITE);
  EXPECT_EQ(info->phdr_vaddr, kBase + 64);
  auto ext = load_extent(*info);
  EXPECT_EQ(ext.start, kBase);
  EXPECT_EQ(ext.end, kBase + 0x3000);
  EXPECT_EQ(ext.size(), 0x3000u);
}

TEST(LoaderElfSynthetic, OneByteReadsAreRetried) {
  Image img;
  auto b = img.bytes();
  auto reader = [&b](uint64_t off, std::span<uint8_t> out) -> Result<size_t> {
    if (off >= b.size() || out.empty()) return size_t{0};
    out[0] = b[off];
    return size_t{1};
  };
  auto info = parse_elf(reader);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->interpreter, "/lib/ld-test.so");
}

TEST(LoaderElfSynthetic, ReadErrorPropagates) {
  auto reader = [](uint64_t, std::span<uint8_t>) -> Result<size_t> { return Err(EIO); };
  EXPECT_EQ(parse_elf(reader).error(), EIO);
}

TEST(LoaderElfSynthetic, Truncated) {
  Image img;
  auto full = img.bytes();
  EXPECT_EQ(parse_error({}), ENOEXEC);
  EXPECT_EQ(parse_error({full.begin(), full.begin() + 3}), ENOEXEC);   // half the magic
  EXPECT_EQ(parse_error({full.begin(), full.begin() + 40}), ENOEXEC);  // inside the ELF header
  EXPECT_EQ(parse_error({full.begin(), full.begin() + 100}), ENOEXEC);  // inside the phdrs
  // Headers complete but the interpreter path cut short: elf_read's -EIO.
  EXPECT_EQ(parse_error({full.begin(), full.begin() + kInterpOff + 4}), EIO);
}

TEST(LoaderElfSynthetic, BadIdent) {
  {
    Image img;
    img.eh.e_ident[EI_MAG1] = 'F';
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    Image img;
    img.eh.e_ident[EI_CLASS] = ELFCLASS32;
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    Image img;
    img.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
}

TEST(LoaderElfSynthetic, WrongMachineOrType) {
  for (uint16_t machine : {EM_386, EM_AARCH64, EM_NONE}) {
    Image img;
    img.eh.e_machine = machine;
    EXPECT_EQ(img.parse().error(), ENOEXEC) << machine;
  }
  for (uint16_t type : {ET_NONE, ET_REL, ET_CORE}) {
    Image img;
    img.eh.e_type = type;
    EXPECT_EQ(img.parse().error(), ENOEXEC) << type;
  }
}

TEST(LoaderElfSynthetic, PhentsizeAndPhnum) {
  {
    Image img;
    img.eh.e_phentsize = sizeof(Elf64_Phdr) - 1;
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    Image img;
    img.eh.e_phentsize = 32;  // Elf32_Phdr
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    Image img;
    img.ph.clear();
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    // load_elf_phdrs caps the table at one page (ELF_MIN_ALIGN) on x86-64:
    // 73 entries fit, 74 do not.
    Image img;
    img.eh.e_phoff = 0x2000;
    img.find(PT_PHDR).p_offset = 0x2000;
    while (img.ph.size() < 73) img.ph.push_back(Image::phdr(PT_NULL, 0, 0, 0, 0, 0));
    ASSERT_TRUE(img.parse());
    img.ph.push_back(Image::phdr(PT_NULL, 0, 0, 0, 0, 0));
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    Image img;
    img.eh.e_phoff = UINT64_MAX - 8;
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
}

TEST(LoaderElfSynthetic, FileszGreaterThanMemsz) {
  Image img;
  auto& load = img.find(PT_LOAD, 1);
  load.p_filesz = load.p_memsz + 1;
  EXPECT_EQ(img.parse().error(), EINVAL);
}

TEST(LoaderElfSynthetic, IncongruentOffset) {
  Image img;
  img.find(PT_LOAD, 1).p_offset = 0x1008;
  EXPECT_EQ(img.parse().error(), EINVAL);
}

TEST(LoaderElfSynthetic, IncongruentOffsetWithoutFileBytesIsFine) {
  // A pure .bss segment is mapped anonymously; its p_offset is never used.
  Image img;
  img.ph.push_back(Image::phdr(PT_LOAD, PF_R | PF_W, 0x123, kBase + 0x4000, 0, 0x1000));
  auto info = img.parse();
  ASSERT_TRUE(info) << strerror(info.error());
  EXPECT_EQ(info->segments.size(), 3u);
  EXPECT_EQ(load_extent(*info).end, kBase + 0x5000);
}

TEST(LoaderElfSynthetic, AddressOverflow) {
  {
    Image img;
    auto& load = img.find(PT_LOAD, 1);
    // vaddr + memsz wraps around 2^64.
    load.p_vaddr = UINT64_MAX - 0x1000 + 0x100;
    load.p_offset = load.p_vaddr & 0xfff;
    EXPECT_EQ(img.parse().error(), EINVAL);
  }
  {
    // ET_EXEC beyond the user address space.
    Image img;
    auto& load = img.find(PT_LOAD, 1);
    load.p_vaddr = kTaskSize - 0x1000;
    EXPECT_EQ(img.parse().error(), EINVAL);
  }
  {
    Image img;
    auto& load = img.find(PT_LOAD, 1);
    load.p_memsz = kTaskSize + 1;
    EXPECT_EQ(img.parse().error(), EINVAL);
  }
  {
    // ET_DYN: the bias is not known yet, but the span must fit.
    Image img;
    img.eh.e_type = ET_DYN;
    img.ph.erase(img.ph.begin() + 1);  // no interpreter
    img.find(PT_LOAD, 1).p_vaddr = kBase + kTaskSize + 0x1000;
    EXPECT_EQ(img.parse().error(), ENOMEM);
  }
}

TEST(LoaderElfSynthetic, NoLoadSegments) {
  Image img;
  std::erase_if(img.ph, [](const Elf64_Phdr& p) { return p.p_type == PT_LOAD; });
  EXPECT_EQ(img.parse().error(), EINVAL);
}

TEST(LoaderElfSynthetic, EntryOutsideAddressSpace) {
  Image img;
  img.ph.erase(img.ph.begin() + 1);  // static: the entry is used as is
  img.eh.e_entry = kTaskSize;
  EXPECT_EQ(img.parse().error(), EINVAL);
}

TEST(LoaderElfSynthetic, InterpreterChecks) {
  {
    Image img;
    img.find(PT_INTERP).p_filesz -= 1;  // NUL not included
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    Image img;
    img.find(PT_INTERP).p_filesz = 1;
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    Image img;
    img.find(PT_INTERP).p_filesz = PATH_MAX + 1;
    img.file_size = 0x2000;
    EXPECT_EQ(img.parse().error(), ENOEXEC);
  }
  {
    // Exactly PATH_MAX bytes including the NUL is allowed.
    Image img;
    img.interp = "/" + std::string(PATH_MAX - 2, 'x');
    img.find(PT_INTERP).p_filesz = PATH_MAX;
    auto info = img.parse();
    ASSERT_TRUE(info) << strerror(info.error());
    EXPECT_EQ(info->interpreter.size(), PATH_MAX - 1u);
  }
  {
    // An embedded NUL ends the path, as open_exec() reads a C string.
    Image img;
    img.interp = std::string("/lib/a\0b", 8);
    img.find(PT_INTERP).p_filesz = 9;
    auto info = img.parse();
    ASSERT_TRUE(info);
    EXPECT_EQ(info->interpreter, "/lib/a");
  }
  {
    // Linux takes the first PT_INTERP and ignores later ones.
    Image img;
    auto second = img.find(PT_INTERP);
    second.p_offset = kInterpOff + 5;  // "ld-test.so"... from inside the first
    second.p_filesz = img.interp.size() + 1 - 5;
    img.ph.push_back(second);
    auto info = img.parse();
    ASSERT_TRUE(info);
    EXPECT_EQ(info->interpreter, "/lib/ld-test.so");
  }
}

TEST(LoaderElfSynthetic, GnuStack) {
  {
    Image img;
    img.find(PT_GNU_STACK).p_flags = PF_R | PF_W | PF_X;
    EXPECT_TRUE(img.parse()->executable_stack);
  }
  {
    // No PT_GNU_STACK: non-executable on x86-64 (Linux >= 5.8).
    Image img;
    std::erase_if(img.ph, [](const Elf64_Phdr& p) { return p.p_type == PT_GNU_STACK; });
    EXPECT_FALSE(img.parse()->executable_stack);
  }
  {
    // The last PT_GNU_STACK wins.
    Image img;
    img.find(PT_GNU_STACK).p_flags = PF_R | PF_W | PF_X;
    img.ph.push_back(Image::phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0));
    EXPECT_FALSE(img.parse()->executable_stack);
  }
}

TEST(LoaderElfSynthetic, PhdrAddress) {
  {
    // Without PT_PHDR: where the PT_LOAD covering e_phoff maps it.
    Image img;
    img.ph.erase(img.ph.begin());
    img.find(PT_LOAD, 0).p_vaddr = kBase + 0x10000;
    img.eh.e_entry = kBase + 0x10100;
    auto info = img.parse();
    ASSERT_TRUE(info);
    EXPECT_EQ(info->phdr_vaddr, kBase + 0x10000 + 64);
  }
  {
    // PT_PHDR wins when present.
    Image img;
    img.find(PT_PHDR).p_vaddr = kBase + 0x800;
    EXPECT_EQ(img.parse()->phdr_vaddr, kBase + 0x800);
  }
  {
    // Neither: no AT_PHDR can be given.
    Image img;
    img.ph.erase(img.ph.begin());
    img.find(PT_LOAD, 0).p_offset = 0x1000;
    img.find(PT_LOAD, 0).p_filesz = 0x100;
    img.find(PT_LOAD, 1).p_offset = 0x2000;
    img.file_size = 0x3000;
    auto info = img.parse();
    ASSERT_TRUE(info) << strerror(info.error());
    EXPECT_FALSE(info->phdr_vaddr.has_value());
  }
}

}  // namespace
}  // namespace runsc::loader
