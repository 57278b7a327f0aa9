/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event structs to msgpack frames, packed into fixed caller buffers.  Uses
 * only msgpack-c's header-inline packer, so the preload library needs no
 * libmsgpackc and never allocates.  Never sends anything: transport.c does.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <msgpack/pack.h>

#include "roar/pack.h"
#include "roar/utf8.h"
#include "backtrace.h"
#include "event.h"

static const char *const kind_names[] = ROAR_KIND_NAMES_INIT;

/* Room kept free for the keys that follow a truncated list. */
#define TAIL_RESERVE 256u

static int
frame_append(void *data, const char *buf, size_t len)
{
	struct roar_frame *f = data;

	if (f->overflow || len > f->cap - f->len) {
		f->overflow = true;
		return -1;
	}
	memcpy(f->data + f->len, buf, len);
	f->len += len;
	return 0;
}

void
roar_frame_init(struct roar_frame *f, void *buf, size_t cap)
{
	f->data = buf;
	f->cap = cap;
	f->len = ROAR_FRAME_HEADER_SIZE;
	f->overflow = false;
}

int
roar_frame_finish(struct roar_frame *f)
{
	if (f->overflow)
		return -EMSGSIZE;
	roar_frame_put_len(f->data,
			   (uint32_t)(f->len - ROAR_FRAME_HEADER_SIZE));
	return 0;
}

static void
pack_head(msgpack_packer *pk, struct roar_frame *f, size_t nkeys,
	  enum roar_kind kind, const struct roar_event_ids *ids)
{
	msgpack_packer_init(pk, f, frame_append);
	msgpack_pack_map(pk, nkeys + 3);
	roar_pack_key(pk, ROAR_KEY_KIND);
	roar_pack_cstr(pk, kind_names[kind]);
	roar_pack_key(pk, ROAR_KEY_PID);
	msgpack_pack_int64(pk, ids->pid);
	roar_pack_key(pk, ROAR_KEY_TID);
	msgpack_pack_int64(pk, ids->tid);
}

/*
 * How many leading strings of list fit in budget bytes of packed output.
 * Sets *all when every one fits.
 */
static size_t
fitting(char *const *list, size_t budget, bool *all)
{
	size_t n = 0, used = 5;

	*all = true;
	for (; list && list[n]; n++) {
		size_t cost = strlen(list[n]) + 5;

		if (used > budget || cost > budget - used) {
			*all = false;
			break;
		}
		used += cost;
	}
	return n;
}

static void
pack_list(msgpack_packer *pk, char *const *list, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		roar_pack_cstr(pk, list[i]);
}

int
roar_event_file(struct roar_frame *f, const struct roar_event_ids *ids,
		enum roar_kind kind, const char *path, size_t len,
		const char *via)
{
	return roar_event_file_at(f, ids, kind, path, len, via, NULL);
}

int
roar_event_file_at(struct roar_frame *f, const struct roar_event_ids *ids,
		   enum roar_kind kind, const char *path, size_t len,
		   const char *via, const struct roar_callsite *cs)
{
	msgpack_packer pk;
	bool stack = cs && cs->n > 0, mods = cs && cs->nnew > 0;

	pack_head(&pk, f, 1u + (via != NULL) + stack + mods, kind, ids);
	roar_pack_key(&pk, ROAR_KEY_PATH);
	roar_pack_bytes(&pk, path, len);
	if (via) {
		roar_pack_key(&pk, ROAR_KEY_VIA);
		roar_pack_cstr(&pk, via);
	}
	if (stack) {
		roar_pack_key(&pk, ROAR_KEY_STACK);
		msgpack_pack_array(&pk, cs->n);
		for (unsigned i = 0; i < cs->n; i++) {
			msgpack_pack_array(&pk, 2);
			msgpack_pack_uint32(&pk, cs->frame[i].module);
			msgpack_pack_uint64(&pk, cs->frame[i].offset);
		}
	}
	if (mods) {
		roar_pack_key(&pk, ROAR_KEY_MODULES);
		msgpack_pack_array(&pk, cs->nnew);
		for (unsigned i = 0; i < cs->nnew; i++) {
			msgpack_pack_array(&pk, 2);
			msgpack_pack_uint32(&pk, cs->mod[i].id);
			roar_pack_bytes(&pk, cs->mod[i].name, cs->mod[i].len);
		}
	}
	return roar_frame_finish(f);
}

