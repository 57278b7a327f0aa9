/* SPDX-License-Identifier: Apache-2.0 */
/*
 * system(3), popen(3) and pclose(3), done as glibc 2.36 does them but
 * through roar_track_spawn, so that the child's environment is mended in
 * its own envp and the program's environ is never touched.
 */
#ifndef ROAR_SHELL_H
#define ROAR_SHELL_H

#include <stdbool.h>
#include <stdio.h>

int roar_shell_system(const char *cmd);
FILE *roar_shell_popen(const char *cmd, const char *mode);
int roar_shell_pclose(FILE *stream);

/**
 * fclose of stream: when it is a popen stream, close it, wait for its
 * child (as glibc does), put fclose's result in *ret and return true.
 */
bool roar_shell_fclose(FILE *stream, int *ret);

/** Before a fork: take popen_mutex (lock order: lock.h); false when this
 *  thread holds it already (then nothing was taken). */
bool roar_shell_prepare(void);
/** After a fork, in the parent: release popen_mutex. */
void roar_shell_parent(void);
/** In a new process: reset popen_mutex (the streams stay: POSIX leaves a
 *  fork child's pclose of an inherited stream unspecified). */
void roar_shell_atfork_child(void);

#endif /* ROAR_SHELL_H */
