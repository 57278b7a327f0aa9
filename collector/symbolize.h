/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call-site addresses to names, after the run: a module's file and an
 * offset in it to the function, and the source file and line where debug
 * information exists (elfutils' libdwfl; separate debug files are found
 * the standard way, by build id or .gnu_debuglink).  Each module is opened
 * once per symbolizer and each address looked up once.
 */
#ifndef ROAR_SYMBOLIZE_H
#define ROAR_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

struct roar_symbolizer;

/* What is known of one address; strings belong to the symbolizer. */
struct roar_symbol {
	const char *function; /* NULL when unknown */
	const char *file;     /* NULL when there is no line information */
	int line;             /* 0 with file NULL */
	uint64_t addr;        /* the address in the module's ELF (what
				  addr2line -e MODULE takes); 0 if unknown */
};

struct roar_symbolizer *roar_symbolizer_new(void);
void roar_symbolizer_free(struct roar_symbolizer *s);

/**
 * Look up the call at file offset off of module (a path).
 * @return true when anything is known (out is filled either way).
 */
bool roar_symbolize(struct roar_symbolizer *s, const char *module, uint64_t off,
		    struct roar_symbol *out);

#endif /* ROAR_SYMBOLIZE_H */
