/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds whole frames (header + one msgpack map) into caller-supplied
 * buffers with msgpack-c's inline packer.  No allocation, no syscalls, so
 * every function here is async-signal-safe and usable in a vfork child.
 */
#ifndef ROAR_EVENT_H
#define ROAR_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "roar/protocol.h"

/* A frame under construction.  overflow is set when data was too small. */
struct roar_frame {
	unsigned char *data;
	size_t len;
	size_t cap;
	bool overflow;
};

/* The identity every event carries. */
struct roar_event_ids {
	pid_t pid;
	pid_t tid;
};

/* What a process announces when it starts (hello). */
struct roar_hello {
	pid_t ppid;
	const char *origin; /* ROAR_ORIGIN_EXEC or ROAR_ORIGIN_FORK */
	char *const *argv;  /* NULL for a fork child */
	char *const *envp;  /* NULL for a fork child */
	const char *cwd;    /* may be NULL */
	const char *exe;    /* may be NULL */
	double time;        /* fork origin: just before the fork */
	bool late;          /* fork origin: noticed after the fact */
	uint64_t pidns;     /* PID namespace inode, 0 if unknown */
	bool has_ledger;    /* the image counts in a ledger slot: */
	uint64_t ledger;    /* this one (include/roar/ledger.h) */
};

/** Start an empty frame in buf; cap must be > ROAR_FRAME_HEADER_SIZE. */
void roar_frame_init(struct roar_frame *f, void *buf, size_t cap);

/**
 * Finish the frame: write its header.  @return 0, or -EMSGSIZE when the
 * content did not fit.
 */
int roar_frame_finish(struct roar_frame *f);

/** A file event: kind is ROAR_KIND_READ or ROAR_KIND_WRITE. via is an
 *  extra "via" key naming the call that earned the credit ("open", ...),
 *  or NULL. */
int roar_event_file(struct roar_frame *f, const struct roar_event_ids *ids,
		    enum roar_kind kind, const char *path, size_t len,
		    const char *via);

struct roar_callsite;

/** roar_event_file with a call site (backtrace.h), or none when cs is
 *  NULL or empty. */
int roar_event_file_at(struct roar_frame *f, const struct roar_event_ids *ids,
		       enum roar_kind kind, const char *path, size_t len,
		       const char *via, const struct roar_callsite *cs);

int roar_event_hello(struct roar_frame *f, const struct roar_event_ids *ids,
		     const struct roar_hello *h);

/** fork: the sender created child. */
int roar_event_fork(struct roar_frame *f, const struct roar_event_ids *ids,
		    pid_t child);

/** exec: the sender (or subject, when not 0: a child the sender spawned)
 *  is about to exec exe with argv (truncated only past the frame's cap);
 *  ppid: the parent of the process the event is about, or 0 to leave it
 *  out (the collector knows it already). */
int roar_event_exec(struct roar_frame *f, const struct roar_event_ids *ids,
		    pid_t subject, pid_t ppid, const char *exe,
		    char *const *argv, double time);

/** Bytes an exec event of exe and argv needs to go out whole. */
size_t roar_event_exec_size(const char *exe, char *const *argv);

/** exec_failed: the exec announced at time returned with err. */
int roar_event_exec_failed(struct roar_frame *f,
			   const struct roar_event_ids *ids, int err,
			   double time);

/** exit: the sender (whose parent is ppid; 0 leaves it out) calls
 *  exit(status), having given its connection's fd back fd_yields times
 *  (0 leaves it out). */
int roar_event_exit(struct roar_frame *f, const struct roar_event_ids *ids,
		    pid_t ppid, int status, double time, uint64_t fd_yields);

/** resume: this new connection goes on with the stream of the image
 *  that counts in ledger slot (the collector credits what follows to it;
 *  an image's first connection begins with its hello instead). */
int roar_event_resume(struct roar_frame *f, const struct roar_event_ids *ids,
		      uint64_t slot);

/** reaped: the sender collected child's raw wait status. */
int roar_event_reaped(struct roar_frame *f, const struct roar_event_ids *ids,
		      pid_t child, int status);

int roar_event_dropped(struct roar_frame *f, const struct roar_event_ids *ids,
		       uint64_t count);

/** pipe: the sender first read (write false) or wrote the pipe or FIFO
 *  ino on dev.  Carries no "path": it is not a file (protocol.h). */
int roar_event_pipe(struct roar_frame *f, const struct roar_event_ids *ids,
		    uint64_t dev, uint64_t ino, bool write);

/** supervise: the sender hands over, with this frame, the listener of the
 *  seccomp filter it installed before it execs exe (include/roar/
 *  supervise.h). */
int roar_event_supervise(struct roar_frame *f, const struct roar_event_ids *ids,
			 const char *exe, double time);

/** unseen: the sender did what (ROAR_UNSEEN_*), whose file I/O is not
 *  seen; err, when not 0, says why ("errno"). */
int roar_event_unseen(struct roar_frame *f, const struct roar_event_ids *ids,
		      const char *what, int err);

#endif /* ROAR_EVENT_H */
