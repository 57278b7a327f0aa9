/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packs and writes the report.  Keys roar knows keep exactly roar's
 * meaning; everything of ours (exit codes, cwd, untraced processes, per-
 * process file lists) travels in extra keys roar ignores.  Paths that are
 * not UTF-8 are written as msgpack bin, byte for byte.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roar/utf8.h"
#include "mpcheck.h"
#include "callsites.h"
#include "report.h"
#include "symbolize.h"

static void
key(msgpack_packer *pk, const char *k)
{
	msgpack_pack_str(pk, strlen(k));
	msgpack_pack_str_body(pk, k, strlen(k));
}

static void
bytes(msgpack_packer *pk, const char *p, size_t len)
{
	if (roar_utf8_valid(p, len)) {
		msgpack_pack_str(pk, len);
		msgpack_pack_str_body(pk, p, len);
	} else {
		msgpack_pack_bin(pk, len);
		msgpack_pack_bin_body(pk, p, len);
	}
}

static void
cstr(msgpack_packer *pk, const char *s)
{
	bytes(pk, s, strlen(s));
}

static const char *const blind_spots[] = {
	"files the C library opens for itself (locale data, /etc/passwd and "
	"other NSS files, gconv modules, time zones) bypass the hooked entry "
	"points",
	"statically linked and set-user-ID programs, and raw system calls made "
	"without libc's syscall(), are not seen; such processes are listed "
	"with traced: false",
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

/* Whether an environment variable's name looks like it holds a secret
 * (case-insensitively contains one of these). */
static bool
secret_name(const char *name, size_t len)
{
	static const char *const words[] = { "TOKEN", "SECRET", "PASSWORD",
					     "PASSWD", "KEY", "CREDENTIAL",
					     "AUTH" };

	for (size_t w = 0; w < ROAR_ARRAY_SIZE(words); w++) {
		size_t wl = strlen(words[w]);

		for (size_t i = 0; i + wl <= len; i++)
			if (!strncasecmp(name + i, words[w], wl))
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

		bytes(pk, env->v[i].p, nlen);
		if (!keep_secrets && secret_name(env->v[i].p, nlen))
			cstr(pk, ROAR_REDACTED);
		else
			bytes(pk, eq + 1, env->v[i].len - nlen - 1);
	}
}

static void
pack_tids(msgpack_packer *pk, const pid_t *v, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_int64(pk, v[i]);
}

/*
 * Which files each process touched, grouped by process once for the whole
 * report (one pass over the access map, one sort), instead of asking the
 * map for every (process, file) pair.
 */
struct access_entry {
	pid_t pid;
	uint32_t rank; /* position of the file in the sorted file list */
	uintptr_t bits;
};

struct access_index {
	struct access_entry *v;
	size_t n;
};

static int
cmp_access(const void *a, const void *b)
{
	const struct access_entry *x = a, *y = b;

	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	return (x->rank > y->rank) - (x->rank < y->rank);
}

static void
index_access(const struct roar_merge *m, const struct roar_file **sorted,
	     struct access_index *ix)
{
	uint32_t *rank = roar_xcalloc(m->nfiles + 1, sizeof(*rank));

	for (size_t i = 0; i < m->nfiles; i++)
		rank[sorted[i]->index] = (uint32_t)i;
	ix->v = roar_xcalloc(m->access.count + 1, sizeof(*ix->v));
	ix->n = 0;
	for (size_t i = 0; i < m->access.cap; i++) {
		if (!m->access.used[i])
			continue;
		ix->v[ix->n].pid = (pid_t)(uint32_t)m->access.keys[i];
		ix->v[ix->n].rank = rank[m->access.keys[i] >> 32];
		ix->v[ix->n].bits = (uintptr_t)m->access.vals[i];
		ix->n++;
	}
	qsort(ix->v, ix->n, sizeof(*ix->v), cmp_access);
	free(rank);
}

/* The files of one process with the given access bit, sorted by path. */
static void
pack_proc_files(msgpack_packer *pk, const struct access_index *ix,
		const struct roar_file **sorted, pid_t pid, uintptr_t bit)
{
	size_t lo = 0, hi = ix->n, n = 0;

	while (lo < hi) { /* first entry of pid */
		size_t mid = lo + (hi - lo) / 2;

		if (ix->v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < ix->n && ix->v[i].pid == pid; i++)
		n += (ix->v[i].bits & bit) != 0;
	msgpack_pack_array(pk, n);
	for (size_t i = lo; i < ix->n && ix->v[i].pid == pid; i++)
		if (ix->v[i].bits & bit)
			bytes(pk, sorted[ix->v[i].rank]->path.p,
			      sorted[ix->v[i].rank]->path.len);
}

static void
pack_process(msgpack_packer *pk, const struct roar_merge *m,
	     const struct roar_proc *p, const struct roar_file **sorted,
	     const struct access_index *ix, struct roar_symbolizer *sym)
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

	/* fd_yields only where there were some: the rest read as before. */
	msgpack_pack_map(pk, 20 + (p->fd_yields > 0) + roar_callsites_any(p));
	key(pk, "pid");
	msgpack_pack_int64(pk, p->pid);
	/* Pids are the host's: a merge of reports of several hosts
	 * (roar-report merge, docs/multi-host.md) tells them apart by it. */
	key(pk, "host");
	cstr(pk, report_host);
	key(pk, "parent_pid");
	if (parent)
		msgpack_pack_int64(pk, parent);
	else
		msgpack_pack_nil(pk);
	key(pk, "command");
	msgpack_pack_array(pk, cmd ? cmd->n : 0);
	for (size_t i = 0; cmd && i < cmd->n; i++)
		bytes(pk, cmd->v[i].p, cmd->v[i].len);
	key(pk, "env");
	pack_env(pk, env, m->keep_secrets);
	/* Ours from here on: roar ignores keys it does not know. */
	key(pk, "cwd");
	if (cwd)
		bytes(pk, cwd->p, cwd->len);
	else
		msgpack_pack_nil(pk);
	key(pk, "exe");
	if (im && im->exe.p && !(reason && p->has_exec))
		bytes(pk, im->exe.p, im->exe.len);
	else if (p->has_exec && p->exec_exe.p)
		bytes(pk, p->exec_exe.p, p->exec_exe.len);
	else
		msgpack_pack_nil(pk);
	key(pk, "exit_code");
	if (has_code)
		msgpack_pack_int(pk, code);
	else
		msgpack_pack_nil(pk);
	key(pk, "exit_signal");
	if (has_sig)
		msgpack_pack_int(pk, sig);
	else
		msgpack_pack_nil(pk);
	key(pk, "traced");
	if (reason)
		msgpack_pack_false(pk);
	else
		msgpack_pack_true(pk);
	key(pk, "untraced_reason");
	if (reason)
		cstr(pk, reason);
	else
		msgpack_pack_nil(pk);
	key(pk, "still_running");
	if (p->still_running)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	/* Events of its that never reached the report, and whether the
	 * ledger knows its stream to be incomplete (some never arrived). */
	key(pk, "events_dropped");
	msgpack_pack_uint64(pk, p->dropped);
	key(pk, "incomplete");
	if (p->incomplete)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	key(pk, "parent_inferred");
	if (parent && parent != p->ppid)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	key(pk, "start_time");
	msgpack_pack_double(pk, p->start_time);
	key(pk, "end_time");
	if (p->end_time > 0)
		msgpack_pack_double(pk, p->end_time);
	else
		msgpack_pack_nil(pk);
	key(pk, "read_paths");
	pack_proc_files(pk, ix, sorted, p->pid, ROAR_ACCESS_READ);
	key(pk, "written_paths");
	pack_proc_files(pk, ix, sorted, p->pid, ROAR_ACCESS_WRITE);
	if (p->fd_yields > 0) {
		key(pk, "fd_yields");
		msgpack_pack_uint64(pk, p->fd_yields);
	}
	/* Call sites only where there were some (callsites.c). */
	if (roar_callsites_any(p))
		roar_callsites_pack(pk, m, p, sym);
	/* command or env above is a prefix of what the process had: its
	 * sender's frame or the collector's caps (caps.h) cut it. */
	key(pk, "truncated");
	if (roar_merge_truncated(m, p))
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void
pack_path_list(msgpack_packer *pk, const struct roar_file **sorted, size_t n,
	       bool want_read, bool want_write)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if ((want_read && sorted[i]->read) ||
		    (want_write && sorted[i]->written))
			k++;
	msgpack_pack_array(pk, k);
	for (size_t i = 0; i < n; i++)
		if ((want_read && sorted[i]->read) ||
		    (want_write && sorted[i]->written))
			bytes(pk, sorted[i]->path.p, sorted[i]->path.len);
}

void
roar_report_pack(const struct roar_merge *m, msgpack_sbuffer *sbuf)
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

	roar_merge_each_proc((struct roar_merge *)m, collect_proc, &pv);
	qsort(pv.v, pv.n, sizeof(*pv.v), cmp_proc);
	if (m->nfiles)
		memcpy(sorted, m->file_list, m->nfiles * sizeof(*sorted));
	qsort(sorted, m->nfiles, sizeof(*sorted), cmp_file);

	index_access(m, sorted, &ix);
	take_host_name();
	msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 14);
	key(&pk, "version");
	msgpack_pack_int(&pk, 1);
	key(&pk, "processes");
	msgpack_pack_array(&pk, pv.n);
	for (size_t i = 0; i < pv.n; i++)
		pack_process(&pk, m, pv.v[i], sorted, &ix, sym);
	roar_symbolizer_free(sym);
	key(&pk, "files");
	msgpack_pack_array(&pk, m->nfiles);
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct roar_file *f = sorted[i];

		msgpack_pack_map(&pk, 5);
		key(&pk, "path");
		bytes(&pk, f->path.p, f->path.len);
		key(&pk, "read");
		if (f->read)
			msgpack_pack_true(&pk);
		else
			msgpack_pack_false(&pk);
		key(&pk, "written");
		if (f->written)
			msgpack_pack_true(&pk);
		else
			msgpack_pack_false(&pk);
		key(&pk, "read_threads");
		pack_tids(&pk, f->read_tids, f->n_read_tids);
		key(&pk, "written_threads");
		pack_tids(&pk, f->written_tids, f->n_written_tids);
	}
	key(&pk, "opened_files");
	pack_path_list(&pk, sorted, m->nfiles, true, true);
	key(&pk, "read_files");
	pack_path_list(&pk, sorted, m->nfiles, true, false);
	key(&pk, "written_files");
	pack_path_list(&pk, sorted, m->nfiles, false, true);
	key(&pk, "start_time");
	msgpack_pack_double(&pk, m->start_time);
	key(&pk, "end_time");
	msgpack_pack_double(&pk, m->end_time);
	key(&pk, "tracer_mode");
	cstr(&pk, "preload");
	key(&pk, "events_dropped");
	msgpack_pack_uint64(&pk, roar_merge_dropped(m) + m->bad_frames -
					 m->bad_in_ledger);
	/* Ours: frames the identity rules refused (a sender speaking for a
	 * process it may not).  Not the program's events, so not above. */
	key(&pk, "frames_refused");
	msgpack_pack_uint64(&pk, m->frames_refused);
	/* Ours: connections closed for want of file descriptors (collect.c).
	 * What their senders sent on them is in events_dropped through the
	 * ledger (tally.c), when there is one. */
	key(&pk, "connections_refused");
	msgpack_pack_uint64(&pk, m->limits.connections_refused);
	/* Ours: which processes wrote and read each pipe (pipes.h). */
	key(&pk, "pipes");
	roar_pipes_pack(&m->pipes, &pk);
	key(&pk, "roar_preload");
	msgpack_pack_map(&pk, 10);
	key(&pk, "version");
	cstr(&pk, ROAR_VERSION);
	/* Whether the counts above come from the ledger (exact, even for
	 * processes killed mid-stream) or from the senders' own reports. */
	key(&pk, "ledger");
	if (m->ledger_on)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	key(&pk, "ledger_unbelieved");
	msgpack_pack_uint64(&pk, m->ledger_mismatch + m->ledger_overflow);
	key(&pk, "root_pid");
	msgpack_pack_int64(&pk, m->root_pid);
	key(&pk, "bad_frames");
	msgpack_pack_uint64(&pk, m->bad_frames);
	key(&pk, "unknown_events");
	msgpack_pack_uint64(&pk, m->unknown_events);
	/* The costs of the caps in caps.h (torn frames are bad frames). */
	key(&pk, "frames_torn");
	msgpack_pack_uint64(&pk, m->limits.frames_torn);
	key(&pk, "bytes_torn");
	msgpack_pack_uint64(&pk, m->limits.bytes_torn);
	key(&pk, "lists_truncated");
	msgpack_pack_uint64(&pk, m->limits.lists_truncated);
	/* What no LD_PRELOAD tracer can see, said in every report rather
	 * than left for the reader to guess.  Untraced processes are listed
	 * one by one under processes. */
	key(&pk, "blind_spots");
	msgpack_pack_array(&pk, ROAR_ARRAY_SIZE(blind_spots));
	for (size_t i = 0; i < ROAR_ARRAY_SIZE(blind_spots); i++)
		cstr(&pk, blind_spots[i]);
	free(pv.v);
	free(sorted);
	free(ix.v);
}

