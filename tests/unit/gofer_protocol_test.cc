// The gofer wire protocol: every message round-trips, and anything that is
// not exactly a message is refused with an errno rather than misread.
#include "gofer/protocol.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <random>
#include <string>
#include <vector>

namespace runsc::gofer {
namespace {

using Bytes = std::vector<uint8_t>;

FileStat sample_stat() {
  FileStat st;
  st.dev = 0x0102030405060708ull;
  st.ino = 0xfffffffffffffffeull;
  st.nlink = 3;
  st.mode = S_IFREG | 0644;
  st.uid = 1000;
  st.gid = 0xffffffffu;
  st.rdev = 0x1234;
  st.size = -1;  // signed fields keep their sign
  st.blksize = 4096;
  st.blocks = 8;
  st.atime_sec = -5;
  st.atime_nsec = 999'999'999;
  st.mtime_sec = 1'700'000'000;
  st.mtime_nsec = 0;
  st.ctime_sec = INT64_MAX;
  st.ctime_nsec = 1;
  return st;
}

std::vector<Request> sample_requests() {
  return {
      Request{1, WalkRequest{kRootHandle, "etc"}},
      Request{0xffffffffu, WalkRequest{UINT64_MAX, std::string(kMaxNameLength, 'n')}},
      Request{2, WalkRequest{7, "with space and \xff bytes"}},
      Request{3, OpenRequest{42, O_RDONLY | O_CLOEXEC | O_NOFOLLOW}},
      Request{4, OpenRequest{0, 0xffffffffu}},
      Request{5, StatRequest{kRootHandle}},
      Request{6, ReadlinkRequest{99}},
      Request{7, GetdentsRequest{kRootHandle, 0}},
      Request{8, GetdentsRequest{5, UINT64_MAX}},
      Request{9, ReleaseRequest{123456789}},
  };
}

std::vector<Reply> sample_replies() {
  GetdentsReply dents;
  dents.entries = {{1, DT_REG, "a"}, {UINT64_MAX, DT_DIR, std::string(kMaxNameLength, 'd')}, {3, DT_LNK, "link"}};
  dents.end = true;
  GetdentsReply more;
  more.entries = {{9, DT_UNKNOWN, "x"}};
  more.end = false;
  return {
      Reply{1, ErrorReply{static_cast<uint32_t>(Op::kWalk), ENOENT}},
      Reply{2, ErrorReply{0xdeadbeefu, 4095}},  // errors echo even unknown ops
      Reply{3, WalkReply{17, sample_stat()}},
      Reply{4, OpenReply{}},
      Reply{5, StatReply{sample_stat()}},
      Reply{6, ReadlinkReply{"/etc/passwd"}},
      Reply{7, ReadlinkReply{std::string(kMaxLinkTargetLength, 'l')}},
      Reply{8, GetdentsReply{}},  // an empty directory: no entries, not the end either
      Reply{9, dents},
      Reply{10, more},
      Reply{11, ReleaseReply{}},
  };
}

Bytes encode(const Request& r) {
  auto bytes = encode_request(r);
  EXPECT_TRUE(bytes.has_value());
  return bytes.value_or(Bytes{});
}

Bytes encode(const Reply& r) {
  auto bytes = encode_reply(r);
  EXPECT_TRUE(bytes.has_value());
  return bytes.value_or(Bytes{});
}

void put_u32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u16(Bytes& b, uint16_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A Walk request built by hand, so that names encode_request refuses can
// still be put on the wire.
Bytes raw_walk(uint32_t tag, Handle dir, std::string_view name) {
  Bytes b;
  put_u32(b, tag);
  put_u32(b, static_cast<uint32_t>(Op::kWalk));
  put_u64(b, dir);
  put_u16(b, static_cast<uint16_t>(name.size()));
  b.insert(b.end(), name.begin(), name.end());
  return b;
}

Bytes reply_header(uint32_t tag, Op op) {
  Bytes b;
  put_u32(b, tag);
  put_u32(b, static_cast<uint32_t>(op));
  put_u32(b, 0);
  return b;
}

TEST(GoferProtocol, EveryRequestRoundTrips) {
  for (const Request& r : sample_requests()) {
    Bytes bytes = encode(r);
    auto back = decode_request(bytes);
    ASSERT_TRUE(back.has_value()) << "op " << static_cast<int>(op_of(r.body)) << ": " << back.error();
    EXPECT_EQ(*back, r);
  }
}

TEST(GoferProtocol, EveryReplyRoundTrips) {
  for (const Reply& r : sample_replies()) {
    Bytes bytes = encode(r);
    auto back = decode_reply(bytes);
    ASSERT_TRUE(back.has_value()) << "tag " << r.tag << ": " << back.error();
    EXPECT_EQ(*back, r);
  }
}

TEST(GoferProtocol, LayoutIsLittleEndianAsDocumented) {
  Bytes bytes = encode(Request{0x04030201, StatRequest{0x0807060504030201ull}});
  Bytes expected = {1, 2, 3, 4, 3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(bytes, expected);
}

TEST(GoferProtocol, EveryTruncationIsRefused) {
  for (const Request& r : sample_requests()) {
    Bytes bytes = encode(r);
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto got = decode_request(std::span<const uint8_t>(bytes.data(), n));
      ASSERT_FALSE(got.has_value()) << "request prefix of " << n << " bytes decoded";
      EXPECT_EQ(got.error(), EBADMSG);
    }
  }
  for (const Reply& r : sample_replies()) {
    Bytes bytes = encode(r);
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto got = decode_reply(std::span<const uint8_t>(bytes.data(), n));
      ASSERT_FALSE(got.has_value()) << "reply prefix of " << n << " bytes decoded (tag " << r.tag << ")";
      EXPECT_EQ(got.error(), EBADMSG);
    }
  }
}

TEST(GoferProtocol, TrailingBytesAreRefused) {
  for (const Request& r : sample_requests()) {
    Bytes bytes = encode(r);
    bytes.push_back(0);
    auto got = decode_request(bytes);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error(), EBADMSG);
  }
  for (const Reply& r : sample_replies()) {
    Bytes bytes = encode(r);
    bytes.push_back(0);
    auto got = decode_reply(bytes);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error(), EBADMSG);
  }
}

