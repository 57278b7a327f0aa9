/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attribute macros shared by the preload library and the collector.
 * This file holds macros only: no declarations, no logic.
 */
#ifndef ROAR_COMPILER_H
#define ROAR_COMPILER_H

#define ROAR_EXPORT __attribute__((visibility("default")))
#define ROAR_HIDDEN __attribute__((visibility("hidden")))
#define ROAR_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define ROAR_UNUSED __attribute__((unused))
#define ROAR_LIKELY(x) __builtin_expect(!!(x), 1)
#define ROAR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ROAR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/*
 * Small mutable state of the preload library that every process touches
 * (locks, counters, the connection): kept together in one section, so
 * that a new process and a fork child fault in one page for it, not one
 * per module.  Large buffers stay out of it.
 */
#define ROAR_HOT __attribute__((section("roar_hot")))

#endif /* ROAR_COMPILER_H */
