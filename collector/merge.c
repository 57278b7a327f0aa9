/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds the process tree and the file table from decoded events.  Every
 * event is validated here: a malformed one is refused with -EINVAL and
 * changes nothing.  Order-independence rules are documented on each
 * field in merge.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "roar/protocol.h"
#include "elfcheck.h"
#include "merge.h"
#include "mp.h"

static const char *const kind_names[] = ROAR_KIND_NAMES_INIT;

/* ---- msgpack accessors ------------------------------------------------ */

static bool
get_int(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *o = roar_mp_get(map, key);

	if (!o)
		return false;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return false;
		*out = (int64_t)o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return true;
	}
	return false;
}

static bool
get_pid(const msgpack_object *map, const char *key, pid_t *out)
{
	int64_t v;

	if (!get_int(map, key, &v) || v <= 0 || v > 0x7fffffff)
		return false;
	*out = (pid_t)v;
	return true;
}

static double
get_time(const msgpack_object *map)
{
	const msgpack_object *o = roar_mp_get(map, ROAR_KEY_TIME);

	if (o && (o->type == MSGPACK_OBJECT_FLOAT64 ||
		  o->type == MSGPACK_OBJECT_FLOAT32))
		return o->via.f64;
	return 0;
}

static bool
get_bytes(const msgpack_object *map, const char *key, struct roar_bytes *out)
{
	const char *p;
	size_t len;

	if (!roar_mp_bytes(roar_mp_get(map, key), &p, &len) || memchr(p, '\0', len))
		return false;
	*out = roar_bytes_dup(p, len);
	return true;
}

static void
strv_free(struct roar_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		roar_bytes_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Returns false (and leaves out untouched) unless every entry is bytes. */
static bool
get_strv(const msgpack_object *map, const char *key, struct roar_strv *out)
{
	const msgpack_object *o = roar_mp_get(map, key);
	struct roar_strv s;

	if (!o || o->type != MSGPACK_OBJECT_ARRAY)
		return false;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const char *p;
		size_t len;

		if (!roar_mp_bytes(&o->via.array.ptr[i], &p, &len))
			return false;
	}
	s.n = o->via.array.size;
	s.v = roar_xcalloc(s.n, sizeof(*s.v));
	for (uint32_t i = 0; i < s.n; i++) {
		const char *p = NULL;
		size_t len = 0;

		roar_mp_bytes(&o->via.array.ptr[i], &p, &len);
		s.v[i] = roar_bytes_dup(p, len);
	}
	*out = s;
	return true;
}

/* ---- tables ----------------------------------------------------------- */

void
roar_merge_init(struct roar_merge *m, pid_t root_pid)
{
	memset(m, 0, sizeof(*m));
	roar_map_init(&m->procs);
	roar_map_init(&m->files);
	roar_map_init(&m->access);
	m->root_pid = root_pid;
}

static void
free_proc(struct roar_proc *p, void *arg)
{
	(void)arg;
	strv_free(&p->argv);
	strv_free(&p->env);
	strv_free(&p->exec_argv);
	roar_bytes_free(&p->cwd);
	roar_bytes_free(&p->exe);
	roar_bytes_free(&p->exec_exe);
	free(p);
}

void
roar_merge_free(struct roar_merge *m)
{
	roar_merge_each_proc(m, free_proc, NULL);
	for (size_t i = 0; i < m->nfiles; i++) {
		struct roar_file *f = m->file_list[i];

		roar_bytes_free(&f->path);
		free(f->read_tids);
		free(f->written_tids);
		free(f);
	}
	free(m->file_list);
	roar_map_free(&m->procs);
	roar_map_free(&m->files);
	roar_map_free(&m->access);
	roar_bytes_free(&m->exclude_prefix);
	roar_bytes_free(&m->exclude_exact);
}

struct roar_proc *
roar_merge_find(const struct roar_merge *m, pid_t pid)
{
	return roar_map_get(&m->procs, (uint64_t)pid);
}

struct roar_proc *
roar_merge_proc(struct roar_merge *m, pid_t pid)
{
	struct roar_proc *p = roar_merge_find(m, pid);

	if (p)
		return p;
	p = roar_xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->pidfd = -1;
	roar_map_put(&m->procs, (uint64_t)pid, p);
	if (m->on_new_proc)
		m->on_new_proc(m->ctx, p);
	return p;
}

void
roar_merge_each_proc(struct roar_merge *m,
		     void (*fn)(struct roar_proc *p, void *arg), void *arg)
{
	for (size_t i = 0; i < m->procs.cap; i++)
		if (m->procs.used[i])
			fn(m->procs.vals[i], arg);
}

