/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applying one decoded event to the merge model.  Every event is
 * validated here: a malformed one is refused with -EINVAL and changes
 * nothing, and one its sender may not send (the identity rules,
 * merge_identity.c) is refused and counted, and changes nothing either.
 * Order-independence rules are documented on each field in merge.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roar/protocol.h"
#include "callsites.h"
#include "merge.h"
#include "merge_private.h"
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

	if (!roar_mp_bytes(roar_mp_get(map, key), &p, &len) ||
	    memchr(p, '\0', len))
		return false;
	*out = roar_bytes_dup(p, len);
	return true;
}


/* What one kept list entry costs beyond its bytes: its roar_bytes and the
 * malloc chunk's overhead (caps.h). */
#define ENTRY_COST 48u

/*
 * An array of str/bin at key, validated whole, then kept up to
 * ROAR_CAP_LIST_ENTRIES entries and *room bytes (entry costs included;
 * decremented by what was kept).  Sets *cut when entries were left out.
 * Returns false (and leaves out untouched) unless every entry is bytes.
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

ROAR_PRINTF(2, 3) static int refuse(struct roar_merge *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->refusal, sizeof(m->refusal), fmt, ap);
	va_end(ap);
	m->frames_refused++;
	return 0;
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

static int
on_file(struct roar_merge *m, const msgpack_object *ev, pid_t pid, bool write)
{
	const char *path;
	size_t len;
	int64_t tid = 0;
	uint32_t index;
	struct roar_file *f;
	struct roar_proc *p;

	if (!roar_mp_bytes(roar_mp_get(ev, ROAR_KEY_PATH), &path, &len) ||
	    len == 0 || path[0] != '/' || memchr(path, '\0', len))
		return -EINVAL;
	get_int(ev, ROAR_KEY_TID, &tid);
	p = roar_merge_proc(m, pid);
	if (roar_merge_excluded(m, path, len)) {
		/* Its call site is not reported; the modules it names are
		 * this image's all the same. */
		roar_callsites_on_file(p, ev, UINT32_MAX, write);
		return 0;
	}
	f = roar_merge_intern_file(m, path, len, &index);
	roar_callsites_on_file(p, ev, index, write);
	if (write)
		f->written = true;
	else
		f->read = true;
	if (tid > 0)
		roar_file_add_tid(f, write, (pid_t)tid);
	roar_merge_add_access(m, f, p,
			      write ? ROAR_ACCESS_WRITE : ROAR_ACCESS_READ);
	return 0;
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
		roar_strv_free(&im.argv);
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
		p->fork_by_supervisor = m->by_supervisor;
		set_parent(p, ppid, ROAR_PARENT_FORK_HELLO);
		if (t) {
			p->fork_time = t;
			p->fork_late = late &&
				       late->type == MSGPACK_OBJECT_BOOLEAN &&
				       late->via.boolean;
		}
		roar_image_free(&im);
		return 0;
	}
	set_parent(p, ppid, ROAR_PARENT_EXEC_HELLO);
	roar_callsites_new_image(p);
	/* Every image is kept, an older one arriving late too: a fork child
	 * of that time ran it. */
	im.time = t;
	im.by_supervisor = m->by_supervisor;
	get_bytes(ev, ROAR_KEY_CWD, &im.cwd);
	get_bytes(ev, ROAR_KEY_EXE, &im.exe);
	im.truncated = roar_mp_get(ev, ROAR_KEY_TRUNCATED) != NULL ||
		       cut_argv || cut_env;
	m->limits.lists_truncated += cut_argv + cut_env;
	roar_proc_add_image(p, &im);
	return 0;
}

static int
on_exec(struct roar_merge *m, const msgpack_object *ev, pid_t pid, pid_t sender)
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
		struct roar_exec_try *x = roar_proc_old_exec_at(p, t);

		if (x) {
			roar_exec_try_free(x); /* keeps time; failed survives */
			x->exe = exe;
			x->argv = argv;
		} else {
			roar_proc_add_old_exec(p, t, false, exe, argv);
		}
		return 0;
	}
	/* An exec_failed for this very attempt may have come first. */
	same = p->has_exec && t == p->exec_time;
	if (!same)
		roar_proc_retire_exec(p);
	p->exec_failed = same && p->exec_failed;
	p->has_exec = true;
	p->exec_time = t;
	roar_bytes_free(&p->exec_exe);
	roar_strv_free(&p->exec_argv);
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
		struct roar_exec_try *x = roar_proc_old_exec_at(p, t);

		if (x)
			x->failed = true;
		else /* its exec event is still on its way */
			roar_proc_add_old_exec(p, t, true,
					       (struct roar_bytes){ 0 },
					       (struct roar_strv){ 0 });
		return 0;
	}
	if (!p->has_exec || t > p->exec_time) {
		/* The exec event is still on its way (another connection). */
		roar_proc_retire_exec(p);
		p->has_exec = true;
		p->exec_time = t;
	}
	p->exec_failed = true;
	return 0;
}

