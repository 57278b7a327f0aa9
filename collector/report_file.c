/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A report as a file (report.h): written atomically (a new owner-only
 * temporary in the same directory, fsync, rename), by the collector and
 * by roar-report merge alike, and read back whole and checked before
 * anything decodes it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpcheck.h"
#include "report.h"
#include "util.h"

int
roar_report_write(const struct roar_merge *m, const char *path, char *err,
		  size_t errlen)
{
	msgpack_sbuffer sbuf;
	int rc;

	msgpack_sbuffer_init(&sbuf);
	roar_report_pack(m, &sbuf);
	rc = roar_report_write_sbuf(&sbuf, path, err, errlen);
	msgpack_sbuffer_destroy(&sbuf);
	return rc;
}

int
roar_report_write_sbuf(const msgpack_sbuffer *sbuf, const char *path, char *err,
		       size_t errlen)
{
	char tmp[PATH_MAX + 48];
	int fd = -1, rc = 0;
	size_t off = 0;

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
		fd = open(tmp,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp,
			 strerror(errno));
		goto out;
	}
	while (off < sbuf->size) {
		ssize_t n = write(fd, sbuf->data + off, sbuf->size - off);

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
