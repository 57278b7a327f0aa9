/* SPDX-License-Identifier: Apache-2.0 */
/*
 * This image's slot in the run's ledger (include/roar/ledger.h): what it
 * made and lost, counted where the collector finds it even if the process
 * dies with its queue full; and the collector's heartbeat, read when a
 * full socket raises the question whether it is worth waiting.  Without
 * a ledger (roar's own listeners, an old collector) every call is a cheap
 * no-op and the wire's "dropped" events carry the counts alone.
 * No malloc; async-signal-safe; raw system calls only (E5).
 */
#ifndef ROAR_PRELOAD_LEDGER_H
#define ROAR_PRELOAD_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/** Create the ledger of a socket we are about to serve (the auto-start
 *  path).  @return 0 or -errno. */
int roar_ledger_create(const char *sock_path);

/** Remove the ledger of a socket (a failed auto-start). */
void roar_ledger_unlink(const char *sock_path);

/** Map the ledger beside sock_path, if there is one, and take a slot. */
void roar_ledger_attach(const char *sock_path);

/** In a new process (the map is inherited): take a slot of its own. */
void roar_ledger_atfork_child(pid_t pid, pid_t ppid);

/** This image's slot, or -1 when it has none. */
int64_t roar_ledger_slot(void);

/** One frame handed to the connection (whatever becomes of it). */
void roar_ledger_made(void);

/** n events that never became a frame. */
void roar_ledger_lost(uint64_t n);

/** n events counted lost by roar_ledger_lost were recorded after all
 *  (a signal handler's parked access, counted lost until drained, so
 *  that one the process never drains is never silently lost). */
void roar_ledger_found(uint64_t n);

/** The collector's heartbeat (ms), or 0 when unknown. */
uint64_t roar_ledger_beat(void);

/** Whether some sender found the collector stalled at its current beat
 *  (then nobody waits for it until it beats again). */
bool roar_ledger_stalled(void);

/** Tell every sender: the collector did not move while its beat was
 *  beat. */
void roar_ledger_declare_stall(uint64_t beat);

#endif /* ROAR_PRELOAD_LEDGER_H */
