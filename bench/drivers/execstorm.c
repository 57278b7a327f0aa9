/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exec storm driver:  execstorm COUNT PROGRAM
 * COUNT times: fork(), execv(PROGRAM) in the child, waitpid() in the
 * parent; one child at a time, like a build tool running short jobs.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int count, status;

	if (argc != 3) {
		fprintf(stderr, "usage: execstorm COUNT PROGRAM\n");
		return 2;
	}
	count = atoi(argv[1]);
	for (int i = 0; i < count; i++) {
		char *args[] = { argv[2], NULL };
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			execv(argv[2], args);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "execstorm: child failed\n");
			return 1;
		}
	}
	return 0;
}
