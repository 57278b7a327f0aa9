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
#undef putchar
#undef putchar_unlocked
#undef putc_unlocked
#undef fputc_unlocked
#undef printf
#undef vprintf
#undef dprintf

/* glibc exports these (libio.h, the fortify ABI) but no public header
 * declares them. */
int __underflow(FILE *stream);
int __printf_chk(int flag, const char *fmt, ...);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
int __fprintf_chk(FILE *stream, int flag, const char *fmt, ...);
int __vfprintf_chk(FILE *stream, int flag, const char *fmt, va_list ap);
int __dprintf_chk(int fd, int flag, const char *fmt, ...);
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);

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

#define STREAM_CREDIT(ok, stream, credit)                                  \
	do {                                                               \
		if (ok)                                                    \
			ROAR_AFTER_PARK(credit_stream((stream), (credit)), \
					park_stream((stream), (credit)));  \
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

/*
 * printf and its kin write stdout through vfprintf's internal alias, and
 * a stream's buffer reaches its fd through stdio's internal write, also
 * at exit: a program that printf's into an inherited, redirected stdout
 * moves its bytes where no write hook sees them.  So the credit is taken
 * when the bytes enter the stream, as for fputs.  dprintf writes to its
 * fd through the same internal path.
 */
ROAR_EXPORT int
vprintf(const char *fmt, va_list ap)
{
	int ret = ROAR_REAL(vfprintf)(stdout, fmt, ap);

	STREAM_CREDIT(ret > 0, stdout, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
printf(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ROAR_REAL(vfprintf)(stdout, fmt, ap);
	va_end(ap);
	STREAM_CREDIT(ret > 0, stdout, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
__vfprintf_chk(FILE *stream, int flag, const char *fmt, va_list ap)
{
	int ret = ROAR_REAL(__vfprintf_chk)(stream, flag, fmt, ap);

	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
__fprintf_chk(FILE *stream, int flag, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ROAR_REAL(__vfprintf_chk)(stream, flag, fmt, ap);
	va_end(ap);
	STREAM_CREDIT(ret > 0, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
__vprintf_chk(int flag, const char *fmt, va_list ap)
{
	int ret = ROAR_REAL(__vfprintf_chk)(stdout, flag, fmt, ap);

	STREAM_CREDIT(ret > 0, stdout, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
__printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ROAR_REAL(__vfprintf_chk)(stdout, flag, fmt, ap);
	va_end(ap);
	STREAM_CREDIT(ret > 0, stdout, ROAR_CREDIT_WRITE);
	return ret;
}


ROAR_EXPORT int
vdprintf(int fd, const char *fmt, va_list ap)
{
	int ret = ROAR_REAL(vdprintf)(fd, fmt, ap);

	ROAR_FD_CREDIT(ret > 0, fd, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ROAR_REAL(vdprintf)(fd, fmt, ap);
	va_end(ap);
	ROAR_FD_CREDIT(ret > 0, fd, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
__vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	int ret = ROAR_REAL(__vdprintf_chk)(fd, flag, fmt, ap);

	ROAR_FD_CREDIT(ret > 0, fd, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
__dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ROAR_REAL(__vdprintf_chk)(fd, flag, fmt, ap);
	va_end(ap);
	ROAR_FD_CREDIT(ret > 0, fd, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
puts(const char *s)
{
	int ret = ROAR_REAL(puts)(s);

	STREAM_CREDIT(ret >= 0, stdout, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
putchar(int c)
{
	int ret = ROAR_REAL(putchar)(c);

	STREAM_CREDIT(ret != EOF, stdout, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
putchar_unlocked(int c)
{
	int ret = ROAR_REAL(putchar_unlocked)(c);

	STREAM_CREDIT(ret != EOF, stdout, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
putc_unlocked(int c, FILE *stream)
{
	int ret = ROAR_REAL(putc_unlocked)(c, stream);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_WRITE);
	return ret;
}

ROAR_EXPORT int
fputc_unlocked(int c, FILE *stream)
{
	int ret = ROAR_REAL(fputc_unlocked)(c, stream);

	STREAM_CREDIT(ret != EOF, stream, ROAR_CREDIT_WRITE);
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

#define SEEK_HOOK(name, params, args, stream)                             \
	ROAR_EXPORT int name params                                       \
	{                                                                 \
		int ret = ROAR_REAL(name) args;                           \
		if (ret == 0)                                             \
			ROAR_AFTER_PARK(                                  \
				credit_seek_read(stream),                 \
				park_stream((stream), ROAR_CREDIT_READ)); \
		return ret;                                               \
	}

SEEK_HOOK(fseek, (FILE * stream, long off, int whence), (stream, off, whence),
	  stream)
SEEK_HOOK(fseeko, (FILE * stream, off_t off, int whence), (stream, off, whence),
	  stream)
SEEK_HOOK(fseeko64, (FILE * stream, off64_t off, int whence),
	  (stream, off, whence), stream)
SEEK_HOOK(fsetpos, (FILE * stream, const fpos_t *pos), (stream, pos), stream)
SEEK_HOOK(fsetpos64, (FILE * stream, const fpos64_t *pos), (stream, pos),
	  stream)
