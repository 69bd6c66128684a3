// MemoryManager against a recording AddressSpace: lazy population, fault
// handling, permission checks on Sentry access, brk and mremap.
#include <gtest/gtest.h>

#include <cstring>

#include "sentry/mm/mm.h"

namespace runsc::mm {
namespace {

struct Call {
  std::string op;
  uint64_t addr, length;
  int prot;
};

class RecordingAddressSpace : public platform::AddressSpace {
 public:
  explicit RecordingAddressSpace(std::vector<Call>* calls) : calls_(calls) {}
  Result<void> map(uint64_t addr, uint64_t, uint64_t length, int prot) override {
    calls_->push_back({"map", addr, length, prot});
    return {};
  }
  Result<void> unmap(uint64_t addr, uint64_t length) override {
    calls_->push_back({"unmap", addr, length, 0});
    return {};
  }
  Result<void> protect(uint64_t addr, uint64_t length, int prot) override {
    calls_->push_back({"protect", addr, length, prot});
    return {};
  }
  Result<void> spawn_thread() override { return {}; }
  void release_thread() override {}

 private:
  std::vector<Call>* calls_;
};

class MemoryManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = MemoryFile::create(1ULL << 30);
    ASSERT_TRUE(f);
    file_ = std::move(*f);
    mm_ = std::make_unique<MemoryManager>(*file_, std::make_unique<RecordingAddressSpace>(&calls_));
  }
  uint64_t map_anon(uint64_t length, int prot, uint64_t addr = 0, int extra = 0) {
    MmapRequest r;
    r.addr = addr;
    r.length = length;
    r.prot = prot;
    r.flags = MAP_PRIVATE | MAP_ANONYMOUS | extra;
    auto a = mm_->mmap(r);
    EXPECT_TRUE(a);
    return a ? *a : 0;
  }

  std::unique_ptr<MemoryFile> file_;
  std::vector<Call> calls_;
  std::unique_ptr<MemoryManager> mm_;
};

TEST_F(MemoryManagerTest, MmapMapsNothingUntilAFault) {
  uint64_t a = map_anon(1 << 20, PROT_READ | PROT_WRITE);
  EXPECT_TRUE(calls_.empty());
  ASSERT_TRUE(mm_->handle_fault(a + 5 * kPageSize));
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].op, "map");
  EXPECT_EQ(calls_[0].prot, PROT_READ | PROT_WRITE);
  // The window around the fault is mapped at once.
  EXPECT_LE(calls_[0].addr, a + 5 * kPageSize);
  EXPECT_GT(calls_[0].addr + calls_[0].length, a + 5 * kPageSize);
  EXPECT_GT(calls_[0].length, kPageSize);
}

TEST_F(MemoryManagerTest, FaultsPastTheMemoryLimitAreENOMEMUntilMemoryIsFreed) {
  // One page more than 16 fault windows: the last fault gets its page alone.
  file_->set_limit((1 << 20) + kPageSize);
  uint64_t a = map_anon(4 << 20, PROT_READ | PROT_WRITE);
  int refused_at = -1;
  for (int page = 0; page < 1024 && refused_at < 0; ++page) {
    auto r = mm_->handle_fault(a + page * kPageSize);
    if (!r && r.error() == ENOMEM) refused_at = page;
  }
  EXPECT_EQ(refused_at, 257);
  EXPECT_EQ(file_->allocated_bytes(), (1u << 20) + kPageSize);
  // What an unmapped region gave back serves the next fault.
  ASSERT_TRUE(mm_->munmap(a, 4 << 20));
  uint64_t b = map_anon(kPageSize, PROT_READ | PROT_WRITE);
  EXPECT_TRUE(mm_->handle_fault(b));
}

TEST_F(MemoryManagerTest, FaultOnAMappedPageAsksForARetry) {
  // A violation, or another thread mapped it first: the task retries once
  // and calls a repeat a violation.
  uint64_t a = map_anon(kPageSize, PROT_READ);
  ASSERT_TRUE(mm_->handle_fault(a));
  auto r = mm_->handle_fault(a);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), EAGAIN);
}

