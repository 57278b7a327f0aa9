/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What each kind of call means for the report: the layer between the thin
 * hook shims and the fd table, event packing and transport.  Hooks call
 * only these.  File credits (with their call sites, and the accesses
 * signal handlers parked) live in track_file.c, process events and the
 * environment in track_proc.c, the syscall(2) decoder in track_syscall.c.
 * Everything here is async-signal-safe and runs with the guard held,
 * except the exec and exit functions, which take an enum roar_who
 * (lifecycle.h) and in a vfork child touch nothing but the stack, a
 * borrowed scratch slot and a connection of their own.
 */
#ifndef ROAR_TRACK_H
#define ROAR_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <spawn.h>
#include <sys/types.h>

#include "fdtable.h"
#include "lifecycle.h"
#include "scratch.h"

/* Send credit for p (cold path of roar_track_fd). */
void roar_track_send_credit(struct roar_path *p, unsigned credit,
			    const char *via);

/**
 * Bytes moved through fd: credit (ROAR_CREDIT_READ or _WRITE) its path
 * once per process.  The fast path is a table lookup and one load.
 */
static inline void
roar_track_fd(int fd, unsigned credit)
{
	uintptr_t v = roar_fdtable_get(fd);

	if (ROAR_LIKELY(v <= ROAR_FD_IGNORED))
		return;
	if (ROAR_LIKELY(!roar_path_wants((struct roar_path *)v, credit)))
		return;
	roar_track_send_credit((struct roar_path *)v, credit, NULL);
}

/**
 * Whether an open with these flags must learn, before the call, if the
 * file exists (O_CREAT that would otherwise credit nothing or a read).
 */
bool roar_track_open_needs_probe(int flags);

/**
 * Before such an open: true when path (relative to dirfd) does not exist
 * yet, so a successful open will have created it.
 */
bool roar_track_open_probe(int dirfd, const char *path);

/** A successful open returned fd.  created: see roar_track_open_probe. */
void roar_track_open(int fd, int flags, bool created);

/**
 * Likewise, knowing the name the open was given (relative to dirfd): when
 * that name is already canonical and was last seen to be this very file
 * (same device and inode), its record is reused without asking the
 * kernel for the name again.  path may be NULL.
 */
void roar_track_open_named(int fd, int dirfd, const char *path, int flags,
			   bool created);

/**
 * An open in a vfork child (roar_in_vfork): credit it on a connection of
 * its own, as the child, touching no state (the fd table and the path
 * records are the suspended parent's).  Not deduplicated.
 */
void roar_track_open_shared(int fd, int flags, bool created);

/** The ROAR_CREDIT_* bits an open with these flags earns at once. */
unsigned roar_track_open_credit(int flags, bool created);

/**
 * A file a signal handler opened or moved bytes through while this
 * thread was inside our bookkeeping, named then (park.c): credit it now.
 */
void roar_track_parked(const char *name, size_t len, unsigned credit,
		       const char *via);

/**
 * The program's fd-making call failed with EMFILE or ENFILE: give our
 * connection's fd back (roar_transport_starve) so that its retry gets
 * it.  Call outside the guard; keeps errno.  @return true when an fd was
 * given back (then the caller retries its call once).
 */
bool roar_track_yield_fd(void);

/** How many times this process gave its connection's fd back. */
uint64_t roar_track_fd_yields(void);

/** The process changed its working directory. */
void roar_track_chdir(void);

/** Open flags equivalent to an fopen mode string. */
int roar_track_fopen_flags(const char *mode);

/** fd was closed or now names something we do not credit. */
void roar_track_forget(int fd);

/** fd now names a pipe, socket or the like: nothing to credit. */
void roar_track_not_a_file(int fd);

/** fd is a new pipe end: a pipe record once bytes move through it. */
void roar_track_pipe_made(int fd);

/** newfd now names what oldfd names. */
void roar_track_dup(int oldfd, int newfd);

/** Before a fork: take cwd_lock (lock order: lock.h). */
void roar_track_prepare(void);

/** After a fork, in the parent: release cwd_lock. */
void roar_track_parent(void);

/** In a new process: reset cwd_lock (the cached cwd stays right). */
void roar_track_atfork_child(void);

