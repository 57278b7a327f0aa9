/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-tracer-preload, the launcher roar runs (docs/roar-compat.md):
 *   roar-tracer-preload REPORT CMD [ARGS...]
 *   roar-tracer-preload --preflight [--json] [--command CMD]
 * Exit status is the command's, 128+N when it died of signal N (roar's
 * contract for this launcher: roar reads the number); roar-run dies of
 * the same signal instead.  Wrong usage exits 2, and so does a check
 * that fails before the command is started (launch.h): nothing ran.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "roar/mp.h"
#include "elfcheck.h"
#include "json.h"
#include "launch.h"
#include "report.h"
#include "report_schema.h"

/* What preflight's probe run writes, reads back and renames. */
#define PROBE_TEXT "roar-preflight-probe"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: roar-tracer-preload REPORT COMMAND [ARGS...]\n"
		"       roar-tracer-preload --preflight [--json] [--command CMD]\n"
		"       roar-tracer-preload --help | --version\n"
		"Runs COMMAND with libroar_preload.so and writes the report roar "
		"reads to REPORT.\n"
		"Environment:\n"
		"  ROAR_WAIT_TIMEOUT=S  stop waiting for descendants S seconds "
		"after the command\n"
		"                       ends (they are marked still_running)\n"
		"  ROAR_KEEP_SECRETS=1  keep the values of variables whose "
		"names look secret\n"
		"  ROAR_DEBUG=1         the library explains itself on stderr\n"
		"  ROAR_PRELOAD_LIB     the library, if not the one beside "
		"this program\n"
		"  ROAR_REPORT          report path of plain LD_PRELOAD runs "
		"(not read here)\n"
		"Signals sent to us go to the command; the report is written "
		"whatever happens\n"
		"(but SIGKILL). After the command has ended, Ctrl-C stops the "
		"wait for what it\n"
		"left running.\n"
		"Exit status: the command's, 128+N if it died of signal N, "
		"127/126 if it could\n"
		"not be executed (a report is still written). 2: wrong usage, "
		"or a check failed\n"
		"before the command was started (no library, no writable "
		"directory for REPORT):\n"
		"nothing ran and no report was written.\n");
}

struct check {
	const char *name;
	bool ok;
	bool advisory; /* not ok is a warning: the preflight still is */
	char detail[PATH_MAX + 256];
};

/* How the text form marks a check. */
static const char *
mark(const struct check *c)
{
	if (c->ok)
		return "ok";
	return c->advisory ? "warn" : "FAIL";
}

static void
json_cstr(FILE *out, const char *s)
{
	roar_json_string(out, s, strlen(s), true);
}

/* Whether the traced probe's report lists path as written. */
static bool
report_lists_written(const char *report, const char *path, char *detail,
		     size_t cap)
{
	msgpack_unpacked u;
	char *data, err[PATH_MAX + 64], real[PATH_MAX];
	bool found = false;
	const msgpack_object *files = NULL;

	if (!realpath(path, real) &&
	    (size_t)snprintf(real, sizeof(real), "%s", path) >= sizeof(real))
		return false;
	if (roar_report_read(report, &u, &data, err, sizeof(err)) != 0) {
		snprintf(detail, cap, "%s", err);
		return false;
	}
	files = roar_mp_get(&u.data, ROAR_R_TOP_FILES);
	for (uint32_t i = 0; files && files->type == MSGPACK_OBJECT_ARRAY &&
			     i < files->via.array.size;
	     i++) {
		const msgpack_object *f = &files->via.array.ptr[i];
		const msgpack_object *p = roar_mp_get(f, ROAR_R_FILE_PATH);
		const msgpack_object *w = roar_mp_get(f, ROAR_R_FILE_WRITTEN);

		if (p && p->type == MSGPACK_OBJECT_STR &&
		    p->via.str.size == strlen(real) &&
		    !memcmp(p->via.str.ptr, real, strlen(real)) && w &&
		    w->type == MSGPACK_OBJECT_BOOLEAN && w->via.boolean)
			found = true;
	}
	snprintf(detail, cap,
		 found ? "a traced probe's write of %s was seen"
		       : "a traced probe ran, but its write of %s "
			 "is missing from the report",
		 real);
	msgpack_unpacked_destroy(&u);
	free(data);
	return found;
}

