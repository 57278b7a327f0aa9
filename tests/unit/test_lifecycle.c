/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/lifecycle.c and the lock of lock.h: the fork
 * canary (a raw clone child finds it wiped, a child the atfork handlers
 * saw finds it armed again), what a new process announces (a fork child
 * its hello at once, a raw clone child a "late" hello at its first hook),
 * who an exec or exit path runs as, and that every module's lock is free
 * again in a fork child whatever its parent's threads held.
 *
 * roar_lifecycle_init registers pthread_atfork handlers for the rest of
 * the process: check runs each test in a process of its own (CK_FORK),
 * and with roar_ready false the handlers do nothing but re-arm the
 * canary.  roar_ready is set only around the fork under test.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "guard.h"
#include "intern.h"
#include "lifecycle.h"
#include "lock.h"
#include "session.h"
#include "shell.h"
#include "track.h"
#include "transport.h"
#include "unit.h"
#include "unit_preload.h"
#include "unit_mp.h"

/* entry.c, which defines these for the .so, is not in preload_core. */
static char tmpdir[PATH_MAX];

static void
setup(void)
{
	unit_preload_reset();
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "lifecycle");
}

static void
teardown(void)
{
	unit_preload_end();
	unit_rmtree(tmpdir);
}

static unsigned
canary(void)
{
	return atomic_load(ROAR_CANARY);
}

/* Wait for pid; its exit status, or -1 when it did not exit. */
static int
reap(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A child of a raw clone(2): a copy of memory no atfork handler saw. */
static pid_t
raw_clone(void)
{
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

/* ---- the canary ------------------------------------------------------ */

START_TEST(canary_armed_without_init)
{
	ck_assert_ptr_nonnull(ROAR_CANARY);
	ck_assert_uint_eq(canary(), 1);
}
END_TEST

START_TEST(init_arms_a_page_of_its_own)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	roar_lifecycle_init();
	/* Alone on its page: MADV_WIPEONFORK wipes nothing else. */
	ck_assert_uint_eq((uintptr_t)ROAR_CANARY & (page - 1), 0);
	ck_assert_uint_ge(sizeof(roar_canary_page), page);
	ck_assert_uint_eq(canary(), 1);
}
END_TEST

START_TEST(raw_clone_child_sees_wiped_canary)
{
	pid_t pid;

	roar_lifecycle_init();
	pid = raw_clone();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(canary() == 0 ? 0 : 1);
	ck_assert_int_eq(reap(pid), 0);
	/* The parent's stays armed. */
	ck_assert_uint_eq(canary(), 1);
}
END_TEST

START_TEST(raw_clone_child_without_init_sees_armed_word)
{
	/* Before roar_lifecycle_init the page is ordinary memory: armed,
	 * and copied as it is. */
	pid_t pid = raw_clone();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(canary() == 1 ? 0 : 1);
	ck_assert_int_eq(reap(pid), 0);
}
END_TEST

START_TEST(fork_child_sees_rearmed_canary)
{
	pid_t pid;

	roar_lifecycle_init();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(canary() == 1 ? 0 : 1);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_uint_eq(canary(), 1);
}
END_TEST

/* ---- what a new process announces ------------------------------------ */

#define MAX_CONNS 8
#define MAX_FRAMES 16

/* Every frame every connection brought, once all of them have ended. */
struct heard {
	unsigned char *buf[MAX_CONNS];
	size_t len[MAX_CONNS];
	int nconns;
	msgpack_unpacked u[MAX_FRAMES];
	int conn_of[MAX_FRAMES];
	int nframes;
};

static int
listen_here(char *path, size_t cap)
{
	int fd = unit_listen_in(tmpdir, path, cap, MAX_CONNS);

	roar_transport_init(path);
	return fd;
}

/* Accept connections until none comes for a while, read each to its
 * end (every sender has closed by now), and decode every frame. */
static void
hear_all(int lfd, struct heard *h)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	memset(h, 0, sizeof(*h));
	while (poll(&pfd, 1, 300) == 1) {
		int c = accept(lfd, NULL, NULL);
		size_t cap = 1 << 16, len = 0, off = 0;
		unsigned char *b = malloc(cap);
		ssize_t n;

		ck_assert_int_ge(c, 0);
		ck_assert_ptr_nonnull(b);
		ck_assert_int_lt(h->nconns, MAX_CONNS);
		while ((n = read(c, b + len, cap - len)) > 0) {
			len += (size_t)n;
			ck_assert_uint_lt(len, cap);
		}
		close(c);
		while (off < len) {
			size_t flen, used = 0;

			ck_assert_uint_ge(len - off, ROAR_FRAME_HEADER_SIZE);
			flen = roar_frame_get_len(b + off);
			ck_assert_uint_ge(len - off,
					  ROAR_FRAME_HEADER_SIZE + flen);
			ck_assert_int_lt(h->nframes, MAX_FRAMES);
			msgpack_unpacked_init(&h->u[h->nframes]);
			ck_assert_int_eq(msgpack_unpack_next(
						 &h->u[h->nframes],
						 (const char *)b + off +
							 ROAR_FRAME_HEADER_SIZE,
						 flen, &used),
					 MSGPACK_UNPACK_SUCCESS);
			ck_assert_uint_eq(used, flen);
			h->conn_of[h->nframes++] = h->nconns;
			off += ROAR_FRAME_HEADER_SIZE + flen;
		}
		h->buf[h->nconns] = b;
		h->len[h->nconns++] = len;
	}
}

