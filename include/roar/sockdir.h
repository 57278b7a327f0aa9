/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The names of a run's private socket directory, which the launcher
 * (collector/trace.c) and the library's auto-start (preload/autostart.c,
 * with raw system calls) each make, and the collector removes: one
 * place for them.  The ledger beside the socket is include/roar/ledger.h.
 */
#ifndef ROAR_SOCKDIR_H
#define ROAR_SOCKDIR_H

/** mkdtemp(3) template of a launcher's directory, in $TMPDIR or /tmp. */
#define ROAR_SOCKDIR_TEMPLATE "roar-XXXXXX"
/** An auto-started run's directory: this, the root's pid, "-XXXXXX". */
#define ROAR_SOCKDIR_AUTO_PREFIX "roar-auto-"
/** The socket in it. */
#define ROAR_SOCKDIR_SOCK "sock"

#endif /* ROAR_SOCKDIR_H */
