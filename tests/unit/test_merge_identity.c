/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/merge.c's identity rules, against a fake
 * kernel table in place of /proc: a sender speaks for itself (its
 * SO_PEERCRED pid); a claim about another pid (a fork child, a reaped
 * child, an exec's subject) is checked against the run's tree and the
 * kernel's, and refused and counted when it does not hold; pid 1, the
 * collector and the root's parent are never anybody's child.
 */
#include "config.h"

#include <errno.h>

#include "unit_merge.h"

/*
 * The fake kernel: pid -> parent, state and start time.  A pid not in it
 * is gone (-ESRCH); kern_err, when set, is what every lookup fails with
 * instead.
 */
static struct {
	pid_t pid;
	struct roar_proc_stat st;
} kern[32];
static size_t nkern;
static int kern_err;
static unsigned kern_calls;

static int
fake_stat(pid_t pid, struct roar_proc_stat *st)
{
	kern_calls++;
	if (kern_err)
		return kern_err;
	for (size_t i = 0; i < nkern; i++)
		if (kern[i].pid == pid) {
			*st = kern[i].st;
			return 0;
		}
	return -ESRCH;
}

#define T_COLLECTOR 1000 /* when the collector started, in ticks */

/* A process of the fake kernel, started after the collector. */
static void
kern_add_full(pid_t pid, pid_t ppid, char state, unsigned long long start)
{
	ck_assert_uint_lt(nkern, 32);
	kern[nkern].pid = pid;
	kern[nkern].st.ppid = ppid;
	kern[nkern].st.state = state;
	kern[nkern].st.start = start;
	nkern++;
}

static void
kern_add(pid_t pid, pid_t ppid)
{
	kern_add_full(pid, ppid, 'S', T_COLLECTOR + 10);
}

#define LAUNCHER 50 /* the root's parent */

/*
 * The kernel's tree: LAUNCHER - the collector, LAUNCHER - ROOT - 101 -
 * 102 - 103, and 300 (a child of init from before the run, nobody's).
 */
static void
setup_kernel(void)
{
	setup();
	M.proc_stat = fake_stat;
	M.root_ppid = LAUNCHER;
	nkern = 0;
	kern_err = 0;
	kern_calls = 0;
	kern_add_full(1, 0, 'S', 1);
	kern_add_full(LAUNCHER, 1, 'S', 900);
	kern_add_full(M.self_pid, LAUNCHER, 'R', T_COLLECTOR);
	kern_add(ROOT, LAUNCHER);
	kern_add(101, ROOT);
	kern_add(102, 101);
	kern_add(103, 102);
	kern_add_full(300, 1, 'S', 5); /* a daemon, older than the run */
}

static const char *const ls_argv[] = { "ls", "-l", NULL };

START_TEST(identity_pid_not_peer_refused)
{
	/* 101 writes /etc/shadow saying it is 300: refused, counted, and
	 * not a bad frame; its next frame, its own, is applied. */
	peer = 101;
	ck_assert_int_eq(file_ev(&M, "write", 300, 300, "/etc/shadow", 11), 0);
	ck_assert_uint_eq(M.frames_refused, 1);
	ck_assert_uint_eq(M.bad_frames, 0);
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	ck_assert_ptr_nonnull(strstr(M.refusal, "300"));
	ck_assert_int_eq(file_ev(&M, "write", 101, 101, "/out", 4), 0);
	ck_assert_uint_eq(M.nfiles, 1);
	ck_assert_ptr_nonnull(roar_merge_find(&M, 101));
	ck_assert_uint_eq(M.frames_refused, 1);
}
END_TEST

static unsigned announced;

static void
count_new(void *ctx, struct roar_proc *p)
{
	(void)ctx;
	(void)p;
	announced++;
}

START_TEST(identity_hostile_claims_change_nothing)
{
	static const char *const x[] = { "x", NULL };
	struct snap before, after;

	/* A hostile 300 (not in the run's tree) speaks. */
	ck_assert_int_eq(
		hello_exec(&M, ROOT, LAUNCHER, 1.0, make_argv, make_env, NULL),
		0);
	M.on_new_proc = count_new;
	announced = 0;
	snapshot(&M, &before);
	peer = 300;
	ck_assert_int_eq(hello_exec(&M, 1, 0, 2.0, x, NULL, NULL), 0);
	ck_assert_int_eq(file_ev(&M, "write", 1, 1, "/etc/shadow", 11), 0);
	ck_assert_int_eq(file_ev(&M, "write", ROOT, 1, "/etc/shadow", 11), 0);
	ck_assert_int_eq(fork_ev(&M, 300, 1), 0);
	ck_assert_int_eq(fork_ev(&M, 300, ROOT), 0);
	ck_assert_int_eq(fork_ev(&M, 300, LAUNCHER), 0);
	ck_assert_int_eq(fork_ev(&M, 300, M.self_pid), 0);
	ck_assert_int_eq(reaped_ev(&M, 300, 1, 0), 0);
	ck_assert_int_eq(reaped_ev(&M, 300, ROOT, 0), 0);
	ck_assert_int_eq(exec_full(&M, 300, 1, 0, 3.0, "/bin/x", x), 0);
	ck_assert_int_eq(exec_full(&M, 300, ROOT, 0, 3.0, "/bin/x", x), 0);
	ck_assert_uint_eq(M.frames_refused, 11);
	snapshot(&M, &after);
	after.nprocs = before.nprocs; /* compared below */
	ck_assert(!memcmp(&before, &after, sizeof(before)));
	/* Nobody new to watch, so the launcher waits for no one. */
	ck_assert_uint_eq(announced, 0);
	ck_assert_uint_eq(M.procs.count, 1);
	ck_assert_ptr_null(roar_merge_find(&M, 1));
	ck_assert_ptr_null(roar_merge_find(&M, LAUNCHER));
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert(!proc(&M, ROOT)->has_wait);
	check_strv(command(&M, ROOT), make_argv);
	ck_assert_uint_eq(M.bad_frames, 0);
}
END_TEST

START_TEST(identity_peer_unknown_trusts_payload)
{
	/* No peer: the payload's pid is taken, the kernel is not asked,
	 * but no claim may still name pid 1, us or the root's parent. */
	ck_assert_int_eq(fork_ev(&M, 300, 301), 0);
	ck_assert_int_eq(parent(&M, 301), 300);
	ck_assert_uint_eq(kern_calls, 0);
	ck_assert_int_eq(fork_ev(&M, 300, 1), 0);
	ck_assert_int_eq(fork_ev(&M, 300, LAUNCHER), 0);
	ck_assert_int_eq(reaped_ev(&M, 300, M.self_pid, 0), 0);
	ck_assert_uint_eq(M.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&M, 1));
}
END_TEST