static void
heard_free(struct heard *h)
{
	for (int i = 0; i < h->nframes; i++)
		msgpack_unpacked_destroy(&h->u[i]);
	for (int i = 0; i < h->nconns; i++)
		free(h->buf[i]);
}

/* The one frame of kind sent by pid (-1: there is none). */
static int
find(const struct heard *h, const char *kind, pid_t pid)
{
	int found = -1;

	for (int i = 0; i < h->nframes; i++)
		if (mp_is_str(mp_get(&h->u[i].data, ROAR_KEY_KIND), kind) &&
		    mp_is_int(mp_get(&h->u[i].data, ROAR_KEY_PID), pid)) {
			ck_assert_msg(found < 0, "two %s from %d", kind,
				      (int)pid);
			found = i;
		}
	return found;
}

/* In a child: 0 when it is a fresh process in every respect checked. */
static int
child_state(void)
{
	if (canary() != 1)
		return 10;
	if (roar_session.pid != (pid_t)syscall(SYS_getpid))
		return 11;
	if (roar_session_tid() != (pid_t)syscall(SYS_gettid))
		return 12;
	if (roar_guard_depth != 0)
		return 13;
	/* The parent's locks are free here. */
	if (!roar_path_intern("/child/x", 8))
		return 14;
	return 0;
}

START_TEST(fork_child_announces_itself)
{
	char path[PATH_MAX];
	int lfd = listen_here(path, sizeof(path));
	struct heard h;
	double t0, t1;
	pid_t pid, me = getpid();
	int i;

	roar_lifecycle_init();
	roar_ready = true;
	t0 = roar_now();
	pid = fork();
	if (pid == 0)
		_exit(child_state()); /* traced: sends its exit */
	roar_ready = false;
	t1 = roar_now();
	ck_assert_int_gt(pid, 0);
	/* The parent's locks were released by its handler. */
	ck_assert_ptr_nonnull(roar_path_intern("/parent/x", 9));
	ck_assert_uint_eq(roar_guard_depth, 0);
	ck_assert_int_eq(reap(pid), 0);
	/* As the wait hook would: the fork event goes out with it. */
	roar_guard_depth++;
	roar_track_reaped(pid, 0);
	roar_guard_depth--;
	roar_transport_close();
	hear_all(lfd, &h);

	i = find(&h, "fork", me);
	ck_assert_int_ge(i, 0);
	ck_assert(mp_is_int(mp_get(&h.u[i].data, ROAR_KEY_CHILD), pid));
	ck_assert_int_eq(find(&h, "reaped", me), i + 1);
	ck_assert_int_eq(h.conn_of[i + 1], h.conn_of[i]);

	i = find(&h, "hello", pid);
	ck_assert_int_ge(i, 0);
	ck_assert(mp_is_str(mp_get(&h.u[i].data, ROAR_KEY_ORIGIN), "fork"));
	ck_assert(mp_is_int(mp_get(&h.u[i].data, ROAR_KEY_PPID), me));
	ck_assert(mp_is_int(mp_get(&h.u[i].data, ROAR_KEY_TID), pid));
	ck_assert_ptr_null(mp_get(&h.u[i].data, ROAR_KEY_LATE));
	/* Stamped by the prepare handler, before the fork. */
	ck_assert_double_ge(mp_get(&h.u[i].data, ROAR_KEY_TIME)->via.f64, t0);
	ck_assert_double_le(mp_get(&h.u[i].data, ROAR_KEY_TIME)->via.f64, t1);

	/* Its exit came after its hello, on its own connection. */
	ck_assert_int_eq(find(&h, "exit", pid), i + 1);
	ck_assert_int_eq(h.conn_of[i + 1], h.conn_of[i]);
	ck_assert(mp_is_int(mp_get(&h.u[i + 1].data, ROAR_KEY_STATUS), 0));
	heard_free(&h);
	close(lfd);
}
END_TEST

