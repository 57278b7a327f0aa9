/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wire format between libroar_preload.so and a collector, and nothing
 * else.  Both sides include this header; it must stay valid C99 and C++.
 *
 * A frame is a 4-byte little-endian unsigned length followed by that many
 * bytes holding exactly one msgpack map with string keys.  Every map has
 * the key "kind" (a string from roar_kind_names) and "pid".  File events
 * (read, write, open_read, open_write) are the four kinds roar's own
 * listeners understand; they carry "pid", "thread_id" and "path".  Every
 * other kind is ours and must never carry the key "path", because roar's
 * listeners would count it as a read of that path (docs/roar-compat.md).
 * A path is a msgpack str when it is valid UTF-8 and a msgpack bin when it
 * is not, so that odd bytes reach the report unchanged.
 */
#ifndef ROAR_PROTOCOL_H
#define ROAR_PROTOCOL_H

#include <stdint.h>

/** Version of this wire format; sent in every hello as "proto". */
#define ROAR_PROTOCOL_VERSION 1

/** Bytes in a frame header: the little-endian payload length. */
#define ROAR_FRAME_HEADER_SIZE 4

/**
 * Largest payload a collector accepts.  A hello carries argv and the
 * environment, so this is generous; a larger length is a broken frame.
 */
#define ROAR_FRAME_MAX_PAYLOAD (4u * 1024u * 1024u)

/** Environment variable naming the collector's Unix socket (roar's name). */
#define ROAR_ENV_SOCK "ROAR_PRELOAD_TRACE_SOCK"
/** Environment variable naming the preload library (roar's name). */
#define ROAR_ENV_LIB "ROAR_PRELOAD_LIB"
/** Where plain LD_PRELOAD mode writes its report (default ./roar-report.msgpack). */
#define ROAR_ENV_REPORT "ROAR_REPORT"
/** Set to any non-empty value for diagnostics on stderr. */
#define ROAR_ENV_DEBUG "ROAR_DEBUG"
/**
 * Set by the library in an environment it mended for an exec, never by
 * users: which of its variables it put there ("P": LD_PRELOAD added, "p":
 * our library put first in LD_PRELOAD, "S": the socket variable added,
 * "L": ROAR_PRELOAD_LIB added), also set so by the launcher,
 * so that the new image takes them back out of its own environment.
 */
#define ROAR_ENV_INJECTED "ROAR_PRELOAD_INJECTED"
/**
 * Set by the library, never by users, in the environment of an exec it
 * hands its connection over to: the fd number, which the new image adopts
 * (and takes out of its environment) instead of connecting anew.
 */
#define ROAR_ENV_CONN "ROAR_PRELOAD_CONN"
/** Path of the collector program plain LD_PRELOAD mode starts. */
#define ROAR_ENV_COLLECTOR "ROAR_COLLECTOR"
/**
 * Seconds to wait for descendants once the root has ended (they are then
 * marked still running); in plain LD_PRELOAD mode also, plus a margin,
 * how long the root waits at its exit for the report.
 */
#define ROAR_ENV_WAIT_TIMEOUT "ROAR_WAIT_TIMEOUT"

/**
 * Event kinds.  The numeric values are ours (they index roar_kind_names and
 * never travel on the wire); the names are the wire's "kind" strings.
 */
enum roar_kind {
	ROAR_KIND_READ = 0,      /**< bytes moved out of path */
	ROAR_KIND_WRITE = 1,     /**< bytes moved into path, or path modified */
	ROAR_KIND_OPEN_READ = 2, /**< path opened read-only (OpenRead credit) */
	ROAR_KIND_OPEN_WRITE = 3,  /**< reserved: roar counts it as a read */
	ROAR_KIND_HELLO = 4,       /**< a process image or fork child starts */
	ROAR_KIND_FORK = 5,        /**< the sender created process "child" */
	ROAR_KIND_EXEC = 6,        /**< the sender is about to exec "exe" */
	ROAR_KIND_EXEC_FAILED = 7, /**< that exec returned with "errno" */
	ROAR_KIND_EXIT = 8,        /**< the sender calls exit with "status" */
	ROAR_KIND_REAPED = 9,   /**< the sender reaped "child" with "status" */
	ROAR_KIND_DROPPED = 10, /**< the sender lost "count" more events */
	ROAR_KIND_RESUME = 11,  /**< a new connection of the sender goes on
				       with its image's stream; "ledger" */
	ROAR_KIND_PIPE = 12,    /**< the sender first read or wrote the
				       pipe (or FIFO) "pipe" on "dev" in
				       direction "dir"; never a "path" */
	ROAR_KIND_SUPERVISE = 13, /**< the sender hands the collector the
				       seccomp listener of the filter it
				       installed (SCM_RIGHTS, with this
				       frame) before it execs "exe" */
	ROAR_KIND_UNSEEN = 14,    /**< the sender did something whose file
				       I/O no tracer of ours sees: "what"
				       (ROAR_UNSEEN_*) */
	ROAR_KIND_COUNT_
};

