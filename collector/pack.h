/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report's value writers (pack.c): a key, a path or any other bytes
 * (str when UTF-8, else bin, byte for byte), a C string, an integer, a
 * bool, and nil for what is unknown.  Every writer of a report packs
 * through these.
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

#endif /* ROAR_PACK_H */
