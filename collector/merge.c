/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merge model's records: the process and file tables of merge.h,
 * how a record is created (and announced), each process's history of
 * images and exec attempts kept in time order within the caps of caps.h,
 * and how it is all freed.  Applying events is merge_event.c's; reading
 * the model back for the report, merge_query.c's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callsites.h"
#include "merge.h"
#include "merge_private.h"

void
roar_strv_free(struct roar_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		roar_bytes_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* ---- tables ----------------------------------------------------------- */

void
roar_merge_init(struct roar_merge *m, pid_t root_pid)
{
	memset(m, 0, sizeof(*m));
	roar_map_init(&m->procs);
	roar_map_init(&m->access);
	roar_map_init(&m->slot_pid);
	roar_map_init(&m->slot_got);
	roar_pipes_init(&m->pipes);
	m->root_pid = root_pid;
	m->self_pid = getpid();
	m->proc_stat = roar_proc_stat;
	/* The launcher's and the collector's own environment decide (roar-run
	 * --keep-secrets sets it). */
	m->keep_secrets = getenv("ROAR_KEEP_SECRETS") &&
			  !strcmp(getenv("ROAR_KEEP_SECRETS"), "1");
	m->proc_inner_pid = roar_proc_inner_pid;
}

void
roar_image_free(struct roar_image *im)
{
	roar_strv_free(&im->argv);
	roar_strv_free(&im->env);
	roar_bytes_free(&im->cwd);
	roar_bytes_free(&im->exe);
}

void
roar_exec_try_free(struct roar_exec_try *x)
{
	roar_bytes_free(&x->exe);
	roar_strv_free(&x->argv);
}

static void
free_proc(struct roar_proc *p, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < p->nimages; i++)
		roar_image_free(&p->images[i]);
	free(p->images);
	for (size_t i = 0; i < p->n_old_execs; i++)
		roar_exec_try_free(&p->old_execs[i]);
	free(p->old_execs);
	roar_strv_free(&p->exec_argv);
	roar_bytes_free(&p->exec_exe);
	roar_callsites_free(p);
	free(p->untraced_reason);
	free(p);
}

void
roar_merge_free(struct roar_merge *m)
{
	roar_merge_each_proc(m, free_proc, NULL);
	roar_file_store_free(m);
	free(m->file_list);
	roar_map_free(&m->procs);
	roar_map_free(&m->access);
	roar_map_free(&m->slot_pid);
	roar_map_free(&m->slot_got);
	roar_pipes_free(&m->pipes);
	roar_bytes_free(&m->exclude_prefix);
	roar_bytes_free(&m->exclude_exact);
}

struct roar_proc *
roar_merge_find(const struct roar_merge *m, pid_t pid)
{
	return roar_map_get(&m->procs, (uint64_t)pid);
}

struct roar_proc *
roar_merge_add_proc(struct roar_merge *m, pid_t pid, bool gone)
{
	struct roar_proc *p = roar_merge_find(m, pid);

	if (p)
		return p;
	p = roar_xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->gone = gone;
	roar_map_put(&m->procs, (uint64_t)pid, p);
	if (m->on_new_proc)
		m->on_new_proc(m->ctx, p);
	return p;
}

struct roar_proc *
roar_merge_proc(struct roar_merge *m, pid_t pid)
{
	return roar_merge_add_proc(m, pid, false);
}

void
roar_merge_each_proc(struct roar_merge *m,
		     void (*fn)(struct roar_proc *p, void *arg), void *arg)
{
	for (size_t i = 0; i < m->procs.cap; i++)
		if (m->procs.used[i])
			fn(m->procs.vals[i], arg);
}

bool
roar_merge_excluded(const struct roar_merge *m, const char *path, size_t len)
{
	if (m->exclude_prefix.len && len >= m->exclude_prefix.len &&
	    !memcmp(path, m->exclude_prefix.p, m->exclude_prefix.len))
		return true;
	if (m->exclude_exact.len && len == m->exclude_exact.len &&
	    !memcmp(path, m->exclude_exact.p, len))
		return true;
	return false;
}

