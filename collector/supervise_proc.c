/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor's processes and tasks (supervise_int.h): who a
 * notification's thread belongs to, the hellos of the processes it first
 * sees, the outcome of calls it let go on, and the per-fd credits.
 *
 * Facts relied on:
 * - A call let go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE) gives us no
 *   result.  So an open is judged after it returned, at the thread's
 *   next watched call (or its process's end): the file it named is
 *   looked up and, when it is a regular file, credited by its canonical
 *   name.  An exec happened when the process's AT_RANDOM bytes changed
 *   (supervise_peek.c: a new image has a new stack).
 * - A process first seen is a fork child of the process its pidfd (or
 *   /proc) names as its parent; it runs its parent's image, in its
 *   parent's working directory, from the fork on.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "roar/clock.h"
#include "roar/credit.h"
#include "roar/image.h"
#include "event.h"
#include "supervise_int.h"

/* A hello's frame: argv and environ at most SUP_LIST_MAX each. */
#define HELLO_FRAME (1u << 20)

/* ---- frames ------------------------------------------------------------ */

void
sup_emit_frame(struct roar_sup *s, struct roar_frame *f, int rc)
{
	if (rc == 0)
		roar_sup_emit(s, f->data, f->len);
}

void
sup_emit_file(struct roar_sup *s, const struct sup_proc *p, pid_t tid,
	      enum roar_kind kind, const char *path, const char *via)
{
	SUP_EMIT(s, SUP_SMALL_FRAME,
		 roar_event_file(f, &(struct roar_event_ids){ p->pid, tid },
				 kind, path, strlen(path), via));
}

void
sup_emit_unseen(struct roar_sup *s, const struct sup_proc *p, const char *what)
{
	SUP_EMIT(s, 256,
		 roar_event_unseen(f,
				   &(struct roar_event_ids){ p->pid, p->pid },
				   what, 0));
}

/* ---- processes and tasks ------------------------------------------------ */

static struct sup_proc *
proc_find(struct roar_sup *s, pid_t pid)
{
	return roar_map_get(&s->procs, (uint64_t)pid);
}

static struct sup_proc *
proc_new(struct roar_sup *s, pid_t pid, pid_t ppid, enum sup_mode mode)
{
	struct sup_proc *p = roar_xcalloc(1, sizeof(*p));

	p->pid = pid;
	p->ppid = ppid;
	p->mode = mode;
	p->pidfd = -1;
	roar_map_put(&s->procs, (uint64_t)pid, p);
	return p;
}

void
sup_op_clear(struct roar_sup *s, struct sup_op *op)
{
	if (op->kind != SUP_OP_NONE)
		s->npending--;
	free(op->path);
	memset(op, 0, sizeof(*op));
}

void
sup_proc_free(struct roar_sup *s, struct sup_proc *p)
{
	struct sup_task *t = p->tasks;

	while (t) {
		struct sup_task *next = t->next;

		sup_op_clear(s, &t->op);
		roar_map_put(&s->tasks, (uint64_t)t->tid, NULL);
		free(t);
		t = next;
	}
	if (p->exec_pending)
		s->npending--;
	roar_map_put(&s->procs, (uint64_t)p->pid, NULL);
	sup_pidfd_drop(s, p);
	free(p->exec_path);
	free(p->exec_args);
	sup_exe_name_free(&p->exec_exe);
	sup_exe_name_free(&p->exe);
	free(p->auxv);
	free(p->fork_cwd);
	free(p->cwd);
	for (unsigned i = 0; i < SUP_OPENED; i++)
		free(p->opened[i].name);
	free(p->fds);
	free(p);
}

void
sup_proc_died(struct roar_sup *s, pid_t pid)
{
	struct sup_proc *p = proc_find(s, pid);

	/* Gone before its exit_group (killed), or its pidfd's event came
	 * after it: what it left waiting is judged now. */
	if (!p || p->pidfd < 0)
		return;
	sup_settle_proc(s, p, true);
	sup_proc_free(s, p);
}

void
roar_sup_track(struct roar_sup *s, pid_t pid)
{
	struct sup_proc *p = proc_find(s, pid);

	if (p)
		sup_proc_free(s, p);
	proc_new(s, pid, 0, SUP_PRELOAD);
}

/* Split a NUL-separated list (cmdline, environ) into v; entries kept. */
static size_t
split_list(char *buf, size_t len, char **v, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < max;) {
		v[n++] = buf + i;
		i += strnlen(buf + i, len - i) + 1;
	}
	v[n] = NULL;
	return n;
}

