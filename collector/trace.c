/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The steps of trace.h.  The socket directory's names (its template, the
 * socket's name, the ledger's suffix) are include/roar/sockdir.h's, so
 * that the library's auto-start and we agree on them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "roar/sockdir.h"
#include "report.h"
#include "tally.h"
#include "trace.h"

static void
reset(struct roar_trace *t)
{
	t->dir[0] = '\0';
	t->sock[0] = '\0';
	t->listen_fd = -1;
	t->begun = false;
}

int
roar_trace_create(struct roar_trace *t, const char *report, char *err,
		  size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	reset(t);
	snprintf(t->report, sizeof(t->report), "%s", report);
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(t->dir, sizeof(t->dir), "%s/%s", tmp, ROAR_SOCKDIR_TEMPLATE);
	if (!mkdtemp(t->dir)) {
		rc = -errno;
		snprintf(err, errlen,
			 "cannot create a socket directory in "
			 "%s: %s",
			 tmp, strerror(errno));
		t->dir[0] = '\0';
		return rc;
	}
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", t->dir,
			     ROAR_SOCKDIR_SOCK) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path in %s is too long", t->dir);
		roar_trace_remove(t);
		return -ENAMETOOLONG;
	}
	t->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* The directory is 0700 (mkdtemp); the socket 0600 as well. */
	if (t->listen_fd < 0 ||
	    bind(t->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (snprintf(t->sock, sizeof(t->sock), "%s", sa.sun_path),
	     chmod(sa.sun_path, 0600) != 0) ||
	    listen(t->listen_fd, SOMAXCONN) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen in %s: %s", t->dir,
			 strerror(errno));
		roar_trace_remove(t);
		return rc;
	}
	/* Without a ledger the run still works; the report says so. */
	roar_tally_create(t->sock);
	return 0;
}

void
roar_trace_adopt(struct roar_trace *t, int listen_fd, const char *dir,
		 const char *report)
{
	reset(t);
	t->listen_fd = listen_fd;
	snprintf(t->report, sizeof(t->report), "%s", report);
	if (dir) {
		snprintf(t->dir, sizeof(t->dir), "%s", dir);
		snprintf(t->sock, sizeof(t->sock), "%s/%s", dir,
			 ROAR_SOCKDIR_SOCK);
	}
}

void
roar_trace_begin(struct roar_trace *t, pid_t root)
{
	char prefix[PATH_MAX + 1];

	roar_merge_init(&t->m, root);
	t->begun = true;
	t->m.start_time = roar_now();
	if (t->dir[0]) {
		snprintf(prefix, sizeof(prefix), "%s/", t->dir);
		t->m.exclude_prefix = roar_bytes_dup(prefix, strlen(prefix));
	}
	t->m.exclude_exact = roar_bytes_dup(t->report, strlen(t->report));
}

int
roar_trace_run(struct roar_trace *t, struct roar_collect_opts *co,
	       struct roar_collect_result *res)
{
	co->listen_fd = t->listen_fd;
	co->root_pid = t->m.root_pid;
	return roar_collect_run(co, &t->m, res);
}

int
roar_trace_finish(struct roar_trace *t, char *err, size_t errlen)
{
	int rc;

	t->m.end_time = roar_now();
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	t->listen_fd = -1;
	/* Everything that reads the disk for the report, before it. */
	roar_merge_diagnose(&t->m);
	rc = roar_report_write(&t->m, t->report, err, errlen);
	/* Last, also when the report failed: a root's wait ends here. */
	roar_trace_remove(t);
	roar_merge_free(&t->m);
	t->begun = false;
	return rc;
}

void
roar_trace_remove(struct roar_trace *t)
{
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	t->listen_fd = -1;
	if (t->sock[0]) {
		unlink(t->sock);
		roar_tally_unlink(t->sock);
	}
	if (t->dir[0])
		rmdir(t->dir);
	t->sock[0] = '\0';
	t->dir[0] = '\0';
}
