/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packs and writes the report.  Keys roar knows keep exactly roar's
 * meaning; everything of ours (exit codes, cwd, untraced processes, per-
 * process file lists) travels in extra keys roar ignores.  Paths that are
 * not UTF-8 are written as msgpack bin, byte for byte.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callsites.h"
#include "pack.h"
#include "roar/protocol.h"
#include "report.h"
#include "report_schema.h"
#include "symbolize.h"

static const char *const blind_spots[] = {
	"files the C library opens for itself (locale data, /etc/passwd and "
	"other NSS files, gconv modules, time zones) bypass the hooked entry "
	"points",
	"statically linked programs, Go programs and raw system calls are seen "
	"by the seccomp supervisor (traced_by: supervisor) where the kernel "
	"offers user notification; set-user-ID programs, and those where it "
	"could not be armed, are listed with traced: false and the reason",
	"file I/O through io_uring is not seen: a process that sets one up "
	"is marked with unseen: [\"io_uring\"]",
	"files the dynamic loader maps (shared libraries) are not reported",
	"commands glibc starts for itself with the process environment "
	"(wordexp(3) command substitution) run untraced: the library keeps "
	"its variables out of the program's own environment",
};

/* The collector's host name, taken once per report (roar_report_pack). */
static char report_host[256];

static void
take_host_name(void)
{
	if (gethostname(report_host, sizeof(report_host) - 1) != 0 ||
	    !report_host[0])
		strcpy(report_host, "localhost");
	report_host[sizeof(report_host) - 1] = '\0';
}

struct proc_vec {
	const struct roar_proc **v;
	size_t n;
};

static void
collect_proc(struct roar_proc *p, void *arg)
{
	struct proc_vec *pv = arg;

	pv->v[pv->n++] = p;
}

static int
cmp_proc(const void *a, const void *b)
{
	pid_t x = (*(const struct roar_proc *const *)a)->pid;
	pid_t y = (*(const struct roar_proc *const *)b)->pid;

	return (x > y) - (x < y);
}

static int
cmp_file(const void *a, const void *b)
{
	return roar_bytes_cmp(&(*(const struct roar_file *const *)a)->path,
			      &(*(const struct roar_file *const *)b)->path);
}

/* Where a and b first differ, from `from` on, at most end: eight bytes
 * a step (a million paths under one directory share dozens). */
static size_t
common_prefix(const char *a, const char *b, size_t from, size_t end)
{
	size_t k = from;

	for (; k + 8 <= end; k += 8) {
		uint64_t x, y;

		memcpy(&x, a + k, 8);
		memcpy(&y, b + k, 8);
		if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* The lowest differing byte of a little-endian load
			 * is the first differing one. */
			return k + (size_t)(__builtin_ctzll(x ^ y) >> 3);
#else
			break; /* the bytes below find it */
#endif
		}
	}
	while (k < end && a[k] == b[k])
		k++;
	return k;
}

/* The eight bytes of b from k on as a big-endian number, zeros past its
 * end (which no path holds, so a shorter path sorts first). */
static uint64_t
key_at(const struct roar_bytes *b, size_t k)
{
	uint64_t key = 0;

	if (k + 8 <= b->len) {
		unsigned char w[8];

		memcpy(w, b->p + k, 8);
		for (int i = 0; i < 8; i++)
			key = key << 8 | w[i];
		return key;
	}
	for (size_t j = k; j < k + 8; j++)
		key = key << 8 | (j < b->len ? (unsigned char)b->p[j] : 0);
	return key;
}

/*
 * The files in path order (roar_bytes_cmp's), from depth on (the bytes
 * before are the same in all n), MSD first: radix-sorted by the eight
 * bytes after the prefix all n share (big-endian, short paths padded
 * with zeros, which no path holds), then each run of keys alike the same
 * way from eight bytes further.  A million paths under one directory so
 * cost no string comparison at all.
 */
