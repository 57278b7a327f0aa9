/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Frame splitting and decoding for one connection.  The payload of each
 * frame is decoded with msgpack-c into a zone that lives only for that
 * frame, then handed to merge.c.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roar/ledger.h"
#include "roar/protocol.h"
#include "conn.h"
#include "roar/mp.h"
#include "mpcheck.h"

static void release(struct roar_conn *c);

struct roar_conn *
roar_conn_new(int fd)
{
	struct roar_conn *c = roar_xcalloc(1, sizeof(*c));
	struct ucred cred;
	socklen_t len = sizeof(cred);

	c->fd = fd;
	c->slot = -1;
	c->pool_slot = SIZE_MAX;
	c->accepted_ms = roar_mono_ms();
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
	release(c);
	free(c);
}

static int
bad(struct roar_conn *c, struct roar_merge *m, char *err, size_t errlen,
    const char *why)
{
	m->bad_frames++;
	if (c->slot >= 0)
		m->bad_in_ledger++;
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
conn_alias(struct roar_conn *c, struct roar_merge *m, const msgpack_object *ev)
{
	const msgpack_object *pid, *ns;
	pid_t inner;

	if (c->alias_known || c->peer_pid <= 0)
		return c->alias;
	pid = roar_mp_get(ev, ROAR_KEY_PID);
	if (!pid || pid->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    pid->via.u64 == (uint64_t)c->peer_pid || pid->via.u64 > 0x7fffffff)
		return 0;
	c->alias_known = true;
	ns = roar_mp_get(ev, ROAR_KEY_PIDNS);
	if (ns && ns->type == MSGPACK_OBJECT_POSITIVE_INTEGER && own_pidns() &&
	    ns->via.u64 != own_pidns())
		c->alias = (pid_t)pid->via.u64;
	else if (m->proc_inner_pid &&
		 m->proc_inner_pid(c->peer_pid, &inner) == 0 &&
		 inner != c->peer_pid)
		c->alias = inner;
	return c->alias;
}

/* Whether ev's kind is the string k. */
static bool
kind_is(const msgpack_object *ev, const char *k)
{
	const msgpack_object *o = roar_mp_get(ev, ROAR_KEY_KIND);
	size_t n = strlen(k);

	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, k, n) == 0;
}

static void
add_got(struct roar_merge *m, int64_t slot, uint64_t n)
{
	uint64_t k = (uint64_t)slot + 1;

	roar_map_put(&m->slot_got, k,
		     (void *)((uintptr_t)roar_map_get(&m->slot_got, k) + n));
}

/*
 * Bind c to the slot a hello or a resume names.  A slot is its image's:
 * the first connection to name it binds it to its peer, and a later
 * connection (the same image, reconnected) only when it is that peer.
 * Frames c carried before, while it named no slot (an image's frames
 * that came before its hello), go to the slot now.
 */
static void
bind_slot(struct roar_conn *c, struct roar_merge *m, const msgpack_object *ev,
	  pid_t alias)
{
	const msgpack_object *s = roar_mp_get(ev, ROAR_KEY_LEDGER);
	uint64_t who = (uint64_t)(uint32_t)c->peer_pid |
		       (uint64_t)(uint32_t)alias << 32;
	void *bound;

	c->slot = -1;
	if (!s || s->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    s->via.u64 >= ROAR_LEDGER_SLOTS)
		return;
	bound = roar_map_get(&m->slot_pid, s->via.u64 + 1);
	/* The same process by the kernel's pid: its alias (the pid in its
	 * own namespace) may be unknown on a later connection. */
	if (bound &&
	    ((uint64_t)(uintptr_t)bound & 0xffffffffu) != (who & 0xffffffffu))
		return;
	if (!bound)
		roar_map_put(&m->slot_pid, s->via.u64 + 1,
			     (void *)(uintptr_t)who);
	c->slot = (int64_t)s->via.u64;
	if (c->unslotted)
		add_got(m, c->slot, c->unslotted);
	c->unslotted = 0;
}

/*
 * The ledger's side of one frame, before it is applied: a hello starts
 * the stream of a new image, which counts in the slot it names (or in
 * none); a resume goes on with one; a dropped event on a stream the
 * ledger counts says nothing the ledger will not say better (applying
 * both would count twice).
 * @return false when the frame is not to be applied
 */
