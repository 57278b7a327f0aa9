/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report's value writers (pack.h), one of each, so that a path is
 * packed the same way (str or bin) wherever the report holds one, and
 * the staging buffer that encodes them in bulk, byte for byte the same.
 */
#include "config.h"

#include <string.h>

#include "roar/utf8.h"
#include "pack.h"
#include "util.h"

void
roar_pack_cstr_or_nil(msgpack_packer *pk, const char *s)
{
	if (s)
		roar_pack_cstr(pk, s);
	else
		msgpack_pack_nil(pk);
}

void
roar_pack_bytes_or_nil(msgpack_packer *pk, const struct roar_bytes *b)
{
	if (b)
		roar_pack_bytes(pk, b->p, b->len);
	else
		msgpack_pack_nil(pk);
}

void
roar_pack_int_or_nil(msgpack_packer *pk, bool has, int64_t v)
{
	if (has)
		msgpack_pack_int64(pk, v);
	else
		msgpack_pack_nil(pk);
}

void
roar_pack_bool(msgpack_packer *pk, bool b)
{
	if (b)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* ---- the staging buffer ------------------------------------------------ */

void
roar_stage_flush(struct roar_stage *s)
{
	if (s->n)
		s->pk->callback(s->pk->data, (const char *)s->b, s->n);
	s->n = 0;
}

void
roar_stage_raw_slow(struct roar_stage *s, const void *p, size_t len)
{
	roar_stage_flush(s);
	if (len > sizeof(s->b)) {
		s->pk->callback(s->pk->data, p, len);
		return;
	}
	memcpy(s->b, p, len);
	s->n = len;
}

/* A type byte and n in width bytes, big-endian. */
static void
head(struct roar_stage *s, unsigned char type, uint64_t n, unsigned width)
{
	unsigned char h[9];

	h[0] = type;
	for (unsigned i = 0; i < width; i++)
		h[1 + i] = (unsigned char)(n >> (8 * (width - 1 - i)));
	roar_stage_raw(s, h, 1 + width);
}

void
roar_stage_str_head_wide(struct roar_stage *s, size_t len)
{
	if (len < 32)
		head(s, (unsigned char)(0xa0 | len), 0, 0);
	else if (len < 256)
		head(s, 0xd9, len, 1);
	else if (len < 65536)
		head(s, 0xda, len, 2);
	else
		head(s, 0xdb, len, 4);
}

void
roar_stage_bin_head(struct roar_stage *s, size_t len)
{
	if (len < 256)
		head(s, 0xc4, len, 1);
	else if (len < 65536)
		head(s, 0xc5, len, 2);
	else
		head(s, 0xc6, len, 4);
}

/* An array's or a map's head: fix | n, else the 16- or 32-bit code. */
static void
container_head(struct roar_stage *s, size_t n, unsigned char fix,
	       unsigned char c16)
{
	if (n < 16)
		head(s, (unsigned char)(fix | n), 0, 0);
	else if (n < 65536)
		head(s, c16, n, 2);
	else
		head(s, (unsigned char)(c16 + 1), n, 4);
}

void
roar_stage_array(struct roar_stage *s, size_t n)
{
	container_head(s, n, 0x90, 0xdc);
}

void
roar_stage_map(struct roar_stage *s, size_t n)
{
	container_head(s, n, 0x80, 0xde);
}

/* msgpack-c's choice of width (msgpack_pack_real_int64). */
void
roar_stage_int64(struct roar_stage *s, int64_t v)
{
	if (v < -(1ll << 5)) {
		if (v < -(1ll << 31))
			head(s, 0xd3, (uint64_t)v, 8);
		else if (v < -(1ll << 15))
			head(s, 0xd2, (uint64_t)v, 4);
		else if (v < -(1ll << 7))
			head(s, 0xd1, (uint64_t)v, 2);
		else
			head(s, 0xd0, (uint64_t)v, 1);
	} else if (v < (1ll << 7)) {
		head(s, (unsigned char)v, 0, 0);
	} else if (v < (1ll << 8)) {
		head(s, 0xcc, (uint64_t)v, 1);
	} else if (v < (1ll << 16)) {
		head(s, 0xcd, (uint64_t)v, 2);
	} else if (v < (1ll << 32)) {
		head(s, 0xce, (uint64_t)v, 4);
	} else {
		head(s, 0xcf, (uint64_t)v, 8);
	}
}
