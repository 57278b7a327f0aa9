/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Open storm driver:  openstorm DIR NFILES ROUNDS
 * ROUNDS times over: open(O_RDONLY) + read(4 KiB) + close of each of the
 * NFILES files DIR/f00000 .. (the bench creates them beforehand).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char buf[4096];
	char (*paths)[4096];
	int nfiles, rounds;

	if (argc != 4) {
		fprintf(stderr, "usage: openstorm DIR NFILES ROUNDS\n");
		return 2;
	}
	nfiles = atoi(argv[2]);
	rounds = atoi(argv[3]);
	paths = calloc((size_t)nfiles, sizeof(*paths));
	if (!paths)
		return 1;
	for (int i = 0; i < nfiles; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/f%05d", argv[1], i);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < nfiles; i++) {
			int fd = open(paths[i], O_RDONLY);

			if (fd < 0) {
				perror(paths[i]);
				return 1;
			}
			if (read(fd, buf, sizeof(buf)) < 0) {
				perror("read");
				return 1;
			}
			close(fd);
		}
	free(paths);
	return 0;
}
