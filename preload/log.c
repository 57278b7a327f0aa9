/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The async-signal-safe logger behind ROAR_LOG().  It formats into a stack
 * buffer and writes with a raw syscall, so it may run inside any hook.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "real.h"

bool roar_log_enabled ROAR_HOT;

static size_t
put_str(char *buf, size_t pos, size_t cap, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s && pos < cap)
		buf[pos++] = *s++;
	return pos;
}

static size_t
put_num(char *buf, size_t pos, size_t cap, unsigned long v, bool neg,
	unsigned base)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg && pos < cap)
		buf[pos++] = '-';
	while (n && pos < cap)
		buf[pos++] = tmp[--n];
	return pos;
}

void
roar_log_write(const char *fmt, ...)
{
	char buf[512];
	size_t pos = 0, cap = sizeof(buf) - 1;
	int saved = errno;
	va_list ap;

	pos = put_str(buf, pos, cap, "roar-preload[");
	pos = put_num(buf, pos, cap, (unsigned long)ROAR_SYS(SYS_getpid), false,
		      10);
	pos = put_str(buf, pos, cap, "]: ");
	va_start(ap, fmt);
	for (const char *p = fmt; *p && pos < cap; p++) {
		if (*p != '%') {
			buf[pos++] = *p;
			continue;
		}
		p++;
		if (*p == 'l' || *p == 'z') {
			p++;
			if (*p == 'd') {
				long v = va_arg(ap, long);
				pos = put_num(buf, pos, cap,
					      v < 0 ? -(unsigned long)v
						    : (unsigned long)v,
					      v < 0, 10);
			} else {
				pos = put_num(buf, pos, cap,
					      va_arg(ap, unsigned long), false,
					      *p == 'x' ? 16 : 10);
			}
		} else if (*p == 'd') {
			int v = va_arg(ap, int);
			pos = put_num(buf, pos, cap,
				      v < 0 ? -(unsigned long)v
					    : (unsigned long)v,
				      v < 0, 10);
		} else if (*p == 'u' || *p == 'x') {
			pos = put_num(buf, pos, cap, va_arg(ap, unsigned),
				      false, *p == 'x' ? 16 : 10);
		} else if (*p == 's') {
			pos = put_str(buf, pos, cap, va_arg(ap, const char *));
		} else if (*p == '%') {
			buf[pos++] = '%';
		} else {
			break;
		}
	}
	va_end(ap);
	buf[pos++] = '\n';
	ROAR_SYS(SYS_write, 2, buf, pos);
	errno = saved;
}
