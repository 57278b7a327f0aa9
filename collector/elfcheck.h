/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Why a program cannot be traced by LD_PRELOAD: statically linked (no
 * PT_INTERP, so no dynamic loader reads LD_PRELOAD) or set-user/group-ID
 * (the loader's secure mode drops it).  Used for the report's untraced
 * processes and for --preflight --command.
 */
#ifndef ROAR_ELFCHECK_H
#define ROAR_ELFCHECK_H

#include <stdbool.h>
#include <stddef.h>

enum roar_elf_verdict {
	ROAR_ELF_DYNAMIC = 0, /* preload can reach it */
	ROAR_ELF_STATIC,
	ROAR_ELF_SETID,
	ROAR_ELF_SCRIPT, /* #! script: its interpreter decides */
	ROAR_ELF_NOT_FOUND,
	ROAR_ELF_UNREADABLE,
	ROAR_ELF_NOT_ELF,
};

/**
 * Inspect the program at path.
 * @param path the program; resolved like execvp when it has no slash
 * @param path_var the PATH to search (NULL: the default)
 * @param cwd directory for a relative path (NULL: ours)
 * @param resolved receives the file inspected (may be NULL)
 * @param cap size of resolved
 */
enum roar_elf_verdict roar_elf_inspect(const char *path, const char *path_var,
				       const char *cwd, char *resolved,
				       size_t cap);

/** Human words for a verdict about program name. */
void roar_elf_describe(enum roar_elf_verdict v, const char *name, char *buf,
		       size_t cap);

/** Fill buf with why the exec of path was never heard back from. */
void roar_elf_why_untraceable(const char *path, const char *path_var,
			      const char *cwd, char *buf, size_t cap);

#endif /* ROAR_ELFCHECK_H */
