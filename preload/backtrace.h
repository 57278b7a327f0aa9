/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call sites (README "Call sites"): the stack of the first access of each
 * (path, kind) in a process, as module + file offset pairs, captured with
 * libunwind into a caller's fixed buffer.  No malloc, no stdio, no lock;
 * see backtrace.c for what is and is not async-signal-safe.
 */
#ifndef ROAR_BACKTRACE_H
#define ROAR_BACKTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roar/protocol.h"

/* Frames kept per call site, our own not counted. */
#define ROAR_CALLSITE_DEPTH 16
/* Modules one capture may name for the first time. */
#define ROAR_CALLSITE_NEW_MAX 8
/* Module id of a frame whose address is in no mapping we could read;
 * its offset is then the raw address. */
#define ROAR_CALLSITE_NO_MODULE ROAR_STACK_NO_MODULE

struct roar_callsite_frame {
	uint32_t module; /* id in this image's module table */
	uint64_t offset; /* file offset of the call in that module */
};

struct roar_callsite_module {
	uint32_t id;
	const char *name; /* in the module table's own storage */
	size_t len;
};

/* One captured stack, innermost frame first. */
struct roar_callsite {
	unsigned n;
	struct roar_callsite_frame frame[ROAR_CALLSITE_DEPTH];
	/* Modules first seen by this capture: its frame defines them. */
	unsigned nnew;
	struct roar_callsite_module mod[ROAR_CALLSITE_NEW_MAX];
};

/** Whether call sites are wanted: built in and ROAR_CALLSITES is not 0. */
extern bool roar_backtrace_wanted;

/** Read ROAR_CALLSITES; from the constructor only (it calls getenv). */
void roar_backtrace_init(void);

/**
 * Capture the caller's stack into cs, skipping our own frames.  Must be
 * called with the guard held.  @return 0, or -errno (-ENOSYS: libunwind
 * is not there or not loaded yet, -EAGAIN: not now).
 */
int roar_backtrace_capture(struct roar_callsite *cs);

/** Bytes the keys of cs add to a file event (an upper bound). */
size_t roar_backtrace_frame_bytes(const struct roar_callsite *cs);

/** A fork child starts with an empty module table (its ids are new),
 *  and unwind_lock reset. */
void roar_backtrace_atfork_child(void);

/** The atfork prepare and parent handlers' part: unwind_lock (lock.h). */
void roar_backtrace_prepare(void);
void roar_backtrace_parent(void);

#endif /* ROAR_BACKTRACE_H */