START_TEST(identity_subject_descendant_by_table)
{
	/* posix_spawn: ROOT sends the fork, then the child's exec as its
	 * subject.  The kernel no longer has 150 (it ran and was reaped),
	 * so only the table can vouch for it. */
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 150), 0);
	ck_assert(proc(&M, 150)->gone);
	ck_assert_int_eq(
		exec_full(&M, ROOT, 150, LAUNCHER, 2.0, "/bin/ls", ls_argv), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	ck_assert(proc(&M, 150)->has_exec);
	check_strv(command(&M, 150), ls_argv);
	/* The exec was the child's, not the sender's; and the sender's
	 * "ppid" (its own parent) did not become the child's. */
	ck_assert(!proc(&M, ROOT)->has_exec);
	ck_assert_int_eq(proc(&M, 150)->ppid, ROOT);
	ck_assert_int_eq(proc(&M, 150)->parent_source, ROAR_PARENT_FORK_EVENT);
}
END_TEST

START_TEST(identity_subject_descendant_by_kernel)
{
	/* No fork event: the kernel says 103 descends from 101. */
	peer = 101;
	ck_assert_int_eq(exec_full(&M, 101, 103, ROOT, 2.0, "/bin/ls", ls_argv),
			 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	check_strv(command(&M, 103), ls_argv);
}
END_TEST

START_TEST(identity_subject_not_descendant_refused)
{
	/* 102 is 101's child, not 103's; 300 is nobody's. */
	peer = 103;
	ck_assert_int_eq(exec_full(&M, 103, 102, 102, 2.0, "/bin/ls", ls_argv),
			 0);
	peer = 101;
	ck_assert_int_eq(exec_full(&M, 101, 300, ROOT, 2.0, "/bin/ls", ls_argv),
			 0);
	/* Nor does a gone pid the table does not place under the sender. */
	ck_assert_int_eq(exec_full(&M, 101, 999, ROOT, 2.0, "/bin/ls", ls_argv),
			 0);
	ck_assert_uint_eq(M.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&M, 102));
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	ck_assert_ptr_null(roar_merge_find(&M, 999));
	ck_assert_ptr_null(roar_merge_find(&M, 101));
}
END_TEST