TEST(GoferProtocol, OversizedMessagesAreRefused) {
  Bytes big(kMaxMessageSize + 1, 0);
  EXPECT_EQ(decode_request(big).error(), EBADMSG);
  EXPECT_EQ(decode_reply(big).error(), EBADMSG);

  // A Getdents reply that would not fit in one message is not encoded.
  GetdentsReply dents;
  for (int i = 0; i < 1000; ++i) dents.entries.push_back({1, DT_REG, std::string(100, 'a')});
  auto encoded = encode_reply(Reply{1, dents});
  ASSERT_FALSE(encoded.has_value());
  EXPECT_EQ(encoded.error(), EMSGSIZE);
}

TEST(GoferProtocol, GetdentsReplyFillsExactlyToTheLimit) {
  // What the server relies on to fill a batch: fixed size plus the sum of
  // entry sizes is the encoded size.
  GetdentsReply dents;
  size_t size = kGetdentsReplyFixedSize;
  for (int i = 0; size + dirent_wire_size(200) <= kMaxMessageSize; ++i) {
    dents.entries.push_back({static_cast<uint64_t>(i), DT_REG, std::string(200, 'z')});
    size += dirent_wire_size(200);
  }
  auto bytes = encode_reply(Reply{1, dents});
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(bytes->size(), size);
  dents.entries.push_back({0, DT_REG, std::string(kMaxMessageSize - size, 'z')});
  EXPECT_FALSE(encode_reply(Reply{1, dents}).has_value());
}

TEST(GoferProtocol, BadNamesAreRefused) {
  const std::string with_nul("a\0b", 3);
  for (std::string_view name : {std::string_view(""), std::string_view("."), std::string_view(".."),
                                std::string_view("/"), std::string_view("a/b"), std::string_view("../etc"),
                                std::string_view("a/"), std::string_view(with_nul)}) {
    EXPECT_EQ(check_name(name), EINVAL) << name;
    auto encoded = encode_request(Request{1, WalkRequest{kRootHandle, std::string(name)}});
    ASSERT_FALSE(encoded.has_value()) << name;
    EXPECT_EQ(encoded.error(), EINVAL);
    // The server refuses them even from a peer that skips encode_request.
    auto decoded = decode_request(raw_walk(1, kRootHandle, name));
    ASSERT_FALSE(decoded.has_value()) << name;
    EXPECT_EQ(decoded.error(), EINVAL);
  }
  std::string too_long(kMaxNameLength + 1, 'x');
  EXPECT_EQ(check_name(too_long), ENAMETOOLONG);
  EXPECT_EQ(decode_request(raw_walk(1, kRootHandle, too_long)).error(), ENAMETOOLONG);
  EXPECT_EQ(check_name("..."), 0);
  EXPECT_EQ(check_name(".hidden"), 0);
  EXPECT_EQ(check_name(std::string(kMaxNameLength, 'x')), 0);
}

