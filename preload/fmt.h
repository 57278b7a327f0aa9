/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decimal formatting without stdio (async-signal-safe, no locale): for
 * the few numbers the library spells into names and environment entries.
 */
#ifndef ROAR_FMT_H
#define ROAR_FMT_H

/** Write v in decimal at dst, no NUL; returns the end. */
static inline char *
roar_fmt_uint(char *dst, unsigned long v)
{
	char digits[24];
	unsigned n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*dst++ = digits[--n];
	return dst;
}

#endif /* ROAR_FMT_H */
