/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers of the collector side: owned byte strings (paths may hold
 * any bytes but NUL), growable vectors, a 64-bit-keyed hash map, a sort
 * of 64-bit keys, and allocation that aborts with a message rather than returning NULL.
 */
#ifndef ROAR_UTIL_H
#define ROAR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roar/clock.h"
#include "roar/compiler.h"

/* An owned byte string; p is NUL-terminated for convenience. */
struct roar_bytes {
	char *p;
	size_t len;
};

void *roar_xmalloc(size_t n);
void *roar_xcalloc(size_t n, size_t size);
void *roar_xrealloc(void *p, size_t n);
char *roar_xstrdup(const char *s);
struct roar_bytes roar_bytes_dup(const char *p, size_t len);
void roar_bytes_free(struct roar_bytes *b);
int roar_bytes_cmp(const struct roar_bytes *a, const struct roar_bytes *b);

/* A hash map from nonzero-able 64-bit keys to pointers. */
struct roar_map {
	uint64_t *keys;
	void **vals;
	bool *used;
	size_t cap;
	size_t count;
};

void roar_map_init(struct roar_map *m);
void roar_map_free(struct roar_map *m);
void *roar_map_get(const struct roar_map *m, uint64_t key);
void roar_map_put(struct roar_map *m, uint64_t key, void *val);

/* A key and what goes with it, for roar_sort_kv. */
struct roar_kv {
	uint64_t key;
	uint64_t val;
};

/** Sort v by key, stably (a radix sort: bytes that are the same in every
 *  key cost one look). */
void roar_sort_kv(struct roar_kv *v, size_t n);

/** Sort v by the key's bytes from byte `from` up (0: the least
 *  significant), stably: v already in key order within each value of
 *  those bytes ends in key order.  Already in order: one look. */
void roar_sort_kv_from(struct roar_kv *v, size_t n, unsigned from);

/* FNV-1a over bytes. */
uint64_t roar_hash_bytes(const char *p, size_t len);

/* "1 process", "2 processes": the word for n, in messages. */
static inline const char *
roar_plural(unsigned long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

#endif /* ROAR_UTIL_H */
