/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the fuzzer's seed corpus: connection streams built with the
 * preload library's own packers (preload/event.c), so every seed is a
 * frame sequence the library really sends.  Each seed is one
 * configuration byte (see fuzz_frames.c) and the frames of one scenario:
 * a traced command's life, forks, execs that fail, spawn subjects, odd
 * paths, floods of hellos, drops.  The pids are those of the fuzzer's fake
 * kernel (ROOT = 100, a binary tree below it), so the identity checks
 * accept some claims and refuse others.
 *   gen_corpus DIR
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"

#define ROOT 100

/* One seed under construction. */
static unsigned char seed[1 << 16];
static size_t seed_len;
static const char *outdir;
static unsigned nseeds;

static void
seed_begin(unsigned cfg)
{
	seed[0] = (unsigned char)cfg;
	seed_len = 1;
}

/* Append one frame f built in buf (must have fitted). */
static void
add(struct roar_frame *f)
{
	if (roar_frame_finish(f) != 0 || f->len > sizeof(seed) - seed_len) {
		fprintf(stderr, "gen_corpus: frame does not fit\n");
		exit(1);
	}
	memcpy(seed + seed_len, f->data, f->len);
	seed_len += f->len;
}

static void
seed_end(const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, seed, seed_len) != (ssize_t)seed_len ||
	    close(fd) != 0) {
		perror(path);
		exit(1);
	}
	nseeds++;
}

static unsigned char fbuf[1 << 15];

static struct roar_frame *
frame(void)
{
	static struct roar_frame f;

	roar_frame_init(&f, fbuf, sizeof(fbuf));
	return &f;
}

static void
file_ev(pid_t pid, pid_t tid, enum roar_kind kind, const char *path,
	const char *via)
{
	struct roar_event_ids ids = { pid, tid };
	struct roar_frame *f = frame();

	roar_event_file(f, &ids, kind, path, strlen(path), via);
	add(f);
}

static void
hello_exec(pid_t pid, pid_t ppid, char *const *argv, char *const *env, double t)
{
	struct roar_event_ids ids = { pid, pid };
	struct roar_hello h = {
		.ppid = ppid,
		.origin = ROAR_ORIGIN_EXEC,
		.argv = argv,
		.envp = env,
		.cwd = "/home/u/src",
		.exe = argv[0],
		.time = t,
	};
	struct roar_frame *f = frame();

	roar_event_hello(f, &ids, &h);
	add(f);
}

static void
hello_fork(pid_t pid, pid_t ppid, double t, bool late, uint64_t pidns)
{
	struct roar_event_ids ids = { pid, pid };
	struct roar_hello h = {
		.ppid = ppid,
		.origin = ROAR_ORIGIN_FORK,
		.time = t,
		.late = late,
		.pidns = pidns,
	};
	struct roar_frame *f = frame();

	roar_event_hello(f, &ids, &h);
	add(f);
}

static void
fork_ev(pid_t pid, pid_t child)
{
	struct roar_event_ids ids = { pid, pid };
	struct roar_frame *f = frame();

	roar_event_fork(f, &ids, child);
	add(f);
}

static void
exec_ev(pid_t pid, pid_t subject, pid_t ppid, const char *exe,
	char *const *argv, double t)
{
	struct roar_event_ids ids = { pid, pid };
	struct roar_frame *f = frame();

	roar_event_exec(f, &ids, subject, ppid, exe, argv, t);
	add(f);
}

static void
exec_failed_ev(pid_t pid, int err, double t)
{
	struct roar_event_ids ids = { pid, pid };
	struct roar_frame *f = frame();

	roar_event_exec_failed(f, &ids, err, t);
	add(f);
}

static void
exit_ev(pid_t pid, pid_t ppid, int status, double t)
{
	struct roar_event_ids ids = { pid, pid };
	struct roar_frame *f = frame();

	roar_event_exit(f, &ids, ppid, status, t, 0);
	add(f);
}

static void
reaped_ev(pid_t pid, pid_t child, int status)
{
	struct roar_event_ids ids = { pid, pid };
	struct roar_frame *f = frame();

	roar_event_reaped(f, &ids, child, status);
	add(f);
}

static void
dropped_ev(pid_t pid, uint64_t n)
{
	struct roar_event_ids ids = { pid, pid };
	struct roar_frame *f = frame();

	roar_event_dropped(f, &ids, n);
	add(f);
}

