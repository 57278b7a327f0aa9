/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names longer than the kernel will say.  readlink of /proc/self/fd/N
 * and getcwd give up with ENAMETOOLONG past PATH_MAX, yet a relative open
 * below a deep working directory names a file whose absolute name is
 * longer: such a file is named here from what the open was given (its
 * directory and last component) and a walk up the directory tree.
 * Rare, so it may be slow; async-signal-safe (raw calls, no malloc).
 */
#ifndef ROAR_LONGPATH_H
#define ROAR_LONGPATH_H

#include <sys/stat.h>
#include <sys/types.h>

/** Longest name built (a mapping of this size is the work buffer). */
#define ROAR_LONGPATH_MAX (64 * 1024)

/**
 * The absolute name of the file st describes, which the caller reached by
 * path relative to dirfd (AT_FDCWD or a directory), into buf (cap bytes,
 * at least 2 * PATH_MAX + 8192; clobbered whole).  The last component must
 * name the file itself (not a symbolic link to it).
 * @return the name's length (buf is NUL-terminated), or -errno:
 *         -ENOENT when the name no longer leads to st's file, -ENAMETOOLONG
 *         when it does not fit, or what a call along the walk failed with
 */
ssize_t roar_longpath_name(int dirfd, const char *path, const struct stat *st,
			   char *buf, size_t cap);

#endif /* ROAR_LONGPATH_H */