static void
set_parent(struct roar_proc *p, pid_t ppid, enum roar_parent_source src)
{
	if (ppid <= 0 || ppid == p->pid || src < p->parent_source)
		return;
	p->ppid = ppid;
	p->parent_source = src;
}

static bool
excluded(const struct roar_merge *m, const char *path, size_t len)
{
	if (m->exclude_prefix.len && len >= m->exclude_prefix.len &&
	    !memcmp(path, m->exclude_prefix.p, m->exclude_prefix.len))
		return true;
	if (m->exclude_exact.len && len == m->exclude_exact.len &&
	    !memcmp(path, m->exclude_exact.p, len))
		return true;
	return false;
}

static struct roar_file *
intern_file(struct roar_merge *m, const char *path, size_t len,
	    uint32_t *index)
{
	uint64_t h = roar_hash_bytes(path, len);

	/* Linear probing on the hash itself: collisions step to h+1. */
	for (;; h++) {
		struct roar_file *f = roar_map_get(&m->files, h);

		if (!f)
			break;
		if (f->path.len == len && !memcmp(f->path.p, path, len)) {
			*index = f->index;
			return f;
		}
	}
	struct roar_file *f = roar_xcalloc(1, sizeof(*f));

	f->path = roar_bytes_dup(path, len);
	roar_map_put(&m->files, h, f);
	if ((m->nfiles & (m->nfiles - 1)) == 0) /* 0, 1, 2, 4, ...: double */
		m->file_list = roar_xrealloc(
			m->file_list,
			(m->nfiles ? m->nfiles * 2 : 1) * sizeof(*m->file_list));
	*index = f->index = (uint32_t)m->nfiles;
	m->file_list[m->nfiles++] = f;
	return f;
}

static void
add_tid(pid_t **v, size_t *n, pid_t tid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == tid)
			return;
	*v = roar_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = tid;
}

static int
on_file(struct roar_merge *m, const msgpack_object *ev, pid_t pid,
	bool write)
{
	const char *path;
	size_t len;
	int64_t tid = 0;
	uint32_t index;
	struct roar_file *f;
	struct roar_proc *p;
	uint64_t key;
	uintptr_t bits;

	if (!roar_mp_bytes(roar_mp_get(ev, ROAR_KEY_PATH), &path, &len) || len == 0 ||
	    path[0] != '/' || memchr(path, '\0', len))
		return -EINVAL;
	get_int(ev, ROAR_KEY_TID, &tid);
	p = roar_merge_proc(m, pid);
	if (excluded(m, path, len))
		return 0;
	f = intern_file(m, path, len, &index);
	if (write) {
		f->written = true;
		if (tid > 0)
			add_tid(&f->written_tids, &f->n_written_tids,
				(pid_t)tid);
	} else {
		f->read = true;
		if (tid > 0)
			add_tid(&f->read_tids, &f->n_read_tids, (pid_t)tid);
	}
	key = (uint64_t)index << 32 | (uint32_t)pid;
	bits = (uintptr_t)roar_map_get(&m->access, key);
	if (!bits)
		p->nfiles++;
	bits |= write ? ROAR_ACCESS_WRITE : ROAR_ACCESS_READ;
	roar_map_put(&m->access, key, (void *)bits);
	return 0;
}

static int
on_hello(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	struct roar_proc *p;
	struct roar_bytes origin;
	pid_t ppid = 0;
	double t = get_time(ev);
	bool fork_origin;
	struct roar_strv argv = { 0 }, env = { 0 };

	if (!get_bytes(ev, ROAR_KEY_ORIGIN, &origin))
		return -EINVAL;
	fork_origin = !strcmp(origin.p, ROAR_ORIGIN_FORK);
	roar_bytes_free(&origin);
	/* Validate everything before anything changes. */
	if (roar_mp_get(ev, ROAR_KEY_ARGV) &&
	    !get_strv(ev, ROAR_KEY_ARGV, &argv))
		return -EINVAL;
	if (roar_mp_get(ev, ROAR_KEY_ENV) && !get_strv(ev, ROAR_KEY_ENV, &env)) {
		strv_free(&argv);
		return -EINVAL;
	}
	get_pid(ev, ROAR_KEY_PPID, &ppid);
	p = roar_merge_proc(m, pid);
	if (!p->start_time || (t && t < p->start_time))
		p->start_time = t;
	if (fork_origin) {
		p->fork_hello = true;
		set_parent(p, ppid, ROAR_PARENT_FORK_HELLO);
		strv_free(&argv);
		strv_free(&env);
		return 0;
	}
	set_parent(p, ppid, ROAR_PARENT_EXEC_HELLO);
	if (p->has_image && t < p->image_time) {
		strv_free(&argv); /* an older image than one we know */
		strv_free(&env);
		return 0;
	}
	p->has_image = true;
	p->image_time = t;
	strv_free(&p->argv);
	strv_free(&p->env);
	p->argv = argv;
	p->env = env;
	roar_bytes_free(&p->cwd);
	roar_bytes_free(&p->exe);
	get_bytes(ev, ROAR_KEY_CWD, &p->cwd);
	get_bytes(ev, ROAR_KEY_EXE, &p->exe);
	p->argv_truncated = roar_mp_get(ev, "truncated") != NULL;
	return 0;
}

