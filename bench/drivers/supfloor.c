/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor rows' floor: the least a seccomp supervisor can cost.
 *
 *   supfloor CMD [ARG...]
 *
 * Arms our own filter (common/supervise_arm.c, the very one the launcher
 * installs) in a child that then execs CMD, takes the listener over a
 * socketpair, asks for the synchronous wake-up as the collector does, and
 * lets every notified call go on at once: no /proc, no memory read, no
 * frame, no report.  What is left is the notifications' own price, which
 * no supervisor of this filter can go under.  Exits with CMD's status.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "roar/scm.h"
#include "roar/supervise.h"

int
main(int argc, char **argv)
{
	struct seccomp_notif_sizes sz;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	struct roar_scm scm;
	struct msghdr *msg;
	char byte = 'x', buf[8];
	int sv[2], listener, st;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: supfloor CMD [ARG...]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) != 0) {
		perror("supfloor");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		if (roar_sup_arm_fd(syscall, sv[1], &byte, 1) != 0) {
			perror("supfloor: arm");
			_exit(126);
		}
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	close(sv[1]);
	msg = roar_scm_recv(&scm, buf, sizeof(buf));
	if (pid < 0 || recvmsg(sv[0], msg, 0) <= 0 ||
	    (listener = roar_scm_fd(msg)) < 0) {
		fprintf(stderr, "supfloor: no listener\n");
		return 1;
	}
	(void)ioctl(listener, ROAR_SUP_IOCTL_SET_FLAGS, ROAR_SUP_SYNC_WAKE_UP);
	req = calloc(1, sz.seccomp_notif + sizeof(*req));
	resp = calloc(1, sz.seccomp_notif_resp + sizeof(*resp));
	for (;;) {
		struct pollfd p = { .fd = listener, .events = POLLIN };

		if (poll(&p, 1, -1) < 0)
			continue;
		if (p.revents & POLLIN) {
			memset(req, 0, sz.seccomp_notif);
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0)
				continue;
			memset(resp, 0, sz.seccomp_notif_resp);
			resp->id = req->id;
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			(void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
		} else if (p.revents & (POLLHUP | POLLERR)) {
			break;
		}
	}
	if (waitpid(pid, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