static bool
ledger_frame(struct roar_conn *c, struct roar_merge *m,
	     const msgpack_object *ev, pid_t alias)
{
	if (!m->ledger_on)
		return true;
	if (kind_is(ev, ROAR_KIND_NAME_HELLO) ||
	    kind_is(ev, ROAR_KIND_NAME_RESUME)) {
		bind_slot(c, m, ev, alias);
		return true;
	}
	return c->slot < 0 || !kind_is(ev, ROAR_KIND_NAME_DROPPED);
}

/* One more frame of the current image arrived. */
static void
ledger_got(struct roar_conn *c, struct roar_merge *m)
{
	if (c->slot >= 0)
		add_got(m, c->slot, 1);
	else if (m->ledger_on)
		c->unslotted++;
}

/* ---- the buffer pool ------------------------------------------------- */

/* Smallest buffer an incomplete frame gets; it doubles from there. */
#define HOLD_MIN 16384u

static void
pool_leave(struct roar_conn *c)
{
	struct roar_conn_pool *pool = c->pool;

	if (!pool || c->pool_slot == SIZE_MAX)
		return;
	pool->used -= c->cap;
	pool->v[c->pool_slot] = pool->v[--pool->n];
	pool->v[c->pool_slot]->pool_slot = c->pool_slot;
	c->pool_slot = SIZE_MAX;
}

/* Give the buffer back: the connection holds no incomplete frame. */
static void
release(struct roar_conn *c)
{
	pool_leave(c);
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
	c->len = 0;
}

/* Throw c's incomplete frame away (see struct roar_conn_pool). */
static void
tear(struct roar_conn *c, struct roar_merge *m)
{
	m->bad_frames++;
	if (c->slot >= 0)
		m->bad_in_ledger++;
	m->limits.frames_torn++;
	m->limits.bytes_torn += c->len;
	release(c);
	c->evicted = true;
	if (c->pool)
		c->pool->evicted = true;
}

/* The connection other than self whose incomplete frame has waited
 * longest for a byte (the larger one of two as stale), or NULL. */
static struct roar_conn *
stalest(const struct roar_conn_pool *pool, const struct roar_conn *self)
{
	struct roar_conn *best = NULL;

	for (size_t i = 0; i < pool->n; i++) {
		struct roar_conn *c = pool->v[i];

		if (c == self)
			continue;
		if (!best || c->last_ms < best->last_ms ||
		    (c->last_ms == best->last_ms && c->cap > best->cap))
			best = c;
	}
	return best;
}

/* Room for c's buffer to grow by bytes, tearing others down if need be. */
static int
reserve(struct roar_conn *c, struct roar_merge *m, size_t bytes)
{
	struct roar_conn_pool *pool = c->pool;

	if (!pool)
		return 0;
	while (pool->used + bytes > pool->limit) {
		struct roar_conn *victim = stalest(pool, c);

		if (!victim)
			return -ENOBUFS;
		tear(victim, m);
	}
	pool->used += bytes;
	if (c->pool_slot == SIZE_MAX) {
		pool->v = roar_xrealloc(pool->v,
					(pool->n + 1) * sizeof(*pool->v));
		c->pool_slot = pool->n;
		pool->v[pool->n++] = c;
	}
	return 0;
}

/*
 * Keep n more bytes of an incomplete frame of total bytes (header
 * included; 0 while its header is incomplete).
 */
static int
hold(struct roar_conn *c, struct roar_merge *m, const unsigned char *src,
     size_t n, size_t total)
{
	size_t need = c->len + n;

	if (need > c->cap) {
		size_t cap = c->cap ? c->cap : HOLD_MIN;

		while (cap < need)
			cap *= 2;
		if (total && cap > total)
			cap = total;
		if (reserve(c, m, cap - c->cap) != 0) {
			tear(c, m);
			return -ENOBUFS;
		}
		c->buf = roar_xrealloc(c->buf, cap);
		c->cap = cap;
	}
	memcpy(c->buf + c->len, src, n);
	c->len += n;
	return 0;
}

/* ---- frames ------------------------------------------------------------ */

/* A big-endian number of n bytes at p. */
static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

