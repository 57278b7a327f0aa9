/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds the process tree and the file table from decoded events.  Every
 * event is validated here: a malformed one is refused with -EINVAL and
 * changes nothing, and one its sender may not send (the identity rules,
 * below) is refused and counted, and changes nothing either.
 * Order-independence rules are documented on each field in merge.h.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "callsites.h"
#include "elfcheck.h"
#include "merge.h"
#include "roar/mp.h"

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
/* What one kept list entry costs beyond its bytes: its roar_bytes and the
 * malloc chunk's overhead (caps.h). */
#define ENTRY_COST 48u

/*
 * An array of str/bin at key, validated whole, then kept up to
 * ROAR_CAP_LIST_ENTRIES entries and *room bytes (entry costs included;
 * decremented by what was kept).  Sets *cut when entries were left out.
 */
static bool
get_strv(const msgpack_object *map, const char *key, struct roar_strv *out,
	 size_t *room, bool *cut)
{
	const msgpack_object *o = roar_mp_get(map, key);
	struct roar_strv s = { 0 };
	size_t n = 0;

	if (!o || o->type != MSGPACK_OBJECT_ARRAY)
		return false;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const char *p;
		size_t len;

		if (!roar_mp_bytes(&o->via.array.ptr[i], &p, &len))
			return false;
		if (n == i && n < ROAR_CAP_LIST_ENTRIES &&
		    len + ENTRY_COST <= *room) {
			*room -= len + ENTRY_COST;
			n++;
		}
	}
	if (n < o->via.array.size)
		*cut = true;
	s.n = n;
	s.v = roar_xcalloc(n ? n : 1, sizeof(*s.v));
	for (size_t i = 0; i < n; i++) {
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
	roar_map_init(&m->slot_pid);
	roar_map_init(&m->slot_got);
	roar_pipes_init(&m->pipes);
	m->root_pid = root_pid;
	m->self_pid = getpid();
	m->proc_stat = roar_proc_stat;
	/* The launcher's and the collector's own environment decide (roar-run
	 * --keep-secrets sets it). */
	m->keep_secrets = getenv("ROAR_KEEP_SECRETS") &&
			  !strcmp(getenv("ROAR_KEEP_SECRETS"), "1");
	m->proc_inner_pid = roar_proc_inner_pid;
}

static void
image_free(struct roar_image *im)
{
	strv_free(&im->argv);
	strv_free(&im->env);
	roar_bytes_free(&im->cwd);
	roar_bytes_free(&im->exe);
}

static void
exec_try_free(struct roar_exec_try *x)
{
	roar_bytes_free(&x->exe);
	strv_free(&x->argv);
}

static void
free_proc(struct roar_proc *p, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < p->nimages; i++)
		image_free(&p->images[i]);
	free(p->images);
	for (size_t i = 0; i < p->n_old_execs; i++)
		exec_try_free(&p->old_execs[i]);
	free(p->old_execs);
	strv_free(&p->exec_argv);
	roar_bytes_free(&p->exec_exe);
	roar_callsites_free(p);
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
	roar_map_free(&m->slot_pid);
	roar_map_free(&m->slot_got);
	roar_pipes_free(&m->pipes);
	roar_bytes_free(&m->exclude_prefix);
	roar_bytes_free(&m->exclude_exact);
}

struct roar_proc *
roar_merge_find(const struct roar_merge *m, pid_t pid)
{
	return roar_map_get(&m->procs, (uint64_t)pid);
}

/* The record of pid, created when new; gone marks a new one as already
 * gone (see struct roar_proc.gone) before it is announced. */
static struct roar_proc *
find_or_add(struct roar_merge *m, pid_t pid, bool gone)
{
	struct roar_proc *p = roar_merge_find(m, pid);

	if (p)
		return p;
	p = roar_xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->pidfd = -1;
	p->gone = gone;
	roar_map_put(&m->procs, (uint64_t)pid, p);
	if (m->on_new_proc)
		m->on_new_proc(m->ctx, p);
	return p;
}

