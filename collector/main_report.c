/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-report: look at reports.  `show` prints the process tree and the
 * files each process read and wrote, `json` the whole report as JSON,
 * `dot` a Graphviz lineage graph, `diff A B` what changed between two
 * runs (exit 1 when anything did, like diff(1)), and `merge OUT A B...`
 * writes one report of several hosts' (docs/multi-host.md).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "callsites.h"
#include "report.h"
#include "summary.h"
#include "views.h"

/* Exit status for a wrong command line (as diff(1) and getopt users). */
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: roar-report show [--all] REPORT...\n"
	"       roar-report json REPORT...\n"
	"       roar-report dot [--all] REPORT\n"
	"       roar-report diff REPORT_A REPORT_B\n"
	"       roar-report merge OUT REPORT...\n"
	"       roar-report callsites REPORT [PATH]\n"
	"       roar-report --version\n"
	"\n"
	"  show   the process tree and the files each process read and wrote\n"
	"         (--all: system files and whole command lines too)\n"
	"  json   the whole report as JSON\n"
	"  dot    the lineage graph for Graphviz (dot -Tsvg)\n"
	"  diff   inputs, outputs and commands that changed from A to B;\n"
	"         exit 0 when none did, 1 when some did\n"
	"  merge  one report of reports taken on several hosts, into OUT\n"
	"  callsites  which function of which program first read or wrote\n"
	"         each file (PATH: only that file); needs call sites in the\n"
	"         report (roar-run --callsites, or ROAR_CALLSITES=1)\n";

static const char *const commands[] = { "show", "json",  "dot",
					"diff", "merge", "callsites" };

static void
usage(FILE *out)
{
	fputs(usage_text, out);
}

/* A report read whole; free with loaded_free. */
struct loaded {
	msgpack_unpacked u;
	char *data;
	bool ok;
};

static bool
load(struct loaded *l, const char *path)
{
	char err[4096];

	l->ok = roar_report_read(path, &l->u, &l->data, err, sizeof(err)) == 0;
	if (!l->ok)
		fprintf(stderr, "roar-report: %s\n", err);
	return l->ok;
}

static void
loaded_free(struct loaded *l)
{
	if (!l->ok)
		return;
	msgpack_unpacked_destroy(&l->u);
	free(l->data);
	l->ok = false;
}

static int
cmd_each(const char *cmd, int argc, char **argv, bool all)
{
	struct roar_summary_opts opts = { .all = all };
	int rc = 0;

	for (int i = 0; i < argc; i++) {
		struct loaded l;

		if (!load(&l, argv[i])) {
			rc = 1;
			continue;
		}
		if (argc > 1 && !strcmp(cmd, "show"))
			printf("%s%s:\n", i ? "\n" : "", argv[i]);
		if (!strcmp(cmd, "json")) {
			roar_json_print(stdout, &l.u.data);
			fputc('\n', stdout);
		} else {
			roar_summary_print_opts(stdout, &l.u.data, &opts);
		}
		loaded_free(&l);
	}
	return rc;
}

static int
cmd_dot(const char *path, bool all)
{
	struct loaded l;

	if (!load(&l, path))
		return 1;
	roar_dot_print(stdout, &l.u.data, all);
	loaded_free(&l);
	return 0;
}

static int
cmd_diff(const char *a, const char *b)
{
	struct loaded la, lb;
	int rc;

	if (!load(&la, a))
		return EXIT_USAGE;
	if (!load(&lb, b)) {
		loaded_free(&la);
		return EXIT_USAGE; /* diff(1): trouble is 2 */
	}
	rc = roar_diff_print(stdout, &la.u.data, &lb.u.data);
	loaded_free(&la);
	loaded_free(&lb);
	return rc;
}

static int
cmd_merge(const char *out, int argc, char **argv)
{
	struct loaded *l = calloc((size_t)argc, sizeof(*l));
	const msgpack_object **in = calloc((size_t)argc, sizeof(*in));
	char err[4096];
	int rc = 0;

	if (!l || !in) {
		fprintf(stderr, "roar-report: out of memory\n");
		free(l);
		free(in);
		return 1;
	}
	for (int i = 0; i < argc && !rc; i++) {
		if (!load(&l[i], argv[i]))
			rc = 1;
		else
			in[i] = &l[i].u.data;
	}
	if (!rc && roar_merge_reports(out, in, (const char *const *)argv,
				      (size_t)argc, err, sizeof(err)) != 0) {
		fprintf(stderr, "roar-report: merge: %s\n", err);
		rc = 1;
	}
	for (int i = 0; i < argc; i++)
		loaded_free(&l[i]);
	free(l);
	free(in);
	return rc;
}

static int
unknown(const char *cmd)
{
	fprintf(stderr,
		"roar-report: unknown subcommand '%s'; valid ones:", cmd);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, " %s", commands[i]);
	fputs(" (roar-report --help says more)\n", stderr);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	const char *cmd;
	bool all = false;
	int first, rc;

	if (argc == 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "callsites"))
		return roar_callsites_main(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("roar-report %s\n", ROAR_VERSION);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	first = 2;
	if ((!strcmp(cmd, "show") || !strcmp(cmd, "dot")) && argc > 2 &&
	    !strcmp(argv[2], "--all")) {
		all = true;
		first = 3;
	}
	if (!strcmp(cmd, "show") || !strcmp(cmd, "json")) {
		if (argc - first < 1)
			goto bad;
		rc = cmd_each(cmd, argc - first, argv + first, all);
	} else if (!strcmp(cmd, "dot")) {
		if (argc - first != 1)
			goto bad;
		rc = cmd_dot(argv[first], all);
	} else if (!strcmp(cmd, "diff")) {
		if (argc != 4)
			goto bad;
		rc = cmd_diff(argv[2], argv[3]);
	} else if (!strcmp(cmd, "merge")) {
		if (argc < 4)
			goto bad;
		rc = cmd_merge(argv[2], argc - 3, argv + 3);
	} else {
		return unknown(cmd);
	}
	if (fflush(stdout) != 0)
		return 1;
	return rc;
bad:
	fprintf(stderr, "roar-report: wrong arguments for %s\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
