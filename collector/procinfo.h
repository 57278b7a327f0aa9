/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the kernel says about other processes, read from /proc/<pid>/stat:
 * a process's parent, state and start time.  This is the collector's one
 * reader of /proc.  It exists so that merge.c never has to take a traced
 * process's word about another process; it must never write anything.
 */
#ifndef ROAR_PROCINFO_H
#define ROAR_PROCINFO_H

#include <stddef.h>
#include <sys/types.h>

/* The fields of /proc/<pid>/stat the identity checks use. */
struct roar_proc_stat {
	pid_t ppid;               /* field 4: 0 for pid 1, kernel threads */
	char state;               /* field 3: 'R', 'S', 'Z' (zombie), ... */
	unsigned long long start; /* field 22: clock ticks after boot */
};

/**
 * The pid by which pid knows itself in its own (innermost) PID namespace,
 * from the NSpid line of /proc/<pid>/status.
 * @return 0 and *inner (== pid when it is in our namespace), or -errno
 */
int roar_proc_inner_pid(pid_t pid, pid_t *inner);

/**
 * A reader of process stats: roar_proc_stat, or a fake in unit tests.
 * Returns 0 and *st, -ESRCH when pid does not exist, or another -errno
 * when the kernel cannot be asked.
 */
typedef int (*roar_proc_stat_fn)(pid_t pid, struct roar_proc_stat *st);

/**
 * Parse the text of /proc/<pid>/stat.  The command name (field 2) is in
 * parentheses and may itself hold spaces and ')', so the fields are
 * counted from the last ')'.
 * @param stat the file's bytes (need not be NUL-terminated)
 * @param len how many
 * @param st receives the fields
 * @return 0, or -EINVAL when the text is not a stat line
 */
int roar_proc_parse_stat(const char *stat, size_t len,
			 struct roar_proc_stat *st);

/**
 * The kernel's word on pid, from /proc/<pid>/stat.
 * @param pid the process
 * @param st receives its parent, state and start time
 * @return 0; -ESRCH when pid does not exist (a zombie still does);
 *         -ENOSYS when /proc is not mounted; another -errno otherwise
 */
int roar_proc_stat(pid_t pid, struct roar_proc_stat *st);

#endif /* ROAR_PROCINFO_H */