static void
sort_files_from(const struct roar_file **f, size_t n, size_t depth,
		struct roar_kv *v)
{
	size_t lcp;

	if (n < 32) {
		qsort(f, n, sizeof(*f), cmp_file);
		return;
	}
	lcp = f[0]->path.len;
	for (size_t i = 1; i < n && lcp > depth; i++)
		lcp = common_prefix(f[0]->path.p, f[i]->path.p, depth,
				    f[i]->path.len < lcp ? f[i]->path.len
							 : lcp);
	if (lcp < depth)
		lcp = depth;
	for (size_t i = 0; i < n; i++) {
		v[i].key = key_at(&f[i]->path, lcp);
		v[i].val = (uint64_t)(uintptr_t)f[i];
	}
	roar_sort_kv(v, n);
	for (size_t i = 0; i < n; i++)
		f[i] = (const struct roar_file *)(uintptr_t)v[i].val;
	for (size_t i = 0, j; i < n; i = j) {
		uint64_t key = v[i].key;

		for (j = i + 1; j < n && v[j].key == key; j++)
			;
		if (j - i > 1)
			sort_files_from(f + i, j - i, lcp + 8, v + i);
	}
}

static void
sort_files(const struct roar_merge *m, const struct roar_file **sorted)
{
	struct roar_kv *v = roar_xmalloc((m->nfiles + 1) * sizeof(*v));

	if (m->nfiles)
		memcpy(sorted, m->file_list, m->nfiles * sizeof(*sorted));
	sort_files_from(sorted, m->nfiles, 0, v);
	free(v);
}

/* Whether an environment variable's name looks like it holds a secret
 * (case-insensitively contains one of these). */
static bool
secret_name(const char *name, size_t len)
{
#define WORD(w)                  \
	{                        \
		w, sizeof(w) - 1 \
	}
	static const struct {
		const char *w;
		size_t len;
	} words[] = { WORD("TOKEN"),  WORD("SECRET"), WORD("PASSWORD"),
		      WORD("PASSWD"), WORD("KEY"),    WORD("CREDENTIAL"),
		      WORD("AUTH") };
#undef WORD

	/* A word's first letter is looked for before the word (a call of
	 * strncasecmp at every offset for every word was most of a
	 * thousand processes' report). */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i] | 0x20;

		for (size_t k = 0; k < ROAR_ARRAY_SIZE(words); k++)
			if (c == ((unsigned char)words[k].w[0] | 0x20) &&
			    i + words[k].len <= len &&
			    !strncasecmp(name + i, words[k].w, words[k].len))
				return true;
	}
	return false;
}

static void
pack_env(msgpack_packer *pk, const struct roar_strv *env, bool keep_secrets)
{
	size_t n = 0;

	for (size_t i = 0; env && i < env->n; i++)
		if (memchr(env->v[i].p, '=', env->v[i].len))
			n++;
	msgpack_pack_map(pk, n);
	for (size_t i = 0; env && i < env->n; i++) {
		const char *eq = memchr(env->v[i].p, '=', env->v[i].len);

		if (!eq)
			continue;
		size_t nlen = (size_t)(eq - env->v[i].p);

		roar_pack_bytes(pk, env->v[i].p, nlen);
		if (!keep_secrets && secret_name(env->v[i].p, nlen))
			roar_pack_cstr(pk, ROAR_REDACTED);
		else
			roar_pack_bytes(pk, eq + 1, env->v[i].len - nlen - 1);
	}
}

/*
 * Which files each process touched, grouped by process once for the whole
 * report (one pass over the access map, one sort), instead of asking the
 * map for every (process, file) pair.
 */
struct access_index {
	/* key: pid << 32 | rank (the file's position in the sorted list);
	 * val: its ROAR_ACCESS_* bits.  Sorted by key. */
	struct roar_kv *v;
	size_t n;
};

#define ENTRY_PID(e) ((pid_t)((e)->key >> 32))
#define ENTRY_RANK(e) ((uint32_t)(e)->key)

