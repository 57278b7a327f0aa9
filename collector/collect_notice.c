/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the collect loop tells the user on stderr: one-line diagnostics,
 * the progress of a long run, the notice naming who is still waited for
 * once the command has ended, and why the wait was cut short.
 */
#include "config.h"

#include <stdio.h>

#include "collect_loop.h"

void
roar_collect_diag(const struct roar_loop *l, const char *msg)
{
	if (!l->o->quiet)
		fprintf(stderr, "roar-collector: %s\n", msg);
}

/* At most this many are named in the waiting notice; the rest counted. */
#define NOTICE_NAMES 5

struct notice {
	const struct roar_loop *l;
	unsigned long named;
};

static void
name_running(struct roar_proc *p, void *arg)
{
	struct notice *n = arg;
	const struct roar_image *im = roar_proc_image(p);
	const char *name = "?";

	if (p->exited || n->named++ >= NOTICE_NAMES)
		return;
	if (im && im->argv.n)
		name = im->argv.v[0].p;
	else if (p->exec_argv.n)
		name = p->exec_argv.v[0].p;
	fprintf(stderr, "  pid %d %s\n", (int)p->pid, name);
}

/*
 * The command is over but the terminal is not given back: say why, once,
 * so that a daemon left behind is not mistaken for a hung tracer.
 */
static void
notice_waiting(struct roar_loop *l)
{
	const char *prog = l->o->prog ? l->o->prog : "roar-collector";
	struct notice n = { .l = l };

	fprintf(stderr,
		"%s: the command has ended; waiting for %lu %s it "
		"left running:\n",
		prog, l->alive, roar_plural(l->alive, "process", "processes"));
	roar_merge_each_proc(l->m, name_running, &n);
	if (n.named > NOTICE_NAMES)
		fprintf(stderr, "  and %lu more\n", n.named - NOTICE_NAMES);
	fprintf(stderr,
		"%s: the report is written when they end; Ctrl-C "
		"stops waiting now, ROAR_WAIT_TIMEOUT=S (roar-run --timeout S) "
		"bounds the wait\n",
		prog);
	l->notice_ms = UINT64_MAX;
}

/*
 * A long run says how far it is, so that a quiet build does not look
 * hung.  Returns the ms until the next line is due.
 */
static int
progress(struct roar_loop *l)
{
	uint64_t now = roar_mono_ms();
	const char *prog = l->o->prog ? l->o->prog : "roar-collector";

	if (!l->progress_ms)
		l->progress_ms = now + l->o->progress_every_ms;
	if (now >= l->progress_ms) {
		fprintf(stderr,
			"%s: tracing for %llu s: %zu %s, %zu %s so "
			"far\n",
			prog, (unsigned long long)((now - l->start_ms) / 1000),
			l->m->procs.count,
			roar_plural(l->m->procs.count, "process", "processes"),
			l->m->nfiles,
			roar_plural(l->m->nfiles, "file", "files"));
		l->progress_ms = now + l->o->progress_every_ms;
	}
	return (int)(l->progress_ms - now);
}

int
roar_collect_say_due(struct roar_loop *l, int timeout)
{
	if (l->root_done && l->o->notice_after_ms && !l->o->quiet &&
	    l->notice_ms != UINT64_MAX) {
		uint64_t now = roar_mono_ms();

		if (!l->notice_ms)
			l->notice_ms = now + l->o->notice_after_ms;
		if (now >= l->notice_ms) {
			notice_waiting(l);
		} else if (timeout < 0 ||
			   (uint64_t)timeout > l->notice_ms - now) {
			timeout = (int)(l->notice_ms - now);
		}
	}
	if (!l->root_done && l->o->progress_every_ms && !l->o->quiet) {
		int due = progress(l);

		if (timeout < 0 || timeout > due)
			timeout = due;
	}
	return timeout;
}

void
roar_collect_say_stopped(const struct roar_loop *l)
{
	if (!l->o->quiet)
		fprintf(stderr,
			"roar-collector: stopped waiting for %lu %s on "
			"a signal; marked still running\n",
			l->alive,
			roar_plural(l->alive, "process", "processes"));
}
