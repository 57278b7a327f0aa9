/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collector helpers: allocation that never returns NULL, byte strings, an
 * open-addressing hash map, a radix sort.  The collector may use malloc and stdio; none
 * of this is ever linked into the preload library.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static void
oom(size_t n)
{
	fprintf(stderr, "roar: out of memory (%zu bytes)\n", n);
	abort();
}

void *
roar_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *
roar_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *
roar_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}


char *
roar_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(roar_xmalloc(n), s, n);
}

struct roar_bytes
roar_bytes_dup(const char *p, size_t len)
{
	struct roar_bytes b = { roar_xmalloc(len + 1), len };

	if (len)
		memcpy(b.p, p, len);
	b.p[len] = '\0';
	return b;
}

void
roar_bytes_free(struct roar_bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

int
roar_bytes_cmp(const struct roar_bytes *a, const struct roar_bytes *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->p, b->p, n) : 0;

	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

uint64_t
roar_hash_bytes(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t
mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

void
roar_map_init(struct roar_map *m)
{
	memset(m, 0, sizeof(*m));
}

void
roar_map_free(struct roar_map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

void *
roar_map_get(const struct roar_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return NULL;
		if (m->keys[i] == key)
			return m->vals[i];
	}
}

static void
grow(struct roar_map *m)
{
	struct roar_map old = *m;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->keys = roar_xcalloc(m->cap, sizeof(*m->keys));
	m->vals = roar_xcalloc(m->cap, sizeof(*m->vals));
	m->used = roar_xcalloc(m->cap, sizeof(*m->used));
	m->count = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.used[i])
			roar_map_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
	free(old.used);
}

void
roar_map_put(struct roar_map *m, uint64_t key, void *val)
{
	size_t i;

	if ((m->count + 1) * 4 > m->cap * 3)
		grow(m);
	for (i = mix(key) & (m->cap - 1); m->used[i];
	     i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return;
		}
	}
	m->used[i] = true;
	m->keys[i] = key;
	m->vals[i] = val;
	m->count++;
}

void
roar_sort_kv(struct roar_kv *v, size_t n)
{
	roar_sort_kv_from(v, n, 0);
}

void
roar_sort_kv_from(struct roar_kv *v, size_t n, unsigned from)
{
	size_t count[8][256];
	struct roar_kv *tmp, *src = v, *dst;
	bool sorted = true;

	if (n < 2 || from >= 8)
		return;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = v[i - 1].key <= v[i].key;
	if (sorted)
		return;
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		for (unsigned d = from; d < 8; d++)
			count[d][(v[i].key >> (8 * d)) & 0xff]++;
	tmp = roar_xmalloc(n * sizeof(*tmp));
	dst = tmp;
	for (unsigned d = from; d < 8; d++) {
		size_t sum = 0, *c = count[d];

		if (c[(v[0].key >> (8 * d)) & 0xff] == n)
			continue; /* this byte is the same in every key */
		for (unsigned b = 0; b < 256; b++) {
			size_t k = c[b];

			c[b] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++)
			dst[c[(src[i].key >> (8 * d)) & 0xff]++] = src[i];
		dst = src;
		src = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
}