int
roar_report_write(const struct roar_merge *m, const char *path, char *err,
		  size_t errlen)
{
	msgpack_sbuffer sbuf;
	char tmp[PATH_MAX + 48];
	int fd = -1, rc = 0;
	size_t off = 0;

	msgpack_sbuffer_init(&sbuf);
	roar_report_pack(m, &sbuf);
	/*
	 * The temporary is new (O_EXCL), never a link someone planted
	 * (O_NOFOLLOW), and readable by its owner only: the report holds
	 * every process's environment.  A name already taken (a planted
	 * file or link) is skipped, not followed; rename then replaces the
	 * report's name itself, never what a link there points to.
	 */
	for (unsigned try = 0; fd < 0 && try < 100; try++) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%u", path,
				     (int)getpid(), try) >= sizeof(tmp)) {
			snprintf(err, errlen, "report path too long: %s", path);
			rc = -ENAMETOOLONG;
			goto out;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			       O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp,
			 strerror(errno));
		goto out;
	}
	while (off < sbuf.size) {
		ssize_t n = write(fd, sbuf.data + off, sbuf.size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "cannot write %s: %s", tmp,
				 strerror(-rc));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
		rc = -errno;
		snprintf(err, errlen, "cannot fsync %s: %s", tmp,
			 strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path,
			 strerror(errno));
		unlink(tmp);
	}
out:
	msgpack_sbuffer_destroy(&sbuf);
	return rc;
}

int
roar_report_read(const char *path, msgpack_unpacked *result, char **data,
		 char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, len = 0, off = 0;
	char *buf;
	msgpack_unpack_return ret;

	*data = NULL;
	if (!f) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	buf = roar_xmalloc(cap);
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (len < cap)
			break;
		cap *= 2;
		buf = roar_xrealloc(buf, cap);
	}
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(buf);
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	fclose(f);
	/* A file is as untrusted as a frame: no count may claim more than
	 * its bytes (mpcheck.h), or msgpack-c allocates for the claim. */
	if (roar_mpcheck_one(buf, len) != 0) {
		free(buf);
		snprintf(err, errlen, "%s is not a roar report (not one "
			 "well-formed msgpack value)", path);
		return -EINVAL;
	}
	msgpack_unpacked_init(result);
	ret = msgpack_unpack_next(result, buf, len, &off);
	if (ret != MSGPACK_UNPACK_SUCCESS ||
	    result->data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(result);
		free(buf);
		snprintf(err, errlen, "%s is not a roar report (msgpack map)",
			 path);
		return -EINVAL;
	}
	*data = buf;
	return 0;
}