static int
on_exec(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	struct roar_proc *p;
	struct roar_bytes exe;
	struct roar_strv argv = { 0 };
	double t = get_time(ev);

	if (!get_bytes(ev, ROAR_KEY_EXE, &exe))
		return -EINVAL;
	if (!get_strv(ev, ROAR_KEY_ARGV, &argv)) {
		roar_bytes_free(&exe);
		return -EINVAL;
	}
	p = roar_merge_proc(m, pid);
	if (p->has_exec && t < p->exec_time) {
		roar_bytes_free(&exe);
		strv_free(&argv);
		return 0;
	}
	/* An exec_failed for this very attempt may have come first. */
	p->exec_failed = p->has_exec && p->exec_failed && t == p->exec_time;
	p->has_exec = true;
	p->exec_time = t;
	roar_bytes_free(&p->exec_exe);
	strv_free(&p->exec_argv);
	p->exec_exe = exe;
	p->exec_argv = argv;
	if (!p->start_time)
		p->start_time = t;
	return 0;
}

static int
on_exec_failed(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	struct roar_proc *p = roar_merge_proc(m, pid);
	double t = get_time(ev);

	if (p->has_exec && t < p->exec_time)
		return 0;
	if (!p->has_exec || t > p->exec_time) {
		/* The exec event is still on its way (another connection). */
		roar_bytes_free(&p->exec_exe);
		strv_free(&p->exec_argv);
		p->has_exec = true;
		p->exec_time = t;
	}
	p->exec_failed = true;
	return 0;
}

static int
on_fork(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	pid_t child;

	if (!get_pid(ev, ROAR_KEY_CHILD, &child))
		return -EINVAL;
	roar_merge_proc(m, pid);
	set_parent(roar_merge_proc(m, child), pid, ROAR_PARENT_FORK_EVENT);
	return 0;
}

static int
on_exit_ev(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	struct roar_proc *p;
	int64_t status;

	if (!get_int(ev, ROAR_KEY_STATUS, &status))
		return -EINVAL;
	p = roar_merge_proc(m, pid);
	p->has_exit = true;
	p->exit_code = (int)(status & 0xff);
	p->end_time = get_time(ev);
	return 0;
}

static int
on_reaped(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	struct roar_proc *c;
	pid_t child;
	int64_t status;

	if (!get_pid(ev, ROAR_KEY_CHILD, &child) ||
	    !get_int(ev, ROAR_KEY_STATUS, &status))
		return -EINVAL;
	roar_merge_proc(m, pid);
	c = roar_merge_proc(m, child);
	set_parent(c, pid, ROAR_PARENT_REAPED);
	c->has_wait = true;
	c->wait_status = (int)status;
	return 0;
}

static int
on_dropped(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	int64_t count;
	struct roar_proc *p;

	if (!get_int(ev, ROAR_KEY_COUNT, &count) || count < 0)
		return -EINVAL;
	p = roar_merge_proc(m, pid);
	p->dropped += (uint64_t)count;
	return 0;
}

