#include "demerit/core/hash.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

namespace demerit::core {
namespace {

// OpenSSL's SHA-256 uses the CPU's SHA extensions where present: several
// times faster than portable code, and every decision id is one digest. The
// algorithm is fetched once and each thread reuses its context: OpenSSL 3
// would otherwise look the algorithm up again for every digest.
const EVP_MD* Sha256() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();  // libcrypto without SHA-256
    return fetched;
  }();
  return md;
}

struct ContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::string Sha256Hex(std::string_view data) {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextFree> ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1) {
    std::abort();  // only on allocation failure
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * size, '0');
  for (unsigned int i = 0; i < size; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace demerit::core
