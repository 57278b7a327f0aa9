/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A path made absolute against the working directory, for both sides:
 * the launcher's report path and the library's auto-start report path
 * (getcwd and snprintf are not hooked, so the library may use them in
 * its constructor).  Header only.
 */
#ifndef ROAR_PATH_H
#define ROAR_PATH_H

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

/**
 * path, absolute, into out.  A relative path whose absolute form does
 * not fit (or when the working directory is gone) is kept as it is:
 * still the file the user named, from where we stand.
 */
static inline void
roar_path_absolute(const char *path, char *out, size_t cap)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		n = snprintf(out, cap, "%s", path);
	else
		n = snprintf(out, cap, "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= cap)
		snprintf(out, cap, "%s", path);
}

#endif /* ROAR_PATH_H */
