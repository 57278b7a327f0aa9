/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of common/image_elf.c against garbage: hand-made ELF files
 * (unit_elf.h) held in memory behind an io of their own, cut at every
 * length, with every header field that bounds a read broken, and damaged
 * at random: never a read out of bounds, never a crash, and a kind the
 * kernel would agree with.
 */
#include "config.h"

#include "unit_image.h"

/* An in-memory file for the garbage tests: one path, one buffer. */
static unsigned char mem[4096];
static size_t mem_size;

static int
mem_open(const char *path, int flags)
{
	return 42;
}

static int
mem_close(int fd)
{
	return 0;
}

static long
mem_pread(int fd, void *buf, unsigned long n, long off)
{
	ck_assert_int_ge(off, 0);
	if ((unsigned long)off >= mem_size)
		return 0;
	if (n > mem_size - (unsigned long)off)
		n = mem_size - (unsigned long)off;
	memcpy(buf, mem + off, n);
	return (long)n;
}

static int
mem_fstat(int fd, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0755;
	st->st_size = (off_t)mem_size;
	return 0;
}

static long
mem_fgetxattr(int fd, const char *name, void *buf, unsigned long n)
{
	return -ENODATA;
}

static const struct roar_image_io mem_io = {
	.open = mem_open,
	.close = mem_close,
	.pread = mem_pread,
	.fstat = mem_fstat,
	.fgetxattr = mem_fgetxattr,
};

static enum roar_image_kind
mem_kind(void)
{
	struct roar_image img;
	int r = roar_image_inspect(&mem_io, "mem", &img);

	ck_assert_int_eq(r, 0);
	ck_assert_int_ge(img.kind, ROAR_IMAGE_DYNAMIC);
	ck_assert_int_le(img.kind, ROAR_IMAGE_NOT_EXEC);
	ck_assert_uint_lt(strlen(img.loader), sizeof(img.loader));
	ck_assert_uint_lt(strlen(img.interp), sizeof(img.interp));
	return img.kind;
}

/*
 * A base for the damage tests: every part present (a note and a section
 * that are not Go's), of either class, with a PT_INTERP or static.
 * @return the kind of the undamaged file
 */
static enum roar_image_kind
mem_base(unsigned char cls, bool dynamic, struct unit_elf_layout *lay)
{
	mem_size = unit_elf_build(
		mem,
		&(struct unit_elf){ .cls = cls,
				    .interp = dynamic ? glibc_loader : NULL,
				    .go_note = true,
				    .note_type = 1,
				    .section = ".text" },
		lay);
	return mem_kind();
}

