/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the collector keeps, and how much of it: the caps that bound its
 * memory and file descriptors whatever its senders do, and the counts of
 * what those caps cost, so that nothing is lost without a mark in the
 * report.
 *
 * Memory.  One frame is at most ROAR_FRAME_MAX_PAYLOAD (protocol.h).  A
 * connection buffers a frame only while it is incomplete, and only as
 * much of it as has arrived; all such buffers together stay within
 * ROAR_CONN_BUDGET (conn.h says what happens at the edge).  What a hello
 * or exec event carries is kept up to ROAR_CAP_LIST_ENTRIES entries per
 * list and ROAR_CAP_IMAGE_BYTES bytes per image; the rest is cut and the
 * process marked truncated.  Each kept entry costs its bytes plus about 48
 * (a roar_bytes and a malloc chunk), so one image stays under
 * 2 * 64 Ki * 48 + 4 MiB, about 10 MiB, and five hellos of a million
 * environment entries each take some 30 MiB where they took 306.  The
 * images of one process together stay under ROAR_CAP_PROC_IMAGE_BYTES:
 * older ones go first, as ROAR_MERGE_MAX_HISTORY drops them by count.
 *
 * File descriptors.  The collector raises its own soft RLIMIT_NOFILE to
 * the hard limit; when accept still fails for want of descriptors, see
 * collect.c ("Out of descriptors").
 */
#ifndef ROAR_CAPS_H
#define ROAR_CAPS_H

#include <stdint.h>

/** Bytes of receive buffer for incomplete frames, all connections. */
#define ROAR_CONN_BUDGET (128u * 1024u * 1024u)

/** argv or env entries kept of one image or exec attempt. */
#define ROAR_CAP_LIST_ENTRIES 65536u

/** Bytes of argv and env strings kept of one image or exec attempt. */
#define ROAR_CAP_IMAGE_BYTES (4u * 1024u * 1024u)

/** Bytes of argv and env strings kept over all images of one process. */
#define ROAR_CAP_PROC_IMAGE_BYTES (32u * 1024u * 1024u)

/* What the caps cost in one run; reported (report.c). */
struct roar_limits {
	/* Connections closed unread or part-read for want of descriptors:
	 * their senders' later events are lost (and cannot say so). */
	uint64_t connections_refused;
	/* Incomplete frames thrown away to keep ROAR_CONN_BUDGET, and how
	 * many of their bytes had arrived.  Each is a bad frame too. */
	uint64_t frames_torn;
	uint64_t bytes_torn;
	/* argv and env lists the collector cut to its caps. */
	uint64_t lists_truncated;
};

#endif /* ROAR_CAPS_H */
