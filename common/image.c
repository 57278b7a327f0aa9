/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY stand-in until the image-verdict branch lands: PT_INTERP only. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "roar/image.h"

static int
l_open(const char *p, int f)
{
	int fd = open(p, f);
	return fd < 0 ? -errno : fd;
}
static int
l_close(int fd)
{
	return close(fd);
}
static long
l_pread(int fd, void *b, unsigned long n, long off)
{
	ssize_t r = pread(fd, b, n, off);
	return r < 0 ? -errno : r;
}
static int
l_fstat(int fd, struct stat *st)
{
	return fstat(fd, st) ? -errno : 0;
}
const struct roar_image_io roar_image_io_libc = { l_open, l_close, l_pread,
						  l_fstat, NULL, NULL };

int
roar_image_inspect(const struct roar_image_io *io, const char *path,
		   struct roar_image *out)
{
	Elf64_Ehdr eh;
	int fd;

	memset(out, 0, sizeof(*out));
	out->kind = out->final = ROAR_IMAGE_NOT_FOUND;
	fd = io->open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fd;
	out->kind = out->final = ROAR_IMAGE_STATIC;
	if (io->pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) &&
	    !memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;

			if (io->pread(fd, &ph, sizeof(ph),
				      (long)(eh.e_phoff + i * eh.e_phentsize)) !=
			    sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP)
				out->kind = out->final = ROAR_IMAGE_DYNAMIC;
		}
	} else {
		out->kind = out->final = ROAR_IMAGE_SCRIPT;
	}
	io->close(fd);
	return 0;
}

enum roar_tracer
roar_image_tracer(const struct roar_image *img)
{
	return img->final == ROAR_IMAGE_STATIC ? ROAR_TRACER_SUPERVISOR
					       : ROAR_TRACER_PRELOAD;
}

int
roar_image_resolve(const struct roar_image_io *io, const char *file,
		   const char *path_var, char *out, unsigned long cap)
{
	if (!strchr(file, '/')) {
		const char *p = path_var ? path_var : "/bin:/usr/bin";

		for (;;) {
			size_t n = strcspn(p, ":");

			if (n + strlen(file) + 2 < cap) {
				memcpy(out, p, n);
				out[n] = '/';
				strcpy(out + n + 1, file);
				if (access(out, X_OK) == 0)
					return 0;
			}
			if (!p[n])
				return -ENOENT;
			p += n + 1;
		}
	}
	(void)io;
	if (strlen(file) >= cap)
		return -ENAMETOOLONG;
	strcpy(out, file);
	return 0;
}

int
roar_image_inspect_cached(struct roar_image_cache *c,
			  const struct roar_image_io *io, const char *path,
			  struct roar_image *out)
{
	(void)c;
	return roar_image_inspect(io, path, out);
}