struct roar_proc *
roar_merge_proc(struct roar_merge *m, pid_t pid)
{
	return find_or_add(m, pid, false);
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

/*
 * The parent an exec or exit event's "ppid" names.  It is the weakest
 * word, and the first one stands: a later getppid() can only have moved
 * to a reaper (the parent died meanwhile), never back.
 */
static void
set_self_parent(struct roar_proc *p, pid_t ppid)
{
	if (p->parent_source == ROAR_PARENT_NONE)
		set_parent(p, ppid, ROAR_PARENT_EXEC_HELLO);
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
	if (excluded(m, path, len)) {
		/* Its call site is not reported; the modules it names are
		 * this image's all the same. */
		roar_callsites_on_file(p, ev, UINT32_MAX, write);
		return 0;
	}
	f = intern_file(m, path, len, &index);
	roar_callsites_on_file(p, ev, index, write);
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

/* ---- identity ----------------------------------------------------------- */

/*
 * The rules of "Identity" in protocol.h.  A sender is its connection's
 * peer; what it says about itself is taken, what it says about another
 * pid is checked:
 *   - an exec's "subject" must descend from the sender, by the merge
 *     table (a fork event of the sender, applied just before) or else by
 *     the kernel;
 *   - a fork's "child" must descend from the sender by the kernel, or
 *     already say so itself, or be gone (then it is never watched), or
 *     be an orphan of the sender (below);
 *   - a reaped "child" must be known as the sender's or as nobody's, or
 *     be gone;
 *   - no claim may name pid 1, the collector or the root's parent, which
 *     the launcher would otherwise wait for forever.
 * The kernel is asked through m->proc_stat only.
 *
 * Orphans: "( cmd & )" in a shell forks cmd from a subshell that exits at
 * once, so by the time its fork event is read cmd has been moved to a
 * reaper and the kernel no longer links it to the sender.  Such a claim
 * is taken when the sender is indeed dead (a zombie, or gone: the kernel
 * moves children only then) and the child started after the collector
 * did, so that no process older than the run (a daemon the launcher would
 * wait for forever) can be claimed this way.  Bet: a hostile sender that
 * dies at once can still claim an unrelated process started during the
 * run and since orphaned; the wait timeout bounds that.
 */

/* How far a kernel parent chain is followed (descendants of a sender are
 * rarely deeper than a few levels). */
#define KERNEL_CHAIN_MAX 64
/* How far merge-table chains (and image lookups) are followed. */
#define TABLE_CHAIN_MAX 4096

ROAR_PRINTF(2, 3) static int
refuse(struct roar_merge *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->refusal, sizeof(m->refusal), fmt, ap);
	va_end(ap);
	m->frames_refused++;
	return 0;
}

static bool
unclaimable(const struct roar_merge *m, pid_t pid)
{
	return pid == 1 || pid == m->self_pid ||
	       (m->root_ppid > 0 && pid == m->root_ppid);
}

/*
 * Whether the kernel's parent links lead from pid up to anc: 1 when they
 * do, 0 when they do not, -ESRCH when pid itself is gone, another -errno
 * when the kernel could not be asked about pid.
 */
static int
kernel_descends(const struct roar_merge *m, pid_t pid, pid_t anc)
{
	struct roar_proc_stat st;
	pid_t cur = pid;

	for (int i = 0; i < KERNEL_CHAIN_MAX; i++) {
		int rc = m->proc_stat(cur, &st);

		if (rc != 0)
			return i == 0 ? rc : 0; /* an ancestor vanished */
		if (st.ppid == anc)
			return 1;
		if (st.ppid <= 1)
			return 0;
		cur = st.ppid;
	}
	return 0;
}

/* Whether child may be an orphan of sender (see "Orphans" above). */
static bool
orphan_of(const struct roar_merge *m, pid_t sender, pid_t child)
{
	struct roar_proc_stat s, c, self;
	int rc = m->proc_stat(sender, &s);

	if (rc == 0 ? s.state != 'Z' && s.state != 'X' : rc != -ESRCH)
		return false;
	return m->proc_stat(child, &c) == 0 &&
	       m->proc_stat(m->self_pid, &self) == 0 && c.start >= self.start;
}

/* Whether the merge table's parent links lead from pid up to anc. */
static bool
table_descends(const struct roar_merge *m, pid_t pid, pid_t anc)
{
	const struct roar_proc *p = roar_merge_find(m, pid);

	for (int depth = 0; p && depth < TABLE_CHAIN_MAX; depth++) {
		if (p->ppid == anc)
			return true;
		if (p->ppid <= 0)
			return false;
		p = roar_merge_find(m, p->ppid);
	}
	return false;
}

enum claim {
	CLAIM_REFUSED,
	CLAIM_ALIVE,   /* accepted; watch it if it is new */
	CLAIM_GONE,    /* accepted; the kernel has no such process now */
};

/* sender says it forked child; verify is false when the sender is not
 * known by the kernel (its payload is trusted). */
static enum claim
judge_fork(const struct roar_merge *m, pid_t sender, pid_t child,
	   bool verify)
{
	const struct roar_proc *c = roar_merge_find(m, child);
	int rc;

	if (unclaimable(m, child) || child == sender)
		return CLAIM_REFUSED;
	if (!verify)
		return CLAIM_ALIVE;
	/* The child's own hello (its word about itself) already agrees. */
	if (c && c->ppid == sender)
		return CLAIM_ALIVE;
	rc = kernel_descends(m, child, sender);
	if (rc == 1 || (rc == 0 && orphan_of(m, sender, child)))
		return CLAIM_ALIVE;
	if (rc == -ESRCH)
		return CLAIM_GONE;
	return CLAIM_REFUSED;
}

/* sender says it reaped child. */
static enum claim
judge_reaped(const struct roar_merge *m, pid_t sender, pid_t child,
	     bool verify)
{
	const struct roar_proc *c = roar_merge_find(m, child);
	struct roar_proc_stat st;

	if (unclaimable(m, child) || child == sender)
		return CLAIM_REFUSED;
	if (!verify)
		return CLAIM_ALIVE;
	if (c && (c->ppid == sender || c->ppid == 0))
		return CLAIM_ALIVE;
	/* A reaped child is gone: a live one was not reaped by anyone. */
	if (m->proc_stat(child, &st) == -ESRCH)
		return CLAIM_GONE;
	return CLAIM_REFUSED;
}

/* sender speaks for subject in an exec event. */
static bool
judge_subject(const struct roar_merge *m, pid_t sender, pid_t subject,
	      bool verify)
{
	if (unclaimable(m, subject))
		return false;
	if (!verify || table_descends(m, subject, sender))
		return true;
	return kernel_descends(m, subject, sender) == 1;
}

/* ---- images and exec attempts ----------------------------------------- */

/* Insert *im (taken over) into p's images, keeping them sorted by time;
 * an image of the same time as a known one counts as the later. */
/*
 * Keep the images of p within ROAR_CAP_PROC_IMAGE_BYTES, dropping the
 * oldest first (as ROAR_MERGE_MAX_HISTORY does by count); the latest one
 * always stays.
 */
static void
drop_old_images(struct roar_proc *p)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < p->nimages; i++)
		total += p->images[i].bytes;
	while (total > ROAR_CAP_PROC_IMAGE_BYTES && p->nimages - k > 1) {
		total -= p->images[k].bytes;
		image_free(&p->images[k++]);
	}
	if (!k)
		return;
	memmove(&p->images[0], &p->images[k],
		(p->nimages - k) * sizeof(*p->images));
	p->nimages -= k;
}

