/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exported shims of the calls on names: the mkstemp family (glibc opens
 * the file through an internal alias, so the creation is invisible to the
 * open hooks), rename and link (the target becomes written), truncate.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "hook.h"

#define CREATED_FLAGS (O_RDWR | O_CREAT | O_EXCL)

/*
 * A failed mkstemp leaves the template's Xs overwritten, and a template
 * without them is EINVAL: the retry after giving our fd back
 * (roar_hook_fd_retry) starts from a copy taken before the call.
 */
#define MKSTEMP_HOOK(name, params, args)                                   \
	ROAR_EXPORT int name params                                        \
	{                                                                  \
		char saved_[PATH_MAX];                                     \
		size_t len_ = strnlen(tmpl, sizeof(saved_));               \
		int ret;                                                   \
		if (len_ < sizeof(saved_))                                 \
			memcpy(saved_, tmpl, len_);                        \
		ret = ROAR_REAL(name) args;                                \
		if (ret < 0 && len_ < sizeof(saved_) &&                    \
		    roar_hook_fd_retry()) {                                \
			memcpy(tmpl, saved_, len_);                        \
			ret = ROAR_REAL(name) args;                        \
		}                                                          \
		if (ret >= 0)                                              \
			ROAR_AFTER_PARK(                                   \
				roar_track_open(ret, CREATED_FLAGS, true), \
				roar_park_open(ret, CREATED_FLAGS, true)); \
		return ret;                                                \
	}

MKSTEMP_HOOK(mkstemp, (char *tmpl), (tmpl))
MKSTEMP_HOOK(mkstemp64, (char *tmpl), (tmpl))
MKSTEMP_HOOK(mkostemp, (char *tmpl, int flags), (tmpl, flags))
MKSTEMP_HOOK(mkostemp64, (char *tmpl, int flags), (tmpl, flags))
MKSTEMP_HOOK(mkstemps, (char *tmpl, int suffixlen), (tmpl, suffixlen))
MKSTEMP_HOOK(mkstemps64, (char *tmpl, int suffixlen), (tmpl, suffixlen))
MKSTEMP_HOOK(mkostemps, (char *tmpl, int suffixlen, int flags),
	     (tmpl, suffixlen, flags))
MKSTEMP_HOOK(mkostemps64, (char *tmpl, int suffixlen, int flags),
	     (tmpl, suffixlen, flags))

/* The name now written: resolved after the call, as the call resolved it. */
#define NAME_CREDIT(ret, dirfd, path, follow, via)                    \
	do {                                                          \
		if ((ret) == 0)                                       \
			ROAR_AFTER(roar_track_path((dirfd), (path),   \
						   ROAR_CREDIT_WRITE, \
						   (follow), (via))); \
	} while (0)

ROAR_EXPORT int
rename(const char *from, const char *to)
{
	int ret = ROAR_REAL(rename)(from, to);

	NAME_CREDIT(ret, AT_FDCWD, to, false, ROAR_VIA_RENAME);
	return ret;
}

ROAR_EXPORT int
renameat(int fromfd, const char *from, int tofd, const char *to)
{
	int ret = ROAR_REAL(renameat)(fromfd, from, tofd, to);

	NAME_CREDIT(ret, tofd, to, false, ROAR_VIA_RENAME);
	return ret;
}

ROAR_EXPORT int
renameat2(int fromfd, const char *from, int tofd, const char *to,
	  unsigned int flags)
{
	int ret = ROAR_REAL(renameat2)(fromfd, from, tofd, to, flags);

	/* RENAME_EXCHANGE swaps two names: both now hold other content. */
	NAME_CREDIT(ret, tofd, to, false, ROAR_VIA_RENAME);
	if (flags & RENAME_EXCHANGE)
		NAME_CREDIT(ret, fromfd, from, false, ROAR_VIA_RENAME);
	return ret;
}

ROAR_EXPORT int
link(const char *from, const char *to)
{
	int ret = ROAR_REAL(link)(from, to);

	NAME_CREDIT(ret, AT_FDCWD, to, false, ROAR_VIA_LINK);
	return ret;
}

ROAR_EXPORT int
linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
	int ret = ROAR_REAL(linkat)(fromfd, from, tofd, to, flags);

	NAME_CREDIT(ret, tofd, to, false, ROAR_VIA_LINK);
	return ret;
}

ROAR_EXPORT int
truncate(const char *path, off_t len)
{
	int ret = ROAR_REAL(truncate)(path, len);

	NAME_CREDIT(ret, AT_FDCWD, path, true, ROAR_VIA_TRUNCATE);
	return ret;
}

ROAR_EXPORT int
truncate64(const char *path, off64_t len)
{
	int ret = ROAR_REAL(truncate64)(path, len);

	NAME_CREDIT(ret, AT_FDCWD, path, true, ROAR_VIA_TRUNCATE);
	return ret;
}

ROAR_EXPORT int
ftruncate(int fd, off_t len)
{
	int ret = ROAR_REAL(ftruncate)(fd, len);

	ROAR_FD_CREDIT(ret == 0, fd, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
ftruncate64(int fd, off64_t len)
{
	int ret = ROAR_REAL(ftruncate64)(fd, len);

	ROAR_FD_CREDIT(ret == 0, fd, ROAR_CREDIT_WRITE);
	return ret;
}
