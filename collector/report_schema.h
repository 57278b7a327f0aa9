/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report's schema, the one place its keys are spelled (README "What
 * the report says", docs/roar-compat.md "The report").  Each map of the
 * report has a list below, in the order its keys are written:
 *
 *	X(NAME, "key", PRESENCE, a)
 *
 * Every entry becomes a constant ROAR_R_NAME holding its key, which
 * writers pack (pack.h) and readers look up (roar_mp_get).  PRESENCE says
 * in which maps the key is (a is passed through to X):
 *
 *	ALWAYS    in every report, single or merged
 *	SINGLE    only in the report of one run (report.c)
 *	OPTIONAL  in the report of one run, where its writer's predicate
 *	          roar_r_has_NAME(subject) holds (only some processes have
 *	          fd_yields); readers must expect it missing
 *	MERGED    only in a report merged of several (rmerge.c)
 *
 * A writer's map size is the count of its list, never typed by hand:
 * ROAR_R_SIZE(LIST), ROAR_R_SINGLE_SIZE(LIST, subject) and
 * ROAR_R_MERGED_SIZE(LIST).
 */
#ifndef ROAR_REPORT_SCHEMA_H
#define ROAR_REPORT_SCHEMA_H

/* The top-level map. */
#define ROAR_REPORT_TOP_KEYS(X, a)                                   \
	X(TOP_VERSION, "version", ALWAYS, a)                         \
	X(TOP_PROCESSES, "processes", ALWAYS, a)                     \
	X(TOP_FILES, "files", ALWAYS, a)                             \
	X(TOP_OPENED_FILES, "opened_files", ALWAYS, a)               \
	X(TOP_READ_FILES, "read_files", ALWAYS, a)                   \
	X(TOP_WRITTEN_FILES, "written_files", ALWAYS, a)             \
	X(TOP_START_TIME, "start_time", ALWAYS, a)                   \
	X(TOP_END_TIME, "end_time", ALWAYS, a)                       \
	X(TOP_TRACER_MODE, "tracer_mode", ALWAYS, a)                 \
	X(TOP_EVENTS_DROPPED, "events_dropped", ALWAYS, a)           \
	X(TOP_FRAMES_REFUSED, "frames_refused", ALWAYS, a)           \
	X(TOP_CONNECTIONS_REFUSED, "connections_refused", ALWAYS, a) \
	X(TOP_PIPES, "pipes", ALWAYS, a)                             \
	X(TOP_HOSTS, "hosts", MERGED, a)                             \
	X(TOP_MERGED_FROM, "merged_from", MERGED, a)                 \
	X(TOP_ROAR_PRELOAD, "roar_preload", ALWAYS, a)

/* The value of "tracer_mode". */
#define ROAR_R_TRACER_MODE_PRELOAD "preload"

/* One process of "processes". */
#define ROAR_REPORT_PROC_KEYS(X, a)                           \
	X(PROC_PID, "pid", ALWAYS, a)                         \
	X(PROC_HOST, "host", ALWAYS, a)                       \
	X(PROC_PARENT_PID, "parent_pid", ALWAYS, a)           \
	X(PROC_COMMAND, "command", ALWAYS, a)                 \
	X(PROC_ENV, "env", ALWAYS, a)                         \
	X(PROC_CWD, "cwd", ALWAYS, a)                         \
	X(PROC_EXE, "exe", ALWAYS, a)                         \
	X(PROC_EXIT_CODE, "exit_code", ALWAYS, a)             \
	X(PROC_EXIT_SIGNAL, "exit_signal", ALWAYS, a)         \
	X(PROC_TRACED, "traced", ALWAYS, a)                   \
	X(PROC_UNTRACED_REASON, "untraced_reason", ALWAYS, a) \
	X(PROC_TRACED_BY, "traced_by", ALWAYS, a)             \
	X(PROC_STILL_RUNNING, "still_running", ALWAYS, a)     \
	X(PROC_EVENTS_DROPPED, "events_dropped", ALWAYS, a)   \
	X(PROC_INCOMPLETE, "incomplete", ALWAYS, a)           \
	X(PROC_PARENT_INFERRED, "parent_inferred", ALWAYS, a) \
	X(PROC_START_TIME, "start_time", ALWAYS, a)           \
	X(PROC_END_TIME, "end_time", ALWAYS, a)               \
	X(PROC_READ_PATHS, "read_paths", ALWAYS, a)           \
	X(PROC_WRITTEN_PATHS, "written_paths", ALWAYS, a)     \
	X(PROC_FD_YIELDS, "fd_yields", OPTIONAL, a)           \
	X(PROC_CALLSITES, "callsites", OPTIONAL, a)           \
	X(PROC_UNSEEN, "unseen", OPTIONAL, a)                 \
	X(PROC_TRUNCATED, "truncated", ALWAYS, a)

/* One file of "files". */
#define ROAR_REPORT_FILE_KEYS(X, a)                           \
	X(FILE_PATH, "path", ALWAYS, a)                       \
	X(FILE_READ, "read", ALWAYS, a)                       \
	X(FILE_WRITTEN, "written", ALWAYS, a)                 \
	X(FILE_READ_THREADS, "read_threads", ALWAYS, a)       \
	X(FILE_WRITTEN_THREADS, "written_threads", ALWAYS, a) \
	X(FILE_HOST, "host", MERGED, a)

