/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exported shims of stdio's byte movers.  glibc's stdio reads and writes
 * through internal aliases, never through read/write's PLT entries, so a
 * stream opened "r+" (read-write: no credit at open) would otherwise move
 * bytes unseen.  Each shim credits the stream's fd after a successful
 * call: a fileno and a table lookup when already credited.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "hook.h"

/* <bits/stdio.h> may define some of these as macros when optimising. */
#undef fread_unlocked
#undef fwrite_unlocked
#undef fgets_unlocked
#undef fputs_unlocked
#undef getc
#undef putc
#undef fgetc
#undef fputc
#undef getline

/* glibc exports it (libio.h) but no public header declares it. */
int __underflow(FILE *stream);

static void
credit_stream(FILE *stream, unsigned credit)
{
	int fd = stream ? fileno(stream) : -1;

	/* Memory streams (fmemopen) have no fd. */
	if (fd >= 0)
		roar_track_fd(fd, credit);
}

/* In a signal handler that interrupted our bookkeeping. */
static void
park_stream(FILE *stream, unsigned credit)
{
	int fd = stream ? fileno(stream) : -1;

	if (fd >= 0)
		roar_park_credit(fd, credit);
}

#define STREAM_CREDIT(ok, stream, credit)                                    \
	do {                                                                 \
		if (ok)                                                      \
			ROAR_AFTER_PARK(credit_stream((stream), (credit)),   \
					park_stream((stream), (credit)));    \
	} while (0)

ROAR_EXPORT size_t
fread(void *p, size_t size, size_t n, FILE *stream)
{
	size_t ret = ROAR_REAL(fread)(p, size, n, stream);

	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT size_t
fread_unlocked(void *p, size_t size, size_t n, FILE *stream)
{
	size_t ret = ROAR_REAL(fread_unlocked)(p, size, n, stream);

	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT size_t
fwrite(const void *p, size_t size, size_t n, FILE *stream)
{
	size_t ret = ROAR_REAL(fwrite)(p, size, n, stream);

	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT size_t
fwrite_unlocked(const void *p, size_t size, size_t n, FILE *stream)
{
	size_t ret = ROAR_REAL(fwrite_unlocked)(p, size, n, stream);

	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT char *
fgets(char *s, int n, FILE *stream)
{
	char *ret = ROAR_REAL(fgets)(s, n, stream);

	STREAM_CREDIT(ret != NULL, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT char *
fgets_unlocked(char *s, int n, FILE *stream)
{
	char *ret = ROAR_REAL(fgets_unlocked)(s, n, stream);

	STREAM_CREDIT(ret != NULL, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT int
fputs(const char *s, FILE *stream)
{
	int ret = ROAR_REAL(fputs)(s, stream);

	STREAM_CREDIT(ret >= 0 && *s, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
fputs_unlocked(const char *s, FILE *stream)
{
	int ret = ROAR_REAL(fputs_unlocked)(s, stream);

	STREAM_CREDIT(ret >= 0 && *s, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
fgetc(FILE *stream)
{
	int ret = ROAR_REAL(fgetc)(stream);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT int
getc(FILE *stream)
{
	int ret = ROAR_REAL(getc)(stream);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT int
fputc(int c, FILE *stream)
{
	int ret = ROAR_REAL(fputc)(c, stream);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
putc(int c, FILE *stream)
{
	int ret = ROAR_REAL(putc)(c, stream);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
vfprintf(FILE *stream, const char *fmt, va_list ap)
{
	int ret = ROAR_REAL(vfprintf)(stream, fmt, ap);

	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
fprintf(FILE *stream, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ROAR_REAL(vfprintf)(stream, fmt, ap);
	va_end(ap);
	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT ssize_t
getdelim(char **line, size_t *n, int delim, FILE *stream)
{
	ssize_t ret = ROAR_REAL(getdelim)(line, n, delim, stream);

	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT ssize_t
getline(char **line, size_t *n, FILE *stream)
{
	ssize_t ret = ROAR_REAL(getline)(line, n, stream);

	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_READ);
	return ret;
}

/*
 * The buffer refills and flushes that getc_unlocked and putc_unlocked
 * (macros over the FILE buffer) call when the buffer runs dry or full:
 * the only calls a program reading a stream that way (coreutils' uniq
 * reading a pipe, say) makes into libc.  glibc exports them for those
 * macros.  EOF is their failure.
 */
ROAR_EXPORT int
__uflow(FILE *stream)
{
	int ret = ROAR_REAL(__uflow)(stream);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT int
__underflow(FILE *stream)
{
	int ret = ROAR_REAL(__underflow)(stream);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_READ);
	return ret;
}

ROAR_EXPORT int
__overflow(FILE *stream, int c)
{
	int ret = ROAR_REAL(__overflow)(stream, c);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_WRITE);
	return ret;
}

/*
 * glibc's seek on a readable stream may fill the read buffer from the new
 * position (_IO_file_seekoff reads the block it lands in): bytes moved
 * out of the file.  A non-empty read buffer right after the seek is that
 * read; glibc's FILE layout (_IO_read_base, _IO_read_end) is public.
 */
static void
credit_seek_read(FILE *stream)
{
	if (stream && stream->_IO_read_end > stream->_IO_read_base)
		credit_stream(stream, ROAR_CREDIT_READ);
}

#define SEEK_HOOK(name, params, args, stream)                                \
	ROAR_EXPORT int name params                                          \
	{                                                                    \
		int ret = ROAR_REAL(name) args;                              \
		if (ret == 0)                                                \
			ROAR_AFTER_PARK(credit_seek_read(stream),            \
					park_stream((stream),                \
						    ROAR_CREDIT_READ));      \
		return ret;                                                  \
	}

SEEK_HOOK(fseek, (FILE *stream, long off, int whence),
	  (stream, off, whence), stream)
SEEK_HOOK(fseeko, (FILE *stream, off_t off, int whence),
	  (stream, off, whence), stream)
SEEK_HOOK(fseeko64, (FILE *stream, off64_t off, int whence),
	  (stream, off, whence), stream)
SEEK_HOOK(fsetpos, (FILE *stream, const fpos_t *pos), (stream, pos), stream)
SEEK_HOOK(fsetpos64, (FILE *stream, const fpos64_t *pos), (stream, pos),
	  stream)
