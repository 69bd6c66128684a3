// build_stack: the image is read back the way a program's _start reads it
// (argc, argv, envp, auxv from %rsp), and its layout is cross-checked with
// what the host kernel built for this very test process.
#include <elf.h>
#include <sys/auxv.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sentry/loader/stack.h"

namespace runsc::loader {
namespace {

constexpr uint64_t kTop = 0x7fff'0000'0000;

// What a program finds on its initial stack.
struct Parsed {
  uint64_t argc = 0;
  std::vector<uint64_t> argv_ptrs, envp_ptrs;
  std::vector<std::string> argv, envp;
  std::vector<AuxEntry> auxv;  // AT_NULL included
};

class ImageReader {
 public:
  explicit ImageReader(const StackImage& img) : img_(img) {}

  uint64_t word(uint64_t addr) const {
    check(addr, 8);
    uint64_t v;
    std::memcpy(&v, &img_.bytes[addr - img_.sp], 8);
    return v;
  }
  std::string string(uint64_t addr) const {
    std::string s;
    for (;; ++addr) {
      check(addr, 1);
      char c = static_cast<char>(img_.bytes[addr - img_.sp]);
      if (c == '\0') return s;
      s += c;
    }
  }
  std::vector<uint8_t> bytes(uint64_t addr, size_t len) const {
    check(addr, len);
    auto begin = img_.bytes.begin() + static_cast<std::ptrdiff_t>(addr - img_.sp);
    return {begin, begin + static_cast<std::ptrdiff_t>(len)};
  }

