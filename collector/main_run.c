/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-run, our own front end: run a command traced, then show what it
 * read and wrote.
 *   roar-run [--tracer preload] [-o REPORT] [--json] [--timeout S] [-q]
 *            [--keep-secrets]
 *            -- CMD [ARGS...]
 * The summary goes to stderr so that the command's stdout stays its own;
 * --json prints the report as JSON on stdout after the command ends.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "report.h"
#include "summary.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: roar-run [--tracer preload] [-o REPORT] [--json] "
		"[--timeout SECONDS] [-q] [--keep-secrets] -- COMMAND [ARGS...]\n"
		"  -o, --output FILE  where the report goes "
		"(default roar-report.msgpack)\n"
		"  --json             print the report as JSON on stdout\n"
		"  --timeout S        stop waiting for descendants S seconds "
		"after the command ends\n"
		"  -q, --quiet        no summary\n"
		"  --keep-secrets     keep the values of variables whose names "
		"look secret\n"
		"                     (*TOKEN*, *SECRET*, *PASSWORD*, *KEY*, "
		"...) in the report\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tracer", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "keep-secrets", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct roar_launch_opts lo = {
		.report_path = "roar-report.msgpack",
		.wait_timeout = -1,
		.prog = "roar-run",
	};
	bool json = false, quiet = false;
	msgpack_unpacked u;
	char *data, err[4096], *end;
	int c, code = 1, sig = 0;

	while ((c = getopt_long(argc, argv, "+o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			if (strcmp(optarg, "preload") != 0) {
				fprintf(stderr,
					"roar-run: unknown tracer '%s': this "
					"tool has one back end, 'preload'\n",
					optarg);
				return 2;
			}
			break;
		case 'o':
			lo.report_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			lo.wait_timeout = strtod(optarg, &end);
			if (end == optarg || *end || lo.wait_timeout < 0) {
				fprintf(stderr, "roar-run: --timeout takes "
					"seconds, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'K':
			lo.keep_secrets = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "roar-run: no command given\n");
		usage(stderr);
		return 2;
	}
	lo.argv = argv + optind;
	if (roar_launch_run(&lo, &code, &sig) != 0) {
		if (!code)
			code = 1;
		goto out;
	}
	if (quiet && !json)
		goto out;
	if (roar_report_read(lo.report_path, &u, &data, err, sizeof(err)) != 0) {
		fprintf(stderr, "roar-run: %s\n", err);
		return code ? code : 1;
	}
	if (json) {
		roar_json_print(stdout, &u.data);
		fputc('\n', stdout);
	}
	if (!quiet) {
		fprintf(stderr, "\nroar-run: report in %s\n", lo.report_path);
		if (roar_summary_print(stderr, &u.data) > 0)
			fprintf(stderr, "roar-run: WARNING: some processes "
				"were not traced; their files are missing\n");
	}
	msgpack_unpacked_destroy(&u);
	free(data);
out:
	/* The command died of a signal: so do we, for whoever waits. */
	if (sig)
		roar_launch_end_like(sig);
	return code;
}
