/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pending slots of park.h.  Producers run in signal handlers with the
 * guard held by the code they interrupted: they touch nothing but this
 * thread's ring, make only async-signal-safe system calls, and never take
 * a lock (the interrupted code may hold it).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "roar/protocol.h"
#include "fdtable.h"
#include "ledger.h"
#include "park.h"
#include "real.h"
#include "track.h"
#include "transport.h"

__thread struct roar_park roar_park_tls
	__attribute__((tls_model("initial-exec")));

#define RING_BYTES (ROAR_PARK_SLOTS * sizeof(struct roar_park_slot))
#define MAP_BYTES (RING_BYTES + ROAR_PARK_ARENA)

/* The ring of this thread, mapped at its first park (most threads never
 * park: they pay a few words of TLS, not the slots). */
static struct roar_park_slot *
ring(void)
{
	struct roar_park_slot *s = atomic_load(&roar_park_tls.slots), *none;

	if (ROAR_LIKELY(s))
		return s;
	s = roar_map_anon(MAP_BYTES);
	if (!s)
		return NULL;
	none = NULL;
	/* A nested handler may have mapped it meanwhile: keep the first. */
	if (!atomic_compare_exchange_strong(&roar_park_tls.slots, &none, s)) {
		ROAR_SYS(SYS_munmap, s, MAP_BYTES);
		s = none;
	}
	return s;
}

static char *
arena(struct roar_park_slot *slots)
{
	return (char *)slots + RING_BYTES;
}

/* Room for one name (PATH_MAX) at *off; false when the arena is full. */
static bool
reserve(uint32_t *off)
{
	uint32_t u = atomic_load(&roar_park_tls.used);

	do {
		if (u + PATH_MAX > ROAR_PARK_ARENA)
			return false;
	} while (!atomic_compare_exchange_weak(&roar_park_tls.used, &u,
					       u + PATH_MAX));
	*off = u;
	return true;
}

/* Keep len bytes of the room at off: the rest goes back unless a nested
 * handler took room after it meanwhile. */
static void
give_back(uint32_t off, uint32_t len)
{
	uint32_t end = off + PATH_MAX;

	atomic_compare_exchange_strong(&roar_park_tls.used, &end, off + len);
}

/* A slot for a new access, its ticket in *ticket; NULL (counted as a
 * drop) when the ring is full. */
static struct roar_park_slot *
take_slot(unsigned *ticket)
{
	struct roar_park_slot *slots = ring();
	unsigned t;

	if (!slots) {
		roar_transport_count_drop();
		return NULL;
	}
	/* Lost until recorded: an exec or a crash before the drain must
	 * not lose it silently (the ledger survives the image).  Counted
	 * before the ticket, so that a fork in between (a nested handler)
	 * leaves no count in the child for a ticket the child never had. */
	roar_ledger_lost(1);
	t = atomic_load(&roar_park_tls.head);
	do {
		if (t - roar_park_tls.tail >= ROAR_PARK_SLOTS) {
			/* Lost for good: counted once, as any drop (the
			 * ledger's provisional count is taken back). */
			roar_ledger_found(1);
			roar_transport_count_drop();
			return NULL;
		}
	} while (!atomic_compare_exchange_weak(&roar_park_tls.head, &t, t + 1));
	*ticket = t;
	return &slots[t % ROAR_PARK_SLOTS];
}

static void
publish(struct roar_park_slot *s, unsigned ticket)
{
	atomic_store_explicit(&s->seq, ticket + 1, memory_order_release);
}

/* The newest parked open of fd not closed since, or NULL. */
static struct roar_park_slot *
find_open(int fd)
{
	struct roar_park_slot *slots = atomic_load(&roar_park_tls.slots);
	unsigned head = atomic_load(&roar_park_tls.head);

	if (!slots)
		return NULL;
	for (unsigned t = head; t != roar_park_tls.tail; t--) {
		struct roar_park_slot *s = &slots[(t - 1) % ROAR_PARK_SLOTS];

		/* Not yet filled, or being recorded now: not ours to change. */
		if (atomic_load(&s->seq) != t)
			continue;
		if (s->kind == ROAR_PARK_OPEN && s->fd == fd)
			return s->closed ? NULL : s;
	}
	return NULL;
}

