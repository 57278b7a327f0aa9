/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection across an exec.  Before the exec the image sends what
 * waits and clears close-on-exec, holding send_lock across the execve so
 * that no other thread begins a frame the exec would tear (lock.h's one
 * exception); the new image adopts the fd in its constructor if it is a
 * socket connected to our collector, instead of connecting anew, and
 * closes, never writes to, one handed over to an image that did not load
 * us.  Owns only this passing on; the connection is transport.c's.
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "lock.h"
#include "real.h"
#include "transport.h"
#include "transport_int.h"

int
roar_transport_handover(void)
{
	int fd;

	roar_transport_drain_at_end();
	/* A torn frame must not be the new image's first bytes. */
	if (roar_link.queue_len)
		roar_transport_drop_unlocked(true);
	fd = roar_link.fd;
	if (fd >= 0 && ROAR_SYS(SYS_fcntl, fd, F_SETFD, 0) != 0) {
		roar_transport_drop_unlocked(true);
		fd = -1;
	}
	/* Kept until the exec fails (lock.h): a frame another thread began
	 * now would be torn by the exec, mid-stream of the new image. */
	return fd;
}

void
roar_transport_handover_failed(void)
{
	if (roar_link.fd >= 0)
		ROAR_SYS(SYS_fcntl, (int)roar_link.fd, F_SETFD, FD_CLOEXEC);
	roar_lock_release(&roar_link.send_lock);
}

/* Whether fd is a socket connected to our collector's very path
 * (getpeername fails on anything that is not a connected socket). */
static bool
is_our_connection(int fd)
{
	struct sockaddr_un peer;
	socklen_t len = sizeof(peer);

	/* The kernel fills only len bytes: an unnamed peer has no path at
	 * all, and the rest of sun_path would be compared uninitialised. */
	memset(&peer, 0, sizeof(peer));
	return roar_link.enabled && fd >= 0 &&
	       ROAR_SYS(SYS_getpeername, fd, &peer, &len) == 0 &&
	       len > offsetof(struct sockaddr_un, sun_path) &&
	       peer.sun_family == AF_UNIX &&
	       strncmp(peer.sun_path, roar_link.addr.sun_path,
		       sizeof(peer.sun_path)) == 0;
}

void
roar_transport_disown(int fd)
{
	if (is_our_connection(fd))
		close_fd(fd);
}

void
roar_transport_adopt(int fd)
{
	if (!is_our_connection(fd) ||
	    ROAR_SYS(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC) != 0)
		return;
	roar_lock_take(&roar_link.send_lock);
	if (roar_link.fd < 0) {
		roar_link.fd = fd;
		roar_link.need_resume = true;
	}
	roar_lock_release(&roar_link.send_lock);
}
