/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger, the collector's side.  Only pread and pwrite: a peer (any
 * process of the user) could shrink the file, and a mapping would then
 * fault; a short read is only a short read.  Whatever a slot says is
 * bounded before it is believed: a slot bound to a connection must name
 * that connection's process, and counts never go below what arrived.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "roar/ledger.h"
#include "tally.h"

/* How often the loop rewrites its heartbeat, in ms: well below the
 * senders' STALL_DETECT_MS (preload/transport.c). */
#define BEAT_EVERY_MS 5
/* Slots read at once when settling. */
#define SETTLE_CHUNK 4096

static int
ledger_path(const char *sock_path, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", sock_path, ROAR_LEDGER_SUFFIX);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int
roar_tally_create(const char *sock_path)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	struct roar_ledger_head h;
	int fd, rc = 0;

	if (ledger_path(sock_path, path, sizeof(path)) != 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -errno;
	roar_ledger_head_init(&h);
	if (ftruncate(fd, (off_t)ROAR_LEDGER_SIZE) != 0 ||
	    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		rc = -errno;
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

void
roar_tally_unlink(const char *sock_path)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];

	if (ledger_path(sock_path, path, sizeof(path)) == 0)
		unlink(path);
}

void
roar_tally_open(struct roar_tally *t, int listen_fd, struct roar_merge *m)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	char path[sizeof(sa.sun_path) + 16];
	struct roar_ledger_head h;
	struct stat st;

	t->fd = -1;
	t->last_beat = 0;
	m->ledger_on = false;
	memset(&sa, 0, sizeof(sa));
	if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) != 0 ||
	    sa.sun_family != AF_UNIX || !sa.sun_path[0])
		return;
	sa.sun_path[sizeof(sa.sun_path) - 1] = '\0';
	if (ledger_path(sa.sun_path, path, sizeof(path)) != 0)
		return;
	t->fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0)
		return;
	if (fstat(t->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() ||
	    pread(t->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    !roar_ledger_head_ok(&h)) {
		close(t->fd);
		t->fd = -1;
		return;
	}
	m->ledger_on = true;
	roar_tally_beat(t);
}

void
roar_tally_beat(struct roar_tally *t)
{
	uint64_t now;

	if (t->fd < 0)
		return;
	now = roar_mono_ms();
	if (now < t->last_beat + BEAT_EVERY_MS)
		return;
	t->last_beat = now;
	/* One aligned 8-byte store: senders read it with an atomic load. */
	if (pwrite(t->fd, &now, sizeof(now),
		   offsetof(struct roar_ledger_head, beat)) != sizeof(now))
		return;
}

/* What one slot says, settled into the process it belongs to. */
static void
settle_slot(struct roar_merge *m, uint64_t i, const struct roar_ledger_slot *s)
{
	uint64_t bound = (uint64_t)(uintptr_t)roar_map_get(&m->slot_pid, i + 1);
	uint64_t got = (uint64_t)(uintptr_t)roar_map_get(&m->slot_got, i + 1);
	uint64_t made = __atomic_load_n(&s->made, __ATOMIC_RELAXED);
	uint64_t lost = __atomic_load_n(&s->lost, __ATOMIC_RELAXED);
	uint32_t spid = __atomic_load_n(&s->pid, __ATOMIC_RELAXED);
	pid_t peer = (pid_t)(bound & 0xffffffffu);
	pid_t alias = (pid_t)(bound >> 32);
	uint64_t missing = made > got ? made - got : 0;
	struct roar_proc *p;

	if (bound) {
		/* Its hello named this slot: the slot must name it too. */
		if (spid != (uint32_t)peer &&
		    (!alias || spid != (uint32_t)alias)) {
			m->ledger_mismatch++;
			return;
		}
		if (got > made)
			m->ledger_mismatch++;
		p = roar_merge_find(m, peer);
	} else {
		/* Nothing of it ever arrived, not even its hello. */
		if (!spid || spid > 0x7fffffffu || made + lost == 0)
			return;
		p = roar_merge_find(m, (pid_t)spid);
		if (!p) {
			p = roar_merge_proc(m, (pid_t)spid);
			p->gone = true;
		}
		if (p->parent_source == ROAR_PARENT_NONE && s->ppid &&
		    s->ppid <= 0x7fffffffu) {
			p->ppid = (pid_t)s->ppid;
			p->parent_source = ROAR_PARENT_EXEC_HELLO;
		}
	}
	if (!p || missing + lost == 0)
		return;
	p->dropped += missing + lost;
	p->incomplete = true;
	if (getenv("ROAR_DEBUG") && *getenv("ROAR_DEBUG"))
		fprintf(stderr,
			"roar-collector: pid %d (slot %llu) made %llu "
			"frames, %llu arrived; %llu events never became "
			"frames\n",
			(int)p->pid, (unsigned long long)i,
			(unsigned long long)made, (unsigned long long)got,
			(unsigned long long)lost);
}

void
roar_tally_settle(struct roar_tally *t, struct roar_merge *m)
{
	static struct roar_ledger_slot buf[SETTLE_CHUNK];
	struct roar_ledger_head h;
	uint64_t n;

	if (t->fd < 0 || pread(t->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return;
	n = h.next < ROAR_LEDGER_SLOTS ? h.next : ROAR_LEDGER_SLOTS;
	if (h.next > ROAR_LEDGER_SLOTS)
		m->ledger_overflow = h.next - ROAR_LEDGER_SLOTS;
	for (uint64_t i = 0; i < n; i += SETTLE_CHUNK) {
		uint64_t want = n - i < SETTLE_CHUNK ? n - i : SETTLE_CHUNK;
		ssize_t r = pread(t->fd, buf, want * sizeof(buf[0]),
				  (off_t)roar_ledger_slot_offset(i));

		if (r <= 0)
			break;
		for (uint64_t k = 0; k < (uint64_t)r / sizeof(buf[0]); k++)
			settle_slot(m, i + k, &buf[k]);
	}
}

void
roar_tally_close(struct roar_tally *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
