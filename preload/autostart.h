/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plain `LD_PRELOAD=libroar_preload.so cmd` with no collector set up: the
 * first traced process starts one itself.
 */
#ifndef ROAR_AUTOSTART_H
#define ROAR_AUTOSTART_H

/**
 * Create a private socket directory named for this process (the root),
 * listen there (with the ledger beside the socket), and start
 * roar-collector detached (double fork) on that socket with this process
 * as the root.  The environment is left alone: children get the socket's
 * variable from the exec hooks (track_proc.c).  The report goes to
 * $ROAR_REPORT, else ./roar-report.msgpack.  Called from the constructor
 * only (it allocates).
 * @return the socket path (static storage), or NULL with a message on
 *         stderr when no collector could be started.
 */
const char *roar_autostart(char **envp);

/**
 * Learn from the socket path whether this process is the root of an
 * auto-started session (autostart.c says how), and how long it would
 * wait for the report.  Called once per image, from the constructor.
 */
void roar_autostart_note(const char *sock);

/**
 * At the exit of the root of an auto-started session, after its last
 * event was sent and its connection closed: wait, bounded, until the
 * collector has written the report.  Anybody else returns at once.  Raw
 * system calls only, no heap; errno is kept.
 */
void roar_autostart_wait(void);

#endif /* ROAR_AUTOSTART_H */
