/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two clocks both sides read: wall time for the report's time stamps
 * (the library stamps events, the collector the run), monotonic time for
 * timeouts.  clock_gettime is a vDSO call (no system call, no lock), so
 * these are safe in signal handlers and fork children alike.
 */
#ifndef ROAR_CLOCK_H
#define ROAR_CLOCK_H

#include <stdint.h>
#include <time.h>

/** Wall clock, Unix seconds. */
static inline double
roar_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** Monotonic clock, ms. */
static inline uint64_t
roar_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif /* ROAR_CLOCK_H */
