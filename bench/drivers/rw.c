/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Read/write micro driver:  rw read|write FILE COUNT
 * COUNT read() or write() calls of one byte each on one file, through the
 * ordinary libc entry points (so a preload library interposes on them).
 * read: FILE must exist; the driver rewinds when it reaches the end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long count, i;
	char c = 'x';
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: rw read|write FILE COUNT\n");
		return 2;
	}
	count = atol(argv[3]);
	if (!strcmp(argv[1], "read")) {
		fd = open(argv[2], O_RDONLY);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		for (i = 0; i < count; i++) {
			ssize_t n = read(fd, &c, 1);

			if (n == 0) {
				lseek(fd, 0, SEEK_SET);
				i--;
			} else if (n < 0) {
				perror("read");
				return 1;
			}
		}
	} else if (!strcmp(argv[1], "write")) {
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		for (i = 0; i < count; i++)
			if (write(fd, &c, 1) != 1) {
				perror("write");
				return 1;
			}
	} else {
		fprintf(stderr, "rw: unknown mode %s\n", argv[1]);
		return 2;
	}
	close(fd);
	return 0;
}
