/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One descriptor passed over a Unix socket (SCM_RIGHTS), for the seccomp
 * supervisor's listeners: the arming process sends its listener to the
 * collector, the collector a copy to its watchman.  Only the message is
 * built here; each side makes the sendmsg/recvmsg call its own way (the
 * library with raw system calls).  A receiver with room for one
 * descriptor gets at most one: the kernel closes any more a sender put.
 */
#ifndef ROAR_SCM_H
#define ROAR_SCM_H

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct roar_scm {
	struct iovec iov;
	struct msghdr msg;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
};

/** b, ready to send len bytes of data with fd attached. */
static inline struct msghdr *
roar_scm_send(struct roar_scm *b, const void *data, size_t len, int fd)
{
	struct cmsghdr *cm;

	memset(b, 0, sizeof(*b));
	b->iov.iov_base = (void *)data;
	b->iov.iov_len = len;
	b->msg.msg_iov = &b->iov;
	b->msg.msg_iovlen = 1;
	b->msg.msg_control = b->ctl.b;
	b->msg.msg_controllen = sizeof(b->ctl.b);
	cm = CMSG_FIRSTHDR(&b->msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return &b->msg;
}

/** b, ready to receive up to cap bytes into buf and one descriptor. */
static inline struct msghdr *
roar_scm_recv(struct roar_scm *b, void *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->iov.iov_base = buf;
	b->iov.iov_len = cap;
	b->msg.msg_iov = &b->iov;
	b->msg.msg_iovlen = 1;
	b->msg.msg_control = b->ctl.b;
	b->msg.msg_controllen = sizeof(b->ctl.b);
	return &b->msg;
}

/** The descriptor a received message carried, or -1. */
static inline int
roar_scm_fd(struct msghdr *msg)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(msg);
	int fd;

	if (!cm || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

#endif /* ROAR_SCM_H */
