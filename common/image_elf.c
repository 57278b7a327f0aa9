/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads an ELF file's header, program headers and, when needed, section
 * headers, with bounded preads through the caller's io, to tell a static
 * binary, a glibc-dynamic one, one for another loader or ABI and a Go
 * program apart.  The facts used (the System V gABI, elf(5), Linux's
 * binfmt_elf):
 * - e_ident gives the class (32- or 64-bit) and the byte order.  The
 *   kernel runs ET_EXEC and ET_DYN files of its machine (a 64-bit kernel
 *   also those of its 32-bit compat machine) whose e_phentsize is the
 *   size of their class's Phdr and whose program header table has 1 to
 *   64 KiB; anything else fails with ENOEXEC.
 * - PT_INTERP names the loader: a NUL-terminated path of 2 to PATH_MAX
 *   bytes.  The first one counts.
 * - A PT_NOTE segment holds notes: namesz, descsz and type as 32-bit
 *   words, then the name and the desc, each padded to the segment's
 *   alignment (4, or 8).
 * - Section headers (e_shoff, e_shnum, e_shstrndx; when the count or the
 *   index does not fit in the header, section 0's sh_size and sh_link
 *   hold it) name their sections through string table e_shstrndx.
 * Every offset and count read from the file is bounded before use: a
 * truncated or hostile file is refused, never read past or looped over
 * for long.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image_int.h"

#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif

#if __SIZEOF_POINTER__ == 8
#define NATIVE_CLASS ELFCLASS64
#else
#define NATIVE_CLASS ELFCLASS32
#endif
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NATIVE_DATA ELFDATA2MSB
#else
#define NATIVE_DATA ELFDATA2LSB
#endif

/* Our machine and the one a 64-bit kernel also runs (32-bit compat). */
#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#define COMPAT_MACHINE EM_386
#elif defined(__i386__)
#define NATIVE_MACHINE EM_386
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#define COMPAT_MACHINE EM_ARM
#elif defined(__arm__)
#define NATIVE_MACHINE EM_ARM
#elif defined(__powerpc64__)
#define NATIVE_MACHINE EM_PPC64
#elif defined(__powerpc__)
#define NATIVE_MACHINE EM_PPC
#elif defined(__s390x__)
#define NATIVE_MACHINE EM_S390
#elif defined(__riscv)
#define NATIVE_MACHINE EM_RISCV
#elif defined(__loongarch__)
#define NATIVE_MACHINE EM_LOONGARCH
#else
#define NATIVE_MACHINE 0 /* not known here: machines are not compared */
#endif
#ifndef COMPAT_MACHINE
#define COMPAT_MACHINE NATIVE_MACHINE
#endif

/* Go's build ID note (cmd/link: ELF_NOTE_GOBUILDID_TAG), owner "Go". */
#define NT_GO_BUILD_ID 4
/* PT_NOTE segments looked into, at most. */
#define MAX_NOTES 8
/* Buffer for a run of table entries, a note segment or PT_INTERP. */
#define SCAN_BUF 1024
/* The start of the section name table, read at once. */
#define NAMES_BUF 512
/* Largest table walked (e_phnum and e_shnum are 16 bits; a section
 * count from section 0 that is larger is garbage). */
#define MAX_ENTRIES 65536

