/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the words over an inspection: roar_image_describe and
 * roar_image_tracer for every kind (common/image.c), and
 * collector/elfcheck.c's reasons a process went untraced and
 * preflight's checks of a command.
 */
#include "config.h"

#include "elfcheck.h"
#include "unit_image.h"

START_TEST(words_and_tracers_of_every_kind)
{
	static const struct {
		enum roar_image_kind kind;
		enum roar_tracer tracer;
		const char *words;
	} cases[] = {
		{ ROAR_IMAGE_DYNAMIC, ROAR_TRACER_PRELOAD,
		  "dynamically linked program" },
		{ ROAR_IMAGE_STATIC, ROAR_TRACER_SUPERVISOR, "static binary" },
		{ ROAR_IMAGE_GO, ROAR_TRACER_SUPERVISOR, "Go program" },
		{ ROAR_IMAGE_SETID, ROAR_TRACER_NONE,
		  "set-user-ID or set-group-ID program" },
		{ ROAR_IMAGE_FCAPS, ROAR_TRACER_NONE, "file capabilities" },
		{ ROAR_IMAGE_NOT_FOUND, ROAR_TRACER_NONE, "not found" },
		{ ROAR_IMAGE_UNREADABLE, ROAR_TRACER_NONE, "cannot be read" },
		{ ROAR_IMAGE_NOT_EXEC, ROAR_TRACER_NONE, "not executable" },
	};
	struct roar_image img = { .elf_class = ELFCLASS64 };
	char buf[8] = "xxxxxxx";

	img.elf_machine = unit_elf_our_machine();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		img.kind = img.final = cases[i].kind;
		ck_assert_int_eq(roar_image_tracer(&img), cases[i].tracer);
		ck_assert_str_eq(words(&img), cases[i].words);
		/* A script takes its interpreter's tracer. */
		img.kind = ROAR_IMAGE_SCRIPT;
		ck_assert_int_eq(roar_image_tracer(&img), cases[i].tracer);
		img.kind = ROAR_IMAGE_SHELL;
		ck_assert_int_eq(roar_image_tracer(&img), cases[i].tracer);
	}
	img.kind = img.final = ROAR_IMAGE_FOREIGN;
	img.elf_class = ELFCLASS64;
	img.elf_machine = unit_elf_our_machine();
	snprintf(img.loader, sizeof(img.loader), "/lib/ld-musl-x.so.1");
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_SUPERVISOR);
	ck_assert_str_eq(
		words(&img),
		"musl or other non-glibc loader (/lib/ld-musl-x.so.1)");
	/* A static program of another ABI: the filter would not see its
	 * calls, so nobody traces it, and the words say why. */
	img.kind = img.final = ROAR_IMAGE_STATIC;
	img.elf_class = ELFCLASS32;
	img.elf_machine = 3;
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	ck_assert_str_eq(words(&img),
			 "static binary for another ABI (32-bit, ELF machine "
			 "3): its system calls are not watched");
	/* Cut to fit, always terminated; nothing written without room. */
	img.kind = img.final = ROAR_IMAGE_STATIC;
	ck_assert_str_eq(roar_image_describe(&img, buf, sizeof(buf)),
			 "static ");
	roar_image_describe(&img, buf, 0);
	ck_assert_str_eq(buf, "static ");
	roar_image_describe(&img, buf, 1);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(collector_words)
{
	char buf[PATH_MAX + 256], want[PATH_MAX + 256];
	struct roar_elf_command c;

	hand_static("st");
	roar_elf_why_untraceable(at("st"), NULL, NULL, buf, sizeof(buf));
	snprintf(want, sizeof(want), "static binary: %s", at("st"));
	ck_assert_str_eq(buf, want);
	/* Found on a relative PATH element, in the process's cwd. */
	ck_assert_int_eq(mkdir(at("bin"), 0755), 0);
	hand_static("bin/tool");
	roar_elf_why_untraceable("tool", "/nonexistent:bin", dir, buf,
				 sizeof(buf));
	snprintf(want, sizeof(want), "static binary: %s", at("bin/tool"));
	ck_assert_str_eq(buf, want);
	roar_elf_why_untraceable("st", ":/nonexistent", dir, buf, sizeof(buf));
	snprintf(want, sizeof(want), "static binary: %s/st", dir);
	ck_assert_str_eq(buf, want);
	roar_elf_why_untraceable("bin/tool", NULL, dir, buf, sizeof(buf));
	snprintf(want, sizeof(want), "static binary: %s/bin/tool", dir);
	ck_assert_str_eq(buf, want);

	ck_assert_int_eq(chmod(at("st"), 04755), 0);
	roar_elf_why_untraceable(at("st"), NULL, NULL, buf, sizeof(buf));
	snprintf(want, sizeof(want), "setuid/setgid program: %s", at("st"));
	ck_assert_str_eq(buf, want);
	unit_elf_write(at("go"), &(struct unit_elf){ .go_note = true });
	roar_elf_why_untraceable(at("go"), NULL, NULL, buf, sizeof(buf));
	snprintf(want, sizeof(want), "Go program: %s", at("go"));
	ck_assert_str_eq(buf, want);
	unit_elf_write(
		at("musl"),
		&(struct unit_elf){ .interp = "/lib/ld-musl-x86_64.so.1" });
	roar_elf_why_untraceable(at("musl"), NULL, NULL, buf, sizeof(buf));
	snprintf(
		want, sizeof(want),
		"musl or other non-glibc loader (/lib/ld-musl-x86_64.so.1): %s",
		at("musl"));
	ck_assert_str_eq(buf, want);
	/* Preload could have: it never announced itself. */
	hand_dynamic("dyn");
	roar_elf_why_untraceable(at("dyn"), NULL, NULL, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "was never announced"), "%s", buf);
	roar_elf_why_untraceable(at("none"), NULL, NULL, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "was never announced"), "%s", buf);

	/* Preflight's two checks. */
	roar_elf_check_command(at("bin/tool"), NULL, &c);
	ck_assert(c.found && c.traceable);
	ck_assert_str_eq(c.trace_detail,
			 "traced by the seccomp supervisor: static binary");
	roar_elf_check_command("tool", at("bin"), &c);
	ck_assert(c.found && c.traceable);
	snprintf(want, sizeof(want), "found and executable: %s",
		 at("bin/tool"));
	ck_assert_str_eq(c.found_detail, want);
	roar_elf_check_command(at("dyn"), NULL, &c);
	ck_assert(c.found && c.traceable);
	ck_assert_str_eq(c.trace_detail,
			 "traced by preload: dynamically linked program");
	roar_elf_check_command(at("st"), NULL, &c);
	ck_assert(c.found && !c.traceable);
	ck_assert_str_eq(c.trace_detail,
			 "set-user-ID or set-group-ID program: it runs "
			 "untraced (listed with the reason)");
	roar_elf_check_command("roar-no-such-command", at("bin"), &c);
	ck_assert(!c.found && !c.traceable);
	ck_assert_str_eq(c.found_detail,
			 "roar-no-such-command was not found on PATH");
	write_text(at("bin/text"), "echo\n", 0644);
	roar_elf_check_command("text", at("bin"), &c);
	ck_assert(!c.found);
	snprintf(want, sizeof(want), "%s is not executable", at("bin/text"));
	ck_assert_str_eq(c.found_detail, want);
	/* A script without #!: found, and traced as /bin/sh is. */
	ck_assert_int_eq(chmod(at("bin/text"), 0755), 0);
	roar_elf_check_command("text", at("bin"), &c);
	ck_assert(c.found);
	ck_assert_msg(strstr(c.trace_detail, "no #! line, run by /bin/sh"),
		      "%s", c.trace_detail);
}
END_TEST

static Suite *
image_words_suite(void)
{
	Suite *s = suite_create("image_words");
	TCase *use = tcase_create("use");

	tcase_add_checked_fixture(use, setup, teardown);
	tcase_add_test(use, words_and_tracers_of_every_kind);
	tcase_add_test(use, collector_words);
	suite_add_tcase(s, use);
	return s;
}

int
main(void)
{
	return unit_run(image_words_suite());
}
