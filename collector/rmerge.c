/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-report merge: one report of several, each taken on its own host
 * (a Slurm or Ray job's, docs/multi-host.md).  Pids are only unique on
 * their host, so a process keeps its pid and its "host" and its
 * parent_pid names a process of the same host.  A file is a file of one
 * host: the files table holds one entry per (host, path), each with its
 * "host", since /tmp/x on two machines are two files.  roar's own path
 * lists (opened_files, read_files, written_files) are the union of the
 * paths, for roar knows no hosts.  Only reads the inputs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roar/mp.h"
#include "pack.h"
#include "report.h"
#include "report_schema.h"
#include "util.h"
#include "views.h"

/* Pack map o with its host key hk set to host (kept when it has one). */
static void
pack_with_host(msgpack_packer *pk, const msgpack_object *o, const char *hk,
	       const struct roar_bytes *host)
{
	bool has = roar_mp_get(o, hk) != NULL;

	if (o->type != MSGPACK_OBJECT_MAP) {
		msgpack_pack_object(pk, *o);
		return;
	}
	msgpack_pack_map(pk, o->via.map.size + !has);
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		msgpack_pack_object(pk, o->via.map.ptr[i].key);
		msgpack_pack_object(pk, o->via.map.ptr[i].val);
	}
	if (!has) {
		roar_pack_key(pk, hk);
		roar_pack_str(pk, host->p, host->len);
	}
}

static uint32_t
array_size(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size : 0;
}

/* The host of input r: its processes' (the first that names one), else
 * its file name (an older report names none). */
static struct roar_bytes
input_host(const msgpack_object *r, const char *name)
{
	const msgpack_object *procs = roar_mp_get(r, ROAR_R_TOP_PROCESSES);
	const char *p;
	size_t n;

	for (uint32_t i = 0; i < array_size(procs); i++)
		if (roar_mp_bytes(roar_mp_get(&procs->via.array.ptr[i],
					      ROAR_R_PROC_HOST),
				  &p, &n))
			return roar_bytes_dup(p, n);
	return roar_bytes_dup(name, strlen(name));
}

static int
cmp_bytes(const void *a, const void *b)
{
	return roar_bytes_cmp(a, b);
}

/* The sorted union of every input's list under k, packed. */
static void
pack_union(msgpack_packer *pk, const msgpack_object *const *in, size_t n,
	   const char *k)
{
	struct roar_bytes *v = NULL;
	size_t nv = 0, out = 0;

	for (size_t i = 0; i < n; i++) {
		const msgpack_object *l = roar_mp_get(in[i], k);

		for (uint32_t j = 0; j < array_size(l); j++) {
			const char *p;
			size_t len;

			if (!roar_mp_bytes(&l->via.array.ptr[j], &p, &len))
				continue;
			v = roar_xrealloc(v, (nv + 1) * sizeof(*v));
			v[nv++] = roar_bytes_dup(p, len);
		}
	}
	qsort(v, nv, sizeof(*v), cmp_bytes);
	for (size_t i = 0; i < nv; i++)
		if (!out || roar_bytes_cmp(&v[out - 1], &v[i]))
			v[out++] = v[i];
		else
			roar_bytes_free(&v[i]);
	msgpack_pack_array(pk, out);
	for (size_t i = 0; i < out; i++) {
		/* As the inputs had it: str, or bin when not UTF-8. */
		roar_pack_bytes(pk, v[i].p, v[i].len);
		roar_bytes_free(&v[i]);
	}
	free(v);
}

static double
float_of(const msgpack_object *o, double dflt)
{
	if (o && (o->type == MSGPACK_OBJECT_FLOAT64 ||
		  o->type == MSGPACK_OBJECT_FLOAT32))
		return o->via.f64;
	if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (double)o->via.u64;
	return dflt;
}

static uint64_t
sum_of(const msgpack_object *const *in, size_t n, const char *k)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t v = roar_view_int(roar_mp_get(in[i], k), 0);

		s += v > 0 ? (uint64_t)v : 0;
	}
	return s;
}

/* Pack every input's list k, each entry with its input's host under
 * its key hk. */
static void
pack_hosted(msgpack_packer *pk, const msgpack_object *const *in, size_t n,
	    const struct roar_bytes *hosts, const char *k, const char *hk)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += array_size(roar_mp_get(in[i], k));
	msgpack_pack_array(pk, total);
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *l = roar_mp_get(in[i], k);

		for (uint32_t j = 0; j < array_size(l); j++)
			pack_with_host(pk, &l->via.array.ptr[j], hk, &hosts[i]);
	}
}

