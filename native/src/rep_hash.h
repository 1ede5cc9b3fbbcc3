// repHash(r) = SHA-256("capanode:pot:v1:rep" ‖ u32le(r) ‖ the n row digests of
// rep r) (DESIGN §6), with the OpenSSL the Node runtime carries, so a run of
// thousands of reps keeps 32 bytes per rep instead of 8n. The Merkle tree over
// these stays in TypeScript (proofs/merkle.ts).
#pragma once

#include <cstddef>
#include <cstdint>

namespace capanode {

constexpr size_t kRepHashBytes = 32;

/** digests: n x (d1, d2) as u32 in host order (little endian on every supported host). */
void repHash(uint32_t r, const uint32_t* digests, uint32_t n, uint8_t* out);

}  // namespace capanode
