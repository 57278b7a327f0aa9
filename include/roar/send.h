/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sending without ever waiting, for both sides: the library's connection
 * (preload/transport.c) and the supervisor's frame socket
 * (collector/supervise.c).  MSG_NOSIGNAL: a closed peer is EPIPE, never
 * a SIGPIPE; MSG_DONTWAIT: a full socket is EAGAIN, never a wait.
 */
#ifndef ROAR_SEND_H
#define ROAR_SEND_H

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/** Send as much of buf as the socket takes now; returns the bytes sent,
 *  or -errno when the stream is broken. */
static inline ssize_t
roar_send_now(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, p + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		return n < 0 ? -errno : -EPIPE;
	}
	return (ssize_t)off;
}

#endif /* ROAR_SEND_H */
