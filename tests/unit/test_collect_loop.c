/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit test of collector/collect.c's loop against a hostile root: the
 * loop ends when the root does, whatever the root claims about other
 * processes.
 */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collect.h"
#include "unit_conn.h"

/* Send the whole of b on fd (in a child: exits on failure). */
static void
send_all(int fd, const struct bytes *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->p + off, b->len - off);

		if (n <= 0)
			_exit(3);
		off += (size_t)n;
	}
}

/*
 * A hostile root, run under the real collect loop with no time limit:
 * it claims to have forked pid 1 and a pid that is already gone, speaks
 * for pid 1 and writes as pid 1, then exits.  The loop must end (it
 * waits for no one but the root), with every claim about pid 1 refused
 * and counted, and the gone pid known but never waited for.
 */
START_TEST(collect_hostile_root_does_not_hang)
{
	static const char *const argv[] = { "x", NULL };
	char dir[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct roar_collect_opts o = { .wait_timeout = -1, .quiet = true };
	struct roar_collect_result res;
	struct roar_merge m;
	const struct roar_proc *g;
	sigset_t old;
	pid_t root, gone;
	int lfd, status;

	unit_mkdtemp(dir, sizeof(dir), "collect");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	roar_collect_block_signals(&old);

	root = fork();
	ck_assert_int_ge(root, 0);
	if (root == 0) {
		struct bytes b = { 0 };
		struct ev e;
		pid_t me = getpid();
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		/* A child of ours that is reaped at once: a gone pid. */
		gone = fork();
		if (gone == 0)
			_exit(0);
		if (gone < 0 || waitpid(gone, NULL, 0) != gone)
			_exit(4);
		if (fd < 0 ||
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(2);
		put_hello(&b, me, getppid());
		ev_begin(&e, 3);
		ev_str(&e, ROAR_KEY_KIND, "fork");
		ev_int(&e, ROAR_KEY_PID, me);
		ev_int(&e, ROAR_KEY_CHILD, 1);
		put_event(&b, &e);
		ev_begin(&e, 3);
		ev_str(&e, ROAR_KEY_KIND, "fork");
		ev_int(&e, ROAR_KEY_PID, me);
		ev_int(&e, ROAR_KEY_CHILD, gone);
		put_event(&b, &e);
		ev_begin(&e, 6);
		ev_str(&e, ROAR_KEY_KIND, "exec");
		ev_int(&e, ROAR_KEY_PID, me);
		ev_int(&e, ROAR_KEY_SUBJECT, 1);
		ev_str(&e, ROAR_KEY_EXE, "/bin/x");
		ev_strv(&e, ROAR_KEY_ARGV, argv);
		ev_double(&e, ROAR_KEY_TIME, 1.0);
		put_event(&b, &e);
		put_file(&b, "write", 1, "/etc/shadow");
		/* And one good frame after the refused ones. */
		put_file(&b, "read", me, "/in");
		send_all(fd, &b);
		close(fd);
		_exit(0);
	}
	roar_merge_init(&m, root);
	o.listen_fd = lfd;
	o.root_pid = root;
	o.root_is_child = true;
	ck_assert_int_eq(roar_collect_run(&o, &m, &res), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	ck_assert(res.root_status_known);
	status = res.root_wait_status;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(m.bad_frames, 0);
	ck_assert_uint_eq(m.frames_refused, 3);
	ck_assert_uint_eq(res.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&m, 1));
	ck_assert_uint_eq(m.nfiles, 1);
	/* The gone child: root's, and counted as exited. */
	ck_assert_uint_eq(m.procs.count, 2);
	for (size_t i = 0; i < m.procs.cap; i++) {
		if (!m.procs.used[i] || m.procs.keys[i] == (uint64_t)root)
			continue;
		g = m.procs.vals[i];
		ck_assert(g->gone);
		ck_assert(g->exited);
		ck_assert(!g->still_running);
		ck_assert_int_eq(g->ppid, root);
	}
	roar_merge_free(&m);
	close(lfd);
	unit_rmtree(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("collect_loop");
	TCase *tc;

	tc = unit_tcase(s, "loop", NULL, NULL,
			UNIT_TESTS(collect_hostile_root_does_not_hang));
	tcase_set_timeout(tc, 20);
	return unit_run(s);
}
