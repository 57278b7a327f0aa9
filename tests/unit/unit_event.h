/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the event suites (test_event_*.c): the sender ids and
 * sample lists events are packed with, one representative event of each
 * kind, and decoding a frame with the checks every frame must pass (its
 * header is its payload length, the payload is exactly one msgpack map
 * whose keys are distinct strings).  Each suite is one translation unit
 * and includes this header once.
 */
#ifndef ROAR_UNIT_EVENT_H
#define ROAR_UNIT_EVENT_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "event.h"
#include "unit.h"
#include "unit_preload.h"
#include "unit_mp.h"

static const char *const kind_names[] = ROAR_KIND_NAMES_INIT;
static const struct roar_event_ids ids = { 4194301, 4194302 };

/* A decoded frame: the payload's one msgpack value. */
struct decoded {
	msgpack_unpacked u;
	const msgpack_object *map;
};

/*
 * Check the frame's header against its length, decode the payload, and
 * require that the value is one map that uses every payload byte.
 */
static inline void
decode_frame(const struct roar_frame *f, struct decoded *d)
{
	size_t off = 0;
	uint32_t len;

	ck_assert_uint_ge(f->len, ROAR_FRAME_HEADER_SIZE + 1);
	ck_assert(!f->overflow);
	len = roar_frame_get_len(f->data);
	ck_assert_uint_eq(len, f->len - ROAR_FRAME_HEADER_SIZE);
	/* The header is little-endian whatever the host. */
	ck_assert_uint_eq(f->data[0], len & 0xff);
	ck_assert_uint_eq(f->data[1], (len >> 8) & 0xff);
	ck_assert_uint_eq(f->data[2], (len >> 16) & 0xff);
	ck_assert_uint_eq(f->data[3], (len >> 24) & 0xff);
	msgpack_unpacked_init(&d->u);
	ck_assert_int_eq(msgpack_unpack_next(&d->u,
					     (const char *)f->data +
						     ROAR_FRAME_HEADER_SIZE,
					     len, &off),
			 MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, len);
	d->map = &d->u.data;
	ck_assert_int_eq(d->map->type, MSGPACK_OBJECT_MAP);
	/* Every key is a str, and no key appears twice. */
	for (uint32_t i = 0; i < d->map->via.map.size; i++) {
		const msgpack_object *k = &d->map->via.map.ptr[i].key;

		ck_assert_int_eq(k->type, MSGPACK_OBJECT_STR);
		for (uint32_t j = 0; j < i; j++) {
			const msgpack_object *o = &d->map->via.map.ptr[j].key;

			ck_assert(!(o->via.str.size == k->via.str.size &&
				    !memcmp(o->via.str.ptr, k->via.str.ptr,
					    k->via.str.size)));
		}
	}
}

static inline void
decoded_free(struct decoded *d)
{
	msgpack_unpacked_destroy(&d->u);
}

static inline void
check_head(const msgpack_object *map, enum roar_kind kind,
	   const struct roar_event_ids *who)
{
	ck_assert(mp_is_str(mp_get(map, ROAR_KEY_KIND), kind_names[kind]));
	ck_assert(mp_is_int(mp_get(map, ROAR_KEY_PID), who->pid));
	ck_assert(mp_is_int(mp_get(map, ROAR_KEY_TID), who->tid));
}

static inline bool
is_file_kind(enum roar_kind k)
{
	return k == ROAR_KIND_READ || k == ROAR_KIND_WRITE ||
	       k == ROAR_KIND_OPEN_READ || k == ROAR_KIND_OPEN_WRITE;
}

static char *const sample_argv[] = { "cc", "-c", "a.c", NULL };
static char *const sample_env[] = { "PATH=/usr/bin", "HOME=/root", NULL };

static inline size_t
count_list(char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

/* Pack one representative event of kind k. */
static inline int
pack_kind(struct roar_frame *f, enum roar_kind k)
{
	static const char path[] = "/src/a.c";
	struct roar_hello h = {
		.ppid = 77,
		.origin = ROAR_ORIGIN_EXEC,
		.argv = sample_argv,
		.envp = sample_env,
		.cwd = "/src",
		.exe = "/usr/bin/cc",
		.time = 1700000000.25,
	};

	switch (k) {
	case ROAR_KIND_READ:
	case ROAR_KIND_WRITE:
	case ROAR_KIND_OPEN_READ:
	case ROAR_KIND_OPEN_WRITE:
		return roar_event_file(f, &ids, k, path, strlen(path), "open");
	case ROAR_KIND_HELLO:
		return roar_event_hello(f, &ids, &h);
	case ROAR_KIND_FORK:
		return roar_event_fork(f, &ids, 4000);
	case ROAR_KIND_EXEC:
		return roar_event_exec(f, &ids, 0, 77, "/bin/sh", sample_argv,
				       12.5);
	case ROAR_KIND_EXEC_FAILED:
		return roar_event_exec_failed(f, &ids, ENOENT, 12.5);
	case ROAR_KIND_EXIT:
		return roar_event_exit(f, &ids, 77, 3, 13.0, 0);
	case ROAR_KIND_REAPED:
		return roar_event_reaped(f, &ids, 4000, 3 << 8);
	case ROAR_KIND_DROPPED:
		return roar_event_dropped(f, &ids, 17);
	case ROAR_KIND_RESUME:
		return roar_event_resume(f, &ids, 9);
	case ROAR_KIND_PIPE:
		return roar_event_pipe(f, &ids, 13, 4242, true);
	case ROAR_KIND_SUPERVISE:
		return roar_event_supervise(f, &ids, "/bin/busybox", 12.5);
	case ROAR_KIND_UNSEEN:
		return roar_event_unseen(f, &ids, ROAR_UNSEEN_NO_SUPERVISOR,
					 EPERM);
	case ROAR_KIND_COUNT_:
		break;
	}
	ck_abort_msg("no such kind %d", (int)k);
	return -1;
}

#endif /* ROAR_UNIT_EVENT_H */
