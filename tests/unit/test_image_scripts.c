/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of common/image.c on scripts: a #! line followed to the
 * program that runs it, through scripts of scripts to the kernel's depth
 * limit, #! lines read as binfmt_script reads them (and refused where it
 * refuses them), and files without one, which execvp runs with /bin/sh.
 * Each case asks the kernel too, by executing the file.
 */
#include "config.h"

#include "unit_image.h"

/* binfmt_script's buffer: the bytes a #! line is read from. */
#define HEAD 256

START_TEST(scripts_follow_their_interpreter)
{
	char line[PATH_MAX + 16];
	struct roar_image img;

	hand_static("st");
	snprintf(line, sizeof(line), "#!%s -x\necho hi\n", at("st"));
	write_text(at("a.sh"), line, 0755);
	img = look(at("a.sh"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(img.final, ROAR_IMAGE_STATIC);
	ck_assert_str_eq(img.interp, at("st"));
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_SUPERVISOR);
	snprintf(line, sizeof(line), "script for %s: static binary", at("st"));
	ck_assert_str_eq(words(&img), line);
	/* Its dev and ino are the script's own. */
	{
		struct stat st;

		ck_assert_int_eq(stat(at("a.sh"), &st), 0);
		ck_assert(img.dev == st.st_dev && img.ino == st.st_ino);
	}

	/* A script of a script of a dynamic program: preload. */
	hand_dynamic("dyn");
	snprintf(line, sizeof(line), "#!%s\n", at("dyn"));
	write_text(at("b.sh"), line, 0755);
	snprintf(line, sizeof(line), "#! %s\n", at("b.sh"));
	write_text(at("c.sh"), line, 0755);
	img = look(at("c.sh"));
	ck_assert_int_eq(img.final, ROAR_IMAGE_DYNAMIC);
	ck_assert_str_eq(img.interp, at("dyn"));
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_PRELOAD);

	/* A missing interpreter: the exec fails, nobody traces. */
	write_text(at("d.sh"), "#!/nonexistent/roar-interp\n", 0755);
	ck_assert_int_eq(
		roar_image_inspect(&roar_image_io_libc, at("d.sh"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(img.final, ROAR_IMAGE_NOT_FOUND);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	ck_assert_str_eq(words(&img),
			 "script for /nonexistent/roar-interp: not found");
}
END_TEST

/* dir/sN, each the interpreter of the next, s0 run by /bin/true. */
static void
script_chain(int n)
{
	char name[16], line[PATH_MAX + 16];

	write_text(at("s0"), "#!/bin/true\n", 0755);
	for (int i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "s%d", i - 1);
		snprintf(line, sizeof(line), "#!%s\n", at(name));
		snprintf(name, sizeof(name), "s%d", i);
		write_text(at(name), line, 0755);
	}
}

START_TEST(interpreter_depth_is_the_kernels)
{
	struct roar_image img;

	/* s4 runs /bin/true through 5 interpreters; s5 needs 6. */
	script_chain(5);
	img = look(at("s4"));
	ck_assert_int_eq(img.final, ROAR_IMAGE_DYNAMIC);
	ck_assert_str_eq(img.interp, "/bin/true");
	assert_exec_eq(at("s4"), 0);
	img = look(at("s5"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(img.final, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	assert_exec_eq(at("s5"), 1000 + ELOOP);
	ck_assert_msg(strstr(words(&img), "too many levels"), "%s",
		      words(&img));
}
END_TEST

START_TEST(shebang_lines_as_the_kernel_reads_them)
{
#define LINE(s) s, sizeof(s) - 1
	static const struct {
		const char *text;
		size_t len;
		const char *interp; /* NULL: ENOEXEC */
	} cases[] = {
		{ LINE("#!/bin/true\n"), "/bin/true" },
		{ LINE("#!  \t/bin/true  -x  y \n"), "/bin/true" },
		{ LINE("#!/bin/true"), "/bin/true" },
		{ LINE("#!/bin/true\t\n"), "/bin/true" },
		{ LINE("#!/bin/true\0garbage\n"), "/bin/true" },
		{ LINE("#!\n"), NULL },
		{ LINE("#! \t \n"), NULL },
		/* An empty name: a script whose interpreter is missing. */
		{ LINE("#!"), "" },
		{ LINE("#!  "), "" },
	};
#undef LINE
	char text[HEAD + 8];
	struct roar_image img;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unit_write_file(at("x"), cases[i].text, cases[i].len, 0755);
		img = look(at("x"));
		if (cases[i].interp) {
			ck_assert_msg(img.kind == ROAR_IMAGE_SCRIPT, "case %zu",
				      i);
			ck_assert_str_eq(img.interp, cases[i].interp);
			if (*cases[i].interp) {
				assert_exec_eq(at("x"), 0);
				continue;
			}
			ck_assert_int_eq(img.final, ROAR_IMAGE_NOT_FOUND);
			assert_exec_ne(at("x"), 0);
			assert_exec_ne(at("x"), 1000 + ENOEXEC);
		} else {
			ck_assert_msg(img.kind == ROAR_IMAGE_SHELL, "case %zu",
				      i);
			assert_exec_eq(at("x"), 1000 + ENOEXEC);
		}
	}

	/* No newline in 256 bytes, the name running to the end: cut. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "#!/", 3);
	unit_write_file(at("x"), text, HEAD, 0755);
	ck_assert_int_eq(look(at("x")).kind, ROAR_IMAGE_SHELL);
	assert_exec_eq(at("x"), 1000 + ENOEXEC);
	/* The name ending at byte 254, a blank in the last: whole. */
	text[HEAD - 1] = ' ';
	unit_write_file(at("x"), text, HEAD + 4, 0755);
	img = look(at("x"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_uint_eq(strlen(img.interp), HEAD - 3);
	assert_exec_eq(at("x"), 1000 + ENOENT);
}
END_TEST

START_TEST(files_without_shebang_run_with_sh)
{
	struct roar_image img, sh = look("/bin/sh");

	write_text(at("t"), "echo hi\n", 0755);
	img = look(at("t"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SHELL);
	ck_assert_int_eq(img.final, sh.final);
	ck_assert_str_eq(img.interp, "/bin/sh");
	ck_assert_int_eq(roar_image_tracer(&img), roar_image_tracer(&sh));
	ck_assert_msg(!strncmp(words(&img), "no #! line, run by /bin/sh: ", 28),
		      "%s", words(&img));
	assert_exec_eq(at("t"), 1000 + ENOEXEC);
	/* Empty: the same. */
	write_text(at("e"), "", 0755);
	ck_assert_int_eq(look(at("e")).kind, ROAR_IMAGE_SHELL);
	/* An ELF the kernel refuses (a relocatable object) is the same. */
	unit_elf_write(at("o"), &(struct unit_elf){ .type = ET_REL });
	ck_assert_int_eq(look(at("o")).kind, ROAR_IMAGE_SHELL);
	assert_exec_eq(at("o"), 1000 + ENOEXEC);
}
END_TEST

static Suite *
image_scripts_suite(void)
{
	Suite *s = suite_create("image_scripts");
	TCase *kinds = tcase_create("kinds");

	tcase_add_checked_fixture(kinds, setup, teardown);
	tcase_add_test(kinds, scripts_follow_their_interpreter);
	tcase_add_test(kinds, interpreter_depth_is_the_kernels);
	tcase_add_test(kinds, shebang_lines_as_the_kernel_reads_them);
	tcase_add_test(kinds, files_without_shebang_run_with_sh);
	suite_add_tcase(s, kinds);
	return s;
}

int
main(void)
{
	return unit_run(image_scripts_suite());
}
