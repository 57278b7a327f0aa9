/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading decoded msgpack: map lookup by string key and the byte view of
 * a str or bin.  Header only; used wherever events or reports are read
 * (the collector, the tools, the tests of both sides).
 */
#ifndef ROAR_MP_H
#define ROAR_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <msgpack.h>

/** The value under key in map, or NULL (also when map is not a map). */
static inline const msgpack_object *
roar_mp_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == klen &&
		    !memcmp(kv->key.via.str.ptr, key, klen))
			return &kv->val;
	}
	return NULL;
}

/** The bytes of a str or bin; false for anything else. */
static inline bool
roar_mp_bytes(const msgpack_object *o, const char **p, size_t *len)
{
	if (o && o->type == MSGPACK_OBJECT_STR) {
		*p = o->via.str.ptr;
		*len = o->via.str.size;
		return true;
	}
	if (o && o->type == MSGPACK_OBJECT_BIN) {
		*p = o->via.bin.ptr;
		*len = o->via.bin.size;
		return true;
	}
	return false;
}

#endif /* ROAR_MP_H */