int
roar_event_hello(struct roar_frame *f, const struct roar_event_ids *ids,
		 const struct roar_hello *h)
{
	msgpack_packer pk;
	size_t fixed = TAIL_RESERVE * 4 + (h->cwd ? strlen(h->cwd) : 0) +
		       (h->exe ? strlen(h->exe) : 0);
	size_t room = f->cap > fixed ? f->cap - fixed : 0;
	size_t nargv = 0, nenv = 0, nkeys = 4;
	bool all_argv = true, all_env = true;

	if (h->argv) {
		nargv = fitting(h->argv, room / 2, &all_argv);
		nkeys++;
	}
	if (h->envp) {
		nenv = fitting(h->envp, room / 2, &all_env);
		nkeys++;
	}
	nkeys += (h->cwd != NULL) + (h->exe != NULL) + (!all_argv || !all_env) +
		 h->late + (h->pidns != 0) + h->has_ledger;
	pack_head(&pk, f, nkeys, ROAR_KIND_HELLO, ids);
	roar_pack_key(&pk, ROAR_KEY_PROTO);
	msgpack_pack_uint32(&pk, ROAR_PROTOCOL_VERSION);
	roar_pack_key(&pk, ROAR_KEY_PPID);
	msgpack_pack_int64(&pk, h->ppid);
	roar_pack_key(&pk, ROAR_KEY_ORIGIN);
	roar_pack_cstr(&pk, h->origin);
	roar_pack_key(&pk, ROAR_KEY_TIME);
	msgpack_pack_double(&pk, h->time);
	if (h->argv) {
		roar_pack_key(&pk, ROAR_KEY_ARGV);
		pack_list(&pk, h->argv, nargv);
	}
	if (h->envp) {
		roar_pack_key(&pk, ROAR_KEY_ENV);
		pack_list(&pk, h->envp, nenv);
	}
	if (h->cwd) {
		roar_pack_key(&pk, ROAR_KEY_CWD);
		roar_pack_cstr(&pk, h->cwd);
	}
	if (h->exe) {
		roar_pack_key(&pk, ROAR_KEY_EXE);
		roar_pack_cstr(&pk, h->exe);
	}
	if (!all_argv || !all_env) {
		roar_pack_key(&pk, ROAR_KEY_TRUNCATED);
		msgpack_pack_true(&pk);
	}
	if (h->late) {
		roar_pack_key(&pk, ROAR_KEY_LATE);
		msgpack_pack_true(&pk);
	}
	if (h->pidns) {
		roar_pack_key(&pk, ROAR_KEY_PIDNS);
		msgpack_pack_uint64(&pk, h->pidns);
	}
	if (h->has_ledger) {
		roar_pack_key(&pk, ROAR_KEY_LEDGER);
		msgpack_pack_uint64(&pk, h->ledger);
	}
	return roar_frame_finish(f);
}

/* An event of kind whose one field is key, an unsigned integer. */
static int
one_uint_event(struct roar_frame *f, const struct roar_event_ids *ids,
	       enum roar_kind kind, const char *key, uint64_t v)
{
	msgpack_packer pk;

	pack_head(&pk, f, 1, kind, ids);
	roar_pack_key(&pk, key);
	msgpack_pack_uint64(&pk, v);
	return roar_frame_finish(f);
}

int
roar_event_fork(struct roar_frame *f, const struct roar_event_ids *ids,
		pid_t child)
{
	/* A pid is positive: packed as the same msgpack integer. */
	return one_uint_event(f, ids, ROAR_KIND_FORK, ROAR_KEY_CHILD,
			      (uint64_t)child);
}

size_t
roar_event_exec_size(const char *exe, char *const *argv)
{
	size_t n = TAIL_RESERVE + 64 + strlen(exe) + 5; /* + the array header,
							   as fitting() counts */

	for (size_t i = 0; argv && argv[i]; i++)
		n += strlen(argv[i]) + 5;
	return n;
}

int
roar_event_exec(struct roar_frame *f, const struct roar_event_ids *ids,
		pid_t subject, pid_t ppid, const char *exe, char *const *argv,
		double time)
{
	msgpack_packer pk;
	size_t room = f->cap > TAIL_RESERVE + 64 + strlen(exe)
			      ? f->cap - TAIL_RESERVE - 64 - strlen(exe)
			      : 0;
	bool all = true;
	size_t n = fitting(argv, room, &all);

	pack_head(&pk, f, 3 + !all + (subject > 0) + (ppid > 0), ROAR_KIND_EXEC,
		  ids);
	if (subject > 0) {
		roar_pack_key(&pk, ROAR_KEY_SUBJECT);
		msgpack_pack_int64(&pk, subject);
	}
	if (ppid > 0) {
		roar_pack_key(&pk, ROAR_KEY_PPID);
		msgpack_pack_int64(&pk, ppid);
	}
	roar_pack_key(&pk, ROAR_KEY_EXE);
	roar_pack_cstr(&pk, exe);
	roar_pack_key(&pk, ROAR_KEY_ARGV);
	pack_list(&pk, argv, n);
	roar_pack_key(&pk, ROAR_KEY_TIME);
	msgpack_pack_double(&pk, time);
	if (!all) {
		roar_pack_key(&pk, ROAR_KEY_TRUNCATED);
		msgpack_pack_true(&pk);
	}
	return roar_frame_finish(f);
}

