/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-run, our own front end: run a command traced, then show what it
 * read and wrote.
 *   roar-run [--tracer preload] [-o REPORT] [--json FILE] [--timeout S]
 *            [-q] [--keep-secrets] -- CMD [ARGS...]
 * The summary goes to stderr and the JSON to a file, so that the
 * command's stdout stays its own; `--json -` is the one way to have the
 * JSON on stdout, after the command's output.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "launch.h"
#include "report.h"
#include "summary.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: roar-run [-o REPORT] [--json FILE] [--timeout SECONDS] "
		"[-q] [--keep-secrets]\n"
		"                [--tracer preload] -- COMMAND [ARGS...]\n"
		"Runs COMMAND with every process it starts traced, writes the "
		"report, and\n"
		"prints what each process read and wrote on stderr.\n"
		"  -o, --output FILE  where the report goes "
		"(default roar-report.msgpack)\n"
		"  --json FILE        also write the report as JSON to FILE; "
		"'-' for stdout\n"
		"                     (after the command's own output)\n"
		"  --timeout S        stop waiting for descendants S seconds "
		"after the command ends\n"
		"  -q, --quiet        no summary, no notice while waiting\n"
		"  --all              list system files and whole command "
		"lines in the summary\n"
		"  --callsites        record which function first read or "
		"wrote each file\n"
		"                     (roar-report callsites; as "
		"ROAR_CALLSITES=1)\n"
		"  --keep-secrets     keep the values of variables whose names "
		"look secret\n"
		"                     (*TOKEN*, *SECRET*, *PASSWORD*, *KEY*, "
		"...) in the report\n"
		"  --version          print the version\n"
		"Environment:\n"
		"  ROAR_WAIT_TIMEOUT=S  as --timeout (the option wins)\n"
		"  ROAR_PROGRESS=S      a progress line every S seconds while "
		"the command runs\n"
		"                       (default: every 30 s on a terminal; 0: "
		"never)\n"
		"  ROAR_KEEP_SECRETS=1  as --keep-secrets\n"
		"  ROAR_DEBUG=1         the library explains itself on stderr\n"
		"  ROAR_REPORT          report path of plain LD_PRELOAD runs "
		"(roar-run uses -o)\n"
		"  ROAR_PRELOAD_LIB     the library to inject, if not the one "
		"beside roar-run\n"
		"Signals sent to roar-run go to the command; the report is "
		"written whatever\n"
		"happens (but SIGKILL). After the command has ended, Ctrl-C "
		"stops the wait for\n"
		"what it left running (marked still_running).\n"
		"Exit status: the command's; if it died of a signal, roar-run "
		"dies of the same\n"
		"signal. 2: wrong usage, or a check failed before the command "
		"was started\n"
		"(no library, no writable directory for the report or the "
		"JSON): nothing ran.\n");
}

/* The JSON goes to its own file, owner-only as the report is: it holds
 * the same environments. */
static int
write_json(const char *path, const msgpack_object *o)
{
	FILE *f;
	int fd, e;

	if (!strcmp(path, "-")) {
		roar_json_print(stdout, o);
		fputc('\n', stdout);
		return fflush(stdout) == 0 ? 0 : -errno;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		e = -errno;
		close(fd);
		return e;
	}
	roar_json_print(f, o);
	fputc('\n', f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) == 0 ? 0 : -errno;
}

static bool
parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && *out >= 0;
}

/*
 * How often a long run says how far it is: ROAR_PROGRESS=S, else every
 * 30 s when stderr is a terminal (a log file keeps the command's output
 * alone).  False after a bad value (said).
 */
static bool
progress_every(unsigned *ms)
{
	const char *v = getenv("ROAR_PROGRESS");
	double s;

	*ms = isatty(STDERR_FILENO) ? 30000 : 0;
	if (!v || !*v)
		return true;
	if (!parse_seconds(v, &s) || s > 86400) {
		fprintf(stderr,
			"roar-run: ROAR_PROGRESS takes seconds, not "
			"'%s'\n",
			v);
		return false;
	}
	*ms = (unsigned)(s * 1000.0);
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tracer", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "keep-secrets", no_argument, NULL, 'K' },
		{ "all", no_argument, NULL, 'A' },
		{ "callsites", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct roar_launch_opts lo = {
		.report_path = "roar-report.msgpack",
		.wait_timeout = -1,
		.prog = "roar-run",
	};
	const char *json = NULL, *t = getenv("ROAR_WAIT_TIMEOUT");
	bool quiet = false, timeout_given = false;
	struct roar_summary_opts so = { 0 };
	msgpack_unpacked u;
	char *data, err[4096];
	int c, code = 1, sig = 0, rc;

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
			/* `--json -o r.msgpack` (--json once took no file)
			 * would write the JSON to "-o": say so instead. */
			if (optarg[0] == '-' && optarg[1]) {
				fprintf(stderr,
					"roar-run: --json takes a file "
					"name (or - for stdout), not '%s'\n",
					optarg);
				return 2;
			}
			json = optarg;
			break;
		case 't':
			if (!parse_seconds(optarg, &lo.wait_timeout)) {
				fprintf(stderr,
					"roar-run: --timeout takes "
					"seconds, not '%s'\n",
					optarg);
				return 2;
			}
			timeout_given = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'K':
			lo.keep_secrets = true;
			break;
		case 'A':
			so.all = true;
			break;
		case 'C':
			/* The library reads it in every image (backtrace.c);
			 * the command sees it too, as it would have set it. */
			setenv("ROAR_CALLSITES", "1", 1);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("roar-run %s\n", ROAR_VERSION);
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
	if (!timeout_given && t && *t && !parse_seconds(t, &lo.wait_timeout)) {
		fprintf(stderr,
			"roar-run: ROAR_WAIT_TIMEOUT takes seconds, "
			"not '%s'\n",
			t);
		return 2;
	}
	if (json && strcmp(json, "-") &&
	    roar_launch_check_output(json, err, sizeof(err)) != 0) {
		fprintf(stderr,
			"roar-run: no place for the JSON: %s; nothing "
			"was run\n",
			err);
		return ROAR_LAUNCH_NOT_RUN;
	}
	lo.argv = argv + optind;
	lo.notice_after_ms = quiet ? 0 : 1000;
	if (!quiet && !progress_every(&lo.progress_every_ms))
		return 2;
	if (roar_launch_run(&lo, &code, &sig) != 0) {
		if (!code)
			code = 1;
		goto out;
	}
	if (quiet && !json)
		goto out;
	if (roar_report_read(lo.report_path, &u, &data, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "roar-run: %s\n", err);
		return code ? code : 1;
	}
	if (json && (rc = write_json(json, &u.data)) != 0) {
		fprintf(stderr, "roar-run: cannot write the JSON to %s: %s\n",
			json, strerror(-rc));
		if (!code)
			code = 1;
	}
	if (!quiet) {
		fprintf(stderr, "\nroar-run: report in %s\n", lo.report_path);
		if (roar_summary_print_opts(stderr, &u.data, &so) > 0)
			fprintf(stderr,
				"roar-run: WARNING: some processes "
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
