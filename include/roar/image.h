/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who can trace a program about to be executed: the one decision that
 * the library's exec hooks make just before the real exec, the
 * collector's diagnosis of untraced processes and preflight share
 * (common/image.c, common/image_elf.c).  Only the caller's system calls
 * are used (struct roar_image_io): nothing is allocated, nothing of the
 * C library's that sets errno is called, so the library can run it with
 * raw system calls in a vfork child.  The collector passes
 * roar_image_io_libc.
 *
 * What the kernel and the loaders do, and this module relies on:
 * - execve(2) follows #! lines (binfmt_script): the first 256 bytes, the
 *   interpreter path up to a space, tab or newline.  Linux follows at
 *   most 5 interpreters in a row; the 6th fails with ELOOP.  The set-ID
 *   bits of a script are ignored; the interpreter's count.
 * - A file that is neither an ELF the kernel loads nor a #! script fails
 *   execve with ENOEXEC; execvp(3), execlp(3), posix_spawnp(3) and our
 *   launcher then run it with /bin/sh.
 * - An ELF without PT_INTERP gets no dynamic loader, so nothing reads
 *   LD_PRELOAD: a static binary (static-pie too).  One whose PT_INTERP is
 *   not glibc's ld-linux (musl's ld-musl-*.so.1...), or of another ELF
 *   class or machine than ours, cannot load our glibc-built library.
 * - Go programs make their own system calls, without libc, cgo or not;
 *   the Go linker marks them with an ELF note owned by "Go" of type 4
 *   (the build ID, in .note.go.buildid) and a .go.buildinfo section.
 * - The set-user-ID bit, and the set-group-ID bit with group execute,
 *   put the loader in secure mode and drop LD_PRELOAD; so do file
 *   capabilities (the security.capability extended attribute).  The
 *   supervisor's seccomp filter needs no_new_privs (or CAP_SYS_ADMIN),
 *   under which they would lose their privileges: they run untraced.
 *
 * Beware: collector/merge.h has a struct roar_image of its own (an image
 * a process announced).  A collector file that includes merge.h reaches
 * this module through collector/elfcheck.h.
 */
#ifndef ROAR_IMAGE_H
#define ROAR_IMAGE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

enum roar_image_kind {
	ROAR_IMAGE_DYNAMIC = 0, /* glibc-dynamic ELF: our preload loads into
				   it */
	ROAR_IMAGE_STATIC,      /* ELF without PT_INTERP */
	ROAR_IMAGE_GO,          /* Go runtime (static, or cgo/dynamic): makes
				   its own syscalls */
	ROAR_IMAGE_FOREIGN,     /* PT_INTERP is not glibc's ld-linux
				   (musl...), or another ELF class or machine:
				   our glibc-built library cannot load */
	ROAR_IMAGE_SETID,       /* set-user/group-ID bit (and the file is
				   executable) */
	ROAR_IMAGE_FCAPS,       /* file capabilities: xattr
				   security.capability present */
	ROAR_IMAGE_SCRIPT,      /* starts with #!: see interp fields */
	ROAR_IMAGE_SHELL,       /* not ELF (or an ELF the kernel refuses), no
				   #!: execvp/the launcher run it with
				   /bin/sh (ENOEXEC rule) */
	ROAR_IMAGE_NOT_FOUND,
	ROAR_IMAGE_UNREADABLE, /* exists, cannot be opened/read */
	ROAR_IMAGE_NOT_EXEC,   /* exists but not executable (no x bit,
				  directory, not a regular file) */
};

enum roar_tracer {
	ROAR_TRACER_PRELOAD = 0,
	ROAR_TRACER_SUPERVISOR,
	ROAR_TRACER_NONE,
};

/*
 * The caller's system calls; each returns -errno on failure.  open is
 * called with O_PATH (then only fstat and close on that fd) and with
 * O_RDONLY | O_NONBLOCK | O_NOCTTY, always with O_CLOEXEC.  access is
 * faccessat(AT_FDCWD, path, mode, 0); NULL: any execute bit of the mode
 * counts as executable.
 */
struct roar_image_io {
	int (*open)(const char *path, int flags);
	int (*close)(int fd);
	long (*pread)(int fd, void *buf, unsigned long n, long off);
	int (*fstat)(int fd, struct stat *st);
	long (*fgetxattr)(int fd, const char *name, void *buf, unsigned long n);
	int (*access)(const char *path, int mode);
	/* Optional: the status of path in one call (else open with O_PATH,
	 * fstat and close). */
	int (*stat)(const char *path, struct stat *st);
};