/* A fork child's hello: it runs its parent's image from fork_time. */
static void
say_fork_hello(struct roar_sup *s, struct sup_proc *p, pid_t tid, double time,
	       bool late)
{
	struct roar_hello h = { .ppid = p->ppid,
				.origin = ROAR_ORIGIN_FORK,
				.time = time,
				.late = late };

	SUP_EMIT(s, SUP_SMALL_FRAME,
		 roar_event_hello(f, &(struct roar_event_ids){ p->pid, tid },
				  &h));
}

/* What a new image's hello is read into: big, so made once. */
struct sup_hello_bufs {
	char cmd[SUP_LIST_MAX + 1];
	char env[SUP_LIST_MAX + 1];
	char *argv[SUP_LIST_ENTRIES_MAX + 1];
	char *envp[SUP_LIST_ENTRIES_MAX + 1];
	unsigned char frame[HELLO_FRAME];
};

/* A list of /proc/PID/what (cmdline, environ) into buf and v. */
static void
proc_list(pid_t pid, const char *what, char *buf, char **v)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	n = sup_read_small(path, buf, SUP_LIST_MAX);
	split_list(buf, n > 0 ? (size_t)n : 0, v, SUP_LIST_ENTRIES_MAX);
}

/*
 * A new image's hello: argv and environment as its exec call gave them
 * (or from /proc), its cwd as it was known before (a chdir forgets it;
 * /proc then), and exe: the canonical name of the image exec'd, when
 * that is what runs (an ELF; else /proc).
 */
void
sup_say_exec_hello(struct roar_sup *s, struct sup_proc *p, const char *exe)
{
	char cwd[PATH_MAX], link[PATH_MAX];
	struct sup_hello_bufs *b;
	struct sup_args *a = p->exec_args;
	struct roar_frame f;
	struct roar_hello h = { .ppid = p->ppid,
				.origin = ROAR_ORIGIN_EXEC,
				.time = roar_now() };

	if (!s->hello)
		s->hello = roar_xmalloc(sizeof(*s->hello));
	b = s->hello;
	h.argv = b->argv;
	h.envp = b->envp;
	if (a) {
		split_list(a->data, a->cmd_len, b->argv, SUP_LIST_ENTRIES_MAX);
		split_list(a->data + a->cmd_len, a->env_len, b->envp,
			   SUP_LIST_ENTRIES_MAX);
	} else {
		proc_list(p->pid, "cmdline", b->cmd, b->argv);
		proc_list(p->pid, "environ", b->env, b->envp);
	}
	if (!p->cwd && sup_proc_link(p->pid, "cwd", cwd, sizeof(cwd)) >= 0)
		p->cwd = roar_xstrdup(cwd); /* its relative names start here */
	h.cwd = p->cwd;
	if (!exe && sup_proc_link(p->pid, "exe", link, sizeof(link)) >= 0) {
		struct stat st;

		sup_exe_name_free(&p->exe);
		if (stat(link, &st) == 0)
			p->exe = (struct sup_exe_name){ roar_xstrdup(link),
							st.st_dev, st.st_ino };
		exe = link;
	}
	h.exe = exe ? exe : p->exec_path;
	roar_frame_init(&f, b->frame, HELLO_FRAME);
	sup_emit_frame(
		s, &f,
		roar_event_hello(&f, &(struct roar_event_ids){ p->pid, p->pid },
				 &h));
}

void
sup_hello_free(struct roar_sup *s)
{
	free(s->hello);
	s->hello = NULL;
	for (unsigned i = 0; i < sizeof(s->exes) / sizeof(s->exes[0]); i++) {
		free(s->exes[i].path);
		free(s->exes[i].canon);
		s->exes[i] = (struct sup_exe){ 0 };
	}
}

/*
 * Whether the kernel runs the file img describes as it is: an ELF it
 * loads itself (a set-ID one too: no_new_privs), whose new image gets
 * the exec's argv unchanged and is its /proc/PID/exe.  Not a script
 * (its interpreter runs, with argv rewritten), nor another machine's
 * program (binfmt_misc's emulator runs).
 */