static int
on_fork(struct roar_merge *m, const msgpack_object *ev, pid_t pid, bool verify)
{
	struct roar_proc *c;
	pid_t child;
	enum roar_claim claim;
	double t = get_time(ev);

	if (!get_pid(ev, ROAR_KEY_CHILD, &child))
		return -EINVAL;
	claim = roar_merge_judge_fork(m, pid, child, verify);
	if (claim == ROAR_CLAIM_REFUSED)
		return refuse(m,
			      "pid %d says it forked pid %d, which the "
			      "kernel does not show as its descendant",
			      (int)pid, (int)child);
	roar_merge_proc(m, pid);
	c = roar_merge_add_proc(m, child, claim == ROAR_CLAIM_GONE);
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
	enum roar_claim claim;

	if (!get_pid(ev, ROAR_KEY_CHILD, &child) ||
	    !get_int(ev, ROAR_KEY_STATUS, &status))
		return -EINVAL;
	claim = roar_merge_judge_reaped(m, pid, child, verify);
	if (claim == ROAR_CLAIM_REFUSED)
		return refuse(m,
			      "pid %d says it reaped pid %d, which is "
			      "alive or another's",
			      (int)pid, (int)child);
	roar_merge_proc(m, pid);
	c = roar_merge_add_proc(m, child, claim == ROAR_CLAIM_GONE);
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

static int
on_unseen(struct roar_merge *m, const msgpack_object *ev, pid_t pid)
{
	struct roar_bytes what;
	struct roar_proc *p;

	if (!get_bytes(ev, ROAR_KEY_WHAT, &what))
		return -EINVAL;
	p = roar_merge_proc(m, pid);
	if (!strcmp(what.p, ROAR_UNSEEN_IO_URING))
		p->unseen_io_uring = true;
	else if (!strcmp(what.p, ROAR_UNSEEN_MEMORY))
		p->unseen_memory = true;
	else if (!strcmp(what.p, ROAR_UNSEEN_NO_SUPERVISOR)) {
		int64_t err = 0;

		get_int(ev, ROAR_KEY_ERRNO, &err);
		p->no_supervisor = err > 0 && err < 4096 ? (int)err : EINVAL;
	} else
		m->unknown_events++;
	roar_bytes_free(&what);
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
	case ROAR_KIND_SUPERVISE:
		/* The listener came with it (collect_conns.c); its exec is
		 * announced by its exec event. */
		roar_merge_proc(m, pid);
		return 0;
	case ROAR_KIND_UNSEEN:
		return on_unseen(m, ev, pid);
	default:
		/* A newer library's kind: harmless, but counted. */
		m->unknown_events++;
		return 0;
	}
}

int
roar_merge_event(struct roar_merge *m, const msgpack_object *ev, pid_t peer_pid)
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
		if (roar_mp_get(ev, ROAR_KEY_SUBJECT) || k == ROAR_KIND_FORK ||
		    k == ROAR_KIND_REAPED)
			return refuse(m,
				      "pid %d (pid %d in its own PID "
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
			return refuse(m,
				      "pid %d sent a%s %s event about "
				      "another process",
				      (int)pid, k < ROAR_KIND_COUNT_ ? "" : "n",
				      k < ROAR_KIND_COUNT_ ? kind_names[k]
							   : "unknown");
		if (!get_pid(ev, ROAR_KEY_SUBJECT, &subject))
			return -EINVAL;
		if (subject != pid &&
		    !roar_merge_judge_subject(m, pid, subject, verify))
			return refuse(m,
				      "pid %d spoke for pid %d, which is "
				      "not its descendant",
				      (int)pid, (int)subject);
		return on_exec(m, ev, subject, pid);
	}
	return apply(m, ev, k, pid, verify);
}
