/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report's value writers (pack.c): a key, a path or any other bytes
 * (str when UTF-8, else bin, byte for byte), a C string, an integer, a
 * bool, and nil for what is unknown, and a staging buffer that encodes
 * them the same way in bulk.  Every writer of a report packs through
 * these.
 */
#ifndef ROAR_PACK_H
#define ROAR_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "roar/pack.h"

struct roar_bytes;


/** s as roar_pack_cstr packs it, or nil when s is NULL. */
void roar_pack_cstr_or_nil(msgpack_packer *pk, const char *s);

/** b as roar_pack_bytes packs it, or nil when b is NULL. */
void roar_pack_bytes_or_nil(msgpack_packer *pk, const struct roar_bytes *b);

/** v when has, else nil (for what is unknown: no parent, no exit). */
void roar_pack_int_or_nil(msgpack_packer *pk, bool has, int64_t v);

void roar_pack_bool(msgpack_packer *pk, bool b);

/*
 * A staging buffer in front of a packer, for the report's long runs of
 * small values (a million paths and their flags): the values are encoded
 * here, byte for byte as msgpack-c encodes them, and reach the packer's
 * writer a few kilobytes at a time instead of one call per header and
 * body.  Flush before packing through pk again.
 */
struct roar_stage {
	msgpack_packer *pk;
	size_t n;
	unsigned char b[16384];
};

void roar_stage_flush(struct roar_stage *s);

/** Raw bytes (a body): roar_stage_raw, when they do not fit. */
void roar_stage_raw_slow(struct roar_stage *s, const void *p, size_t len);

static inline void
roar_stage_raw(struct roar_stage *s, const void *p, size_t len)
{
	if (s->n + len > sizeof(s->b)) {
		roar_stage_raw_slow(s, p, len);
		return;
	}
	memcpy(s->b + s->n, p, len);
	s->n += len;
}

/** The header of a str (0xa0, 0xd9, 0xda, 0xdb) or of a bin (0xc4, ...). */
void roar_stage_str_head_wide(struct roar_stage *s, size_t len);
void roar_stage_bin_head(struct roar_stage *s, size_t len);

static inline void
roar_stage_str_head(struct roar_stage *s, size_t len)
{
	unsigned char h[2] = { 0xd9, (unsigned char)len };

	if (len < 32) {
		h[0] = (unsigned char)(0xa0 | len);
		roar_stage_raw(s, h, 1);
	} else if (len < 256) {
		roar_stage_raw(s, h, 2);
	} else {
		roar_stage_str_head_wide(s, len);
	}
}

/** Array and map headers (0x90/0xdc/0xdd, 0x80/0xde/0xdf). */
void roar_stage_array(struct roar_stage *s, size_t n);
void roar_stage_map(struct roar_stage *s, size_t n);

/** As msgpack_pack_int64 packs v. */
void roar_stage_int64(struct roar_stage *s, int64_t v);

static inline void
roar_stage_bool(struct roar_stage *s, bool b)
{
	unsigned char c = b ? 0xc3 : 0xc2;

	roar_stage_raw(s, &c, 1);
}

/** A map key, as roar_pack_key packs it. */
static inline void
roar_stage_key(struct roar_stage *s, const char *k)
{
	size_t n = strlen(k);

	roar_stage_str_head(s, n);
	roar_stage_raw(s, k, n);
}

/** len bytes as roar_pack_bytes packs them, utf8 their check's answer. */
static inline void
roar_stage_bytes(struct roar_stage *s, const char *p, size_t len, bool utf8)
{
	if (utf8)
		roar_stage_str_head(s, len);
	else
		roar_stage_bin_head(s, len);
	roar_stage_raw(s, p, len);
}

#endif /* ROAR_PACK_H */