static bool
runs_itself(const struct roar_image *img)
{
	switch (img->kind) {
	case ROAR_IMAGE_DYNAMIC:
	case ROAR_IMAGE_STATIC:
	case ROAR_IMAGE_GO:
	case ROAR_IMAGE_SETID:
	case ROAR_IMAGE_FCAPS:
		return true;
	case ROAR_IMAGE_FOREIGN: /* a musl one runs so, and one of our
				    compat ABI; a foreign machine's does
				    not */
#if defined(__x86_64__)
		return img->elf_machine == EM_X86_64 ||
		       img->elf_machine == EM_386;
#elif defined(__aarch64__)
		return img->elf_machine == EM_AARCH64 ||
		       img->elf_machine == EM_ARM;
#else
		return false;
#endif
	default:
		return false;
	}
}

/*
 * The canonical name of the ELF image img that path named, as
 * /proc/PID/exe will say it, from a few kept (a loop execs the same
 * binaries by the same names); NULL when not known (ask /proc).  img's
 * dev and inode are of the file at path now: a name kept for another
 * file is made anew.
 */
static const char *
exe_name(struct roar_sup *s, const char *path, const struct roar_image *img)
{
	const size_t nexes = sizeof(s->exes) / sizeof(s->exes[0]);
	char canon[PATH_MAX];
	struct sup_exe *e;
	struct stat st;

	if (!runs_itself(img))
		return NULL; /* a script's, or an emulator's: not its own */
	for (size_t i = 0; i < nexes; i++) {
		e = &s->exes[i];
		if (e->path && e->dev == img->dev && e->ino == img->ino &&
		    !strcmp(e->path, path))
			return e->canon;
	}
	if (!sup_canonical_file(path, true, false, canon, sizeof(canon), &st) ||
	    st.st_dev != img->dev || st.st_ino != img->ino)
		return NULL;
	e = &s->exes[s->next_exe++ % nexes];
	free(e->path);
	free(e->canon);
	*e = (struct sup_exe){ roar_xstrdup(path), roar_xstrdup(canon),
			       img->dev, img->ino };
	return e->canon;
}

/* Who reports an image of this verdict (image.h). */
static enum sup_mode
mode_for(const struct roar_image *img)
{
	switch (roar_image_tracer(img)) {
	case ROAR_TRACER_PRELOAD:
		return SUP_PENDING;
	case ROAR_TRACER_SUPERVISOR:
		return SUP_OWN;
	case ROAR_TRACER_NONE:
		break;
	}
	/* A program the kernel runs under another system-call ABI (i386,
	 * x32): the filter lets its calls by.  Any other machine runs only
	 * through an emulator (binfmt_misc's qemu-user), an x86-64 program
	 * whose calls are watched; a set-ID one is ours too (no_new_privs
	 * took its privileges away), and so is what could not be judged. */
	switch (img->final) {
	case ROAR_IMAGE_STATIC:
	case ROAR_IMAGE_GO:
	case ROAR_IMAGE_FOREIGN:
		if (img->elf_machine == EM_386 ||
		    (img->elf_machine == EM_X86_64 &&
		     img->elf_class == ELFCLASS32))
			return SUP_BLIND;
		return SUP_OWN;
	default:
		return SUP_OWN;
	}
}

/* Who reports the image at path: from its verdict (image.h's cache: a
 * loop execs the same few binaries, each judged once); *exe: its
 * canonical name, when known (else NULL); img (when not NULL): the
 * verdict, kind NOT_FOUND when there was none. */
static enum sup_mode
mode_of(struct roar_sup *s, const char *path, const char **exe,
	struct roar_image *out)
{
	/* Whether the exec may run it is the exec's business (a failed
	 * one leaves the image as it was): no access(2). */
	static const struct roar_image_io *io;
	static struct roar_image_io no_access;
	struct roar_image img;

	if (!io) {
		no_access = roar_image_io_libc;
		no_access.access = NULL;
		io = &no_access;
	}
	if (exe)
		*exe = NULL;
	if (out)
		out->kind = ROAR_IMAGE_NOT_FOUND;
	if (!path || roar_image_inspect_cached(&s->images, io, path, &img) != 0)
		return SUP_OWN;
	if (out)
		*out = img;
	if (exe)
		*exe = exe_name(s, path, &img);
	return mode_for(&img);
}

enum sup_mode
sup_exec_mode(struct roar_sup *s, const struct sup_proc *p, const char *path,
	      struct sup_exe_name *exe, bool *direct)
{
	struct roar_image img;
	char self[64];
	const char *name = NULL;
	enum sup_mode m;