 private:
  void check(uint64_t addr, size_t len) const {
    if (addr < img_.sp || addr + len > img_.sp + img_.bytes.size()) {
      ADD_FAILURE() << "read outside the image at 0x" << std::hex << addr;
      throw std::out_of_range("outside image");
    }
  }
  const StackImage& img_;
};

Parsed parse(const StackImage& img) {
  ImageReader r(img);
  Parsed p;
  uint64_t at = img.sp;
  p.argc = r.word(at);
  at += 8;
  for (uint64_t i = 0; i < p.argc; ++i, at += 8) p.argv_ptrs.push_back(r.word(at));
  EXPECT_EQ(r.word(at), 0u) << "argv is not NULL-terminated";
  at += 8;
  for (uint64_t ptr; (ptr = r.word(at)) != 0; at += 8) p.envp_ptrs.push_back(ptr);
  at += 8;
  for (;; at += 16) {
    AuxEntry e{r.word(at), r.word(at + 8)};
    p.auxv.push_back(e);
    if (e.key == AT_NULL) break;
  }
  for (uint64_t ptr : p.argv_ptrs) p.argv.push_back(r.string(ptr));
  for (uint64_t ptr : p.envp_ptrs) p.envp.push_back(r.string(ptr));
  return p;
}

uint64_t aux_value(const Parsed& p, uint64_t key) {
  for (const auto& e : p.auxv) {
    if (e.key == key) return e.value;
  }
  ADD_FAILURE() << "auxv has no entry " << key;
  return 0;
}

// The errno of a failed build, 0 when it succeeded.
int error_of(const Result<StackImage>& r) { return r ? 0 : r.error(); }

StackInput typical_input() {
  StackInput in;
  in.stack_top = kTop;
  in.argv = {"/bin/prog", "-x", "an argument with spaces", ""};
  in.envp = {"PATH=/usr/bin:/bin", "HOME=/root", "EMPTY="};
  in.execfn = "/bin/prog";
  for (size_t i = 0; i < in.random.size(); ++i) in.random[i] = static_cast<uint8_t>(0xa0 + i);
  in.auxv = {{AT_PHDR, 0x400040}, {AT_PHENT, 56},  {AT_PHNUM, 9},       {AT_PAGESZ, 4096},
             {AT_BASE, 0},        {AT_ENTRY, 0x401000}, {AT_UID, 0}, {AT_SECURE, 0}};
  return in;
}

TEST(LoaderStack, ProgramReadsBackArgvEnvpAndAuxv) {
  StackInput in = typical_input();
  auto img = build_stack(in);
  ASSERT_TRUE(img) << img.error();
  Parsed p = parse(*img);

  EXPECT_EQ(p.argc, in.argv.size());
  EXPECT_EQ(p.argv, in.argv);
  EXPECT_EQ(p.envp, in.envp);

  // The caller's entries in its order, then the ones build_stack owns.
  ASSERT_EQ(p.auxv.size(), in.auxv.size() + 4);
  for (size_t i = 0; i < in.auxv.size(); ++i) {
    EXPECT_EQ(p.auxv[i].key, in.auxv[i].key) << "entry " << i;
    EXPECT_EQ(p.auxv[i].value, in.auxv[i].value) << "entry " << i;
  }
  EXPECT_EQ(p.auxv[in.auxv.size() + 0].key, uint64_t{AT_RANDOM});
  EXPECT_EQ(p.auxv[in.auxv.size() + 1].key, uint64_t{AT_EXECFN});
  EXPECT_EQ(p.auxv[in.auxv.size() + 2].key, uint64_t{AT_PLATFORM});
  EXPECT_EQ(p.auxv.back().key, uint64_t{AT_NULL});
  EXPECT_EQ(p.auxv.back().value, 0u);

  ImageReader r(*img);
  EXPECT_EQ(aux_value(p, AT_EXECFN), img->execfn_addr);
  EXPECT_EQ(r.string(img->execfn_addr), "/bin/prog");
  EXPECT_EQ(aux_value(p, AT_PLATFORM), img->platform_addr);
  EXPECT_EQ(r.string(img->platform_addr), "x86_64");
  EXPECT_EQ(aux_value(p, AT_RANDOM), img->random_addr);
  auto random = r.bytes(img->random_addr, 16);
  EXPECT_TRUE(std::equal(random.begin(), random.end(), in.random.begin()));
}

TEST(LoaderStack, SpIsSixteenByteAlignedAndImageEndsAtStackTop) {
  // Every parity of pointer count, string lengths that move the alignment.
  for (size_t argc = 0; argc < 6; ++argc) {
    for (size_t envc = 0; envc < 4; ++envc) {
      for (size_t pad = 0; pad < 17; pad += 5) {
        StackInput in;
        in.stack_top = kTop;
        for (size_t i = 0; i < argc; ++i) in.argv.push_back(std::string(i + pad, 'a'));
        for (size_t i = 0; i < envc; ++i) in.envp.push_back("V" + std::to_string(i) + "=" + std::string(pad, 'b'));
        in.execfn = std::string(pad + 1, 'e');
        auto img = build_stack(in);
        ASSERT_TRUE(img) << img.error();
        SCOPED_TRACE(testing::Message() << "argc=" << argc << " envc=" << envc << " pad=" << pad);
        EXPECT_EQ(img->sp % 16, 0u);
        EXPECT_EQ(img->sp + img->bytes.size(), kTop);
        Parsed p = parse(*img);
        EXPECT_EQ(p.envp, in.envp);
        if (argc == 0) {
          EXPECT_EQ(p.argv, std::vector<std::string>{""});
        } else {
          EXPECT_EQ(p.argv, in.argv);
        }
      }
    }
  }
}

TEST(LoaderStack, StringsSitAtTheTopInLinuxOrder) {
  StackInput in = typical_input();
  auto img = build_stack(in);
  ASSERT_TRUE(img) << img.error();
  Parsed p = parse(*img);
  ImageReader r(*img);

  // One zero word at the very top, the execfn string right below it.
  EXPECT_EQ(r.word(kTop - 8), 0u);
  EXPECT_EQ(img->execfn_addr + in.execfn.size() + 1, kTop - 8);
  // envp strings end where execfn starts; argv strings end where envp
  // strings start; each block contiguous and in order.
  EXPECT_EQ(img->envp_end, img->execfn_addr);
  EXPECT_EQ(img->argv_end, img->envp_start);
  uint64_t expect = img->argv_start;
  for (size_t i = 0; i < in.argv.size(); ++i) {
    EXPECT_EQ(p.argv_ptrs[i], expect) << "argv[" << i << "]";
    expect += in.argv[i].size() + 1;
  }
  EXPECT_EQ(expect, img->argv_end);
  expect = img->envp_start;
  for (size_t i = 0; i < in.envp.size(); ++i) {
    EXPECT_EQ(p.envp_ptrs[i], expect) << "envp[" << i << "]";
    expect += in.envp[i].size() + 1;
  }
  EXPECT_EQ(expect, img->envp_end);
  // create_elf_tables(): the platform string below the 16-aligned end of
  // the strings, the random bytes right below the platform string.
  EXPECT_EQ(img->platform_addr + in.platform.size() + 1, img->argv_start & ~uint64_t{15});
  EXPECT_EQ(img->random_addr + 16, img->platform_addr);
}

TEST(LoaderStack, EmptyPlatformLeavesOutAtPlatform) {
  StackInput in = typical_input();
  in.platform.clear();
  auto img = build_stack(in);
  ASSERT_TRUE(img) << img.error();
  Parsed p = parse(*img);
  EXPECT_EQ(img->platform_addr, 0u);
  for (const auto& e : p.auxv) EXPECT_NE(e.key, uint64_t{AT_PLATFORM});
  EXPECT_EQ(img->random_addr + 16, img->argv_start & ~uint64_t{15});
}

TEST(LoaderStack, RefusesBadInput) {
  StackInput in = typical_input();
  in.stack_top = kTop + 8;
  EXPECT_EQ(error_of(build_stack(in)), EINVAL) << "unaligned stack top";

  for (uint64_t owned : {AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM}) {
    in = typical_input();
    in.auxv.push_back({owned, 1});
    EXPECT_EQ(error_of(build_stack(in)), EINVAL) << "auxv key " << owned;
  }

  in = typical_input();
  in.argv[1] = std::string("a\0b", 3);
  EXPECT_EQ(error_of(build_stack(in)), EINVAL) << "NUL inside an argument";

  in = typical_input();
  in.stack_top = 4096;  // too small for an 8 KiB argument
  in.argv.push_back(std::string(8192, 'x'));
  EXPECT_EQ(error_of(build_stack(in)), EFAULT);
}

TEST(LoaderStack, E2bigFollowsLinuxLimits) {
  // MAX_ARG_STRLEN counts the NUL: a string of 32 pages - 1 bytes fits.
  StackInput in = typical_input();
  in.argv.push_back(std::string(kMaxArgStrlen - 1, 'x'));
  EXPECT_TRUE(build_stack(in));
  in.argv.back().push_back('x');
  EXPECT_EQ(error_of(build_stack(in)), E2BIG);
  in = typical_input();
  in.envp.push_back(std::string(kMaxArgStrlen, 'x'));
  EXPECT_EQ(error_of(build_stack(in)), E2BIG);

  // A quarter of RLIMIT_STACK bounds the total: 8 MiB allows 2 MiB ...
  in = typical_input();
  for (int i = 0; i < 20; ++i) in.envp.push_back(std::string(100 * 1024, 'v'));
  EXPECT_TRUE(build_stack(in));
  in.stack_rlimit = 4 << 20;  // ... 4 MiB only 1 MiB.
  EXPECT_EQ(error_of(build_stack(in)), E2BIG);
  // ... but ARG_MAX (128 KiB) is allowed even with a tiny limit.
  in = typical_input();
  in.stack_rlimit = 4096;
  in.envp.push_back(std::string(100 * 1024, 'v'));
  EXPECT_TRUE(build_stack(in));
  in.envp.push_back(std::string(100 * 1024, 'v'));
  EXPECT_EQ(error_of(build_stack(in)), E2BIG);

  // The pointers count too: many empty strings.
  in = typical_input();
  in.stack_rlimit = 4096;
  in.argv.assign(128 * 1024 / 9, "");
  EXPECT_EQ(error_of(build_stack(in)), E2BIG);
}

// Fields 48 to 51 of /proc/self/stat: arg_start, arg_end, env_start,
// env_end as the host kernel set them up for this process.
std::vector<uint64_t> host_arg_env_bounds() {
  std::ifstream f("/proc/self/stat");
  std::string line;
  std::getline(f, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));  // field 3 on
  std::vector<std::string> fields;
  for (std::string s; rest >> s;) fields.push_back(s);
  std::vector<uint64_t> out;
  for (size_t field = 48; field <= 51; ++field) out.push_back(std::stoull(fields.at(field - 3)));
  return out;
}

uint64_t host_stack_end() {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.ends_with("[stack]")) return std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
  }
  return 0;
}

