/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collector ingest driver:  ingest FRAMES CONNS DISTINCT OUTFILE
 *
 * Meant to run as the traced root command of roar-tracer-preload.  Opens
 * CONNS connections to the collector socket named by
 * ROAR_PRELOAD_TRACE_SOCK and sends FRAMES "read" events between them
 * (one thread per connection), with DISTINCT distinct paths, all carrying
 * this process's pid (the collector watches it) and the sending thread's
 * tid.  Frames are hand-encoded msgpack (include/roar/protocol.h):
 *
 *   u32le len | 0x84 "kind" "read" "pid" u32 "thread_id" u32 "path" str
 *
 * Frames are stamped out from a template into a 256 KiB buffer per
 * connection as they are sent (a fixed-width number in the path is all
 * that changes), so that this client stays small in memory: the peak RSS
 * the bench measures is then the collector's.  Stamping costs ~10 ns per
 * frame, well under what the collector spends on one.
 *
 * When every frame is sent, each connection is shut down for writing and
 * read until EOF: the collector closes its end only after it has merged
 * everything that came before the EOF, so the last EOF marks the end of
 * ingest.  Then the parent's (the collector's) VmHWM is read.  OUTFILE
 * receives: t_first_send t_all_merged (CLOCK_MONOTONIC seconds),
 * frames, parent VmHWM in KiB, path length.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256u * 1024u)
#define PATH_FMT_PREFIX "/roar-bench/ingest/some/dir/file-"
#define DIGITS 10

struct worker {
	pthread_t th;
	int fd;
	unsigned k;
	double t_done;
	int err;
};

static unsigned long frames, distinct;
static unsigned conns;
static pthread_barrier_t start;
static double t_start;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *
put_str(unsigned char *p, const char *s, size_t len)
{
	if (len < 32) {
		*p++ = (unsigned char)(0xa0 | len);
	} else if (len < 256) {
		*p++ = 0xd9;
		*p++ = (unsigned char)len;
	} else {
		*p++ = 0xda;
		*p++ = (unsigned char)(len >> 8);
		*p++ = (unsigned char)len;
	}
	memcpy(p, s, len);
	return p + len;
}

static unsigned char *
put_u32(unsigned char *p, uint32_t v)
{
	*p++ = 0xce;
	*p++ = (unsigned char)(v >> 24);
	*p++ = (unsigned char)(v >> 16);
	*p++ = (unsigned char)(v >> 8);
	*p++ = (unsigned char)v;
	return p;
}

/* Build the template frame; *digits_off is where the path number goes. */
static size_t
build_template(unsigned char *buf, uint32_t pid, uint32_t tid,
	       size_t *digits_off)
{
	char path[128];
	size_t plen;
	unsigned char *p = buf + 4;
	uint32_t len;

	plen = (size_t)snprintf(path, sizeof(path), "%s%0*u", PATH_FMT_PREFIX,
				DIGITS, 0u);
	*p++ = 0x84;
	p = put_str(p, "kind", 4);
	p = put_str(p, "read", 4);
	p = put_str(p, "pid", 3);
	p = put_u32(p, pid);
	p = put_str(p, "thread_id", 9);
	p = put_u32(p, tid);
	p = put_str(p, "path", 4);
	p = put_str(p, path, plen);
	*digits_off = (size_t)(p - buf) - DIGITS;
	len = (uint32_t)(p - buf - 4);
	buf[0] = (unsigned char)len;
	buf[1] = (unsigned char)(len >> 8);
	buf[2] = (unsigned char)(len >> 16);
	buf[3] = (unsigned char)(len >> 24);
	return (size_t)(p - buf);
}

