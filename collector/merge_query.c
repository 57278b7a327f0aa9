/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a process ran, and when: the queries the report makes of the
 * merge model (its command, environment, working directory and parent).
 * A process runs its latest image; a fork child runs the image its
 * parent had at the fork, until it execs one of its own.  "At time t" is
 * the latest image stamped <= t; t = INFINITY means "now" (the end).
 * Every decision that depends on arrival order is made here, from time
 * stamps, never when the events are applied.
 */
#include "config.h"

#include <math.h>

#include "merge.h"
#include "merge_private.h"

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
const struct roar_strv *
roar_proc_silent_exec_at(const struct roar_proc *p, double t)
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

const struct roar_image *
roar_merge_inherited_image(const struct roar_merge *m,
			   const struct roar_proc *p, double t, bool lenient)
{
	for (int depth = 0; p && depth < ROAR_MERGE_CHAIN_MAX; depth++) {
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


/* The image p runs at the end, its own or inherited over fork evidence:
 * where its environment and working directory come from. */
static const struct roar_image *
final_image(const struct roar_merge *m, const struct roar_proc *p)
{
	return roar_merge_inherited_image(m, p, INFINITY, false);
}

/*
 * The argv p ended with, and in *from the image it comes from (NULL when
 * it comes from an exec attempt, or is NULL itself).
 */
static const struct roar_strv *
command_of(const struct roar_merge *m, const struct roar_proc *p,
	   const struct roar_image **from)
{
	double t = INFINITY;

	*from = NULL;
	if (p->launch_errno && !p->nimages)
		return &p->exec_argv;
	for (int depth = 0; p && depth < ROAR_MERGE_CHAIN_MAX; depth++) {
		const struct roar_strv *v = roar_proc_silent_exec_at(p, t);
		const struct roar_image *im;

		if (v)
			return v;
		im = image_at(p, t);
		if (im) {
			*from = im;
			return &im->argv;
		}
		/* A fork child runs its parent's image as of the fork. */
		if (!inherits(p, false))
			return NULL;
		t = at_fork(p, t);
		p = roar_merge_find(m, p->ppid);
	}
	return NULL;
}

const struct roar_strv *
roar_merge_env(const struct roar_merge *m, const struct roar_proc *p)
{
	const struct roar_image *im = final_image(m, p);

	return im ? &im->env : NULL;
}

const struct roar_bytes *
roar_merge_cwd(const struct roar_merge *m, const struct roar_proc *p)
{
	const struct roar_image *im = final_image(m, p);

	return im && im->cwd.p ? &im->cwd : NULL;
}

const struct roar_strv *
roar_merge_command(const struct roar_merge *m, const struct roar_proc *p)
{
	const struct roar_image *from;

	return command_of(m, p, &from);
}

bool
roar_merge_truncated(const struct roar_merge *m, const struct roar_proc *p)
{
	const struct roar_image *env = final_image(m, p);
	const struct roar_image *from;

	if (env && env->truncated)
		return true;
	command_of(m, p, &from);
	return from && from->truncated;
}

const char *
roar_merge_traced_by(const struct roar_proc *p, bool untraced)
{
	const struct roar_image *im = roar_proc_image(p);

	if (untraced)
		return "none";
	/* A Go program with cgo has both: our library loads, and says
	 * hello after the supervisor did for the same image; the
	 * supervisor is the one that sees its calls. */
	if (im && !im->by_supervisor && p->nimages > 1 &&
	    p->images[p->nimages - 2].by_supervisor &&
	    !roar_bytes_cmp(&p->images[p->nimages - 2].exe, &im->exe))
		return "supervisor";
	if (im)
		return im->by_supervisor ? "supervisor" : "preload";
	return p->fork_by_supervisor ? "supervisor" : "preload";
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
