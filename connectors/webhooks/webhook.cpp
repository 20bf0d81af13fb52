#include "connectors/webhooks/webhook.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <cctype>

namespace aisle::connectors::webhooks {

namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string MapOrPrefix(const std::map<std::string, std::string>& map, std::string_view kind,
                        std::string_view id) {
  const auto it = map.find(std::string(id));
  if (it != map.end()) return it->second;
  std::string out(kind);
  out += ':';
  out += id;
  return out;
}

}  // namespace

std::optional<std::string_view> Headers::Find(std::string_view name) const {
  for (const auto& [key, value] : entries_) {
    if (EqualsIgnoringCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::string IdMaps::StoreOf(std::string_view kind, std::string_view platform_id) const {
  return MapOrPrefix(stores, kind, platform_id);
}

std::string IdMaps::SkuOf(std::string_view kind, std::string_view platform_id) const {
  return MapOrPrefix(skus, kind, platform_id);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

// HMAC() fetches the algorithm from OpenSSL's provider registry on every call (a lock and a
// lookup each time); a thread keeps its fetched MAC context and only re-keys it.
class ThreadHmac {
 public:
  ThreadHmac() : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)), ctx_(mac_ ? EVP_MAC_CTX_new(mac_) : nullptr) {}
  ~ThreadHmac() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }
  ThreadHmac(const ThreadHmac&) = delete;
  ThreadHmac& operator=(const ThreadHmac&) = delete;

  std::string Sha256(std::string_view key, std::string_view data) {
    if (ctx_ == nullptr) return {};
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest_name, 0), OSSL_PARAM_construct_end()};
    // An empty key is passed as a valid pointer: a null key means "keep the last one".
    static const unsigned char kEmpty = 0;
    const auto* key_bytes = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
    unsigned char digest[EVP_MAX_MD_SIZE];
    size_t size = 0;
    if (EVP_MAC_init(ctx_, key_bytes, key.size(), params) != 1 ||
        EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
        EVP_MAC_final(ctx_, digest, &size, sizeof digest) != 1) {
      return {};
    }
    return std::string(reinterpret_cast<const char*>(digest), size);
  }

 private:
  EVP_MAC* mac_;
  EVP_MAC_CTX* ctx_;
};

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  thread_local ThreadHmac hmac;
  return hmac.Sha256(key, data);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexOf(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Base64Of(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n < 0 ? 0 : n));
  return out;
}

std::optional<std::string> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool pad_ok = c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || pad_ok))
      return std::nullopt;
  }
  if (text.empty()) return std::string();
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes: drop them.
  size_t size = static_cast<size_t>(n);
  if (text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

namespace {
constexpr std::string_view kUpstreamPrefix = "upstream: ";
}  // namespace

Error UpstreamError(std::string_view reason) {
  std::string message(kUpstreamPrefix);
  message += reason;
  return Error{std::move(message)};
}

NormalizeFailure FailureOf(const Error& error) {
  return std::string_view(error.message).substr(0, kUpstreamPrefix.size()) == kUpstreamPrefix
             ? NormalizeFailure::kUpstream
             : NormalizeFailure::kMalformed;
}

}  // namespace aisle::connectors::webhooks
