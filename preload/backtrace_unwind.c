/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libunwind for call sites: its load at the first capture, the rewriting
 * of its imports so that its own calls never reach our hooks, and the
 * unwinding itself (UNW_LOCAL_ONLY) into the caller's fixed array, one
 * thread at a time under unwind_lock (lock.h).  Turns no address into a
 * module (backtrace_modules.c) and sends nothing; never mallocs except
 * once, in the load.  What of it is async-signal-safe, and why, is at the
 * top of backtrace.c.
 *
 * Why libunwind is dlopen()ed, RTLD_LOCAL, and not linked: libunwind.so.8
 * exports _Unwind_RaiseException and the rest of the C++ unwinding ABI and
 * a weak backtrace(); as a DT_NEEDED of the preload they would land in the
 * global scope of every traced program, ahead of libgcc_s for a library
 * dlopen()ed later (a Python C++ extension would throw through it).
 * Why it is loaded at the first capture and not in the constructor: the
 * load costs about 0.1 ms, which every exec would pay (the exec storm row
 * of bench/run), while most images that exec a lot never read a file.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "backtrace_int.h"

#ifdef ROAR_HAVE_UNWIND

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <libunwind.h>

#include "lock.h"
#include "real.h"

/* The names UNW_LOCAL_ONLY gives unw_* on this architecture. */
#define SYM_(x) #x
#define SYM(x) SYM_(x)

typedef int (*roar_unw_getcontext_fn)(unw_context_t *);
typedef int (*roar_unw_init_local_fn)(unw_cursor_t *, unw_context_t *);
typedef int (*roar_unw_step_fn)(unw_cursor_t *);
typedef int (*roar_unw_get_reg_fn)(unw_cursor_t *, int, unw_word_t *);
typedef int (*roar_unw_is_signal_frame_fn)(unw_cursor_t *);
typedef int (*roar_unw_set_caching_policy_fn)(unw_addr_space_t,
					      unw_caching_policy_t);

static struct {
	roar_unw_getcontext_fn getcontext;
	roar_unw_init_local_fn init_local;
	roar_unw_step_fn step;
	roar_unw_get_reg_fn get_reg;
	roar_unw_is_signal_frame_fn is_signal_frame;
} uw;

/* 0: not loaded, 1: a thread is loading it, 2: ready, 3: unavailable. */
static _Atomic int uw_state;

/* Held by the one thread inside libunwind (lock.h); in_unwind says so to
 * a child made without the atfork handlers. */
static struct roar_lock unwind_lock = ROAR_LOCK_INIT;
static _Atomic unsigned in_unwind;
static roar_unw_set_caching_policy_fn uw_policy;
static unw_addr_space_t uw_local;

/* Whether a signal this thread blocks has a handler: then this may be
 * that handler running (see the top of backtrace.c). */
static bool
maybe_in_handler(void)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} ka;
	uint64_t blocked = 0;

	if (ROAR_SYS(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &blocked, 8) != 0)
		return true;
	for (int sig = 1; sig <= 64; sig++) {
		if (!(blocked & (1ull << (sig - 1))))
			continue;
		if (ROAR_SYS(SYS_rt_sigaction, sig, NULL, &ka, 8) != 0)
			continue;
		if (ka.handler != (void *)SIG_DFL &&
		    ka.handler != (void *)SIG_IGN)
			return true;
	}
	return false;
}

/*
 * libunwind's own calls must never reach our hooks: they would be taken
 * for a signal handler's (counted as lost events).  So its imports of
 * what we hook are bound to the real functions, except those below.
 *
 * libunwind 1.6 probes whether an address is readable by writing one
 * byte of it into a pipe it opens at its first use (write_validate in
 * its x86_64/Ginit.c).  That pipe would hold two of the program's
 * descriptors for good (a program that counts how many it can open sees
 * two fewer), and libunwind would read from and write to whatever the
 * program later put on those numbers.  So its pipe2 opens nothing and
 * hands out two numbers no descriptor can have, its close ignores them,
 * and its read, write and syscall answer for them: a read finds the pipe
 * empty (EAGAIN), and a write of one byte is the probe, done with
 * process_vm_readv on our own memory (EFAULT when unreadable, as the
 * pipe's write would).  Where process_vm_readv is refused (a seccomp
 * filter), the address is taken as readable: libunwind asked mincore
 * first, so it is mapped.
 */
#define PROBE_RD (-1000001)
#define PROBE_WR (-1000002)

static int
unwind_pipe2(int fds[2], int flags)
{
	(void)flags;
	fds[0] = PROBE_RD;
	fds[1] = PROBE_WR;
	return 0;
}

static int
unwind_close(int fd)
{
	if (fd == PROBE_RD || fd == PROBE_WR)
		return 0;
	return roar_real_get()->close(fd);
}

/* The probe: whether len bytes at addr can be read. */
static bool
readable(const void *addr, size_t len)
{
	char byte;
	struct iovec here = { &byte, 1 }, there = { (void *)addr, 1 };
	long r;

	if (len == 0)
		return true;
	r = ROAR_SYS(SYS_process_vm_readv, (long)ROAR_SYS(SYS_getpid), &here,
		     1L, &there, 1L, 0L);
	return r == 1 || errno != EFAULT;
}

