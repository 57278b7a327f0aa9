/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The identity rules ("Identity" in protocol.h): whether a sender may
 * say what it says.  A sender is its connection's peer; what it says
 * about itself is taken, what it says about another pid is checked:
 *   - an exec's "subject" must descend from the sender, by the merge
 *     table (a fork event of the sender, applied just before) or else by
 *     the kernel;
 *   - a fork's "child" must descend from the sender by the kernel, or
 *     already say so itself, or be gone (then it is never watched), or
 *     be an orphan of the sender (below);
 *   - a reaped "child" must be known as the sender's or as nobody's, or
 *     be gone;
 *   - no claim may name pid 1, the collector or the root's parent, which
 *     the launcher would otherwise wait for forever.
 * The kernel is asked through m->proc_stat only.
 *
 * Orphans: "( cmd & )" in a shell forks cmd from a subshell that exits at
 * once, so by the time its fork event is read cmd has been moved to a
 * reaper and the kernel no longer links it to the sender.  Such a claim
 * is taken when the sender is indeed dead (a zombie, or gone: the kernel
 * moves children only then) and the child started after the collector
 * did, so that no process older than the run (a daemon the launcher would
 * wait for forever) can be claimed this way.  Bet: a hostile sender that
 * dies at once can still claim an unrelated process started during the
 * run and since orphaned; the wait timeout bounds that.
 */
#include "config.h"

#include <errno.h>

#include "merge.h"
#include "merge_private.h"

/* How far a kernel parent chain is followed (descendants of a sender are
 * rarely deeper than a few levels). */
#define KERNEL_CHAIN_MAX 64

static bool
unclaimable(const struct roar_merge *m, pid_t pid)
{
	return pid == 1 || pid == m->self_pid ||
	       (m->root_ppid > 0 && pid == m->root_ppid);
}

/*
 * Whether the kernel's parent links lead from pid up to anc: 1 when they
 * do, 0 when they do not, -ESRCH when pid itself is gone, another -errno
 * when the kernel could not be asked about pid.
 */
static int
kernel_descends(const struct roar_merge *m, pid_t pid, pid_t anc)
{
	struct roar_proc_stat st;
	pid_t cur = pid;

	for (int i = 0; i < KERNEL_CHAIN_MAX; i++) {
		int rc = m->proc_stat(cur, &st);

		if (rc != 0)
			return i == 0 ? rc : 0; /* an ancestor vanished */
		if (st.ppid == anc)
			return 1;
		if (st.ppid <= 1)
			return 0;
		cur = st.ppid;
	}
	return 0;
}

/* Whether child may be an orphan of sender (see "Orphans" above). */
static bool
orphan_of(const struct roar_merge *m, pid_t sender, pid_t child)
{
	struct roar_proc_stat s, c, self;
	int rc = m->proc_stat(sender, &s);

	if (rc == 0 ? s.state != 'Z' && s.state != 'X' : rc != -ESRCH)
		return false;
	return m->proc_stat(child, &c) == 0 &&
	       m->proc_stat(m->self_pid, &self) == 0 && c.start >= self.start;
}

/* Whether the merge table's parent links lead from pid up to anc. */
static bool
table_descends(const struct roar_merge *m, pid_t pid, pid_t anc)
{
	const struct roar_proc *p = roar_merge_find(m, pid);

	for (int depth = 0; p && depth < ROAR_MERGE_CHAIN_MAX; depth++) {
		if (p->ppid == anc)
			return true;
		if (p->ppid <= 0)
			return false;
		p = roar_merge_find(m, p->ppid);
	}
	return false;
}

enum roar_claim
roar_merge_judge_fork(const struct roar_merge *m, pid_t sender, pid_t child,
		      bool verify)
{
	const struct roar_proc *c = roar_merge_find(m, child);
	int rc;

	if (unclaimable(m, child) || child == sender)
		return ROAR_CLAIM_REFUSED;
	if (!verify)
		return ROAR_CLAIM_ALIVE;
	/* The child's own hello (its word about itself) already agrees. */
	if (c && c->ppid == sender)
		return ROAR_CLAIM_ALIVE;
	rc = kernel_descends(m, child, sender);
	if (rc == 1 || (rc == 0 && orphan_of(m, sender, child)))
		return ROAR_CLAIM_ALIVE;
	if (rc == -ESRCH)
		return ROAR_CLAIM_GONE;
	return ROAR_CLAIM_REFUSED;
}

enum roar_claim
roar_merge_judge_reaped(const struct roar_merge *m, pid_t sender, pid_t child,
			bool verify)
{
	const struct roar_proc *c = roar_merge_find(m, child);
	struct roar_proc_stat st;

	if (unclaimable(m, child) || child == sender)
		return ROAR_CLAIM_REFUSED;
	if (!verify)
		return ROAR_CLAIM_ALIVE;
	if (c && (c->ppid == sender || c->ppid == 0))
		return ROAR_CLAIM_ALIVE;
	/* A reaped child is gone: a live one was not reaped by anyone. */
	if (m->proc_stat(child, &st) == -ESRCH)
		return ROAR_CLAIM_GONE;
	return ROAR_CLAIM_REFUSED;
}

bool
roar_merge_judge_subject(const struct roar_merge *m, pid_t sender,
			 pid_t subject, bool verify)
{
	if (unclaimable(m, subject))
		return false;
	if (!verify || table_descends(m, subject, sender))
		return true;
	return kernel_descends(m, subject, sender) == 1;
}
