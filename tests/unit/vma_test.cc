// VMA bookkeeping: insertion with merging, splitting by removal and by
// protection changes, gap search.
#include <gtest/gtest.h>

#include "sentry/mm/vma.h"

namespace runsc::mm {
namespace {

constexpr uint64_t P = kPageSize;

Vma anon(int prot) {
  Vma v;
  v.prot = prot;
  return v;
}

std::vector<std::tuple<uint64_t, uint64_t, int>> dump(const VmaSet& set) {
  std::vector<std::tuple<uint64_t, uint64_t, int>> out;
  for (const auto& [start, e] : set.ranges()) out.emplace_back(start, e.end, e.value.prot);
  return out;
}

TEST(VmaSet, AdjacentCompatibleMappingsMerge) {
  VmaSet set;
  set.insert(10 * P, 12 * P, anon(PROT_READ));
  set.insert(12 * P, 14 * P, anon(PROT_READ));
  EXPECT_EQ(dump(set), (std::vector<std::tuple<uint64_t, uint64_t, int>>{{10 * P, 14 * P, PROT_READ}}));
}

TEST(VmaSet, DifferentProtectionsDoNotMerge) {
  VmaSet set;
  set.insert(10 * P, 12 * P, anon(PROT_READ));
  set.insert(12 * P, 14 * P, anon(PROT_READ | PROT_WRITE));
  EXPECT_EQ(set.ranges().size(), 2u);
}

TEST(VmaSet, FileMappingsMergeOnlyWithContiguousOffsets) {
  auto file = std::shared_ptr<Mappable>(nullptr);
  struct Fake : Mappable {
    Result<size_t> read_at(uint64_t, std::span<uint8_t>) override { return 0; }
  };
  auto f = std::make_shared<Fake>();
  VmaSet set;
  Vma a = anon(PROT_READ);
  a.file = f;
  a.file_offset = 0;
  Vma b = a;
  b.file_offset = 2 * P;  // contiguous with a (2 pages)
  Vma c = a;
  c.file_offset = 10 * P;  // not contiguous
  set.insert(10 * P, 12 * P, a);
  set.insert(12 * P, 13 * P, b);
  set.insert(13 * P, 14 * P, c);
  EXPECT_EQ(set.ranges().size(), 2u);
}

TEST(VmaSet, RemovingTheMiddleSplitsAndKeepsFileOffsets) {
  struct Fake : Mappable {
    Result<size_t> read_at(uint64_t, std::span<uint8_t>) override { return 0; }
  };
  VmaSet set;
  Vma v = anon(PROT_READ);
  v.file = std::make_shared<Fake>();
  v.file_offset = 4 * P;
  set.insert(10 * P, 20 * P, v);
  set.remove(12 * P, 15 * P);
  ASSERT_EQ(set.ranges().size(), 2u);
  const Vma* tail = set.find(15 * P);
  ASSERT_NE(tail, nullptr);
  EXPECT_EQ(tail->file_offset, 4 * P + 5 * P);
  EXPECT_EQ(set.find(13 * P), nullptr);
  EXPECT_TRUE(set.is_free(12 * P, 15 * P));
  EXPECT_FALSE(set.is_free(11 * P, 13 * P));
}

TEST(VmaSet, ProtectSplitsThenRemergesWhenRestored) {
  VmaSet set;
  set.insert(10 * P, 20 * P, anon(PROT_READ | PROT_WRITE));
  ASSERT_TRUE(set.protect(12 * P, 14 * P, PROT_READ));
  EXPECT_EQ(dump(set), (std::vector<std::tuple<uint64_t, uint64_t, int>>{
                           {10 * P, 12 * P, PROT_READ | PROT_WRITE},
                           {12 * P, 14 * P, PROT_READ},
                           {14 * P, 20 * P, PROT_READ | PROT_WRITE}}));
  ASSERT_TRUE(set.protect(12 * P, 14 * P, PROT_READ | PROT_WRITE));
  EXPECT_EQ(dump(set), (std::vector<std::tuple<uint64_t, uint64_t, int>>{{10 * P, 20 * P, PROT_READ | PROT_WRITE}}));
}

TEST(VmaSet, ProtectOverAHoleIsENOMEMAndChangesNothing) {
  VmaSet set;
  set.insert(10 * P, 12 * P, anon(PROT_READ));
  set.insert(13 * P, 15 * P, anon(PROT_READ));
  auto r = set.protect(10 * P, 15 * P, PROT_NONE);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ENOMEM);
  EXPECT_EQ(set.find(10 * P)->prot, PROT_READ);
}

TEST(VmaSet, ProtectBeyondMaxProtIsEACCES) {
  VmaSet set;
  Vma v = anon(PROT_READ);
  v.max_prot = PROT_READ;
  set.insert(10 * P, 12 * P, v);
  auto r = set.protect(10 * P, 12 * P, PROT_READ | PROT_WRITE);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), EACCES);
}

TEST(VmaSet, GapSearchGoesTopDownAndSkipsMappings) {
  VmaSet set;
  set.insert(90 * P, 100 * P, anon(PROT_READ));
  auto g = set.find_gap_top_down(5 * P, 10 * P, 100 * P);
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, 85 * P);
  set.insert(80 * P, 90 * P, anon(PROT_WRITE));
  g = set.find_gap_top_down(5 * P, 10 * P, 100 * P);
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, 75 * P);
  EXPECT_FALSE(set.find_gap_top_down(200 * P, 10 * P, 100 * P));
}

}  // namespace
}  // namespace runsc::mm