static ssize_t
unwind_read(int fd, void *buf, size_t n)
{
	if (fd == PROBE_RD) {
		errno = EAGAIN;
		return -1;
	}
	return roar_real_get()->read(fd, buf, n);
}

static ssize_t
unwind_write(int fd, const void *buf, size_t n)
{
	if (fd == PROBE_WR) {
		if (!readable(buf, n)) {
			errno = EFAULT;
			return -1;
		}
		errno = 0;
		return (ssize_t)(n ? 1 : 0);
	}
	return roar_real_get()->write(fd, buf, n);
}

/* libunwind's syscall(): the same probe when it goes through it (other
 * libunwind releases do). */
static long
unwind_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	/* An int argument of a variadic call: only its low half is set. */
	if (nr == SYS_read && (int)a0 == PROBE_RD)
		return unwind_read((int)a0, (void *)a1, (size_t)a2);
	if (nr == SYS_write && (int)a0 == PROBE_WR)
		return unwind_write((int)a0, (const void *)a1, (size_t)a2);
	return ROAR_SYS(nr, a0, a1, a2, a3, a4, a5);
}

/* The address a slot of libunwind's GOT should hold, or NULL to keep. */
static void *
rebind(const char *name)
{
	const struct roar_real *r = roar_real_get();

	if (!strcmp(name, "pipe2"))
		return (void *)unwind_pipe2;
	if (!strcmp(name, "close"))
		return (void *)unwind_close;
	if (!strcmp(name, "syscall"))
		return (void *)unwind_syscall;
	if (!strcmp(name, "read"))
		return (void *)unwind_read;
	if (!strcmp(name, "write"))
		return (void *)unwind_write;
#define REBIND(fn)              \
	if (!strcmp(name, #fn)) \
		return (void *)r->fn;
	REBIND(open)
	REBIND(mmap)
	REBIND(fopen)
	REBIND(fclose)
#undef REBIND
	return NULL;
}

static void
rebind_relocs(uintptr_t base, const ElfW(Rela) *rel, size_t size,
	      const ElfW(Sym) *symtab, const char *strtab, uintptr_t relro_lo,
	      uintptr_t relro_hi)
{
	for (size_t i = 0; i < size / sizeof(*rel); i++) {
		unsigned type = (unsigned)ELF64_R_TYPE(rel[i].r_info);
		const char *name;
		void **slot, *to;

		if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
			continue;
		name = strtab + symtab[ELF64_R_SYM(rel[i].r_info)].st_name;
		if (!(to = rebind(name)))
			continue;
		slot = (void **)(base + rel[i].r_offset);
		if ((uintptr_t)slot >= relro_lo && (uintptr_t)slot < relro_hi) {
			uintptr_t page = (uintptr_t)slot & ~(uintptr_t)4095;

			if (ROAR_SYS(SYS_mprotect, page, 4096,
				     PROT_READ | PROT_WRITE) != 0)
				continue;
			*slot = to;
			ROAR_SYS(SYS_mprotect, page, 4096, PROT_READ);
		} else {
			*slot = to;
		}
	}
}

/* Where the dynamic section's pointers point (glibc relocates most of
 * them in place; be sure either way). */
static uintptr_t
dyn_ptr(uintptr_t base, ElfW(Addr) v)
{
	return v < base ? base + v : v;
}

static bool
rebind_unwind(void *h)
{
	struct link_map *lm;
	const ElfW(Ehdr) *eh;
	const ElfW(Phdr) *ph;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	uintptr_t base, jmprel = 0, rela = 0, relro_lo = 0, relro_hi = 0;
	size_t jmpsz = 0, relasz = 0;

	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm->l_ld)
		return false;
	base = lm->l_addr;
	/* The ELF header is in the first PT_LOAD of a shared object. */
	eh = (const ElfW(Ehdr) *)base;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return false;
	ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_GNU_RELRO) {
			relro_lo = base + ph[i].p_vaddr;
			relro_hi = (base + ph[i].p_vaddr + ph[i].p_memsz) &
				   ~(uintptr_t)4095;
		}
	for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB:
			symtab =
				(const ElfW(Sym) *)dyn_ptr(base, d->d_un.d_ptr);
			break;
		case DT_STRTAB:
			strtab = (const char *)dyn_ptr(base, d->d_un.d_ptr);
			break;
		case DT_JMPREL:
			jmprel = dyn_ptr(base, d->d_un.d_ptr);
			break;
		case DT_PLTRELSZ:
			jmpsz = d->d_un.d_val;
			break;
		case DT_RELA:
			rela = dyn_ptr(base, d->d_un.d_ptr);
			break;
		case DT_RELASZ:
			relasz = d->d_un.d_val;
			break;
		}
	}
	if (!symtab || !strtab)
		return false;
	if (jmprel)
		rebind_relocs(base, (const ElfW(Rela) *)jmprel, jmpsz, symtab,
			      strtab, relro_lo, relro_hi);
	if (rela)
		rebind_relocs(base, (const ElfW(Rela) *)rela, relasz, symtab,
			      strtab, relro_lo, relro_hi);
	return true;
}