static void
add_image(struct roar_proc *p, struct roar_image *im)
{
	size_t i = p->nimages;

	while (i > 0 && p->images[i - 1].time > im->time)
		i--;
	if (p->nimages == ROAR_MERGE_MAX_HISTORY) {
		if (i == 0) {
			image_free(im); /* older than all we keep */
			return;
		}
		image_free(&p->images[0]);
		memmove(&p->images[0], &p->images[1],
			(p->nimages - 1) * sizeof(*p->images));
		p->nimages--;
		i--;
	}
	p->images = roar_xrealloc(p->images,
				  (p->nimages + 1) * sizeof(*p->images));
	memmove(&p->images[i + 1], &p->images[i],
		(p->nimages - i) * sizeof(*p->images));
	p->images[i] = *im;
	p->nimages++;
	drop_old_images(p);
}

/* The earlier attempt of p stamped t, if any. */
static struct roar_exec_try *
old_exec_at(struct roar_proc *p, double t)
{
	for (size_t i = 0; i < p->n_old_execs; i++)
		if (p->old_execs[i].time == t)
			return &p->old_execs[i];
	return NULL;
}

/* Insert an earlier attempt (exe and argv taken over), sorted by time. */
static void
add_old_exec(struct roar_proc *p, double t, bool failed,
	     struct roar_bytes exe, struct roar_strv argv)
{
	size_t i = p->n_old_execs;

