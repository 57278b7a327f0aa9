/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall(2) decoder: a raw system call made through the C library's
 * syscall() is credited like the wrapper it stands for.  Runs with the
 * guard held; holds no lock of its own.
 */
#include "config.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "event.h"
#include "real.h"
#include "session.h"
#include "track.h"
#include "transport.h"

bool
roar_track_syscall_probe(long nr, const long a[6], bool *created)
{
	int flags, dirfd = AT_FDCWD;
	const char *path;

	switch (nr) {
#ifdef SYS_open
	case SYS_open:
		path = (const char *)a[0];
		flags = (int)a[1];
		break;
#endif
	case SYS_openat:
		dirfd = (int)a[0];
		path = (const char *)a[1];
		flags = (int)a[2];
		break;
	case SYS_openat2:
		dirfd = (int)a[0];
		path = (const char *)a[1];
		if (!a[2] || (size_t)a[3] < sizeof(uint64_t))
			return false;
		flags = (int)((const struct open_how *)a[2])->flags;
		break;
	default:
		return false;
	}
	if (!roar_track_open_needs_probe(flags))
		return false;
	*created = roar_track_open_probe(dirfd, path);
	return true;
}

/* Credit a pair of fds that bytes moved between. */
static void
moved(int in, int out)
{
	roar_track_fd(in, ROAR_CREDIT_READ);
	roar_track_fd(out, ROAR_CREDIT_WRITE);
}

/* An io_uring set up through syscall(): the report marks the process
 * (unseen), once per image. */
static void
unseen_io_uring(void)
{
	static atomic_bool said;
	struct roar_event_ids ids = roar_session_ids();
	unsigned char buf[128];
	struct roar_frame f;

	if (atomic_exchange(&said, true))
		return;
	roar_frame_init(&f, buf, sizeof(buf));
	if (roar_event_unseen(&f, &ids, ROAR_UNSEEN_IO_URING, 0) == 0)
		roar_transport_send(f.data, f.len);
}

void
roar_track_syscall(long nr, const long a[6], long ret, bool created)
{
	int fd = (int)a[0];

	switch (nr) {
#ifdef SYS_open
	case SYS_open:
		roar_track_open_named((int)ret, AT_FDCWD, (const char *)a[0],
				      (int)a[1], created);
		break;
#endif
#ifdef SYS_creat
	case SYS_creat:
		roar_track_open((int)ret, O_WRONLY | O_CREAT | O_TRUNC, false);
		break;
#endif
	case SYS_openat:
		roar_track_open_named((int)ret, (int)a[0], (const char *)a[1],
				      (int)a[2], created);
		break;
	case SYS_chdir:
	case SYS_fchdir:
		roar_track_chdir();
		break;
	case SYS_openat2:
		if (a[2] && (size_t)a[3] >= sizeof(uint64_t))
			roar_track_open(
				(int)ret,
				(int)((const struct open_how *)a[2])->flags,
				created);
		break;
	case SYS_read:
	case SYS_pread64:
	case SYS_readv:
	case SYS_preadv:
	case SYS_preadv2:
		if (ret > 0)
			roar_track_fd(fd, ROAR_CREDIT_READ);
		break;
	case SYS_write:
	case SYS_pwrite64:
	case SYS_writev:
	case SYS_pwritev:
	case SYS_pwritev2:
		if (ret > 0)
			roar_track_fd(fd, ROAR_CREDIT_WRITE);
		break;
	case SYS_splice:
	case SYS_copy_file_range:
		if (ret > 0)
			moved(fd, (int)a[2]);
		break;
	case SYS_sendfile:
		if (ret > 0)
			moved((int)a[1], fd);
		break;
	case SYS_ftruncate:
		roar_track_fd(fd, ROAR_CREDIT_WRITE);
		break;
#ifdef SYS_io_uring_setup
	case SYS_io_uring_setup:
		/* Its I/O goes through rings no hook sees: say so, once. */
		if (ret >= 0)
			unseen_io_uring();
		break;
#endif
	case SYS_truncate:
		roar_track_path(AT_FDCWD, (const char *)a[0], ROAR_CREDIT_WRITE,
				true, ROAR_VIA_TRUNCATE);
		break;
#ifdef SYS_rename
	case SYS_rename:
		roar_track_path(AT_FDCWD, (const char *)a[1], ROAR_CREDIT_WRITE,
				false, ROAR_VIA_RENAME);
		break;
#endif
	case SYS_renameat:
	case SYS_renameat2:
		roar_track_path((int)a[2], (const char *)a[3],
				ROAR_CREDIT_WRITE, false, ROAR_VIA_RENAME);
		break;
#ifdef SYS_link
	case SYS_link:
		roar_track_path(AT_FDCWD, (const char *)a[1], ROAR_CREDIT_WRITE,
				false, ROAR_VIA_LINK);
		break;
#endif
	case SYS_linkat:
		roar_track_path((int)a[2], (const char *)a[3],
				ROAR_CREDIT_WRITE, false, ROAR_VIA_LINK);
		break;
	case SYS_close:
		roar_track_forget(fd);
		roar_transport_fd_lost(fd);
		break;
	case SYS_close_range:
		if (!((unsigned)a[2] & CLOSE_RANGE_CLOEXEC))
			roar_track_closed_range((unsigned)a[0], (unsigned)a[1]);
		break;
	case SYS_dup:
		roar_track_dup(fd, (int)ret);
		break;
#ifdef SYS_dup2
	case SYS_dup2:
#endif
	case SYS_dup3:
		roar_transport_fd_lost((int)a[1]);
		roar_track_dup(fd, (int)a[1]);
		break;
	case SYS_mmap:
		if (!((int)a[3] & MAP_ANONYMOUS) && (int)a[4] >= 0)
			roar_track_mmap((int)a[4], (int)a[2], (int)a[3]);
		break;
	default:
		break;
	}
}
