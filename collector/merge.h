/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merged view of a run: one process table and one file table, built
 * from events in whatever order the per-process streams deliver them.  A
 * child that speaks before its parent reported the fork is kept and
 * attached when the parent's word arrives; every decision that depends on
 * order (which argv a process ended with, whether its last exec was
 * traced, which image a fork child ran) is made from time stamps when the
 * report is built.
 *
 * Identity: every frame's sender is its connection's peer by the kernel
 * (SO_PEERCRED).  Its word is taken about itself only; a claim about
 * another pid (a fork's or reaped's "child", an exec's "subject") is
 * checked against the merge table and the kernel's parent links, and a
 * frame that fails is refused: not applied, counted in frames_refused.
 */
#ifndef ROAR_MERGE_H
#define ROAR_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#include "caps.h"
#include "pipes.h"
#include "procinfo.h"
#include "supervise.h"
#include "util.h"

/* How sure a parent link is; a stronger source replaces a weaker one. */
enum roar_parent_source {
	ROAR_PARENT_NONE = 0,
	ROAR_PARENT_EXEC_HELLO = 1, /* the process's own getppid(), in an exec
				       hello (or, if nothing else is known,
				       an exec or exit event): may be a
				       reaper (1) after its parent died */
	ROAR_PARENT_REAPED = 2,     /* the reaper is the parent */
	ROAR_PARENT_FORK_EVENT = 3, /* the parent said it forked us */
	ROAR_PARENT_FORK_HELLO = 4, /* the child knew its parent's pid */
};

struct roar_strv {
	struct roar_bytes *v;
	size_t n;
};

/* One image a process announced (an exec-origin hello). */
struct roar_image {
	double time;
	struct roar_strv argv;
	struct roar_strv env;
	struct roar_bytes cwd;
	struct roar_bytes exe;
	bool truncated;     /* argv or env was cut short: by the sender, to
			      fit its frame, or here, to the caps (caps.h) */
	size_t bytes;       /* of argv and env strings kept */
	bool by_supervisor; /* announced by the seccomp supervisor
			       (supervise.h), not by our library */
};

/* One exec attempt a process announced (exec event or exec_failed). */
struct roar_exec_try {
	double time;
	bool failed; /* an exec_failed of this attempt came */
	struct roar_bytes exe;
	struct roar_strv argv;
};

/*
 * Most processes have one image and no more than a few exec attempts, so
 * the history is two small vectors.  A sender that floods hellos keeps at
 * most ROAR_MERGE_MAX_HISTORY entries of each: the oldest go first.
 */
#define ROAR_MERGE_MAX_HISTORY 1024

struct roar_proc {
	pid_t pid;
	pid_t ppid;
	enum roar_parent_source parent_source;

	/* Every image it announced, oldest first (by "time"); the last one
	 * is its current image.  See roar_proc_image(). */
	struct roar_image *images;
	size_t nimages;

	/* Whether a fork-origin hello came (a fork child of a traced parent). */
	bool fork_hello;
	bool fork_late; /* that hello said "late": fork_time is when the
			      child noticed, not the fork */
	bool fork_by_supervisor; /* that hello came from the supervisor */
	/* What it did whose file I/O is not seen (unseen events). */
	bool unseen_io_uring;
	bool unseen_memory; /* the supervisor could not read its memory */
	int no_supervisor;  /* errno: an image only the supervisor sees
			       could not be put under it; 0: none */
	double start_time;
	/* When it was forked: the fork-origin hello's "time" (taken in the
	 * parent just before the fork), else the parent's fork event's
	 * "time" (just after); 0 when unknown.  Its parent's image as of
	 * this time is the one it runs until it execs.  For a late child
	 * it is only an upper bound, used all the same (best effort). */
	double fork_time;

	/* The latest exec attempt this process announced.  launch.c writes
	 * these too, for a command that could not be executed. */
	bool has_exec;
	bool exec_failed;
	double exec_time;
	struct roar_bytes exec_exe;
	struct roar_strv exec_argv;
	/* The attempts before it, oldest first (exec_time is the newest). */
	struct roar_exec_try *old_execs;
	size_t n_old_execs;

	/* Endings. */
	bool has_exit; /* exit event: status is an exit code */
	int exit_code;
	uint64_t fd_yields; /* times it gave our connection's fd back */
	bool has_wait;      /* reaped by a traced parent or the launcher */
	int wait_status;
	double end_time;
	bool exited;        /* gone: its pidfd fired or it was already gone;
			      set only by the collect loop, which counts it */
	bool gone;          /* first heard of through a claim about a pid the
			      kernel no longer has: never watched, counts as
			      exited at once (set before on_new_proc runs) */
	int launch_errno;   /* the launcher could not execute it */
	bool still_running; /* marked when we stopped waiting */

	uint64_t dropped; /* events it lost: by the ledger (tally.c), or
			      else summed over its dropped events */
	bool incomplete;  /* the ledger says some of its events never
			      arrived (or never became frames) */

	/* Why it was not traced (roar_merge_diagnose); NULL: it was, or
	 * the run was not diagnosed. */
	char *untraced_reason;
	size_t nfiles; /* distinct files credited to this process */
	/* Call sites of its first accesses (callsites.c); NULL: none. */
	struct roar_proc_callsites *callsites;
};

/** The image p runs now (its latest), or NULL when it announced none. */
static inline const struct roar_image *
roar_proc_image(const struct roar_proc *p)
{
	return p->nimages ? &p->images[p->nimages - 1] : NULL;
}

/*
 * One distinct path.  The path's bytes live in the file table's arena
 * (merge_file.c), the records in blocks that never move, so that a path
 * costs little more than its bytes; the threads that read and wrote it
 * are kept inline while there is one of each (roar_file_read_tids), and
 * so is the first process that touched it (the others are in
 * roar_merge.access; ask roar_merge_access).
 */
union roar_tids {
	pid_t one;   /* while there is one */
	pid_t *many; /* from the second on */
};

struct roar_file {
	struct roar_bytes path; /* NUL-terminated; owned by the table */
	uint32_t index;         /* position in roar_merge.file_list */
	uint32_t n_read_tids;
	uint32_t n_written_tids;
	pid_t first_pid; /* the first process that touched it */
	union roar_tids read_tids;
	union roar_tids written_tids;
	uint8_t first_bits; /* ROAR_ACCESS_* of first_pid */
	bool read;
	bool written;
	bool utf8; /* the path is UTF-8 (packed as a str, else a bin) */
};

/** The threads that read f (n_read_tids of them). */
static inline const pid_t *
roar_file_read_tids(const struct roar_file *f)
{
	return f->n_read_tids > 1 ? f->read_tids.many : &f->read_tids.one;
}

/** The threads that wrote f (n_written_tids of them). */
static inline const pid_t *
roar_file_written_tids(const struct roar_file *f)
{
	return f->n_written_tids > 1 ? f->written_tids.many
				     : &f->written_tids.one;
}

/* The file table's storage (merge_file.c). */
struct roar_file_store {
	uint64_t *slots; /* hash tag << 32 | (index + 1); 0: empty */
	size_t cap;      /* a power of two, or 0 */
	char *arena;     /* the current chunk of path bytes */
	size_t arena_left;
	char **chunks; /* every chunk of path bytes, and of records */
	size_t nchunks;
	struct roar_file *block; /* the current block of records */
	size_t block_left;
	/* The paths prefetched (roar_merge_prefetch_file) and their
	 * hashes, by where their bytes lie: valid until
	 * roar_merge_prefetch_forget, which the caller makes before those
	 * bytes may change. */
	struct {
		const char *p;
		size_t len;
		uint64_t hash;
	} ahead[4];
	unsigned next_ahead;
};

struct roar_merge {
	struct roar_map procs;        /* pid -> struct roar_proc * */
	struct roar_file_store files; /* path -> struct roar_file */
	struct roar_file **file_list;
	size_t nfiles;
	/* (file index << 32 | pid) -> bits, for every process that touched
	 * a file but its first one (struct roar_file.first_pid). */
	struct roar_map access;
	pid_t root_pid;
	uint64_t bad_frames; /* frames that could not be decoded */
	uint64_t unknown_events;
	/* Frames refused by the identity rules ("Identity" in protocol.h):
	 * well-formed, but about a process the sender may not speak for.
	 * Not the program's events, so not in events_dropped. */
	uint64_t frames_refused;
	char refusal[160]; /* why the latest one was refused */
	/* Pids no claim may name: whatever a sender says, these are never
	 * its children (the launcher would wait for them forever). */
	pid_t self_pid;  /* the collector (set by roar_merge_init) */
	pid_t root_ppid; /* the root's parent; 0 when unknown */
	/* The kernel's word on a process: roar_proc_stat unless a test
	 * fakes it.  Consulted only for frames whose sender is known. */
	roar_proc_stat_fn proc_stat;
	/* A sender's pid in its own PID namespace (roar_proc_inner_pid
	 * unless a test replaced it; NULL: never translated). */
	int (*proc_inner_pid)(pid_t pid, pid_t *inner);
	/* Report environment values of secret-looking names as they are
	 * (ROAR_KEEP_SECRETS=1), not as ROAR_REDACTED. */
	bool keep_secrets;
	/* Set while a frame of a sender in another PID namespace is
	 * applied: its "ppid" is in a numbering we cannot read. */
	bool foreign_ns;
	double start_time;
	double end_time;
	/*
	 * The ledger (tally.c): when on, a hello names its image's slot,
	 * and its connection counts the frames it carries in that slot
	 * (conn.c).  Keys are slot + 1.  slot_pid: the connection's peer,
	 * with its alias (the pid in its own namespace) in the high half;
	 * slot_got: frames that arrived.
	 */
	bool ledger_on;
	struct roar_map slot_pid;
	struct roar_map slot_got;
	uint64_t ledger_mismatch; /* slots whose counts were not believed */
	uint64_t ledger_overflow; /* images that found the ledger full */
	/* Bad frames on connections whose losses the ledger counts anyway
	 * (so events_dropped does not count them twice). */
	uint64_t bad_in_ledger;
	/* Paths that are ours, never the program's: excluded from files. */
	struct roar_bytes exclude_prefix; /* socket directory, with '/' */
	struct roar_bytes exclude_exact;  /* the report */
	/* What the caps of caps.h cost this run. */
	struct roar_limits limits;
	/* Which processes wrote and read each pipe (pipes.h). */
	struct roar_pipes pipes;
	/* What the seccomp supervisor did (supervise.h). */
	struct roar_sup_stats sup_stats;
	/* Set while a frame of the seccomp supervisor is applied: its
	 * hellos are the supervisor's (traced_by). */
	bool by_supervisor;
	/* roar_merge_diagnose has run: every untraced_reason is set. */
	bool diagnosed;
	/*
	 * Called when a process is first heard of, before the event that
	 * named it is applied further: the collect loop watches its pid at
	 * once (a pid watched later could be a newcomer's).  How it watches
	 * is the loop's alone (collect.c keeps its own pid -> pidfd table);
	 * nothing of it is kept here.  NULL: nobody is told.
	 */
	void (*on_new_proc)(void *ctx, struct roar_proc *p);
	void *ctx;
};

/* Access bits in struct roar_merge.access. */
#define ROAR_ACCESS_READ 1u
#define ROAR_ACCESS_WRITE 2u

/** What pid did to f: ROAR_ACCESS_* bits, 0 when nothing. */
unsigned roar_merge_access(const struct roar_merge *m,
			   const struct roar_file *f, pid_t pid);

/** Calls fn for every (file, process, bits) of the run but a file's first
 *  process (roar_file.first_pid, first_bits): the pairs of the access
 *  map, in no order. */
void roar_merge_each_later_access(const struct roar_merge *m,
				  void (*fn)(const struct roar_file *f,
					     pid_t pid, unsigned bits,
					     void *arg),
				  void *arg);

void roar_merge_init(struct roar_merge *m, pid_t root_pid);
void roar_merge_free(struct roar_merge *m);

/**
 * Apply one decoded event, or refuse it (see "Identity" above).
 * @param m the run
 * @param ev the frame's payload
 * @param peer_pid the sender by SO_PEERCRED, or 0 when unknown.  Unknown
 *        happens only in unit tests that feed events directly (the
 *        kernel always has a peer for an AF_UNIX stream); the payload's
 *        "pid" is then trusted and claims are not checked against the
 *        kernel, but claims naming pid 1, the collector or the root's
 *        parent are still refused.
 * @return 0 (applied, or refused and counted in frames_refused), or
 *         -EINVAL when the event is malformed (a bad frame)
 */
int roar_merge_event(struct roar_merge *m, const msgpack_object *ev,
		     pid_t peer_pid);

/**
 * roar_merge_event for a sender that, in a PID namespace of its own,
 * calls itself alias (0: none): its frames naming alias are taken as
 * peer_pid's; what it says about other pids (fork, reaped, subject) is
 * in a numbering we cannot read, and refused.
 */
int roar_merge_event_as(struct roar_merge *m, const msgpack_object *ev,
			pid_t peer_pid, pid_t alias);

/** The process record of pid, created (and announced) when new. */
struct roar_proc *roar_merge_proc(struct roar_merge *m, pid_t pid);

/** Look a process up without creating it. */
struct roar_proc *roar_merge_find(const struct roar_merge *m, pid_t pid);

/**
 * A file event for path (len bytes) comes soon: bring its slot of the
 * file table into the cache meanwhile (a hint: nothing changes).
 */
void roar_merge_prefetch_file(struct roar_merge *m, const char *path,
			      size_t len);

/** The bytes of the paths prefetched may change from now on. */
void roar_merge_prefetch_forget(struct roar_merge *m);

/** Calls fn for every process. */
void roar_merge_each_proc(struct roar_merge *m,
			  void (*fn)(struct roar_proc *p, void *arg),
			  void *arg);

/** Total events lost in the processes, by their own counts. */
uint64_t roar_merge_dropped(const struct roar_merge *m);

/**
 * Find out why each process that was not traced was not (its last exec
 * was not followed by a hello of the new image, or it never announced
 * itself) and keep it in its untraced_reason.  This reads the untraced
 * executables from disk (elfcheck.h), so it is done once, after the last
 * event and before the report is built; it may be run again.
 */
void roar_merge_diagnose(struct roar_merge *m);

/**
 * Why a process was not traced, or NULL when it was; buf receives the
 * reason.  After roar_merge_diagnose, what it found; before, the same
 * answer with an untraced exec named but not looked into (no file is
 * read either way).
 */
const char *roar_merge_untraced_reason(const struct roar_merge *m,
				       const struct roar_proc *p, char *buf,
				       size_t cap);

/** The argv a process ended with: its latest image, or its untraced
 *  exec, or, when it only forked, what its parent ran at the fork (and so
 *  on up).  NULL when nothing is known. */
const struct roar_strv *roar_merge_command(const struct roar_merge *m,
					   const struct roar_proc *p);

/** Likewise for the environment (an untraced exec's is not known: the
 *  image before it stands). */
const struct roar_strv *roar_merge_env(const struct roar_merge *m,
				       const struct roar_proc *p);

/** Likewise for the working directory its image started in. */
const struct roar_bytes *roar_merge_cwd(const struct roar_merge *m,
					const struct roar_proc *p);

/** Whether the argv or env roar_merge_command and roar_merge_env give
 *  for p was cut short (by its sender or by the caps of caps.h). */
bool roar_merge_truncated(const struct roar_merge *m,
			  const struct roar_proc *p);

/** Who traced p: "preload", "supervisor", or "none" (untraced). */
const char *roar_merge_traced_by(const struct roar_proc *p, bool untraced);

/** The parent pid for the report: 0 for the root (nil). */
pid_t roar_merge_parent(const struct roar_merge *m, const struct roar_proc *p);

#endif /* ROAR_MERGE_H */