static int
preflight(bool json, const char *command)
{
	struct check checks[6] = { 0 };
	size_t n = 0;
	char lib[PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 32];
	char report[PATH_MAX + 32], warnings[2][PATH_MAX + 256];
	size_t nwarn = 0;
	const char *tmp = getenv("TMPDIR");
	struct utsname un;
	bool ok = true, untraced = false, have_lib;
	const char *summary = "preload tracing works here";

	checks[n].name = "platform";
	checks[n].ok = uname(&un) == 0 && !strcmp(un.sysname, "Linux");
	snprintf(checks[n].detail, sizeof(checks[n].detail), "%s %s",
		 checks[n].ok ? un.sysname : "not Linux",
		 checks[n].ok ? un.machine : "");
	n++;

	have_lib = roar_launch_find_library(lib, sizeof(lib)) == 0;
	checks[n].name = "library";
	checks[n].ok = have_lib && access(lib, R_OK) == 0;
	snprintf(checks[n].detail, sizeof(checks[n].detail), "%s",
		 have_lib ? lib
			  : "libroar_preload.so not found (set "
			    "ROAR_PRELOAD_LIB)");
	n++;

	snprintf(dir, sizeof(dir), "%s/roar-preflight-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	checks[n].name = "socket_dir";
	checks[n].ok = mkdtemp(dir) != NULL;
	snprintf(checks[n].detail, sizeof(checks[n].detail), "%s",
		 checks[n].ok ? "a private socket directory can be made"
			      : strerror(errno));
	n++;

	if (command) {
		/*
		 * roar reads a failed "command" as "not found on PATH": it
		 * says only whether the command can be run.  How it is
		 * traced is command_compatibility, whose failure (a set-ID
		 * program runs untraced) is a warning.
		 */
		struct roar_elf_command c;

		roar_elf_check_command(command, getenv("PATH"), &c);
		checks[n].name = "command";
		checks[n].ok = c.found;
		snprintf(checks[n].detail, sizeof(checks[n].detail), "%s",
			 c.found_detail);
		n++;
		checks[n].name = "command_compatibility";
		checks[n].ok = c.traceable;
		checks[n].advisory = true;
		snprintf(checks[n].detail, sizeof(checks[n].detail), "%s",
			 c.trace_detail);
		untraced = c.found && !c.traceable;
		if (untraced && snprintf(warnings[nwarn++], sizeof(warnings[0]),
					 "%s", c.trace_detail) < 0)
			nwarn--;
		n++;
	}

	checks[n].name = "probe_run";
	checks[n].ok = false;
	if (checks[2].ok && checks[1].ok) {
		/*
		 * A real dynamically linked program, not ourselves: it must
		 * write, read back and rename a file under the tracer, and
		 * the report must show the write.
		 */
		char *argv[] = { "/bin/sh", "-c",
				 "printf " PROBE_TEXT " > \"$0\" && "
				 "cat \"$0\" > /dev/null && "
				 "mv \"$0\" \"$0.renamed\" && "
				 "mv \"$0.renamed\" \"$0\"",
				 path, NULL };
		struct roar_launch_opts lo = {
			.report_path = report,
			.argv = argv,
			.wait_timeout = 10,
			.quiet = true,
			.prog = "roar-tracer-preload",
		};
		int code = 1;

		snprintf(path, sizeof(path), "%s/probe.txt", dir);
		snprintf(report, sizeof(report), "%s/report.msgpack", dir);
		if (roar_launch_run(&lo, &code, NULL) == 0 && code == 0)
			checks[n].ok = report_lists_written(
				report, path, checks[n].detail,
				sizeof(checks[n].detail));
		else
			snprintf(checks[n].detail, sizeof(checks[n].detail),
				 "the traced probe failed (exit %d)", code);
		unlink(path);
		unlink(report);
	} else {
		snprintf(checks[n].detail, sizeof(checks[n].detail),
			 "not run: an earlier check failed");
	}
	n++;
	if (checks[2].ok)
		rmdir(dir);

	for (size_t i = 0; i < n; i++)
		if (!checks[i].ok && !checks[i].advisory)
			ok = false;
	if (!ok)
		summary = "preload tracing cannot work here, or not for this "
			  "command";
	else if (untraced)
		summary = "preload tracing works here, but the command runs "
			  "untraced";
	if (json) {
		printf("{\"backend\": \"preload\", \"ok\": %s, \"summary\": ",
		       ok ? "true" : "false");
		json_cstr(stdout, summary);
		printf(", \"command_checked\": ");
		if (command)
			json_cstr(stdout, command);
		else
			printf("null");
		printf(", \"warnings\": [");
		for (size_t i = 0; i < nwarn; i++) {
			if (i)
				printf(", ");
			json_cstr(stdout, warnings[i]);
		}
		printf("], \"checks\": [");
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"name\": ", i ? ", " : "");
			json_cstr(stdout, checks[i].name);
			printf(", \"ok\": %s, \"detail\": ",
			       checks[i].ok ? "true" : "false");
			json_cstr(stdout, checks[i].detail);
			printf("}");
		}
		printf("]}\n");
	} else {
		printf("preload tracing: %s\n", ok ? "ok" : "NOT ok");
		for (size_t i = 0; i < n; i++)
			printf("  [%s] %s: %s\n", mark(&checks[i]),
			       checks[i].name, checks[i].detail);
	}
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct roar_launch_opts lo = { .wait_timeout = -1,
				       .prog = "roar-tracer-preload" };
	const char *t = getenv("ROAR_WAIT_TIMEOUT");
	int code = 1;

	if (argc >= 2 && !strcmp(argv[1], "--preflight")) {
		bool json = false;
		const char *command = NULL;

		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--json"))
				json = true;
			else if (!strcmp(argv[i], "--command") && i + 1 < argc)
				command = argv[++i];
			else {
				usage(stderr);
				return 2;
			}
		}
		return preflight(json, command);
	}
	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("roar-tracer-preload %s\n", ROAR_VERSION);
		return 0;
	}
	if (argc < 3 || argv[1][0] == '\0' ||
	    (argv[1][0] == '-' && strcmp(argv[1], "-") != 0)) {
		usage(stderr);
		return 2;
	}
	if (t && *t)
		lo.wait_timeout = strtod(t, NULL);
	lo.report_path = argv[1];
	lo.argv = argv + 2;
	lo.notice_after_ms = 1000;
	if (roar_launch_run(&lo, &code, NULL) != 0 && code == 0)
		code = 1;
	return code;
}