	while (i > 0 && p->old_execs[i - 1].time > t)
		i--;
	if (p->n_old_execs == ROAR_MERGE_MAX_HISTORY) {
		struct roar_exec_try x = { t, failed, exe, argv };

		if (i == 0) {
			exec_try_free(&x);
			return;
		}
		exec_try_free(&p->old_execs[0]);
		memmove(&p->old_execs[0], &p->old_execs[1],
			(p->n_old_execs - 1) * sizeof(*p->old_execs));
		p->n_old_execs--;
		i--;
	}
	p->old_execs = roar_xrealloc(
		p->old_execs, (p->n_old_execs + 1) * sizeof(*p->old_execs));
	memmove(&p->old_execs[i + 1], &p->old_execs[i],
		(p->n_old_execs - i) * sizeof(*p->old_execs));
	p->old_execs[i] = (struct roar_exec_try){ t, failed, exe, argv };
	p->n_old_execs++;
}

/* A newer attempt arrived: the latest one joins the earlier ones. */
static void
retire_exec(struct roar_proc *p)
{
	if (!p->has_exec)
		return;
	add_old_exec(p, p->exec_time, p->exec_failed, p->exec_exe,
		     p->exec_argv);
	p->exec_exe = (struct roar_bytes){ 0 };
	p->exec_argv = (struct roar_strv){ 0 };
	p->has_exec = false;
	p->exec_failed = false;
}

/* ---- events ----------------------------------------------------------- */

static int
on_hello(struct roar_merge *m, const msgpack_object *ev, pid_t pid,
	 bool foreign_ns)
{
	struct roar_proc *p;
	struct roar_bytes origin;
	pid_t ppid = 0;
	double t = get_time(ev);
	bool fork_origin;
	struct roar_image im = { 0 };
	size_t room = ROAR_CAP_IMAGE_BYTES;
	bool cut_argv = false, cut_env = false;

	if (!get_bytes(ev, ROAR_KEY_ORIGIN, &origin))
		return -EINVAL;
	fork_origin = !strcmp(origin.p, ROAR_ORIGIN_FORK);
	roar_bytes_free(&origin);
	/* Validate everything before anything changes.  argv is kept first:
	 * what ran matters more than its environment. */
	if (roar_mp_get(ev, ROAR_KEY_ARGV) &&
	    !get_strv(ev, ROAR_KEY_ARGV, &im.argv, &room, &cut_argv))
		return -EINVAL;
	if (roar_mp_get(ev, ROAR_KEY_ENV) &&
	    !get_strv(ev, ROAR_KEY_ENV, &im.env, &room, &cut_env)) {
		strv_free(&im.argv);
		return -EINVAL;
	}
	im.bytes = ROAR_CAP_IMAGE_BYTES - room;
	get_pid(ev, ROAR_KEY_PPID, &ppid);
	if (foreign_ns) {
		/* Its ppid is in its own namespace's numbering: ask ours. */
		struct roar_proc_stat st;

		ppid = m->proc_stat && m->proc_stat(pid, &st) == 0 ? st.ppid
								   : 0;
	}
	p = roar_merge_proc(m, pid);
	if (!p->start_time || (t && t < p->start_time))
		p->start_time = t;
	if (fork_origin) {
		const msgpack_object *late = roar_mp_get(ev, ROAR_KEY_LATE);

		p->fork_hello = true;
		set_parent(p, ppid, ROAR_PARENT_FORK_HELLO);
		if (t) {
			p->fork_time = t;
			p->fork_late = late &&
				       late->type == MSGPACK_OBJECT_BOOLEAN &&
				       late->via.boolean;
		}
		image_free(&im);
		return 0;
	}
	set_parent(p, ppid, ROAR_PARENT_EXEC_HELLO);
	roar_callsites_new_image(p);
	/* Every image is kept, an older one arriving late too: a fork child
	 * of that time ran it. */
	im.time = t;
	get_bytes(ev, ROAR_KEY_CWD, &im.cwd);
	get_bytes(ev, ROAR_KEY_EXE, &im.exe);
	im.truncated = roar_mp_get(ev, ROAR_KEY_TRUNCATED) != NULL ||
		       cut_argv || cut_env;
	m->limits.lists_truncated += cut_argv + cut_env;
	add_image(p, &im);
	return 0;
}

