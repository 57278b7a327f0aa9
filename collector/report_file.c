/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A report as a file (report.h): written atomically (a new owner-only
 * temporary in the same directory, then rename), by the collector (as
 * it is packed, through a buffer of fixed size) and by roar-report merge
 * alike, and read back whole and checked before anything decodes it.
 *
 * A reader never sees half a report: the rename makes it whole at once.
 * Surviving a crash of the machine is asked for with ROAR_REPORT_FSYNC=1
 * (fsync before the rename): it waits for the disk, which for a report of
 * a million paths (235 MB) took 0.25 s of the 0.7 s the whole run took
 * here, and a report is read at once by whoever asked for it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpcheck.h"
#include "report.h"
#include "util.h"

/*
 * The temporary a report is written to, beside path.  It is new
 * (O_EXCL), never a link someone planted (O_NOFOLLOW), and readable by
 * its owner only: the report holds every process's environment.  A name
 * already taken (a planted file or link) is skipped, not followed;
 * rename then replaces the report's name itself, never what a link
 * there points to.
 * @return the descriptor, or -errno with a message in err
 */
static int
open_temp(const char *path, char *tmp, size_t tmpcap, char *err, size_t errlen)
{
	int fd = -1;

	for (unsigned try = 0; fd < 0 && try < 100; try++) {
		if ((size_t)snprintf(tmp, tmpcap, "%s.tmp.%d.%u", path,
				     (int)getpid(), try) >= tmpcap) {
			snprintf(err, errlen, "report path too long: %s", path);
			return -ENAMETOOLONG;
		}
		fd = open(tmp,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(e));
		return -e;
	}
	return fd;
}

/* All of len bytes to fd; 0 or -errno. */
static int
write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ROAR_REPORT_FSYNC=1: the report must be on the disk before its name. */
static bool
want_fsync(void)
{
	const char *v = getenv("ROAR_REPORT_FSYNC");

	return v && !strcmp(v, "1");
}

/*
 * After the bytes (rc: how writing them went): fsync when asked, close,
 * rename, or on any failure close and take the temporary away.
 */
static int
finish_temp(int fd, const char *tmp, const char *path, int rc, char *err,
	    size_t errlen)
{
	if (rc != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
			 strerror(-rc));
		close(fd);
		unlink(tmp);
		return rc;
	}
	if (want_fsync() && fsync(fd) != 0 && errno != EINVAL &&
	    errno != EROFS) {
		rc = -errno;
		snprintf(err, errlen, "cannot fsync %s: %s", tmp,
			 strerror(errno));
		close(fd);
		unlink(tmp);
		return rc;
	}
	/* Where the file system tells of a failed write only now (NFS). */
	if (close(fd) != 0 && errno != EINTR) {
		rc = -errno;
		snprintf(err, errlen, "cannot write %s: %s", tmp,
			 strerror(errno));
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path,
			 strerror(errno));
		unlink(tmp);
	}
	return rc;
}

/*
 * The report goes to its file as it is packed, through two buffers of
 * this size: never whole in memory (a run of a million paths makes a
 * report of a quarter of a gigabyte).  A writer thread writes one while
 * the other fills, so that packing and copying into the page cache use
 * both CPUs (for that run: 80 ms of writes no longer after the packing).
 * Without the thread (it could not start), the packer writes itself.
 */
#define STREAM_BUF (1u << 20)

struct stream {
	int fd;
	int rc;     /* the first failure; nothing more is written after it */
	size_t len; /* bytes in buf[cur] */
	char *buf[2];
	int cur;
	bool threaded;
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu: the buffer handed to the writer (todo bytes of it; 0:
	 * none), whether the packer is done, the writer's first failure. */
	int todo_buf;
	size_t todo;
	bool done;
	int wrc;
};

static void *
writer_main(void *arg)
{
	struct stream *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->todo && !s->done)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->todo)
			break;
		int b = s->todo_buf;
		size_t n = s->todo;
		bool ok = !s->wrc;

		pthread_mutex_unlock(&s->mu);
		int rc = ok ? write_all(s->fd, s->buf[b], n) : 0;
		pthread_mutex_lock(&s->mu);
		if (rc && !s->wrc)
			s->wrc = rc;
		s->todo = 0;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Wait until the writer has nothing in hand; its failure becomes ours. */
static void
writer_idle(struct stream *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->todo)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->wrc && !s->rc)
		s->rc = s->wrc;
	pthread_mutex_unlock(&s->mu);
}

/* Write what buf[cur] holds (by the writer, when there is one). */
static void
flush_buf(struct stream *s)
{
	if (!s->len || s->rc)
		return;
	if (!s->threaded) {
		s->rc = write_all(s->fd, s->buf[s->cur], s->len);
		s->len = 0;
		return;
	}
	writer_idle(s);
	if (s->rc)
		return;
	pthread_mutex_lock(&s->mu);
	s->todo_buf = s->cur;
	s->todo = s->len;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	s->cur ^= 1;
	s->len = 0;
}

static int
stream_write(void *data, const char *p, size_t n)
{
	struct stream *s = data;

	if (s->rc)
		return -1;
	if (s->len + n > STREAM_BUF) {
		flush_buf(s);
		if (!s->rc && n >= STREAM_BUF) {
			/* Bigger than a buffer: in order, by ourselves. */
			if (s->threaded)
				writer_idle(s);
			if (!s->rc)
				s->rc = write_all(s->fd, p, n);
			return s->rc ? -1 : 0;
		}
		if (s->rc)
			return -1;
	}
	memcpy(s->buf[s->cur] + s->len, p, n);
	s->len += n;
	return 0;
}

int
roar_report_write(const struct roar_merge *m, const char *path, char *err,
		  size_t errlen)
{
	char tmp[PATH_MAX + 48];
	struct stream s = { .fd = open_temp(path, tmp, sizeof(tmp), err,
					    errlen) };

	if (s.fd < 0)
		return s.fd;
	s.buf[0] = roar_xmalloc(STREAM_BUF);
	s.buf[1] = roar_xmalloc(STREAM_BUF);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	s.threaded = pthread_create(&s.writer, NULL, writer_main, &s) == 0;
	roar_report_pack_to(m, &s, stream_write);
	flush_buf(&s);
	if (s.threaded) {
		writer_idle(&s);
		pthread_mutex_lock(&s.mu);
		s.done = true;
		pthread_cond_broadcast(&s.cv);
		pthread_mutex_unlock(&s.mu);
		pthread_join(s.writer, NULL);
	}
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
	free(s.buf[0]);
	free(s.buf[1]);
	return finish_temp(s.fd, tmp, path, s.rc, err, errlen);
}

int
roar_report_write_sbuf(const msgpack_sbuffer *sbuf, const char *path, char *err,
		       size_t errlen)
{
	char tmp[PATH_MAX + 48];
	int fd = open_temp(path, tmp, sizeof(tmp), err, errlen);

	if (fd < 0)
		return fd;
	return finish_temp(fd, tmp, path, write_all(fd, sbuf->data, sbuf->size),
			   err, errlen);
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
		snprintf(err, errlen,
			 "%s is not a roar report (not one "
			 "well-formed msgpack value)",
			 path);
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