/**
 * In the parent of a fork no hook saw (made inside libc): report child
 * now, not with the next frame, for such a parent may end through libc's
 * own _exit (daemon(3)), which no hook sees either.
 */
void roar_track_fork_seen(pid_t child);

/** In the parent of a fork that made child. */
void roar_track_fork_parent(pid_t child);

/** posix_spawn made child, which runs file with argv; time: when the
 *  spawn started.  Sends the fork and the child's exec (as its subject). */
void roar_track_spawned(pid_t child, const char *file, char *const argv[],
			double time);

/**
 * posix_spawn[p] with the environment mended and the child announced:
 * the whole of both hooks, and what system() and popen() stand on.
 * Returns what the real call returned.
 */
int roar_track_spawn(bool search, pid_t *pid, const char *file,
		     const posix_spawn_file_actions_t *fa,
		     const posix_spawnattr_t *attr, char *const argv[],
		     char *const envp[]);

/**
 * Just before an exec of exe with argv (exe may be a bare name), as who
 * (not ROAR_WHO_INSIDE).  *conn gets the connection handed over to the
 * new image, or -1 (see roar_transport_handover); only when hand_over
 * (our library will run in it: an fd given to any other image would be
 * one it does not know).
 * @return the time stamp the event carries.
 */
double roar_track_exec(enum roar_who who, const char *exe, char *const argv[],
		       int *conn, bool hand_over);

/** The exec announced at time returned with err. */
void roar_track_exec_failed(enum roar_who who, int err, double time);

/** The process ends now with status (exit, _exit, return from main). */
void roar_track_exit(enum roar_who who, int status);

/** The process reaped child with raw wait status. */
void roar_track_reaped(pid_t child, int status);

/**
 * Bytes of strings roar_track_doctor_env may need for envp; *n gets the
 * number of entries of envp.  out then needs room for *n + 4 pointers.
 */
size_t roar_track_doctor_size(char *const envp[], size_t *n);

/**
 * Build the environment for an exec into out so that the child stays
 * traced: LD_PRELOAD gets our library back (first, keeping what was
 * there), the socket variable is restored, and ROAR_PRELOAD_INJECTED says
 * which of them the child must take back out of its own environment.  buf
 * (bufcap bytes, see roar_track_doctor_size) holds the strings built.
 * @return out, or envp itself when nothing had to change.
 */
char *const *roar_track_doctor_env(char *const envp[], char **out, char *buf,
				   size_t bufcap);

/**
 * roar_track_doctor_env into scratch memory taken from sc (give it back
 * with roar_scratch_put after the exec).  shared: in a vfork child.
 * conn: a connection handed over to the new image (ROAR_PRELOAD_CONN),
 * or -1.
 */
char *const *roar_track_mend_env(char *const envp[], struct roar_scratch *sc,
				 bool shared, int conn);

/**
 * In a new image's constructor: take out of env (in place) what the
 * parent's library put there for us, as ROAR_PRELOAD_INJECTED lists it,
 * and ROAR_PRELOAD_CONN, so the program sees the environment its parent
 * gave it.
 */
void roar_track_unmend_environ(char **env);

/**
 * A name was modified by a call on names (rename or link target,
 * truncate): credit the regular file it now names, resolved against
 * dirfd.  follow: whether a final symlink is followed.
 */
void roar_track_path(int dirfd, const char *path, unsigned credit, bool follow,
		     const char *via);

/** A successful mmap of fd with prot and flags. */
void roar_track_mmap(int fd, int prot, int flags);

/** fds [first, last] were closed (close_range, closefrom). */
void roar_track_closed_range(unsigned first, unsigned last);

/**
 * A raw syscall(2) succeeded with ret: credit it like the wrapper it
 * stands for.  a holds its six arguments.  created: as for opens.
 */
void roar_track_syscall(long nr, const long a[6], long ret, bool created);

/** Whether a raw open syscall needs the creation probe; sets *dirfd,
 *  *path.  */
bool roar_track_syscall_probe(long nr, const long a[6], bool *created);

/** Number of entries of a NULL-terminated vector. */
size_t roar_track_count(char *const v[]);

#endif /* ROAR_TRACK_H */