int
roar_merge_reports(const char *path, const msgpack_object *const *in,
		   const char *const *names, size_t n, char *err, size_t errlen)
{
	struct roar_bytes *hosts = roar_xcalloc(n + 1, sizeof(*hosts));
	msgpack_sbuffer sb;
	msgpack_packer pk;
	double start = 0, end = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		double s =
			float_of(roar_mp_get(in[i], ROAR_R_TOP_START_TIME), 0);
		double e = float_of(roar_mp_get(in[i], ROAR_R_TOP_END_TIME), 0);

		hosts[i] = input_host(in[i], names[i]);
		for (size_t j = 0; j < i; j++)
			if (!roar_bytes_cmp(&hosts[i], &hosts[j])) {
				snprintf(err, errlen,
					 "%s and %s are both of host %s: "
					 "their pids would be taken for the "
					 "same processes",
					 names[j], names[i], hosts[i].p);
				rc = -EINVAL;
				goto out_hosts;
			}
		if (s > 0 && (start == 0 || s < start))
			start = s;
		if (e > end)
			end = e;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, ROAR_R_MERGED_SIZE(ROAR_REPORT_TOP_KEYS));
	roar_pack_key(&pk, ROAR_R_TOP_VERSION);
	msgpack_pack_int(&pk, 1);
	roar_pack_key(&pk, ROAR_R_TOP_PROCESSES);
	pack_hosted(&pk, in, n, hosts, ROAR_R_TOP_PROCESSES, ROAR_R_PROC_HOST);
	roar_pack_key(&pk, ROAR_R_TOP_FILES);
	pack_hosted(&pk, in, n, hosts, ROAR_R_TOP_FILES, ROAR_R_FILE_HOST);
	roar_pack_key(&pk, ROAR_R_TOP_OPENED_FILES);
	pack_union(&pk, in, n, ROAR_R_TOP_OPENED_FILES);
	roar_pack_key(&pk, ROAR_R_TOP_READ_FILES);
	pack_union(&pk, in, n, ROAR_R_TOP_READ_FILES);
	roar_pack_key(&pk, ROAR_R_TOP_WRITTEN_FILES);
	pack_union(&pk, in, n, ROAR_R_TOP_WRITTEN_FILES);
	roar_pack_key(&pk, ROAR_R_TOP_START_TIME);
	msgpack_pack_double(&pk, start);
	roar_pack_key(&pk, ROAR_R_TOP_END_TIME);
	msgpack_pack_double(&pk, end);
	roar_pack_key(&pk, ROAR_R_TOP_TRACER_MODE);
	roar_pack_cstr(&pk, ROAR_R_TRACER_MODE_PRELOAD);
	roar_pack_key(&pk, ROAR_R_TOP_EVENTS_DROPPED);
	msgpack_pack_uint64(&pk, sum_of(in, n, ROAR_R_TOP_EVENTS_DROPPED));
	roar_pack_key(&pk, ROAR_R_TOP_FRAMES_REFUSED);
	msgpack_pack_uint64(&pk, sum_of(in, n, ROAR_R_TOP_FRAMES_REFUSED));
	roar_pack_key(&pk, ROAR_R_TOP_CONNECTIONS_REFUSED);
	msgpack_pack_uint64(&pk, sum_of(in, n, ROAR_R_TOP_CONNECTIONS_REFUSED));
	roar_pack_key(&pk, ROAR_R_TOP_PIPES);
	pack_hosted(&pk, in, n, hosts, ROAR_R_TOP_PIPES, ROAR_R_PIPE_HOST);
	roar_pack_key(&pk, ROAR_R_TOP_HOSTS);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++)
		roar_pack_str(&pk, hosts[i].p, hosts[i].len);
	/* Which report each host's part came from, and its own
	 * roar_preload section (ledger, blind spots) as it was. */
	roar_pack_key(&pk, ROAR_R_TOP_MERGED_FROM);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *rp =
			roar_mp_get(in[i], ROAR_R_TOP_ROAR_PRELOAD);

		msgpack_pack_map(
			&pk, ROAR_R_MERGED_SIZE(ROAR_REPORT_MERGED_FROM_KEYS));
		roar_pack_key(&pk, ROAR_R_MF_HOST);
		roar_pack_str(&pk, hosts[i].p, hosts[i].len);
		roar_pack_key(&pk, ROAR_R_MF_REPORT);
		roar_pack_str(&pk, names[i], strlen(names[i]));
		roar_pack_key(&pk, ROAR_R_MF_ROAR_PRELOAD);
		if (rp)
			msgpack_pack_object(&pk, *rp);
		else
			msgpack_pack_nil(&pk);
	}
	roar_pack_key(&pk, ROAR_R_TOP_ROAR_PRELOAD);
	msgpack_pack_map(&pk, ROAR_R_MERGED_SIZE(ROAR_REPORT_PRELOAD_KEYS));
	roar_pack_key(&pk, ROAR_R_RP_VERSION);
	roar_pack_str(&pk, ROAR_VERSION, strlen(ROAR_VERSION));
	roar_pack_key(&pk, ROAR_R_RP_MERGED);
	msgpack_pack_true(&pk);
	rc = roar_report_write_sbuf(&sb, path, err, errlen);
	msgpack_sbuffer_destroy(&sb);
out_hosts:
	for (size_t i = 0; i < n; i++)
		roar_bytes_free(&hosts[i]);
	free(hosts);
	return rc;
}
