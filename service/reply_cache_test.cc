#include "service/reply_cache.h"

#include <string>

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
  ReplyCache cache(100, 20);  // bytes of key + reply
  cache.Put("k1", 1, Bytes(std::string(10, 'x')));  // 12 bytes
  cache.Put("k2", 1, Bytes(std::string(10, 'y')));  // 24 in all: the least recent goes
  EXPECT_FALSE(cache.Get("k1", 1).has_value());
  EXPECT_TRUE(cache.Get("k2", 1).has_value());
  cache.Put("big", 1, Bytes(std::string(30, 'z')));  // larger than the budget: not kept
  EXPECT_FALSE(cache.Get("big", 1).has_value());
  EXPECT_TRUE(cache.Get("k2", 1).has_value());
  // Replacing a key's reply keeps one entry and counts its new size.
  cache.Put("k2", 2, Bytes("new"));
  cache.Put("k3", 2, Bytes("abc"));
  EXPECT_EQ(Text(*cache.Get("k2", 2)), "new");
  EXPECT_TRUE(cache.Get("k3", 2).has_value());
}

TEST(ReplyCache, KeyIsMethodAndRequestBytes) {
  EXPECT_EQ(*ReplyCache::Key("match", Bytes("\x0a\x03" "abc")), std::string("match:\x0a\x03" "abc"));
  EXPECT_NE(*ReplyCache::Key("match", Bytes("x")), *ReplyCache::Key("similar", Bytes("x")));
}

}  // namespace
}  // namespace peermatch
