/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process stats from /proc.  Only merge.c's identity checks use this, and
 * only through struct roar_merge.proc_stat, so that unit tests can
 * replace the kernel with a table.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"

/* Parse the unsigned decimal field at *p (up to end), moving past it. */
static bool
parse_uint(const char **p, const char *end, unsigned long long max,
	   unsigned long long *out)
{
	unsigned long long v = 0;
	const char *q = *p;

	if (q == end || *q < '0' || *q > '9')
		return false;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		v = v * 10 + (unsigned long long)(*q - '0');
		if (v > max)
			return false;
	}
	if (q < end && *q != ' ' && *q != '\n')
		return false;
	*p = q;
	*out = v;
	return true;
}

int
roar_proc_parse_stat(const char *stat, size_t len, struct roar_proc_stat *st)
{
	const char *p = NULL, *end = stat + len;
	unsigned long long ppid, start;
	int field;

	/* memrchr by hand: the last ')' ends the command name, since every
	 * later field is a number or the one-letter state. */
	for (size_t i = len; i > 0; i--)
		if (stat[i - 1] == ')') {
			p = stat + i;
			break;
		}
	if (!p)
		return -EINVAL;
	/* " S 1234 ...": one space, the state, one space, the parent. */
	if (end - p < 4 || p[0] != ' ' || p[1] == ' ' || p[2] != ' ')
		return -EINVAL;
	st->state = p[1];
	p += 3;
	if (!parse_uint(&p, end, 0x7fffffff, &ppid))
		return -EINVAL;
	/* Fields 5 to 21 (some may be negative), then the start time. */
	for (field = 4; field < 22 && p < end; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || !parse_uint(&p, end, ~0ull, &start))
		return -EINVAL;
	st->ppid = (pid_t)ppid;
	st->start = start;
	return 0;
}

int
roar_proc_stat(pid_t pid, struct roar_proc_stat *st)
{
	char path[32], buf[1024];
	size_t len = 0;
	int fd, rc;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (rc != -ENOENT && rc != -ESRCH)
			return rc;
		/* No entry: the process is gone, unless there is no /proc
		 * at all, which says nothing about the process. */
		return access("/proc/self/stat", F_OK) == 0 ? -ESRCH : -ENOSYS;
	}
	/* The line is a few hundred bytes: the command name is at most 64
	 * and field 22 comes well within the buffer. */
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno; /* ESRCH: it died after the open */
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return roar_proc_parse_stat(buf, len, st);
}

int
roar_proc_inner_pid(pid_t pid, pid_t *inner)
{
	char path[40], buf[4096];
	ssize_t n;
	size_t len = 0;
	const char *line, *p;
	long last = -1;
	int fd;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	line = strstr(buf, "\nNSpid:");
	if (!line)
		return -ENOENT;
	/* "NSpid:\t<ours>\t...\t<innermost>": the last number. */
	for (p = line + 7; *p && *p != '\n';) {
		char *end;
		long v;

		while (*p == ' ' || *p == '\t')
			p++;
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		last = v;
		p = end;
	}
	if (last <= 0 || last > 0x7fffffff)
		return -EINVAL;
	*inner = (pid_t)last;
	return 0;
}
