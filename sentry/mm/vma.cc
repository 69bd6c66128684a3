#include "sentry/mm/vma.h"

#include <iterator>

namespace runsc::mm {

bool vmas_mergeable(uint64_t left_start, uint64_t left_end, const Vma& left, const Vma& right) {
  if (left.prot != right.prot || left.max_prot != right.max_prot || left.shared != right.shared ||
      left.grows_down != right.grows_down || left.file != right.file || left.name != right.name)
    return false;
  if (left.file) return left.file_offset + (left_end - left_start) == right.file_offset;
  return true;
}

void VmaSet::insert(uint64_t start, uint64_t end, Vma vma) {
  auto it = map_.insert(start, end, std::move(vma));
  map_.merge_around(it, vmas_mergeable);
}

bool VmaSet::covered(uint64_t start, uint64_t end) const {
  uint64_t cursor = start;
  auto it = const_cast<Map&>(map_).first_ending_after(start);
  while (cursor < end) {
    if (it == map_.end() || it->first > cursor) return false;
    cursor = it->second.end;
    ++it;
  }
  return true;
}

Result<void> VmaSet::protect(uint64_t start, uint64_t end, int prot) {
  if (!covered(start, end)) return Err(ENOMEM);
  for (auto it = map_.first_ending_after(start); it != map_.end() && it->first < end; ++it) {
    if ((prot & ~it->second.value.max_prot) != 0) return Err(EACCES);
  }
  auto it = map_.isolate(start, end);
  while (it != map_.end() && it->first < end) {
    it->second.value.prot = prot;
    ++it;
  }
  // Re-merge the changed pieces with their neighbours, left to right.
  it = map_.first_ending_after(start);
  if (it != map_.begin()) --it;
  while (it != map_.end() && it->first <= end) {
    it = map_.merge_around(it, vmas_mergeable);
    ++it;
  }
  return {};
}

std::optional<uint64_t> VmaSet::find_gap_top_down(uint64_t length, uint64_t low, uint64_t high) const {
  if (length == 0 || high < low || high - low < length) return std::nullopt;
  uint64_t gap_end = high;
  // Walk VMAs from the one ending at or below `high` downward.
  auto it = map_.end();
  auto& m = const_cast<Map&>(map_);
  auto upper = m.first_ending_after(high);  // first VMA ending after high
  it = upper;
  // If that VMA starts below high, it caps the first gap.
  if (it != map_.end() && it->first < high) gap_end = it->first;
  while (true) {
    if (it == map_.begin()) {
      if (gap_end >= low + length) return gap_end - length;
      return std::nullopt;
    }
    auto prev = std::prev(it);
    uint64_t gap_start = prev->second.end > low ? prev->second.end : low;
    if (gap_end >= gap_start + length && gap_end >= length) return gap_end - length;
    if (prev->first <= low) return std::nullopt;
    gap_end = prev->first;
    it = prev;
  }
}

}  // namespace runsc::mm
