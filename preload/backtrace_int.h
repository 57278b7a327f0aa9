/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the three parts of call-site capture tell each other, and nobody
 * else: backtrace.c (the capture, the only caller of the rest),
 * backtrace_modules.c (the module table) and backtrace_unwind.c
 * (libunwind: its load, the rewriting of its imports, the unwinding).
 * Everything here is hidden in the library like all of preload/.
 */
#ifndef ROAR_BACKTRACE_INT_H
#define ROAR_BACKTRACE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "backtrace.h"

/** The slot of the module table that covers ip, or -1.  Lock-free. */
int roar_backtrace_find_mod(uintptr_t ip);

/** The file offset of ip in the module of slot k (from find_mod). */
uint64_t roar_backtrace_mod_offset(int k, uintptr_t ip);

/**
 * Give every address of ips[0..n) that no slot covers a slot, from one
 * pass over /proc/self/maps, noting the new modules in cs.
 */
void roar_backtrace_learn_mods(const uintptr_t *ips, unsigned n,
			       struct roar_callsite *cs);

/** A fork child's module table starts empty (its ids are new). */
void roar_backtrace_mods_reset(void);

/**
 * Make libunwind usable, loading it at the first call (backtrace_unwind.c
 * says when that is not safe).  Must be called with the guard held.
 * @return 0 when it is ready, -EAGAIN (not now) or -ENOSYS (never).
 */
int roar_backtrace_unwind_ready(void);

/**
 * Unwind from the caller: the return addresses (or, after a signal
 * frame, the interrupted address) of up to max frames; exact[i] says
 * which.  Only after roar_backtrace_unwind_ready returned 0.  Takes
 * unwind_lock: must be called with the guard held.
 * @return the number of frames.
 */
int roar_backtrace_unwind(uintptr_t *ips, unsigned max, bool *exact);

/** A fork child's part of libunwind: unwind_lock reset, and what a
 *  thread inside libunwind or loading it at the fork left behind. */
void roar_backtrace_unwind_atfork_child(void);

#endif /* ROAR_BACKTRACE_INT_H */
