// The webhook primitives against published test vectors (RFC 4231, FIPS 180-2, RFC 4648).
#include <catch2/catch.hpp>

#include "connectors/webhooks/webhook.hpp"

namespace wh = aisle::connectors::webhooks;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test cases 1 and 2", "[webhook]") {
  // Test case 1: key = 20 bytes of 0x0b, data = "Hi There".
  CHECK(wh::HexOf(wh::HmacSha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: key = "Jefe", data = "what do ya want for nothing?".
  CHECK(wh::HexOf(wh::HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block (131 bytes of 0xaa) is hashed first.
  CHECK(wh::HexOf(wh::HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // The thread's MAC context is re-keyed every call: an earlier key never leaks into a later one,
  // and an empty key is a key (HMAC-SHA256("", "") is the well-known b613679a...).
  CHECK(wh::HexOf(wh::HmacSha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(wh::HexOf(wh::HmacSha256("", "")) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("SHA-256 matches FIPS 180-2 abc", "[webhook]") {
  CHECK(wh::Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("base64 round trips the RFC 4648 vectors and refuses malformed text", "[webhook]") {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    CHECK(wh::Base64Of(plain[i]) == coded[i]);
    const auto back = wh::FromBase64(coded[i]);
    REQUIRE(back);
    CHECK(*back == plain[i]);
  }
  CHECK_FALSE(wh::FromBase64("Zm9"));
  CHECK_FALSE(wh::FromBase64("Zm9v!A=="));
  CHECK_FALSE(wh::FromBase64("Z=9v"));
}

TEST_CASE("headers are found case-insensitively and ids map or pass through prefixed", "[webhook]") {
  wh::Headers headers;
  headers.Add("X-Shopify-Topic", "orders/create");
  CHECK(headers.Find("x-shopify-topic") == std::optional<std::string_view>("orders/create"));
  CHECK_FALSE(headers.Find("x-shopify-hmac-sha256"));
  wh::IdMaps ids;
  ids.stores["655441491"] = "store-hb01";
  CHECK(ids.StoreOf("shopify-location", "655441491") == "store-hb01");
  CHECK(ids.StoreOf("shopify-location", "1") == "shopify-location:1");
  CHECK(wh::ConstantTimeEqual("abc", "abc"));
  CHECK_FALSE(wh::ConstantTimeEqual("abc", "abd"));
  CHECK_FALSE(wh::ConstantTimeEqual("abc", "ab"));
}
