/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packing bytes for either side: a key (a str), and any bytes as a str
 * when they are UTF-8 and as a bin when they are not, so that odd bytes
 * (a path) reach the reader unchanged.  Header only and async-signal-safe
 * (the library packs into fixed buffers from its hooks).
 */
#ifndef ROAR_WIRE_PACK_H
#define ROAR_WIRE_PACK_H

#include <stddef.h>
#include <string.h>

#include <msgpack.h>

#include "roar/utf8.h"

/** len bytes at p as a msgpack str. */
static inline void
roar_pack_str(msgpack_packer *pk, const char *p, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, p, len);
}

/** len bytes at p: a str when they are UTF-8, else a bin. */
static inline void
roar_pack_bytes(msgpack_packer *pk, const char *p, size_t len)
{
	if (roar_utf8_valid(p, len)) {
		roar_pack_str(pk, p, len);
	} else {
		msgpack_pack_bin(pk, len);
		msgpack_pack_bin_body(pk, p, len);
	}
}

/** A C string as roar_pack_bytes packs it. */
static inline void
roar_pack_cstr(msgpack_packer *pk, const char *s)
{
	roar_pack_bytes(pk, s, strlen(s));
}

/** A map key: always a str (keys are ours, and ASCII). */
static inline void
roar_pack_key(msgpack_packer *pk, const char *k)
{
	roar_pack_str(pk, k, strlen(k));
}

#endif /* ROAR_WIRE_PACK_H */
