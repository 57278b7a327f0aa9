/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report's value writers (pack.h), one of each, so that a path is
 * packed the same way (str or bin) wherever the report holds one.
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
