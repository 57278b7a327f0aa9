/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the files of the merge share and nobody else uses: the model's
 * record keeping (merge.c) and file table (merge_file.c), the identity rules (merge_identity.c) and the
 * walks along parent links that the queries and the diagnosis both make
 * (merge_query.c).  The public side is merge.h.
 */
#ifndef ROAR_MERGE_PRIVATE_H
#define ROAR_MERGE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "merge.h"

/* How far merge-table chains (and image lookups) are followed. */
#define ROAR_MERGE_CHAIN_MAX 4096

/* ---- records (merge.c) ------------------------------------------------ */

void roar_strv_free(struct roar_strv *s);
void roar_image_free(struct roar_image *im);
void roar_exec_try_free(struct roar_exec_try *x);

/** The record of pid, created when new; gone marks a new one as already
 *  gone (see struct roar_proc.gone) before it is announced. */
struct roar_proc *roar_merge_add_proc(struct roar_merge *m, pid_t pid,
				      bool gone);

/** Whether path is one of ours (struct roar_merge.exclude_*). */
bool roar_merge_excluded(const struct roar_merge *m, const char *path,
			 size_t len);

/** The file record of path, created when new; *index is its position in
 *  file_list. */
struct roar_file *roar_merge_intern_file(struct roar_merge *m, const char *path,
					 size_t len, uint32_t *index);

/** One more thread that read (or wrote) f. */
void roar_file_add_tid(struct roar_file *f, bool write, pid_t tid);

/** p did bit (ROAR_ACCESS_*) to f; p->nfiles counts f once. */
void roar_merge_add_access(struct roar_merge *m, struct roar_file *f,
			   struct roar_proc *p, unsigned bit);

/** Free the file table (merge_file.c). */
void roar_file_store_free(struct roar_merge *m);

/** Insert *im (taken over) into p's images, sorted by time, within the
 *  caps (ROAR_MERGE_MAX_HISTORY, ROAR_CAP_PROC_IMAGE_BYTES). */
void roar_proc_add_image(struct roar_proc *p, struct roar_image *im);

/** The earlier exec attempt of p stamped t, if any. */
struct roar_exec_try *roar_proc_old_exec_at(struct roar_proc *p, double t);

/** Insert an earlier attempt (exe and argv taken over), sorted by time. */
void roar_proc_add_old_exec(struct roar_proc *p, double t, bool failed,
			    struct roar_bytes exe, struct roar_strv argv);

/** A newer attempt arrived: the latest one joins the earlier ones. */
void roar_proc_retire_exec(struct roar_proc *p);

/* ---- identity (merge_identity.c) -------------------------------------- */

enum roar_claim {
	ROAR_CLAIM_REFUSED,
	ROAR_CLAIM_ALIVE, /* accepted; watch it if it is new */
	ROAR_CLAIM_GONE,  /* accepted; the kernel has no such process now */
};

/** sender says it forked child; verify is false when the sender is not
 *  known by the kernel (its payload is trusted). */
enum roar_claim roar_merge_judge_fork(const struct roar_merge *m, pid_t sender,
				      pid_t child, bool verify);

/** sender says it reaped child. */
enum roar_claim roar_merge_judge_reaped(const struct roar_merge *m,
					pid_t sender, pid_t child, bool verify);

/** Whether sender may speak for subject in an exec event. */
bool roar_merge_judge_subject(const struct roar_merge *m, pid_t sender,
			      pid_t subject, bool verify);

/* ---- what a process ran (merge_query.c) ------------------------------- */

/** The argv of the untraced exec p had made by t (INFINITY: by the end),
 *  or NULL. */
const struct roar_strv *roar_proc_silent_exec_at(const struct roar_proc *p,
						 double t);

/** The image p ran at t, or that its ancestors did, as inherited: over
 *  fork evidence only, or over any parent link when lenient. */
const struct roar_image *roar_merge_inherited_image(const struct roar_merge *m,
						    const struct roar_proc *p,
						    double t, bool lenient);

#endif /* ROAR_MERGE_PRIVATE_H */
