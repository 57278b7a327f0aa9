/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What each kind of call means for the report: the layer between the thin
 * hook shims and the fd table, event packing and transport.  Hooks call
 * only these.  Everything here runs with the guard held and is
 * async-signal-safe; the exec functions also run in vfork children and so
 * touch nothing but the stack and a connection of their own there.
 */
#ifndef ROAR_TRACK_H
#define ROAR_TRACK_H

#include <stdbool.h>
#include <sys/types.h>

#include "fdtable.h"

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

/** The process changed its working directory. */
void roar_track_chdir(void);

/** Open flags equivalent to an fopen mode string. */
int roar_track_fopen_flags(const char *mode);

/** fd was closed or now names something we do not credit. */
void roar_track_forget(int fd);

/** fd now names a pipe, socket or the like: nothing to credit. */
void roar_track_not_a_file(int fd);

/** newfd now names what oldfd names. */
void roar_track_dup(int oldfd, int newfd);

/** In the child of a fork: new identity, fresh connection, hello. */
void roar_track_fork_child(pid_t ppid);

/** In the parent of a fork that made child. */
void roar_track_fork_parent(pid_t child);

/** posix_spawn made child, which runs file with argv; time: when the
 *  spawn started. */
void roar_track_spawned(pid_t child, const char *file, char *const argv[],
			double time);

/** Just before an exec of exe with argv (exe may be a bare name).
 *  @return the time stamp the event carries. */
double roar_track_exec(const char *exe, char *const argv[]);

/** The exec announced at time returned with err. */
void roar_track_exec_failed(int err, double time);

/** The process ends now with status (exit, _exit, return from main). */
void roar_track_exit(int status);

/** The process reaped child with raw wait status. */
void roar_track_reaped(pid_t child, int status);

/**
 * Build the environment for an exec into out (room for n + 3 pointers,
 * where n counts envp) so that the child stays traced: LD_PRELOAD gets
 * our library back (first, keeping what was there), and the socket
 * variable is restored.  buf (bufcap bytes) holds a rebuilt LD_PRELOAD.
 * @return out, or envp itself when nothing had to change.
 */
char *const *roar_track_doctor_env(char *const envp[], char **out,
				   char *buf, size_t bufcap);

/**
 * A name was modified by a call on names (rename or link target,
 * truncate): credit the regular file it now names, resolved against
 * dirfd.  follow: whether a final symlink is followed.
 */
void roar_track_path(int dirfd, const char *path, unsigned credit,
		     bool follow, const char *via);

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

/**
 * Before system() or popen(), whose child glibc starts with the process
 * environment: put our variables back if the program removed them.
 */
void roar_track_restore_environ(void);

/** Number of entries of a NULL-terminated vector. */
size_t roar_track_count(char *const v[]);

#endif /* ROAR_TRACK_H */