START_TEST(raw_clone_child_is_noticed_late)
{
	char path[PATH_MAX];
	int lfd = listen_here(path, sizeof(path));
	struct heard h;
	double t0, t1;
	pid_t pid, me = getpid();
	int i;

	roar_lifecycle_init();
	t0 = roar_now();
	pid = raw_clone();
	if (pid == 0) {
		int before = canary() == 0 ? 0 : 20;

		roar_ready = true;
		/* The first hook notices the wiped canary. */
		close(-1);
		_exit(before ? before : child_state());
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(reap(pid), 0);
	t1 = roar_now();
	roar_transport_close();
	hear_all(lfd, &h);

	/* The parent saw nothing: a raw clone goes round the hooks. */
	ck_assert_int_eq(find(&h, "fork", me), -1);
	i = find(&h, "hello", pid);
	ck_assert_int_ge(i, 0);
	ck_assert(mp_is_str(mp_get(&h.u[i].data, ROAR_KEY_ORIGIN), "fork"));
	ck_assert(mp_is_int(mp_get(&h.u[i].data, ROAR_KEY_PPID), me));
	ck_assert(mp_is_true(mp_get(&h.u[i].data, ROAR_KEY_LATE)));
	ck_assert_double_ge(mp_get(&h.u[i].data, ROAR_KEY_TIME)->via.f64, t0);
	ck_assert_double_le(mp_get(&h.u[i].data, ROAR_KEY_TIME)->via.f64, t1);
	ck_assert_int_eq(find(&h, "exit", pid), i + 1);
	ck_assert_int_eq(h.nframes, 2);
	heard_free(&h);
	close(lfd);
}
END_TEST

START_TEST(child_not_ready_announces_nothing)
{
	/* With roar_ready false the handlers re-arm and do nothing else. */
	char path[PATH_MAX];
	int lfd = listen_here(path, sizeof(path));
	struct heard h;
	pid_t pid;

	roar_lifecycle_init();
	pid = fork();
	if (pid == 0)
		_exit(canary() == 1 && roar_guard_depth == 0 ? 0 : 1);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(reap(pid), 0);
	hear_all(lfd, &h);
	ck_assert_int_eq(h.nframes, 0);
	heard_free(&h);
	close(lfd);
}
END_TEST

/* ---- who runs an exec or exit path ----------------------------------- */

START_TEST(enter_says_who)
{
	ck_assert_int_eq(roar_lifecycle_enter(), ROAR_WHO_INSIDE);
	roar_ready = true;
	/* The session's own process: the guard is entered. */
	ck_assert_int_eq(roar_lifecycle_enter(), ROAR_WHO_SELF);
	ck_assert_uint_eq(roar_guard_depth, 1);
	/* Inside roar already. */
	ck_assert_int_eq(roar_lifecycle_enter(), ROAR_WHO_INSIDE);
	ck_assert_uint_eq(roar_guard_depth, 1);
	roar_guard_leave();
	/* Not the session's pid with the canary armed: a vfork child,
	 * which must not take the guard of the thread it shares. */
	roar_session.pid = getpid() + 1;
	ck_assert_int_eq(roar_lifecycle_enter(), ROAR_WHO_SHARED);
	ck_assert_uint_eq(roar_guard_depth, 0);
	roar_ready = false;
	roar_session.pid = getpid();
}
END_TEST

/* ---- locks ------------------------------------------------------------- */

static bool
lock_is_held(struct roar_lock *l)
{
	/* Take it if free (and give it back): true when it was held. */
	if (atomic_flag_test_and_set(&l->held))
		return true;
	atomic_flag_clear(&l->held);
	return false;
}

START_TEST(lock_take_release_reset)
{
	struct roar_lock l = ROAR_LOCK_INIT;

	ck_assert(!lock_is_held(&l));
	roar_lock_take(&l);
	ck_assert(lock_is_held(&l));
	roar_lock_release(&l);
	ck_assert(!lock_is_held(&l));
	/* Reset frees it whoever held it. */
	roar_lock_take(&l);
	roar_lock_reset(&l);
	ck_assert(!lock_is_held(&l));
	roar_lock_take(&l);
	roar_lock_release(&l);
	/* And is harmless on a free lock. */
	roar_lock_reset(&l);
	ck_assert(!lock_is_held(&l));
}
END_TEST

static struct roar_lock held_by_thread = ROAR_LOCK_INIT;
static int thread_held[2]; /* the thread says it holds the lock */
static int thread_go[2];   /* the test says it may let go */

/*
 * No check assertion in this thread: check's own mutex, held by it while
 * the test forks, would be held for ever in the child, whose first
 * assertion then waits on it (a hang seen under TSan's timing).  A
 * failure shows as the lock never let go (the join's assertion).
 */
static void *
hold_lock(void *arg)
{
	char c;

	(void)arg;
	roar_lock_take(&held_by_thread);
	if (write(thread_held[1], "h", 1) != 1)
		return NULL;
	/* Until the parent says so, after its fork. */
	if (read(thread_go[0], &c, 1) != 1)
		return NULL;
	roar_lock_release(&held_by_thread);
	return NULL;
}

START_TEST(lock_of_vanished_thread_reset_in_child)
{
	pthread_t t;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(thread_held), 0);
	ck_assert_int_eq(pipe(thread_go), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, hold_lock, NULL), 0);
	ck_assert_int_eq(read(thread_held[0], &c, 1), 1);
	pid = fork();
	if (pid == 0) {
		/* The holder does not exist here; nor may check's asserts be
		 * used (their lock may have been taken by another thread). */
		alarm(10);
		if (!lock_is_held(&held_by_thread))
			_exit(1);
		roar_lock_reset(&held_by_thread);
		roar_lock_take(&held_by_thread);
		_exit(0);
	}
	ck_assert_int_ge(pid, 0);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert(lock_is_held(&held_by_thread));
	ck_assert_int_eq(write(thread_go[1], "r", 1), 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert(!lock_is_held(&held_by_thread));
}
END_TEST

