/* SPDX-License-Identifier: Apache-2.0 */
/*
 * See mpcheck.h.  Only the lengths of the msgpack format are read here
 * (the type byte and its size field); decoding is msgpack-c's.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "mpcheck.h"

/* The big-endian size field of width bytes at *pos, or false when the
 * data ends first. */
static bool
get_size(const unsigned char *p, size_t len, size_t *pos, unsigned width,
	 uint64_t *v)
{
	if (len - *pos < width)
		return false;
	*v = 0;
	for (unsigned i = 0; i < width; i++)
		*v = *v << 8 | p[(*pos)++];
	return true;
}

int
roar_mpcheck_one(const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t pos = 0;
	/* Values still to be read: one, plus every element announced. */
	uint64_t pending = 1;

	while (pending) {
		unsigned char b;
		uint64_t n = 0;    /* elements this value announces */
		uint64_t body = 0; /* bytes of payload after its header */

		if (pos >= len)
			return -EINVAL;
		b = p[pos++];
		pending--;
		if (b <= 0x7f || b >= 0xe0) {
			/* fixint */
		} else if (b <= 0x8f) {
			n = 2u * (b & 0x0fu);
		} else if (b <= 0x9f) {
			n = b & 0x0fu;
		} else if (b <= 0xbf) {
			body = b & 0x1fu;
		} else {
			static const signed char fixed[] = {
				/* c0 nil, c1 never used, c2 c3 bool */
				[0x00] = 0,
				[0x01] = -1,
				[0x02] = 0,
				[0x03] = 0,
				/* ca cb float, cc-cf uint, d0-d3 int */
				[0x0a] = 4,
				[0x0b] = 8,
				[0x0c] = 1,
				[0x0d] = 2,
				[0x0e] = 4,
				[0x0f] = 8,
				[0x10] = 1,
				[0x11] = 2,
				[0x12] = 4,
				[0x13] = 8,
				/* d4-d8 fixext: type byte and data */
				[0x14] = 2,
				[0x15] = 3,
				[0x16] = 5,
				[0x17] = 9,
				[0x18] = 17,
			};
			unsigned width = 0;
			uint64_t v;

			switch (b) {
			case 0xc4:
			case 0xc7:
			case 0xd9:
				width = 1;
				break;
			case 0xc5:
			case 0xc8:
			case 0xda:
			case 0xdc:
			case 0xde:
				width = 2;
				break;
			case 0xc6:
			case 0xc9:
			case 0xdb:
			case 0xdd:
			case 0xdf:
				width = 4;
				break;
			default:
				if (fixed[b - 0xc0] < 0)
					return -EINVAL;
				body = (uint64_t)fixed[b - 0xc0];
				break;
			}
			if (width) {
				if (!get_size(p, len, &pos, width, &v))
					return -EINVAL;
				if (b == 0xdc || b == 0xdd)
					n = v;
				else if (b == 0xde || b == 0xdf)
					n = 2 * v;
				else if (b >= 0xc7 && b <= 0xc9)
					body = v + 1; /* ext: its type byte */
				else
					body = v;
			}
		}
		if (body > len - pos)
			return -EINVAL;
		pos += (size_t)body;
		/* Each element needs a byte at least. */
		if (n > len - pos || pending + n > len - pos)
			return -EINVAL;
		pending += n;
	}
	return pos == len ? 0 : -EINVAL;
}