TEST(GoferProtocol, UnknownOpsAreRefused) {
  Bytes req;
  put_u32(req, 5);
  put_u32(req, 0);
  put_u64(req, 0);
  EXPECT_EQ(decode_request(req).error(), ENOSYS);
  Bytes req2;
  put_u32(req2, 5);
  put_u32(req2, 1000);
  EXPECT_EQ(decode_request(req2).error(), ENOSYS);
  // A successful reply must be to an op we know.
  EXPECT_EQ(decode_reply(reply_header(1, static_cast<Op>(77))).error(), EBADMSG);
}

TEST(GoferProtocol, PeekFindsTheTagOfAnUndecodableRequest) {
  Bytes req = raw_walk(0xabcdef01, kRootHandle, "..");
  auto header = peek_request_header(req);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->tag, 0xabcdef01u);
  EXPECT_EQ(header->op, static_cast<uint32_t>(Op::kWalk));
  EXPECT_FALSE(peek_request_header(std::span<const uint8_t>(req.data(), 7)).has_value());
}

TEST(GoferProtocol, OutOfRangeReplyValuesAreRefused) {
  // Errors: 1..4095 only, both ways.
  EXPECT_EQ(encode_reply(Reply{1, ErrorReply{1, 0}}).error(), EINVAL);
  EXPECT_EQ(encode_reply(Reply{1, ErrorReply{1, -2}}).error(), EINVAL);
  EXPECT_EQ(encode_reply(Reply{1, ErrorReply{1, 4096}}).error(), EINVAL);
  Bytes err;
  put_u32(err, 1);
  put_u32(err, 1);
  put_u32(err, 4096);
  EXPECT_EQ(decode_reply(err).error(), EBADMSG);

  // Walk never returns the root handle.
  EXPECT_EQ(encode_reply(Reply{1, WalkReply{kRootHandle, sample_stat()}}).error(), EINVAL);
  Bytes walk = encode(Reply{1, WalkReply{5, sample_stat()}});
  walk[12] = 0;  // handle: 5 -> 0
  EXPECT_EQ(decode_reply(walk).error(), EBADMSG);

  // Nanoseconds past a second.
  FileStat bad = sample_stat();
  bad.mtime_nsec = 1'000'000'000;
  EXPECT_EQ(encode_reply(Reply{1, StatReply{bad}}).error(), EINVAL);
  Bytes stat = encode(Reply{1, StatReply{sample_stat()}});
  // atime_nsec is the 12th field: 12 + 8*3 + 4*3 + 8*4 + 8 = 88.
  stat[88 + 7] = 0x80;  // negative
  EXPECT_EQ(decode_reply(stat).error(), EBADMSG);

  // Link targets: non-empty, no NUL, below PATH_MAX.
  EXPECT_EQ(encode_reply(Reply{1, ReadlinkReply{""}}).error(), EINVAL);
  EXPECT_EQ(encode_reply(Reply{1, ReadlinkReply{std::string("a\0b", 3)}}).error(), EINVAL);
  EXPECT_EQ(encode_reply(Reply{1, ReadlinkReply{std::string(kMaxLinkTargetLength + 1, 'l')}}).error(), EINVAL);
  Bytes link = reply_header(1, Op::kReadlink);
  put_u32(link, 0);
  EXPECT_EQ(decode_reply(link).error(), EBADMSG);
  Bytes link_nul = reply_header(1, Op::kReadlink);
  put_u32(link_nul, 3);
  link_nul.insert(link_nul.end(), {'a', 0, 'b'});
  EXPECT_EQ(decode_reply(link_nul).error(), EBADMSG);
  Bytes link_long = reply_header(1, Op::kReadlink);
  put_u32(link_long, kMaxLinkTargetLength + 1);
  link_long.resize(link_long.size() + kMaxLinkTargetLength + 1, 'l');
  EXPECT_EQ(decode_reply(link_long).error(), EBADMSG);
}

