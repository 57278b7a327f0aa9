/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a command traced, shared by roar-tracer-preload and roar-run:
 * find the library, make a private socket directory, start the command
 * with LD_PRELOAD, collect, write the report.  A report is written
 * whenever we got as far as trying to start the command, also when it
 * could not be executed.
 */
#ifndef ROAR_LAUNCH_H
#define ROAR_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>

struct roar_launch_opts {
	const char *report_path;
	char **argv;             /* the command, NULL-terminated */
	double wait_timeout;     /* seconds after the root ends; < 0 forever */
	bool quiet;
	bool keep_secrets;       /* --keep-secrets (ROAR_KEEP_SECRETS=1 too) */
	const char *prog;        /* our name, for messages */
};

/**
 * Find the preload library: $ROAR_PRELOAD_LIB, beside our own program
 * under roar's names or ours, in the build tree, then the install prefix.
 * @return 0 with the path in out, or -ENOENT
 */
int roar_launch_find_library(char *out, size_t cap);

/**
 * Run the command traced and write the report.  Signals sent to us on
 * the way are passed on to the command (launch.c says which, and how);
 * none but SIGKILL ends us before the report is written.
 * @param exit_code receives the command's exit code, or 128+N for signal
 *        N, or 127/126 when it could not be executed
 * @param exit_signal receives N when the command died of signal N, else
 *        0 (may be NULL)
 * @return 0 when the report was written, else -errno (message printed)
 */
int roar_launch_run(const struct roar_launch_opts *o, int *exit_code,
		    int *exit_signal);

/**
 * End the way a command that died of sig did, so that whoever waits for
 * us sees the same status: default action, unblocked, raised.  No core
 * dump of ours is left.  Returns only if sig did not end us.
 */
void roar_launch_end_like(int sig);

#endif /* ROAR_LAUNCH_H */
