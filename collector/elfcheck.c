/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Words about a program for the report and preflight (elfcheck.h), from
 * common/image.c's verdict through the C library.  Reads files only;
 * never executes anything.  A search made for a traced process uses its
 * PATH and working directory: relative PATH elements (an empty one is
 * the working directory, as for execvp) are made absolute against that
 * directory before the search.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roar/image.h"
#include "elfcheck.h"
#include "util.h"

/* path_var with every relative element made absolute against cwd. */
static char *
path_against(const char *path_var, const char *cwd)
{
	size_t cwdlen = strlen(cwd), elems = 1;
	char *out, *o;

	for (const char *p = path_var; *p; p++)
		elems += *p == ':';
	out = o = roar_xmalloc(strlen(path_var) + elems * (cwdlen + 1) + 1);
	for (const char *p = path_var;; p++) {
		size_t n = strcspn(p, ":");

		if (n == 0 || p[0] != '/') {
			memcpy(o, cwd, cwdlen);
			o += cwdlen;
			if (n)
				*o++ = '/';
		}
		memcpy(o, p, n);
		o += n;
		p += n;
		if (!*p)
			break;
		*o++ = ':';
	}
	*o = '\0';
	return out;
}

/* roar_image_resolve for a process whose working directory is cwd. */
static int
find(const char *file, const char *path_var, const char *cwd, char *out,
     size_t cap)
{
	char joined[PATH_MAX * 2];
	char *against = NULL;
	int r;

	if (!file || !*file)
		return -ENOENT;
	if (cwd && file[0] != '/' && strchr(file, '/')) {
		r = snprintf(joined, sizeof(joined), "%s/%s", cwd, file);
		if (r < 0 || (size_t)r >= sizeof(joined))
			return -ENAMETOOLONG;
		file = joined;
	} else if (cwd && path_var && !strchr(file, '/') && !strchr(cwd, ':')) {
		/* (A cwd with a ':' cannot stand in a PATH: ours is used.) */
		against = path_against(path_var, cwd);
		path_var = against;
	}
	r = roar_image_resolve(&roar_image_io_libc, file, path_var, out, cap);
	free(against);
	return r;
}

void
roar_elf_why_untraceable(const char *path, const char *path_var,
			 const char *cwd, char *buf, size_t cap)
{
	char resolved[PATH_MAX * 2], what[PATH_MAX + 64];
	struct roar_image img;
	int r = find(path, path_var, cwd, resolved, sizeof(resolved));

	if ((r == 0 || r == -EACCES) &&
	    roar_image_inspect(&roar_image_io_libc, resolved, &img) == 0 &&
	    (roar_image_tracer(&img) == ROAR_TRACER_SUPERVISOR ||
	     img.final == ROAR_IMAGE_SETID || img.final == ROAR_IMAGE_FCAPS ||
	     /* another ABI's: its words say which */
	     img.final == ROAR_IMAGE_STATIC || img.final == ROAR_IMAGE_GO ||
	     img.final == ROAR_IMAGE_FOREIGN)) {
		if (img.kind == ROAR_IMAGE_SETID)
			snprintf(buf, cap, "setuid/setgid program: %s",
				 resolved);
		else
			snprintf(buf, cap, "%s: %s",
				 roar_image_describe(&img, what, sizeof(what)),
				 resolved);
		return;
	}
	snprintf(buf, cap,
		 "exec of %s was never announced by the new image "
		 "(LD_PRELOAD removed, or a loader that ignores it)",
		 path ? path : "?");
}

void
roar_elf_check_command(const char *command, const char *path_var,
		       struct roar_elf_command *out)
{
	char resolved[PATH_MAX], what[PATH_MAX + 64];
	struct roar_image img;
	int r = find(command, path_var, NULL, resolved, sizeof(resolved));

	out->found = r == 0;
	out->traceable = false;
	if (r == 0)
		snprintf(out->found_detail, sizeof(out->found_detail),
			 "found and executable: %s", resolved);
	else if (r == -ENOENT)
		snprintf(out->found_detail, sizeof(out->found_detail),
			 "%s was not found%s", command,
			 strchr(command, '/') ? "" : " on PATH");
	else if (r == -EACCES)
		snprintf(out->found_detail, sizeof(out->found_detail),
			 "%s is not executable", resolved);
	else
		snprintf(out->found_detail, sizeof(out->found_detail), "%s: %s",
			 command, strerror(-r));
	if (!out->found) {
		snprintf(out->trace_detail, sizeof(out->trace_detail),
			 "not checked: the command cannot be run");
		return;
	}
	roar_image_inspect(&roar_image_io_libc, resolved, &img);
	roar_image_describe(&img, what, sizeof(what));
	switch (roar_image_tracer(&img)) {
	case ROAR_TRACER_PRELOAD:
		out->traceable = true;
		snprintf(out->trace_detail, sizeof(out->trace_detail),
			 "traced by preload: %s", what);
		break;
	case ROAR_TRACER_SUPERVISOR:
		out->traceable = true;
		snprintf(out->trace_detail, sizeof(out->trace_detail),
			 "traced by the seccomp supervisor: %s", what);
		break;
	case ROAR_TRACER_NONE:
		snprintf(out->trace_detail, sizeof(out->trace_detail),
			 "%s: it runs untraced (listed with the reason)", what);
		break;
	}
}