TEST(LoaderStack, LayoutMatchesWhatTheHostKernelBuiltForThisProcess) {
  auto bounds = host_arg_env_bounds();
  const uint64_t arg_start = bounds[0], arg_end = bounds[1], env_start = bounds[2], env_end = bounds[3];
  const uint64_t execfn = getauxval(AT_EXECFN), random = getauxval(AT_RANDOM);
  const uint64_t platform = getauxval(AT_PLATFORM);
  const uint64_t stack_end = host_stack_end();
  ASSERT_NE(stack_end, 0u);

  // The same relations our image has (StringsSitAtTheTopInLinuxOrder).
  EXPECT_EQ(execfn + std::strlen(reinterpret_cast<const char*>(execfn)) + 1, stack_end - 8);
  EXPECT_EQ(env_end, execfn);
  EXPECT_EQ(arg_end, env_start);
  EXPECT_LT(arg_start, arg_end);
  EXPECT_EQ(random + 16, platform);
  // Below the strings; the host adds a random offset of up to 8 KiB here
  // (arch_align_stack), which we leave out.
  EXPECT_LE(platform + std::strlen(reinterpret_cast<const char*>(platform)) + 1, arg_start & ~uint64_t{15});
  EXPECT_STREQ(reinterpret_cast<const char*>(platform), "x86_64");
}

}  // namespace
}  // namespace runsc::loader