/* The wire's "kind" strings, one per enum roar_kind, for code that names
 * one kind (a hello, a resume) rather than indexing the table. */
#define ROAR_KIND_NAME_READ "read"
#define ROAR_KIND_NAME_WRITE "write"
#define ROAR_KIND_NAME_OPEN_READ "open_read"
#define ROAR_KIND_NAME_OPEN_WRITE "open_write"
#define ROAR_KIND_NAME_HELLO "hello"
#define ROAR_KIND_NAME_FORK "fork"
#define ROAR_KIND_NAME_EXEC "exec"
#define ROAR_KIND_NAME_EXEC_FAILED "exec_failed"
#define ROAR_KIND_NAME_EXIT "exit"
#define ROAR_KIND_NAME_REAPED "reaped"
#define ROAR_KIND_NAME_DROPPED "dropped"
#define ROAR_KIND_NAME_RESUME "resume"
#define ROAR_KIND_NAME_PIPE "pipe"
#define ROAR_KIND_NAME_SUPERVISE "supervise"
#define ROAR_KIND_NAME_UNSEEN "unseen"

#define ROAR_KIND_NAMES_INIT                                                 \
	{                                                                    \
		ROAR_KIND_NAME_READ, ROAR_KIND_NAME_WRITE,                   \
			ROAR_KIND_NAME_OPEN_READ, ROAR_KIND_NAME_OPEN_WRITE, \
			ROAR_KIND_NAME_HELLO, ROAR_KIND_NAME_FORK,           \
			ROAR_KIND_NAME_EXEC, ROAR_KIND_NAME_EXEC_FAILED,     \
			ROAR_KIND_NAME_EXIT, ROAR_KIND_NAME_REAPED,          \
			ROAR_KIND_NAME_DROPPED, ROAR_KIND_NAME_RESUME,       \
			ROAR_KIND_NAME_PIPE, ROAR_KIND_NAME_SUPERVISE,       \
			ROAR_KIND_NAME_UNSEEN                                \
	}

/* Map keys.  Each names one field; its type is given beside it. */
#define ROAR_KEY_KIND "kind"     /* str */
#define ROAR_KEY_PID "pid"       /* uint */
#define ROAR_KEY_TID "thread_id" /* uint, kernel thread id */
#define ROAR_KEY_PATH "path"     /* str or bin; file events only */
#define ROAR_KEY_PROTO "proto"   /* uint, hello only */
#define ROAR_KEY_PPID "ppid"     /* uint: hello, exec, exit */
#define ROAR_KEY_ORIGIN "origin" /* str: "exec" or "fork", hello */
#define ROAR_KEY_ARGV "argv"     /* array of str/bin */
#define ROAR_KEY_ENV "env"       /* array of "NAME=value" str/bin */
#define ROAR_KEY_CWD "cwd"       /* str or bin */
#define ROAR_KEY_EXE "exe"       /* str or bin: image or exec target */
#define ROAR_KEY_TIME "time"     /* float, Unix seconds */
#define ROAR_KEY_CHILD "child"   /* uint: fork and reaped */
#define ROAR_KEY_STATUS "status" /* int: exit code, or wait status */
#define ROAR_KEY_ERRNO "errno"   /* int: exec_failed */
#define ROAR_KEY_COUNT \
	"count" /* uint: events lost since the last
					   dropped event of this sender */
#define ROAR_KEY_SUBJECT \
	"subject" /* uint: the process an exec event
					   speaks for when that is not the
					   sender (a posix_spawn child); see
					   "Identity" below */
#define ROAR_KEY_PIDNS \
	"pidns" /* uint, hello: the inode of the
					   sender's PID namespace, so that a
					   collector in another one knows the
					   "pid" is that namespace's */
#define ROAR_KEY_LATE \
	"late" /* bool, fork-origin hello: the
					   process was noticed after the fact
					   (a raw clone, _Fork), so "time" is
					   when it was noticed, not the fork */