TEST_F(MemoryManagerTest, FaultOutsideAnyMappingOrOnProtNoneIsEFAULT) {
  EXPECT_EQ(mm_->handle_fault(0x1000).error(), EFAULT);
  uint64_t a = map_anon(kPageSize, PROT_NONE);
  EXPECT_EQ(mm_->handle_fault(a).error(), EFAULT);
}

TEST_F(MemoryManagerTest, SentryCopiesRespectProtection) {
  uint64_t ro = map_anon(kPageSize, PROT_READ);
  uint64_t rw = map_anon(kPageSize, PROT_READ | PROT_WRITE);
  const char msg[] = "hello";
  EXPECT_EQ(mm_->copy_out(ro, msg, sizeof(msg)).error(), EFAULT);
  ASSERT_TRUE(mm_->copy_out(rw, msg, sizeof(msg)));
  char back[sizeof(msg)] = {};
  ASSERT_TRUE(mm_->copy_in(rw, back, sizeof(back)));
  EXPECT_STREQ(back, "hello");
  EXPECT_EQ(mm_->copy_in(0x2000, back, 1).error(), EFAULT);
  // Fresh anonymous memory reads as zero.
  char zero[16];
  std::memset(zero, 0x55, sizeof(zero));
  ASSERT_TRUE(mm_->copy_in(ro, zero, sizeof(zero)));
  for (char c : zero) EXPECT_EQ(c, 0);
}

TEST_F(MemoryManagerTest, CopySpanningTwoMappingsFailsIfTheSecondIsMissing) {
  uint64_t a = map_anon(2 * kPageSize, PROT_READ | PROT_WRITE);
  ASSERT_TRUE(mm_->munmap(a + kPageSize, kPageSize));
  std::vector<char> buf(kPageSize + 10, 'x');
  EXPECT_EQ(mm_->copy_out(a, buf.data(), buf.size()).error(), EFAULT);
}

TEST_F(MemoryManagerTest, StringsStopAtNulAndAreBounded) {
  uint64_t a = map_anon(kPageSize, PROT_READ | PROT_WRITE);
  ASSERT_TRUE(mm_->copy_out(a, "abc\0def", 8));
  auto s = mm_->copy_in_string(a, 100);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, "abc");
  EXPECT_EQ(mm_->copy_in_string(a, 2).error(), ENAMETOOLONG);
}

TEST_F(MemoryManagerTest, MunmapOfMappedPagesUnmapsInTheAddressSpace) {
  uint64_t a = map_anon(4 * kPageSize, PROT_READ | PROT_WRITE);
  ASSERT_TRUE(mm_->handle_fault(a));
  calls_.clear();
  ASSERT_TRUE(mm_->munmap(a, 4 * kPageSize));
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].op, "unmap");
  EXPECT_EQ(mm_->handle_fault(a).error(), EFAULT);
}

TEST_F(MemoryManagerTest, MprotectReprotectsMappedPagesOnly) {
  uint64_t a = map_anon(64 * kPageSize, PROT_READ | PROT_WRITE, 0x40000000, MAP_FIXED);
  ASSERT_EQ(a, 0x40000000u);
  ASSERT_TRUE(mm_->handle_fault(a));
  calls_.clear();
  ASSERT_TRUE(mm_->mprotect(a, kPageSize, PROT_READ));
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].op, "protect");
  EXPECT_EQ(calls_[0].addr, a);
  EXPECT_EQ(calls_[0].length, kPageSize);
  EXPECT_EQ(mm_->copy_out(a, "x", 1).error(), EFAULT);
  EXPECT_TRUE(mm_->copy_out(a + kPageSize, "x", 1));
}

