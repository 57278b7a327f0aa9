/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Frame splitting and decoding for one connection.  The payload of each
 * frame is decoded with msgpack-c into a zone that lives only for that
 * frame, then handed to merge.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "conn.h"
#include "mp.h"
#include "mpcheck.h"

struct roar_conn *
roar_conn_new(int fd)
{
	struct roar_conn *c = roar_xcalloc(1, sizeof(*c));
	struct ucred cred;
	socklen_t len = sizeof(cred);

	c->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		c->peer_pid = cred.pid;
	return c;
}

void
roar_conn_free(struct roar_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

static int
bad(struct roar_conn *c, struct roar_merge *m, char *err, size_t errlen,
    const char *why)
{
	m->bad_frames++;
	snprintf(err, errlen, "bad frame #%lu from pid %d: %s", c->frames + 1,
		 (int)c->peer_pid, why);
	return -EINVAL;
}

/*
 * A sender in a PID namespace of its own (unshare -p, a container) names
 * itself by its pid there: learn that pid once per connection, from the
 * kernel, when a frame first disagrees with SO_PEERCRED.
 */
static uint64_t
own_pidns(void)
{
	static uint64_t ns;
	struct stat st;

	if (!ns && stat("/proc/self/ns/pid", &st) == 0)
		ns = (uint64_t)st.st_ino;
	return ns;
}

/*
 * A sender in a PID namespace of its own (unshare -p, a sandbox) names
 * itself by its pid there.  Learnt once per connection, when a frame
 * first disagrees with SO_PEERCRED: from the hello's "pidns" (the
 * library's first frame on every connection), else from the kernel
 * (NSpid in /proc/<peer>/status, while the peer lives).  Either way the
 * frames are then taken as the peer's own, by the kernel's pid: a sender
 * can still speak only for itself.
 */
static pid_t
conn_alias(struct roar_conn *c, struct roar_merge *m,
	   const msgpack_object *ev)
{
	const msgpack_object *pid, *ns;
	pid_t inner;

	if (c->alias_known || c->peer_pid <= 0)
		return c->alias;
	pid = roar_mp_get(ev, ROAR_KEY_PID);
	if (!pid || pid->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    pid->via.u64 == (uint64_t)c->peer_pid ||
	    pid->via.u64 > 0x7fffffff)
		return 0;
	c->alias_known = true;
	ns = roar_mp_get(ev, ROAR_KEY_PIDNS);
	if (ns && ns->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    own_pidns() && ns->via.u64 != own_pidns())
		c->alias = (pid_t)pid->via.u64;
	else if (m->proc_inner_pid &&
		 m->proc_inner_pid(c->peer_pid, &inner) == 0 &&
		 inner != c->peer_pid)
		c->alias = inner;
	return c->alias;
}

int
roar_conn_feed(struct roar_conn *c, struct roar_merge *m, const void *data,
	       size_t len, char *err, size_t errlen)
{
	size_t off = 0;

	if (len > c->cap - c->len) {
		size_t cap = c->cap ? c->cap : 65536;

		while (cap - c->len < len)
			cap *= 2;
		c->buf = roar_xrealloc(c->buf, cap);
		c->cap = cap;
	}
	if (len) {
		memcpy(c->buf + c->len, data, len);
		c->len += len;
	}

	while (c->len - off >= ROAR_FRAME_HEADER_SIZE) {
		uint32_t flen = roar_frame_get_len(c->buf + off);
		msgpack_unpacked u;
		size_t used = 0;
		uint64_t refused = m->frames_refused;
		int rc;

		if (flen == 0 || flen > ROAR_FRAME_MAX_PAYLOAD)
			return bad(c, m, err, errlen, "impossible length");
		if (c->len - off - ROAR_FRAME_HEADER_SIZE < flen)
			break;
		/* Before msgpack-c, which trusts the counts (mpcheck.h). */
		if (roar_mpcheck_one(c->buf + off + ROAR_FRAME_HEADER_SIZE,
				     flen) != 0)
			return bad(c, m, err, errlen, "payload is not one msgpack value");
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u,
					(const char *)c->buf + off +
						ROAR_FRAME_HEADER_SIZE,
					flen, &used) != MSGPACK_UNPACK_SUCCESS ||
		    used != flen) {
			msgpack_unpacked_destroy(&u);
			return bad(c, m, err, errlen, "payload is not one msgpack value");
		}
		rc = roar_merge_event_as(m, &u.data, c->peer_pid,
					 conn_alias(c, m, &u.data));
		msgpack_unpacked_destroy(&u);
		if (rc != 0)
			return bad(c, m, err, errlen, "malformed event");
		if (m->frames_refused != refused && c->refused++ == 0)
			snprintf(c->refused_why, sizeof(c->refused_why), "%s",
				 m->refusal);
		c->frames++;
		off += ROAR_FRAME_HEADER_SIZE + flen;
	}
	if (off) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	return 0;
}

int
roar_conn_eof(struct roar_conn *c, struct roar_merge *m)
{
	if (c->len == 0)
		return 0;
	/* A sender that gave up mid-frame (stalled collector): one lost. */
	m->bad_frames++;
	c->len = 0;
	return -EINVAL;
}