int
roar_event_exec_failed(struct roar_frame *f, const struct roar_event_ids *ids,
		       int err, double time)
{
	msgpack_packer pk;

	pack_head(&pk, f, 2, ROAR_KIND_EXEC_FAILED, ids);
	roar_pack_key(&pk, ROAR_KEY_ERRNO);
	msgpack_pack_int(&pk, err);
	roar_pack_key(&pk, ROAR_KEY_TIME);
	msgpack_pack_double(&pk, time);
	return roar_frame_finish(f);
}

int
roar_event_exit(struct roar_frame *f, const struct roar_event_ids *ids,
		pid_t ppid, int status, double time, uint64_t fd_yields)
{
	msgpack_packer pk;

	pack_head(&pk, f, 2 + (ppid > 0) + (fd_yields > 0), ROAR_KIND_EXIT,
		  ids);
	if (ppid > 0) {
		roar_pack_key(&pk, ROAR_KEY_PPID);
		msgpack_pack_int64(&pk, ppid);
	}
	roar_pack_key(&pk, ROAR_KEY_STATUS);
	msgpack_pack_int(&pk, status);
	roar_pack_key(&pk, ROAR_KEY_TIME);
	msgpack_pack_double(&pk, time);
	if (fd_yields > 0) {
		roar_pack_key(&pk, ROAR_KEY_FD_YIELDS);
		msgpack_pack_uint64(&pk, fd_yields);
	}
	return roar_frame_finish(f);
}

int
roar_event_reaped(struct roar_frame *f, const struct roar_event_ids *ids,
		  pid_t child, int status)
{
	msgpack_packer pk;

	pack_head(&pk, f, 2, ROAR_KIND_REAPED, ids);
	roar_pack_key(&pk, ROAR_KEY_CHILD);
	msgpack_pack_int64(&pk, child);
	roar_pack_key(&pk, ROAR_KEY_STATUS);
	msgpack_pack_int(&pk, status);
	return roar_frame_finish(f);
}

int
roar_event_resume(struct roar_frame *f, const struct roar_event_ids *ids,
		  uint64_t slot)
{
	return one_uint_event(f, ids, ROAR_KIND_RESUME, ROAR_KEY_LEDGER, slot);
}

int
roar_event_dropped(struct roar_frame *f, const struct roar_event_ids *ids,
		   uint64_t count)
{
	return one_uint_event(f, ids, ROAR_KIND_DROPPED, ROAR_KEY_COUNT, count);
}

int
roar_event_pipe(struct roar_frame *f, const struct roar_event_ids *ids,
		uint64_t dev, uint64_t ino, bool write)
{
	msgpack_packer pk;

	pack_head(&pk, f, 3, ROAR_KIND_PIPE, ids);
	roar_pack_key(&pk, ROAR_KEY_PIPE);
	msgpack_pack_uint64(&pk, ino);
	roar_pack_key(&pk, ROAR_KEY_DEV);
	msgpack_pack_uint64(&pk, dev);
	roar_pack_key(&pk, ROAR_KEY_DIR);
	roar_pack_cstr(&pk, write ? ROAR_DIR_WRITE : ROAR_DIR_READ);
	return roar_frame_finish(f);
}

int
roar_event_supervise(struct roar_frame *f, const struct roar_event_ids *ids,
		     const char *exe, double time)
{
	msgpack_packer pk;

	pack_head(&pk, f, 2, ROAR_KIND_SUPERVISE, ids);
	roar_pack_key(&pk, ROAR_KEY_EXE);
	roar_pack_cstr(&pk, exe);
	roar_pack_key(&pk, ROAR_KEY_TIME);
	msgpack_pack_double(&pk, time);
	return roar_frame_finish(f);
}

int
roar_event_unseen(struct roar_frame *f, const struct roar_event_ids *ids,
		  const char *what, int err)
{
	msgpack_packer pk;

	pack_head(&pk, f, 1u + (err != 0), ROAR_KIND_UNSEEN, ids);
	roar_pack_key(&pk, ROAR_KEY_WHAT);
	roar_pack_cstr(&pk, what);
	if (err) {
		roar_pack_key(&pk, ROAR_KEY_ERRNO);
		msgpack_pack_int(&pk, err);
	}
	return roar_frame_finish(f);
}