#define FLAT_MAX ROAR_CONN_FLAT_MAX

/*
 * (conn.h) A frame that is one map of at most FLAT_MAX entries, each a short
 * string key (fixstr) and a scalar or string value, as nearly every event
 * is, into *root (entries in kv), the way msgpack_unpack_next would make
 * it: strings point into the frame; an unsigned number, or a signed one
 * not below zero, is POSITIVE_INTEGER; a float32 is FLOAT32.  No zone, no
 * allocation.  False for anything else (msgpack-c then takes it), and for
 * a frame with bytes left over or cut short.
 */
bool
roar_conn_flat_unpack(const unsigned char *p, uint32_t n, msgpack_object *root,
		      msgpack_object_kv *kv)
{
	const unsigned char *end = p + n;
	unsigned keys;

	if (!n || (*p & 0xf0) != 0x80)
		return false;
	keys = *p++ & 0x0f;
	if (keys > FLAT_MAX)
		return false;
	for (unsigned i = 0; i < keys; i++) {
		msgpack_object *v = &kv[i].val;
		size_t kl, hl, vl = 0;
		unsigned char t;

		if (p >= end || (*p & 0xe0) != 0xa0)
			return false;
		kl = *p++ & 0x1f;
		if ((size_t)(end - p) < kl + 1)
			return false;
		kv[i].key.type = MSGPACK_OBJECT_STR;
		kv[i].key.via.str.size = (uint32_t)kl;
		kv[i].key.via.str.ptr = (const char *)p;
		p += kl;
		t = *p;
		if (t <= 0x7f) {
			v->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			v->via.u64 = t;
			p++;
			continue;
		}
		if (t >= 0xe0) {
			v->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
			v->via.i64 = (int8_t)t;
			p++;
			continue;
		}
		if ((t & 0xe0) == 0xa0) {
			hl = 1, vl = t & 0x1f;
		} else {
			switch (t) {
			case 0xc0:
			case 0xc2:
			case 0xc3:
				hl = 1;
				break;
			case 0xcc:
			case 0xd0:
			case 0xd9:
			case 0xc4:
				hl = 2;
				break;
			case 0xcd:
			case 0xd1:
			case 0xda:
			case 0xc5:
				hl = 3;
				break;
			case 0xce:
			case 0xd2:
			case 0xca:
			case 0xdb:
			case 0xc6:
				hl = 5;
				break;
			case 0xcf:
			case 0xd3:
			case 0xcb:
				hl = 9;
				break;
			default:
				return false; /* an array, a map, an ext */
			}
		}
		if ((size_t)(end - p) < hl)
			return false;
		switch (t) {
		case 0xc0:
			v->type = MSGPACK_OBJECT_NIL;
			break;
		case 0xc2:
		case 0xc3:
			v->type = MSGPACK_OBJECT_BOOLEAN;
			v->via.boolean = t == 0xc3;
			break;
		case 0xcc:
		case 0xcd:
		case 0xce:
		case 0xcf:
			v->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			v->via.u64 = (uint64_t)be(p + 1, (int)hl - 1);
			break;
		case 0xd0:
		case 0xd1:
		case 0xd2:
		case 0xd3: {
			uint64_t u = (uint64_t)be(p + 1, (int)hl - 1);
			int shift = 64 - 8 * ((int)hl - 1);
			/* sign-extended from its width */
			int64_t x = shift ? (int64_t)(u << shift) >> shift
					  : (int64_t)u;

			if (x < 0) {
				v->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
				v->via.i64 = x;
			} else {
				v->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
				v->via.u64 = (uint64_t)x;
			}
			break;
		}
		case 0xca:
		case 0xcb: {
			uint64_t bits = be(p + 1, (int)hl - 1);
			uint32_t b32 = (uint32_t)bits;
			float f;
			double d;

			memcpy(&f, &b32, sizeof(f));
			memcpy(&d, &bits, sizeof(d));
			v->type = t == 0xca ? MSGPACK_OBJECT_FLOAT32
					    : MSGPACK_OBJECT_FLOAT64;
			v->via.f64 = t == 0xca ? (double)f : d;
			break;
		}
		default: /* a str or a bin */
			if ((t >= 0xc4 && t <= 0xc6) || t >= 0xd9)
				vl = be(p + 1, (int)hl - 1);
			if ((size_t)(end - p) - hl < vl)
				return false;
			v->type = t >= 0xc4 && t <= 0xc6 ? MSGPACK_OBJECT_BIN
							 : MSGPACK_OBJECT_STR;
			v->via.str.size = (uint32_t)vl;
			v->via.str.ptr = (const char *)p + hl;
			break;
		}
		p += hl + vl;
	}
	if (p != end)
		return false;
	root->type = MSGPACK_OBJECT_MAP;
	root->via.map.size = keys;
	root->via.map.ptr = kv;
	return true;
}

