/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake table of real functions (struct roar_real) for the hook suites
 * (test_hooks_*.c), installed through roar_real_override().  Each fake
 * fakes only the one call a test arms (expect_call): it records what it
 * was given in F and returns F.ret with errno F.err.  Any other call of
 * the table, roar's own raw syscalls and O_PATH probes included, goes on
 * to the C library, and a second call of the function under test is
 * counted in F.extra.
 */
#ifndef ROAR_UNIT_FAKE_REAL_H
#define ROAR_UNIT_FAKE_REAL_H

#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "real.h"

/* What the fake real functions do and what they saw. */
struct fake_calls {
	long ret; /* value to return */
	int err;  /* errno to set before returning; 0: leave it */
	int calls;
	int entry_errno; /* errno when the fake was entered */
	int fd, fd2, flags, cnt;
	mode_t mode;
	const char *path;
	const char *fmode;
	const void *buf;
	size_t n;
	off_t off;
	const struct iovec *iov;
	char *const *argv;
	char *const *envp;
	int fds_out[2];     /* what a fake pipe hands out */
	int status_out;     /* what a fake wait reports */
	bool open_for_real; /* a fake open that really opens */
	const void *armed;  /* the fake whose next call is faked (expect) */
	const void *target; /* the function under test */
	int extra;          /* its calls besides the faked one */
};

extern struct fake_calls F;

/*
 * What an exec or spawn was given, copied while the call lasts: the hook
 * builds argv (execl) and the doctored environment in its own frame.
 */
#define SAW_MAX 16
struct fake_saw {
	char argv[SAW_MAX][128];
	char env[SAW_MAX][128];
	size_t argc, envc;
};

extern struct fake_saw saw;

/* The faked table, as fake_on() installs it. */
extern struct roar_real fake;

/* Every fake, by the name a test arms it with. */
ssize_t fake_read(int fd, void *buf, size_t n);
ssize_t fake_write(int fd, const void *buf, size_t n);
ssize_t fake_pread(int fd, void *buf, size_t n, off_t off);
ssize_t fake_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t fake_readv(int fd, const struct iovec *iov, int cnt);
ssize_t fake_writev(int fd, const struct iovec *iov, int cnt);
ssize_t fake_read_chk(int fd, void *buf, size_t n, size_t buflen);
int fake_open(const char *path, int flags, ...);
int fake_openat(int dirfd, const char *path, int flags, ...);
int fake_open_2(const char *path, int flags);
int fake_creat(const char *path, mode_t mode);
FILE *fake_fopen(const char *path, const char *mode);
int fake_fclose(FILE *f);
int fake_close(int fd);
int fake_dup(int fd);
int fake_dup2(int fd, int fd2);
int fake_pipe(int fds[2]);
int fake_socket(int domain, int type, int protocol);
pid_t fake_fork(void);
pid_t fake_waitpid(pid_t pid, int *status, int options);
int fake_execve(const char *path, char *const argv[], char *const envp[]);
int fake_posix_spawn(pid_t *pid, const char *path,
		     const posix_spawn_file_actions_t *fa,
		     const posix_spawnattr_t *attr, char *const argv[],
		     char *const envp[]);
size_t fake_fread(void *p, size_t size, size_t n, FILE *stream);
size_t fake_fwrite(const void *p, size_t size, size_t n, FILE *stream);
int fake_rename(const char *from, const char *to);
int fake_ftruncate(int fd, off_t len);
void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int fake_fcntl(int fd, int cmd, ...);
long fake_syscall(long nr, ...);

/** Fresh fakes over the table now resolved, with nothing armed or seen. */
void fake_reset(void);

/** Install the fakes and set roar_ready: hooks run, on the fakes. */
void fake_on(void);

/** Hooks pass through again, to the C library. */
void fake_off(void);

#endif /* ROAR_UNIT_FAKE_REAL_H */
