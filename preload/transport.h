/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one connection of a process to its collector: connects lazily,
 * keeps its fd out of the program's way (high number, close-on-exec),
 * sends whole frames without ever interleaving threads, and never blocks
 * the program for long nor raises SIGPIPE.  No malloc; async-signal-safe.
 */
#ifndef ROAR_TRANSPORT_H
#define ROAR_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Remember the socket path (copied).  NULL or "" disables sending. */
void roar_transport_init(const char *sock_path);

/**
 * Send one finished frame.  When the collector is not reachable yet the
 * frame waits in a static queue and goes out on a later send; when the
 * collector is slow, the sender waits for it (lock released) up to a
 * short budget once, then queues without waiting, and drops and counts
 * what the queue cannot hold.  Must be called with the guard held.
 * @return 0 when sent or queued, else -errno.
 */
int roar_transport_send(const void *frame, size_t len);

/** The next frame sent is this image's hello, which names its ledger
 *  slot itself (no resume frame needed before it).  Guard held. */
void roar_transport_hello_next(void);

/**
 * Keep one finished frame to go out with the next frame sent (or at the
 * next flush: exec, exit, a handover), for news that nobody waits for.
 * Must be called with the guard held.
 */
void roar_transport_send_later(const void *frame, size_t len);

/**
 * Send one frame on a connection of its own, opened and closed here.  For
 * code that may run in a vfork child or a process we did not see being
 * created: touches no shared state but the drop counter.
 */
int roar_transport_send_oneshot(const void *frame, size_t len);

/** True when fd is the connection's fd (the program must never get it). */
bool roar_transport_owns_fd(int fd);

/**
 * Move the connection off fd, which the program is about to take (dup2
 * onto it).  @return 0 or -errno.
 */
int roar_transport_vacate(int fd);

/** The connection's fd, or -1. */
int roar_transport_fd(void);

/**
 * The program closed or replaced fd behind our back (a raw system call):
 * if it was our connection, forget it without closing the number, which
 * may already be the program's; reconnect on the next event.
 */
void roar_transport_fd_lost(int fd);

/**
 * on: the program ran out of fds and our connection holds one: push what
 * the socket takes now without waiting, close the connection and stay
 * unconnected ("starved"), frames waiting in the queue, for a second
 * (a program that lives at its limit then gives it back again) or until
 * off.
 * off: connect again at the next send (the end of the image: exit, exec).
 * Must be called with the guard held.  @return 0, or -EBADF when on and
 * there was no connection to give back.
 */
int roar_transport_starve(bool on);

/** Events this process lost so far. */
uint64_t roar_transport_dropped(void);

/** Count one lost event (the frame could not even be built). */
void roar_transport_count_drop(void);

/** Before a fork: take send_lock (last in the order of lock.h). */
void roar_transport_prepare(void);

/** After a fork, in the parent: release send_lock. */
void roar_transport_parent(void);

/** In a new process: reset the lock, forget the parent's connection and
 *  queue (never write to the inherited stream). */
void roar_transport_atfork_child(bool shares_fds);

/**
 * Before an exec in this process: send what waits, and let the connection
 * live on into the new image (close-on-exec cleared), which adopts it
 * instead of connecting anew.  Returns with send_lock held, so that no
 * other thread starts a frame the exec would tear; the exec must follow,
 * and roar_transport_handover_failed if it returns.
 * @return its fd, or -1 when there is none (the new image connects
 * itself).
 */
int roar_transport_handover(void);

/** The exec failed: the connection is close-on-exec again, and
 *  send_lock is released. */
void roar_transport_handover_failed(void);

/**
 * In a new image's constructor: take fd, handed over by the image before
 * it, as the connection, if it is a socket connected to our collector.
 */
void roar_transport_adopt(int fd);

/**
 * In a new image's constructor: fd was handed over to another process's
 * image (one that did not load us, so kept it open): close our copy if it
 * is a connection to our collector, never write to it.
 */
void roar_transport_disown(int fd);

/** Close the connection (tests, and the end of a process). */
void roar_transport_close(void);

#endif /* ROAR_TRANSPORT_H */
