/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The module table of call sites: a fixed per-process table of the
 * executable mappings the captured addresses fell in, filled from
 * /proc/self/maps (read with raw system calls into a stack buffer) the
 * first time an address of a mapping is seen, so that each address
 * becomes a module id and a file offset.  The collector learns what an id
 * names from the frame that used it first.  Lock-free: slots are claimed
 * with an atomic add and published with a release store.  No malloc, no
 * lock, no hooked call; never unwinds (backtrace_unwind.c) nor sends.
 */
#include "config.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>

#include "backtrace_int.h"
#include "real.h"

#define MOD_MAX 128u
#define NAME_POOL (32u * 1024u)

/* One executable mapping.  Written once by the thread that claimed it,
 * then published by ready (release); read only after ready (acquire). */
struct mod {
	_Atomic bool ready;
	uintptr_t start;
	uintptr_t end;
	uintptr_t pgoff;
	uint32_t name_off;
	uint32_t name_len;
};

static struct mod mods[MOD_MAX];
static _Atomic unsigned nmods;
static char name_pool[NAME_POOL];
static _Atomic unsigned pool_used;

int
roar_backtrace_find_mod(uintptr_t ip)
{
	unsigned n = atomic_load_explicit(&nmods, memory_order_acquire);

	if (n > MOD_MAX)
		n = MOD_MAX;
	for (unsigned i = 0; i < n; i++) {
		struct mod *m = &mods[i];

		if (atomic_load_explicit(&m->ready, memory_order_acquire) &&
		    ip >= m->start && ip < m->end)
			return (int)i;
	}
	return -1;
}

/* Parse a hex number at *s, advancing it. */
static uintptr_t
hex(const char **s, const char *end)
{
	uintptr_t v = 0;

	for (; *s < end; (*s)++) {
		char c = **s;

		if (c >= '0' && c <= '9')
			v = v << 4 | (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uintptr_t)(c - 'a' + 10);
		else
			break;
	}
	return v;
}

static const char *
skip_field(const char *s, const char *end)
{
	while (s < end && *s != ' ')
		s++;
	while (s < end && *s == ' ')
		s++;
	return s;
}

/* One line of /proc/self/maps: "start-end perms off dev inode   name". */
struct maps_line {
	uintptr_t start, end, pgoff;
	bool exec;
	const char *name;
	size_t len;
};

static bool
parse_line(const char *s, const char *end, struct maps_line *l)
{
	l->start = hex(&s, end);
	if (s >= end || *s != '-')
		return false;
	s++;
	l->end = hex(&s, end);
	s = skip_field(s, end);
	l->exec = end - s > 2 && s[2] == 'x';
	s = skip_field(s, end);
	l->pgoff = hex(&s, end);
	s = skip_field(s, end); /* offset */
	s = skip_field(s, end); /* dev */
	s = skip_field(s, end); /* inode */
	l->name = s;
	l->len = (size_t)(end - s);
	return true;
}

/* Claim a slot for l and note it in cs as new; -1 when the table is full. */
static int
add_mod(const struct maps_line *l, struct roar_callsite *cs)
{
	unsigned i = atomic_fetch_add(&nmods, 1u);
	unsigned off, len = (unsigned)l->len;
	struct mod *m;

	if (i >= MOD_MAX)
		return -1;
	m = &mods[i];
	off = atomic_fetch_add(&pool_used, len);
	if (off > NAME_POOL || len > NAME_POOL - off)
		len = 0; /* out of room for names: sent as "" */
	else
		memcpy(name_pool + off, l->name, len);
	m->start = l->start;
	m->end = l->end;
	m->pgoff = l->pgoff;
	m->name_off = off;
	m->name_len = len;
	atomic_store_explicit(&m->ready, true, memory_order_release);
	if (cs->nnew < ROAR_CALLSITE_NEW_MAX)
		cs->mod[cs->nnew++] =
			(struct roar_callsite_module){ i, name_pool + off,
						       len };
	return (int)i;
}

/* Whether l covers an address of ips[0..n) that no slot covers yet. */
static bool
covers_unknown(const struct maps_line *l, const uintptr_t *ips, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ips[i] >= l->start && ips[i] < l->end &&
		    roar_backtrace_find_mod(ips[i]) < 0)
			return true;
	return false;
}

/* Lines longer than the buffer keep the start of their name. */
void __attribute__((noinline))
roar_backtrace_learn_mods(const uintptr_t *ips, unsigned n,
			  struct roar_callsite *cs)
{
	char buf[1024];
	size_t have = 0;
	bool eof = false, skipping = false;
	long fd;

	fd = ROAR_SYS(SYS_openat, AT_FDCWD, "/proc/self/maps",
		      O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (!eof || have) {
		char *nl;
		size_t used;

		if (!eof && have < sizeof(buf)) {
			long r = ROAR_SYS(SYS_read, (int)fd, buf + have,
					  sizeof(buf) - have);

			if (r <= 0)
				eof = true;
			else
				have += (size_t)r;
		}
		nl = memchr(buf, '\n', have);
		if (!nl && !eof && have < sizeof(buf))
			continue;
		used = nl ? (size_t)(nl - buf) + 1 : have;
		if (!skipping) {
			struct maps_line l;

			if (parse_line(buf,
				       buf + (nl ? (size_t)(nl - buf) : have),
				       &l) &&
			    l.exec && covers_unknown(&l, ips, n))
				add_mod(&l, cs);
		}
		/* A line that did not fit: the rest of it is skipped. */
		skipping = !nl;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	ROAR_SYS(SYS_close, (int)fd);
}

uint64_t
roar_backtrace_mod_offset(int k, uintptr_t ip)
{
	return ip - mods[k].start + mods[k].pgoff;
}

void
roar_backtrace_mods_reset(void)
{
	/* Only this thread runs in the child: plain stores are enough. */
	for (unsigned i = 0; i < MOD_MAX; i++)
		atomic_store_explicit(&mods[i].ready, false,
				      memory_order_relaxed);
	atomic_store(&nmods, 0);
	atomic_store(&pool_used, 0);
}
