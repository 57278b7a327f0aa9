/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTF-8 validation, shared by both sides of the wire: a path or string is
 * sent as msgpack str when valid and as bin when not (protocol.h).  Header
 * only, no allocation, async-signal-safe.
 */
#ifndef ROAR_UTF8_H
#define ROAR_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/**
 * @param s bytes to check
 * @param len number of bytes
 * @return true when s is well-formed UTF-8 (no overlongs, no surrogates,
 *         nothing above U+10FFFF)
 */
static inline bool
roar_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

#endif /* ROAR_UTF8_H */
