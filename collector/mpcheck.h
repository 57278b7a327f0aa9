/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A walk over msgpack bytes, before msgpack-c decodes them, that refuses
 * what cannot be a value of this many bytes.  msgpack-c allocates the
 * elements of an array or map from the header's count before it reads
 * them, so a 5-byte payload claiming 2^32 map entries asks malloc for
 * 128 GiB.  Every element takes at least one byte, so a count larger than
 * the bytes left is a lie, and refusing it bounds the decoder's memory by
 * the frame's size.
 */
#ifndef ROAR_MPCHECK_H
#define ROAR_MPCHECK_H

#include <stddef.h>

/**
 * Whether data holds exactly one msgpack value whose every count could
 * fit in len bytes.
 * @return 0, or -EINVAL when it does not (truncated, trailing bytes, the
 *         never-used byte 0xc1, or a count larger than the rest)
 */
int roar_mpcheck_one(const void *data, size_t len);

#endif /* ROAR_MPCHECK_H */
