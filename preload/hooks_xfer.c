/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exported shims of the calls that move bytes between two fds inside the
 * kernel: splice, sendfile, copy_file_range.  Kernel-side tracers that
 * watch read/write miss these (cat moves files with splice); the source
 * is credited as read and the destination as written.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "hook.h"

static void
credit_pair(ssize_t ret, int in, int out)
{
	if (ret > 0)
		ROAR_AFTER_PARK(roar_track_fd(in, ROAR_CREDIT_READ);
				roar_track_fd(out, ROAR_CREDIT_WRITE),
				roar_park_credit(in, ROAR_CREDIT_READ);
				roar_park_credit(out, ROAR_CREDIT_WRITE));
}

ROAR_EXPORT ssize_t
splice(int in, off64_t *in_off, int out, off64_t *out_off, size_t len,
       unsigned int flags)
{
	ssize_t ret = ROAR_REAL(splice)(in, in_off, out, out_off, len, flags);

	credit_pair(ret, in, out);
	return ret;
}

ROAR_EXPORT ssize_t
sendfile(int out, int in, off_t *off, size_t count)
{
	ssize_t ret = ROAR_REAL(sendfile)(out, in, off, count);

	credit_pair(ret, in, out);
	return ret;
}

ROAR_EXPORT ssize_t
sendfile64(int out, int in, off64_t *off, size_t count)
{
	ssize_t ret = ROAR_REAL(sendfile64)(out, in, off, count);

	credit_pair(ret, in, out);
	return ret;
}

ROAR_EXPORT ssize_t
copy_file_range(int in, off64_t *in_off, int out, off64_t *out_off, size_t len,
		unsigned int flags)
{
	ssize_t ret = ROAR_REAL(copy_file_range)(in, in_off, out, out_off, len,
						 flags);

	credit_pair(ret, in, out);
	return ret;
}
