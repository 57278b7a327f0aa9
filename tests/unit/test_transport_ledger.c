/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the transport and the ledger (preload/transport_wait.c,
 * ledger.c): a collector that stops beating is declared stalled by the
 * first sender that waits for it, after the detection time, and nobody
 * waits for it after that; every frame made and every event lost is in
 * the sender's own ledger slot.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "unit_transport.h"

/* What the ledger beside r's socket holds now. */
static void
read_ledger(const struct reader *r, struct roar_ledger_head *h,
	    struct roar_ledger_slot *slots, size_t n)
{
	char lp[PATH_MAX];
	int fd;

	snprintf(lp, sizeof(lp), "%s%s", r->path, ROAR_LEDGER_SUFFIX);
	fd = open(lp, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, h, sizeof(*h), 0), sizeof(*h));
	ck_assert_int_eq(pread(fd, slots, n * sizeof(*slots),
			       (off_t)roar_ledger_slot_offset(0)),
			 (ssize_t)(n * sizeof(*slots)));
	close(fd);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

START_TEST(stalled_collector_is_declared_and_nobody_waits)
{
	/* A collector that beat once and stopped.  The first sender to
	 * find its socket full waits until the beat has not moved for the
	 * detection time, says so in the ledger, and goes on; a second
	 * process then does not wait at all.  Every frame is in the
	 * ledger as made, each process in a slot of its own. */
	struct reader *r = calloc(1, sizeof(*r));
	size_t big_len = ROAR_FRAME_HEADER_SIZE + BIG_PAYLOAD;
	unsigned char *big = make_frame(BIG_PAYLOAD, 7);
	struct roar_ledger_head h;
	struct roar_ledger_slot s[2];
	uint64_t t0, waited;
	int status;
	pid_t child;

	ck_assert_ptr_nonnull(r);
	r->ledger = true;
	reader_start(r);
	ck_assert_int_eq(roar_ledger_slot(), 0);
	roar_guard_depth++;
	t0 = mono_ms();
	ck_assert_int_eq(roar_transport_send(big, big_len), 0);
	waited = mono_ms() - t0;
	read_ledger(r, &h, s, 2);
	ck_assert_uint_eq(h.stalled_at, 12345);
	/* At least the detection time, well short of the budget. */
	ck_assert_uint_ge(waited, 90);
	ck_assert_uint_lt(waited, 240);

	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		roar_session.pid = getpid();
		roar_transport_atfork_child(false);
		roar_ledger_atfork_child(getpid(), getppid());
		t0 = mono_ms();
		roar_transport_send(big, big_len);
		waited = mono_ms() - t0;
		free(big);
		reader_free(r);
		free(r);
		/* Short of the 100 ms detection: it did not wait for a
		 * stall.  Under valgrind a send alone is that much slower. */
		_exit(roar_ledger_slot() == 1 &&
				      waited < (getenv("ROAR_UNDER_VALGRIND")
							? 95u
							: 60u)
			      ? 0
			      : 1);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	roar_guard_depth--;
	read_ledger(r, &h, s, 2);
	ck_assert_uint_eq(h.next, 2);
	/* Each: the frame, and the resume that named its slot first (no
	 * hello went ahead of it here). */
	ck_assert_uint_eq(s[0].pid, (uint32_t)getpid());
	ck_assert_uint_eq(s[0].made, 2);
	ck_assert_uint_eq(s[1].pid, (uint32_t)child);
	ck_assert_uint_eq(s[1].ppid, (uint32_t)getpid());
	ck_assert_uint_eq(s[1].made, 2);
	reader_finish(r);
	free(big);
	reader_free(r);
	free(r);
}
END_TEST

START_TEST(lost_events_are_in_the_ledger)
{
	struct reader *r = calloc(1, sizeof(*r));
	struct roar_ledger_head h;
	struct roar_ledger_slot s[1];
	unsigned char *small = make_frame(64, 8);

	ck_assert_ptr_nonnull(r);
	r->ledger = true;
	reader_start(r);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(small, 4 + 64), 0);
	roar_guard_depth--;
	roar_transport_count_drop();
	roar_transport_count_drop();
	read_ledger(r, &h, s, 1);
	ck_assert_uint_eq(s[0].lost, 2);
	ck_assert_uint_eq(s[0].made, 2); /* the resume, and the frame */
	reader_finish(r);
	free(small);
	reader_free(r);
	free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("transport_ledger");
	TCase *tc;

	tc = unit_tcase(
		s, "stream", setup, teardown,
		UNIT_TESTS(stalled_collector_is_declared_and_nobody_waits,
			   lost_events_are_in_the_ledger));
	tcase_set_timeout(tc, 30);
	return unit_run(s);
}
