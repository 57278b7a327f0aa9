/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exec hooks' side of the seccomp supervisor (include/roar/
 * supervise.h): just before the real exec, what will run is judged
 * (include/roar/image.h), and an image that LD_PRELOAD will not see is
 * put under the supervisor.  Raw system calls only, the stack and a
 * static cache, so it is safe in a vfork child.
 */
#ifndef ROAR_PRELOAD_SUPERVISE_H
#define ROAR_PRELOAD_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>

#include "roar/image.h"
#include "lifecycle.h"

/**
 * Who will trace what the exec of file runs (searched in PATH when
 * search and it has no slash, like execvp): our library, the supervisor
 * (path then names the file), or nobody.  errno is kept.
 */
enum roar_tracer roar_preload_sup_judge(const char *file, bool search,
					char *path, size_t cap);

/**
 * Put this process under the supervisor for its exec of path, unless it
 * is under it already.  A failure leaves the image unseen and tells the
 * collector why (an unseen event, as who).  errno is kept.
 */
void roar_preload_sup_arm(enum roar_who who, const char *path);

#endif /* ROAR_PRELOAD_SUPERVISE_H */
