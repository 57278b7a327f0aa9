/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's arming (launch_arm.h).  Runs in the forked child, which
 * has one thread, so libc is safe to use.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roar/clock.h"
#include "roar/image.h"
#include "roar/scm.h"
#include "roar/supervise.h"
#include "event.h"
#include "launch_arm.h"
#include "supervise.h"

void
roar_launch_arm(const char *cmd, int fd)
{
	char path[PATH_MAX];
	unsigned char buf[PATH_MAX + 256];
	struct roar_image img;
	struct roar_frame f;

	if (roar_image_resolve(&roar_image_io_libc, cmd, getenv("PATH"), path,
			       sizeof(path)) != 0 ||
	    roar_image_inspect(&roar_image_io_libc, path, &img) != 0 ||
	    roar_image_tracer(&img) != ROAR_TRACER_SUPERVISOR)
		return;
	roar_frame_init(&f, buf, sizeof(buf));
	if (roar_event_supervise(&f,
				 &(struct roar_event_ids){ getpid(), gettid() },
				 path, roar_now()) != 0)
		return;
	roar_sup_arm_fd(syscall, fd, f.data, f.len);
}

void
roar_launch_resolve(const char *cmd, char *out, size_t cap)
{
	if (roar_image_resolve(&roar_image_io_libc, cmd, getenv("PATH"), out,
			       cap) != 0)
		snprintf(out, cap, "%s", cmd);
}

long
roar_launch_take_listener(struct roar_sup *sup, int fd, int errpipe,
			  pid_t child, void *err, size_t errlen)
{
	struct pollfd p[2] = { { .fd = errpipe, .events = POLLIN },
			       { .fd = fd, .events = POLLIN } };

	for (;;) {
		if (poll(p, sup && fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents & POLLIN) {
			char buf[256];
			struct roar_scm scm;
			struct msghdr *msg =
				roar_scm_recv(&scm, buf, sizeof(buf));

			if (recvmsg(fd, msg, MSG_CMSG_CLOEXEC) <= 0) {
				p[1].fd = -1;
			} else {
				int l = roar_scm_fd(msg);

				if (l >= 0)
					roar_sup_adopt(sup, l, child);
			}
		} else if (p[1].revents) {
			p[1].fd = -1;
		}
		if (p[0].revents) {
			ssize_t n;

			do
				n = read(errpipe, err, errlen);
			while (n < 0 && errno == EINTR);
			return n;
		}
	}
}
