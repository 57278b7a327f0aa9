/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call sites: the stack of a first access, unwound with libunwind
 * (backtrace_unwind.c) into a fixed array, each address turned into a
 * module id and a file offset through the per-process module table
 * (backtrace_modules.c), skipping our own frames.  The collector learns
 * what an id names from the frame that used it first and symbolizes after
 * the run.  Owns the capture and the ROAR_CALLSITES switch; never sends
 * anything (track_file.c does).
 *
 * Async-signal-safety, step by step:
 *  - The load (dlopen: malloc, the loader lock) is the one part that is
 *    not.  It happens only at a capture on a thread that is not running a
 *    signal handler as far as the kernel can tell: no signal it blocks has
 *    a handler installed (a handler runs with its signal blocked, unless
 *    SA_NODEFER).  Otherwise that capture is skipped (the access is sent
 *    without a stack) and the next one tries again.  Bet: a SA_NODEFER
 *    handler doing the very first file access of its process while the
 *    same thread was inside malloc or the loader could deadlock.
 *  - Once loaded, one warm-up unwind runs at once, so libunwind's own
 *    initialisation (its lock, with signals blocked, and mmap'd pools) is
 *    done outside any handler.  Its global cache is used (a capture costs
 *    about 0.3 us with it, 7 us without): libunwind takes its lock with
 *    every signal blocked, so no handler runs on a thread that holds it;
 *    and unwind_lock (lock.h) keeps all but one thread out of libunwind
 *    and is taken by the atfork prepare handler, so that no fork child
 *    inherits that lock held.  A child made without those handlers (a raw
 *    clone) while a thread was inside libunwind turns the cache off
 *    (UNW_CACHE_NONE takes no lock).  The per-thread cache and
 *    unw_backtrace are not used: they live in libunwind's TLS, which is
 *    dynamic in a dlopen()ed library (malloc at a thread's first touch).
 *  - unw_getcontext, unw_init_local and unw_step on the local address
 *    space are documented as signal-safe; to find unwind tables they call
 *    dl_iterate_phdr, whose lock is recursive, so a handler interrupting
 *    its own thread inside the loader does not deadlock.
 *  - The module table (backtrace_modules.c) is lock-free (slots claimed
 *    with an atomic add, published with a release store), and
 *    /proc/self/maps is read with raw system calls into a stack buffer.
 * Stack use: about 2 KiB of libunwind cursor and context plus 1 KiB for
 * reading maps, on top of the file frame of the caller.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backtrace.h"
#include "backtrace_int.h"

/* Frames of ours a capture can begin with (hook, track, capture). */
#define SKIP_MAX 10

bool roar_backtrace_wanted;

int
roar_backtrace_capture(struct roar_callsite *cs)
{
	uintptr_t ips[ROAR_CALLSITE_DEPTH + SKIP_MAX];
	bool exact[ROAR_CALLSITE_DEPTH + SKIP_MAX];
	uintptr_t self = (uintptr_t)roar_backtrace_capture;
	int self_mod, rc;
	unsigned n, first = 0;
	bool missing = false;

	cs->n = 0;
	cs->nnew = 0;
	if (!roar_backtrace_wanted)
		return -ENOSYS;
	rc = roar_backtrace_unwind_ready();
	if (rc != 0)
		return rc;
	n = (unsigned)roar_backtrace_unwind(ips, ROAR_CALLSITE_DEPTH + SKIP_MAX,
					    exact);
	if (roar_backtrace_find_mod(self) < 0)
		missing = true;
	for (unsigned i = 0; i < n && !missing; i++)
		missing = roar_backtrace_find_mod(ips[i]) < 0;
	if (missing) {
		uintptr_t want[ROAR_CALLSITE_DEPTH + SKIP_MAX + 1];

		memcpy(want, ips, n * sizeof(*ips));
		want[n] = self;
		roar_backtrace_learn_mods(want, n + 1, cs);
		/* Our own mapping is not news to the collector. */
		self_mod = roar_backtrace_find_mod(self);
		for (unsigned i = 0; i < cs->nnew; i++)
			if ((int)cs->mod[i].id == self_mod) {
				cs->mod[i] = cs->mod[--cs->nnew];
				break;
			}
	}
	self_mod = roar_backtrace_find_mod(self);
	while (first < n && first < SKIP_MAX && self_mod >= 0 &&
	       roar_backtrace_find_mod(ips[first]) == self_mod)
		first++;
	for (unsigned i = first; i < n && cs->n < ROAR_CALLSITE_DEPTH; i++) {
		/* A return address is one past its call: look the call up. */
		uintptr_t ip = ips[i] - (exact[i] ? 0 : 1);
		int k = roar_backtrace_find_mod(ip);
		struct roar_callsite_frame *fr = &cs->frame[cs->n++];

		if (k < 0) {
			fr->module = ROAR_CALLSITE_NO_MODULE;
			fr->offset = ip;
		} else {
			fr->module = (uint32_t)k;
			fr->offset = roar_backtrace_mod_offset(k, ip);
		}
	}
	return 0;
}

void
roar_backtrace_init(void)
{
	const char *v = getenv("ROAR_CALLSITES");

#ifdef ROAR_HAVE_UNWIND
	/* Off unless asked for: a process's first capture loads libunwind
	 * and reads its module map, which a tree of many short processes
	 * pays in each of them (bench/run: wide tree 1.23x on/off). */
	roar_backtrace_wanted = v && *v && strcmp(v, "0") != 0;
#else
	(void)v;
	roar_backtrace_wanted = false;
#endif
}

size_t
roar_backtrace_frame_bytes(const struct roar_callsite *cs)
{
	size_t n = 32;

	if (!cs)
		return 0;
	n += cs->n * 16u;
	for (unsigned i = 0; i < cs->nnew; i++)
		n += cs->mod[i].len + 16u;
	return n;
}

void
roar_backtrace_atfork_child(void)
{
	roar_backtrace_mods_reset();
	roar_backtrace_unwind_atfork_child();
}
