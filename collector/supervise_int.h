/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor's state, shared by its two files and nobody else:
 * supervise.c (the thread, its listeners, its frames) and
 * supervise_calls.c (what each watched call means).  Everything here is
 * touched by the supervisor's thread only, but for the adoption queue,
 * under mu.
 */
#ifndef ROAR_SUPERVISE_INT_H
#define ROAR_SUPERVISE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "roar/image.h"
#include "roar/protocol.h"
#include "supervise.h"
#include "util.h"

/* Who reports an image the supervisor watches. */
enum sup_mode {
	SUP_PRELOAD, /* our library is in it: it speaks for itself */
	SUP_PENDING, /* dynamic: its first open tells (our library, or
			not: a loader that lost LD_PRELOAD) */
	SUP_OWN,     /* static, Go, foreign: we speak for it */
	SUP_BLIND,   /* another ABI: its calls pass the filter unseen, so
			we say nothing for it (its exec then goes
			unanswered: the report lists it untraced, with
			the reason) */
};

/* A watched call whose outcome is judged after it returned: at the
 * thread's next watched call, or when its process ends. */
enum sup_op_kind {
	SUP_OP_NONE,
	SUP_OP_OPEN,
	SUP_OP_NAME
};

struct sup_op {
	enum sup_op_kind kind;
	int flags;       /* open: its flags */
	bool existed;    /* open with O_CREAT: the file was there before */
	bool follow;     /* name: the last component is followed */
	const char *via; /* ROAR_VIA_* */
	char *path;      /* absolute, lexically clean */
	bool literal;    /* path is the caller's words but for its cwd:
			    no ".", ".." or "//" was cleaned away */
	uint64_t at_ms;  /* when the call was let go (roar_mono_ms) */
};

struct sup_proc;

/* An image's canonical name, and the file's identity. */
struct sup_exe_name {
	char *name;
	dev_t dev;
	ino_t ino;
};

struct sup_task {
	pid_t tid;
	struct sup_proc *p;
	struct sup_op op;
	struct sup_task *next; /* of p's tasks */
};

/* Per-fd bits of what was credited since the fd was opened. */
#define SUP_FD_READ 1u
#define SUP_FD_WRITE 2u
#define SUP_FD_NONFILE 4u /* not a regular file: never credited */

#define SUP_AUXV_MAX 1024
#define SUP_OPENED 4
/* argv and environ kept for a hello: at most this much of each. */
#define SUP_LIST_MAX (512u << 10)
#define SUP_LIST_ENTRIES_MAX 16384u

/* An exec's argv and environment, as /proc/PID/cmdline and environ
 * would give them: NUL-ended strings, cmd_len bytes of argv, then
 * env_len of the environment. */
struct sup_args {
	size_t cmd_len, env_len;
	char data[];
};

struct sup_proc {
	pid_t pid;
	pid_t ppid;
	enum sup_mode mode;
	double fork_time; /* its latest process-making call; 0: none */
	/* A pidfd of it (supervise_peek.c), or -1. */
	int pidfd;
	/* An exec that was let go: did it happen?  (its AT_RANDOM bytes
	 * change); its argv and environment, read at the call (NULL: ask
	 * /proc). */
	bool exec_pending;
	pid_t exec_tid; /* the thread that made it */
	char *exec_path;
	struct sup_args *exec_args;
	enum sup_mode exec_mode;      /* who reports the image exec'd */
	struct sup_exe_name exec_exe; /* its canonical name (NULL: /proc's) */
	struct sup_exe_name exe;      /* the image it runs (name NULL: not
					 known) */
	/* What tells its image (supervise_peek.c): the AT_RANDOM bytes and
	 * where they are, or (rnd_known false) a copy of its auxv (NULL:
	 * not read yet). */
	uint64_t rnd_addr;
	unsigned char rnd[16];
	bool rnd_known;
	unsigned char *auxv;
	size_t auxv_len;
	/* A fork child starts with its parent's image (fork copies it) and
	 * working directory when the parent still runs the image it forked
	 * in (image_gen counts its execs, fork_gen is image_gen at its
	 * latest process-making call, 0: none), and when it is the one
	 * child not yet seen of the parent's (unseen: process-making calls
	 * whose child was not seen yet; mixed: one of them was a
	 * CLONE_PARENT call of a child of ours, its child another image's).
	 * fork_cwd: cwd at the latest such call (NULL: not known). */
	unsigned image_gen, fork_gen;
	unsigned unseen;
	bool mixed;
	char *fork_cwd;
	unsigned char *fds;
	size_t nfds;
	bool said_uring, said_memory;
	/* Its image was just exec'd: opens of shared libraries are the
	 * dynamic loader's, not reported (as for the library's images),
	 * until its first other open. */
	bool loading;
	/* Its working directory, as /proc said it last (NULL: ask again;
	 * a chdir or fchdir forgets it). */
	char *cwd;
	/* The files its latest opens that were judged named: the first move
	 * through an fd one of them made needs no readlink to name it. */
	struct sup_opened {
		dev_t dev;
		ino_t ino;
		char *name;
	} opened[SUP_OPENED];
	unsigned next_opened;
	struct sup_task *tasks;
};