static int
on_exec(struct roar_merge *m, const msgpack_object *ev, pid_t pid,
	pid_t sender)
{
	struct roar_proc *p;
	struct roar_bytes exe;
	struct roar_strv argv = { 0 };
	double t = get_time(ev);
	pid_t ppid = 0;
	bool same, cut = false;
	size_t room = ROAR_CAP_IMAGE_BYTES;

	if (!get_bytes(ev, ROAR_KEY_EXE, &exe))
		return -EINVAL;
	if (!get_strv(ev, ROAR_KEY_ARGV, &argv, &room, &cut)) {
		roar_bytes_free(&exe);
		return -EINVAL;
	}
	m->limits.lists_truncated += cut;
	p = roar_merge_proc(m, pid);
	/*
	 * "ppid" is getppid() of the process that execs: a vfork child
	 * announces itself so.  When the sender speaks for a subject, take
	 * it only when it names the sender (the subject's parent is
	 * otherwise the fork event's business, not a guess).
	 */
	if (!m->foreign_ns && get_pid(ev, ROAR_KEY_PPID, &ppid) &&
	    (pid == sender || ppid == sender))
		set_self_parent(p, ppid);
	if (!p->start_time)
		p->start_time = t;
	if (p->has_exec && t < p->exec_time) {
		/* An earlier attempt delivered late: history. */
		struct roar_exec_try *x = old_exec_at(p, t);

		if (x) {
			exec_try_free(x); /* keeps time; failed survives */
			x->exe = exe;
			x->argv = argv;
		} else {
			add_old_exec(p, t, false, exe, argv);
		}
		return 0;
	}
	/* An exec_failed for this very attempt may have come first. */
	same = p->has_exec && t == p->exec_time;
	if (!same)
		retire_exec(p);
	p->exec_failed = same && p->exec_failed;
	p->has_exec = true;
	p->exec_time = t;
	roar_bytes_free(&p->exec_exe);
	strv_free(&p->exec_argv);
	p->exec_exe = exe;
	p->exec_argv = argv;
	return 0;
}

static int
on_exec_failed(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	struct roar_proc *p = roar_merge_proc(m, pid);
	double t = get_time(ev);

	if (p->has_exec && t < p->exec_time) {
		struct roar_exec_try *x = old_exec_at(p, t);

		if (x)
			x->failed = true;
		else /* its exec event is still on its way */
			add_old_exec(p, t, true, (struct roar_bytes){ 0 },
				     (struct roar_strv){ 0 });
		return 0;
	}
	if (!p->has_exec || t > p->exec_time) {
		/* The exec event is still on its way (another connection). */
		retire_exec(p);
		p->has_exec = true;
		p->exec_time = t;
	}
	p->exec_failed = true;
	return 0;
}

