/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-collector: the collector the preload library starts by itself for
 * plain `LD_PRELOAD=libroar_preload.so cmd`.  It receives the listening
 * socket as an fd, detaches, collects until the root and its traced
 * descendants are gone, writes the report, and then removes the socket
 * dir: a root that waits at its exit for the report (--root-waits) waits
 * for that directory to go (preload/autostart.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "collect.h"
#include "report.h"
#include "trace.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: roar-collector --listen-fd N --root-pid PID --report FILE\n"
		"                      [--socket-dir DIR] [--timeout SECONDS]\n"
		"                      [--daemonize] [--root-waits]\n"
		"Started by libroar_preload.so when no collector was set up.\n");
}

static bool
parse_long(const char *s, long min, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return false;
	*out = v;
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen-fd", required_argument, NULL, 'l' },
		{ "root-pid", required_argument, NULL, 'p' },
		{ "report", required_argument, NULL, 'r' },
		{ "socket-dir", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "daemonize", no_argument, NULL, 'd' },
		{ "root-waits", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct roar_collect_opts co = { .wait_timeout = -2 };
	struct roar_collect_result res;
	struct roar_trace t;
	const char *report = NULL, *dir = NULL;
	bool daemonize = false;
	char err[4096];
	int listen_fd = -1;
	pid_t root = 0;
	long v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (!parse_long(optarg, 0, &v))
				goto bad;
			listen_fd = (int)v;
			break;
		case 'p':
			if (!parse_long(optarg, 1, &v))
				goto bad;
			root = (pid_t)v;
			break;
		case 'r':
			report = optarg;
			break;
		case 's':
			dir = optarg;
			break;
		case 't':
			co.wait_timeout = strtod(optarg, NULL);
			break;
		case 'd':
			daemonize = true;
			break;
		case 'w':
			co.root_waits = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("roar-collector %s\n", ROAR_VERSION);
			return 0;
		default:
			goto bad;
		}
	}
	if (listen_fd < 0 || !root || !report || optind != argc)
		goto bad;
	/* No --timeout: the user's limit, which the root's wait for the
	 * report also honours (autostart.c). */
	if (co.wait_timeout == -2) {
		const char *t = getenv(ROAR_ENV_WAIT_TIMEOUT);

		co.wait_timeout = t && *t ? strtod(t, NULL) : -1;
	}
	if (daemonize) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("roar-collector: fork");
			return 1;
		}
		if (pid > 0)
			_exit(0); /* the library reaps this half */
		setsid();
	}
	roar_collect_block_signals(NULL);

	roar_trace_adopt(&t, listen_fd, dir, report);
	roar_trace_begin(&t, root);
	rc = roar_trace_run(&t, &co, &res);
	if (rc != 0)
		fprintf(stderr,
			"roar-collector: %s (writing what was collected)\n",
			strerror(-rc));
	rc = roar_trace_finish(&t, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "roar-collector: %s\n", err);
	return rc == 0 ? 0 : 1;
bad:
	usage(stderr);
	return 2;
}
