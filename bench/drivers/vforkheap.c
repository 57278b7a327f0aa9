/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spawn-with-a-big-heap driver:  vforkheap vfork|spawn COUNT HEAP_MIB PROGRAM
 * Allocates HEAP_MIB MiB with malloc() and touches every page, then times
 * only the spawn loop: COUNT times vfork() + execv(PROGRAM) in the child
 * (mode "vfork") or posix_spawn(PROGRAM) (mode "spawn"), waitpid() and a
 * check for exit status 0 in the parent.  Prints the loop's elapsed time
 * (CLOCK_MONOTONIC) on stdout as "loop_seconds=<float>": a tracer that
 * turns vfork into fork pays for copying the page tables of the heap on
 * every spawn, which whole-command wall time (dominated by the touch)
 * would hide.
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	int count, spawn, status;
	size_t size;
	char *heap;
	double t0, t1;

	if (argc != 5 || (strcmp(argv[1], "vfork") && strcmp(argv[1], "spawn"))) {
		fprintf(stderr,
		    "usage: vforkheap vfork|spawn COUNT HEAP_MIB PROGRAM\n");
		return 2;
	}
	spawn = !strcmp(argv[1], "spawn");
	count = atoi(argv[2]);
	size = (size_t)atol(argv[3]) << 20;
	heap = malloc(size);
	if (!heap) {
		perror("malloc");
		return 1;
	}
	memset(heap, 1, size);
	/* Keep the allocation and the stores: the heap must stay mapped. */
	__asm__ volatile("" : : "r"(heap) : "memory");

	t0 = now();
	for (int i = 0; i < count; i++) {
		char *args[] = { argv[4], NULL };
		pid_t pid;

		if (spawn) {
			int err = posix_spawn(&pid, argv[4], NULL, NULL, args,
			    environ);

			if (err) {
				fprintf(stderr, "posix_spawn: %s\n",
				    strerror(err));
				return 1;
			}
		} else {
			pid = vfork();
			if (pid < 0) {
				perror("vfork");
				return 1;
			}
			if (pid == 0) {
				execv(argv[4], args);
				_exit(127);
			}
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "vforkheap: child failed\n");
			return 1;
		}
	}
	t1 = now();
	printf("loop_seconds=%.6f\n", t1 - t0);
	return heap[size - 1] == 1 ? 0 : 1;
}
