/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON out of decoded msgpack, for roar-report json, roar-run --json and
 * preflight --json: one string writer and one value writer.  A str or bin
 * that is not UTF-8 keeps its odd bytes as \udcXX escapes, as Python's
 * os.fsdecode would give them, so that no path is lost or mangled.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>

#include "roar/utf8.h"
#include "json.h"

void
roar_json_string(FILE *out, const char *p, size_t n, bool raw_bytes)
{
	bool valid = !raw_bytes || roar_utf8_valid(p, n);

	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else if (c >= 0x80 && !valid)
			fprintf(out, "\\udc%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void
roar_json_print(FILE *out, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", out);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", out);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(out, "%llu", (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(out, "%lld", (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		fprintf(out, "%.6f", o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		roar_json_string(out, o->via.str.ptr, o->via.str.size, true);
		break;
	case MSGPACK_OBJECT_BIN:
		roar_json_string(out, o->via.bin.ptr, o->via.bin.size, true);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', out);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				fputs(", ", out);
			roar_json_print(out, &o->via.array.ptr[i]);
		}
		fputc(']', out);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', out);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (i)
				fputs(", ", out);
			if (k->type == MSGPACK_OBJECT_STR ||
			    k->type == MSGPACK_OBJECT_BIN)
				roar_json_print(out, k);
			else {
				/* JSON keys are strings. */
				fputc('"', out);
				if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
					fprintf(out, "%llu",
						(unsigned long long)k->via.u64);
				else if (k->type ==
					 MSGPACK_OBJECT_NEGATIVE_INTEGER)
					fprintf(out, "%lld",
						(long long)k->via.i64);
				fputc('"', out);
			}
			fputs(": ", out);
			roar_json_print(out, &o->via.map.ptr[i].val);
		}
		fputc('}', out);
		break;
	default:
		fputs("null", out);
		break;
	}
}
