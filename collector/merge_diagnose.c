/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Why a process was not traced: the diagnosis the report gives for a
 * process whose last exec was never followed by a hello of the new
 * image, or that never announced itself at all.  For an exec it looks
 * at the executable on disk (elfcheck.c).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
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
			roar_merge_inherited_image(m, p, p->exec_time, true);
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
