// SPDX-License-Identifier: Apache-2.0
//
// include/roar/protocol.h must stay valid C++ (a collector written in
// C++ includes it as it is): built with -std=c++11 -pedantic-errors, and
// the same run-time checks as protocol_c99.c.
#include <cstdio>
#include <cstring>

#include "roar/protocol.h"

static const char *const names[] = ROAR_KIND_NAMES_INIT;

int
main()
{
	unsigned char hdr[ROAR_FRAME_HEADER_SIZE];
	const unsigned n = sizeof(names) / sizeof(names[0]);

	if (n != ROAR_KIND_COUNT_) {
		std::fprintf(stderr, "%u kind names for %d kinds\n", n,
			     static_cast<int>(ROAR_KIND_COUNT_));
		return 1;
	}
	roar_frame_put_len(hdr, 0x01020304u);
	if (roar_frame_get_len(hdr) != 0x01020304u || hdr[0] != 0x04)
		return 1;
	return std::strcmp(ROAR_KEY_PATH, "path") != 0;
}