/*
 * Which files each process touched, by (pid, rank).  A file's first
 * process (most pairs: a million files read by one process are a million
 * of them) is put at its file's rank, which leaves those entries in rank
 * order, then stably sorted by the pid's bytes alone (nothing to do for
 * one process); the few other pairs are sorted whole; then the two are
 * merged.  Sorting all of them by the whole key was a third of a
 * million-file report.
 */
/* The pairs of the access map, keyed as the index is. */
struct later_ctx {
	struct roar_kv *v;
	const uint32_t *rank;
	size_t n;
};

static void
later_one(const struct roar_file *f, pid_t pid, unsigned bits, void *arg)
{
	struct later_ctx *c = arg;

	c->v[c->n].key = (uint64_t)(uint32_t)pid << 32 | c->rank[f->index];
	c->v[c->n++].val = bits;
}

static void
index_access(const struct roar_merge *m, const struct roar_file **sorted,
	     struct access_index *ix)
{
	struct later_ctx later;
	size_t n = m->nfiles, nb = m->access.count, na = 0, i, j, k;
	uint32_t *rank = roar_xmalloc((n + 1) * sizeof(*rank));
	/* The first processes' entries in front, then room for the rest. */
	struct roar_kv *a = roar_xmalloc((n + nb + 1) * sizeof(*a));
	struct roar_kv *b = roar_xmalloc((nb + 1) * sizeof(*b));

	for (k = 0; k < n; k++)
		rank[sorted[k]->index] = (uint32_t)k;
	for (k = 0; k < n; k++) {
		const struct roar_file *f = m->file_list[k];

		a[rank[k]].key = f->first_pid ? (uint64_t)(uint32_t)f->first_pid
								<< 32 |
							rank[k]
					      : UINT64_MAX;
		a[rank[k]].val = f->first_bits;
	}
	for (k = 0; k < n; k++)
		if (a[k].key != UINT64_MAX)
			a[na++] = a[k];
	roar_sort_kv_from(a, na, 4);
	later.v = b;
	later.rank = rank;
	later.n = 0;
	roar_merge_each_later_access(m, later_one, &later);
	nb = later.n;
	roar_sort_kv(b, nb);
	/* Merged from the back, in place: a's entries move up only. */
	for (i = na, j = nb, k = na + nb; j > 0;)
		a[--k] = i > 0 && a[i - 1].key > b[j - 1].key ? a[--i] : b[--j];
	ix->v = a;
	ix->n = na + nb;
	free(b);
	free(rank);
}

/* A path as roar_pack_bytes packs it, its UTF-8 check made once. */
static inline void
stage_path(struct roar_stage *st, const struct roar_file *f)
{
	roar_stage_bytes(st, f->path.p, f->path.len, f->utf8);
}

/* The files of one process with the given access bit, sorted by path. */
static void
pack_proc_files(msgpack_packer *pk, const struct access_index *ix,
		const struct roar_file **sorted, pid_t pid, uintptr_t bit,
		struct roar_stage *st)
{
	size_t lo = 0, hi = ix->n, n = 0;

