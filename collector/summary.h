/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a report back for people: a process tree with the files each
 * process read and wrote, and a JSON rendering.  Works on any decoded
 * report, ours or another tracer's, using only the keys it finds.
 */
#ifndef ROAR_SUMMARY_H
#define ROAR_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

#include <msgpack.h>

/* How much the summary shows. */
struct roar_summary_opts {
	/* List system files one by one (views.h: under /usr, /etc, ... or
	 * the interpreter's own library) and whole command lines; else a
	 * process's system files are one count line, and a command line
	 * past ROAR_SUMMARY_COMMAND_MAX bytes ends in "…". */
	bool all;
	/* Do not mark written files that no longer exist "(gone)" (the
	 * report is read on another machine than it was taken on). */
	bool no_gone;
};

/** Bytes of a command line the summary shows unless opts.all. */
#define ROAR_SUMMARY_COMMAND_MAX 100

/** Print the readable summary of report to out with the default
 *  options (all false). @return untraced count */
int roar_summary_print(FILE *out, const msgpack_object *report);

/** Likewise with opts (NULL: the defaults). @return untraced count */
int roar_summary_print_opts(FILE *out, const msgpack_object *report,
			    const struct roar_summary_opts *opts);


#endif /* ROAR_SUMMARY_H */
