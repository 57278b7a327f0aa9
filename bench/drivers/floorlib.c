/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor of a process-lifecycle tracer, for the bench's "floor"
 * column: the least an LD_PRELOAD library must do to report every
 * process as roar-preload does, and nothing else.  It resolves the
 * functions a tracer wraps (as roar-preload does, in its constructor),
 * connects to the collector in every new image and every fork child,
 * announces the image (argv, environment, cwd, exe) or the fork, and the
 * exit.  It wraps nothing and tracks no file: what it costs over a bare
 * run is the cost of the lifecycle alone on this machine.  Its frames are
 * real roar-preload frames, so the launcher's collector takes them.
 *
 * Built by bench/run as a shared library (gcc -shared -fPIC), twice: as
 * libfloor.so, and with -DFLOOR_OPEN as libfloor_open.so, the floor of
 * the first-open rows (open storm, wide tree).  That one also wraps open
 * and openat and, for every open, does the least a tracer that names
 * files soundly must do there, and nothing else: the check that the
 * process has no seccomp filter (a filter installed by a raw system call
 * may kill on openat2, as Chromium's sandbox does) and the open itself
 * through openat2 refusing symlinks (whose name, when it succeeds, is
 * the file's canonical name: no readlink).  It remembers no file and
 * sends no frame.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* What roar-preload resolves (preload/real.h), by name. */
static const char *const names[] = {
	"open", "open64", "openat", "openat64", "creat", "creat64",
	"__open_2", "__open64_2", "__openat_2", "__openat64_2", "fopen",
	"fopen64", "freopen", "freopen64", "close", "chdir", "fchdir",
	"fclose", "dup", "dup2", "dup3", "read", "write", "pread", "pwrite",
	"pread64", "pwrite64", "readv", "writev", "__read_chk", "__pread_chk",
	"truncate", "truncate64", "ftruncate", "ftruncate64", "fcntl",
	"fcntl64", "close_range", "closefrom", "system", "popen", "pclose",
	"clone", "syscall", "fread", "fwrite", "fread_unlocked",
	"fwrite_unlocked", "fgets", "fgets_unlocked", "fputs",
	"fputs_unlocked", "fgetc", "getc", "fputc", "putc", "vfprintf",
	"getdelim", "getline", "fseek", "fseeko", "fseeko64", "fsetpos",
	"fsetpos64", "splice", "sendfile", "sendfile64", "copy_file_range",
	"fork", "execve", "execvpe", "fexecve", "execveat", "_exit", "_Exit",
	"waitpid", "wait", "wait4", "mmap", "mmap64", "posix_spawn",
	"posix_spawnp", "rename", "renameat", "renameat2", "link", "linkat",
	"mkstemp", "mkostemp", "socket", "pipe", "pipe2", "preadv", "pwritev",
	"preadv2", "pwritev2", "accept", "accept4", "socketpair", NULL,
};
static void *table[sizeof(names) / sizeof(names[0])];

#ifdef FLOOR_OPEN
#include <linux/openat2.h>

static int
floor_open(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = { .flags = (unsigned)flags | 0100000,
				.mode = (flags & O_CREAT) ? mode : 0,
				.resolve = RESOLVE_NO_SYMLINKS };
	long fd = -1;

	if (path && path[0] == '/' && !(flags & O_PATH) &&
	    syscall(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0) == 0) {
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || (errno != ELOOP && errno != EINVAL &&
				errno != ENOSYS && errno != EPERM))
			return (int)fd;
	}
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

#define FLOOR_MODE(flags, mode)                          \
	do {                                             \
		va_list ap;                              \
		if ((flags) & (O_CREAT | __O_TMPFILE)) { \
			va_start(ap, flags);             \
			mode = va_arg(ap, int);          \
			va_end(ap);                      \
		}                                        \
	} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	FLOOR_MODE(flags, mode);
	return floor_open(AT_FDCWD, path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	FLOOR_MODE(flags, mode);
	return floor_open(AT_FDCWD, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	FLOOR_MODE(flags, mode);
	return floor_open(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	FLOOR_MODE(flags, mode);
	return floor_open(dirfd, path, flags, mode);
}
#endif

static int conn = -1;
static unsigned char buf[256 * 1024];
static size_t len;

static void
put(const void *p, size_t n)
{
	if (len + n <= sizeof(buf)) {
		memcpy(buf + len, p, n);
		len += n;
	}
}

static void
put_u8(unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(&c, 1);
}

static void
put_be(uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		put_u8((unsigned)(v >> (8 * i)) & 0xff);
}

static void
put_str(const char *s)
{
	size_t n = strlen(s);

	if (n < 32) {
		put_u8(0xa0 | (unsigned)n);
	} else if (n < 65536) {
		put_u8(0xda);
		put_be(n, 2);
	} else {
		put_u8(0xdb);
		put_be(n, 4);
	}
	put(s, n);
}

static void
put_uint(uint64_t v)
{
	put_u8(0xcf);
	put_be(v, 8);
}

static void
put_time(void)
{
	struct timespec ts;
	double d;
	uint64_t bits;

	clock_gettime(CLOCK_REALTIME, &ts);
	d = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	memcpy(&bits, &d, sizeof(bits));
	put_u8(0xcb);
	put_be(bits, 8);
}

static void
put_list(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	put_u8(0xdd);
	put_be(n, 4);
	for (size_t i = 0; i < n; i++)
		put_str(v[i]);
}

static void
begin(unsigned keys, const char *kind)
{
	pid_t pid = getpid();

	len = 4;
	put_u8(0x80 | keys);
	put_str("kind");
	put_str(kind);
	put_str("pid");
	put_uint((uint64_t)pid);
	put_str("thread_id");
	put_uint((uint64_t)pid);
}

static void
finish(void)
{
	uint32_t n = (uint32_t)(len - 4);

	buf[0] = n & 0xff;
	buf[1] = (n >> 8) & 0xff;
	buf[2] = (n >> 16) & 0xff;
	buf[3] = (n >> 24) & 0xff;
	if (conn >= 0)
		send(conn, buf, len, MSG_NOSIGNAL);
}

static void
connect_collector(void)
{
	const char *p = getenv("ROAR_PRELOAD_TRACE_SOCK");
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	conn = -1;
	if (!p || strlen(p) >= sizeof(a.sun_path))
		return;
	conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(a.sun_path, p);
	if (conn >= 0 && connect(conn, (void *)&a, sizeof(a)) != 0) {
		close(conn);
		conn = -1;
	}
}

static void
at_child(void)
{
	pid_t parent = getppid();

	if (conn >= 0)
		close(conn);
	connect_collector();
	begin(7, "hello");
	put_str("ppid");
	put_uint((uint64_t)parent);
	put_str("origin");
	put_str("fork");
	put_str("time");
	put_time();
	put_str("proto");
	put_uint(1);
	finish();
}

static void
at_exit(int status, void *arg)
{
	(void)arg;
	begin(5, "exit");
	put_str("status");
	put_uint((uint64_t)(status & 0xff));
	put_str("time");
	put_time();
	finish();
	if (conn >= 0)
		close(conn);
}

__attribute__((constructor)) static void
init(int argc, char **argv, char **envp)
{
	char cwd[PATH_MAX], exe[PATH_MAX];
	ssize_t n;

	(void)argc;
	for (size_t i = 0; names[i]; i++)
		table[i] = dlsym(RTLD_NEXT, names[i]);
	connect_collector();
	begin(11, "hello");
	put_str("proto");
	put_uint(1);
	put_str("ppid");
	put_uint((uint64_t)getppid());
	put_str("origin");
	put_str("exec");
	put_str("time");
	put_time();
	put_str("argv");
	put_list(argv);
	put_str("env");
	put_list(envp);
	put_str("cwd");
	put_str(getcwd(cwd, sizeof(cwd)) ? cwd : "");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	put_str("exe");
	put_str(exe);
	finish();
	pthread_atfork(NULL, NULL, at_child);
	on_exit(at_exit, NULL);
}
