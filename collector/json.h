/* SPDX-License-Identifier: Apache-2.0 */
/* JSON out of decoded msgpack (json.c). */
#ifndef ROAR_JSON_H
#define ROAR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <msgpack.h>

/**
 * One JSON string of the n bytes at p.  raw_bytes: p may be any bytes
 * (a path); what is not UTF-8 is written as \udcXX escapes.
 */
void roar_json_string(FILE *out, const char *p, size_t n, bool raw_bytes);

/** o as JSON (a report, or any part of it). */
void roar_json_print(FILE *out, const msgpack_object *o);

#endif /* ROAR_JSON_H */
