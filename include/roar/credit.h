/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an open earns, by roar's rules (docs/roar-compat.md, "What counts"),
 * for both tracers: the library's open hooks and the collector's seccomp
 * supervisor judge an open by this one function.
 */
#ifndef ROAR_CREDIT_H
#define ROAR_CREDIT_H

#include <fcntl.h>
#include <stdbool.h>

/* Credit bits. */
#define ROAR_CREDIT_READ 1u
#define ROAR_CREDIT_WRITE 2u

/**
 * The credit an open with these flags earns at once (0: none yet).
 * created: the open made the file.  Write-only, truncating, appending,
 * creating (or exclusive-creating) opens are writes; read-only ones are
 * reads; O_RDWR alone earns nothing until bytes move.
 */
static inline unsigned
roar_open_credit(int flags, bool created)
{
	int acc = flags & O_ACCMODE;

	if (acc == O_WRONLY || (flags & (O_TRUNC | O_APPEND)) || created ||
	    ((flags & O_CREAT) && (flags & O_EXCL)))
		return ROAR_CREDIT_WRITE;
	if (acc == O_RDONLY)
		return ROAR_CREDIT_READ;
	return 0;
}

#endif /* ROAR_CREDIT_H */