/** The C library's calls, errno turned into -errno (the collector's). */
extern const struct roar_image_io roar_image_io_libc;

#define ROAR_IMAGE_INTERP_MAX 256
#define ROAR_IMAGE_LOADER_MAX 128

struct roar_image {
	enum roar_image_kind kind;  /* of the file itself */
	enum roar_image_kind final; /* after following #! (and, for SHELL,
				       /bin/sh); == kind otherwise */
	dev_t dev;                  /* of the file inspected */
	ino_t ino;
	/* The #! interpreter of the last level followed ("/bin/sh" for
	 * SHELL), or "". */
	char interp[ROAR_IMAGE_INTERP_MAX];
	/* Of the final file, when an ELF: its PT_INTERP ("" without, cut
	 * to fit), ELF class (1: 32-bit, 2: 64-bit) and e_machine; 0
	 * when not an ELF. */
	char loader[ROAR_IMAGE_LOADER_MAX];
	unsigned char elf_class;
	unsigned short elf_machine;
};

/**
 * Inspect the file at an absolute or cwd-relative path (no PATH search:
 * roar_image_resolve) and the interpreters it runs under.  Never
 * allocates.  out is always filled.
 * @return 0, or -errno when the file itself could not be inspected (out's
 * kind is then NOT_FOUND or UNREADABLE); -EINVAL for a NULL argument
 */
int roar_image_inspect(const struct roar_image_io *io, const char *path,
		       struct roar_image *out);

/**
 * Who traces an image of that (final) kind: SETID, FCAPS -> NONE;
 * STATIC, GO, FOREIGN -> SUPERVISOR; DYNAMIC -> PRELOAD; SCRIPT and
 * SHELL -> the tracer of the final interpreter.  Nothing runs, so
 * nobody traces, for NOT_FOUND, UNREADABLE (the exec may work, but what
 * runs cannot be told), NOT_EXEC and a final SCRIPT (too many levels).
 */
enum roar_tracer roar_image_tracer(const struct roar_image *img);

/**
 * Short words for reports and preflight: "static binary", "Go program",
 * "set-user-ID or set-group-ID program", "file capabilities", "musl or
 * other non-glibc loader (LOADER)", "script for INTERP: ...", ... into
 * buf (always terminated when cap > 0).
 * @return buf
 */
const char *roar_image_describe(const struct roar_image *img, char *buf,
				unsigned long cap);

/*
 * A small cache of inspected files, each keyed by (dev, ino, mtime,
 * ctime, size): a chmod, setcap or rewrite changes ctime and so
 * invalidates it (but for one of the same size within the file
 * system's time stamp granularity, a few milliseconds).  Each #! level
 * is a file of its own there, so a changed interpreter is seen.  A hit
 * still costs an open(O_PATH), fstat, close and access per level.  The
 * caller provides the storage, zeroed (empty), and locks: nothing
 * inside does.
 */
#define ROAR_IMAGE_CACHE_SLOTS 16

struct roar_image_cache_slot {
	bool used;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
	struct roar_image file; /* that file alone: final == kind */
};

struct roar_image_cache {
	struct roar_image_cache_slot slot[ROAR_IMAGE_CACHE_SLOTS];
	unsigned int next; /* the slot the next new file takes */
	unsigned long hits;
	unsigned long misses;
};

/**
 * roar_image_inspect, reading only the files that changed since c saw
 * them.  A file that cannot be inspected is not cached.
 */
int roar_image_inspect_cached(struct roar_image_cache *c,
			      const struct roar_image_io *io, const char *path,
			      struct roar_image *out);

/**
 * The file execvp(3) runs for file, into out: file itself when it has a
 * slash, else the first executable regular file in path_var's elements
 * (NULL: glibc's default "/bin:/usr/bin"; an empty element is the
 * working directory, written "./file").  Like execvp, a candidate that
 * exists but may not be executed (EACCES) is skipped, and a search that
 * found only such fails with EACCES; an error other than these and
 * ENOENT, ENOTDIR, ESTALE, ENODEV, ETIMEDOUT or a name too long for out
 * ends the search.  Uses io's access, open (O_PATH) and fstat.
 * @return 0; or -ENOENT, -EACCES (out: the first such candidate), or the
 * error that ended the search (out: its candidate)
 */
int roar_image_resolve(const struct roar_image_io *io, const char *file,
		       const char *path_var, char *out, unsigned long cap);

#endif /* ROAR_IMAGE_H */
