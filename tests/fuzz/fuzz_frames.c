/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the collector's input side: the bytes a traced
 * process (or anything that can connect to the socket) sends.  The input
 * is one configuration byte followed by a connection's byte stream:
 *
 *   bits 0-3  how the stream is cut into reads (0: one read), so frames
 *             split across reads are exercised as the socket delivers them
 *   bits 4-7  which fake peer sent it, and whether it lives in a PID
 *             namespace of its own (an alias)
 *
 * The stream goes three ways, each into a merge of its own: through
 * conn.c's decoder as the collect loop drives it (SO_PEERCRED peer set);
 * split into frames here and given to roar_merge_event with no known peer
 * (the payload's pid is trusted, so claims reach the merge unchecked);
 * and to roar_merge_event_as with a peer and its alias.  Each merge is
 * then packed into a report in memory and freed, so leaks, overflows and
 * UB anywhere from the wire to the report surface here.
 *
 * The kernel is faked (proc_stat, proc_inner_pid): no input reaches /proc,
 * and a run depends only on its bytes.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "conn.h"
#include "merge.h"
#include "mpcheck.h"
#include "report.h"

#define SELF 2      /* the collector */
#define LAUNCHER 50 /* the root's parent */
#define ROOT 100
#define LAST 199    /* the fake kernel has ROOT..LAST */
#define T_SELF 1000 /* when the collector started, in ticks */

/*
 * The fake kernel: init, the launcher, the collector, and a binary tree of
 * processes under ROOT, all started after the collector; every seventh is
 * a zombie, so the reaped paths see one.  Any other pid is gone.
 */
static int
fake_stat(pid_t pid, struct roar_proc_stat *st)
{
	if (pid == 1) {
		*st = (struct roar_proc_stat){ .ppid = 0,
					       .state = 'S',
					       .start = 1 };
		return 0;
	}
	if (pid == SELF) {
		*st = (struct roar_proc_stat){ .ppid = LAUNCHER,
					       .state = 'R',
					       .start = T_SELF };
		return 0;
	}
	if (pid == LAUNCHER) {
		*st = (struct roar_proc_stat){ .ppid = 1,
					       .state = 'S',
					       .start = 900 };
		return 0;
	}
	if (pid < ROOT || pid > LAST)
		return -ESRCH;
	st->ppid = pid == ROOT ? LAUNCHER : ROOT + (pid - ROOT - 1) / 2;
	st->state = pid % 7 == 0 ? 'Z' : 'S';
	st->start = T_SELF + (unsigned long long)pid;
	return 0;
}

/* Every fifth process of the tree is in a PID namespace of its own. */
static int
fake_inner_pid(pid_t pid, pid_t *inner)
{
	if (pid < ROOT || pid > LAST)
		return -ESRCH;
	*inner = pid % 5 == 3 ? pid - ROOT + 1 : pid;
	return 0;
}

static void
merge_setup(struct roar_merge *m)
{
	static const char prefix[] = "/tmp/roar-sock/";
	static const char report[] = "/tmp/report.msgpack";

	roar_merge_init(m, ROOT);
	m->self_pid = SELF;
	m->root_ppid = LAUNCHER;
	m->proc_stat = fake_stat;
	m->proc_inner_pid = fake_inner_pid;
	m->keep_secrets = false;
	/* The connection's ledger bookkeeping (hello and resume slots,
	 * frames counted per slot) runs on every frame; settling needs a
	 * ledger file and is not fuzzed here (tests/unit/test_tally.c). */
	m->ledger_on = true;
	m->start_time = 1.0;
	m->end_time = 2.0;
	m->exclude_prefix = roar_bytes_dup(prefix, sizeof(prefix) - 1);
	m->exclude_exact = roar_bytes_dup(report, sizeof(report) - 1);
}

/* Build the report into memory and let it go; then free the run. */
static void
merge_finish(struct roar_merge *m)
{
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	roar_report_pack(m, &sb);
	msgpack_sbuffer_destroy(&sb);
	(void)roar_merge_dropped(m);
	roar_merge_free(m);
}

/* The decoder as the collect loop drives it: reads of chunk bytes (0:
 * all at once), stopping at the first bad frame like the loop does. */
static void
via_conn(const uint8_t *data, size_t size, size_t chunk, pid_t peer)
{
	struct roar_merge m;
	struct roar_conn *c;
	char err[256];
	size_t off = 0;
	int rc = 0;

	merge_setup(&m);
	/* fd -1: no socket; the peer is what SO_PEERCRED would have said. */
	c = roar_conn_new(-1);
	c->peer_pid = peer;
	while (off < size && rc == 0) {
		size_t n = chunk && chunk < size - off ? chunk : size - off;

		rc = roar_conn_feed(c, &m, data + off, n, err, sizeof(err));
		off += n;
	}
	if (rc == 0)
		(void)roar_conn_eof(c, &m);
	roar_conn_free(c);
	merge_finish(&m);
}

/* Split the stream into frames here and apply each one directly: peer 0
 * (unknown) through roar_merge_event, or peer and alias through
 * roar_merge_event_as. */
static void
via_merge(const uint8_t *data, size_t size, pid_t peer, pid_t alias, bool as)
{
	struct roar_merge m;
	size_t off = 0;

	merge_setup(&m);
	while (size - off >= ROAR_FRAME_HEADER_SIZE) {
		uint32_t flen = roar_frame_get_len(data + off);
		msgpack_unpacked u;
		size_t used = 0;
		int rc;

		off += ROAR_FRAME_HEADER_SIZE;
		if (flen == 0 || flen > size - off)
			break;
		/* As conn.c does: msgpack-c must not see a lying count. */
		if (roar_mpcheck_one(data + off, flen) != 0)
			break;
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, (const char *)data + off, flen,
					&used) != MSGPACK_UNPACK_SUCCESS) {
			msgpack_unpacked_destroy(&u);
			break;
		}
		if (as)
			rc = roar_merge_event_as(&m, &u.data, peer, alias);
		else
			rc = roar_merge_event(&m, &u.data, 0);
		msgpack_unpacked_destroy(&u);
		/* A malformed event ends a connection; here the rest of
		 * the stream is still worth applying. */
		(void)rc;
		off += flen;
	}
	merge_finish(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned cfg;
	size_t chunk;
	pid_t peer, alias;

	if (size < 1)
		return 0;
	cfg = data[0];
	data++;
	size--;
	chunk = (cfg & 0x0f) * 7u;
	peer = ROOT + (pid_t)(cfg >> 4) * 5;
	alias = cfg >> 4 ? peer - ROOT + 1 : 0;

	via_conn(data, size, chunk, peer);
	via_merge(data, size, 0, 0, false);
	via_merge(data, size, peer, alias, true);
	return 0;
}
