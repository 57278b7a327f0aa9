/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plain `LD_PRELOAD=libroar_preload.so cmd` with no collector set up: the
 * first traced process starts one itself.
 */
#ifndef ROAR_AUTOSTART_H
#define ROAR_AUTOSTART_H

/**
 * Create a private socket directory, listen there, and start
 * roar-collector detached (double fork) on that socket with this process
 * as the root; export ROAR_PRELOAD_TRACE_SOCK for the children.  The
 * report goes to $ROAR_REPORT, else ./roar-report.msgpack.  Called from
 * the constructor only (it allocates).
 * @return the socket path (static storage), or NULL with a message on
 *         stderr when no collector could be started.
 */
const char *roar_autostart(char **argv, char **envp);

#endif /* ROAR_AUTOSTART_H */
