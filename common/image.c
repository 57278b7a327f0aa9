/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who can trace a program about to be executed (include/roar/image.h):
 * opens the file, reads its first bytes, follows #! lines and the
 * execvp rule for files the kernel will not run, and keeps the small
 * cache.  Compiled into the library and the collector alike, so it uses
 * nothing but the caller's io and string functions that set no errno.
 * What it relies on:
 * - execve(2) opens the file like open(2) with the caller's effective
 *   credentials, and needs a regular file that access(2) X_OK allows
 *   (it is the closest the caller can ask for; a mount with noexec
 *   fails both).  An O_PATH open needs no read permission, and fstat(2)
 *   works on it.
 * - binfmt_script (Linux >= 5.1) reads the first 256 bytes, zero past
 *   the file's end.  Without a newline before the first NUL, the line
 *   is the whole buffer but its last byte, and the name must end (at a
 *   blank or a NUL) within the buffer.  Trailing blanks are dropped,
 *   leading ones skipped; the name ends at a blank or a NUL.  A line of
 *   blanks or a cut name fails with ENOEXEC; a name that is empty (a NUL
 *   first) fails the exec otherwise.  The interpreter is opened by that
 *   name, relative to the working directory.
 * - fs/exec.c follows at most 5 interpreters (a 6th is ELOOP).
 * - execvp(3) (glibc's __execvpe): a name without a slash is looked for
 *   in each PATH element, an empty one meaning the working directory,
 *   PATH unset meaning "/bin:/usr/bin"; EACCES is remembered and the
 *   search goes on, as it does on ENOENT, ESTALE, ENOTDIR, ENODEV and
 *   ETIMEDOUT, while any other error ends it.  On ENOEXEC it runs the
 *   file with /bin/sh.
 * - A set-group-ID bit without group execute changes nothing
 *   (fs/exec.c, bprm_fill_uid).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_int.h"

/* fs/exec.c: at most 5 interpreters in a row. */
#define MAX_INTERPRETERS 5
/* glibc's confstr(_CS_PATH), execvp's PATH when there is none. */
#define DEFAULT_PATH "/bin:/usr/bin"

/* Bounded text, always terminated (when there is room at all). */
struct text {
	char *buf;
	unsigned long cap;
	unsigned long len;
};

static void
put(struct text *t, const char *s)
{
	while (*s && t->len + 1 < t->cap)
		t->buf[t->len++] = *s++;
	if (t->cap)
		t->buf[t->len] = '\0';
}

static void
put_uint(struct text *t, unsigned long v)
{
	char digits[24];
	size_t i = sizeof(digits);

	digits[--i] = '\0';
	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(t, digits + i);
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The interpreter of the #! line in b (ROAR_IMAGE_HEAD bytes, zero past
 * the file's end), as binfmt_script finds it, into interp; false where
 * execve fails with ENOEXEC.
 */
static bool
shebang(const char *b, char *interp, size_t cap)
{
	const size_t last = ROAR_IMAGE_HEAD - 1;
	size_t end = 0, name, sep;

	while (end < ROAR_IMAGE_HEAD && b[end] && b[end] != '\n')
		end++;
	if (end == ROAR_IMAGE_HEAD || !b[end]) {
		/* No newline: the name must end within the buffer. */
		for (name = 2; name < last && blank(b[name]); name++)
			;
		for (sep = name; sep <= last && b[sep] && !blank(b[sep]); sep++)
			;
		if (name == last || sep > last)
			return false;
		end = last;
	}
	while (end > 2 && blank(b[end - 1]))
		end--;
	for (name = 2; name < end && blank(b[name]); name++)
		;
	for (sep = name; sep < end && b[sep] && !blank(b[sep]); sep++)
		;
	/* A NUL there is an empty name: not ENOEXEC, the exec fails. */
	if (name == end || sep - name >= cap)
		return false;
	memcpy(interp, b + name, sep - name);
	interp[sep - name] = '\0';
	return true;
}

static bool
set_id(const struct stat *st)
{
	return (st->st_mode & S_ISUID) ||
	       (st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP);
}

static bool
has_caps(const struct roar_image_io *io, int fd)
{
	/* vfs_cap_data is 20 or 24 bytes: too small a buffer says ERANGE,
	 * which also means it is there. */
	unsigned char caps[24];
	long r = io->fgetxattr(fd, "security.capability", caps, sizeof(caps));

	return r >= 0 || r == -ERANGE;
}

/* What the regular file open on fd is, into f (st: its status). */
static int
classify(const struct roar_image_io *io, int fd, const struct stat *st,
	 struct roar_image *f)
{
	char head[ROAR_IMAGE_HEAD] = { 0 };
	long n = io->pread(fd, head, sizeof(head), 0);

	if (n < 0) {
		f->kind = ROAR_IMAGE_UNREADABLE;
		return (int)n;
	}
	if (n >= 2 && head[0] == '#' && head[1] == '!') {
		f->kind = shebang(head, f->interp, sizeof(f->interp))
				  ? ROAR_IMAGE_SCRIPT
				  : ROAR_IMAGE_SHELL;
		return 0;
	}
	if (n < 4 || memcmp(head, "\177ELF", 4)) {
		f->kind = ROAR_IMAGE_SHELL;
		return 0;
	}
	f->kind = roar_image_elf(io, fd, (const unsigned char *)head,
				 (unsigned long)n, f);
	if (f->kind == ROAR_IMAGE_SHELL || f->kind == ROAR_IMAGE_UNREADABLE)
		return 0;
	if (set_id(st))
		f->kind = ROAR_IMAGE_SETID;
	else if (has_caps(io, fd))
		f->kind = ROAR_IMAGE_FCAPS;
	return 0;
}

/* The status of path, without reading it (stat, or O_PATH). */
static int
probe(const struct roar_image_io *io, const char *path, struct stat *st)
{
	int fd, r;

	if (io->stat)
		return io->stat(path, st);
	fd = io->open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return fd;
	r = io->fstat(fd, st);
	io->close(fd);
	return r;
}

/* Whether execve may run the file at path (status st): 0 or -errno. */
static int
runnable(const struct roar_image_io *io, const char *path,
	 const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return -EACCES;
	if (io->access)
		return io->access(path, X_OK);
	return st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH) ? 0 : -EACCES;
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static struct roar_image_cache_slot *
cache_find(struct roar_image_cache *c, const struct stat *st)
{
	for (size_t i = 0; i < ROAR_IMAGE_CACHE_SLOTS; i++) {
		struct roar_image_cache_slot *s = &c->slot[i];

		if (s->used && s->dev == st->st_dev && s->ino == st->st_ino &&
		    s->size == st->st_size &&
		    same_time(&s->mtime, &st->st_mtim) &&
		    same_time(&s->ctime, &st->st_ctim))
			return s;
	}
	return NULL;
}

static void
cache_put(struct roar_image_cache *c, const struct stat *st,
	  const struct roar_image *f)
{
	struct roar_image_cache_slot *s = NULL;

	/* A file seen before, since changed, takes its old slot back. */
	for (size_t i = 0; i < ROAR_IMAGE_CACHE_SLOTS && !s; i++)
		if (c->slot[i].used && c->slot[i].dev == st->st_dev &&
		    c->slot[i].ino == st->st_ino)
			s = &c->slot[i];
	if (!s)
		s = &c->slot[c->next++ % ROAR_IMAGE_CACHE_SLOTS];
	s->used = true;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtime = st->st_mtim;
	s->ctime = st->st_ctim;
	s->file = *f;
}

/* The file at path alone (no interpreter followed), into f. */
static int
inspect_one(struct roar_image_cache *c, const struct roar_image_io *io,
	    const char *path, struct roar_image *f)
{
	struct roar_image_cache_slot *hit;
	struct stat st;
	int fd, r;

	memset(f, 0, sizeof(*f));
	r = probe(io, path, &st);
	if (r < 0) {
		f->kind = r == -ENOENT || r == -ENOTDIR || r == -ENAMETOOLONG
				  ? ROAR_IMAGE_NOT_FOUND
				  : ROAR_IMAGE_UNREADABLE;
		return r;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	if (runnable(io, path, &st)) {
		f->kind = ROAR_IMAGE_NOT_EXEC;
		return 0;
	}
	if (c && (hit = cache_find(c, &st))) {
		c->hits++;
		*f = hit->file;
		return 0;
	}
	if (c)
		c->misses++;
	/* O_NONBLOCK: should it have become a FIFO since, do not wait. */
	fd = io->open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		/* Execute-only: only an ELF runs so (an interpreter must
		 * read its script), and its set-ID bits count. */
		f->kind = set_id(&st) ? ROAR_IMAGE_SETID
				      : ROAR_IMAGE_UNREADABLE;
		return f->kind == ROAR_IMAGE_SETID ? 0 : fd;
	}
	r = io->fstat(fd, &st);
	if (r == 0) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		if (S_ISREG(st.st_mode))
			r = classify(io, fd, &st, f);
		else
			f->kind = ROAR_IMAGE_NOT_EXEC;
	} else {
		f->kind = ROAR_IMAGE_UNREADABLE;
	}
	io->close(fd);
	if (c && r == 0 && f->kind != ROAR_IMAGE_UNREADABLE)
		cache_put(c, &st, f);
	return r;
}

static int
inspect(struct roar_image_cache *c, const struct roar_image_io *io,
	const char *path, struct roar_image *out)
{
	struct roar_image level;
	bool sh = false;
	int r;

	if (!out)
		return -EINVAL;
	if (!io || !path) {
		memset(out, 0, sizeof(*out));
		out->kind = out->final = ROAR_IMAGE_NOT_FOUND;
		return -EINVAL;
	}
	r = inspect_one(c, io, path, out);
	out->final = out->kind;
	level = *out;
	for (int depth = 0; depth < MAX_INTERPRETERS; depth++) {
		if (level.kind == ROAR_IMAGE_SCRIPT) {
			memcpy(out->interp, level.interp, sizeof(out->interp));
		} else if (level.kind == ROAR_IMAGE_SHELL && !sh) {
			sh = true;
			memcpy(out->interp, "/bin/sh", sizeof("/bin/sh"));
		} else {
			break;
		}
		inspect_one(c, io, out->interp, &level);
	}
	out->final = level.kind;
	memcpy(out->loader, level.loader, sizeof(out->loader));
	out->elf_class = level.elf_class;
	out->elf_machine = level.elf_machine;
	return r;
}

int
roar_image_inspect(const struct roar_image_io *io, const char *path,
		   struct roar_image *out)
{
	return inspect(NULL, io, path, out);
}

int
roar_image_inspect_cached(struct roar_image_cache *c,
			  const struct roar_image_io *io, const char *path,
			  struct roar_image *out)
{
	return inspect(c, io, path, out);
}

enum roar_tracer
roar_image_tracer(const struct roar_image *img)
{
	switch (img->final) {
	case ROAR_IMAGE_DYNAMIC:
		return ROAR_TRACER_PRELOAD;
	case ROAR_IMAGE_STATIC:
	case ROAR_IMAGE_GO:
	case ROAR_IMAGE_FOREIGN:
		/* The supervisor's filter watches our ABI's calls only
		 * (include/roar/supervise.h): a 32-bit program under it
		 * would look seen and be blind. */
		return roar_image_elf_native(img->elf_class, img->elf_machine)
			       ? ROAR_TRACER_SUPERVISOR
			       : ROAR_TRACER_NONE;
	default:
		return ROAR_TRACER_NONE;
	}
}

/* Words for what the final file is. */
static void
put_final(struct text *t, const struct roar_image *img)
{
	switch (img->final) {
	case ROAR_IMAGE_DYNAMIC:
		put(t, "dynamically linked program");
		break;
	case ROAR_IMAGE_STATIC:
		put(t, "static binary");
		if (!roar_image_elf_native(img->elf_class, img->elf_machine)) {
			put(t, " for another ABI (");
			put_uint(t, img->elf_class == 1 ? 32 : 64);
			put(t, "-bit, ELF machine ");
			put_uint(t, img->elf_machine);
			put(t, "): its system calls are not watched");
		}
		break;
	case ROAR_IMAGE_GO:
		put(t, "Go program");
		break;
	case ROAR_IMAGE_FOREIGN:
		if (roar_image_elf_native(img->elf_class, img->elf_machine)) {
			put(t, "musl or other non-glibc loader (");
			put(t, img->loader);
			put(t, ")");
			break;
		}
		put(t, "program for another ABI (");
		put_uint(t, img->elf_class == 1 ? 32 : 64);
		put(t, "-bit, ELF machine ");
		put_uint(t, img->elf_machine);
		put(t, ")");
		break;
	case ROAR_IMAGE_SETID:
		put(t, "set-user-ID or set-group-ID program");
		break;
	case ROAR_IMAGE_FCAPS:
		put(t, "file capabilities");
		break;
	case ROAR_IMAGE_SCRIPT:
		put(t, "too many levels of #! interpreters");
		break;
	case ROAR_IMAGE_SHELL:
		put(t, "neither a program the kernel loads nor a #! script");
		break;
	case ROAR_IMAGE_NOT_FOUND:
		put(t, "not found");
		break;
	case ROAR_IMAGE_UNREADABLE:
		put(t, "cannot be read");
		break;
	case ROAR_IMAGE_NOT_EXEC:
		put(t, "not executable");
		break;
	}
}

const char *
roar_image_describe(const struct roar_image *img, char *buf, unsigned long cap)
{
	struct text t = { .buf = buf, .cap = cap };

	put(&t, "");
	if (img->kind == ROAR_IMAGE_SCRIPT) {
		put(&t, "script for ");
		put(&t, img->interp);
		put(&t, ": ");
	} else if (img->kind == ROAR_IMAGE_SHELL &&
		   img->final != ROAR_IMAGE_SHELL) {
		put(&t, "no #! line, run by /bin/sh: ");
	}
	put_final(&t, img);
	return buf;
}

/* dir (n bytes; none: the working directory) and file, into out. */
static bool
join(char *out, unsigned long cap, const char *dir, size_t n, const char *file)
{
	struct text t = { .buf = out, .cap = cap };
	size_t flen = strlen(file);

	if (n == 0) {
		dir = ".";
		n = 1;
	}
	if (n + 1 + flen + 1 > cap)
		return false;
	memcpy(out, dir, n);
	t.len = n;
	if (dir[n - 1] != '/')
		put(&t, "/");
	put(&t, file);
	return true;
}

/* Whether execvp goes on to the next PATH element after this error. */
static bool
search_goes_on(int err)
{
	return err == -EACCES || err == -ENOENT || err == -ESTALE ||
	       err == -ENOTDIR || err == -ENODEV || err == -ETIMEDOUT;
}

/* Whether the file at path may be executed: 0 or -errno. */
static int
try_one(const struct roar_image_io *io, const char *path)
{
	struct stat st;
	int r = probe(io, path, &st);

	return r < 0 ? r : runnable(io, path, &st);
}

int
roar_image_resolve(const struct roar_image_io *io, const char *file,
		   const char *path_var, char *out, unsigned long cap)
{
	const char *p, *denied = NULL;
	size_t n, denied_n = 0;
	int r;

	if (!file || !*file)
		return -ENOENT;
	if (strchr(file, '/')) {
		if (strlen(file) >= cap)
			return -ENAMETOOLONG;
		memcpy(out, file, strlen(file) + 1);
		return try_one(io, out);
	}
	for (p = path_var ? path_var : DEFAULT_PATH;; p += n + 1) {
		n = strcspn(p, ":");
		if (join(out, cap, p, n, file)) {
			r = try_one(io, out);
			if (r == 0 || !search_goes_on(r))
				return r;
			if (r == -EACCES && !denied) {
				denied = p;
				denied_n = n;
			}
		}
		if (!p[n])
			break;
	}
	if (!denied)
		return -ENOENT;
	join(out, cap, denied, denied_n, file);
	return -EACCES;
}
