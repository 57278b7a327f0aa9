/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merged view of a run: one process table and one file table, built
 * from events in whatever order the per-process streams deliver them.  A
 * child that speaks before its parent reported the fork is kept and
 * attached when the parent's word arrives; every decision that depends on
 * order (which argv a process ended with, whether its last exec was
 * traced) is made from time stamps when the report is built.
 */
#ifndef ROAR_MERGE_H
#define ROAR_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#include "util.h"

/* How sure a parent link is; a stronger source replaces a weaker one. */
enum roar_parent_source {
	ROAR_PARENT_NONE = 0,
	ROAR_PARENT_EXEC_HELLO = 1, /* getppid() in a new image: may be 1 */
	ROAR_PARENT_REAPED = 2,     /* the reaper is the parent */
	ROAR_PARENT_FORK_EVENT = 3, /* the parent said it forked us */
	ROAR_PARENT_FORK_HELLO = 4, /* the child knew its parent's pid */
};

struct roar_strv {
	struct roar_bytes *v;
	size_t n;
};

struct roar_proc {
	pid_t pid;
	pid_t ppid;
	enum roar_parent_source parent_source;

	/* The image announced by the latest exec-origin hello. */
	bool has_image;
	double image_time;
	struct roar_strv argv;
	struct roar_strv env;
	struct roar_bytes cwd;
	struct roar_bytes exe;
	bool argv_truncated;

	/* Whether a fork-origin hello came (a fork child of a traced parent). */
	bool fork_hello;
	double start_time;

	/* The latest exec attempt this process announced. */
	bool has_exec;
	bool exec_failed;
	double exec_time;
	struct roar_bytes exec_exe;
	struct roar_strv exec_argv;

	/* Endings. */
	bool has_exit;     /* exit event: status is an exit code */
	int exit_code;
	bool has_wait;     /* reaped by a traced parent or the launcher */
	int wait_status;
	double end_time;
	bool exited;       /* gone: its pidfd fired or it was already gone;
			      set only by the collect loop, which counts it */
	int launch_errno;  /* the launcher could not execute it */
	bool still_running; /* marked when we stopped waiting */

	uint64_t dropped;  /* events it lost, summed over its dropped events */

	int pidfd;         /* -1 when none; owned by the collect loop */
	void *watch;       /* the loop's epoll tag for pidfd */
	size_t nfiles;     /* distinct files credited to this process */
};

struct roar_file {
	struct roar_bytes path;
	uint32_t index;         /* position in roar_merge.file_list */
	bool read;
	bool written;
	pid_t *read_tids;
	size_t n_read_tids;
	pid_t *written_tids;
	size_t n_written_tids;
};

struct roar_merge {
	struct roar_map procs;  /* pid -> struct roar_proc * */
	struct roar_map files;  /* path hash -> struct roar_file * (chained) */
	struct roar_file **file_list;
	size_t nfiles;
	struct roar_map access; /* (file index << 32 | pid) -> bits */
	pid_t root_pid;
	uint64_t bad_frames;    /* frames that could not be decoded */
	uint64_t unknown_events;
	double start_time;
	double end_time;
	/* Paths that are ours, never the program's: excluded from files. */
	struct roar_bytes exclude_prefix; /* socket directory, with '/' */
	struct roar_bytes exclude_exact;  /* the report */
	/* Called when a process is first heard of (to watch its pid). */
	void (*on_new_proc)(void *ctx, struct roar_proc *p);
	void *ctx;
};

/* Access bits in struct roar_merge.access. */
#define ROAR_ACCESS_READ 1u
#define ROAR_ACCESS_WRITE 2u

void roar_merge_init(struct roar_merge *m, pid_t root_pid);
void roar_merge_free(struct roar_merge *m);

/**
 * Apply one decoded event.
 * @param m the run
 * @param ev the frame's payload
 * @param peer_pid the sender by SO_PEERCRED, or 0 when unknown
 * @return 0, or -EINVAL when the event is malformed (a bad frame)
 */
int roar_merge_event(struct roar_merge *m, const msgpack_object *ev,
		     pid_t peer_pid);

/** The process record of pid, created (and announced) when new. */
struct roar_proc *roar_merge_proc(struct roar_merge *m, pid_t pid);

/** Look a process up without creating it. */
struct roar_proc *roar_merge_find(const struct roar_merge *m, pid_t pid);

/** Calls fn for every process. */
void roar_merge_each_proc(struct roar_merge *m,
			  void (*fn)(struct roar_proc *p, void *arg),
			  void *arg);

/** Total events lost in the processes, by their own counts. */
uint64_t roar_merge_dropped(const struct roar_merge *m);

/**
 * Why a process was not traced, or NULL when it was: its last exec was
 * not followed by a hello of the new image.  buf receives the reason.
 */
const char *roar_merge_untraced_reason(const struct roar_merge *m,
				       const struct roar_proc *p, char *buf,
				       size_t cap);

/** The argv a process ended with (its image, or its untraced exec, or
 *  its parent's when it only forked). NULL when nothing is known. */
const struct roar_strv *roar_merge_command(const struct roar_merge *m,
					   const struct roar_proc *p);

/** Likewise for the environment. */
const struct roar_strv *roar_merge_env(const struct roar_merge *m,
				       const struct roar_proc *p);

/** The parent pid for the report: 0 for the root (nil). */
pid_t roar_merge_parent(const struct roar_merge *m, const struct roar_proc *p);

#endif /* ROAR_MERGE_H */