struct sup_adoption {
	int fd;
	pid_t pid;
};

/* What the supervisor and its watchman (supervise_watch.c) share. */
struct sup_shared {
	_Atomic uint64_t beat;       /* calls the supervisor answered */
	_Atomic uint64_t unrecorded; /* calls the watchman answered */
};

struct roar_sup {
	pthread_t thread;
	bool started;
	/* The thread waits in SECCOMP_IOCTL_NOTIF_RECV (supervise.c). */
	_Atomic bool in_recv;
	pthread_mutex_t mu;
	struct sup_adoption *adopt; /* under mu */
	size_t nadopt;
	bool quiesce; /* under mu */
	bool quiescing;
	int epfd;
	int wake_fd; /* eventfd: adoptions and quiesce */
	int out_w;   /* frames go here ... */
	int out_r;   /* ... and the collect loop reads them here */
	bool out_watched;
	int *listeners;
	size_t nlisteners;
	struct roar_map procs; /* pid -> struct sup_proc * */
	struct roar_map tasks; /* tid -> struct sup_task * */
	size_t npending;       /* tasks with an op, procs with an exec */
	unsigned char *out;
	size_t out_len, out_cap;
	void *req, *resp;
	size_t req_size, resp_size;
	struct roar_sup_stats st;
	/* Verdicts of the images exec'd (a loop execs the same few). */
	struct roar_image_cache images;
	/* A new image's hello is read into these, an exec's argv into
	 * peek (allocated once). */
	struct sup_hello_bufs *hello;
	struct sup_peek_bufs *peek;
	unsigned npidfds; /* held by live processes */
	/* Canonical names of the images exec'd, by the name exec'd. */
	struct sup_exe {
		char *path, *canon;
		dev_t dev;
		ino_t ino;
	} exes[8];
	unsigned next_exe;
	struct sup_shared *shared; /* NULL: no watchman */
	int watch_fd;              /* to the watchman; -1: none */
	pid_t watch_pid;
};

/* ---- supervise.c ------------------------------------------------------ */

/** Queue one finished frame (header included) for the loop. */
void roar_sup_emit(struct roar_sup *s, const void *frame, size_t len);

/* ---- supervise_watch.c ------------------------------------------------ */

/** Fork the watchman (before the thread starts).  0 or -errno. */
int roar_sup_watch_start(struct roar_sup *s);

/** Give the watchman a copy of listener. */
void roar_sup_watch_give(struct roar_sup *s, int listener);

/** The run is over: the watchman answers alone from now on. */
void roar_sup_watch_end(struct roar_sup *s);

/* ---- supervise_look.c ------------------------------------------------- */

/* A frame for a file or small event; hellos get their own buffer. */
#define SUP_SMALL_FRAME (PATH_MAX + 512)

ssize_t sup_read_small(const char *path, void *buf, size_t cap);
/** readlink of /proc/PID/what into out (terminated); its length or -1. */
ssize_t sup_proc_link(pid_t pid, const char *what, char *out, size_t cap);
/** A field "Name:\tvalue" of /proc/ID/status, or -1. */
long sup_status_field(const char *status, const char *name);
/** A NUL-terminated string at addr of tid, into buf; its length or -1. */
ssize_t sup_read_string(pid_t tid, uint64_t addr, char *buf, size_t cap);
bool sup_read_mem(pid_t tid, uint64_t addr, void *out, size_t len);
/** The absolute, lexically clean form of path as pid resolves it from
 *  dirfd (AT_FDCWD: its cwd), into out; false when unknown. */
bool sup_absolute(pid_t pid, int dirfd, const char *path, char **cwd, char *out,
		  size_t cap, bool *literal);
/** The canonical name of the regular file at abs; false when none. */
bool sup_canonical_file(const char *abs, bool follow, bool literal, char *out,
			size_t cap, struct stat *st);
/** Whether path names our library (either of its names). */
bool sup_is_our_library(const char *path);
/** What the dynamic loader opens: its cache and shared objects. */
bool sup_is_loader_file(const char *path);

/* ---- supervise_peek.c ------------------------------------------------- */

/** Who tid is (its process and that one's parent), from a pidfd: false
 *  when the kernel cannot tell so (ask /proc).  *pidfd: the process's
 *  pidfd when tid leads it, to keep (else -1). */
bool sup_identify(struct roar_sup *s, pid_t tid, pid_t *tgid, pid_t *ppid,
		  int *pidfd);
/** Close a pidfd sup_identify kept (-1: none). */
void sup_pidfd_close(struct roar_sup *s, int pidfd);
/** Close p's pidfd, if any. */
void sup_pidfd_drop(struct roar_sup *s, struct sup_proc *p);
/** fstat of p's fd into st and, unless name is NULL, its name as
 *  /proc/PID/fd/N says it (terminated): 0, or -1 (not open, or gone). */