	while (lo < hi) { /* first entry of pid */
		size_t mid = lo + (hi - lo) / 2;

		if (ENTRY_PID(&ix->v[mid]) < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < ix->n && ENTRY_PID(&ix->v[i]) == pid; i++)
		n += (ix->v[i].val & bit) != 0;
	st->pk = pk;
	st->n = 0;
	roar_stage_array(st, n);
	for (size_t i = lo; i < ix->n && ENTRY_PID(&ix->v[i]) == pid; i++)
		if (ix->v[i].val & bit)
			stage_path(st, sorted[ENTRY_RANK(&ix->v[i])]);
	roar_stage_flush(st);
}

/* The optional keys of a process (report_schema.h): fd_yields and
 * callsites only where there were some, so that the rest read as before. */
static bool
roar_r_has_PROC_FD_YIELDS(const struct roar_proc *p)
{
	return p->fd_yields > 0;
}

static bool
roar_r_has_PROC_CALLSITES(const struct roar_proc *p)
{
	return roar_callsites_any(p);
}

static bool
roar_r_has_PROC_UNSEEN(const struct roar_proc *p)
{
	return p->unseen_io_uring || p->unseen_memory;
}

static void
pack_process(msgpack_packer *pk, const struct roar_merge *m,
	     const struct roar_proc *p, const struct roar_file **sorted,
	     const struct access_index *ix, struct roar_symbolizer *sym,
	     struct roar_stage *st)
{
	const struct roar_strv *cmd = roar_merge_command(m, p);
	const struct roar_strv *env = roar_merge_env(m, p);
	const struct roar_bytes *cwd = roar_merge_cwd(m, p);
	const struct roar_image *im = roar_proc_image(p);
	char why[PATH_MAX + 256];
	const char *reason = roar_merge_untraced_reason(m, p, why, sizeof(why));
	pid_t parent = roar_merge_parent(m, p);
	bool has_code = false, has_sig = false;
	int code = 0, sig = 0;

	if (p->has_wait && WIFEXITED(p->wait_status)) {
		has_code = true;
		code = WEXITSTATUS(p->wait_status);
	} else if (p->has_wait && WIFSIGNALED(p->wait_status)) {
		has_sig = true;
		sig = WTERMSIG(p->wait_status);
	} else if (p->has_exit) {
		has_code = true;
		code = p->exit_code;
	}

