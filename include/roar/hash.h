/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fast hash of bytes for in-memory tables (the library's path records,
 * the collector's file table): eight bytes a step, a multiply and a
 * shift mixing each, the length and a final mix setting the rest apart.
 * Never stored or sent: either side may change it.
 */
#ifndef ROAR_HASH_H
#define ROAR_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t
roar_hash64(const char *p, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = (uint64_t)len * k, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p, len);
	h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 31;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 32);
}

#endif /* ROAR_HASH_H */