/* ---- images and exec attempts ----------------------------------------- */

/*
 * Keep the images of p within ROAR_CAP_PROC_IMAGE_BYTES, dropping the
 * oldest first (as ROAR_MERGE_MAX_HISTORY does by count); the latest one
 * always stays.
 */
static void
drop_old_images(struct roar_proc *p)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < p->nimages; i++)
		total += p->images[i].bytes;
	while (total > ROAR_CAP_PROC_IMAGE_BYTES && p->nimages - k > 1) {
		total -= p->images[k].bytes;
		roar_image_free(&p->images[k++]);
	}
	if (!k)
		return;
	memmove(&p->images[0], &p->images[k],
		(p->nimages - k) * sizeof(*p->images));
	p->nimages -= k;
}

/* An image of the same time as a known one counts as the later. */
void
roar_proc_add_image(struct roar_proc *p, struct roar_image *im)
{
	size_t i = p->nimages;

	while (i > 0 && p->images[i - 1].time > im->time)
		i--;
	if (p->nimages == ROAR_MERGE_MAX_HISTORY) {
		if (i == 0) {
			roar_image_free(im); /* older than all we keep */
			return;
		}
		roar_image_free(&p->images[0]);
		memmove(&p->images[0], &p->images[1],
			(p->nimages - 1) * sizeof(*p->images));
		p->nimages--;
		i--;
	}
	p->images =
		roar_xrealloc(p->images, (p->nimages + 1) * sizeof(*p->images));
	memmove(&p->images[i + 1], &p->images[i],
		(p->nimages - i) * sizeof(*p->images));
	p->images[i] = *im;
	p->nimages++;
	drop_old_images(p);
}

struct roar_exec_try *
roar_proc_old_exec_at(struct roar_proc *p, double t)
{
	for (size_t i = 0; i < p->n_old_execs; i++)
		if (p->old_execs[i].time == t)
			return &p->old_execs[i];
	return NULL;
}

void
roar_proc_add_old_exec(struct roar_proc *p, double t, bool failed,
		       struct roar_bytes exe, struct roar_strv argv)
{
	size_t i = p->n_old_execs;

	while (i > 0 && p->old_execs[i - 1].time > t)
		i--;
	if (p->n_old_execs == ROAR_MERGE_MAX_HISTORY) {
		struct roar_exec_try x = { t, failed, exe, argv };

		if (i == 0) {
			roar_exec_try_free(&x);
			return;
		}
		roar_exec_try_free(&p->old_execs[0]);
		memmove(&p->old_execs[0], &p->old_execs[1],
			(p->n_old_execs - 1) * sizeof(*p->old_execs));
		p->n_old_execs--;
		i--;
	}
	p->old_execs = roar_xrealloc(
		p->old_execs, (p->n_old_execs + 1) * sizeof(*p->old_execs));
	memmove(&p->old_execs[i + 1], &p->old_execs[i],
		(p->n_old_execs - i) * sizeof(*p->old_execs));
	p->old_execs[i] = (struct roar_exec_try){ t, failed, exe, argv };
	p->n_old_execs++;
}

void
roar_proc_retire_exec(struct roar_proc *p)
{
	if (!p->has_exec)
		return;
	roar_proc_add_old_exec(p, p->exec_time, p->exec_failed, p->exec_exe,
			       p->exec_argv);
	p->exec_exe = (struct roar_bytes){ 0 };
	p->exec_argv = (struct roar_strv){ 0 };
	p->has_exec = false;
	p->exec_failed = false;
}

static void
sum_dropped(struct roar_proc *p, void *arg)
{
	*(uint64_t *)arg += p->dropped;
}

uint64_t
roar_merge_dropped(const struct roar_merge *m)
{
	uint64_t total = 0;

	roar_merge_each_proc((struct roar_merge *)m, sum_dropped, &total);
	return total;
}