START_TEST(module_locks_reset_in_fork_child)
{
	/* As the prepare handler leaves them: every lock taken, in the
	 * order of lock.h.  A child whose reset missed one would spin on
	 * it until the alarm. */
	pid_t pid;

	roar_intern_prepare();
	roar_track_prepare();
	roar_shell_prepare();
	roar_transport_prepare();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(10);
		roar_intern_atfork_child();
		roar_track_atfork_child();
		roar_shell_atfork_child();
		roar_transport_atfork_child(false);
		roar_intern_prepare();
		roar_track_prepare();
		roar_shell_prepare();
		roar_transport_prepare();
		_exit(0);
	}
	roar_transport_parent();
	roar_shell_parent();
	roar_track_parent();
	roar_intern_parent();
	ck_assert_int_eq(reap(pid), 0);
	/* Released in the parent: usable again. */
	alarm(10);
	ck_assert_ptr_nonnull(roar_path_intern("/after/x", 8));
	roar_transport_close();
	alarm(0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc;

	unit_tcase(s, "canary", setup, teardown,
		   UNIT_TESTS(canary_armed_without_init,
			      init_arms_a_page_of_its_own,
			      raw_clone_child_sees_wiped_canary,
			      raw_clone_child_without_init_sees_armed_word,
			      fork_child_sees_rearmed_canary));
	tc = unit_tcase(s, "announce", setup, teardown,
			UNIT_TESTS(fork_child_announces_itself,
				   raw_clone_child_is_noticed_late,
				   child_not_ready_announces_nothing));
	tcase_set_timeout(tc, 30);
	unit_tcase(s, "who", setup, teardown, UNIT_TESTS(enter_says_who));
	tc = unit_tcase(s, "locks", setup, teardown,
			UNIT_TESTS(lock_take_release_reset,
				   lock_of_vanished_thread_reset_in_child,
				   module_locks_reset_in_fork_child));
	tcase_set_timeout(tc, 30);
	return unit_run(s);
}