TEST_F(MemoryManagerTest, MmapArgumentErrorsFollowTheManPage) {
  MmapRequest r;
  r.length = 0;
  r.flags = MAP_PRIVATE | MAP_ANONYMOUS;
  EXPECT_EQ(mm_->mmap(r).error(), EINVAL);
  r.length = kPageSize;
  r.flags = MAP_ANONYMOUS;  // neither shared nor private
  EXPECT_EQ(mm_->mmap(r).error(), EINVAL);
  r.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
  r.addr = 0x40000001;
  EXPECT_EQ(mm_->mmap(r).error(), EINVAL);
  uint64_t a = map_anon(kPageSize, PROT_READ, 0x50000000, MAP_FIXED);
  r.addr = a;
  r.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
  EXPECT_EQ(mm_->mmap(r).error(), EEXIST);
}

TEST_F(MemoryManagerTest, BrkGrowsAndShrinksTheHeap) {
  mm_->set_brk_base(0x600000);
  EXPECT_EQ(mm_->brk(0), 0x600000u);
  EXPECT_EQ(mm_->brk(0x600000 + 3 * kPageSize + 5), 0x600000 + 3 * kPageSize + 5);
  ASSERT_TRUE(mm_->copy_out(0x600000 + 3 * kPageSize, "z", 1));
  EXPECT_EQ(mm_->brk(0x600000 + kPageSize), 0x600000 + kPageSize);
  EXPECT_EQ(mm_->copy_out(0x600000 + 3 * kPageSize, "z", 1).error(), EFAULT);
  // Below the start of the heap: the break does not move.
  EXPECT_EQ(mm_->brk(0x500000), 0x600000 + kPageSize);
}

TEST_F(MemoryManagerTest, MremapMovesContents) {
  uint64_t a = map_anon(2 * kPageSize, PROT_READ | PROT_WRITE, 0x60000000, MAP_FIXED);
  map_anon(kPageSize, PROT_READ, a + 2 * kPageSize, MAP_FIXED);  // blocks growth in place
  ASSERT_TRUE(mm_->copy_out(a + kPageSize, "moved", 6));
  EXPECT_EQ(mm_->mremap(a, 2 * kPageSize, 8 * kPageSize, 0, 0).error(), ENOMEM);
  auto b = mm_->mremap(a, 2 * kPageSize, 8 * kPageSize, MREMAP_MAYMOVE, 0);
  ASSERT_TRUE(b);
  EXPECT_NE(*b, a);
  char back[6];
  ASSERT_TRUE(mm_->copy_in(*b + kPageSize, back, 6));
  EXPECT_STREQ(back, "moved");
  EXPECT_EQ(mm_->copy_in(a, back, 1).error(), EFAULT);
}

TEST_F(MemoryManagerTest, MadviseDontneedZeroesPrivateAnonymousMemory) {
  uint64_t a = map_anon(kPageSize, PROT_READ | PROT_WRITE);
  ASSERT_TRUE(mm_->copy_out(a, "data", 4));
  ASSERT_TRUE(mm_->madvise(a, kPageSize, MADV_DONTNEED));
  char back[4] = {1, 1, 1, 1};
  ASSERT_TRUE(mm_->copy_in(a, back, 4));
  EXPECT_EQ(std::string(back, 4), std::string(4, '\0'));
}