static char *const sh_argv[] = { "/bin/sh", "-c", "cat a | sort > b", NULL };
static char *const cat_argv[] = { "/bin/cat", "a", NULL };
static char *const sort_argv[] = { "/usr/bin/sort", NULL };
static char *const env[] = { "PATH=/usr/bin:/bin", "HOME=/home/u",
			     "API_TOKEN=hunter2", "LANG=C.UTF-8", NULL };

/* sh -c 'cat a | sort > b' from the root's side of the socket. */
static void
pipeline(pid_t root)
{
	hello_exec(root, 50, sh_argv, env, 10.0);
	file_ev(root, root, ROAR_KIND_READ, "/etc/ld.so.cache", "open");
	fork_ev(root, 101);
	fork_ev(root, 102);
	reaped_ev(root, 101, 0);
	reaped_ev(root, 102, 0);
	file_ev(root, root, ROAR_KIND_WRITE, "/home/u/src/b", "open");
	exit_ev(root, 50, 0, 11.0);
}

/* The children's side of the same pipeline. */
static void
pipeline_children(void)
{
	hello_fork(101, ROOT, 10.1, false, 0);
	exec_ev(101, 0, ROOT, "/bin/cat", cat_argv, 10.2);
	hello_exec(101, ROOT, cat_argv, env, 10.25);
	file_ev(101, 101, ROAR_KIND_READ, "/home/u/src/a", "open");
	exit_ev(101, ROOT, 0, 10.5);
	hello_fork(102, ROOT, 10.1, false, 0);
	exec_ev(102, 0, ROOT, "/usr/bin/sort", sort_argv, 10.2);
	hello_exec(102, ROOT, sort_argv, env, 10.3);
	file_ev(102, 103, ROAR_KIND_READ, "/tmp/sortXXXX", "open");
	file_ev(102, 102, ROAR_KIND_WRITE, "/home/u/src/b", NULL);
	exit_ev(102, ROOT, 0, 10.6);
}

