// A map of disjoint half-open address ranges [start, end) to values, with
// the splitting that munmap/mprotect/mremap need. A value V describes its
// whole range; `V::slice(delta)` gives the value for the part that starts
// `delta` bytes later (a file offset moves with it, a flag does not).
#pragma once

#include <cstdint>
#include <iterator>
#include <map>

namespace runsc::mm {

template <class V>
class RangeMap {
 public:
  struct Entry {
    uint64_t end;
    V value;
  };
  using Map = std::map<uint64_t, Entry>;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;

  iterator begin() { return map_.begin(); }
  iterator end() { return map_.end(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  bool empty() const { return map_.empty(); }
  size_t size() const { return map_.size(); }

  // The entry containing addr, or end().
  iterator find(uint64_t addr) {
    auto it = map_.upper_bound(addr);
    if (it == map_.begin()) return map_.end();
    --it;
    return addr < it->second.end ? it : map_.end();
  }
  const_iterator find(uint64_t addr) const { return const_cast<RangeMap*>(this)->find(addr); }

  // The first entry that ends after addr (it may start after addr).
  iterator first_ending_after(uint64_t addr) {
    auto it = map_.upper_bound(addr);
    if (it != map_.begin()) {
      auto prev = std::prev(it);
      if (prev->second.end > addr) return prev;
    }
    return it;
  }

  bool is_free(uint64_t start, uint64_t end) {
    auto it = first_ending_after(start);
    return it == map_.end() || it->first >= end;
  }

  // Splits entries so that no entry crosses `addr`.
  void split_at(uint64_t addr) {
    auto it = find(addr);
    if (it == map_.end() || it->first == addr) return;
    Entry tail{it->second.end, it->second.value.slice(addr - it->first)};
    it->second.end = addr;
    map_.emplace(addr, std::move(tail));
  }

  // Makes entries align with [start, end) and returns the first inside it.
  iterator isolate(uint64_t start, uint64_t end) {
    split_at(start);
    split_at(end);
    return first_ending_after(start);
  }

  // Inserts a range that must be free.
  iterator insert(uint64_t start, uint64_t end, V value) {
    return map_.emplace(start, Entry{end, std::move(value)}).first;
  }

  // Removes everything in [start, end), calling fn(start, end, value) for
  // each removed piece first.
  template <class Fn>
  void remove(uint64_t start, uint64_t end, Fn&& fn) {
    auto it = isolate(start, end);
    while (it != map_.end() && it->first < end) {
      fn(it->first, it->second.end, it->second.value);
      it = map_.erase(it);
    }
  }
  void remove(uint64_t start, uint64_t end) {
    remove(start, end, [](uint64_t, uint64_t, const V&) {});
  }

  iterator erase(iterator it) { return map_.erase(it); }

  // Joins `it` with its neighbours where `can_merge(left_start, left_end,
  // left, right)` allows. Returns the iterator of the merged entry.
  template <class Pred>
  iterator merge_around(iterator it, Pred&& can_merge) {
    if (it == map_.end()) return it;
    if (it != map_.begin()) {
      auto prev = std::prev(it);
      if (prev->second.end == it->first && can_merge(prev->first, prev->second.end, prev->second.value, it->second.value)) {
        prev->second.end = it->second.end;
        map_.erase(it);
        it = prev;
      }
    }
    auto next = std::next(it);
    if (next != map_.end() && it->second.end == next->first &&
        can_merge(it->first, it->second.end, it->second.value, next->second.value)) {
      it->second.end = next->second.end;
      map_.erase(next);
    }
    return it;
  }

 private:
  Map map_;
};

}  // namespace runsc::mm