int
roar_merge_event(struct roar_merge *m, const msgpack_object *ev,
		 pid_t peer_pid)
{
	const msgpack_object *kind;
	pid_t pid;
	size_t k;

	(void)peer_pid;
	if (ev->type != MSGPACK_OBJECT_MAP)
		return -EINVAL;
	kind = roar_mp_get(ev, ROAR_KEY_KIND);
	if (!kind || kind->type != MSGPACK_OBJECT_STR ||
	    !get_pid(ev, ROAR_KEY_PID, &pid))
		return -EINVAL;
	for (k = 0; k < ROAR_KIND_COUNT_; k++)
		if (strlen(kind_names[k]) == kind->via.str.size &&
		    !memcmp(kind_names[k], kind->via.str.ptr,
			    kind->via.str.size))
			break;
	switch (k) {
	case ROAR_KIND_READ:
	case ROAR_KIND_OPEN_READ:
	case ROAR_KIND_OPEN_WRITE: /* roar's own listeners read it so too */
		return on_file(m, ev, pid, false);
	case ROAR_KIND_WRITE:
		return on_file(m, ev, pid, true);
	case ROAR_KIND_HELLO:
		return on_hello(m, ev, pid);
	case ROAR_KIND_FORK:
		return on_fork(m, ev, pid);
	case ROAR_KIND_EXEC:
		return on_exec(m, ev, pid);
	case ROAR_KIND_EXEC_FAILED:
		return on_exec_failed(m, ev, pid);
	case ROAR_KIND_EXIT:
		return on_exit_ev(m, ev, pid);
	case ROAR_KIND_REAPED:
		return on_reaped(m, ev, pid);
	case ROAR_KIND_DROPPED:
		return on_dropped(m, ev, pid);
	default:
		/* A newer library's kind: harmless, but counted. */
		m->unknown_events++;
		return 0;
	}
}

static void
sum_dropped(struct roar_proc *p, void *arg)
{
	*(uint64_t *)arg += p->dropped;
}

uint64_t
roar_merge_dropped(const struct roar_merge *m)
{
	uint64_t total = 0;

	roar_merge_each_proc((struct roar_merge *)m, sum_dropped, &total);
	return total;
}

/* Whether the latest thing known of p is an exec we never heard back from. */
static bool
ended_in_silent_exec(const struct roar_proc *p)
{
	return p->has_exec && !p->exec_failed &&
	       (!p->has_image || p->image_time < p->exec_time);
}

const struct roar_strv *
roar_merge_env(const struct roar_merge *m, const struct roar_proc *p)
{
	for (int depth = 0; p && depth < 4096; depth++) {
		if (p->has_image)
			return &p->env;
		if (!p->fork_hello && p->parent_source < ROAR_PARENT_FORK_EVENT)
			return NULL;
		p = roar_merge_find(m, p->ppid);
	}
	return NULL;
}

const struct roar_strv *
roar_merge_command(const struct roar_merge *m, const struct roar_proc *p)
{
	for (int depth = 0; p && depth < 4096; depth++) {
		if (ended_in_silent_exec(p) || (p->launch_errno && !p->has_image))
			return &p->exec_argv;
		if (p->has_image)
			return &p->argv;
		/* A fork child runs its parent's image. */
		if (!p->fork_hello && p->parent_source < ROAR_PARENT_FORK_EVENT)
			return NULL;
		p = roar_merge_find(m, p->ppid);
	}
	return NULL;
}

const char *
roar_merge_untraced_reason(const struct roar_merge *m,
			   const struct roar_proc *p, char *buf, size_t cap)
{
	if (p->launch_errno) {
		snprintf(buf, cap, "could not be executed: %s",
			 strerror(p->launch_errno));
		return buf;
	}
	if (ended_in_silent_exec(p)) {
		const struct roar_strv *env = roar_merge_env(m, p);
		const char *path_var = NULL;
		const struct roar_bytes *cwd = NULL;

		for (size_t i = 0; env && i < env->n; i++)
			if (!strncmp(env->v[i].p, "PATH=", 5))
				path_var = env->v[i].p + 5;
		for (const struct roar_proc *q = p; q && !cwd;
		     q = roar_merge_find(m, q->ppid))
			if (q->has_image && q->cwd.len)
				cwd = &q->cwd;
			else if (q->ppid == q->pid || !q->ppid)
				break;
		roar_elf_why_untraceable(p->exec_exe.p, path_var,
					 cwd ? cwd->p : NULL, buf, cap);
		return buf;
	}
	if (!p->has_image && !p->fork_hello && p->pid != m->root_pid) {
		snprintf(buf, cap,
			 "it never announced itself: started where the "
			 "tracer does not see (a static or untraced parent, "
			 "or a raw clone) or ended before it could connect");
		return buf;
	}
	if (!p->has_image && !p->fork_hello && p->pid == m->root_pid &&
	    !p->has_exec) {
		snprintf(buf, cap, "the command never started traced");
		return buf;
	}
	return NULL;
}

pid_t
roar_merge_parent(const struct roar_merge *m, const struct roar_proc *p)
{
	const struct roar_proc *q;

	if (p->pid == m->root_pid)
		return 0;
	q = roar_merge_find(m, p->ppid);
	if (q && p->ppid != p->pid)
		return p->ppid;
	/* Its parent is not among the traced processes (reparented to
	 * init after its parent died, or a parent we could not see):
	 * attach it to the root rather than report a second root. */
	return m->root_pid;
}
