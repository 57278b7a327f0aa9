/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msgpack helpers of the unit suites: looking keys up in decoded maps,
 * comparing decoded strings and byte strings, and building events with
 * msgpack-c's packer the way a (possibly hostile) sender would.  Test
 * code only: it links the full libmsgpackc and may allocate.
 */
#ifndef ROAR_UNIT_MP_H
#define ROAR_UNIT_MP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#include <check.h>

#include "roar/mp.h"

/* Reading is the collector's own (include/roar/mp.h); the short names
 * keep the tests readable. */
#define mp_get roar_mp_get
#define mp_bytes roar_mp_bytes

/** True when o is a msgpack str holding exactly s. */
static inline bool
mp_is_str(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       !memcmp(o->via.str.ptr, s, n);
}

/** True when o is a msgpack str of exactly len bytes p. */
static inline bool
mp_is_strn(const msgpack_object *o, const char *p, size_t len)
{
	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == len &&
	       !memcmp(o->via.str.ptr, p, len);
}

/** True when o is a msgpack bin of exactly len bytes p. */
static inline bool
mp_is_bin(const msgpack_object *o, const char *p, size_t len)
{
	return o && o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == len &&
	       !memcmp(o->via.bin.ptr, p, len);
}

/** True when o is an integer equal to v. */
static inline bool
mp_is_int(const msgpack_object *o, int64_t v)
{
	if (!o)
		return false;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return v >= 0 && o->via.u64 == (uint64_t)v;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64 == v;
	return false;
}

static inline bool
mp_is_true(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
}

static inline bool
mp_is_false(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_BOOLEAN && !o->via.boolean;
}

static inline bool
mp_is_nil(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_NIL;
}

/*
 * An event under construction.  Begin with the number of keys, add each
 * key with one of the ev_* calls (or pack freely through e->pk), finish
 * with ev_obj() to decode it, free with ev_free().
 */
struct ev {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	bool decoded;
};

static inline void
ev_begin_raw(struct ev *e)
{
	msgpack_sbuffer_init(&e->sb);
	msgpack_packer_init(&e->pk, &e->sb, msgpack_sbuffer_write);
	msgpack_unpacked_init(&e->u);
	e->decoded = false;
}

static inline void
ev_begin(struct ev *e, uint32_t nkeys)
{
	ev_begin_raw(e);
	msgpack_pack_map(&e->pk, nkeys);
}

static inline void
mp_pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static inline void
ev_key(struct ev *e, const char *key)
{
	mp_pack_cstr(&e->pk, key);
}

static inline void
ev_str(struct ev *e, const char *key, const char *val)
{
	ev_key(e, key);
	mp_pack_cstr(&e->pk, val);
}

/** A str value of len bytes (may hold NUL). */
static inline void
ev_strn(struct ev *e, const char *key, const char *val, size_t len)
{
	ev_key(e, key);
	msgpack_pack_str(&e->pk, len);
	msgpack_pack_str_body(&e->pk, val, len);
}

static inline void
ev_bin(struct ev *e, const char *key, const char *val, size_t len)
{
	ev_key(e, key);
	msgpack_pack_bin(&e->pk, len);
	msgpack_pack_bin_body(&e->pk, val, len);
}

static inline void
ev_int(struct ev *e, const char *key, int64_t v)
{
	ev_key(e, key);
	msgpack_pack_int64(&e->pk, v);
}

static inline void
ev_double(struct ev *e, const char *key, double v)
{
	ev_key(e, key);
	msgpack_pack_double(&e->pk, v);
}

/** A NULL-terminated list of C strings as an array of str. */
static inline void
ev_strv(struct ev *e, const char *key, const char *const *v)
{
	uint32_t n = 0;

	while (v && v[n])
		n++;
	ev_key(e, key);
	msgpack_pack_array(&e->pk, n);
	for (uint32_t i = 0; i < n; i++)
		mp_pack_cstr(&e->pk, v[i]);
}

/** Decode what was packed; the object lives until ev_free(). */
static inline const msgpack_object *
ev_obj(struct ev *e)
{
	size_t off = 0;

	if (!e->decoded) {
		ck_assert_int_eq(msgpack_unpack_next(&e->u, e->sb.data,
						     e->sb.size, &off),
				 MSGPACK_UNPACK_SUCCESS);
		ck_assert_uint_eq(off, e->sb.size);
		e->decoded = true;
	}
	return &e->u.data;
}

static inline void
ev_free(struct ev *e)
{
	msgpack_unpacked_destroy(&e->u);
	msgpack_sbuffer_destroy(&e->sb);
}

#endif /* ROAR_UNIT_MP_H */
