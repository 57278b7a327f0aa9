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
 * frame waits in a small static queue and goes out on a later send; when
 * that is full, or the collector is stalled past a short budget, the frame
 * is dropped and counted.  @return 0 when sent or queued, else -errno.
 */
int roar_transport_send(const void *frame, size_t len);

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

/** Events this process lost so far. */
uint64_t roar_transport_dropped(void);

/** Count one lost event (the frame could not even be built). */
void roar_transport_count_drop(void);

/** In a fork child: forget the parent's connection and queue. */
void roar_transport_atfork_child(void);

/** Close the connection (tests, and the end of a process). */
void roar_transport_close(void);

#endif /* ROAR_TRANSPORT_H */
