/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the report's schema (collector/report_schema.h): every
 * map of a report that holds each optional part (a pipe, fd yields, a
 * call site) has exactly the keys of the schema, in its order, typed out
 * here a second time on purpose.
 */
#include "config.h"

#include <stdbool.h>

#include "unit_report.h"

/*
 * The keys of each map of the report, in the order they are written,
 * typed out here a second time on purpose: a change to the schema
 * (report_schema.h) must change this list too, knowingly.
 */
static const char *const top_keys[] = {
	"version",        "processes",      "files",
	"opened_files",   "read_files",     "written_files",
	"start_time",     "end_time",       "tracer_mode",
	"events_dropped", "frames_refused", "connections_refused",
	"pipes",          "roar_preload",   NULL
};
static const char *const proc_keys[] = { "pid",
					 "host",
					 "parent_pid",
					 "command",
					 "env",
					 "cwd",
					 "exe",
					 "exit_code",
					 "exit_signal",
					 "traced",
					 "untraced_reason",
					 "traced_by",
					 "still_running",
					 "events_dropped",
					 "incomplete",
					 "parent_inferred",
					 "start_time",
					 "end_time",
					 "read_paths",
					 "written_paths",
					 "fd_yields",
					 "callsites",
					 "unseen",
					 "truncated",
					 NULL };
static const char *const file_keys[] = {
	"path", "read", "written", "read_threads", "written_threads", NULL
};
static const char *const preload_keys[] = {
	"version",         "ledger",         "ledger_unbelieved", "root_pid",
	"bad_frames",      "unknown_events", "frames_torn",       "bytes_torn",
	"lists_truncated", "blind_spots",    "supervisor",        NULL
};
static const char *const pipe_keys[] = { "id",      "inode",   "dev",
					 "writers", "readers", NULL };
static const char *const callsite_keys[] = { "path", "kind", "frames", NULL };
static const char *const frame_keys[] = { "module", "offset", "function",
					  "file",   "line",   NULL };

/* map's keys are want's, in want's order, leaving out those of want
 * named in absent (NULL-terminated, or NULL). */
static void
check_keys(const msgpack_object *map, const char *const *want,
	   const char *const *absent)
{
	uint32_t k = 0;

	ck_assert_ptr_nonnull(map);
	ck_assert_int_eq(map->type, MSGPACK_OBJECT_MAP);
	for (size_t i = 0; want[i]; i++) {
		bool skip = false;

		for (size_t j = 0; absent && absent[j]; j++)
			skip |= !strcmp(absent[j], want[i]);
		if (skip)
			continue;
		ck_assert_msg(k < map->via.map.size, "key %s missing", want[i]);
		ck_assert_msg(mp_is_str(&map->via.map.ptr[k].key, want[i]),
			      "key %u is not %s", k, want[i]);
		k++;
	}
	ck_assert_uint_eq(k, map->via.map.size);
}

/* build_run, plus what the optional parts of the report need: a pipe,
 * fd yields and a call site (of a module no file backs). */
static void
build_full_run(void)
{
	struct ev e;
	msgpack_packer *pk;

	build_run();
	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, ROAR_KIND_NAME_PIPE);
	ev_int(&e, ROAR_KEY_PID, 101);
	ev_int(&e, ROAR_KEY_PIPE, 4242);
	ev_int(&e, ROAR_KEY_DEV, 13);
	ev_str(&e, ROAR_KEY_DIR, ROAR_DIR_WRITE);
	apply(&e);
	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, ROAR_KIND_NAME_EXIT);
	ev_int(&e, ROAR_KEY_PID, 101);
	ev_int(&e, ROAR_KEY_STATUS, 2);
	ev_int(&e, ROAR_KEY_FD_YIELDS, 7);
	apply(&e);
	ev_begin(&e, 6);
	ev_str(&e, ROAR_KEY_KIND, ROAR_KIND_NAME_READ);
	ev_int(&e, ROAR_KEY_PID, 102);
	ev_int(&e, ROAR_KEY_TID, 102);
	ev_str(&e, ROAR_KEY_PATH, "/src/zz");
	ev_key(&e, ROAR_KEY_STACK);
	pk = &e.pk;
	msgpack_pack_array(pk, 2);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint32(pk, 0);
	msgpack_pack_uint64(pk, 0x1234);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint32(pk, ROAR_STACK_NO_MODULE);
	msgpack_pack_uint64(pk, 0x99);
	ev_key(&e, ROAR_KEY_MODULES);
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint32(pk, 0);
	mp_pack_cstr(pk, "/nonexistent/libroar-test.so");
	apply(&e);
}

START_TEST(schema_key_order)
{
	static const char *const no_optional[] = { "fd_yields", "callsites",
						   "unseen", NULL };
	static const char *const no_callsites[] = { "callsites", "unseen",
						    NULL };
	static const char *const no_yields[] = { "fd_yields", "unseen", NULL };
	const msgpack_object *procs, *cs, *pipes, *files, *frames;
	struct report r;

	build_full_run();
	pack(&r);
	check_keys(r.root, top_keys, NULL);
	check_keys(mp_get(r.root, "roar_preload"), preload_keys, NULL);
	procs = array(r.root, "processes");
	check_keys(process(procs, ROOT), proc_keys, no_optional);
	check_keys(process(procs, 101), proc_keys, no_callsites);
	check_keys(process(procs, 102), proc_keys, no_yields);
	files = array(r.root, "files");
	for (uint32_t i = 0; i < files->via.array.size; i++)
		check_keys(&files->via.array.ptr[i], file_keys, NULL);
	pipes = array(r.root, "pipes");
	ck_assert_uint_eq(pipes->via.array.size, 1);
	check_keys(&pipes->via.array.ptr[0], pipe_keys, NULL);
	cs = array(process(procs, 102), "callsites");
	ck_assert_uint_eq(cs->via.array.size, 1);
	check_keys(&cs->via.array.ptr[0], callsite_keys, NULL);
	ck_assert(mp_is_str(mp_get(&cs->via.array.ptr[0], "kind"), "read"));
	frames = array(&cs->via.array.ptr[0], "frames");
	ck_assert_uint_eq(frames->via.array.size, 2);
	for (uint32_t i = 0; i < 2; i++)
		check_keys(&frames->via.array.ptr[i], frame_keys, NULL);
	report_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("report_schema");

	unit_tcase(s, "pack", setup, teardown, UNIT_TESTS(schema_key_order));
	return unit_run(s);
}
