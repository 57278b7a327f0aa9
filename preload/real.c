/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owns struct roar_real: the only file in preload/ that calls dlsym.  The
 * table is filled once, eagerly from the constructor, or under roar_once
 * when a hook runs before our constructor (another library's constructor
 * calling open, for instance).  It must never resolve per call.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "once.h"
#include "real.h"

static struct roar_real real_table ROAR_HOT;
static struct roar_once real_once ROAR_HOT = ROAR_ONCE_INIT;
static const struct roar_real *_Atomic real_current ROAR_HOT;

/*
 * Stubs that stand in for a symbol the C library does not have (E3).  They
 * are called through the hooked function's pointer type; on the ABIs we
 * build for, a callee that ignores its arguments is safe to call so.
 */
static long
stub_E(void)
{
	errno = ENOSYS;
	return -1;
}

static void *
stub_P(void)
{
	errno = ENOSYS;
	return NULL;
}

static void
stub_V(void)
{
	errno = ENOSYS;
}

static void
stub_Q(int status)
{
	/* _exit or _Exit is missing: end the process through the real
	 * syscall(), never our hook of it by its public name (E5). */
	if ((void *)real_table.syscall &&
	    (void *)real_table.syscall != (void *)stub_E)
		real_table.syscall(SYS_exit_group, status);
	__builtin_trap();
}

static void
resolve(void)
{
#define ROAR_REAL_RESOLVE(cls, name, ret, params)                              \
	do {                                                                   \
		void *sym = dlsym(RTLD_NEXT, #name);                           \
		if (!sym) {                                                    \
			ROAR_LOG(                                              \
				"real: %s is missing, calls fail with ENOSYS", \
				#name);                                        \
			sym = (void *)stub_##cls;                              \
		}                                                              \
		*(void **)&real_table.name = sym;                              \
	} while (0);
	ROAR_REAL_FUNCS(ROAR_REAL_RESOLVE)
#undef ROAR_REAL_RESOLVE
	atomic_store_explicit(&real_current, &real_table, memory_order_release);
}

void
roar_real_init(void)
{
	int saved = errno;

	roar_once(&real_once, resolve);
	errno = saved;
}

const struct roar_real *
roar_real_get(void)
{
	const struct roar_real *r;

	r = atomic_load_explicit(&real_current, memory_order_acquire);
	if (ROAR_LIKELY(r))
		return r;
	roar_real_init();
	return atomic_load_explicit(&real_current, memory_order_acquire);
}

void
roar_real_override(const struct roar_real *fake)
{
	roar_real_init();
	atomic_store_explicit(&real_current, fake ? fake : &real_table,
			      memory_order_release);
}

void *
roar_map_anon(size_t size)
{
	void *p = roar_real_get()->mmap(NULL, size, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}