static int
on_fork(struct roar_merge *m, const msgpack_object *ev, pid_t pid,
	bool verify)
{
	struct roar_proc *c;
	pid_t child;
	enum claim claim;
	double t = get_time(ev);

	if (!get_pid(ev, ROAR_KEY_CHILD, &child))
		return -EINVAL;
	claim = judge_fork(m, pid, child, verify);
	if (claim == CLAIM_REFUSED)
		return refuse(m, "pid %d says it forked pid %d, which the "
			      "kernel does not show as its descendant",
			      (int)pid, (int)child);
	roar_merge_proc(m, pid);
	c = find_or_add(m, child, claim == CLAIM_GONE);
	set_parent(c, pid, ROAR_PARENT_FORK_EVENT);
	/* Sent just after the fork: a bound when the child's hello (stamped
	 * just before it) has not said better. */
	if (t && !c->fork_time)
		c->fork_time = t;
	return 0;
}

static int
on_exit_ev(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	struct roar_proc *p;
	int64_t status, yields;
	pid_t ppid;

	if (!get_int(ev, ROAR_KEY_STATUS, &status))
		return -EINVAL;
	p = roar_merge_proc(m, pid);
	/* A vfork child that never execs announces itself here. */
	if (!m->foreign_ns && get_pid(ev, ROAR_KEY_PPID, &ppid))
		set_self_parent(p, ppid);
	p->has_exit = true;
	p->exit_code = (int)(status & 0xff);
	if (get_int(ev, ROAR_KEY_FD_YIELDS, &yields) && yields > 0)
		p->fd_yields += (uint64_t)yields;
	p->end_time = get_time(ev);
	return 0;
}

