/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics of the preload library: to stderr, only when ROAR_DEBUG is
 * set, formatted into a stack buffer and written with the real write(2).
 * Safe in hooks and signal handlers; never uses stdio.
 */
#ifndef ROAR_LOG_H
#define ROAR_LOG_H

#include <stdbool.h>

#include "roar/compiler.h"

extern bool roar_log_enabled;

/**
 * Log a line.  Understands %s, %d, %u, %ld, %lu, %zu, %x and %%, nothing
 * else: a tiny async-signal-safe formatter.
 */
void roar_log_write(const char *fmt, ...);

#define ROAR_LOG(...)                                \
	do {                                         \
		if (ROAR_UNLIKELY(roar_log_enabled)) \
			roar_log_write(__VA_ARGS__); \
	} while (0)

#endif /* ROAR_LOG_H */