TEST(GoferProtocol, HostileDirectoryEntriesAreRefused) {
  // An entry that would let a peer smuggle a path into the Sentry's tree.
  for (std::string_view name : {"..", ".", "a/b", ""}) {
    Bytes b = reply_header(1, Op::kGetdents);
    b.push_back(1);
    put_u32(b, 1);
    put_u64(b, 1);
    b.push_back(DT_REG);
    put_u16(b, static_cast<uint16_t>(name.size()));
    b.insert(b.end(), name.begin(), name.end());
    EXPECT_EQ(decode_reply(b).error(), EBADMSG) << name;
    GetdentsReply p;
    p.entries = {{1, DT_REG, std::string(name)}};
    EXPECT_EQ(encode_reply(Reply{1, p}).error(), EINVAL) << name;
  }
  // "end" is a boolean.
  Bytes b = reply_header(1, Op::kGetdents);
  b.push_back(2);
  put_u32(b, 0);
  EXPECT_EQ(decode_reply(b).error(), EBADMSG);
  // A count far beyond the bytes present fails fast, without allocating
  // for four billion entries.
  Bytes huge = reply_header(1, Op::kGetdents);
  huge.push_back(0);
  put_u32(huge, 0xffffffffu);
  EXPECT_EQ(decode_reply(huge).error(), EBADMSG);
}

// Anything that decodes re-encodes to the same bytes: the decoder accepts
// one spelling per message, so no two peers can read a message two ways.
template <class Decode, class Encode>
void expect_canonical(const Bytes& bytes, Decode decode, Encode encode) {
  auto decoded = decode(bytes);
  if (!decoded) {
    EXPECT_TRUE(decoded.error() == EBADMSG || decoded.error() == EINVAL || decoded.error() == ENOSYS ||
                decoded.error() == ENAMETOOLONG)
        << decoded.error();
    return;
  }
  auto again = encode(*decoded);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, bytes);
}

TEST(GoferProtocol, GarbageAndMutationsNeverMisdecode) {
  std::mt19937 rng(12345);
  auto dreq = [](const Bytes& b) { return decode_request(b); };
  auto ereq = [](const Request& r) { return encode_request(r); };
  auto drep = [](const Bytes& b) { return decode_reply(b); };
  auto erep = [](const Reply& r) { return encode_reply(r); };

  for (int i = 0; i < 20000; ++i) {
    Bytes garbage(rng() % 96);
    for (auto& byte : garbage) byte = static_cast<uint8_t>(rng());
    // Keep the op plausible half the time so the payload decoders run.
    if (garbage.size() >= 8 && (i & 1)) {
      garbage[4] = static_cast<uint8_t>(1 + rng() % 6);
      garbage[5] = garbage[6] = garbage[7] = 0;
    }
    expect_canonical(garbage, dreq, ereq);
    if (garbage.size() >= 12 && (i & 2)) garbage[8] = garbage[9] = garbage[10] = garbage[11] = 0;
    expect_canonical(garbage, drep, erep);
  }
  // Single-byte mutations of valid messages.
  for (const Request& r : sample_requests()) {
    Bytes bytes = encode(r);
    for (size_t pos = 0; pos < bytes.size(); pos += 1 + bytes.size() / 64) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes m = bytes;
        m[pos] ^= static_cast<uint8_t>(1u << bit);
        expect_canonical(m, dreq, ereq);
      }
    }
  }
  for (const Reply& r : sample_replies()) {
    Bytes bytes = encode(r);
    for (size_t pos = 0; pos < bytes.size(); pos += 1 + bytes.size() / 64) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes m = bytes;
        m[pos] ^= static_cast<uint8_t>(1u << bit);
        expect_canonical(m, drep, erep);
      }
    }
  }
}

TEST(GoferProtocol, FileStatFromHostCopiesEveryField) {
  struct stat st {};
  st.st_dev = 1;
  st.st_ino = 2;
  st.st_nlink = 3;
  st.st_mode = S_IFDIR | 0755;
  st.st_uid = 5;
  st.st_gid = 6;
  st.st_rdev = 7;
  st.st_size = 8;
  st.st_blksize = 9;
  st.st_blocks = 10;
  st.st_atim = {11, 12};
  st.st_mtim = {13, 14};
  st.st_ctim = {15, 16};
  FileStat f = file_stat_from_host(st);
  FileStat expected{1, 2, 3, S_IFDIR | 0755, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  EXPECT_EQ(f, expected);
}

}  // namespace
}  // namespace runsc::gofer