int sup_fd_look(const struct sup_proc *p, long fd, struct stat *st, char *name,
		size_t cap);
/** Learn what tells p's image, through its thread tid: false when
 *  nothing could be read. */
bool sup_image_learn(struct sup_proc *p, pid_t tid);
/** sup_image_learn, unless p's image is known already. */
void sup_image_know(struct sup_proc *p, pid_t tid);
/** Copy parent's image (what tells it, and its name) into p, a fork
 *  child of it. */
void sup_image_inherit(struct sup_proc *p, const struct sup_proc *parent);
/** 1 when p runs another image than the one learnt (or none was), 0 when
 *  the same, -1 when p is gone; tid: the thread that exec'd. */
int sup_image_changed(const struct sup_proc *p, pid_t tid);
void sup_exe_name_free(struct sup_exe_name *e);
/** The argv and envp arrays of an execve by tid (malloc'd), or NULL when
 *  they cannot be read (/proc is asked later). */
struct sup_args *sup_args_read(struct roar_sup *s, pid_t tid, uint64_t argv,
			       uint64_t envp);
void sup_peek_free(struct roar_sup *s);

/* ---- supervise_proc.c ------------------------------------------------- */

struct roar_frame;
void sup_emit_frame(struct roar_sup *s, struct roar_frame *f, int rc);
/* Build a frame of at most cap bytes with build (an expression of the
 * frame pointer f, returning 0 or -errno) and queue it. */
#define SUP_EMIT(s, cap, build)                                   \
	do {                                                      \
		unsigned char emit_buf_[cap];                     \
		struct roar_frame emit_frame_, *f = &emit_frame_; \
		roar_frame_init(f, emit_buf_, sizeof(emit_buf_)); \
		sup_emit_frame((s), f, (build));                  \
	} while (0)
void sup_emit_file(struct roar_sup *s, const struct sup_proc *p, pid_t tid,
		   enum roar_kind kind, const char *path, const char *via);
void sup_emit_unseen(struct roar_sup *s, const struct sup_proc *p,
		     const char *what);
/** The task behind tid (a process first seen says its fork hello). */
struct sup_task *sup_task_of(struct roar_sup *s, pid_t tid);
void sup_proc_free(struct roar_sup *s, struct sup_proc *p);
/** The process of pid is gone (its pidfd said so): forget it. */
void sup_proc_died(struct roar_sup *s, pid_t pid);
/* A pidfd's epoll tag: this bit, and the pid. */
#define SUP_TAG_PIDFD (1ull << 62)
void sup_op_clear(struct roar_sup *s, struct sup_op *op);
/** The outcome of t's last call, now that it returned. */
void sup_settle_op(struct roar_sup *s, struct sup_task *t, bool sure);
/** Who reports the image at path once it is exec'd, and its canonical
 *  name (malloc'd, NULL when /proc must tell) into *exe. */
enum sup_mode sup_exec_mode(struct roar_sup *s, const struct sup_proc *p,
			    const char *path, struct sup_exe_name *exe,
			    bool *direct);
/** Did the exec p let go happen?  Judge it now. */
void sup_settle_exec(struct roar_sup *s, struct sup_proc *p);

/** p, thought blind, made a watched call: judge its image anew. */
void sup_unblind(struct roar_sup *s, struct sup_proc *p);
/** Judge p's ops (and, when sure, its exec): sure, the calls returned. */
void sup_settle_proc(struct roar_sup *s, struct sup_proc *p, bool sure);
/** A new image's hello: argv and environment (its exec's, or /proc's),
 *  cwd, and exe (the canonical name of what runs; NULL: /proc's). */
void sup_say_exec_hello(struct roar_sup *s, struct sup_proc *p,
			const char *exe);

/** Free what sup_say_exec_hello reads into. */
void sup_hello_free(struct roar_sup *s);
void sup_fd_forget(struct sup_proc *p, long lo, long hi);
/** Bytes moved through fd (dir: SUP_FD_READ or _WRITE): its first such
 *  move is credited, when it is a regular file. */
void sup_fd_credit(struct roar_sup *s, struct sup_proc *p, pid_t tid, long fd,
		   unsigned dir);

/* ---- supervise_calls.c ------------------------------------------------ */

/** A process the collector was told of by its handover: its image is the
 *  library's until the exec it is about to make. */
void roar_sup_track(struct roar_sup *s, pid_t pid);

/** Let the notified call id go on unchanged (0, or -1 with errno:
 *  ENOENT when its task is gone).  Async-signal-safe: the watchman
 *  uses it too. */
int sup_answer(struct roar_sup *s, int listener, uint64_t id);

/** Handle the notification in s->req and answer it. */
void roar_sup_handle(struct roar_sup *s, int listener);

/** Judge what waits: every op and exec when all is true, else those of
 *  processes that went quiet. */
void roar_sup_settle(struct roar_sup *s, bool all);

/** Forget everything (the thread is ending). */
void roar_sup_forget_all(struct roar_sup *s);

#endif /* ROAR_SUPERVISE_INT_H */