static int
send_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	unsigned char tmpl[256], *buf = malloc(CHUNK);
	size_t flen, doff, used = 0;
	char c;

	flen = build_template(tmpl, (uint32_t)getpid(),
			      (uint32_t)syscall(SYS_gettid), &doff);
	pthread_barrier_wait(&start);
	if (!buf)
		goto fail;
	for (unsigned long i = w->k; i < frames; i += conns) {
		unsigned long v = i % distinct;
		unsigned char *f;

		if (used + flen > CHUNK) {
			if (send_all(w->fd, buf, used) != 0)
				goto fail;
			used = 0;
		}
		f = buf + used;
		memcpy(f, tmpl, flen);
		for (int d = DIGITS - 1; d >= 0; d--) {
			f[doff + (size_t)d] = (unsigned char)('0' + v % 10);
			v /= 10;
		}
		used += flen;
	}
	if (used && send_all(w->fd, buf, used) != 0)
		goto fail;
	shutdown(w->fd, SHUT_WR);
	/* The collector closes its end once it has merged all we sent. */
	while (read(w->fd, &c, 1) > 0 || errno == EINTR)
		errno = 0;
	w->t_done = now();
	free(buf);
	return NULL;
fail:
	w->err = errno ? errno : EIO;
	free(buf);
	return NULL;
}

static long
parent_hwm_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)getppid());
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/*
 * The collector's socket.  The launcher's variables are taken out of the
 * command's own environment (the library unmends it), so read the one
 * the kernel was given.
 */
static const char *
find_socket(void)
{
	static char env[1 << 16];
	static const char key[] = "ROAR_PRELOAD_TRACE_SOCK=";
	size_t len = 0;
	ssize_t n;
	int fd = open("/proc/self/environ", O_RDONLY);

	if (getenv("ROAR_PRELOAD_TRACE_SOCK"))
		return getenv("ROAR_PRELOAD_TRACE_SOCK");
	if (fd < 0)
		return NULL;
	while (len < sizeof(env) - 1 &&
	       (n = read(fd, env + len, sizeof(env) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	env[len] = '\0';
	for (size_t i = 0; i < len; i += strlen(env + i) + 1)
		if (!strncmp(env + i, key, sizeof(key) - 1))
			return env + i + sizeof(key) - 1;
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *sock = find_socket();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct worker *w;
	double t_end = 0;
	FILE *out;

	if (argc != 5) {
		fprintf(stderr, "usage: ingest FRAMES CONNS DISTINCT OUTFILE\n");
		return 2;
	}
	frames = strtoul(argv[1], NULL, 10);
	conns = (unsigned)strtoul(argv[2], NULL, 10);
	distinct = strtoul(argv[3], NULL, 10);
	if (!sock || strlen(sock) >= sizeof(sa.sun_path) || !conns ||
	    !distinct) {
		fprintf(stderr, "ingest: bad arguments or no %s\n",
			"ROAR_PRELOAD_TRACE_SOCK");
		return 2;
	}
	strcpy(sa.sun_path, sock);
	w = calloc(conns, sizeof(*w));
	pthread_barrier_init(&start, NULL, conns + 1);
	for (unsigned k = 0; k < conns; k++) {
		w[k].k = k;
		w[k].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (w[k].fd < 0 ||
		    connect(w[k].fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			perror("ingest: connect");
			return 1;
		}
		pthread_create(&w[k].th, NULL, run, &w[k]);
	}
	t_start = now();
	pthread_barrier_wait(&start);
	for (unsigned k = 0; k < conns; k++) {
		pthread_join(w[k].th, NULL);
		if (w[k].err) {
			fprintf(stderr, "ingest: send failed: %s\n",
				strerror(w[k].err));
			return 1;
		}
		if (w[k].t_done > t_end)
			t_end = w[k].t_done;
	}
	out = fopen(argv[4], "w");
	if (!out)
		return 1;
	fprintf(out, "%.6f %.6f %lu %ld %zu\n", t_start, t_end, frames,
		parent_hwm_kb(),
		strlen(PATH_FMT_PREFIX) + (size_t)DIGITS);
	fclose(out);
	return 0;
}
