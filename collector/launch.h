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

/*
 * Our exit status when the command was never started: a check before the
 * run failed (no library, report directory missing or not writable, no
 * socket directory), and nothing ran.  The same as wrong usage, which is
 * what roar expects of a launcher that could not do its work.
 */
#define ROAR_LAUNCH_NOT_RUN 2

struct roar_launch_opts {
	const char *report_path;
	char **argv;         /* the command, NULL-terminated */
	double wait_timeout; /* seconds after the root ends; < 0 forever */
	bool quiet;
	bool keep_secrets;        /* --keep-secrets (ROAR_KEEP_SECRETS=1 too) */
	unsigned notice_after_ms; /* name who outlived the command after
				     this long (collect.h); 0: never */
	unsigned progress_every_ms; /* a progress line this often while the
				       command runs (collect.h); 0: never */
	const char *prog;           /* our name, for messages */
};

/**
 * Find the preload library: $ROAR_PRELOAD_LIB, beside our own program
 * under roar's names or ours, in the build tree, then the install prefix.
 * @return 0 with the path in out, or -ENOENT
 */
int roar_launch_find_library(char *out, size_t cap);

/**
 * Whether a file can be made at path: its directory exists and takes a
 * new file (one is created with O_EXCL and removed again), and path is
 * not a directory.  Run before the command, so that a report with
 * nowhere to go never costs a run.
 * @return 0, or -errno with a message for the user in err
 */
int roar_launch_check_output(const char *path, char *err, size_t cap);

/**
 * Run the command traced and write the report.  Signals sent to us on
 * the way are passed on to the command (launch.c says which, and how);
 * none but SIGKILL ends us before the report is written.
 * @param exit_code receives the command's exit code, or 128+N for signal
 *        N, or 127/126 when it could not be executed, or
 *        ROAR_LAUNCH_NOT_RUN when a check failed before it was started
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