	msgpack_pack_map(pk, ROAR_R_SINGLE_SIZE(ROAR_REPORT_PROC_KEYS, p));
	roar_pack_key(pk, ROAR_R_PROC_PID);
	msgpack_pack_int64(pk, p->pid);
	/* Pids are the host's: a merge of reports of several hosts
	 * (roar-report merge, docs/multi-host.md) tells them apart by it. */
	roar_pack_key(pk, ROAR_R_PROC_HOST);
	roar_pack_cstr(pk, report_host);
	roar_pack_key(pk, ROAR_R_PROC_PARENT_PID);
	roar_pack_int_or_nil(pk, parent != 0, parent);
	roar_pack_key(pk, ROAR_R_PROC_COMMAND);
	msgpack_pack_array(pk, cmd ? cmd->n : 0);
	for (size_t i = 0; cmd && i < cmd->n; i++)
		roar_pack_bytes(pk, cmd->v[i].p, cmd->v[i].len);
	roar_pack_key(pk, ROAR_R_PROC_ENV);
	pack_env(pk, env, m->keep_secrets);
	/* Ours from here on: roar ignores keys it does not know. */
	roar_pack_key(pk, ROAR_R_PROC_CWD);
	roar_pack_bytes_or_nil(pk, cwd);
	roar_pack_key(pk, ROAR_R_PROC_EXE);
	if (im && im->exe.p && !(reason && p->has_exec))
		roar_pack_bytes(pk, im->exe.p, im->exe.len);
	else if (p->has_exec && p->exec_exe.p)
		roar_pack_bytes(pk, p->exec_exe.p, p->exec_exe.len);
	else
		msgpack_pack_nil(pk);
	roar_pack_key(pk, ROAR_R_PROC_EXIT_CODE);
	roar_pack_int_or_nil(pk, has_code, code);
	roar_pack_key(pk, ROAR_R_PROC_EXIT_SIGNAL);
	roar_pack_int_or_nil(pk, has_sig, sig);
	roar_pack_key(pk, ROAR_R_PROC_TRACED);
	roar_pack_bool(pk, !reason);
	roar_pack_key(pk, ROAR_R_PROC_UNTRACED_REASON);
	roar_pack_cstr_or_nil(pk, reason);
	roar_pack_key(pk, ROAR_R_PROC_TRACED_BY);
	roar_pack_cstr(pk, roar_merge_traced_by(p, reason != NULL));
	roar_pack_key(pk, ROAR_R_PROC_STILL_RUNNING);
	roar_pack_bool(pk, p->still_running);
	/* Events of its that never reached the report, and whether the
	 * ledger knows its stream to be incomplete (some never arrived). */
	roar_pack_key(pk, ROAR_R_PROC_EVENTS_DROPPED);
	msgpack_pack_uint64(pk, p->dropped);
	roar_pack_key(pk, ROAR_R_PROC_INCOMPLETE);
	roar_pack_bool(pk, p->incomplete);
	roar_pack_key(pk, ROAR_R_PROC_PARENT_INFERRED);
	roar_pack_bool(pk, parent && parent != p->ppid);
	roar_pack_key(pk, ROAR_R_PROC_START_TIME);
	msgpack_pack_double(pk, p->start_time);
	roar_pack_key(pk, ROAR_R_PROC_END_TIME);
	if (p->end_time > 0)
		msgpack_pack_double(pk, p->end_time);
	else
		msgpack_pack_nil(pk);
	roar_pack_key(pk, ROAR_R_PROC_READ_PATHS);
	pack_proc_files(pk, ix, sorted, p->pid, ROAR_ACCESS_READ, st);
	roar_pack_key(pk, ROAR_R_PROC_WRITTEN_PATHS);
	pack_proc_files(pk, ix, sorted, p->pid, ROAR_ACCESS_WRITE, st);
	if (roar_r_has_PROC_UNSEEN(p)) {
		roar_pack_key(pk, ROAR_R_PROC_UNSEEN);
		msgpack_pack_array(pk, p->unseen_io_uring + p->unseen_memory);
		if (p->unseen_io_uring)
			roar_pack_cstr(pk, ROAR_UNSEEN_IO_URING);
		if (p->unseen_memory)
			roar_pack_cstr(pk, ROAR_UNSEEN_MEMORY);
	}
	if (roar_r_has_PROC_FD_YIELDS(p)) {
		roar_pack_key(pk, ROAR_R_PROC_FD_YIELDS);
		msgpack_pack_uint64(pk, p->fd_yields);
	}
	/* Call sites only where there were some (callsites.c). */
	if (roar_r_has_PROC_CALLSITES(p)) {
		roar_pack_key(pk, ROAR_R_PROC_CALLSITES);
		roar_callsites_pack(pk, m, p, sym);
	}
	/* command or env above is a prefix of what the process had: its
	 * sender's frame or the collector's caps (caps.h) cut it. */
	roar_pack_key(pk, ROAR_R_PROC_TRUNCATED);
	roar_pack_bool(pk, roar_merge_truncated(m, p));
}

static void
pack_path_list(struct roar_stage *st, const struct roar_file **sorted, size_t n,
	       bool want_read, bool want_write)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if ((want_read && sorted[i]->read) ||
		    (want_write && sorted[i]->written))
			k++;
	roar_stage_array(st, k);
	for (size_t i = 0; i < n; i++)
		if ((want_read && sorted[i]->read) ||
		    (want_write && sorted[i]->written))
			stage_path(st, sorted[i]);
}

