/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exec hooks' side of the seccomp supervisor (include/roar/
 * supervise.h): just before the real exec, an image that LD_PRELOAD will
 * not see is put under the supervisor.  Uses raw system calls only, the
 * stack and a static cache, so it is safe in a vfork child.
 */
#ifndef ROAR_PRELOAD_SUPERVISE_H
#define ROAR_PRELOAD_SUPERVISE_H

#include <stdbool.h>

/**
 * The exec about to be made runs file (searched in PATH when search and
 * it has no slash): arm the supervisor when only it can see what runs
 * there and this process is not already under it.  Nothing happens
 * otherwise, and a failure only leaves the image unseen (the collector
 * lists it with the reason).  errno is kept.
 */
void roar_preload_sup_exec(const char *file, bool search);

#endif /* ROAR_PRELOAD_SUPERVISE_H */
