/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads an executable's ELF header and program headers to tell a static
 * binary from a dynamic one, and its mode bits for set-ID.  Reads files
 * only; never executes anything.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfcheck.h"

static bool
resolve(const char *path, const char *path_var, const char *cwd, char *out,
	size_t cap)
{
	if (strchr(path, '/')) {
		if (path[0] == '/' || !cwd)
			snprintf(out, cap, "%s", path);
		else
			snprintf(out, cap, "%s/%s", cwd, path);
		return access(out, F_OK) == 0;
	}
	if (!path_var)
		path_var = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path_var;;) {
		size_t n = strcspn(p, ":");

		if (n == 0)
			snprintf(out, cap, "%s/%s", cwd ? cwd : ".", path);
		else
			snprintf(out, cap, "%.*s/%s", (int)n, p, path);
		if (access(out, X_OK) == 0)
			return true;
		if (!p[n])
			break;
		p += n + 1;
	}
	return false;
}

static enum roar_elf_verdict
inspect_fd(int fd)
{
	unsigned char ident[EI_NIDENT];
	Elf64_Ehdr eh;
	ssize_t n = pread(fd, &eh, sizeof(eh), 0);

	if (n >= 2 && ((char *)&eh)[0] == '#' && ((char *)&eh)[1] == '!')
		return ROAR_ELF_SCRIPT;
	if (n < (ssize_t)EI_NIDENT)
		return ROAR_ELF_NOT_ELF;
	memcpy(ident, &eh, EI_NIDENT);
	if (memcmp(ident, ELFMAG, SELFMAG))
		return ROAR_ELF_NOT_ELF;
	if (ident[EI_CLASS] == ELFCLASS64) {
		if (n < (ssize_t)sizeof(eh))
			return ROAR_ELF_NOT_ELF;
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;

			if (pread(fd, &ph, sizeof(ph),
				  (off_t)(eh.e_phoff +
					  (Elf64_Off)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				return ROAR_ELF_NOT_ELF;
			if (ph.p_type == PT_INTERP)
				return ROAR_ELF_DYNAMIC;
		}
		return ROAR_ELF_STATIC;
	}
	if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr e32;

		if (pread(fd, &e32, sizeof(e32), 0) != (ssize_t)sizeof(e32))
			return ROAR_ELF_NOT_ELF;
		for (unsigned i = 0; i < e32.e_phnum; i++) {
			Elf32_Phdr ph;

			if (pread(fd, &ph, sizeof(ph),
				  (off_t)(e32.e_phoff +
					  (Elf32_Off)i * e32.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				return ROAR_ELF_NOT_ELF;
			if (ph.p_type == PT_INTERP)
				return ROAR_ELF_DYNAMIC;
		}
		return ROAR_ELF_STATIC;
	}
	return ROAR_ELF_NOT_ELF;
}

enum roar_elf_verdict
roar_elf_inspect(const char *path, const char *path_var, const char *cwd,
		 char *resolved, size_t cap)
{
	char buf[PATH_MAX * 2];
	struct stat st;
	enum roar_elf_verdict v;
	int fd;

	if (!path || !*path)
		return ROAR_ELF_NOT_FOUND;
	if (!resolve(path, path_var, cwd, buf, sizeof(buf)))
		return ROAR_ELF_NOT_FOUND;
	if (resolved)
		snprintf(resolved, cap, "%s", buf);
	if (stat(buf, &st) != 0)
		return ROAR_ELF_NOT_FOUND;
	if (st.st_mode & (S_ISUID | S_ISGID))
		return ROAR_ELF_SETID;
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ROAR_ELF_UNREADABLE;
	v = inspect_fd(fd);
	close(fd);
	return v;
}

void
roar_elf_describe(enum roar_elf_verdict v, const char *name, char *buf,
		  size_t cap)
{
	switch (v) {
	case ROAR_ELF_DYNAMIC:
		snprintf(buf, cap,
			 "%s is dynamically linked: preload can trace it",
			 name);
		break;
	case ROAR_ELF_STATIC:
		snprintf(buf, cap,
			 "%s is statically linked: LD_PRELOAD cannot reach it, "
			 "so its file accesses are not seen",
			 name);
		break;
	case ROAR_ELF_SETID:
		snprintf(buf, cap,
			 "%s is set-user-ID or set-group-ID: the loader drops "
			 "LD_PRELOAD, so its file accesses are not seen",
			 name);
		break;
	case ROAR_ELF_SCRIPT:
		snprintf(buf, cap,
			 "%s is a script: traced when its interpreter is "
			 "dynamically linked",
			 name);
		break;
	case ROAR_ELF_NOT_FOUND:
		snprintf(buf, cap, "%s was not found", name);
		break;
	case ROAR_ELF_UNREADABLE:
		snprintf(buf, cap,
			 "%s cannot be read to check how it is linked", name);
		break;
	case ROAR_ELF_NOT_ELF:
		snprintf(buf, cap, "%s is not an ELF program", name);
		break;
	}
}

void
roar_elf_why_untraceable(const char *path, const char *path_var,
			 const char *cwd, char *buf, size_t cap)
{
	char resolved[PATH_MAX * 2];
	enum roar_elf_verdict v = roar_elf_inspect(path, path_var, cwd,
						   resolved, sizeof(resolved));

	switch (v) {
	case ROAR_ELF_STATIC:
		snprintf(buf, cap, "static binary: %s", resolved);
		break;
	case ROAR_ELF_SETID:
		snprintf(buf, cap, "setuid/setgid program: %s", resolved);
		break;
	default:
		snprintf(buf, cap,
			 "exec of %s was never announced by the new image "
			 "(LD_PRELOAD removed, or a loader that ignores it)",
			 path ? path : "?");
		break;
	}
}