/* Name fd into s now: it may be closed before the slot is read.  No
 * name: not a file for the report, or no room (then counted). */
static void
name_into(struct roar_park_slot *s, int fd)
{
	struct stat st;
	ssize_t len;
	uint32_t off;

	s->len = 0;
	if (ROAR_SYS(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if (!reserve(&off)) {
		roar_transport_count_drop();
		return;
	}
	len = roar_fdtable_read_name(
		fd, &st, arena(atomic_load(&roar_park_tls.slots)) + off,
		PATH_MAX);
	give_back(off, len > 0 ? (uint32_t)len : 0);
	if (len > 0) {
		s->off = off;
		s->len = (uint32_t)len;
	}
}

void
roar_park_open(int fd, int flags, bool created)
{
	struct roar_park_slot *s;
	unsigned t;

	if (fd < 0 || !(s = take_slot(&t)))
		return;
	s->kind = ROAR_PARK_OPEN;
	s->fd = fd;
	s->closed = false;
	s->credit = (unsigned char)roar_track_open_credit(flags, created);
	name_into(s, fd);
	publish(s, t);
}

void
roar_park_credit(int fd, unsigned credit)
{
	struct roar_park_slot *s = find_open(fd);
	struct stat st;
	unsigned t;

	if (s) {
		s->credit |= (unsigned char)credit;
		return;
	}
	/* Pipes, sockets and ttys earn nothing: no slot for them. */
	if (fd < 0 || ROAR_SYS(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if (!(s = take_slot(&t)))
		return;
	s->kind = ROAR_PARK_CREDIT;
	s->fd = fd;
	s->credit = (unsigned char)credit;
	name_into(s, fd);
	publish(s, t);
}

void
roar_park_forget(int fd)
{
	struct roar_park_slot *s = find_open(fd);
	unsigned t;

	/* Recording that open forgets the fd slot anyway. */
	if (s) {
		s->closed = true;
		return;
	}
	if (fd < 0 || !(s = take_slot(&t)))
		return;
	s->kind = ROAR_PARK_FORGET;
	s->fd = fd;
	s->len = 0;
	publish(s, t);
}

void
roar_park_lost(void)
{
	roar_transport_count_drop();
}

/*
 * All recorded: the arena starts over.  A handler that takes a ticket
 * before the look at head keeps the arena as it is; one that takes room
 * between that look and the reset makes the reset fail (used moved);
 * one that takes room after it takes it from the start, which is free.
 */
static void
reset_arena(void)
{
	uint32_t used = atomic_load(&roar_park_tls.used);

	if (used && atomic_load(&roar_park_tls.head) == roar_park_tls.tail)
		atomic_compare_exchange_strong(&roar_park_tls.used, &used, 0);
}

bool
roar_park_drain(void)
{
	struct roar_park_slot *slots = atomic_load(&roar_park_tls.slots);
	bool progress = false;

	while (slots &&
	       roar_park_tls.tail != atomic_load(&roar_park_tls.head)) {
		unsigned t = roar_park_tls.tail;
		struct roar_park_slot *s = &slots[t % ROAR_PARK_SLOTS];

		unsigned want = t + 1;

		/* Claimed before it is read, so that a handler that fires
		 * now parks its credits in a slot of their own.  Only a
		 * slot that holds ticket t is claimed: a failed claim must
		 * never wipe what a producer published. */
		if (!atomic_compare_exchange_strong(&s->seq, &want, 0))
			break;
		if (s->kind != ROAR_PARK_FORGET && s->len)
			roar_track_parked(
				arena(slots) + s->off, s->len, s->credit,
				s->kind == ROAR_PARK_OPEN ? ROAR_VIA_OPEN
							  : NULL);
		/* What the fd names is learnt again at its next use: the
		 * handler may have closed it, or the code it interrupted
		 * may have stored a name the handler made stale. */
		if (s->kind != ROAR_PARK_CREDIT)
			roar_track_forget(s->fd);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		roar_park_tls.tail = t + 1;
		roar_ledger_found(1);
		progress = true;
	}
	reset_arena();
	return progress;
}

void
roar_park_atfork_child(void)
{
	/* Only the forking thread lives on; its slots speak for the parent
	 * (which records them itself). */
	roar_park_tls.tail = atomic_load(&roar_park_tls.head);
	atomic_store(&roar_park_tls.used, 0);
}