START_TEST(identity_subject_only_on_exec)
{
	struct ev e;

	/* Only an exec may speak for another; even for a descendant. */
	peer = ROOT;
	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "write");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_int(&e, ROAR_KEY_SUBJECT, 101);
	ev_int(&e, ROAR_KEY_TID, ROOT);
	ev_str(&e, ROAR_KEY_PATH, "/x");
	ck_assert_int_eq(apply(&M, &e), 0);
	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, "exit");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_int(&e, ROAR_KEY_SUBJECT, 101);
	ev_int(&e, ROAR_KEY_STATUS, 0);
	ck_assert_int_eq(apply(&M, &e), 0);
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert_uint_eq(M.procs.count, 0);
	/* A subject that is no pid is a malformed event. */
	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "exec");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_str(&e, ROAR_KEY_SUBJECT, "101");
	ev_str(&e, ROAR_KEY_EXE, "/bin/ls");
	ev_strv(&e, ROAR_KEY_ARGV, ls_argv);
	ck_assert_int_eq(apply(&M, &e), -EINVAL);
	/* A subject that is the sender itself is just its own exec. */
	ck_assert_int_eq(
		exec_full(&M, ROOT, ROOT, LAUNCHER, 2.0, "/bin/ls", ls_argv),
		0);
	ck_assert(proc(&M, ROOT)->has_exec);
	ck_assert_uint_eq(M.frames_refused, 2);
}
END_TEST

START_TEST(identity_fork_claim_pid1_refused)
{
	/* Even where the kernel would agree (a fake that makes pid 1 a
	 * child of ROOT), pid 1 and the collector are never a child. */
	kern[0].st.ppid = ROOT;
	kern[2].st.ppid = ROOT;
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 1), 0);
	ck_assert_int_eq(fork_ev(&M, ROOT, M.self_pid), 0);
	ck_assert_int_eq(reaped_ev(&M, ROOT, 1, 0), 0);
	ck_assert_uint_eq(M.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&M, 1));
	ck_assert_ptr_null(roar_merge_find(&M, M.self_pid));
}
END_TEST

START_TEST(identity_fork_claim_alive_non_descendant_refused)
{
	peer = 101;
	ck_assert_int_eq(fork_ev(&M, 101, 300), 0);  /* init's child */
	ck_assert_int_eq(fork_ev(&M, 101, ROOT), 0); /* its own parent */
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	/* Its real children and grandchildren are fine. */
	ck_assert_int_eq(fork_ev(&M, 101, 102), 0);
	ck_assert_int_eq(fork_ev(&M, 101, 103), 0);
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_int_eq(parent(&M, 102), 101);
	ck_assert(!proc(&M, 102)->gone);
}
END_TEST

static struct roar_proc *born[8];
static size_t nborn;
static bool born_gone[8];