	sup_exe_name_free(exe);
	/* Its own image again, by /proc/self/exe (busybox runs its applets
	 * so): judged by the name it has, which keeps /proc out of it, as
	 * long as that name is still the file it runs. */
	snprintf(self, sizeof(self), "/proc/%d/exe", (int)p->pid);
	if (p->exe.name && !strcmp(path, self)) {
		m = mode_of(s, p->exe.name, NULL, &img);
		if (img.kind != ROAR_IMAGE_NOT_FOUND && img.dev == p->exe.dev &&
		    img.ino == p->exe.ino)
			name = p->exe.name;
		else
			m = mode_of(s, path, &name, &img);
	} else {
		m = mode_of(s, path, &name, &img);
	}
	if (name)
		*exe = (struct sup_exe_name){ roar_xstrdup(name), img.dev,
					      img.ino };
	*direct = runs_itself(&img);
	return m;
}

/* The likeliest reason an exec of path failed (the call's own result is
 * not ours to see). */
static int
exec_errno(const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) != 0)
		return ENOENT;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
		return EACCES;
	return ENOEXEC;
}

/* Did the exec p let go happen?  Judge it now. */
void
sup_settle_exec(struct roar_sup *s, struct sup_proc *p)
{
	int changed;

	if (!p->exec_pending)
		return;
	p->exec_pending = false;
	s->npending--;
	changed = sup_image_changed(p, p->exec_tid);
	/* Gone without a watched call since: an image the filter is blind
	 * to makes none (a failed exec goes on in ours, which would have
	 * said at least its exit_group).  Its exec stays unanswered, so the
	 * report lists it untraced with the reason. */
	if (changed < 0 && p->exec_mode == SUP_BLIND) {
		p->mode = SUP_BLIND;
		return;
	}
	if (changed <= 0) {
		/* It failed (or the process is gone): the image goes on. */
		free(p->exec_args);
		p->exec_args = NULL;
		sup_exe_name_free(&p->exec_exe);
		if (p->mode == SUP_OWN) {
			SUP_EMIT(s, 256,
				 roar_event_exec_failed(
					 f,
					 &(struct roar_event_ids){ p->pid,
								   p->pid },
					 exec_errno(p->exec_path), roar_now()));
		}
		return;
	}
	/* A new image: every fd credit starts again; its AT_RANDOM bytes
	 * are read when it forks or execs. */
	p->rnd_known = false;
	free(p->auxv);
	p->auxv = NULL;
	p->auxv_len = 0;
	p->image_gen++;
	if (p->nfds)
		memset(p->fds, 0, p->nfds);
	p->loading = true;
	p->mode = p->exec_mode;
	sup_exe_name_free(&p->exe);
	p->exe = p->exec_exe;
	p->exec_exe = (struct sup_exe_name){ 0 };
	if (p->mode == SUP_OWN)
		sup_say_exec_hello(s, p, p->exe.name);
	free(p->exec_args);
	p->exec_args = NULL;
}

/*
 * A watched call from a process whose image the filter is blind to: a
 * blind image makes none, so it has exec'd a native image through a call
 * of its own ABI, unwatched.  That image is judged as if its exec had
 * been seen, and reported from here on.
 */
void
sup_unblind(struct roar_sup *s, struct sup_proc *p)
{
	char exe[PATH_MAX];
	char *argv[] = { NULL };

	if (sup_proc_link(p->pid, "exe", exe, sizeof(exe)) < 0)
		return;
	free(p->exec_path);
	p->exec_path = roar_xstrdup(exe);
	sup_exe_name_free(&p->exe); /* /proc's, in the hello */
	free(p->exec_args);
	p->exec_args = NULL; /* its exec was not seen: /proc tells */
	free(p->cwd);
	p->cwd = NULL; /* nor were its chdirs */
	sup_image_learn(p, p->pid);
	p->image_gen++;
	if (p->nfds)
		memset(p->fds, 0, p->nfds);
	p->loading = true;
	p->mode = mode_of(s, exe, NULL, NULL);
	if (p->mode == SUP_BLIND)
		p->mode = SUP_OWN; /* it just made a watched call */
	/* Its exec, as the library would have said it (argv comes with the
	 * hello), then the new image. */
	SUP_EMIT(s, SUP_SMALL_FRAME,
		 roar_event_exec(f, &(struct roar_event_ids){ p->pid, p->pid },
				 0, p->ppid, exe, argv, roar_now()));
	if (p->mode == SUP_OWN)
		sup_say_exec_hello(s, p, NULL);
}

/* A judgement made without knowing that the call returned (its thread
 * went quiet) waits this long after the call, and gives up on a file
 * not there after this long. */
