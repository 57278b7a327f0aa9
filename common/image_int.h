/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Between common/image.c, which opens files and follows #! lines, and
 * common/image_elf.c, which reads an ELF file's headers.
 */
#ifndef ROAR_IMAGE_INT_H
#define ROAR_IMAGE_INT_H

#include "roar/image.h"

/* Bytes read from a file's start: binfmt_script's BINPRM_BUF_SIZE, and
 * room for either ELF header. */
#define ROAR_IMAGE_HEAD 256

/**
 * What the ELF file open on fd is: DYNAMIC, STATIC, GO or FOREIGN; SHELL
 * when the kernel's ELF loader would refuse it (ENOEXEC); UNREADABLE
 * when a read failed.  Sets f's loader, elf_class and elf_machine.
 * @param head the file's first n bytes (n >= 4: ELFMAG)
 */
enum roar_image_kind roar_image_elf(const struct roar_image_io *io, int fd,
				    const unsigned char *head, unsigned long n,
				    struct roar_image *f);

/** Whether an ELF of that class and machine runs here as a native one. */
bool roar_image_elf_native(unsigned char elf_class, unsigned short elf_machine);

#endif /* ROAR_IMAGE_INT_H */
