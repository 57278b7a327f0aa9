/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call sites of first file accesses (README "Call sites"): kept per
 * process as the library sent them (module ids and file offsets), turned
 * into module paths, functions and lines only when the report is
 * written, and read back by `roar-report callsites`.
 */
#ifndef ROAR_CALLSITES_H
#define ROAR_CALLSITES_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

struct roar_merge;
struct roar_proc;
struct roar_symbolizer;

/* Call sites kept per process, and in all (about 300 bytes each, so
 * some 80 MiB at most): the ones past either are left out of the report,
 * which lists the first ones. */
#define ROAR_CALLSITES_MAX_PER_PROC 4096
#define ROAR_CALLSITES_MAX_TOTAL (256u * 1024u)

/** An exec-origin hello: p's module ids start over. */
void roar_callsites_new_image(struct roar_proc *p);

/**
 * Take the call-site keys of file event ev of p (ROAR_KEY_STACK and
 * ROAR_KEY_MODULES) for file index file_index (file_index UINT32_MAX:
 * the path is not reported; only its module names are kept).
 */
void roar_callsites_on_file(struct roar_proc *p, const msgpack_object *ev,
			    uint32_t file_index, bool write);

void roar_callsites_free(struct roar_proc *p);

/** Whether p has call sites for the report. */
bool roar_callsites_any(const struct roar_proc *p);

/** Pack the value of p's "callsites", symbolized with s (may be NULL). */
void roar_callsites_pack(msgpack_packer *pk, const struct roar_merge *m,
			 const struct roar_proc *p, struct roar_symbolizer *s);

/** `roar-report callsites REPORT [PATH]`: argv[0] is "callsites". */
int roar_callsites_main(int argc, char **argv);

#endif /* ROAR_CALLSITES_H */
