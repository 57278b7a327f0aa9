/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of common/image.c and common/image_elf.c (who traces a
 * program about to be executed) and of collector/elfcheck.c's words
 * over them.  Real files: programs built here with cc (and go, when it
 * is installed; else those cases say why on stderr and pass), copies
 * made set-ID or given file capabilities, scripts, and hand-made ELF
 * files (unit_elf.h) for what no compiler here makes: Go notes without
 * Go, other ABIs, broken headers.  Where the kernel or execvp is the
 * judge, the test asks it too: the interpreter depth limit, the #! lines
 * it refuses, the file execvp picks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "roar/image.h"
#include "elfcheck.h"
#include "unit.h"
#include "unit_elf.h"

/* binfmt_script's buffer: the bytes a #! line is read from. */
#define HEAD 256

static char dir[PATH_MAX];

static void
setup(void)
{
	unit_mkdtemp(dir, sizeof(dir), "image");
}

static void
teardown(void)
{
	unit_rmtree(dir);
}

/* dir/name, in one of a few rotating buffers. */
static const char *
at(const char *name)
{
	static char bufs[8][PATH_MAX + 64];
	static unsigned int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static struct roar_image
look(const char *path)
{
	struct roar_image img;

	roar_image_inspect(&roar_image_io_libc, path, &img);
	return img;
}

static const char *
words(const struct roar_image *img)
{
	static char buf[PATH_MAX + 256];

	return roar_image_describe(img, buf, sizeof(buf));
}

#define assert_kinds(path, k, f)                                             \
	do {                                                                 \
		struct roar_image img_ = look(path);                         \
		ck_assert_msg(img_.kind == (k) && img_.final == (f),         \
			      "%s: kind %d final %d (%s), not %d %d", path,  \
			      img_.kind, img_.final, words(&img_), (int)(k), \
			      (int)(f));                                     \
	} while (0)

static void
write_text(const char *path, const char *text, mode_t mode)
{
	unit_write_file(path, text, strlen(text), mode);
}

static void
skip(const char *why)
{
	fprintf(stderr, "# skipped: %s\n", why);
}

/* Run a shell command line, made like printf: whether it succeeded. */
static bool __attribute__((format(printf, 1, 2))) run(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0;
}

/* Build a C program that does nothing into dir/name with cc flags. */
static bool
build_c(const char *name, const char *flags)
{
	write_text(at("nothing.c"), "int main(void) { return 0; }\n", 0644);
	return run("cc %s -o '%s' '%s' >/dev/null 2>&1", flags, at(name),
		   at("nothing.c"));
}

/* How execve(path) ends in a child: its exit status, or 1000 + errno. */
static int
exec_result(const char *path)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };
		char *envp[] = { NULL };

		execve(path, argv, envp);
		_exit(errno > 0 && errno < 55 ? 200 + errno : 199);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) >= 200)
		return 1000 + WEXITSTATUS(status) - 200;
	return WEXITSTATUS(status);
}

static const char *const glibc_loader = "/lib64/ld-linux-x86-64.so.2";

/* Hand-made files: the kinds that need no compiler. */
static void
hand_static(const char *name)
{
	unit_elf_write(at(name), &(struct unit_elf){ 0 });
}

static void
hand_dynamic(const char *name)
{
	unit_elf_write(at(name), &(struct unit_elf){ .interp = glibc_loader });
}

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
	ck_assert_int_eq(exec_result(at("s4")), 0);
	img = look(at("s5"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(img.final, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(roar_image_tracer(&img), ROAR_TRACER_NONE);
	ck_assert_int_eq(exec_result(at("s5")), 1000 + ELOOP);
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
				ck_assert_int_eq(exec_result(at("x")), 0);
				continue;
			}
			ck_assert_int_eq(img.final, ROAR_IMAGE_NOT_FOUND);
			ck_assert_int_ne(exec_result(at("x")), 0);
			ck_assert_int_ne(exec_result(at("x")), 1000 + ENOEXEC);
		} else {
			ck_assert_msg(img.kind == ROAR_IMAGE_SHELL, "case %zu",
				      i);
			ck_assert_int_eq(exec_result(at("x")), 1000 + ENOEXEC);
		}
	}

	/* No newline in 256 bytes, the name running to the end: cut. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "#!/", 3);
	unit_write_file(at("x"), text, HEAD, 0755);
	ck_assert_int_eq(look(at("x")).kind, ROAR_IMAGE_SHELL);
	ck_assert_int_eq(exec_result(at("x")), 1000 + ENOEXEC);
	/* The name ending at byte 254, a blank in the last: whole. */
	text[HEAD - 1] = ' ';
	unit_write_file(at("x"), text, HEAD + 4, 0755);
	img = look(at("x"));
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_uint_eq(strlen(img.interp), HEAD - 3);
	ck_assert_int_eq(exec_result(at("x")), 1000 + ENOENT);
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
	ck_assert_int_eq(exec_result(at("t")), 1000 + ENOEXEC);
	/* Empty: the same. */
	write_text(at("e"), "", 0755);
	ck_assert_int_eq(look(at("e")).kind, ROAR_IMAGE_SHELL);
	/* An ELF the kernel refuses (a relocatable object) is the same. */
	unit_elf_write(at("o"), &(struct unit_elf){ .type = ET_REL });
	ck_assert_int_eq(look(at("o")).kind, ROAR_IMAGE_SHELL);
	ck_assert_int_eq(exec_result(at("o")), 1000 + ENOEXEC);
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
	ck_assert_int_eq(exec_result(at("p")), 0);
	write_exit0(at("p"), 1171);
	ck_assert_int_eq(look(at("p")).kind, ROAR_IMAGE_SHELL);
	ck_assert_int_eq(exec_result(at("p")), 1000 + ENOEXEC);
}
END_TEST

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

