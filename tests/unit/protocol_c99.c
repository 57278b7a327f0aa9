/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/roar/protocol.h promises to stay valid C99 (and C++: see
 * protocol_cxx.cc) for collectors written outside this project: this
 * file is built with -std=c99 -pedantic-errors, and checks at run time
 * what the header defines.  Exit 0 when it holds.
 */
#include <stdio.h>
#include <string.h>

#include "roar/protocol.h"

static const char *const names[] = ROAR_KIND_NAMES_INIT;

int
main(void)
{
	unsigned char hdr[ROAR_FRAME_HEADER_SIZE];
	unsigned i;
	int bad = 0;

	if (sizeof(names) / sizeof(names[0]) != ROAR_KIND_COUNT_) {
		fprintf(stderr, "%u kind names for %d kinds\n",
			(unsigned)(sizeof(names) / sizeof(names[0])),
			(int)ROAR_KIND_COUNT_);
		bad = 1;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], "path")) /* never a kind's name */
			bad = 1;
	roar_frame_put_len(hdr, ROAR_FRAME_MAX_PAYLOAD);
	if (roar_frame_get_len(hdr) != ROAR_FRAME_MAX_PAYLOAD ||
	    hdr[0] != (ROAR_FRAME_MAX_PAYLOAD & 0xff)) {
		fprintf(stderr, "frame length does not round-trip\n");
		bad = 1;
	}
	if (strcmp(ROAR_KEY_PATH, "path") || strcmp(ROAR_KEY_KIND, "kind"))
		bad = 1;
	return bad;
}