static int
on_reaped(struct roar_merge *m, const msgpack_object *ev, pid_t pid,
	  bool verify)
{
	struct roar_proc *c;
	pid_t child;
	int64_t status;
	enum claim claim;

	if (!get_pid(ev, ROAR_KEY_CHILD, &child) ||
	    !get_int(ev, ROAR_KEY_STATUS, &status))
		return -EINVAL;
	claim = judge_reaped(m, pid, child, verify);
	if (claim == CLAIM_REFUSED)
		return refuse(m, "pid %d says it reaped pid %d, which is "
			      "alive or another's", (int)pid, (int)child);
	roar_merge_proc(m, pid);
	c = find_or_add(m, child, claim == CLAIM_GONE);
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

/* Apply one event of kind k (an index of kind_names, or COUNT_ when
 * unknown) about pid. */
static int
apply(struct roar_merge *m, const msgpack_object *ev, size_t k, pid_t pid,
      bool verify)
{
	switch (k) {
	case ROAR_KIND_READ:
	case ROAR_KIND_OPEN_READ:
	case ROAR_KIND_OPEN_WRITE: /* roar's own listeners read it so too */
		return on_file(m, ev, pid, false);
	case ROAR_KIND_WRITE:
		return on_file(m, ev, pid, true);
	case ROAR_KIND_HELLO:
		return on_hello(m, ev, pid, false);
	case ROAR_KIND_FORK:
		return on_fork(m, ev, pid, verify);
	case ROAR_KIND_EXEC:
		return on_exec(m, ev, pid, pid);
	case ROAR_KIND_EXEC_FAILED:
		return on_exec_failed(m, ev, pid);
	case ROAR_KIND_EXIT:
		return on_exit_ev(m, ev, pid);
	case ROAR_KIND_REAPED:
		return on_reaped(m, ev, pid, verify);
	case ROAR_KIND_DROPPED:
		return on_dropped(m, ev, pid);
	case ROAR_KIND_RESUME:
		/* The connection's business (conn.c, the ledger). */
		return 0;
	case ROAR_KIND_PIPE:
		roar_merge_proc(m, pid);
		return roar_pipes_event(&m->pipes, ev, pid, &m->limits);
	default:
		/* A newer library's kind: harmless, but counted. */
		m->unknown_events++;
		return 0;
	}
}

int
roar_merge_event(struct roar_merge *m, const msgpack_object *ev,
		 pid_t peer_pid)
{
	return roar_merge_event_as(m, ev, peer_pid, 0);
}

int
roar_merge_event_as(struct roar_merge *m, const msgpack_object *ev,
		    pid_t peer_pid, pid_t alias)
{
	const msgpack_object *kind;
	bool verify = peer_pid > 0;
	pid_t pid, subject;
	size_t k;
	int rc;

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
	/* The kernel knows who is speaking; the payload may not say else
	 * (but a sender in a PID namespace of its own says its pid there). */
	if (verify && alias > 0 && pid == alias) {
		if (roar_mp_get(ev, ROAR_KEY_SUBJECT) ||
		    k == ROAR_KIND_FORK || k == ROAR_KIND_REAPED)
			return refuse(m, "pid %d (pid %d in its own PID "
				      "namespace) spoke of another process",
				      (int)peer_pid, (int)pid);
		pid = peer_pid;
		if (k == ROAR_KIND_HELLO)
			return on_hello(m, ev, pid, true);
		/* The rest as usual, but no "ppid" of its numbering. */
		m->foreign_ns = true;
		rc = apply(m, ev, k, pid, verify);
		m->foreign_ns = false;
		return rc;
	}
	if (verify && pid != peer_pid)
		return refuse(m, "pid %d sent a frame saying it is pid %d",
			      (int)peer_pid, (int)pid);
	if (roar_mp_get(ev, ROAR_KEY_SUBJECT)) {
		/* The kind is named only when known: a diagnostic never
		 * prints a sender's bytes. */
		if (k != ROAR_KIND_EXEC)
			return refuse(m, "pid %d sent a%s %s event about "
				      "another process", (int)pid,
				      k < ROAR_KIND_COUNT_ ? "" : "n",
				      k < ROAR_KIND_COUNT_ ? kind_names[k]
							   : "unknown");
		if (!get_pid(ev, ROAR_KEY_SUBJECT, &subject))
			return -EINVAL;
		if (subject != pid &&
		    !judge_subject(m, pid, subject, verify))
			return refuse(m, "pid %d spoke for pid %d, which is "
				      "not its descendant",
				      (int)pid, (int)subject);
		return on_exec(m, ev, subject, pid);
	}
	return apply(m, ev, k, pid, verify);
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

/* ---- what a process ran, and when -------------------------------------- */

/*
 * A process runs its latest image; a fork child runs the image its
 * parent had at the fork, until it execs one of its own.  "At time t" is
 * the latest image stamped <= t; t = INFINITY means "now" (the end).
 */

/* Whether p's parent link is one a fork child's image is inherited over:
 * only fork evidence, unless lenient (any link at all). */
static bool
inherits(const struct roar_proc *p, bool lenient)
{
	if (p->ppid <= 0 || p->ppid == p->pid)
		return false;
	return lenient || p->fork_hello ||
	       p->parent_source >= ROAR_PARENT_FORK_EVENT;
}

/* The time to look at p's parent for, when p had nothing of its own at
 * t: p ran what it inherited at its fork, so no later than that. */
static double
at_fork(const struct roar_proc *p, double t)
{
	return p->fork_time > 0 && p->fork_time < t ? p->fork_time : t;
}

static const struct roar_image *
image_at(const struct roar_proc *p, double t)
{
	for (size_t i = p->nimages; i > 0; i--)
		if (p->images[i - 1].time <= t)
			return &p->images[i - 1];
	return NULL;
}

/*
 * The argv of the untraced exec p had made by t, or NULL: its latest
 * attempt stamped <= t when no exec_failed answered it and no image of p
 * is stamped later (up to t).
 */
static const struct roar_strv *
silent_exec_at(const struct roar_proc *p, double t)
{
	const struct roar_image *im = image_at(p, t);
	const struct roar_exec_try *x = NULL;

	if (p->has_exec && p->exec_time <= t) {
		if (p->exec_failed || (im && im->time >= p->exec_time))
			return NULL;
		return &p->exec_argv;
	}
	for (size_t i = p->n_old_execs; i > 0 && !x; i--)
		if (p->old_execs[i - 1].time <= t)
			x = &p->old_execs[i - 1];
	if (!x || x->failed || (im && im->time >= x->time))
		return NULL;
	return &x->argv;
}

/* The image p ran at t, or that its ancestors did, as inherited. */
static const struct roar_image *
inherited_image(const struct roar_merge *m, const struct roar_proc *p,
		double t, bool lenient)
{
	for (int depth = 0; p && depth < TABLE_CHAIN_MAX; depth++) {
		const struct roar_image *im = image_at(p, t);

		if (im)
			return im;
		if (!inherits(p, lenient))
			return NULL;
		t = at_fork(p, t);
		p = roar_merge_find(m, p->ppid);
	}
	return NULL;
}

/* Whether the latest thing known of p is an exec we never heard back from. */
static bool
ended_in_silent_exec(const struct roar_proc *p)
{
	return silent_exec_at(p, INFINITY) != NULL;
}

const struct roar_strv *
roar_merge_env(const struct roar_merge *m, const struct roar_proc *p)
{
	const struct roar_image *im = inherited_image(m, p, INFINITY, false);

	return im ? &im->env : NULL;
}

const struct roar_bytes *
roar_merge_cwd(const struct roar_merge *m, const struct roar_proc *p)
{
	const struct roar_image *im = inherited_image(m, p, INFINITY, false);

	return im && im->cwd.p ? &im->cwd : NULL;
}

const struct roar_strv *
roar_merge_command(const struct roar_merge *m, const struct roar_proc *p)
{
	double t = INFINITY;

	if (p->launch_errno && !p->nimages)
		return &p->exec_argv;
	for (int depth = 0; p && depth < TABLE_CHAIN_MAX; depth++) {
		const struct roar_strv *v = silent_exec_at(p, t);
		const struct roar_image *im;

		if (v)
			return v;
		im = image_at(p, t);
		if (im)
			return &im->argv;
		/* A fork child runs its parent's image as of the fork. */
		if (!inherits(p, false))
			return NULL;
		t = at_fork(p, t);
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
		/* PATH and cwd as they were at that exec: its own image's
		 * then, or what it inherited (over any parent link, since a
		 * vfork child is known only by its exec's getppid()). */
		const struct roar_image *im =
			inherited_image(m, p, p->exec_time, true);
		const char *path_var = NULL;

		for (size_t i = 0; im && i < im->env.n; i++)
			if (!strncmp(im->env.v[i].p, "PATH=", 5))
				path_var = im->env.v[i].p + 5;
		roar_elf_why_untraceable(p->exec_exe.p, path_var,
					 im && im->cwd.len ? im->cwd.p : NULL,
					 buf, cap);
		return buf;
	}
	if (!p->nimages && !p->fork_hello && p->pid != m->root_pid) {
		snprintf(buf, cap,
			 "it never announced itself: started where the "
			 "tracer does not see (a static or untraced parent, "
			 "or a raw clone) or ended before it could connect");
		return buf;
	}
	if (!p->nimages && !p->fork_hello && p->pid == m->root_pid &&
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

bool
roar_merge_truncated(const struct roar_merge *m, const struct roar_proc *p)
{
	const struct roar_image *env = inherited_image(m, p, INFINITY, false);
	double t = INFINITY;

	if (env && env->truncated)
		return true;
	/* The image the command comes from, as roar_merge_command finds it. */
	if (p->launch_errno && !p->nimages)
		return false;
	for (int depth = 0; p && depth < TABLE_CHAIN_MAX; depth++) {
		const struct roar_image *im;

		if (silent_exec_at(p, t))
			return false;
		im = image_at(p, t);
		if (im)
			return im->truncated;
		if (!inherits(p, false))
			return false;
		t = at_fork(p, t);
		p = roar_merge_find(m, p->ppid);
	}
	return false;
}
