#ifndef SQLITE_BACKUP_CBLAKE3_H
#define SQLITE_BACKUP_CBLAKE3_H
#include <stddef.h>
#include <stdint.h>

/* Block ids of incremental backups: keyed BLAKE3 (https://github.com/BLAKE3-team/BLAKE3,
   version 1.8.6, vendored under upstream/), output cut to 16 bytes. */

/* The first 16 bytes of keyed BLAKE3 of `length` bytes at `data`, into `out`. */
void sqlite_backup_blake3_keyed16(const uint8_t key[32], const uint8_t *data, size_t length, uint8_t out[16]);

/* The same for `count` blocks of `block_size` bytes each, one after another at `data`, into
   `out` (16 bytes each), several blocks at a time in SIMD lanes. `block_size` must be 1024
   times a power of two from 2 to 64; returns -1 (and writes nothing) otherwise, else 0. */
int sqlite_backup_blake3_keyed16_blocks(const uint8_t key[32], const uint8_t *data, size_t block_size, size_t count, uint8_t *out);

/* Keyed BLAKE3 of `count` messages of 64 bytes each, one after another at `blocks`, sixteen at a
   time in SIMD lanes: the first 16 bytes of each, read as two little-endian 64-bit words and
   added (modulo 2^64) to sums[0] and sums[1]. The split integrity check's multiset digests. */
void sqlite_backup_blake3_keyed16_sum(const uint8_t key[32], const uint8_t *blocks, size_t count, uint64_t sums[2]);

#endif
