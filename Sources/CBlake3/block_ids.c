#include "CBlake3.h"
#include "upstream/blake3_impl.h"
#include <endian.h>
#include <string.h>

void sqlite_backup_blake3_keyed16(const uint8_t key[32], const uint8_t *data, size_t length, uint8_t out[16]) {
  blake3_hasher hasher;
  blake3_hasher_init_keyed(&hasher, key);
  blake3_hasher_update(&hasher, data, length);
  blake3_hasher_finalize(&hasher, out, 16);
}

/* A block of 2^k chunks is a perfect binary tree: its chunks' chaining values, then levels of
   parents, the last one the root. BLAKE3's own hasher computes one block's 4 chunks in 4 SIMD
   lanes and its parents one by one; here chunk c of up to 16 blocks goes through the lanes at
   once (all share the chunk counter c), and so do the parents of a level. The result is the
   same as the hasher's for each block (BlockIdentityTests checks it against the official vectors
   and the hasher). */
int sqlite_backup_blake3_keyed16_blocks(const uint8_t key[32], const uint8_t *data, size_t block_size, size_t count, uint8_t *out) {
  enum { LANES = 16, MOST_CHUNKS = 64 };
  size_t chunks = block_size / BLAKE3_CHUNK_LEN;
  if (block_size % BLAKE3_CHUNK_LEN != 0 || chunks < 2 || chunks > MOST_CHUNKS || (chunks & (chunks - 1)) != 0) return -1;
  uint32_t key_words[8];
  load_key_words(key, key_words);
  const uint8_t *inputs[LANES * MOST_CHUNKS / 2];
  uint8_t values[LANES * MOST_CHUNKS * BLAKE3_OUT_LEN];
  uint8_t parents[LANES * MOST_CHUNKS / 2 * BLAKE3_OUT_LEN];
  uint8_t lanes[LANES * BLAKE3_OUT_LEN];
  for (size_t first = 0; first < count; first += LANES) {
    size_t n = count - first < LANES ? count - first : LANES;
    for (size_t c = 0; c < chunks; c++) {
      for (size_t b = 0; b < n; b++) inputs[b] = data + (first + b) * block_size + c * BLAKE3_CHUNK_LEN;
      blake3_hash_many(inputs, n, BLAKE3_CHUNK_LEN / BLAKE3_BLOCK_LEN, key_words, c, false, KEYED_HASH,
                       CHUNK_START, CHUNK_END, lanes);
      for (size_t b = 0; b < n; b++) memcpy(values + (b * chunks + c) * BLAKE3_OUT_LEN, lanes + b * BLAKE3_OUT_LEN, BLAKE3_OUT_LEN);
    }
    for (size_t width = chunks; width > 1; width /= 2) {
      size_t pairs = width / 2, total = n * pairs;
      for (size_t i = 0; i < total; i++) inputs[i] = values + (i / pairs * width + 2 * (i % pairs)) * BLAKE3_OUT_LEN;
      blake3_hash_many(inputs, total, 1, key_words, 0, false, KEYED_HASH | PARENT | (pairs == 1 ? ROOT : 0), 0, 0, parents);
      memcpy(values, parents, total * BLAKE3_OUT_LEN);
    }
    for (size_t b = 0; b < n; b++) memcpy(out + (first + b) * 16, values + b * BLAKE3_OUT_LEN, 16);
  }
  return 0;
}

/* A one-block message is a one-block chunk: its root is the compression of that block with
   CHUNK_START, CHUNK_END and ROOT, which is what blake3_hash_many computes with those flags. */
void sqlite_backup_blake3_keyed16_sum(const uint8_t key[32], const uint8_t *blocks, size_t count, uint64_t sums[2]) {
  enum { LANES = 16 };
  uint32_t key_words[8];
  load_key_words(key, key_words);
  const uint8_t *inputs[LANES];
  uint8_t out[LANES * BLAKE3_OUT_LEN];
  for (size_t first = 0; first < count; first += LANES) {
    size_t n = count - first < LANES ? count - first : LANES;
    for (size_t b = 0; b < n; b++) inputs[b] = blocks + (first + b) * BLAKE3_BLOCK_LEN;
    blake3_hash_many(inputs, n, 1, key_words, 0, false, KEYED_HASH, CHUNK_START, CHUNK_END | ROOT, out);
    for (size_t b = 0; b < n; b++) {
      uint64_t words[2];
      memcpy(words, out + b * BLAKE3_OUT_LEN, 16);
      sums[0] += le64toh(words[0]);
      sums[1] += le64toh(words[1]);
    }
  }
}
