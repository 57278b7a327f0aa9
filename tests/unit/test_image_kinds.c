/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of common/image.c and common/image_elf.c on files that need
 * no compiler: which kind an ELF file is by its loader, its notes and
 * sections, its class and machine (other ABIs, hand-made by unit_elf.h),
 * what set-ID bits and file capabilities make of it, files missing, not
 * executable or unreadable, and the kernel's limit on program headers
 * (asked of the kernel too).
 */
#include "config.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/xattr.h>

#include "unit_image.h"

START_TEST(loader_names)
{
	static const struct {
		const char *interp;
		enum roar_image_kind kind;
	} cases[] = {
		{ "/lib64/ld-linux-x86-64.so.2", ROAR_IMAGE_DYNAMIC },
		{ "/lib/ld-linux-aarch64.so.1", ROAR_IMAGE_DYNAMIC },
		{ "/nix/store/x-glibc-2.38/lib/ld-linux-x86-64.so.2",
		  ROAR_IMAGE_DYNAMIC },
		{ "/lib64/ld64.so.2", ROAR_IMAGE_DYNAMIC },
		{ "/lib/ld.so.1", ROAR_IMAGE_DYNAMIC },
		{ "/lib/ld-musl-x86_64.so.1", ROAR_IMAGE_FOREIGN },
		{ "/lib/ld-uClibc.so.0", ROAR_IMAGE_FOREIGN },
		{ "/system/bin/linker64", ROAR_IMAGE_FOREIGN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unit_elf_write(at("p"),
			       &(struct unit_elf){ .interp = cases[i].interp });
		assert_kinds(at("p"), cases[i].kind, cases[i].kind);
		ck_assert_str_eq(look(at("p")).loader, cases[i].interp);
	}
}
END_TEST

START_TEST(set_id_programs)
{
	struct roar_image img;

	hand_dynamic("p");
	ck_assert_int_eq(chmod(at("p"), 04755), 0);
	img = look(at("p"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SETID);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	ck_assert_str_eq(words(&img), "set-user-ID or set-group-ID program");
	/* Static or not, set-ID wins: it may not run under the filter. */
	hand_static("s");
	ck_assert_int_eq(chmod(at("s"), 02755), 0);
	assert_kinds(at("s"), ROAR_IMAGE_SETID, ROAR_IMAGE_SETID);
	/* Set-group-ID without group execute changes nothing. */
	ck_assert_int_eq(chmod(at("p"), 02745), 0);
	assert_kinds(at("p"), ROAR_IMAGE_DYNAMIC, ROAR_IMAGE_DYNAMIC);
	/* A real program copied and made set-user-ID. */
	if (build_c("dyn", "")) {
		ck_assert_int_eq(chmod(at("dyn"), 04755), 0);
		assert_kinds(at("dyn"), ROAR_IMAGE_SETID, ROAR_IMAGE_SETID);
	}
	/* The kernel ignores set-ID on a script; its interpreter's count. */
	write_text(at("sc"), "#!/bin/true\n", 04755);
	ck_assert_int_eq(look(at("sc")).kind, ROAR_IMAGE_SCRIPT);
	snprintf(img.interp, sizeof(img.interp), "#!%s\n", at("s"));
	write_text(at("sc2"), img.interp, 0755);
	assert_kinds(at("sc2"), ROAR_IMAGE_SCRIPT, ROAR_IMAGE_SETID);
	ck_assert_int_eq(
		roar_image_tracer(&(struct roar_image){
			.kind = ROAR_IMAGE_SCRIPT, .final = ROAR_IMAGE_SETID }),
		ROAR_TRACER_NONE);
}
END_TEST

START_TEST(file_capabilities)
{
	struct vfs_cap_data caps = {
		.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
		.data[0].permitted = 1u << CAP_NET_RAW,
	};
	struct roar_image img;

	hand_dynamic("p");
	if (setxattr(at("p"), "security.capability", &caps, XATTR_CAPS_SZ_2,
		     0)) {
		skip("cannot set file capabilities here (not root?)");
		return;
	}
	img = look(at("p"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_FCAPS);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	ck_assert_str_eq(words(&img), "file capabilities");
	/* As setcap(8) sets them, on a copy of a real program. */
	if (access("/usr/sbin/setcap", X_OK) && access("/sbin/setcap", X_OK)) {
		skip("setcap is not installed (libcap2-bin)");
		return;
	}
	ck_assert(run("cp /bin/ls '%s' && setcap cap_net_raw+ep '%s'", at("ls"),
		      at("ls")));
	assert_kinds(at("ls"), ROAR_IMAGE_FCAPS, ROAR_IMAGE_FCAPS);
}
END_TEST

START_TEST(missing_and_not_executable)
{
	struct roar_image img;
	int r;

	r = roar_image_inspect(&roar_image_io_libc, at("none"), &img);
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_FOUND);
	ck_assert_int_eq(img.final, ROAR_IMAGE_NOT_FOUND);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	hand_static("f");
	r = roar_image_inspect(&roar_image_io_libc, at("f/x"), &img);
	ck_assert_int_eq(r, -ENOTDIR);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_FOUND);

	ck_assert_int_eq(chmod(at("f"), 0644), 0);
	ck_assert_int_eq(roar_image_inspect(&roar_image_io_libc, at("f"), &img),
			 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_EXEC);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	ck_assert_int_eq(mkdir(at("d"), 0755), 0);
	assert_kinds(at("d"), ROAR_IMAGE_NOT_EXEC, ROAR_IMAGE_NOT_EXEC);
	/* A FIFO with execute bits: not waited on, not executable. */
	ck_assert_int_eq(mkfifo(at("fifo"), 0755), 0);
	assert_kinds(at("fifo"), ROAR_IMAGE_NOT_EXEC, ROAR_IMAGE_NOT_EXEC);
	assert_kinds("/dev/null", ROAR_IMAGE_NOT_EXEC, ROAR_IMAGE_NOT_EXEC);
	ck_assert_int_eq(roar_image_inspect(NULL, at("f"), &img), -EINVAL);
	ck_assert_int_eq(roar_image_inspect(&roar_image_io_libc, NULL, &img),
			 -EINVAL);
}
END_TEST

/* An io whose reads fail as set: the libc one otherwise. */
static int fail_read_open; /* -errno for an open that would read */
static int fail_pread;     /* -errno for every pread */

static int
failing_open(const char *path, int flags)
{
	if (!(flags & O_PATH) && fail_read_open)
		return fail_read_open;
	return roar_image_io_libc.open(path, flags);
}

static long
failing_pread(int fd, void *buf, unsigned long n, long off)
{
	if (fail_pread)
		return fail_pread;
	return roar_image_io_libc.pread(fd, buf, n, off);
}

static long
caps_too_large(int fd, const char *name, void *buf, unsigned long n)
{
	return strcmp(name, "security.capability") ? -ENODATA : -ERANGE;
}

START_TEST(unreadable_files)
{
	struct roar_image_io io = roar_image_io_libc;
	struct roar_image img;

	io.open = failing_open;
	io.pread = failing_pread;
	hand_static("p");
	/* Execute-only, as for a user who may not read it. */
	fail_read_open = -EACCES;
	ck_assert_int_eq(roar_image_inspect(&io, at("p"), &img), -EACCES);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_UNREADABLE);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	ck_assert_str_eq(words(&img), "cannot be read");
	/* Its set-ID bits are seen all the same. */
	ck_assert_int_eq(chmod(at("p"), 04711), 0);
	ck_assert_int_eq(roar_image_inspect(&io, at("p"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SETID);
	fail_read_open = 0;
	ck_assert_int_eq(chmod(at("p"), 0755), 0);
	fail_pread = -EIO;
	ck_assert_int_eq(roar_image_inspect(&io, at("p"), &img), -EIO);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_UNREADABLE);
	fail_pread = 0;
	/* Capabilities too large for the buffer are there all the same. */
	io.fgetxattr = caps_too_large;
	ck_assert_int_eq(roar_image_inspect(&io, at("p"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_FCAPS);
}
END_TEST

START_TEST(go_notes_and_sections)
{
	static const char *const go_sections[] = { ".go.buildinfo",
						   ".note.go.buildid",
						   ".gopclntab" };

	unit_elf_write(at("p"), &(struct unit_elf){ .go_note = true });
	assert_kinds(at("p"), ROAR_IMAGE_GO, ROAR_IMAGE_GO);
	unit_elf_write(at("p"), &(struct unit_elf){ .go_note = true,
						    .interp = glibc_loader });
	assert_kinds(at("p"), ROAR_IMAGE_GO, ROAR_IMAGE_GO);
	/* cgo with musl: Go first. */
	unit_elf_write(at("p"), &(struct unit_elf){
					.go_note = true,
					.interp = "/lib/ld-musl-x86_64.so.1" });
	assert_kinds(at("p"), ROAR_IMAGE_GO, ROAR_IMAGE_GO);
	/* After a note of 8-byte alignment. */
	unit_elf_write(at("p"),
		       &(struct unit_elf){ .go_note = true, .note_align = 8 });
	assert_kinds(at("p"), ROAR_IMAGE_GO, ROAR_IMAGE_GO);
	/* Owner Go, but not the build ID. */
	unit_elf_write(at("p"),
		       &(struct unit_elf){ .go_note = true, .note_type = 1 });
	assert_kinds(at("p"), ROAR_IMAGE_STATIC, ROAR_IMAGE_STATIC);
	for (size_t i = 0; i < 3; i++) {
		unit_elf_write(at("p"),
			       &(struct unit_elf){ .section = go_sections[i] });
		assert_kinds(at("p"), ROAR_IMAGE_GO, ROAR_IMAGE_GO);
	}
	unit_elf_write(at("p"), &(struct unit_elf){ .section = ".go.other" });
	assert_kinds(at("p"), ROAR_IMAGE_STATIC, ROAR_IMAGE_STATIC);
	unit_elf_write(at("p"), &(struct unit_elf){ .cls = ELFCLASS32,
						    .section = ".gopclntab" });
	ck_assert_int_eq(look(at("p")).elf_class, ELFCLASS32);
}
END_TEST

/* The 32-bit machine a 64-bit kernel of ours also runs, or 0. */
static uint16_t
compat_machine(void)
{
	switch (unit_elf_our_machine()) {
	case EM_X86_64:
		return EM_386;
	case EM_AARCH64:
		return EM_ARM;
	default:
		return 0;
	}
}

START_TEST(other_abis)
{
	uint16_t compat = compat_machine();
	uint16_t other = unit_elf_our_machine() == EM_AARCH64 ? EM_X86_64
							      : EM_AARCH64;
	struct roar_image img;
	char want[64];

	if (compat) {
		/* 32-bit static: runs, the supervisor can trace it. */
		unit_elf_write(at("p"),
			       &(struct unit_elf){ .cls = ELFCLASS32,
						   .machine = compat });
		img = look(at("p"));
		ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
		ck_assert_int_eq(img.elf_class, ELFCLASS32);
		/* 32-bit dynamic: our 64-bit library cannot load there. */
		unit_elf_write(
			at("p"),
			&(struct unit_elf){ .cls = ELFCLASS32,
					    .machine = compat,
					    .interp = "/lib/ld-linux.so.2" });
		img = look(at("p"));
		ck_assert_int_eq(img.kind, ROAR_IMAGE_FOREIGN);
		snprintf(want, sizeof(want),
			 "program for another ABI (32-bit, ELF machine %u)",
			 compat);
		ck_assert_str_eq(words(&img), want);
		unit_elf_write(at("p"), &(struct unit_elf){ .cls = ELFCLASS32,
							    .machine = compat,
							    .go_note = true });
		ck_assert_int_eq(look(at("p")).kind, ROAR_IMAGE_GO);
	}
	/* Another machine, static or not. */
	unit_elf_write(at("p"), &(struct unit_elf){ .machine = other });
	img = look(at("p"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_FOREIGN);
	ck_assert_int_eq(img.elf_machine, other);
	unit_elf_write(at("p"),
		       &(struct unit_elf){ .machine = other, .go_note = true });
	ck_assert_int_eq(look(at("p")).kind, ROAR_IMAGE_FOREIGN);
	/* Another byte order. */
	unit_elf_write(at("p"), &(struct unit_elf){ .data = ELFDATA2MSB });
	ck_assert_int_eq(look(at("p")).kind, ROAR_IMAGE_FOREIGN);
	/* No byte order, no class: not an ELF the kernel loads. */
	unit_elf_write(at("p"), &(struct unit_elf){ .data = 7 });
	ck_assert_int_eq(look(at("p")).kind, ROAR_IMAGE_SHELL);
}
END_TEST

/*
 * A program that runs: x86-64 code for exit(0) after phnum program
 * headers, the first a PT_LOAD of the whole file, the others PT_NULL.
 */
static void
write_exit0(const char *path, unsigned phnum)
{
	static const unsigned char code[] = { 0xb8, 60,   0, 0, 0, /* mov */
					      0x31, 0xff,          /* xor */
					      0x0f, 0x05 };        /* syscall */
	size_t off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	size_t size = off + sizeof(code);
	unsigned char *buf = calloc(1, size);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));

	ck_assert_ptr_nonnull(buf);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x400000 + off;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = (Elf64_Half)phnum;
	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_X;
	ph->p_vaddr = ph->p_paddr = 0x400000;
	ph->p_filesz = ph->p_memsz = size;
	ph->p_align = 4096;
	memcpy(buf + off, code, sizeof(code));
	unit_write_file(path, buf, size, 0755);
	free(buf);
}

START_TEST(program_header_limit_is_the_kernels)
{
	if (unit_elf_our_machine() != EM_X86_64) {
		skip("the runnable test program is x86-64 code");
		return;
	}
	/* 64 KiB of program headers at most: 1170 of 56 bytes. */
	write_exit0(at("p"), 1170);
	ck_assert_int_eq(look(at("p")).kind, ROAR_IMAGE_STATIC);
	assert_exec_eq(at("p"), 0);
	write_exit0(at("p"), 1171);
	ck_assert_int_eq(look(at("p")).kind, ROAR_IMAGE_SHELL);
	assert_exec_eq(at("p"), 1000 + ENOEXEC);
}
END_TEST

static Suite *
image_kinds_suite(void)
{
	Suite *s = suite_create("image_kinds");
	TCase *kinds = tcase_create("kinds");

	tcase_add_checked_fixture(kinds, setup, teardown);
	tcase_add_test(kinds, loader_names);
	tcase_add_test(kinds, set_id_programs);
	tcase_add_test(kinds, file_capabilities);
	tcase_add_test(kinds, missing_and_not_executable);
	tcase_add_test(kinds, unreadable_files);
	tcase_add_test(kinds, go_notes_and_sections);
	tcase_add_test(kinds, other_abis);
	tcase_add_test(kinds, program_header_limit_is_the_kernels);
	suite_add_tcase(s, kinds);
	return s;
}

int
main(void)
{
	return unit_run(image_kinds_suite());
}