/* A frame flat_unpack took (ok), or not. */
struct flat {
	bool ok;
	msgpack_object root;
	msgpack_object_kv kv[FLAT_MAX];
};

/* Apply the frame payload (flen bytes); pre: what flat_unpack made of it
 * already, or NULL. */
static int
apply(struct roar_conn *c, struct roar_merge *m, const unsigned char *payload,
      uint32_t flen, const struct flat *pre, char *err, size_t errlen)
{
	struct flat here;
	const msgpack_object *ev;
	msgpack_unpacked u;
	size_t used = 0;
	uint64_t refused = m->frames_refused;
	bool own = false;
	pid_t alias;
	int rc;

	if (!pre) {
		here.ok = roar_conn_flat_unpack(payload, flen, &here.root,
						here.kv);
		pre = &here;
	}
	ev = &pre->root;
	if (!pre->ok) {
		/* Before msgpack-c, which trusts the counts (mpcheck.h). */
		if (roar_mpcheck_one(payload, flen) != 0)
			return bad(c, m, err, errlen,
				   "payload is not one msgpack value");
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, (const char *)payload, flen,
					&used) != MSGPACK_UNPACK_SUCCESS ||
		    used != flen) {
			msgpack_unpacked_destroy(&u);
			return bad(c, m, err, errlen,
				   "payload is not one msgpack value");
		}
		ev = &u.data;
		own = true;
	}
	if (c->supervisor) {
		/* The kernel named the process in the notification these
		 * frames come of: their "pid" is their sender. */
		const msgpack_object *pid = roar_mp_get(ev, ROAR_KEY_PID);

		m->by_supervisor = true;
		rc = pid && pid->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
				     pid->via.u64 > 0 &&
				     pid->via.u64 <= 0x7fffffff
			     ? roar_merge_event_as(m, ev, (pid_t)pid->via.u64,
						   0)
			     : -EINVAL;
		m->by_supervisor = false;
	} else {
		alias = conn_alias(c, m, ev);
		rc = ledger_frame(c, m, ev, alias)
			     ? roar_merge_event_as(m, ev, c->peer_pid, alias)
			     : 0;
	}
	if (own)
		msgpack_unpacked_destroy(&u);
	if (rc != 0)
		return bad(c, m, err, errlen, "malformed event");
	ledger_got(c, m);
	if (m->frames_refused != refused && c->refused++ == 0)
		snprintf(c->refused_why, sizeof(c->refused_why), "%s",
			 m->refusal);
	c->frames++;
	return 0;
}

static bool
valid_len(uint32_t flen)
{
	return flen != 0 && flen <= ROAR_FRAME_MAX_PAYLOAD;
}

/* Frames taken apart this far ahead of the one merged, their files'
 * slots prefetched meanwhile. */
#define PREFETCH_AHEAD 2
#define RING (PREFETCH_AHEAD + 1)

/* Take apart the whole frame at *at (*left bytes) into *f and prefetch
 * its file's slot, then step over it; false at the end of the whole
 * frames. */
static bool
ahead_one(struct roar_merge *m, const unsigned char **at, size_t *left,
	  struct flat *f)
{
	const msgpack_object *path;
	uint32_t flen;

