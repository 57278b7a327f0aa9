/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table of the C library's real functions behind every hook.  Only
 * real.c calls dlsym; everything else in preload/ reaches a hooked
 * function through roar_real_get(), never by its public name (E5).
 */
#ifndef ROAR_REAL_H
#define ROAR_REAL_H

#include <dirent.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "roar/compiler.h"

/*
 * X-macro list of every real function: failure class, name, return type,
 * parameters.  The class says what a stub for a missing symbol does: E
 * returns -1, P returns NULL (both with errno ENOSYS), V does nothing (errno
 * ENOSYS), Q exits the process.
 * Adding a hook starts here.  The function-pointer type of each entry is
 * roar_<name>_fn.
 */
#define ROAR_REAL_FUNCS(X)                                                    \
	X(E, open, int, (const char *, int, ...))                             \
	X(E, open64, int, (const char *, int, ...))                           \
	X(E, openat, int, (int, const char *, int, ...))                      \
	X(E, openat64, int, (int, const char *, int, ...))                    \
	X(E, creat, int, (const char *, mode_t))                              \
	X(E, creat64, int, (const char *, mode_t))                            \
	X(E, __open_2, int, (const char *, int))                              \
	X(E, __open64_2, int, (const char *, int))                            \
	X(E, __openat_2, int, (int, const char *, int))                       \
	X(E, __openat64_2, int, (int, const char *, int))                     \
	X(P, fopen, FILE *, (const char *, const char *))                     \
	X(P, fopen64, FILE *, (const char *, const char *))                   \
	X(P, freopen, FILE *, (const char *, const char *, FILE *))           \
	X(P, freopen64, FILE *, (const char *, const char *, FILE *))         \
	X(E, close, int, (int))                                               \
	X(E, chdir, int, (const char *))                                      \
	X(E, fchdir, int, (int))                                              \
	X(E, fclose, int, (FILE *))                                           \
	X(E, dup, int, (int))                                                 \
	X(E, dup2, int, (int, int))                                           \
	X(E, dup3, int, (int, int, int))                                      \
	X(E, read, ssize_t, (int, void *, size_t))                            \
	X(E, write, ssize_t, (int, const void *, size_t))                     \
	X(E, pread, ssize_t, (int, void *, size_t, off_t))                    \
	X(E, pwrite, ssize_t, (int, const void *, size_t, off_t))             \
	X(E, pread64, ssize_t, (int, void *, size_t, off64_t))                \
	X(E, pwrite64, ssize_t, (int, const void *, size_t, off64_t))         \
	X(E, readv, ssize_t, (int, const struct iovec *, int))                \
	X(E, writev, ssize_t, (int, const struct iovec *, int))               \
	X(E, __read_chk, ssize_t, (int, void *, size_t, size_t))              \
	X(E, __pread_chk, ssize_t, (int, void *, size_t, off_t, size_t))      \
	X(E, __pread64_chk, ssize_t, (int, void *, size_t, off64_t, size_t))  \
	X(E, preadv, ssize_t, (int, const struct iovec *, int, off_t))        \
	X(E, pwritev, ssize_t, (int, const struct iovec *, int, off_t))       \
	X(E, preadv64, ssize_t, (int, const struct iovec *, int, off64_t))    \
	X(E, pwritev64, ssize_t, (int, const struct iovec *, int, off64_t))   \
	X(E, preadv2, ssize_t, (int, const struct iovec *, int, off_t, int))  \
	X(E, pwritev2, ssize_t, (int, const struct iovec *, int, off_t, int)) \
	X(E, preadv64v2, ssize_t,                                             \
	  (int, const struct iovec *, int, off64_t, int))                     \
	X(E, pwritev64v2, ssize_t,                                            \
	  (int, const struct iovec *, int, off64_t, int))                     \
	X(E, pipe, int, (int[2]))                                             \
	X(E, pipe2, int, (int[2], int))                                       \
	X(E, socket, int, (int, int, int))                                    \
	X(E, socketpair, int, (int, int, int, int[2]))                        \
	X(E, accept, int, (int, struct sockaddr *, socklen_t *))              \
	X(E, accept4, int, (int, struct sockaddr *, socklen_t *, int))        \
	X(E, posix_spawn, int,                                                \
	  (pid_t *, const char *, const posix_spawn_file_actions_t *,         \
	   const posix_spawnattr_t *, char *const[], char *const[]))          \
	X(E, posix_spawnp, int,                                               \
	  (pid_t *, const char *, const posix_spawn_file_actions_t *,         \
	   const posix_spawnattr_t *, char *const[], char *const[]))          \
	X(E, mkstemp, int, (char *))                                          \
	X(E, mkstemp64, int, (char *))                                        \
	X(E, mkostemp, int, (char *, int))                                    \
	X(E, mkostemp64, int, (char *, int))                                  \
	X(E, mkstemps, int, (char *, int))                                    \
	X(E, mkstemps64, int, (char *, int))                                  \
	X(E, mkostemps, int, (char *, int, int))                              \
	X(E, mkostemps64, int, (char *, int, int))                            \
	X(P, mmap, void *, (void *, size_t, int, int, int, off_t))            \
	X(P, mmap64, void *, (void *, size_t, int, int, int, off64_t))        \
	X(E, rename, int, (const char *, const char *))                       \
	X(E, renameat, int, (int, const char *, int, const char *))           \
	X(E, renameat2, int,                                                  \
	  (int, const char *, int, const char *, unsigned int))               \
	X(E, link, int, (const char *, const char *))                         \
	X(E, linkat, int, (int, const char *, int, const char *, int))        \
	X(E, truncate, int, (const char *, off_t))                            \
	X(E, truncate64, int, (const char *, off64_t))                        \
	X(E, ftruncate, int, (int, off_t))                                    \
	X(E, ftruncate64, int, (int, off64_t))                                \
	X(E, fcntl, int, (int, int, ...))                                     \
	X(E, fcntl64, int, (int, int, ...))                                   \
	X(E, close_range, int, (unsigned int, unsigned int, int))             \
	X(V, closefrom, void, (int))                                          \
	X(E, system, int, (const char *))                                     \
	X(P, popen, FILE *, (const char *, const char *))                     \
	X(E, pclose, int, (FILE *))                                           \
	X(E, clone, int, (int (*)(void *), void *, int, void *, ...))         \
	X(E, syscall, long, (long, ...))                                      \
	X(E, fread, size_t, (void *, size_t, size_t, FILE *))                 \
	X(E, fwrite, size_t, (const void *, size_t, size_t, FILE *))          \
	X(E, fread_unlocked, size_t, (void *, size_t, size_t, FILE *))        \
	X(E, fwrite_unlocked, size_t, (const void *, size_t, size_t, FILE *)) \
	X(P, fgets, char *, (char *, int, FILE *))                            \
	X(P, fgets_unlocked, char *, (char *, int, FILE *))                   \
	X(E, fputs, int, (const char *, FILE *))                              \
	X(E, fputs_unlocked, int, (const char *, FILE *))                     \
	X(E, fgetc, int, (FILE *))                                            \
	X(E, getc, int, (FILE *))                                             \
	X(E, fputc, int, (int, FILE *))                                       \
	X(E, putc, int, (int, FILE *))                                        \
	X(E, vfprintf, int, (FILE *, const char *, va_list))                  \
	X(E, __vfprintf_chk, int, (FILE *, int, const char *, va_list))       \
	X(E, vdprintf, int, (int, const char *, va_list))                     \
	X(E, __vdprintf_chk, int, (int, int, const char *, va_list))          \
	X(E, puts, int, (const char *))                                       \
	X(E, putchar, int, (int))                                             \
	X(E, putchar_unlocked, int, (int))                                    \
	X(E, putc_unlocked, int, (int, FILE *))                               \
	X(E, fputc_unlocked, int, (int, FILE *))                              \
	X(E, getdelim, ssize_t, (char **, size_t *, int, FILE *))             \
	X(E, getline, ssize_t, (char **, size_t *, FILE *))                   \
	X(E, __uflow, int, (FILE *))                                          \
	X(E, __underflow, int, (FILE *))                                      \
	X(E, __overflow, int, (FILE *, int))                                  \
	X(E, fseek, int, (FILE *, long, int))                                 \
	X(E, fseeko, int, (FILE *, off_t, int))                               \
	X(E, fseeko64, int, (FILE *, off64_t, int))                           \
	X(E, fsetpos, int, (FILE *, const fpos_t *))                          \
	X(E, fsetpos64, int, (FILE *, const fpos64_t *))                      \
	X(E, splice, ssize_t,                                                 \
	  (int, off64_t *, int, off64_t *, size_t, unsigned int))             \
	X(E, sendfile, ssize_t, (int, int, off_t *, size_t))                  \
	X(E, sendfile64, ssize_t, (int, int, off64_t *, size_t))              \
	X(E, copy_file_range, ssize_t,                                        \
	  (int, off64_t *, int, off64_t *, size_t, unsigned int))             \
	X(E, fork, pid_t, (void))                                             \
	X(E, execve, int, (const char *, char *const[], char *const[]))       \
	X(E, execvpe, int, (const char *, char *const[], char *const[]))      \
	X(E, fexecve, int, (int, char *const[], char *const[]))               \
	X(E, execveat, int,                                                   \
	  (int, const char *, char *const[], char *const[], int))             \
	X(Q, _exit, void, (int))                                              \
	X(Q, _Exit, void, (int))                                              \
	X(E, waitpid, pid_t, (pid_t, int *, int))                             \
	X(E, wait, pid_t, (int *))                                            \
	X(E, wait4, pid_t, (pid_t, int *, int, struct rusage *))