/* "roar_preload": ours, about the run and the tracer. */
#define ROAR_REPORT_PRELOAD_KEYS(X, a)                          \
	X(RP_VERSION, "version", ALWAYS, a)                     \
	X(RP_LEDGER, "ledger", SINGLE, a)                       \
	X(RP_LEDGER_UNBELIEVED, "ledger_unbelieved", SINGLE, a) \
	X(RP_ROOT_PID, "root_pid", SINGLE, a)                   \
	X(RP_BAD_FRAMES, "bad_frames", SINGLE, a)               \
	X(RP_UNKNOWN_EVENTS, "unknown_events", SINGLE, a)       \
	X(RP_FRAMES_TORN, "frames_torn", SINGLE, a)             \
	X(RP_BYTES_TORN, "bytes_torn", SINGLE, a)               \
	X(RP_LISTS_TRUNCATED, "lists_truncated", SINGLE, a)     \
	X(RP_BLIND_SPOTS, "blind_spots", SINGLE, a)             \
	X(RP_SUPERVISOR, "supervisor", SINGLE, a)               \
	X(RP_MERGED, "merged", MERGED, a)

/* One pipe of "pipes" (pipes.h). */
#define ROAR_REPORT_PIPE_KEYS(X, a)           \
	X(PIPE_ID, "id", ALWAYS, a)           \
	X(PIPE_INODE, "inode", ALWAYS, a)     \
	X(PIPE_DEV, "dev", ALWAYS, a)         \
	X(PIPE_WRITERS, "writers", ALWAYS, a) \
	X(PIPE_READERS, "readers", ALWAYS, a) \
	X(PIPE_HOST, "host", MERGED, a)

/* One call site of a process's "callsites" (callsites.h). */
#define ROAR_REPORT_CALLSITE_KEYS(X, a) \
	X(CS_PATH, "path", ALWAYS, a)   \
	X(CS_KIND, "kind", ALWAYS, a)   \
	X(CS_FRAMES, "frames", ALWAYS, a)

/* The values of a call site's "kind". */
#define ROAR_R_CS_KIND_READ "read"
#define ROAR_R_CS_KIND_WRITE "write"

/* One frame of a call site's "frames". */
#define ROAR_REPORT_FRAME_KEYS(X, a)             \
	X(FRAME_MODULE, "module", ALWAYS, a)     \
	X(FRAME_OFFSET, "offset", ALWAYS, a)     \
	X(FRAME_FUNCTION, "function", ALWAYS, a) \
	X(FRAME_FILE, "file", ALWAYS, a)         \
	X(FRAME_LINE, "line", ALWAYS, a)

/* One entry of a merged report's "merged_from". */
#define ROAR_REPORT_MERGED_FROM_KEYS(X, a) \
	X(MF_HOST, "host", MERGED, a)      \
	X(MF_REPORT, "report", MERGED, a)  \
	X(MF_ROAR_PRELOAD, "roar_preload", MERGED, a)

/* ---- what the lists make ------------------------------------------- */

#define ROAR_R_DEFINE_(name, key, presence, a) \
	static const char ROAR_R_##name[] = key;
ROAR_REPORT_TOP_KEYS(ROAR_R_DEFINE_, )
ROAR_REPORT_PROC_KEYS(ROAR_R_DEFINE_, )
ROAR_REPORT_FILE_KEYS(ROAR_R_DEFINE_, )
ROAR_REPORT_PRELOAD_KEYS(ROAR_R_DEFINE_, )
ROAR_REPORT_PIPE_KEYS(ROAR_R_DEFINE_, )
ROAR_REPORT_CALLSITE_KEYS(ROAR_R_DEFINE_, )
ROAR_REPORT_FRAME_KEYS(ROAR_R_DEFINE_, )
ROAR_REPORT_MERGED_FROM_KEYS(ROAR_R_DEFINE_, )
#undef ROAR_R_DEFINE_

/* Whether an entry is in a single run's map; s is the writer's subject. */
#define ROAR_R_IN_SINGLE_ALWAYS(name, s) 1
#define ROAR_R_IN_SINGLE_SINGLE(name, s) 1
#define ROAR_R_IN_SINGLE_OPTIONAL(name, s) roar_r_has_##name(s)
#define ROAR_R_IN_SINGLE_MERGED(name, s) 0
/* Whether an entry is in a merged report's map. */
#define ROAR_R_IN_MERGED_ALWAYS(name) 1
#define ROAR_R_IN_MERGED_SINGLE(name) 0
#define ROAR_R_IN_MERGED_OPTIONAL(name) 0
#define ROAR_R_IN_MERGED_MERGED(name) 1

/*
 * The size of a single run's map of LIST (ROAR_REPORT_PROC_KEYS, ...):
 * its entries in it, counting an OPTIONAL one where roar_r_has_NAME(s)
 * says so.  ROAR_R_SIZE is that of a list with no OPTIONAL entry.
 */
#define ROAR_R_SINGLE_SIZE(LIST, s) (0 LIST(ROAR_R_SINGLE_ONE_, s))
#define ROAR_R_SIZE(LIST) ROAR_R_SINGLE_SIZE(LIST, )
#define ROAR_R_SINGLE_ONE_(name, key, presence, s) \
	+ROAR_R_IN_SINGLE_##presence(name, s)
/* The size of a merged report's map of LIST. */
#define ROAR_R_MERGED_SIZE(LIST) (0 LIST(ROAR_R_MERGED_ONE_, ))
#define ROAR_R_MERGED_ONE_(name, key, presence, a) \
	+ROAR_R_IN_MERGED_##presence(name)

#endif /* ROAR_REPORT_SCHEMA_H */