/* The libc io, counting the files it reads. */
static unsigned int reads;

static int
counting_open(const char *path, int flags)
{
	if (!(flags & O_PATH))
		reads++;
	return roar_image_io_libc.open(path, flags);
}

START_TEST(cache_hits_and_invalidation)
{
	static struct roar_image_cache c;
	struct roar_image_io io = roar_image_io_libc;
	struct roar_image img;
	struct timespec old[2] = { { .tv_sec = 1000000 },
				   { .tv_sec = 1000000 } };
	char line[PATH_MAX + 16];

	memset(&c, 0, sizeof(c));
	io.open = counting_open;
	hand_static("p");
	ck_assert_int_eq(roar_image_inspect_cached(&c, &io, at("p"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
	ck_assert_uint_eq(reads, 1);
	ck_assert_int_eq(roar_image_inspect_cached(&c, &io, at("p"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
	ck_assert_uint_eq(reads, 1);
	ck_assert_uint_eq(c.hits, 1);
	ck_assert_uint_eq(c.misses, 1);

	/* A new mtime: read again. */
	ck_assert_int_eq(utimensat(AT_FDCWD, at("p"), old, 0), 0);
	roar_image_inspect_cached(&c, &io, at("p"), &img);
	ck_assert_uint_eq(reads, 2);
	/* chmod changes only ctime: read again, and set-ID now. */
	usleep(20000);
	ck_assert_int_eq(chmod(at("p"), 04755), 0);
	roar_image_inspect_cached(&c, &io, at("p"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SETID);
	ck_assert_uint_eq(reads, 3);
	/* Rewritten in place, same size, mtime put back: ctime tells. */
	usleep(20000);
	ck_assert_int_eq(chmod(at("p"), 0755), 0);
	roar_image_inspect_cached(&c, &io, at("p"), &img);
	usleep(20000);
	{
		unsigned char buf[4096];
		size_t n = unit_elf_build(
			buf, &(struct unit_elf){ .go_note = true }, NULL);
		int fd = open(at("p"), O_WRONLY | O_CLOEXEC);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, 0), 0);
		ck_assert_int_eq(pwrite(fd, buf, n, 0), (ssize_t)n);
		close(fd);
		ck_assert_int_eq(utimensat(AT_FDCWD, at("p"), old, 0), 0);
	}
	roar_image_inspect_cached(&c, &io, at("p"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_GO);

	/* A script is cached apart from its interpreter: an interpreter
	 * replaced is seen while the script is not read again. */
	hand_static("interp");
	snprintf(line, sizeof(line), "#!%s\n", at("interp"));
	write_text(at("s"), line, 0755);
	roar_image_inspect_cached(&c, &io, at("s"), &img);
	ck_assert_int_eq(img.final, ROAR_IMAGE_STATIC);
	hand_dynamic("interp.new");
	ck_assert_int_eq(rename(at("interp.new"), at("interp")), 0);
	reads = 0;
	roar_image_inspect_cached(&c, &io, at("s"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(img.final, ROAR_IMAGE_DYNAMIC);
	ck_assert_uint_eq(reads, 1);

	/* More files than slots: still right, old ones read again. */
	for (int i = 0; i < 2 * ROAR_IMAGE_CACHE_SLOTS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "many%d", i);
		if (i % 2)
			hand_static(name);
		else
			hand_dynamic(name);
		roar_image_inspect_cached(&c, &io, at(name), &img);
		ck_assert_int_eq(img.kind, i % 2 ? ROAR_IMAGE_STATIC
						 : ROAR_IMAGE_DYNAMIC);
	}
	reads = 0;
	roar_image_inspect_cached(&c, &io, at("many0"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_DYNAMIC);
	ck_assert_uint_eq(reads, 1);
	/* What cannot be inspected is not cached. */
	roar_image_inspect_cached(&c, &io, at("none"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_FOUND);
}
END_TEST

START_TEST(resolve_like_execvp)
{
	char out[PATH_MAX], pathvar[4 * PATH_MAX], small[PATH_MAX];
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const struct roar_image_io *io = &roar_image_io_libc;

	ck_assert_int_ge(here, 0);
	ck_assert_int_eq(mkdir(at("a"), 0755), 0);
	ck_assert_int_eq(mkdir(at("b"), 0755), 0);
	ck_assert_int_eq(mkdir(at("d"), 0755), 0);
	ck_assert_int_eq(mkdir(at("d/prog"), 0755), 0);
	write_text(at("a/prog"), "#!/bin/sh\nexit 5\n", 0644);
	write_text(at("b/prog"), "#!/bin/sh\nexit 7\n", 0755);

	/* Missing, a directory, not executable: skipped, like execvp. */
	snprintf(pathvar, sizeof(pathvar), "%s:%s:%s:%s", at("missing"),
		 at("d"), at("a"), at("b"));
	ck_assert_int_eq(
		roar_image_resolve(io, "prog", pathvar, out, sizeof(out)), 0);
	ck_assert_str_eq(out, at("b/prog"));
	ck_assert(
		run("PATH='%s' /bin/sh -c 'exec prog'; test $? = 7", pathvar));
	/* Only not executable ones: EACCES, naming the first. */
	snprintf(pathvar, sizeof(pathvar), "%s:%s:%s", at("missing"), at("a"),
		 at("d"));
	ck_assert_int_eq(
		roar_image_resolve(io, "prog", pathvar, out, sizeof(out)),
		-EACCES);
	ck_assert_str_eq(out, at("a/prog"));
	ck_assert_int_eq(
		roar_image_resolve(io, "prog", at("missing"), out, sizeof(out)),
		-ENOENT);
	ck_assert_int_eq(roar_image_resolve(io, "", pathvar, out, sizeof(out)),
			 -ENOENT);

	/* An empty element, first, inner or last: the working directory. */
	ck_assert_int_eq(chdir(at("b")), 0);
	ck_assert_int_eq(roar_image_resolve(io, "prog", ":/nonexistent", out,
					    sizeof(out)),
			 0);
	ck_assert_str_eq(out, "./prog");
	ck_assert_int_eq(roar_image_resolve(io, "prog", "/nonexistent::/x", out,
					    sizeof(out)),
			 0);
	ck_assert_str_eq(out, "./prog");
	ck_assert_int_eq(roar_image_resolve(io, "prog", "/nonexistent:", out,
					    sizeof(out)),
			 0);
	ck_assert_int_eq(roar_image_resolve(io, "prog", "", out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "./prog");
	/* A relative element is taken from the working directory. */
	ck_assert_int_eq(
		roar_image_resolve(io, "prog", "../a:../b", out, sizeof(out)),
		0);
	ck_assert_str_eq(out, "../b/prog");
	ck_assert_int_eq(fchdir(here), 0);
	close(here);

	/* A name with a slash is not searched for. */
	ck_assert_int_eq(roar_image_resolve(io, at("b/prog"), "/nonexistent",
					    out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, at("b/prog"));
	ck_assert_int_eq(
		roar_image_resolve(io, at("a/prog"), NULL, out, sizeof(out)),
		-EACCES);
	ck_assert_int_eq(
		roar_image_resolve(io, at("none"), NULL, out, sizeof(out)),
		-ENOENT);
	/* No PATH: glibc's /bin:/usr/bin. */
	ck_assert_int_eq(roar_image_resolve(io, "sh", NULL, out, sizeof(out)),
			 0);
	ck_assert_msg(!strcmp(out, "/bin/sh") || !strcmp(out, "/usr/bin/sh"),
		      "%s", out);
	/* A candidate too long for out is skipped. */
	snprintf(pathvar, sizeof(pathvar), "%s/%0200d:%s", dir, 0, at("b"));
	ck_assert_int_eq(roar_image_resolve(io, "prog", pathvar, small,
					    strlen(at("b/prog")) + 1),
			 0);
	ck_assert_str_eq(small, at("b/prog"));
}
END_TEST

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

/*
 * Raw system calls, as the library makes them: errno is put back as it
 * was, so that any errno seen changed after an inspection was the
 * module's own doing.
 */
#define RAW(call)                    \
	do {                         \
		int saved_ = errno;  \
		long r_ = (call);    \
		if (r_ < 0)          \
			r_ = -errno; \
		errno = saved_;      \
		return r_;           \
	} while (0)

static int
raw_open(const char *path, int flags)
{
	RAW(syscall(SYS_openat, AT_FDCWD, path, flags, 0));
}

static int
raw_close(int fd)
{
	RAW(syscall(SYS_close, fd));
}

static long
raw_pread(int fd, void *buf, unsigned long n, long off)
{
	RAW(syscall(SYS_pread64, fd, buf, n, off));
}

static int
raw_fstat(int fd, struct stat *st)
{
	RAW(syscall(SYS_fstat, fd, st));
}

static long
raw_fgetxattr(int fd, const char *name, void *buf, unsigned long n)
{
	RAW(syscall(SYS_fgetxattr, fd, name, buf, n));
}

static int
raw_access(const char *path, int mode)
{
	RAW(syscall(SYS_faccessat, AT_FDCWD, path, mode, 0));
}

START_TEST(raw_system_calls_and_errno)
{
	struct roar_image_io io = {
		.open = raw_open,
		.close = raw_close,
		.pread = raw_pread,
		.fstat = raw_fstat,
		.fgetxattr = raw_fgetxattr,
		.access = raw_access,
	};
	struct roar_image img;
	char out[PATH_MAX], line[PATH_MAX + 16];

	hand_static("st");
	hand_dynamic("dyn");
	snprintf(line, sizeof(line), "#!%s\n", at("st"));
	write_text(at("s"), line, 0755);
	write_text(at("nx"), "echo\n", 0644);
	errno = 4242;
	ck_assert_int_eq(roar_image_inspect(&io, at("st"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
	ck_assert_int_eq(roar_image_inspect(&io, at("dyn"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_DYNAMIC);
	ck_assert_int_eq(roar_image_inspect(&io, at("s"), &img), 0);
	ck_assert_int_eq(img.final, ROAR_IMAGE_STATIC);
	ck_assert_int_eq(roar_image_inspect(&io, at("none"), &img), -ENOENT);
	ck_assert_int_eq(roar_image_inspect(&io, at("nx"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_EXEC);
	ck_assert_int_eq(roar_image_resolve(&io, "sh", NULL, out, sizeof(out)),
			 0);
	ck_assert_int_eq(roar_image_resolve(&io, "none", dir, out, sizeof(out)),
			 -ENOENT);
	ck_assert_int_eq(errno, 4242);
	/* Without access: the mode's execute bits. */
	io.access = NULL;
	ck_assert_int_eq(roar_image_inspect(&io, at("nx"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_EXEC);
	ck_assert_int_eq(roar_image_inspect(&io, at("st"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
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
image_suite(void)
{
	Suite *s = suite_create("image");
	TCase *kinds = tcase_create("kinds");
	TCase *built = tcase_create("built");
	TCase *damage = tcase_create("damage");
	TCase *use = tcase_create("use");

	tcase_add_checked_fixture(kinds, setup, teardown);
	tcase_add_test(kinds, loader_names);
	tcase_add_test(kinds, set_id_programs);
	tcase_add_test(kinds, file_capabilities);
	tcase_add_test(kinds, scripts_follow_their_interpreter);
	tcase_add_test(kinds, interpreter_depth_is_the_kernels);
	tcase_add_test(kinds, shebang_lines_as_the_kernel_reads_them);
	tcase_add_test(kinds, files_without_shebang_run_with_sh);
	tcase_add_test(kinds, missing_and_not_executable);
	tcase_add_test(kinds, unreadable_files);
	tcase_add_test(kinds, go_notes_and_sections);
	tcase_add_test(kinds, other_abis);
	tcase_add_test(kinds, program_header_limit_is_the_kernels);
	suite_add_tcase(s, kinds);

	/* Compilers take their time. */
	tcase_add_checked_fixture(built, setup, teardown);
	tcase_set_timeout(built, 120);
	tcase_add_test(built, compiled_programs);
	tcase_add_test(built, busybox_is_static);
	tcase_add_test(built, go_programs_built_with_go);
	suite_add_tcase(s, built);

	tcase_set_timeout(damage, 60);
	tcase_add_test(damage, broken_headers_are_refused);
	tcase_add_test(damage, random_damage_never_crashes);
	suite_add_tcase(s, damage);

	tcase_add_checked_fixture(use, setup, teardown);
	tcase_add_test(use, cache_hits_and_invalidation);
	tcase_add_test(use, resolve_like_execvp);
	tcase_add_test(use, words_and_tracers_of_every_kind);
	tcase_add_test(use, raw_system_calls_and_errno);
	tcase_add_test(use, collector_words);
	suite_add_tcase(s, use);
	return s;
}

int
main(void)
{
	return unit_run(image_suite());
}