int
main(int argc, char **argv)
{
	static const unsigned cfgs[] = { 0x00, 0x01, 0x03, 0x0f, 0x10, 0x25 };
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];

	/* Every scenario under a few read sizes and peers. */
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		seed_begin(cfgs[i]);
		pipeline(ROOT);
		snprintf(name, sizeof(name), "pipeline-%02x", cfgs[i]);
		seed_end(name);

		seed_begin(cfgs[i]);
		pipeline(ROOT);
		pipeline_children();
		snprintf(name, sizeof(name), "pipeline-all-%02x", cfgs[i]);
		seed_end(name);
	}

	/* One frame of each kind, alone. */
	seed_begin(0);
	hello_exec(ROOT, 50, sh_argv, env, 1.0);
	seed_end("one-hello-exec");
	seed_begin(0);
	hello_fork(101, ROOT, 1.0, true, 4026531836u);
	seed_end("one-hello-fork-late-pidns");
	seed_begin(0);
	file_ev(ROOT, ROOT, ROAR_KIND_READ, "/etc/passwd", NULL);
	seed_end("one-read");
	seed_begin(0);
	file_ev(ROOT, 105, ROAR_KIND_WRITE, "/tmp/out", "rename");
	seed_end("one-write");
	seed_begin(0);
	file_ev(ROOT, ROOT, ROAR_KIND_OPEN_READ, "/etc/hosts", NULL);
	seed_end("one-open-read");
	seed_begin(0);
	fork_ev(ROOT, 101);
	seed_end("one-fork");
	seed_begin(0);
	exec_ev(ROOT, 0, 50, "/bin/true", cat_argv, 1.0);
	seed_end("one-exec");
	seed_begin(0);
	exec_failed_ev(ROOT, ENOENT, 1.0);
	seed_end("one-exec-failed");
	seed_begin(0);
	exit_ev(ROOT, 50, 3, 1.0);
	seed_end("one-exit");
	seed_begin(0);
	reaped_ev(ROOT, 101, 0x0900);
	seed_end("one-reaped");
	seed_begin(0);
	dropped_ev(ROOT, 17);
	seed_end("one-dropped");

	/* An exec that fails, then one that works, then a retry. */
	seed_begin(0);
	hello_exec(ROOT, 50, sh_argv, env, 1.0);
	exec_ev(ROOT, 0, 50, "/nonexistent", cat_argv, 2.0);
	exec_failed_ev(ROOT, ENOENT, 2.0);
	exec_ev(ROOT, 0, 50, "/bin/cat", cat_argv, 3.0);
	hello_exec(ROOT, 50, cat_argv, env, 3.1);
	exec_ev(ROOT, 0, 50, "/usr/bin/sort", sort_argv, 4.0);
	seed_end("exec-retries");

	/* posix_spawn: the parent speaks for its child's exec. */
	seed_begin(0);
	hello_exec(ROOT, 50, sh_argv, env, 1.0);
	fork_ev(ROOT, 101);
	exec_ev(ROOT, 101, ROOT, "/bin/cat", cat_argv, 1.5);
	exec_ev(ROOT, 300, ROOT, "/bin/cat", cat_argv, 1.5);
	reaped_ev(ROOT, 101, 0);
	seed_end("spawn-subject");

	/* A vfork child announced only by its exec and exit. */
	seed_begin(0);
	exec_ev(103, 0, 101, "/bin/cat", cat_argv, 1.5);
	exit_ev(103, 101, 1, 2.0);
	seed_end("vfork-child");

	/* Paths that are not UTF-8 (bin), ours (excluded), empty. */
	seed_begin(0);
	file_ev(ROOT, ROOT, ROAR_KIND_READ, "/tmp/\xff\xfe odd", NULL);
	file_ev(ROOT, ROOT, ROAR_KIND_WRITE, "/tmp/roar-sock/s.1", NULL);
	file_ev(ROOT, ROOT, ROAR_KIND_WRITE, "/tmp/report.msgpack", NULL);
	file_ev(ROOT, ROOT, ROAR_KIND_READ, "", NULL);
	file_ev(ROOT, ROOT, ROAR_KIND_READ, "/tmp/\xc3\xa9t\xc3\xa9", NULL);
	seed_end("odd-paths");

	/* The same file from many threads and both ways. */
	seed_begin(0);
	for (int t = 0; t < 12; t++)
		file_ev(ROOT, ROOT + t,
			t % 3 ? ROAR_KIND_READ : ROAR_KIND_WRITE, "/tmp/shared",
			NULL);
	seed_end("threads-one-file");

	/* A flood of hellos and execs (the history caps). */
	seed_begin(0);
	for (int i = 0; i < 40; i++) {
		hello_exec(ROOT, 50, cat_argv, NULL, 1.0 + i);
		exec_ev(ROOT, 0, 50, "/bin/cat", cat_argv, 1.5 + i);
	}
	seed_end("hello-flood");

	/* Out of order: the child speaks before its parent's fork event. */
	seed_begin(0);
	hello_fork(102, ROOT, 5.0, false, 0);
	file_ev(102, 102, ROAR_KIND_READ, "/etc/group", NULL);
	hello_exec(ROOT, 50, sh_argv, env, 1.0);
	fork_ev(ROOT, 102);
	exit_ev(102, ROOT, 0, 6.0);
	reaped_ev(ROOT, 102, 0);
	seed_end("child-first");

	/* Claims the identity rules refuse: pid 1, the collector, the
	 * launcher, a pid the kernel does not have. */
	seed_begin(0);
	fork_ev(ROOT, 1);
	fork_ev(ROOT, 2);
	fork_ev(ROOT, 50);
	fork_ev(ROOT, 4000);
	reaped_ev(ROOT, 1, 0);
	exec_ev(ROOT, 2, 50, "/bin/sh", sh_argv, 1.0);
	seed_end("refused-claims");

	/* A sender in a PID namespace of its own (cfg 0x1_: peer 105, which
	 * calls itself 6). */
	seed_begin(0x10 | 0x02);
	hello_fork(6, 1, 1.0, false, 4026532000u);
	file_ev(6, 6, ROAR_KIND_READ, "/etc/os-release", NULL);
	fork_ev(6, 7);
	exit_ev(6, 1, 0, 2.0);
	seed_end("pidns-alias");

	/* Drops piling up, and an exit status out of range. */
	seed_begin(0);
	dropped_ev(ROOT, 1);
	dropped_ev(ROOT, UINT64_MAX);
	exit_ev(ROOT, 50, -1, 1.0);
	reaped_ev(ROOT, 101, 0x7f);
	seed_end("drops-and-odd-status");

	printf("gen_corpus: %u seeds in %s\n", nseeds, outdir);
	return 0;
}
