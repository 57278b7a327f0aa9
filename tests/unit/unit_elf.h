/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hand-made ELF files for the suites that inspect programs: a header of
 * either class, a PT_LOAD over the whole file, and as asked a PT_INTERP,
 * a PT_NOTE with Go's build ID and a section table naming one section.
 * They are never run, only read, so nothing in them needs to be code.
 * The layout: header, program headers, interpreter, note, section
 * names, section headers.
 */
#ifndef ROAR_UNIT_ELF_H
#define ROAR_UNIT_ELF_H

#include <elf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

struct unit_elf {
	unsigned char cls;   /* ELFCLASS64 (0: that) or ELFCLASS32 */
	unsigned char data;  /* 0: ours */
	uint16_t machine;    /* 0: ours (the test program's) */
	uint16_t type;       /* 0: ET_EXEC */
	const char *interp;  /* PT_INTERP, or NULL: static */
	bool go_note;        /* a PT_NOTE with owner "Go", type 4 */
	uint32_t note_type;  /* another type for that note (0: 4) */
	unsigned note_align; /* the PT_NOTE's alignment (0: 4); with 8, a
				GNU property note comes first */
	const char *section; /* a section of that name, or NULL: no
				section table */
};

/* Offsets in a built file, for tests that break it on purpose. */
struct unit_elf_layout {
	size_t size;
	size_t needed; /* what the kernel reads: to the end of the program
			  headers, or of the interpreter's name */
	size_t phoff;
	size_t interp_off;
	size_t note_off;
	size_t shoff;
};

