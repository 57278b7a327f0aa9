/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipes of a run (protocol.h "Pipes"): which processes wrote and
 * which read each pipe or FIFO, so that `cat a | sort > b` is a path
 * from a to b in the report and not only two processes side by side.
 * Kept apart from the file table: a pipe is no file, and roar, which
 * reads "files", must never see one there.
 */
#ifndef ROAR_PIPES_H
#define ROAR_PIPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#include "caps.h"
#include "util.h"

/** Pipes one run keeps; a sender inventing more gets them counted in
 *  lists_truncated, not kept. */
#define ROAR_CAP_PIPES 65536u
/** Writers (and, apart, readers) kept of one pipe. */
#define ROAR_CAP_PIPE_ENDS 4096u

struct roar_pipe {
	uint64_t dev;
	uint64_t ino;
	pid_t *writers;
	size_t nwriters;
	pid_t *readers;
	size_t nreaders;
};

struct roar_pipes {
	struct roar_map by_id; /* hash of (dev, ino), probed -> index + 1 */
	struct roar_pipe **list;
	size_t n;
};

void roar_pipes_init(struct roar_pipes *ps);
void roar_pipes_free(struct roar_pipes *ps);

/**
 * pid wrote (write) or read the pipe ino on dev.  Repeats are kept once.
 * limits counts what the caps above cost.
 */
void roar_pipes_add(struct roar_pipes *ps, uint64_t dev, uint64_t ino,
		    pid_t pid, bool write, struct roar_limits *limits);

/**
 * Apply a decoded pipe event of pid (its "pipe", "dev" and "dir").
 * @return 0, or -EINVAL when it is malformed
 */
int roar_pipes_event(struct roar_pipes *ps, const msgpack_object *ev, pid_t pid,
		     struct roar_limits *limits);

/**
 * Pack the report's "pipes": an array of maps {id: "pipe:[INODE]",
 * inode, dev, writers: [pid], readers: [pid]}, sorted by inode, pids
 * ascending.
 */
void roar_pipes_pack(const struct roar_pipes *ps, msgpack_packer *pk);

#endif /* ROAR_PIPES_H */
