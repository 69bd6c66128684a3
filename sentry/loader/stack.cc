// Initial stack layout, from the top down, as Linux builds it:
//
//   stack_top - 8   one zero word (__bprm_mm_init starts bprm->p below it)
//                   execfn string        (copy_string_kernel(bprm->filename))
//                   envp strings, argv strings, contiguous and in order, so
//                   argv[0] is lowest  (copy_strings copies them backwards)
//   align to 16     (arch_align_stack, minus its random offset)
//                   platform string, 16 AT_RANDOM bytes  (create_elf_tables)
//                   padding so that sp below is 16-byte aligned
//                   auxv pairs ending in AT_NULL
//                   NULL, envp pointers; NULL, argv pointers; argc  <- sp
#include "sentry/loader/stack.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace runsc::loader {
namespace {

constexpr uint64_t kPageSize = 4096;
// bprm_stack_limits(): _STK_LIM / 4 * 3 and ARG_MAX (32 pages).
constexpr uint64_t kStkLimitCap = (uint64_t{8} << 20) / 4 * 3;
constexpr uint64_t kArgMax = 32 * kPageSize;

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// Writes into the image, which starts at address `base`.
class Writer {
 public:
  Writer(std::vector<uint8_t>& bytes, uint64_t base) : bytes_(bytes), base_(base) {}
  void bytes(uint64_t addr, const void* data, size_t len) { std::memcpy(&bytes_[addr - base_], data, len); }
  void string(uint64_t addr, const std::string& s) { bytes(addr, s.c_str(), s.size() + 1); }
  void word(uint64_t addr, uint64_t v) { bytes(addr, &v, sizeof(v)); }

 private:
  std::vector<uint8_t>& bytes_;
  uint64_t base_;
};

}  // namespace

Result<StackImage> build_stack(const StackInput& in) {
  if (in.stack_top % kPageSize != 0) return Err(EINVAL);
  for (const auto& e : in.auxv) {
    if (e.key == AT_NULL || e.key == AT_RANDOM || e.key == AT_EXECFN || e.key == AT_PLATFORM) return Err(EINVAL);
  }
  if (has_nul(in.execfn) || has_nul(in.platform)) return Err(EINVAL);

  // do_execveat_common(): execve with an empty argv gets argv[0] = "" so
  // that programs assuming argc >= 1 do not walk into envp.
  static const std::vector<std::string> kEmptyArgv0{""};
  const std::vector<std::string>& argv = in.argv.empty() ? kEmptyArgv0 : in.argv;
  const std::vector<std::string>& envp = in.envp;

  // bprm_stack_limits(): the strings, execfn included, plus one pointer per
  // string must fit in a quarter of the stack limit, at most 3/4 of
  // _STK_LIM, but ARG_MAX is always allowed. copy_strings() and
  // copy_string_kernel() also refuse any string over MAX_ARG_STRLEN.
  uint64_t limit = std::max(std::min(kStkLimitCap, in.stack_rlimit / 4), kArgMax);
  const uint64_t pointers = (argv.size() + envp.size()) * sizeof(uint64_t);
  if (limit <= pointers) return Err(E2BIG);
  limit -= pointers;
  uint64_t strings = 0;
  auto account = [&](const std::string& s) -> Result<void> {
    if (has_nul(s)) return Err(EINVAL);
    if (s.size() + 1 > kMaxArgStrlen) return Err(E2BIG);
    strings += s.size() + 1;
    if (strings > limit) return Err(E2BIG);
    return {};
  };
  if (auto r = account(in.execfn); !r) return Err(r.error());
  for (const auto& s : envp) {
    if (auto r = account(s); !r) return Err(r.error());
  }
  for (const auto& s : argv) {
    if (auto r = account(s); !r) return Err(r.error());
  }

  StackImage out{};
  std::vector<AuxEntry> auxv = in.auxv;
  const bool with_platform = !in.platform.empty();
  // 8 top zero bytes + strings + 16 alignment + platform + random, then the
  // words: auxv (+3 ours, +AT_NULL), argc, argv+NULL, envp+NULL, + rounding.
  const uint64_t words = 2 * (auxv.size() + 4) + 1 + (argv.size() + 1) + (envp.size() + 1);
  const uint64_t worst = 8 + strings + 16 + in.platform.size() + 1 + 16 + words * 8 + 16;
  if (worst > in.stack_top) return Err(EFAULT);

  // Strings, assigned from the top down.
  uint64_t p = in.stack_top - sizeof(uint64_t);
  p -= in.execfn.size() + 1;
  out.execfn_addr = p;
  out.envp_end = p;
  std::vector<uint64_t> envp_addrs(envp.size()), argv_addrs(argv.size());
  for (size_t i = envp.size(); i-- > 0;) {
    p -= envp[i].size() + 1;
    envp_addrs[i] = p;
  }
  out.envp_start = p;
  out.argv_end = p;
  for (size_t i = argv.size(); i-- > 0;) {
    p -= argv[i].size() + 1;
    argv_addrs[i] = p;
  }
  out.argv_start = p;

  // create_elf_tables(): platform string and random bytes below the
  // 16-aligned end of the strings.
  p &= ~uint64_t{15};
  if (with_platform) {
    p -= in.platform.size() + 1;
    out.platform_addr = p;
  }
  p -= in.random.size();
  out.random_addr = p;

  // Linux's AT_RANDOM, AT_EXECFN, AT_PLATFORM come after the caller's
  // entries in that relative order (auxv order carries no meaning).
  auxv.push_back({AT_RANDOM, out.random_addr});
  auxv.push_back({AT_EXECFN, out.execfn_addr});
  if (with_platform) auxv.push_back({AT_PLATFORM, out.platform_addr});
  auxv.push_back({AT_NULL, 0});

  // STACK_ADD then STACK_ROUND: auxv sits right above the envp NULL, and
  // the block is placed so that argc lands on a 16-byte boundary, as the
  // ABI requires of %rsp at process entry.
  const uint64_t aux_words = 2 * auxv.size();
  const uint64_t items = (argv.size() + 1) + (envp.size() + 1) + 1;
  uint64_t sp = p - aux_words * sizeof(uint64_t);
  sp = (sp - items * sizeof(uint64_t)) & ~uint64_t{15};
  out.sp = sp;

  out.bytes.assign(in.stack_top - sp, 0);
  Writer w(out.bytes, sp);
  w.string(out.execfn_addr, in.execfn);
  for (size_t i = 0; i < envp.size(); ++i) w.string(envp_addrs[i], envp[i]);
  for (size_t i = 0; i < argv.size(); ++i) w.string(argv_addrs[i], argv[i]);
  if (with_platform) w.string(out.platform_addr, in.platform);
  w.bytes(out.random_addr, in.random.data(), in.random.size());

  uint64_t at = sp;
  w.word(at, argv.size());
  at += 8;
  for (uint64_t a : argv_addrs) {
    w.word(at, a);
    at += 8;
  }
  at += 8;  // argv NULL (already zero)
  for (uint64_t a : envp_addrs) {
    w.word(at, a);
    at += 8;
  }
  at += 8;  // envp NULL
  for (const auto& e : auxv) {
    w.word(at, e.key);
    w.word(at + 8, e.value);
    at += 16;
  }
  return out;
}

}  // namespace runsc::loader