/* A field of an ELF structure of either class, from its bytes. */
#define FIELD(b, cls, type, field)                                            \
	get_word((b) + ((cls) == ELFCLASS64 ? offsetof(Elf64_##type, field)   \
					    : offsetof(Elf32_##type, field)), \
		 (cls) == ELFCLASS64 ? sizeof(((Elf64_##type *)0)->field)     \
				     : sizeof(((Elf32_##type *)0)->field))
#define SIZE(cls, type) \
	((cls) == ELFCLASS64 ? sizeof(Elf64_##type) : sizeof(Elf32_##type))

static uint64_t
get_word(const unsigned char *p, size_t size)
{
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 2:
		memcpy(&u16, p, sizeof(u16));
		return u16;
	case 4:
		memcpy(&u32, p, sizeof(u32));
		return u32;
	default:
		memcpy(&u64, p, sizeof(u64));
		return u64;
	}
}

/* n bytes at off, all of them: 0, -ENOEXEC when the file is shorter (or
 * off out of range), or the read's -errno. */
static long
read_full(const struct roar_image_io *io, int fd, void *buf, unsigned long n,
	  uint64_t off)
{
	long r;

	if (n > LONG_MAX || off > (uint64_t)(LONG_MAX - (long)n))
		return -ENOEXEC;
	r = io->pread(fd, buf, n, (long)off);
	if (r < 0)
		return r;
	return (unsigned long)r == n ? 0 : -ENOEXEC;
}

struct scan {
	const struct roar_image_io *io;
	int fd;
	unsigned char cls;
	/* A table being walked: entries [first, first + held) are in buf. */
	uint64_t off;
	unsigned long entsize;
	unsigned long count;
	unsigned long next;
	unsigned long first;
	unsigned long held;
	long err; /* why the walk stopped short: -errno, or -ENOEXEC */
	unsigned char buf[SCAN_BUF];
};

static bool
table_start(struct scan *s, uint64_t off, unsigned long entsize, uint64_t count)
{
	s->off = off;
	s->entsize = entsize;
	s->count = (unsigned long)count;
	s->next = s->first = s->held = 0;
	s->err = 0;
	return entsize && entsize <= SCAN_BUF && count <= MAX_ENTRIES &&
	       off <= (uint64_t)LONG_MAX &&
	       count <= ((uint64_t)LONG_MAX - off) / entsize;
}

/* The next entry of the table, or NULL at its end or on a failed read. */
static const unsigned char *
table_next(struct scan *s)
{
	if (s->next >= s->count || s->err)
		return NULL;
	if (s->next >= s->first + s->held) {
		unsigned long want = s->count - s->next;

		if (want > SCAN_BUF / s->entsize)
			want = SCAN_BUF / s->entsize;
		s->err = read_full(s->io, s->fd, s->buf, want * s->entsize,
				   s->off + (uint64_t)s->next * s->entsize);
		if (s->err)
			return NULL;
		s->first = s->next;
		s->held = want;
	}
	return s->buf + (s->next++ - s->first) * s->entsize;
}

static uint64_t
align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* Whether the notes in b (one PT_NOTE segment, or its start) have Go's
 * build ID. */
static bool
notes_say_go(const unsigned char *b, unsigned long len, uint64_t align)
{
	uint64_t pos = 0;

	align = align == 8 ? 8 : 4;
	while (len - pos >= 12) {
		uint32_t word[3]; /* namesz, descsz, type */
		uint64_t name = pos + 12, desc, end;

		memcpy(word, b + pos, sizeof(word));
		if (word[2] == NT_GO_BUILD_ID &&
		    (word[0] == 3 || word[0] == 4) && name + word[0] <= len &&
		    !memcmp(b + name, "Go\0\0", word[0]))
			return true;
		desc = align_up(name + word[0], align);
		end = align_up(desc + word[1], align);
		if (end > len)
			return false;
		pos = end;
	}
	return false;
}

/* Whether a section the Go linker writes is there, by name. */
static bool
sections_say_go(struct scan *s, const unsigned char *eh)
{
	static const char *const names[] = { ".go.buildinfo",
					     ".note.go.buildid", ".gopclntab" };
	unsigned char sh[sizeof(Elf64_Shdr)], table[NAMES_BUF], one[24];
	uint64_t shoff = FIELD(eh, s->cls, Ehdr, e_shoff);
	uint64_t shnum = FIELD(eh, s->cls, Ehdr, e_shnum);
	uint64_t strndx = FIELD(eh, s->cls, Ehdr, e_shstrndx);
	unsigned long entsize = SIZE(s->cls, Shdr);
	uint64_t str_off, str_size, have = 0;
	const unsigned char *e;

	if (!shoff || FIELD(eh, s->cls, Ehdr, e_shentsize) != entsize)
		return false;
	if (shnum == 0 || strndx == SHN_XINDEX) {
		if (read_full(s->io, s->fd, sh, entsize, shoff))
			return false;
		if (shnum == 0)
			shnum = FIELD(sh, s->cls, Shdr, sh_size);
		if (strndx == SHN_XINDEX)
			strndx = FIELD(sh, s->cls, Shdr, sh_link);
	}
	if (!table_start(s, shoff, entsize, shnum) || strndx >= shnum ||
	    read_full(s->io, s->fd, sh, entsize, shoff + strndx * entsize))
		return false;
	str_off = FIELD(sh, s->cls, Shdr, sh_offset);
	str_size = FIELD(sh, s->cls, Shdr, sh_size);
	if (str_off > (uint64_t)LONG_MAX || str_size > LONG_MAX - str_off)
		return false;
	have = str_size < sizeof(table) ? str_size : sizeof(table);
	if (read_full(s->io, s->fd, table, have, str_off))
		have = 0;
	while ((e = table_next(s))) {
		uint64_t name = FIELD(e, s->cls, Shdr, sh_name), avail;
		const unsigned char *p = one;

		if (name >= str_size)
			continue;
		avail = str_size - name;
		if (avail > sizeof(one))
			avail = sizeof(one);
		if (name + avail <= have)
			p = table + name;
		else if (read_full(s->io, s->fd, one, avail, str_off + name))
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i]) < avail &&
			    !memcmp(p, names[i], strlen(names[i]) + 1))
				return true;
	}
	return false;
}

/* Whether a PT_INTERP names glibc's loader: ld-linux*.so.N, or the
 * ld.so.1, ld64.so.1 and ld64.so.2 of mips, powerpc and s390. */
static bool
glibc_loader(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "ld-linux", 8) || !strcmp(base, "ld.so.1") ||
	       !strcmp(base, "ld64.so.1") || !strcmp(base, "ld64.so.2");
}

bool
roar_image_elf_native(unsigned char elf_class, unsigned short elf_machine)
{
	return elf_class == NATIVE_CLASS &&
	       (NATIVE_MACHINE == 0 || elf_machine == NATIVE_MACHINE);
}

static bool
runs_here(unsigned short elf_machine)
{
	return NATIVE_MACHINE == 0 || elf_machine == NATIVE_MACHINE ||
	       elf_machine == COMPAT_MACHINE;
}

/* The loader PT_INTERP (at off, size bytes) names, into f->loader;
 * whether it is glibc's in *glibc.  -ENOEXEC when malformed. */
static long
read_loader(struct scan *s, uint64_t off, uint64_t size, struct roar_image *f,
	    bool *glibc)
{
	unsigned long n = size < SCAN_BUF ? (unsigned long)size : SCAN_BUF;
	long r;

	if (size < 2 || size > PATH_MAX || off > (uint64_t)LONG_MAX)
		return -ENOEXEC;
	/* A longer one is cut from its start: the name is at the end. */
	r = read_full(s->io, s->fd, s->buf, n, off + size - n);
	if (r)
		return r;
	if (s->buf[n - 1])
		return -ENOEXEC;
	*glibc = glibc_loader((const char *)s->buf);
	n = strlen((const char *)s->buf);
	if (n >= sizeof(f->loader))
		n = sizeof(f->loader) - 1;
	memcpy(f->loader, s->buf, n);
	f->loader[n] = '\0';
	return 0;
}

enum roar_image_kind
roar_image_elf(const struct roar_image_io *io, int fd,
	       const unsigned char *head, unsigned long n, struct roar_image *f)
{
	struct scan s = { .io = io, .fd = fd, .cls = head[EI_CLASS] };
	struct {
		uint64_t off, size, align;
	} note[MAX_NOTES], interp = { 0 };
	unsigned int nnotes = 0;
	bool have_interp = false, glibc = false, go = false;
	uint64_t phnum;
	const unsigned char *ph;
	long r;

	f->elf_class = s.cls;
	if ((s.cls != ELFCLASS32 && s.cls != ELFCLASS64) ||
	    n < SIZE(s.cls, Ehdr))
		return ROAR_IMAGE_SHELL;
	f->elf_machine = (unsigned short)FIELD(head, s.cls, Ehdr, e_machine);
	if (head[EI_DATA] != ELFDATA2LSB && head[EI_DATA] != ELFDATA2MSB)
		return ROAR_IMAGE_SHELL;
	if (head[EI_DATA] != NATIVE_DATA) {
		/* Another byte order: another machine. */
		f->elf_machine = __builtin_bswap16(f->elf_machine);
		return ROAR_IMAGE_FOREIGN;
	}
	phnum = FIELD(head, s.cls, Ehdr, e_phnum);
	if ((FIELD(head, s.cls, Ehdr, e_type) != ET_EXEC &&
	     FIELD(head, s.cls, Ehdr, e_type) != ET_DYN) ||
	    FIELD(head, s.cls, Ehdr, e_phentsize) != SIZE(s.cls, Phdr) ||
	    phnum == 0 || phnum * SIZE(s.cls, Phdr) > 65536 ||
	    !table_start(&s, FIELD(head, s.cls, Ehdr, e_phoff),
			 SIZE(s.cls, Phdr), phnum))
		return ROAR_IMAGE_SHELL;
	while ((ph = table_next(&s))) {
		uint64_t type = FIELD(ph, s.cls, Phdr, p_type);
		uint64_t off = FIELD(ph, s.cls, Phdr, p_offset);
		uint64_t size = FIELD(ph, s.cls, Phdr, p_filesz);

		if (type == PT_INTERP && !have_interp) {
			have_interp = true;
			interp.off = off;
			interp.size = size;
		} else if (type == PT_NOTE && nnotes < MAX_NOTES) {
			note[nnotes].off = off;
			note[nnotes].size = size;
			note[nnotes++].align = FIELD(ph, s.cls, Phdr, p_align);
		}
	}
	if (s.err)
		return s.err == -ENOEXEC ? ROAR_IMAGE_SHELL
					 : ROAR_IMAGE_UNREADABLE;
	if (have_interp) {
		r = read_loader(&s, interp.off, interp.size, f, &glibc);
		if (r)
			return r == -ENOEXEC ? ROAR_IMAGE_SHELL
					     : ROAR_IMAGE_UNREADABLE;
	}
	if (!runs_here(f->elf_machine) ||
	    (have_interp && !roar_image_elf_native(s.cls, f->elf_machine)))
		return ROAR_IMAGE_FOREIGN;
	for (unsigned int i = 0; i < nnotes && !go; i++) {
		unsigned long len = note[i].size < SCAN_BUF
					    ? (unsigned long)note[i].size
					    : SCAN_BUF;

		go = !read_full(io, fd, s.buf, len, note[i].off) &&
		     notes_say_go(s.buf, len, note[i].align);
	}
	if (go || sections_say_go(&s, head))
		return ROAR_IMAGE_GO;
	if (!have_interp)
		return ROAR_IMAGE_STATIC;
	return glibc ? ROAR_IMAGE_DYNAMIC : ROAR_IMAGE_FOREIGN;
}
