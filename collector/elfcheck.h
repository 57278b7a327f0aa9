/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's words about a program, over include/roar/image.h
 * (which decides who can trace it): why an exec was never heard back
 * from, for the report's untraced processes (merge_diagnose.c), and
 * preflight's two checks of a command (main_launcher.c).  It keeps
 * image.h out of the files that include merge.h, which has a struct
 * roar_image of its own.
 */
#ifndef ROAR_ELFCHECK_H
#define ROAR_ELFCHECK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/**
 * Fill buf with why the exec of path was never heard back from: what
 * keeps preload out of the program ("static binary: /bin/x",
 * "setuid/setgid program: /bin/x", "Go program: /bin/x", ...), or that
 * its image never announced itself.
 * @param path the program; resolved like execvp when it has no slash
 * @param path_var the PATH it was searched in (NULL: execvp's default)
 * @param cwd the directory relative names were taken in (NULL: ours)
 */
void roar_elf_why_untraceable(const char *path, const char *path_var,
			      const char *cwd, char *buf, size_t cap);

/** Preflight's view of a command. */
struct roar_elf_command {
	bool found;     /* execvp finds it and may execute it */
	bool traceable; /* preload or the seccomp supervisor traces it */
	char found_detail[PATH_MAX + 256];
	char trace_detail[PATH_MAX + 256];
};

/** Look command up on path_var (NULL: execvp's default) and say both. */
void roar_elf_check_command(const char *command, const char *path_var,
			    struct roar_elf_command *out);

#endif /* ROAR_ELFCHECK_H */