/* The files, and the opened, read and written lists. */
static void
pack_files(msgpack_packer *pk, const struct roar_file **sorted, size_t n,
	   struct roar_stage *st)
{
	st->pk = pk;
	st->n = 0;
	roar_stage_array(st, n);
	for (size_t i = 0; i < n; i++) {
		const struct roar_file *f = sorted[i];
		const pid_t *rt = roar_file_read_tids(f);
		const pid_t *wt = roar_file_written_tids(f);

		roar_stage_map(st, ROAR_R_SIZE(ROAR_REPORT_FILE_KEYS));
		roar_stage_key(st, ROAR_R_FILE_PATH);
		stage_path(st, f);
		roar_stage_key(st, ROAR_R_FILE_READ);
		roar_stage_bool(st, f->read);
		roar_stage_key(st, ROAR_R_FILE_WRITTEN);
		roar_stage_bool(st, f->written);
		roar_stage_key(st, ROAR_R_FILE_READ_THREADS);
		roar_stage_array(st, f->n_read_tids);
		for (uint32_t t = 0; t < f->n_read_tids; t++)
			roar_stage_int64(st, rt[t]);
		roar_stage_key(st, ROAR_R_FILE_WRITTEN_THREADS);
		roar_stage_array(st, f->n_written_tids);
		for (uint32_t t = 0; t < f->n_written_tids; t++)
			roar_stage_int64(st, wt[t]);
	}
	roar_stage_key(st, ROAR_R_TOP_OPENED_FILES);
	pack_path_list(st, sorted, n, true, true);
	roar_stage_key(st, ROAR_R_TOP_READ_FILES);
	pack_path_list(st, sorted, n, true, false);
	roar_stage_key(st, ROAR_R_TOP_WRITTEN_FILES);
	pack_path_list(st, sorted, n, false, true);
	roar_stage_flush(st);
}

void
roar_report_pack(const struct roar_merge *m, msgpack_sbuffer *sbuf)
{
	roar_report_pack_to(m, sbuf, msgpack_sbuffer_write);
}