static void
record_new(void *ctx, struct roar_proc *p)
{
	(void)ctx;
	if (nborn < 8) {
		born_gone[nborn] = p->gone;
		born[nborn++] = p;
	}
}

START_TEST(identity_fork_claim_gone_not_watched)
{
	/* 150 ran and was reaped before its parent's fork event was read:
	 * accepted, and gone before anyone could watch it. */
	nborn = 0;
	M.on_new_proc = record_new;
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 150), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	ck_assert_uint_eq(nborn, 2);
	ck_assert_int_eq(born[0]->pid, ROOT);
	ck_assert(!born_gone[0]);
	ck_assert_int_eq(born[1]->pid, 150);
	ck_assert(born_gone[1]);
	ck_assert_int_eq(parent(&M, 150), ROOT);
	ck_assert_int_eq(proc(&M, 150)->parent_source, ROAR_PARENT_FORK_EVENT);
	/* A live child is watched as usual. */
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	ck_assert_uint_eq(nborn, 3);
	ck_assert(!born_gone[2]);
}
END_TEST

START_TEST(identity_fork_claim_child_agrees)
{
	/* A child orphaned before its parent's fork event is read: the
	 * kernel now says init, but its own hello said 300, and so does
	 * 300's fork event. */
	peer = 301;
	kern_add(301, 1);
	ck_assert_int_eq(hello_fork(&M, 301, 300, 1.0), 0);
	peer = 300;
	ck_assert_int_eq(fork_ev(&M, 300, 301), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	ck_assert_int_eq(proc(&M, 301)->ppid, 300);
}
END_TEST

START_TEST(identity_fork_claim_orphan)
{
	/* "( cmd & )": subshell 400 forked 401 and exited before its fork
	 * event was read; the kernel moved 401 to init. */
	kern_add_full(400, ROOT, 'Z', T_COLLECTOR + 20);
	kern_add_full(401, 1, 'S', T_COLLECTOR + 21);
	peer = 400;
	ck_assert_int_eq(fork_ev(&M, 400, 401), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	ck_assert_int_eq(parent(&M, 401), 400);
	ck_assert(!proc(&M, 401)->gone);
	/* The same once 400 is reaped too. */
	kern[nkern - 2].pid = 0;
	kern_add_full(402, 1, 'S', T_COLLECTOR + 22);
	ck_assert_int_eq(fork_ev(&M, 400, 402), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	/* But not a process older than the run (a daemon: we would wait
	 * for it forever), however dead the sender. */
	ck_assert_int_eq(fork_ev(&M, 400, 300), 0);
	ck_assert_uint_eq(M.frames_refused, 1);
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	/* Nor by a sender still alive: its children are not moved. */
	kern_add_full(403, 1, 'S', T_COLLECTOR + 23);
	peer = 101;
	ck_assert_int_eq(fork_ev(&M, 101, 403), 0);
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_ptr_null(roar_merge_find(&M, 403));
}
END_TEST

START_TEST(identity_kernel_unavailable_refuses)
{
	/* No /proc: a claim that cannot be checked is refused (the child's
	 * own hello still places it). */
	kern_err = -ENOSYS;
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	ck_assert_int_eq(reaped_ev(&M, ROOT, 101, 0), 0);
	ck_assert_int_eq(
		exec_full(&M, ROOT, 101, LAUNCHER, 2.0, "/bin/ls", ls_argv), 0);
	ck_assert_uint_eq(M.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&M, 101));
}
END_TEST

START_TEST(identity_reaped_claims)
{
	peer = ROOT;
	/* Known as the sender's child: accepted. */
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	ck_assert_int_eq(reaped_ev(&M, ROOT, 101, 3 << 8), 0);
	ck_assert(proc(&M, 101)->has_wait);
	/* Known with no parent (heard of only by its own file event):
	 * accepted, even while the kernel still shows it. */
	peer = 102;
	ck_assert_int_eq(file_ev(&M, "read", 102, 102, "/in", 3), 0);
	peer = ROOT;
	ck_assert_int_eq(reaped_ev(&M, ROOT, 102, 0), 0);
	ck_assert_int_eq(parent(&M, 102), ROOT);
	ck_assert_int_eq(proc(&M, 102)->parent_source, ROAR_PARENT_REAPED);
	/* Unknown and gone: accepted, never watched. */
	ck_assert_int_eq(reaped_ev(&M, ROOT, 151, 0), 0);
	ck_assert(proc(&M, 151)->gone);
	ck_assert_uint_eq(M.frames_refused, 0);
	/* Alive and unknown: nobody reaped it. */
	ck_assert_int_eq(reaped_ev(&M, ROOT, 300, 0), 0);
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	/* Alive and another's. */
	peer = 103;
	ck_assert_int_eq(hello_fork(&M, 103, 102, 1.0), 0);
	peer = ROOT;
	ck_assert_int_eq(reaped_ev(&M, ROOT, 103, 0), 0);
	ck_assert(!proc(&M, 103)->has_wait);
	ck_assert_uint_eq(M.frames_refused, 2);
}
END_TEST

START_TEST(exec_and_exit_ppid_set_parent)
{
	/* A vfork child speaks first by its exec, or only by its exit. */
	peer = 102;
	ck_assert_int_eq(exec_full(&M, 102, 0, 101, 2.0, "/bin/ls", ls_argv),
			 0);
	ck_assert_int_eq(proc(&M, 102)->ppid, 101);
	ck_assert_int_eq(proc(&M, 102)->parent_source, ROAR_PARENT_EXEC_HELLO);
	peer = 103;
	ck_assert_int_eq(exit_ppid(&M, 103, 102, 0), 0);
	ck_assert_int_eq(proc(&M, 103)->ppid, 102);
	ck_assert_int_eq(proc(&M, 103)->parent_source, ROAR_PARENT_EXEC_HELLO);
	ck_assert(proc(&M, 103)->has_exit);
	/* Weaker than a fork event, in either order. */
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 103), 0);
	ck_assert_int_eq(proc(&M, 103)->ppid, ROOT);
	peer = 103;
	ck_assert_int_eq(exit_ppid(&M, 103, 102, 0), 0);
	ck_assert_int_eq(proc(&M, 103)->ppid, ROOT);
	ck_assert_int_eq(proc(&M, 103)->parent_source, ROAR_PARENT_FORK_EVENT);
	/* An exit after the parent died says init: the first word stands,
	 * and an exec hello's getppid() still replaces it. */
	peer = 110;
	ck_assert_int_eq(exec_full(&M, 110, 0, 101, 3.0, "/bin/ls", ls_argv),
			 0);
	ck_assert_int_eq(exit_ppid(&M, 110, 1, 0), 0);
	ck_assert_int_eq(proc(&M, 110)->ppid, 101);
	peer = 111;
	ck_assert_int_eq(exit_ppid(&M, 111, 1, 0), 0);
	ck_assert_int_eq(hello_exec(&M, 111, 102, 4.0, ls_argv, NULL, NULL), 0);
	ck_assert_int_eq(proc(&M, 111)->ppid, 102);
	ck_assert_uint_eq(M.frames_refused, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("merge_identity");

	unit_tcase(s, "identity", setup_kernel, teardown,
		   UNIT_TESTS(identity_pid_not_peer_refused,
			      identity_hostile_claims_change_nothing,
			      identity_peer_unknown_trusts_payload,
			      identity_subject_descendant_by_table,
			      identity_subject_descendant_by_kernel,
			      identity_subject_not_descendant_refused,
			      identity_subject_only_on_exec,
			      identity_fork_claim_pid1_refused,
			      identity_fork_claim_alive_non_descendant_refused,
			      identity_fork_claim_gone_not_watched,
			      identity_fork_claim_child_agrees,
			      identity_fork_claim_orphan,
			      identity_kernel_unavailable_refuses,
			      identity_reaped_claims,
			      exec_and_exit_ppid_set_parent));
	return unit_run(s);
}
