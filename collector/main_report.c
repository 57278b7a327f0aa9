/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-report: look at a report.  `show FILE` prints the process tree and
 * the files each process read and wrote; `json FILE` prints the whole
 * report as JSON.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callsites.h"
#include "report.h"
#include "summary.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: roar-report show FILE\n"
		     "       roar-report json FILE\n"
		     "       roar-report callsites FILE [PATH]\n");
}

int
main(int argc, char **argv)
{
	msgpack_unpacked u;
	char *data;
	char err[4096];

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "callsites"))
		return roar_callsites_main(argc - 1, argv + 1);
	if (argc != 3 || (strcmp(argv[1], "show") && strcmp(argv[1], "json"))) {
		usage(stderr);
		return 2;
	}
	if (roar_report_read(argv[2], &u, &data, err, sizeof(err)) != 0) {
		fprintf(stderr, "roar-report: %s\n", err);
		return 1;
	}
	if (!strcmp(argv[1], "json")) {
		roar_json_print(stdout, &u.data);
		fputc('\n', stdout);
	} else {
		roar_summary_print(stdout, &u.data);
	}
	msgpack_unpacked_destroy(&u);
	free(data);
	return fflush(stdout) == 0 ? 0 : 1;
}