START_TEST(broken_headers_are_refused)
{
	for (int b = 0; b < 4; b++) {
		unsigned char cls = b % 2 ? ELFCLASS32 : ELFCLASS64;
		bool dynamic = b < 2;
		size_t ph = b % 2 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
		size_t sh = b % 2 ? sizeof(Elf32_Shdr) : sizeof(Elf64_Shdr);
		uint64_t huge = b % 2 ? 0xffffffffu : ~(uint64_t)0;
		struct unit_elf_layout lay;
		enum roar_image_kind whole = mem_base(cls, dynamic, &lay);
		size_t off = 0;

		/* 64-bit glibc: preload; 32-bit: another ABI; static. */
		ck_assert_int_eq(whole, !dynamic     ? ROAR_IMAGE_STATIC
					: b % 2 == 0 ? ROAR_IMAGE_DYNAMIC
						     : ROAR_IMAGE_FOREIGN);
		/* Cut anywhere: never read past, never a crash. */
		for (size_t n = 0; n < lay.size; n++) {
			enum roar_image_kind k;

			mem_size = n;
			k = mem_kind();
			ck_assert_msg(k == (n < lay.needed ? ROAR_IMAGE_SHELL
							   : whole),
				      "base %d cut at %zu: %d", b, n, k);
		}
#define BROKEN(type, field, v, want)                                         \
	do {                                                                 \
		mem_base(cls, dynamic, &lay);                                \
		UNIT_ELF_SET(mem + off, cls, type, field, v);                \
		ck_assert_msg(mem_kind() == (want), "base %d: %s = %llu", b, \
			      #field, (unsigned long long)(v));              \
	} while (0)
		/* The header's program header table. */
		BROKEN(Ehdr, e_phnum, 65535, ROAR_IMAGE_SHELL);
		BROKEN(Ehdr, e_phnum, 65536 / ph, ROAR_IMAGE_SHELL);
		BROKEN(Ehdr, e_phnum, 0, ROAR_IMAGE_SHELL);
		BROKEN(Ehdr, e_phoff, huge, ROAR_IMAGE_SHELL);
		BROKEN(Ehdr, e_phoff, huge / 2, ROAR_IMAGE_SHELL);
		BROKEN(Ehdr, e_phoff, 4000, ROAR_IMAGE_SHELL);
		BROKEN(Ehdr, e_phentsize, 0, ROAR_IMAGE_SHELL);
		BROKEN(Ehdr, e_phentsize, ph + 8, ROAR_IMAGE_SHELL);
		BROKEN(Ehdr, e_type, ET_CORE, ROAR_IMAGE_SHELL);
		off = lay.phoff + ph;
		if (dynamic) {
			/* PT_INTERP. */
			BROKEN(Phdr, p_filesz, huge, ROAR_IMAGE_SHELL);
			BROKEN(Phdr, p_filesz, 1, ROAR_IMAGE_SHELL);
			BROKEN(Phdr, p_filesz, 5000, ROAR_IMAGE_SHELL);
			BROKEN(Phdr, p_offset, huge, ROAR_IMAGE_SHELL);
			BROKEN(Phdr, p_offset, huge - 8, ROAR_IMAGE_SHELL);
			BROKEN(Phdr, p_filesz, strlen(glibc_loader),
			       ROAR_IMAGE_SHELL);
			off += ph;
		}
		/* PT_NOTE: unreadable notes are no Go notes. */
		BROKEN(Phdr, p_offset, huge, whole);
		BROKEN(Phdr, p_filesz, huge, whole);
		BROKEN(Phdr, p_filesz, 11, whole);
		for (int w = 0; w < 2; w++) {
			uint32_t big = 0xffffffffu;

			mem_base(cls, dynamic, &lay);
			memcpy(mem + lay.note_off + 4 * w, &big, 4);
			ck_assert_int_eq(mem_kind(), whole);
		}
		/* Sections: garbage there only hides a Go program. */
		off = 0;
		BROKEN(Ehdr, e_shoff, huge, whole);
		BROKEN(Ehdr, e_shoff, huge - sh, whole);
		BROKEN(Ehdr, e_shnum, 65535, whole);
		BROKEN(Ehdr, e_shstrndx, 2, whole);
		BROKEN(Ehdr, e_shstrndx, 7, whole);
		BROKEN(Ehdr, e_shentsize, 8, whole);
		off = lay.shoff + sh;
		BROKEN(Shdr, sh_offset, huge, whole);
		BROKEN(Shdr, sh_size, huge, whole);
		BROKEN(Shdr, sh_offset, huge - 4, whole);
		off = lay.shoff + 2 * sh;
		BROKEN(Shdr, sh_name, 0xffffffffu, whole);
		BROKEN(Shdr, sh_name, 0, whole);
#undef BROKEN
		/* Counts and indexes in section 0 (SHN_XINDEX). */
		mem_base(cls, dynamic, &lay);
		UNIT_ELF_SET(mem, cls, Ehdr, e_shnum, 0);
		UNIT_ELF_SET(mem, cls, Ehdr, e_shstrndx, SHN_XINDEX);
		UNIT_ELF_SET(mem + lay.shoff, cls, Shdr, sh_size, huge);
		UNIT_ELF_SET(mem + lay.shoff, cls, Shdr, sh_link, huge);
		ck_assert_int_eq(mem_kind(), whole);
		UNIT_ELF_SET(mem + lay.shoff, cls, Shdr, sh_size, 3);
		UNIT_ELF_SET(mem + lay.shoff, cls, Shdr, sh_link, 1);
		ck_assert_int_eq(mem_kind(), whole);
		/* ... where they are read from: a Go section is found. */
		mem_size = unit_elf_build(
			mem,
			&(struct unit_elf){ .cls = cls,
					    .section = ".gopclntab" },
			&lay);
		UNIT_ELF_SET(mem, cls, Ehdr, e_shnum, 0);
		UNIT_ELF_SET(mem, cls, Ehdr, e_shstrndx, SHN_XINDEX);
		UNIT_ELF_SET(mem + lay.shoff, cls, Shdr, sh_size, 3);
		UNIT_ELF_SET(mem + lay.shoff, cls, Shdr, sh_link, 1);
		ck_assert_int_eq(mem_kind(), ROAR_IMAGE_GO);
		/* (Names from another table are other names.) */
		UNIT_ELF_SET(mem + lay.shoff, cls, Shdr, sh_link, 2);
		ck_assert_int_eq(mem_kind(), ROAR_IMAGE_STATIC);
	}
}
END_TEST

START_TEST(random_damage_never_crashes)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (int i = 0; i < 4000; i++) {
		struct unit_elf_layout lay;
		int flips = 1 + i % 8;

		mem_base(i % 2 ? ELFCLASS32 : ELFCLASS64, i % 4 < 2, &lay);
		for (int f = 0; f < flips; f++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			mem[x % lay.size] = (unsigned char)(x >> 32);
		}
		if (i % 3 == 0)
			mem_size = (x >> 40) % lay.size;
		mem_kind();
	}
}
END_TEST

static Suite *
image_elf_suite(void)
{
	Suite *s = suite_create("image_elf");
	TCase *damage = tcase_create("damage");

	tcase_set_timeout(damage, 60);
	tcase_add_test(damage, broken_headers_are_refused);
	tcase_add_test(damage, random_damage_never_crashes);
	suite_add_tcase(s, damage);
	return s;
}

int
main(void)
{
	return unit_run(image_elf_suite());
}