static bool
load_unwind(void)
{
	void *h;
	int expect = 0;
	unw_addr_space_t *local;
	roar_unw_set_caching_policy_fn policy;
	uintptr_t ips[4];
	bool exact[4];

	if (maybe_in_handler())
		return false;
	if (!atomic_compare_exchange_strong(&uw_state, &expect, 1))
		return false;
	/* Held across the load, so that a fork waits for it (the atfork
	 * prepare handler takes this lock first): a child must not inherit
	 * a dlopen half done, with the loader's lock held.  Other threads
	 * do not wait: they see uw_state 1 and skip their capture. */
	roar_lock_take(&unwind_lock);
	/* dlopen reads the library with the loader's own internal calls,
	 * which no hook of ours sees.  The soname has been .so.8 since
	 * libunwind 1.1 (2012). */
	h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (!h || !rebind_unwind(h))
		goto fail;
	uw.getcontext =
		(roar_unw_getcontext_fn)dlsym(h, SYM(unw_tdep_getcontext));
	uw.init_local = (roar_unw_init_local_fn)dlsym(h, SYM(unw_init_local));
	uw.step = (roar_unw_step_fn)dlsym(h, SYM(unw_step));
	uw.get_reg = (roar_unw_get_reg_fn)dlsym(h, SYM(unw_get_reg));
	uw.is_signal_frame =
		(roar_unw_is_signal_frame_fn)dlsym(h, SYM(unw_is_signal_frame));
	policy = (roar_unw_set_caching_policy_fn)dlsym(
		h, SYM(unw_set_caching_policy));
	local = dlsym(h, SYM(unw_local_addr_space));
	if (!uw.getcontext || !uw.init_local || !uw.step || !uw.get_reg ||
	    !uw.is_signal_frame || !policy || !local)
		goto fail;
	uw_policy = policy;
	uw_local = *local;
	policy(*local, UNW_CACHE_GLOBAL);
	atomic_store(&uw_state, 2);
	roar_lock_release(&unwind_lock);
	/* Warm up: libunwind initialises itself on its first use. */
	roar_backtrace_unwind(ips, 4, exact);
	return true;
fail:
	atomic_store(&uw_state, 3);
	roar_lock_release(&unwind_lock);
	return false;
}

int __attribute__((noinline))
roar_backtrace_unwind(uintptr_t *ips, unsigned max, bool *exact)
{
	unw_context_t ctx;
	unw_cursor_t cur;
	unsigned n = 0;
	bool after_signal = false;

	roar_lock_take(&unwind_lock);
	atomic_fetch_add(&in_unwind, 1u);
	if (uw.getcontext(&ctx) != 0 || uw.init_local(&cur, &ctx) != 0)
		goto out;
	while (n < max && uw.step(&cur) > 0) {
		unw_word_t ip;

		if (uw.get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0)
			break;
		exact[n] = after_signal;
		ips[n++] = (uintptr_t)ip;
		after_signal = uw.is_signal_frame(&cur) > 0;
	}
out:
	atomic_fetch_sub(&in_unwind, 1u);
	roar_lock_release(&unwind_lock);
	return (int)n;
}

int
roar_backtrace_unwind_ready(void)
{
	switch (atomic_load_explicit(&uw_state, memory_order_acquire)) {
	case 2:
		return 0;
	case 0:
		return load_unwind() ? 0 : -EAGAIN;
	case 1:
		return -EAGAIN;
	default:
		return -ENOSYS;
	}
}

void
roar_backtrace_prepare(void)
{
	roar_lock_take(&unwind_lock);
}

void
roar_backtrace_parent(void)
{
	roar_lock_release(&unwind_lock);
}

void
roar_backtrace_unwind_atfork_child(void)
{
	/* A load another thread was doing at a fork our handlers did not
	 * see never ends here, and the loader's lock may be held for good:
	 * this child does without. */
	int loading = 1;

	atomic_compare_exchange_strong(&uw_state, &loading, 3);
	roar_lock_reset(&unwind_lock);
	/* A thread was inside libunwind, perhaps holding its cache lock,
	 * when this child was made without our atfork handlers. */
	if (atomic_load(&in_unwind)) {
		atomic_store(&in_unwind, 0);
		if (uw_policy)
			uw_policy(uw_local, UNW_CACHE_NONE);
	}
}

#else /* !ROAR_HAVE_UNWIND */

int
roar_backtrace_unwind_ready(void)
{
	return -ENOSYS;
}

int
roar_backtrace_unwind(uintptr_t *ips, unsigned max, bool *exact)
{
	(void)ips;
	(void)max;
	(void)exact;
	return 0;
}

void
roar_backtrace_prepare(void)
{
}

void
roar_backtrace_parent(void)
{
}

void
roar_backtrace_unwind_atfork_child(void)
{
}

#endif
