/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owns the pipe table (pipes.h).  A pipe is found by its (dev, ino)
 * through a hash map probed on collision; its writer and reader lists
 * are small vectors searched linearly, for a pipe has a few ends (a
 * shell loop whose every child writes one pipe stays under the cap).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roar/mp.h"
#include "roar/protocol.h"
#include "pack.h"
#include "pipes.h"
#include "report_schema.h"

void
roar_pipes_init(struct roar_pipes *ps)
{
	memset(ps, 0, sizeof(*ps));
	roar_map_init(&ps->by_id);
}

void
roar_pipes_free(struct roar_pipes *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->list[i]->writers);
		free(ps->list[i]->readers);
		free(ps->list[i]);
	}
	free(ps->list);
	roar_map_free(&ps->by_id);
	memset(ps, 0, sizeof(*ps));
}

static uint64_t
pipe_hash(uint64_t dev, uint64_t ino)
{
	uint64_t id[2] = { dev, ino };

	return roar_hash_bytes((const char *)id, sizeof(id));
}

/* The pipe (dev, ino), added when new and under the cap; else NULL. */
static struct roar_pipe *
find_or_add(struct roar_pipes *ps, uint64_t dev, uint64_t ino,
	    struct roar_limits *limits)
{
	uint64_t h = pipe_hash(dev, ino);
	struct roar_pipe *p;
	void *v;

	/* Another pipe of the same hash moves on to the next key. */
	for (; (v = roar_map_get(&ps->by_id, h)); h++) {
		p = ps->list[(uintptr_t)v - 1];
		if (p->dev == dev && p->ino == ino)
			return p;
	}
	if (ps->n >= ROAR_CAP_PIPES) {
		limits->lists_truncated++;
		return NULL;
	}
	p = roar_xcalloc(1, sizeof(*p));
	p->dev = dev;
	p->ino = ino;
	ps->list = roar_xrealloc(ps->list, (ps->n + 1) * sizeof(*ps->list));
	ps->list[ps->n++] = p;
	roar_map_put(&ps->by_id, h, (void *)(uintptr_t)ps->n);
	return p;
}

static void
add_end(pid_t **v, size_t *n, pid_t pid, struct roar_limits *limits)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == pid)
			return;
	if (*n >= ROAR_CAP_PIPE_ENDS) {
		limits->lists_truncated++;
		return;
	}
	*v = roar_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = pid;
}

void
roar_pipes_add(struct roar_pipes *ps, uint64_t dev, uint64_t ino, pid_t pid,
	       bool write, struct roar_limits *limits)
{
	struct roar_pipe *p = find_or_add(ps, dev, ino, limits);

	if (!p)
		return;
	if (write)
		add_end(&p->writers, &p->nwriters, pid, limits);
	else
		add_end(&p->readers, &p->nreaders, pid, limits);
}

static bool
get_uint(const msgpack_object *ev, const char *key, uint64_t *out)
{
	const msgpack_object *o = roar_mp_get(ev, key);

	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*out = o->via.u64;
	return true;
}

int
roar_pipes_event(struct roar_pipes *ps, const msgpack_object *ev, pid_t pid,
		 struct roar_limits *limits)
{
	const msgpack_object *dir = roar_mp_get(ev, ROAR_KEY_DIR);
	uint64_t ino, dev = 0;
	bool write;

	if (!get_uint(ev, ROAR_KEY_PIPE, &ino) || !dir ||
	    dir->type != MSGPACK_OBJECT_STR)
		return -EINVAL;
	/* "dev" is optional: an older sender's pipes are all pipefs. */
	if (roar_mp_get(ev, ROAR_KEY_DEV) && !get_uint(ev, ROAR_KEY_DEV, &dev))
		return -EINVAL;
	if (dir->via.str.size == strlen(ROAR_DIR_WRITE) &&
	    !memcmp(dir->via.str.ptr, ROAR_DIR_WRITE, dir->via.str.size))
		write = true;
	else if (dir->via.str.size == strlen(ROAR_DIR_READ) &&
		 !memcmp(dir->via.str.ptr, ROAR_DIR_READ, dir->via.str.size))
		write = false;
	else
		return -EINVAL;
	roar_pipes_add(ps, dev, ino, pid, write, limits);
	return 0;
}

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_pipe(const void *a, const void *b)
{
	const struct roar_pipe *x = *(const struct roar_pipe *const *)a;
	const struct roar_pipe *y = *(const struct roar_pipe *const *)b;

	if (x->ino != y->ino)
		return (x->ino > y->ino) - (x->ino < y->ino);
	return (x->dev > y->dev) - (x->dev < y->dev);
}

static void
pack_pids(msgpack_packer *pk, pid_t *v, size_t n)
{
	if (n > 1) /* qsort may not be given NULL, even for nothing */
		qsort(v, n, sizeof(*v), cmp_pid);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_int64(pk, v[i]);
}

void
roar_pipes_pack(const struct roar_pipes *ps, msgpack_packer *pk)
{
	struct roar_pipe **sorted = roar_xcalloc(ps->n + 1, sizeof(*sorted));

	if (ps->n)
		memcpy(sorted, ps->list, ps->n * sizeof(*sorted));
	qsort(sorted, ps->n, sizeof(*sorted), cmp_pipe);
	msgpack_pack_array(pk, ps->n);
	for (size_t i = 0; i < ps->n; i++) {
		struct roar_pipe *p = sorted[i];
		char id[48];
		int n = snprintf(id, sizeof(id), "pipe:[%llu]",
				 (unsigned long long)p->ino);

		msgpack_pack_map(pk, ROAR_R_SIZE(ROAR_REPORT_PIPE_KEYS));
		roar_pack_key(pk, ROAR_R_PIPE_ID);
		roar_pack_str(pk, id, (size_t)n);
		roar_pack_key(pk, ROAR_R_PIPE_INODE);
		msgpack_pack_uint64(pk, p->ino);
		roar_pack_key(pk, ROAR_R_PIPE_DEV);
		msgpack_pack_uint64(pk, p->dev);
		/* Sorting in place changes no meaning: the lists are sets. */
		roar_pack_key(pk, ROAR_R_PIPE_WRITERS);
		pack_pids(pk, p->writers, p->nwriters);
		roar_pack_key(pk, ROAR_R_PIPE_READERS);
		pack_pids(pk, p->readers, p->nreaders);
	}
	free(sorted);
}