#define UNIT_ELF_FIELD_(cls, type, field)                    \
	((cls) == ELFCLASS64 ? offsetof(Elf64_##type, field) \
			     : offsetof(Elf32_##type, field))
#define UNIT_ELF_SIZE_(cls, type, field)                          \
	((cls) == ELFCLASS64 ? sizeof(((Elf64_##type *)0)->field) \
			     : sizeof(((Elf32_##type *)0)->field))
/** Set field of the ELF structure of class cls at b to v. */
#define UNIT_ELF_SET(b, cls, type, field, v)                                   \
	unit_elf_put((unsigned char *)(b) + UNIT_ELF_FIELD_(cls, type, field), \
		     UNIT_ELF_SIZE_(cls, type, field), (uint64_t)(v))

static inline void
unit_elf_put(unsigned char *p, size_t size, uint64_t v)
{
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	if (size == 2)
		memcpy(p, &u16, 2);
	else if (size == 4)
		memcpy(p, &u32, 4);
	else
		memcpy(p, &v, 8);
}

/** This program's own e_machine: what "ours" means. */
static inline uint16_t
unit_elf_our_machine(void)
{
	unsigned char h[20];
	uint16_t m = 0;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	memcpy(&m, h + 18, sizeof(m));
	return m;
}

static inline size_t
unit_elf_align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/**
 * Build e into buf (at least 4096 bytes, zeroed here).
 * @return the file's size
 */
static inline size_t
unit_elf_build(unsigned char *buf, const struct unit_elf *e,
	       struct unit_elf_layout *lay)
{
	unsigned char cls = e->cls ? e->cls : ELFCLASS64;
	size_t ehsize = cls == ELFCLASS64 ? sizeof(Elf64_Ehdr)
					  : sizeof(Elf32_Ehdr);
	size_t phsize = cls == ELFCLASS64 ? sizeof(Elf64_Phdr)
					  : sizeof(Elf32_Phdr);
	size_t shsize = cls == ELFCLASS64 ? sizeof(Elf64_Shdr)
					  : sizeof(Elf32_Shdr);
	unsigned align = e->note_align ? e->note_align : 4;
	unsigned phnum = 1 + !!e->interp + !!e->go_note, i = 0;
	size_t off, strtab = 0, strtab_size = 0, note_size = 0;
	struct unit_elf_layout l = { .phoff = ehsize };
	unsigned char *ph;

	memset(buf, 0, 4096);
	memcpy(buf, ELFMAG, SELFMAG);
	buf[EI_CLASS] = cls;
	buf[EI_DATA] = e->data ? e->data : ELFDATA2LSB;
	buf[EI_VERSION] = EV_CURRENT;
	UNIT_ELF_SET(buf, cls, Ehdr, e_type, e->type ? e->type : ET_EXEC);
	UNIT_ELF_SET(buf, cls, Ehdr, e_machine,
		     e->machine ? e->machine : unit_elf_our_machine());
	UNIT_ELF_SET(buf, cls, Ehdr, e_version, EV_CURRENT);
	UNIT_ELF_SET(buf, cls, Ehdr, e_phoff, ehsize);
	UNIT_ELF_SET(buf, cls, Ehdr, e_ehsize, ehsize);
	UNIT_ELF_SET(buf, cls, Ehdr, e_phentsize, phsize);
	UNIT_ELF_SET(buf, cls, Ehdr, e_phnum, phnum);
	off = ehsize + phnum * phsize;
	l.needed = off;
	if (e->interp) {
		l.interp_off = off;
		strcpy((char *)buf + off, e->interp);
		ph = buf + ehsize + phsize * ++i;
		UNIT_ELF_SET(ph, cls, Phdr, p_type, PT_INTERP);
		UNIT_ELF_SET(ph, cls, Phdr, p_offset, off);
		UNIT_ELF_SET(ph, cls, Phdr, p_filesz, strlen(e->interp) + 1);
		UNIT_ELF_SET(ph, cls, Phdr, p_align, 1);
		l.needed = off + strlen(e->interp) + 1;
		off += unit_elf_align4(strlen(e->interp) + 1);
	}
	if (e->go_note) {
		uint32_t w[3] = { 4, 8, e->note_type ? e->note_type : 4 };

		off = (off + 7) & ~(size_t)7;
		l.note_off = off;
		if (align == 8) {
			/* NT_GNU_PROPERTY_TYPE_0 with 4 bytes of desc,
			 * padded to 8: a 4-aligned reading would look for
			 * the next note 4 bytes early. */
			uint32_t g[3] = { 4, 4, 5 };

			memcpy(buf + off, g, sizeof(g));
			memcpy(buf + off + 12, "GNU", 4);
			note_size = 24;
		}
		memcpy(buf + off + note_size, w, sizeof(w));
		memcpy(buf + off + note_size + 12, "Go\0\0", 4);
		memcpy(buf + off + note_size + 16, "buildid!", 8);
		note_size += 24;
		ph = buf + ehsize + phsize * ++i;
		UNIT_ELF_SET(ph, cls, Phdr, p_type, PT_NOTE);
		UNIT_ELF_SET(ph, cls, Phdr, p_offset, off);
		UNIT_ELF_SET(ph, cls, Phdr, p_filesz, note_size);
		UNIT_ELF_SET(ph, cls, Phdr, p_align, align);
		off += note_size;
	}
	if (e->section) {
		unsigned char *sh;

		strtab = off;
		strcpy((char *)buf + strtab + 1, ".shstrtab");
		strcpy((char *)buf + strtab + 11, e->section);
		strtab_size = 11 + strlen(e->section) + 1;
		off = (strtab + strtab_size + 7) & ~(size_t)7;
		l.shoff = off;
		UNIT_ELF_SET(buf, cls, Ehdr, e_shoff, off);
		UNIT_ELF_SET(buf, cls, Ehdr, e_shentsize, shsize);
		UNIT_ELF_SET(buf, cls, Ehdr, e_shnum, 3);
		UNIT_ELF_SET(buf, cls, Ehdr, e_shstrndx, 1);
		sh = buf + off + shsize;
		UNIT_ELF_SET(sh, cls, Shdr, sh_name, 1);
		UNIT_ELF_SET(sh, cls, Shdr, sh_type, SHT_STRTAB);
		UNIT_ELF_SET(sh, cls, Shdr, sh_offset, strtab);
		UNIT_ELF_SET(sh, cls, Shdr, sh_size, strtab_size);
		sh += shsize;
		UNIT_ELF_SET(sh, cls, Shdr, sh_name, 11);
		UNIT_ELF_SET(sh, cls, Shdr, sh_type, SHT_PROGBITS);
		UNIT_ELF_SET(sh, cls, Shdr, sh_offset, ehsize);
		UNIT_ELF_SET(sh, cls, Shdr, sh_size, 16);
		off += 3 * shsize;
	}
	/* The PT_LOAD: the whole file, read-only. */
	ph = buf + ehsize;
	UNIT_ELF_SET(ph, cls, Phdr, p_type, PT_LOAD);
	UNIT_ELF_SET(ph, cls, Phdr, p_filesz, off);
	UNIT_ELF_SET(ph, cls, Phdr, p_memsz, off);
	UNIT_ELF_SET(ph, cls, Phdr, p_vaddr, 0x400000);
	UNIT_ELF_SET(ph, cls, Phdr, p_flags, PF_R);
	UNIT_ELF_SET(ph, cls, Phdr, p_align, 4096);
	l.size = off;
	if (lay)
		*lay = l;
	return off;
}

/** Write size bytes of buf to path, with mode. */
static inline void
unit_write_file(const char *path, const void *buf, size_t size, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, size), (ssize_t)size);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/** Build e and write it to path, executable. */
static inline void
unit_elf_write(const char *path, const struct unit_elf *e)
{
	unsigned char buf[4096];

	unit_write_file(path, buf, unit_elf_build(buf, e, NULL), 0755);
}

#endif /* ROAR_UNIT_ELF_H */