#define ROAR_KEY_LEDGER \
	"ledger" /* uint, hello and resume: the
					   slot the sending image counts
					   its frames in (roar/ledger.h) */
#define ROAR_KEY_FD_YIELDS \
	"fd_yields" /* uint, exit: times the process
					  gave our connection's fd back to
					  the program (it ran out of fds);
					  left out when 0 */
#define ROAR_KEY_TRUNCATED \
	"truncated" /* true, hello and exec: the sender
					   cut argv or env short to fit its
					   frame; what is there is a prefix */
#define ROAR_KEY_VIA \
	"via" /* str, file events: the call that
					   earned the credit (ROAR_VIA_*) */
#define ROAR_KEY_PIPE \
	"pipe" /* uint, pipe: the pipe's inode, as
					   /proc/self/fd names it
					   ("pipe:[INODE]") */
#define ROAR_KEY_DEV \
	"dev" /* uint, pipe: its st_dev (pipefs
					   for pipe(2), the file system of a
					   named FIFO) */
#define ROAR_KEY_DIR \
	"dir" /* str, pipe: ROAR_DIR_READ or
					   ROAR_DIR_WRITE */
#define ROAR_KEY_STACK \
	"stack" /* array of [uint module, uint
					   offset], file events: the call
					   site, innermost first; offset is
					   the call's file offset in the
					   module (README "Call sites") */
/* str, unseen: what it is about (ROAR_UNSEEN_*) */
#define ROAR_KEY_WHAT "what"
/* A "stack" module id naming no mapping; its offset is then the raw
 * address. */
#define ROAR_STACK_NO_MODULE 0xffffffffu
#define ROAR_KEY_MODULES \
	"modules" /* array of [uint module, str or bin
					   file], file events: what the
					   "stack" ids first used here name,
					   for the rest of this image (an
					   exec starts a new table) */

/*
 * Identity.  The collector knows each connection's sender from the kernel
 * (SO_PEERCRED), never from the payload: a frame whose "pid" is not its
 * connection's peer is refused and counted.  A frame about another
 * process says so with "subject" and is accepted only when that process
 * is a descendant of the sender (a parent announcing the exec of the
 * child posix_spawn made, which no hook in the child can see).  "child"
 * in fork and reaped events is checked the same way.
 *
 * Times.  A fork-origin hello's "time" is taken in the parent just before
 * the fork (unless "late"), so a child is credited to the image its parent
 * had at the fork even when the parent execs a moment later.  exec and
 * exit events carry "ppid" too: a vfork child announces itself by them.
 */

/*
 * Pipes.  A pipe is lineage between processes, not a file: the library
 * sends one pipe event per (process, pipe, direction), on the first read
 * or write, and the collector lists which processes wrote and read each
 * pipe (the report's "pipes").  It is a kind of its own so that roar's
 * listeners, which know only file events, never count it as a file.
 */
#define ROAR_DIR_READ "read"
#define ROAR_DIR_WRITE "write"

/** Values of ROAR_KEY_VIA: the call a credit is for. */
#define ROAR_VIA_OPEN "open"
#define ROAR_VIA_RENAME "rename"
#define ROAR_VIA_LINK "link"
#define ROAR_VIA_TRUNCATE "truncate"

/*
 * Values of ROAR_KEY_WHAT: what an unseen event is about.  io_uring: the
 * process set up an io_uring, whose I/O no tracer of ours sees.
 * no_supervisor: an image only the seccomp supervisor can see could not
 * be put under it ("errno" says why).  memory: the supervisor could not
 * read the process's memory, so the names of its calls are unknown.
 */
#define ROAR_UNSEEN_IO_URING "io_uring"
#define ROAR_UNSEEN_NO_SUPERVISOR "no_supervisor"
#define ROAR_UNSEEN_MEMORY "memory"

/** Values of ROAR_KEY_ORIGIN. */
#define ROAR_ORIGIN_EXEC "exec"
#define ROAR_ORIGIN_FORK "fork"

/** Read a frame header's payload length. */
static inline uint32_t
roar_frame_get_len(const unsigned char *hdr)
{
	return (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
	       (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
}

/** Write a frame header for a payload of len bytes. */
static inline void
roar_frame_put_len(unsigned char *hdr, uint32_t len)
{
	hdr[0] = (unsigned char)(len & 0xff);
	hdr[1] = (unsigned char)((len >> 8) & 0xff);
	hdr[2] = (unsigned char)((len >> 16) & 0xff);
	hdr[3] = (unsigned char)((len >> 24) & 0xff);
}

#endif /* ROAR_PROTOCOL_H */
