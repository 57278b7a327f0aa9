/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report roar reads (docs/roar-compat.md, "The report"): packed from
 * a finished merge (report.c; its keys are in report_schema.h), written
 * atomically and read back (report_file.c).
 */
#ifndef ROAR_REPORT_H
#define ROAR_REPORT_H

#include <msgpack.h>

#include "merge.h"

/**
 * Pack the report of m into sbuf.
 * @param m the finished run
 * @param sbuf an initialised msgpack_sbuffer
 */
void roar_report_pack(const struct roar_merge *m, msgpack_sbuffer *sbuf);

/**
 * Pack the report of m through write (as a msgpack_packer would),
 * piece by piece: the report is never whole in memory.
 */
void roar_report_pack_to(const struct roar_merge *m, void *data,
			 msgpack_packer_write write);

/** What the report says instead of the value of a variable whose name
 *  looks secret (*TOKEN*, *SECRET*, *PASSWORD*, *PASSWD*, *KEY*,
 *  *CREDENTIAL*, *AUTH*), unless ROAR_KEEP_SECRETS=1. */
#define ROAR_REDACTED "<redacted by roar-preload>"

/**
 * Write the report of m to path atomically.
 * @return 0, or -errno with a message in err
 */
int roar_report_write(const struct roar_merge *m, const char *path, char *err,
		      size_t errlen);

/**
 * Write the packed report in sbuf to path atomically: a new temporary
 * beside it, owner-only and never through a link, fsync, rename.
 * @return 0, or -errno with a message in err
 */
int roar_report_write_sbuf(const msgpack_sbuffer *sbuf, const char *path,
			   char *err, size_t errlen);

/**
 * Read a report file and decode it.  The caller owns *result (free with
 * msgpack_unpacked_destroy) and *data (free()).
 * @return 0, or -errno / -EINVAL with a message in err
 */
int roar_report_read(const char *path, msgpack_unpacked *result, char **data,
		     char *err, size_t errlen);

#endif /* ROAR_REPORT_H */