TEST_F(MemoryManagerTest, ForkSharesPrivateMemoryCopyOnWriteAndSharesSharedMemory) {
  uint64_t priv = map_anon(2 * kPageSize, PROT_READ | PROT_WRITE);
  MmapRequest shared_req;
  shared_req.length = kPageSize;
  shared_req.prot = PROT_READ | PROT_WRITE;
  shared_req.flags = MAP_SHARED | MAP_ANONYMOUS;
  auto shared = mm_->mmap(shared_req);
  ASSERT_TRUE(shared);
  ASSERT_TRUE(mm_->copy_out(priv, "parent", 6));
  ASSERT_TRUE(mm_->copy_out(*shared, "before", 6));
  const uint64_t allocated_before = file_->allocated_bytes();

  std::vector<Call> child_calls;
  auto child = mm_->fork(std::make_unique<RecordingAddressSpace>(&child_calls));
  ASSERT_TRUE(child) << child.error();
  EXPECT_TRUE(child_calls.empty()) << "the child's pages map in on fault, not at fork";
  EXPECT_EQ(file_->allocated_bytes(), allocated_before) << "private pages are shared until written";

  char buf[7] = {};
  ASSERT_TRUE((*child)->copy_in(priv, buf, 6));
  EXPECT_STREQ(buf, "parent");
  // Private: writes on either side stay on that side; the first one
  // copies just the page written.
  ASSERT_TRUE((*child)->copy_out(priv, "child!", 6));
  EXPECT_EQ(file_->allocated_bytes(), allocated_before + kPageSize);
  ASSERT_TRUE(mm_->copy_in(priv, buf, 6));
  EXPECT_STREQ(buf, "parent");
  ASSERT_TRUE((*child)->copy_in(priv, buf, 6));
  EXPECT_STREQ(buf, "child!");
  // The parent's page is its own again: writing it copies nothing.
  ASSERT_TRUE(mm_->copy_out(priv, "parent", 6));
  EXPECT_EQ(file_->allocated_bytes(), allocated_before + kPageSize);
  // Shared: a write by the child is seen by the parent.
  ASSERT_TRUE((*child)->copy_out(*shared, "after!", 6));
  ASSERT_TRUE(mm_->copy_in(*shared, buf, 6));
  EXPECT_STREQ(buf, "after!");
  // The shared page outlives the child, and is freed with the parent.
  child->reset();
  ASSERT_TRUE(mm_->copy_in(*shared, buf, 6));
  EXPECT_STREQ(buf, "after!");
  EXPECT_EQ(file_->allocated_bytes(), allocated_before);
  mm_.reset();
  EXPECT_EQ(file_->allocated_bytes(), 0u);
}

TEST_F(MemoryManagerTest, ForkMakesMappedPrivatePagesReadOnlyAndAWriteFaultCopies) {
  uint64_t a = map_anon(kPageSize, PROT_READ | PROT_WRITE);
  ASSERT_TRUE(mm_->copy_out(a, "x", 1));
  ASSERT_TRUE(mm_->handle_fault(a));  // now in the parent's stub, writable
  calls_.clear();
  std::vector<Call> child_calls;
  auto child = mm_->fork(std::make_unique<RecordingAddressSpace>(&child_calls));
  ASSERT_TRUE(child);
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].op, "protect");
  EXPECT_EQ(calls_[0].prot, PROT_READ) << "the parent may no longer write the shared page";
  // The child's first fault maps the shared page read-only too.
  ASSERT_TRUE((*child)->handle_fault(a));
  ASSERT_EQ(child_calls.size(), 1u);
  EXPECT_EQ(child_calls[0].prot, PROT_READ);
  // A fault on the mapped read-only page of a writable VMA is a write:
  // the page is copied and mapped writable.
  const uint64_t before = file_->allocated_bytes();
  calls_.clear();
  ASSERT_TRUE(mm_->handle_fault(a));
  EXPECT_EQ(file_->allocated_bytes(), before + kPageSize);
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].op, "map");
  EXPECT_EQ(calls_[0].prot, PROT_READ | PROT_WRITE);
  // The child is now the page's only holder: its write fault copies nothing.
  child_calls.clear();
  ASSERT_TRUE((*child)->handle_fault(a));
  EXPECT_EQ(file_->allocated_bytes(), before + kPageSize);
  ASSERT_EQ(child_calls.size(), 1u);
  EXPECT_EQ(child_calls[0].op, "protect");
  EXPECT_EQ(child_calls[0].prot, PROT_READ | PROT_WRITE);
  // A real violation is still one: the page is writable now.
  EXPECT_EQ((*child)->handle_fault(a).error(), EAGAIN);
}

}  // namespace
}  // namespace runsc::mm
