#include "service/reply_cache.h"

#include <malloc.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"

namespace peermatch {
namespace {

grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

std::string Text(const grpc::ByteBuffer& b) {
  grpc::Slice slice;
  EXPECT_TRUE(b.DumpToSingleSlice(&slice).ok());
  return std::string(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

TEST(ReplyCache, GenerationsAndEviction) {
  ReplyCache cache(2);
  cache.Put("a", 1, Bytes("reply a"));
  ASSERT_TRUE(cache.Get("a", 1).has_value());
  EXPECT_EQ(Text(*cache.Get("a", 1)), "reply a");
  EXPECT_FALSE(cache.Get("a", 2).has_value()) << "another generation";
  EXPECT_FALSE(cache.Get("a", 1).has_value()) << "dropped once stale";
  // A reader still on an older generation neither gets nor evicts a newer
  // reply, and its own reply does not replace it.
  cache.Put("n", 5, Bytes("new"));
  EXPECT_FALSE(cache.Get("n", 4).has_value());
  cache.Put("n", 4, Bytes("old"));
  ASSERT_TRUE(cache.Get("n", 5).has_value());
  EXPECT_EQ(Text(*cache.Get("n", 5)), "new");
  cache.Put("b", 1, Bytes("b"));
  cache.Put("c", 1, Bytes("c"));
  cache.Get("b", 1);               // b is now the most recent
  cache.Put("d", 1, Bytes("d"));  // evicts c
  EXPECT_TRUE(cache.Get("b", 1).has_value());
  EXPECT_FALSE(cache.Get("c", 1).has_value());
  EXPECT_TRUE(cache.Get("d", 1).has_value());
  ReplyCache off(0);
  off.Put("a", 1, Bytes("a"));
  EXPECT_FALSE(off.Get("a", 1).has_value());
}

TEST(ReplyCache, ByteBudget) {
  // Room for two entries of 10-byte replies under 2-character keys.
  const size_t entry = ReplyCache::kEntryOverheadBytes + 15 /* a short key's capacity */ + 10;
  ReplyCache cache(100, 2 * entry + 5);
  cache.Put("k1", 1, Bytes(std::string(10, 'x')));
  cache.Put("k2", 1, Bytes(std::string(10, 'y')));
  EXPECT_EQ(cache.bytes(), 2 * entry);
  cache.Put("k3", 1, Bytes(std::string(10, 'w')));  // three do not fit: the least recent goes
  EXPECT_FALSE(cache.Get("k1", 1).has_value());
  EXPECT_TRUE(cache.Get("k2", 1).has_value());
  cache.Put("big", 1, Bytes(std::string(3 * entry, 'z')));  // larger than the budget: not kept
  EXPECT_FALSE(cache.Get("big", 1).has_value());
  EXPECT_TRUE(cache.Get("k2", 1).has_value());
  EXPECT_TRUE(cache.Get("k3", 1).has_value());
  // Replacing a key's reply keeps one entry and counts its new size.
  cache.Put("k2", 2, Bytes("new"));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.bytes(), 2 * entry - 7);
  EXPECT_EQ(Text(*cache.Get("k2", 2)), "new");
}

// Bytes the process's heap holds (glibc's count of blocks in use in the
// main arena, which this single-threaded test allocates from, and of
// mapped ones).
size_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Filled with requests far larger than their replies (the case that held
// 2.3 times its budget when keys were kept twice), the cache's count stays
// within its budget, and so does what it really holds on the heap.
TEST(ReplyCache, StaysWithinItsBudgetWithLargeRequests) {
  constexpr size_t kBudget = size_t{8} << 20;
  std::vector<std::string> keys;
  for (int i = 0; i < 64; ++i) {
    keys.push_back(*ReplyCache::Key("match", Bytes(std::string(300 << 10, 'a' + i % 26) +
                                                   std::to_string(i))));
  }
  const grpc::ByteBuffer reply = Bytes(std::string(2000, 'r'));
  const size_t before = HeapBytes();
  {
    ReplyCache cache(4096, kBudget);
    for (const std::string& key : keys) cache.Put(key, 1, reply);
    EXPECT_LE(cache.bytes(), kBudget);
    EXPECT_GT(cache.bytes(), kBudget - (310 << 10)) << "it should be nearly full";
    EXPECT_EQ(cache.size(), kBudget / (300 << 10));
    const size_t held = HeapBytes() - before;
    EXPECT_LE(held, cache.bytes()) << "the cache holds bytes its count misses";
    // Many small entries: the estimated overhead covers what each costs.
    ReplyCache small(4096, size_t{1} << 20);
    const size_t small_before = HeapBytes();
    for (int i = 0; i < 4000; ++i) small.Put(absl::StrCat("similar:", i), 1, Bytes("r"));
    EXPECT_LE(small.bytes(), size_t{1} << 20);
    EXPECT_LE(HeapBytes() - small_before, small.bytes());
  }
}

TEST(ReplyCache, KeyIsMethodAndRequestBytes) {
  EXPECT_EQ(*ReplyCache::Key("match", Bytes("\x0a\x03" "abc")), std::string("match:\x0a\x03" "abc"));
  EXPECT_NE(*ReplyCache::Key("match", Bytes("x")), *ReplyCache::Key("similar", Bytes("x")));
}

}  // namespace
}  // namespace peermatch
