/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger, the library's side.  One shared mapping per image, made in
 * the constructor (open, fstat, mmap, close: four system calls) and
 * inherited by fork children, which take a slot of their own with one
 * atomic add.  A vfork child shares its parent's memory and so its slot:
 * what it loses is counted in the parent's, which is where the collector
 * looks for the parent's events anyway.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roar/ledger.h"
#include "roar/compiler.h"
#include "ledger.h"
#include "real.h"

static struct roar_ledger_head *head ROAR_HOT;
static struct roar_ledger_slot *slot ROAR_HOT;
static int64_t slot_index ROAR_HOT = -1;

/* sock_path + ROAR_LEDGER_SUFFIX into out; false when it does not fit. */
static bool
ledger_path(const char *sock_path, char *out, size_t cap)
{
	size_t n = strlen(sock_path);

	if (n + sizeof(ROAR_LEDGER_SUFFIX) > cap)
		return false;
	memcpy(out, sock_path, n);
	memcpy(out + n, ROAR_LEDGER_SUFFIX, sizeof(ROAR_LEDGER_SUFFIX));
	return true;
}

int
roar_ledger_create(const char *sock_path)
{
	char path[256];
	struct roar_ledger_head h;
	int fd, rc = 0;

	if (!ledger_path(sock_path, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = (int)ROAR_SYS(SYS_openat, AT_FDCWD, path,
			   O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			   0600);
	if (fd < 0)
		return -errno;
	roar_ledger_head_init(&h);
	if (ROAR_SYS(SYS_ftruncate, fd, (off_t)ROAR_LEDGER_SIZE) != 0 ||
	    ROAR_SYS(SYS_pwrite64, fd, &h, sizeof(h), (off_t)0) !=
		    (long)sizeof(h))
		rc = -errno;
	roar_real_get()->close(fd);
	if (rc)
		ROAR_SYS(SYS_unlinkat, AT_FDCWD, path, 0);
	return rc;
}

void
roar_ledger_unlink(const char *sock_path)
{
	char path[256];

	if (ledger_path(sock_path, path, sizeof(path)))
		ROAR_SYS(SYS_unlinkat, AT_FDCWD, path, 0);
}

static void
take_slot(pid_t pid, pid_t ppid)
{
	uint64_t i;

	slot = NULL;
	slot_index = -1;
	if (!head)
		return;
	i = __atomic_fetch_add(&head->next, 1, __ATOMIC_RELAXED);
	/* The constant, not head->nslots: a peer may rewrite the head. */
	if (i >= ROAR_LEDGER_SLOTS)
		return; /* full: the wire's dropped events count alone */
	slot = (struct roar_ledger_slot *)((char *)head +
					   roar_ledger_slot_offset(i));
	__atomic_store_n(&slot->made, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->lost, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->ppid, (uint32_t)ppid, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->pid, (uint32_t)pid, __ATOMIC_RELEASE);
	slot_index = (int64_t)i;
}

void
roar_ledger_attach(const char *sock_path)
{
	char path[256];
	struct stat st;
	void *p;
	int fd;

	if (head || !sock_path || !ledger_path(sock_path, path, sizeof(path)))
		return;
	fd = (int)ROAR_SYS(SYS_openat, AT_FDCWD, path,
			   O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return; /* no ledger: roar's listener, or an old collector */
	/* A file shorter than the map would fault on access: only a
	 * regular file of ours, of the right size, is mapped. */
	if (ROAR_SYS(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != (uid_t)ROAR_SYS(SYS_geteuid) ||
	    (uint64_t)st.st_size != ROAR_LEDGER_SIZE) {
		roar_real_get()->close(fd);
		return;
	}
	p = (void *)ROAR_SYS(SYS_mmap, NULL, (size_t)ROAR_LEDGER_SIZE,
			     PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)0);
	roar_real_get()->close(fd);
	if (p == MAP_FAILED)
		return;
	if (!roar_ledger_head_ok(p)) {
		ROAR_SYS(SYS_munmap, p, (size_t)ROAR_LEDGER_SIZE);
		return;
	}
	head = p;
	take_slot((pid_t)ROAR_SYS(SYS_getpid), (pid_t)ROAR_SYS(SYS_getppid));
}

void
roar_ledger_atfork_child(pid_t pid, pid_t ppid)
{
	take_slot(pid, ppid);
}

int64_t
roar_ledger_slot(void)
{
	return slot_index;
}

void
roar_ledger_made(void)
{
	if (slot)
		__atomic_fetch_add(&slot->made, 1, __ATOMIC_RELAXED);
}

void
roar_ledger_lost(uint64_t n)
{
	if (slot)
		__atomic_fetch_add(&slot->lost, n, __ATOMIC_RELAXED);
}

void
roar_ledger_found(uint64_t n)
{
	if (slot)
		__atomic_fetch_sub(&slot->lost, n, __ATOMIC_RELAXED);
}

uint64_t
roar_ledger_beat(void)
{
	return head ? __atomic_load_n(&head->beat, __ATOMIC_RELAXED) : 0;
}

bool
roar_ledger_stalled(void)
{
	uint64_t beat;

	if (!head)
		return false;
	beat = __atomic_load_n(&head->beat, __ATOMIC_RELAXED);
	return beat &&
	       __atomic_load_n(&head->stalled_at, __ATOMIC_RELAXED) == beat;
}

void
roar_ledger_declare_stall(uint64_t beat)
{
	if (head && beat)
		__atomic_store_n(&head->stalled_at, beat, __ATOMIC_RELAXED);
}
