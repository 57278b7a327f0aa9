/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger: a file beside the collector's socket (its path with
 * ROAR_LEDGER_SUFFIX) that every traced image maps shared, so that what
 * a process meant to send survives the process.  Each image takes a slot
 * and counts in it every frame it hands to its connection ("made") and
 * every event that never became a frame ("lost"); the collector counts
 * the frames it got per slot (a hello names its slot) and, once
 * everybody is gone, knows exactly what never arrived, even from a
 * process that was killed with its queue full, or that never reached the
 * socket at all.  The collector beats in the head, so that a sender
 * finding its socket full can tell a stalled collector from a slow one
 * and stop waiting for it (see the transport).
 *
 * Both sides include this header; the library reaches the file with raw
 * system calls, the collector with pread/pwrite only (it never maps a
 * file that a peer could shrink under it).  All counters are updated with
 * __atomic builtins, across processes.  Nothing here is a trust boundary:
 * a peer that can write the file (same user) can only make the counts
 * wrong, and the collector bounds what it believes.
 */
#ifndef ROAR_LEDGER_H
#define ROAR_LEDGER_H

#include <stdint.h>
#include <string.h>

/** Appended to the socket's path to name the ledger. */
#define ROAR_LEDGER_SUFFIX ".ledger"
#define ROAR_LEDGER_MAGIC 0x31474c52u /* "RLG1", little-endian */
#define ROAR_LEDGER_VERSION 1u
/** Slots in a ledger: images one run may start before the rest fall back
 *  to the "dropped" events of the wire.  The file is sparse: only pages
 *  of slots taken cost memory. */
#define ROAR_LEDGER_SLOTS (1u << 20)
/** Bytes before the first slot (one page: the head is written often). */
#define ROAR_LEDGER_HEAD_SIZE 4096u

/* The hello key naming a slot is protocol.h's ROAR_KEY_LEDGER. */

struct roar_ledger_head {
	uint32_t magic;
	uint32_t version;
	uint32_t nslots;
	uint32_t slot_size;
	uint64_t next;       /* slots taken so far; may exceed nslots */
	uint64_t beat;       /* the collector's last sign of life: its
				CLOCK_MONOTONIC in ms, rewritten as it works */
	uint64_t stalled_at; /* a sender found the collector not moving
				while beat had this value: until beat
				changes, no sender waits for it */
};

struct roar_ledger_slot {
	uint32_t pid;  /* the image's pid (in its own PID namespace) */
	uint32_t ppid; /* its parent's, when it took the slot */
	uint64_t made; /* frames handed to the connection */
	uint64_t lost; /* events that never became a frame */
	uint64_t spare;
};

/** Bytes of a ledger file. */
#define ROAR_LEDGER_SIZE                   \
	((uint64_t)ROAR_LEDGER_HEAD_SIZE + \
	 (uint64_t)ROAR_LEDGER_SLOTS * sizeof(struct roar_ledger_slot))

/** The head a new ledger starts with. */
static inline void
roar_ledger_head_init(struct roar_ledger_head *h)
{
	memset(h, 0, sizeof(*h));
	h->magic = ROAR_LEDGER_MAGIC;
	h->version = ROAR_LEDGER_VERSION;
	h->nslots = ROAR_LEDGER_SLOTS;
	h->slot_size = (uint32_t)sizeof(struct roar_ledger_slot);
}

/** Whether h describes a ledger of this layout. */
static inline int
roar_ledger_head_ok(const struct roar_ledger_head *h)
{
	return h->magic == ROAR_LEDGER_MAGIC &&
	       h->version == ROAR_LEDGER_VERSION &&
	       h->nslots == ROAR_LEDGER_SLOTS &&
	       h->slot_size == sizeof(struct roar_ledger_slot);
}

/** Offset of slot i in the file. */
static inline uint64_t
roar_ledger_slot_offset(uint64_t i)
{
	return (uint64_t)ROAR_LEDGER_HEAD_SIZE +
	       i * (uint64_t)sizeof(struct roar_ledger_slot);
}

#endif /* ROAR_LEDGER_H */
