#include "rep_hash.h"

#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

namespace capanode {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "digests are hashed as u32le straight from memory");

void repHash(uint32_t r, const uint32_t* digests, uint32_t n, uint8_t* out) {
  static const char kDomain[] = "capanode:pot:v1:rep";
  uint8_t index[4] = {static_cast<uint8_t>(r), static_cast<uint8_t>(r >> 8), static_cast<uint8_t>(r >> 16), static_cast<uint8_t>(r >> 24)};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned len = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 && EVP_DigestUpdate(ctx, kDomain, sizeof kDomain - 1) == 1 &&
                  EVP_DigestUpdate(ctx, index, sizeof index) == 1 && EVP_DigestUpdate(ctx, digests, static_cast<size_t>(n) * 8) == 1 &&
                  EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("SHA-256 failed in the Node runtime's OpenSSL");
}

}  // namespace capanode
