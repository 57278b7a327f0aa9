/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a report back for people: a process tree with the files each
 * process read and wrote, and a JSON rendering.  Works on any decoded
 * report, ours or another tracer's, using only the keys it finds.
 */
#ifndef ROAR_SUMMARY_H
#define ROAR_SUMMARY_H

#include <stdio.h>

#include <msgpack.h>

/** Print the readable summary of report to out. @return untraced count */
int roar_summary_print(FILE *out, const msgpack_object *report);

/**
 * Print o as JSON.  Bytes that are not UTF-8 (msgpack bin) are written
 * as Python's surrogateescape does (\udcXX per byte), so a reader can
 * get the exact bytes back with os.fsencode.
 */
void roar_json_print(FILE *out, const msgpack_object *o);

#endif /* ROAR_SUMMARY_H */