	if (*left < ROAR_FRAME_HEADER_SIZE)
		return false;
	flen = roar_frame_get_len(*at);
	if (!valid_len(flen) || *left - ROAR_FRAME_HEADER_SIZE < flen)
		return false;
	f->ok = roar_conn_flat_unpack(*at + ROAR_FRAME_HEADER_SIZE, flen,
				      &f->root, f->kv);
	if (f->ok && (path = roar_mp_get(&f->root, ROAR_KEY_PATH)) &&
	    (path->type == MSGPACK_OBJECT_STR ||
	     path->type == MSGPACK_OBJECT_BIN))
		roar_merge_prefetch_file(m, path->via.str.ptr,
					 path->via.str.size);
	*at += ROAR_FRAME_HEADER_SIZE + flen;
	*left -= ROAR_FRAME_HEADER_SIZE + flen;
	return true;
}

/*
 * Frames that arrive whole inside one read are applied where they lie;
 * only an incomplete one is copied, into a buffer of the connection's
 * own, which is given back once the frame is complete.  Idle connections
 * so hold no memory at all.
 */
int
roar_conn_feed(struct roar_conn *c, struct roar_merge *m, const void *data,
	       size_t len, char *err, size_t errlen)
{
	const unsigned char *in = data;
	int rc;

	if (c->evicted)
		return -ENOBUFS;
	if (len)
		c->last_ms = roar_mono_ms();

	/* First complete the frame held from before, with what it lacks. */
	while (len && c->len) {
		size_t total = 0, take;
		uint32_t flen;

		if (c->len < ROAR_FRAME_HEADER_SIZE) {
			take = ROAR_FRAME_HEADER_SIZE - c->len;
		} else {
			flen = roar_frame_get_len(c->buf);
			total = ROAR_FRAME_HEADER_SIZE + (size_t)flen;
			take = total - c->len;
		}
		if (take > len)
			take = len;
		if ((rc = hold(c, m, in, take, total)) != 0)
			return rc;
		in += take;
		len -= take;
		if (c->len < ROAR_FRAME_HEADER_SIZE)
			break;
		flen = roar_frame_get_len(c->buf);
		if (!valid_len(flen)) {
			release(c);
			return bad(c, m, err, errlen, "impossible length");
		}
		if (c->len < ROAR_FRAME_HEADER_SIZE + (size_t)flen)
			continue;
		rc = apply(c, m, c->buf + ROAR_FRAME_HEADER_SIZE, flen, NULL,
			   err, errlen);
		release(c);
		if (rc != 0)
			return rc;
	}

	/* Then every frame wholly inside what came: the file table's slot
	 * of the path a few frames ahead is fetched meanwhile (a miss in a
	 * table of a million paths was half of interning one). */
	struct flat ring[RING];
	const unsigned char *ahead = in;
	size_t ahead_left = len;
	unsigned next = 0, parsed = 0;

	while (parsed < PREFETCH_AHEAD &&
	       ahead_one(m, &ahead, &ahead_left, &ring[parsed % RING]))
		parsed++;
	while (len >= ROAR_FRAME_HEADER_SIZE) {
		uint32_t flen = roar_frame_get_len(in);

		if (!valid_len(flen)) {
			rc = bad(c, m, err, errlen, "impossible length");
			goto out;
		}
		if (len - ROAR_FRAME_HEADER_SIZE < flen) {
			rc = hold(c, m, in, len,
				  ROAR_FRAME_HEADER_SIZE + (size_t)flen);
			goto out;
		}
		if (parsed < next + RING &&
		    ahead_one(m, &ahead, &ahead_left, &ring[parsed % RING]))
			parsed++;
		rc = apply(c, m, in + ROAR_FRAME_HEADER_SIZE, flen,
			   next < parsed ? &ring[next % RING] : NULL, err,
			   errlen);
		next++;
		if (rc != 0)
			goto out;
		in += ROAR_FRAME_HEADER_SIZE + flen;
		len -= ROAR_FRAME_HEADER_SIZE + flen;
	}
	rc = len ? hold(c, m, in, len, 0) : 0;
out:
	/* The prefetched paths' bytes are the caller's, from now on. */
	roar_merge_prefetch_forget(m);
	return rc;
}

int
roar_conn_eof(struct roar_conn *c, struct roar_merge *m)
{
	if (c->len == 0)
		return 0;
	/* A sender that gave up mid-frame (stalled collector): one lost. */
	m->bad_frames++;
	if (c->slot >= 0)
		m->bad_in_ledger++;
	release(c);
	return -EINVAL;
}
