/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Why a process was not traced: the diagnosis the report gives for a
 * process whose last exec was never followed by a hello of the new
 * image, or that never announced itself at all.  For an exec it looks
 * at the executable on disk (elfcheck.c), so it runs as a pass of its
 * own, roar_merge_diagnose, once the run is collected; the report then
 * only reads what the pass stored, and packing it touches no file.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfcheck.h"
#include "merge.h"
#include "merge_private.h"

/* Whether the latest thing known of p is an exec we never heard back from. */
static bool
ended_in_silent_exec(const struct roar_proc *p)
{
	return roar_proc_silent_exec_at(p, INFINITY) != NULL;
}

/* Room for the longest reason: elfcheck names a path and says why. */
#define REASON_MAX (PATH_MAX + 256)

/*
 * Why p was not traced, in buf, or NULL when it was.  An untraced exec is
 * looked into on disk only when on_disk; otherwise it is only named.
 */
static const char *
reason_of(const struct roar_merge *m, const struct roar_proc *p, bool on_disk,
	  char *buf, size_t cap)
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
			roar_merge_inherited_image(m, p, p->exec_time, true);
		const char *path_var = NULL;

		if (!on_disk) {
			snprintf(buf, cap,
				 "its last exec was not followed by "
				 "a hello of the new image (not diagnosed: "
				 "roar_merge_diagnose was not run)");
			return buf;
		}
		for (size_t i = 0; im && i < im->env.n; i++)
			if (!strncmp(im->env.v[i].p, "PATH=", 5))
				path_var = im->env.v[i].p + 5;
		roar_elf_why_untraceable(p->exec_exe.p, path_var,
					 im && im->cwd.len ? im->cwd.p : NULL,
					 buf, cap);
		if (p->no_supervisor) {
			size_t n = strlen(buf);

			snprintf(buf + n, cap - n,
				 "; the seccomp supervisor could not be armed: "
				 "%s",
				 strerror(p->no_supervisor));
		}
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

static void
diagnose_one(struct roar_proc *p, void *arg)
{
	const struct roar_merge *m = arg;
	char buf[REASON_MAX];
	const char *why = reason_of(m, p, true, buf, sizeof(buf));

	free(p->untraced_reason);
	p->untraced_reason = why ? roar_xstrdup(why) : NULL;
}

void
roar_merge_diagnose(struct roar_merge *m)
{
	roar_merge_each_proc(m, diagnose_one, m);
	m->diagnosed = true;
}

const char *
roar_merge_untraced_reason(const struct roar_merge *m,
			   const struct roar_proc *p, char *buf, size_t cap)
{
	if (!m->diagnosed)
		return reason_of(m, p, false, buf, cap);
	if (!p->untraced_reason)
		return NULL;
	snprintf(buf, cap, "%s", p->untraced_reason);
	return buf;
}