#define OP_QUIET_MS 20
#define OP_GIVE_UP_MS 2000

/* The outcome of t's last call: now that it returned (sure), or, when
 * its thread went quiet, as far as can be told yet. */
void
sup_settle_op(struct roar_sup *s, struct sup_task *t, bool sure)
{
	struct sup_op *op = &t->op;
	char name[PATH_MAX];
	struct stat st;
	uint64_t age;
	bool found;

	if (op->kind == SUP_OP_NONE)
		return;
	age = roar_mono_ms() - op->at_ms;
	if (!sure && age < OP_QUIET_MS)
		return;
	found = t->p->mode == SUP_OWN &&
		sup_canonical_file(op->path, op->follow, op->literal, name,
				   sizeof(name), &st);
	/* Not there yet: the call may not have run (its thread not yet
	 * scheduled on a busy machine); ask again later. */
	if (!found && !sure && t->p->mode == SUP_OWN && age < OP_GIVE_UP_MS)
		return;
	if (found) {
		unsigned credit = ROAR_CREDIT_WRITE;

		if (op->kind == SUP_OP_OPEN) {
			struct sup_opened *o =
				&t->p->opened[t->p->next_opened++ % SUP_OPENED];

			free(o->name);
			*o = (struct sup_opened){ st.st_dev, st.st_ino,
						  roar_xstrdup(name) };
		}
		if (op->kind == SUP_OP_OPEN)
			credit = roar_open_credit(op->flags,
						  (op->flags & O_CREAT) &&
							  !op->existed);
		if (credit)
			sup_emit_file(s, t->p, t->tid,
				      credit == ROAR_CREDIT_WRITE
					      ? ROAR_KIND_WRITE
					      : ROAR_KIND_READ,
				      name, op->via);
	}
	sup_op_clear(s, op);
}

void
sup_settle_proc(struct roar_sup *s, struct sup_proc *p, bool sure)
{
	for (struct sup_task *t = p->tasks; t; t = t->next)
		sup_settle_op(s, t, sure);
	if (sure)
		sup_settle_exec(s, p);
}

void
roar_sup_settle(struct roar_sup *s, bool all)
{
	/*
	 * An open whose thread went quiet is judged as far as it can be
	 * (sup_settle_op): the thread may never call again (killed, or
	 * busy).  An exec is not: one still loading would look failed; it
	 * waits for its process's next call, its end, or the end of the run
	 * (all).
	 */
	for (size_t i = 0; i < s->procs.cap; i++)
		if (s->procs.used[i] && s->procs.vals[i])
			sup_settle_proc(s, s->procs.vals[i], all);
}

void
roar_sup_forget_all(struct roar_sup *s)
{
	for (size_t i = 0; i < s->procs.cap; i++)
		if (s->procs.used[i] && s->procs.vals[i])
			sup_proc_free(s, s->procs.vals[i]);
}

/*
 * The task behind tid, and its process: a process first seen is a fork
 * child (its hello is said here), one whose pid we knew from before its
 * parent's fork is someone else now.
 */
