/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of common/image.c and common/image_elf.c on real programs:
 * built here with cc (dynamic, static, static-pie, another loader) and
 * go (with and without cgo, stripped, without a build ID), and an
 * installed busybox.  Where a compiler or busybox-static is missing,
 * those cases say why on stderr and pass.
 */
#include "config.h"

#include "unit_image.h"

START_TEST(compiled_programs)
{
	struct roar_image img;

	if (!build_c("dyn", "")) {
		skip("cc cannot build a program here");
		return;
	}
	img = look(at("dyn"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_DYNAMIC);
	ck_assert_int_eq(img.final, ROAR_IMAGE_DYNAMIC);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_PRELOAD);
	ck_assert_msg(strstr(img.loader, "ld-linux"), "%s", img.loader);
	ck_assert_str_eq(img.interp, "");
	ck_assert_str_eq(words(&img), "dynamically linked program");
	assert_kinds("/bin/ls", ROAR_IMAGE_DYNAMIC, ROAR_IMAGE_DYNAMIC);

	if (build_c("static", "-static")) {
		img = look(at("static"));
		ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
		ck_assert_int_eq(roar_image_tracer(&img),
				 ROAR_TRACER_SUPERVISOR);
		ck_assert_str_eq(img.loader, "");
		ck_assert_str_eq(words(&img), "static binary");
	} else {
		skip("no static libc to link with (libc6-dev's libc.a)");
	}
	/* static-pie: ET_DYN without PT_INTERP. */
	if (build_c("spie", "-static-pie"))
		assert_kinds(at("spie"), ROAR_IMAGE_STATIC, ROAR_IMAGE_STATIC);
	else
		skip("cc cannot link -static-pie");

	/* A loader that is not glibc's: our library cannot load there. */
	ck_assert(build_c("musl", "-Wl,--dynamic-linker=/lib/ld-musl-x86_64"
				  ".so.1"));
	img = look(at("musl"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_FOREIGN);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_SUPERVISOR);
	ck_assert_str_eq(img.loader, "/lib/ld-musl-x86_64.so.1");
	ck_assert_str_eq(words(&img), "musl or other non-glibc loader "
				      "(/lib/ld-musl-x86_64.so.1)");
}
END_TEST

START_TEST(busybox_is_static)
{
	struct roar_image img;

	if (access("/bin/busybox", X_OK)) {
		skip("/bin/busybox is not installed (busybox-static)");
		return;
	}
	img = look("/bin/busybox");
	/* Debian's busybox package is dynamic; busybox-static is not. */
	if (img.kind == ROAR_IMAGE_DYNAMIC) {
		skip("/bin/busybox is dynamically linked here");
		return;
	}
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
	write_text(at("bb.sh"), "#!/bin/busybox sh\necho hi\n", 0755);
	img = look(at("bb.sh"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(img.final, ROAR_IMAGE_STATIC);
	ck_assert_str_eq(img.interp, "/bin/busybox");
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_SUPERVISOR);
	ck_assert_str_eq(words(&img), "script for /bin/busybox: static binary");
}
END_TEST

START_TEST(go_programs_built_with_go)
{
	static const char hello[] = "package main\n"
				    "import \"os\"\n"
				    "func main() { os.Exit(0) }\n";
	static const char cgo[] = "package main\n"
				  "// #include <stdlib.h>\n"
				  "import \"C\"\n"
				  "func main() { C.abs(1) }\n";
	const char *env;
	char envbuf[3 * PATH_MAX];
	struct roar_image img;

	if (!run("go version >/dev/null 2>&1")) {
		skip("go is not installed (golang-go): the hand-made Go "
		     "notes still are tested");
		return;
	}
	write_text(at("hello.go"), hello, 0644);
	write_text(at("cgo.go"), cgo, 0644);
	snprintf(envbuf, sizeof(envbuf),
		 "HOME='%s' GOCACHE='%s/gocache' GOPATH='%s/gopath' "
		 "GOFLAGS= GO111MODULE=off",
		 dir, dir, dir);
	env = envbuf;
	ck_assert(run("cd '%s' && %s CGO_ENABLED=0 go build -o gostatic "
		      "hello.go",
		      dir, env));
	img = look(at("gostatic"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_GO);
	ck_assert_str_eq(img.loader, "");
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_SUPERVISOR);
	ck_assert_str_eq(words(&img), "Go program");
	/* Stripped, it keeps its note. */
	ck_assert(run("strip -o '%s' '%s'", at("gostrip"), at("gostatic")));
	ck_assert_int_eq(look(at("gostrip")).kind, ROAR_IMAGE_GO);
	/* With cgo: a glibc-dynamic program that is still Go's. */
	if (!run("cd '%s' && %s CGO_ENABLED=1 go build -o gocgo cgo.go "
		 ">/dev/null 2>&1",
		 dir, env)) {
		skip("go cannot build with cgo here");
		return;
	}
	img = look(at("gocgo"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_GO);
	ck_assert_msg(strstr(img.loader, "ld-linux"), "%s", img.loader);
	/* Without a build ID note: its sections still tell. */
	ck_assert(run("cd '%s' && %s CGO_ENABLED=0 go build -ldflags=-buildid= "
		      "-o gonoid hello.go",
		      dir, env));
	ck_assert(
		run("! readelf -n '%s' | grep -q 'GO BUILDID'", at("gonoid")));
	ck_assert_int_eq(look(at("gonoid")).kind, ROAR_IMAGE_GO);
}
END_TEST

static Suite *
image_built_suite(void)
{
	Suite *s = suite_create("image_built");
	TCase *built = tcase_create("built");

	/* Compilers take their time. */
	tcase_add_checked_fixture(built, setup, teardown);
	tcase_set_timeout(built, 120);
	tcase_add_test(built, compiled_programs);
	tcase_add_test(built, busybox_is_static);
	tcase_add_test(built, go_programs_built_with_go);
	suite_add_tcase(s, built);
	return s;
}

int
main(void)
{
	return unit_run(image_built_suite());
}