#define ROAR_REAL_TYPEDEF(cls, name, ret, params) \
	typedef ret(*roar_##name##_fn) params;
ROAR_REAL_FUNCS(ROAR_REAL_TYPEDEF)
#undef ROAR_REAL_TYPEDEF

struct roar_real {
#define ROAR_REAL_FIELD(cls, name, ret, params) roar_##name##_fn name;
	ROAR_REAL_FUNCS(ROAR_REAL_FIELD)
#undef ROAR_REAL_FIELD
};

/* A raw system call through the real syscall(2), never our hook (E5). */
#define ROAR_SYS(...) (roar_real_get()->syscall(__VA_ARGS__))

/**
 * Return the table, resolving it on first use.  The constructor resolves
 * it eagerly; a hook that runs earlier (from another library's
 * constructor) resolves it here under roar_once.  A symbol the C
 * library lacks is left pointing at a stub that fails with ENOSYS (E3).
 */
const struct roar_real *roar_real_get(void);

/**
 * size bytes of fresh zeroed memory (anonymous private mmap through the
 * real table: async-signal-safe, never malloc), or NULL.
 */
void *roar_map_anon(size_t size);

/** Resolve the table now; called once from the constructor. */
void roar_real_init(void);

/**
 * Replace the table (unit tests only): later roar_real_get() calls return
 * fake.  Pass NULL to go back to the resolved table.
 */
void roar_real_override(const struct roar_real *fake);

#endif /* ROAR_REAL_H */
