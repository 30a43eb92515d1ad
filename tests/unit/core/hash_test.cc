#include "demerit/core/hash.h"

#include <gtest/gtest.h>

#include <string>

namespace demerit::core {
namespace {

struct HashCase {
  const char* name;
  std::string input;
  const char* hex;
};

// Expected values: FIPS 180-2 examples and `printf ... | sha256sum`.
const HashCase kHashCases[] = {
    {"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"two_block_448_bits", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"million_a", std::string(1'000'000, 'a'),
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    // Padding edges: 55 bytes is the longest message whose padding fits one
    // block; 56 needs a second block; 63/64 straddle the block boundary.
    {"a_x55", std::string(55, 'a'),
     "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
    {"a_x56", std::string(56, 'a'),
     "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
    {"a_x63", std::string(63, 'a'),
     "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
    {"a_x64", std::string(64, 'a'),
     "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    {"a_x65", std::string(65, 'a'),
     "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
    {"a_x119", std::string(119, 'a'),
     "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
    {"a_x120", std::string(120, 'a'),
     "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    {"a_x128", std::string(128, 'a'),
     "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
    // Bytes that are not text: a NUL, and high bytes (signedness of char).
    {"nul_byte", std::string(1, '\0'),
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
    {"high_bytes", std::string("\xff\x00\x80", 3),
     "ef192b7af54e943f206ab27075ec1805384c972c9959fc5820f1fa7d5268fcef"},
};

TEST(Sha256HexTest, KnownVectors) {
  for (const HashCase& c : kHashCases) {
    SCOPED_TRACE(c.name);
    std::string got = Sha256Hex(c.input);
    EXPECT_EQ(got, c.hex);
    EXPECT_EQ(got.size(), 64u);
  }
}

TEST(Sha256HexTest, DistinctInputsDistinctDigests) {
  // Neighbouring lengths and a one-bit change must all differ.
  EXPECT_NE(Sha256Hex(std::string(55, 'a')), Sha256Hex(std::string(56, 'a')));
  EXPECT_NE(Sha256Hex("abc"), Sha256Hex("abd"));
  EXPECT_NE(Sha256Hex(std::string(1, '\0')), Sha256Hex(""));
}

}  // namespace
}  // namespace demerit::core