void
roar_report_pack_to(const struct roar_merge *m, void *data,
		    msgpack_packer_write write)
{
	msgpack_packer pk;
	struct proc_vec pv = { roar_xcalloc(m->procs.count + 1, sizeof(*pv.v)),
			       0 };
	const struct roar_file **sorted =
		roar_xcalloc(m->nfiles + 1, sizeof(*sorted));
	struct access_index ix;
	/* Call sites are symbolized now, after the run, never while it
	 * goes on. */
	struct roar_symbolizer *sym = roar_symbolizer_new();
	struct roar_stage *st = roar_xmalloc(sizeof(*st));

	roar_merge_each_proc((struct roar_merge *)m, collect_proc, &pv);
	qsort(pv.v, pv.n, sizeof(*pv.v), cmp_proc);
	sort_files(m, sorted);

	index_access(m, sorted, &ix);
	take_host_name();
	msgpack_packer_init(&pk, data, write);
	msgpack_pack_map(&pk, ROAR_R_SIZE(ROAR_REPORT_TOP_KEYS));
	roar_pack_key(&pk, ROAR_R_TOP_VERSION);
	msgpack_pack_int(&pk, 1);
	roar_pack_key(&pk, ROAR_R_TOP_PROCESSES);
	msgpack_pack_array(&pk, pv.n);
	for (size_t i = 0; i < pv.n; i++)
		pack_process(&pk, m, pv.v[i], sorted, &ix, sym, st);
	roar_symbolizer_free(sym);
	roar_pack_key(&pk, ROAR_R_TOP_FILES);
	pack_files(&pk, sorted, m->nfiles, st);
	roar_pack_key(&pk, ROAR_R_TOP_START_TIME);
	msgpack_pack_double(&pk, m->start_time);
	roar_pack_key(&pk, ROAR_R_TOP_END_TIME);
	msgpack_pack_double(&pk, m->end_time);
	roar_pack_key(&pk, ROAR_R_TOP_TRACER_MODE);
	roar_pack_cstr(&pk, ROAR_R_TRACER_MODE_PRELOAD);
	roar_pack_key(&pk, ROAR_R_TOP_EVENTS_DROPPED);
	msgpack_pack_uint64(&pk, roar_merge_dropped(m) + m->bad_frames -
					 m->bad_in_ledger);
	/* Ours: frames the identity rules refused (a sender speaking for a
	 * process it may not).  Not the program's events, so not above. */
	roar_pack_key(&pk, ROAR_R_TOP_FRAMES_REFUSED);
	msgpack_pack_uint64(&pk, m->frames_refused);
	/* Ours: connections closed for want of file descriptors (collect.c).
	 * What their senders sent on them is in events_dropped through the
	 * ledger (tally.c), when there is one. */
	roar_pack_key(&pk, ROAR_R_TOP_CONNECTIONS_REFUSED);
	msgpack_pack_uint64(&pk, m->limits.connections_refused);
	/* Ours: which processes wrote and read each pipe (pipes.h). */
	roar_pack_key(&pk, ROAR_R_TOP_PIPES);
	roar_pipes_pack(&m->pipes, &pk);
	roar_pack_key(&pk, ROAR_R_TOP_ROAR_PRELOAD);
	msgpack_pack_map(&pk, ROAR_R_SIZE(ROAR_REPORT_PRELOAD_KEYS));
	roar_pack_key(&pk, ROAR_R_RP_VERSION);
	roar_pack_cstr(&pk, ROAR_VERSION);
	/* Whether the counts above come from the ledger (exact, even for
	 * processes killed mid-stream) or from the senders' own reports. */
	roar_pack_key(&pk, ROAR_R_RP_LEDGER);
	roar_pack_bool(&pk, m->ledger_on);
	roar_pack_key(&pk, ROAR_R_RP_LEDGER_UNBELIEVED);
	msgpack_pack_uint64(&pk, m->ledger_mismatch + m->ledger_overflow);
	roar_pack_key(&pk, ROAR_R_RP_ROOT_PID);
	msgpack_pack_int64(&pk, m->root_pid);
	roar_pack_key(&pk, ROAR_R_RP_BAD_FRAMES);
	msgpack_pack_uint64(&pk, m->bad_frames);
	roar_pack_key(&pk, ROAR_R_RP_UNKNOWN_EVENTS);
	msgpack_pack_uint64(&pk, m->unknown_events);
	/* The costs of the caps in caps.h (torn frames are bad frames). */
	roar_pack_key(&pk, ROAR_R_RP_FRAMES_TORN);
	msgpack_pack_uint64(&pk, m->limits.frames_torn);
	roar_pack_key(&pk, ROAR_R_RP_BYTES_TORN);
	msgpack_pack_uint64(&pk, m->limits.bytes_torn);
	roar_pack_key(&pk, ROAR_R_RP_LISTS_TRUNCATED);
	msgpack_pack_uint64(&pk, m->limits.lists_truncated);
	/* What no LD_PRELOAD tracer can see, said in every report rather
	 * than left for the reader to guess.  Untraced processes are listed
	 * one by one under processes. */
	roar_pack_key(&pk, ROAR_R_RP_BLIND_SPOTS);
	msgpack_pack_array(&pk, ROAR_ARRAY_SIZE(blind_spots));
	for (size_t i = 0; i < ROAR_ARRAY_SIZE(blind_spots); i++)
		roar_pack_cstr(&pk, blind_spots[i]);
	/* The seccomp supervisor's counts (supervise.h); "unrecorded":
	 * watched calls let go while it could not answer (a stopped or
	 * killed collector), whose credits are missing. */
	roar_pack_key(&pk, ROAR_R_RP_SUPERVISOR);
	msgpack_pack_map(&pk, 5);
	roar_pack_key(&pk, "listeners");
	msgpack_pack_uint64(&pk, m->sup_stats.listeners);
	roar_pack_key(&pk, "notifications");
	msgpack_pack_uint64(&pk, m->sup_stats.notifications);
	roar_pack_key(&pk, "unreadable");
	msgpack_pack_uint64(&pk, m->sup_stats.unreadable);
	roar_pack_key(&pk, "unrecorded");
	msgpack_pack_uint64(&pk, m->sup_stats.unrecorded);
	roar_pack_key(&pk, "left_running");
	msgpack_pack_uint64(&pk, m->sup_stats.handed_on);
	free(pv.v);
	free(sorted);
	free(ix.v);
	free(st);
}