struct sup_task *
sup_task_of(struct roar_sup *s, pid_t tid)
{
	struct sup_task *t = roar_map_get(&s->tasks, (uint64_t)tid);
	struct sup_proc *p, *parent;
	pid_t tgid, ppid;
	int pidfd;

	if (t)
		return t;
	if (!sup_identify(s, tid, &tgid, &ppid, &pidfd)) {
		char status[2048], path[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
		n = sup_read_small(path, status, sizeof(status) - 1);
		if (n <= 0)
			return NULL;
		status[n] = '\0';
		tgid = (pid_t)sup_status_field(status, "\nTgid:");
		ppid = (pid_t)sup_status_field(status, "\nPPid:");
	}
	if (tgid <= 0) {
		sup_pidfd_close(s, pidfd);
		return NULL;
	}
	p = proc_find(s, tgid);
	if (p && p->pidfd < 0) {
		p->pidfd = pidfd; /* told of by a handover, then seen */
		pidfd = -1;
	}
	if (!p) {
		parent = proc_find(s, ppid);
		p = proc_new(s, tgid, ppid,
			     parent && parent->mode == SUP_PRELOAD ? SUP_PRELOAD
								   : SUP_OWN);
		p->pidfd = pidfd;
		pidfd = -1;
		if (parent)
			p->exec_path = parent->exec_path
					       ? roar_xstrdup(parent->exec_path)
					       : NULL;
		/* Its image and cwd are its parent's at the fork, when it
		 * is the one child of the parent's not seen yet and the
		 * parent has not exec'd since; else (two forks at once, a
		 * CLONE_PARENT, a subreaper) they are read when needed. */
		if (parent && parent->unseen == 1 && !parent->mixed &&
		    parent->fork_gen &&
		    parent->fork_gen == parent->image_gen + 1) {
			sup_image_inherit(p, parent);
			if (parent->fork_cwd)
				p->cwd = roar_xstrdup(parent->fork_cwd);
		}
		if (parent && parent->unseen && !--parent->unseen)
			parent->mixed = false;
		if (p->mode == SUP_OWN)
			say_fork_hello(s, p, tid,
				       parent && parent->fork_time > 0
					       ? parent->fork_time
					       : roar_now(),
				       !(parent && parent->fork_time > 0));
	}
	sup_pidfd_close(s, pidfd);
	t = roar_xcalloc(1, sizeof(*t));
	t->tid = tid;
	t->p = p;
	t->next = p->tasks;
	p->tasks = t;
	roar_map_put(&s->tasks, (uint64_t)tid, t);
	return t;
}

/* ---- fds ----------------------------------------------------------------- */

static unsigned char *
fd_bits(struct sup_proc *p, long fd)
{
	if (fd < 0 || fd > (1 << 20))
		return NULL;
	if ((size_t)fd >= p->nfds) {
		size_t n = p->nfds ? p->nfds : 64;

		while (n <= (size_t)fd)
			n *= 2;
		p->fds = roar_xrealloc(p->fds, n);
		memset(p->fds + p->nfds, 0, n - p->nfds);
		p->nfds = n;
	}
	return &p->fds[fd];
}

void
sup_fd_forget(struct sup_proc *p, long lo, long hi)
{
	for (long fd = lo; fd <= hi && fd >= 0 && (size_t)fd < p->nfds; fd++)
		p->fds[fd] = 0;
}

/* The latest judged open of the file st describes, if any: newest
 * first, so that a file opened again under a new name (renamed, or a
 * link) is named as it was opened last. */
static const struct sup_opened *
opened_file(const struct sup_proc *p, const struct stat *st)
{
	for (unsigned k = 1; k <= SUP_OPENED; k++) {
		const struct sup_opened *o =
			&p->opened[(p->next_opened - k) % SUP_OPENED];

		if (o->name && o->dev == st->st_dev && o->ino == st->st_ino)
			return o;
	}
	return NULL;
}

/* Bytes moved through fd (dir: SUP_FD_READ or _WRITE): its first such
 * move is credited, when it is a regular file. */
void
sup_fd_credit(struct roar_sup *s, struct sup_proc *p, pid_t tid, long fd,
	      unsigned dir)
{
	unsigned char *b = fd_bits(p, fd);
	char name[PATH_MAX];
	const struct sup_opened *o;
	struct stat st;

	if (!b || (*b & (dir | SUP_FD_NONFILE)))
		return;
	if (sup_fd_look(p, fd, &st, NULL, 0) != 0)
		return; /* not open: the call fails */
	if (!S_ISFIFO(st.st_mode) &&
	    (!S_ISREG(st.st_mode) || st.st_nlink == 0)) {
		*b |= SUP_FD_NONFILE;
		return;
	}
	/* The file its latest open named: that name, no readlink. */
	if (S_ISREG(st.st_mode) && (o = opened_file(p, &st))) {
		snprintf(name, sizeof(name), "%s", o->name);
	} else if (sup_fd_look(p, fd, &st, name, sizeof(name)) != 0) {
		return;
	}
	if (S_ISFIFO(st.st_mode)) {
		SUP_EMIT(s, 256,
			 roar_event_pipe(
				 f, &(struct roar_event_ids){ p->pid, tid },
				 (uint64_t)st.st_dev, (uint64_t)st.st_ino,
				 dir == SUP_FD_WRITE));
		*b |= dir;
		return;
	}
	if (name[0] != '/' || !S_ISREG(st.st_mode) || st.st_nlink == 0 ||
	    sup_is_our_library(name) ||
	    (p->loading && sup_is_loader_file(name))) {
		*b |= SUP_FD_NONFILE;
		return;
	}
	sup_emit_file(s, p, tid,
		      dir == SUP_FD_READ ? ROAR_KIND_READ : ROAR_KIND_WRITE,
		      name, NULL);
	*b |= dir;
}
