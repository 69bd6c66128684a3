// parse_shebang against the cases fs/binfmt_script.c distinguishes.
#include <gtest/gtest.h>

#include <string>

#include "sentry/loader/shebang.h"

namespace runsc::loader {
namespace {

Result<std::optional<Shebang>> parse(const std::string& s) {
  return parse_shebang(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// Parses `s`, which must be a script, and returns its interpreter and
// argument ("<none>" when absent).
std::pair<std::string, std::string> script(const std::string& s) {
  auto r = parse(s);
  EXPECT_TRUE(r) << "errno " << (r ? 0 : r.error());
  if (!r || !*r) {
    ADD_FAILURE() << "not a script";
    return {};
  }
  return {(*r)->interpreter, (*r)->argument.value_or("<none>")};
}

using P = std::pair<std::string, std::string>;

TEST(LoaderShebang, NotAScript) {
  for (std::string s : {std::string(""), std::string("#"), std::string("\x7f" "ELF"), std::string("! /bin/sh"),
                        std::string(" #!/bin/sh"), std::string("echo hi\n")}) {
    auto r = parse(s);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value()) << s;
  }
}

TEST(LoaderShebang, Plain) {
  EXPECT_EQ(script("#!/bin/sh\necho hi\n"), P("/bin/sh", "<none>"));
  EXPECT_EQ(script("#!/bin/sh\n"), P("/bin/sh", "<none>"));
}

TEST(LoaderShebang, LeadingSpaceAndArgument) {
  EXPECT_EQ(script("#! /bin/sh -x\n"), P("/bin/sh", "-x"));
  EXPECT_EQ(script("#!  \t /bin/sh \t -x  \t\nrest"), P("/bin/sh", "-x"));
}

TEST(LoaderShebang, RestOfLineIsOneArgument) {
  EXPECT_EQ(script("#!/usr/bin/env python3 -u -v\nprint(1)\n"), P("/usr/bin/env", "python3 -u -v"));
  // Inner whitespace is kept as is; only the ends are trimmed.
  EXPECT_EQ(script("#!/bin/awk\t-f  \t x \n"), P("/bin/awk", "-f  \t x"));
}

TEST(LoaderShebang, TrailingWhitespaceOnly) {
  EXPECT_EQ(script("#!/bin/sh   \n"), P("/bin/sh", "<none>"));
  EXPECT_EQ(script("#!/bin/sh\t\n"), P("/bin/sh", "<none>"));
}

TEST(LoaderShebang, CarriageReturnStays) {
  // Linux does not treat \r as whitespace: the famous "/bin/sh^M: bad
  // interpreter" comes from the interpreter name including it.
  EXPECT_EQ(script("#!/bin/sh\r\n"), P("/bin/sh\r", "<none>"));
  EXPECT_EQ(script("#!/bin/sh -e\r\n"), P("/bin/sh", "-e\r"));
}

TEST(LoaderShebang, NoInterpreter) {
  EXPECT_EQ(parse("#!\n").error(), ENOEXEC);
  EXPECT_EQ(parse("#!   \t \nfoo").error(), ENOEXEC);
  // A short file that is only "#!" plus blanks: the NUL padding is not a
  // space, so the "name" is empty and the kernel's open_exec("") fails.
  EXPECT_EQ(parse("#!").error(), ENOENT);
  EXPECT_EQ(parse("#!   ").error(), ENOENT);
  EXPECT_EQ(parse(std::string("#!\0/bin/sh\n", 11)).error(), ENOENT);
}

TEST(LoaderShebang, NoNewlineInShortFile) {
  // The file ends inside the buffer: the NUL padding terminates the name.
  EXPECT_EQ(script("#!/bin/sh"), P("/bin/sh", "<none>"));
  EXPECT_EQ(script("#!/bin/sh -x"), P("/bin/sh", "-x"));
  // Without a newline Linux trims nothing: the line "ends" at the last
  // byte of the buffer, which is NUL, so trailing blanks stay in the
  // argument (checked natively with a script run through printf).
  EXPECT_EQ(script("#! /bin/sh -x  "), P("/bin/sh", "-x  "));
}

TEST(LoaderShebang, NoNewlineInFullBuffer) {
  // Name complete, argument runs off the buffer: accepted, argument cut at
  // byte 255 (the kernel overwrites the last byte with the NUL).
  std::string s = "#!/bin/sh " + std::string(400, 'a');
  auto [interp, arg] = script(s);
  EXPECT_EQ(interp, "/bin/sh");
  EXPECT_EQ(arg, std::string(kBinprmBufSize - 1 - 10, 'a'));

  // Name itself runs off the buffer: it may be truncated, refused.
  EXPECT_EQ(parse("#!/" + std::string(400, 'b') + " -x\n").error(), ENOEXEC);
  EXPECT_EQ(parse("#!" + std::string(300, ' ') + "/bin/sh\n").error(), ENOEXEC);  // blanks only in the buffer

  // A name ending exactly at the last byte of the buffer: its terminator
  // (byte 255) is inside the buffer, so it is accepted.
  std::string edge = "#!/" + std::string(kBinprmBufSize - 4, 'c') + " tail";
  ASSERT_EQ(edge[kBinprmBufSize - 1], ' ');
  EXPECT_EQ(script(edge), P("/" + std::string(kBinprmBufSize - 4, 'c'), "<none>"));
}

TEST(LoaderShebang, NewlineBeyondBufferIsNotSeen) {
  // Only the first 256 bytes count, even if the caller passes more.
  std::string s = "#!/bin/sh " + std::string(300, 'z') + "\n";
  EXPECT_EQ(script(s).second.size(), kBinprmBufSize - 1 - 10);
}

TEST(LoaderShebang, NulInLine) {
  // A NUL right after the name: no argument, even though text follows.
  EXPECT_EQ(script(std::string("#!/bin/sh\0 -x\n", 14)), P("/bin/sh", "<none>"));
  // A NUL inside the argument ends it.
  EXPECT_EQ(script(std::string("#!/bin/sh -x\0-y\n", 16)), P("/bin/sh", "-x"));
  // A NUL as the argument's first byte: an empty argument, still passed.
  EXPECT_EQ(script(std::string("#!/bin/sh \0\n", 12)), P("/bin/sh", ""));
}

}  // namespace
}  // namespace runsc::loader
