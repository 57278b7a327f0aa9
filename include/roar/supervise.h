/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arming the seccomp supervisor for an image LD_PRELOAD cannot see (a
 * static or Go program, include/roar/image.h decides): just before the
 * real exec, the process about to exec installs a seccomp filter that
 * turns the file calls of the image and of all its descendants into user
 * notifications (SECCOMP_FILTER_FLAG_NEW_LISTENER, which an unprivileged
 * process may do once it has set no_new_privs), and hands the listener to
 * the collector over a Unix socket (SCM_RIGHTS).  The collector's
 * supervisor (collector/supervise.c) reads each watched call's arguments,
 * lets it go on unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE), and turns
 * what it saw into the same events the library sends.  No ptrace.
 *
 * Both the library's exec hooks and the launcher (for a static root
 * command) arm through roar_sup_arm, with their own way of making system
 * calls: the library must never call its own hooks.
 */
#ifndef ROAR_SUPERVISE_H
#define ROAR_SUPERVISE_H

#include <stddef.h>

/** A syscall(2): the library's real one, or libc's. */
typedef long (*roar_syscall_fn)(long nr, ...);

/** Room for the filter program (instructions). */
#define ROAR_SUP_FILTER_MAX 128

struct sock_filter;

/**
 * The filter: on x86_64, the file, exec, fork and exit calls of "What
 * counts" (docs/roar-compat.md) are notified; the read and write families,
 * close and ftruncate only for fds above 2; mmap only of a file; clone
 * only when it makes a process.  Everything else, and every other
 * architecture's calls, is allowed untouched.
 * @return instructions written, or -1 when cap is too small
 */
int roar_sup_filter(struct sock_filter *prog, unsigned cap);

/*
 * The probe: fchdir(ROAR_SUP_PROBE_FD) fails with EBADF anywhere but
 * under our filter, which answers ESRMNT.  So a process can tell it is
 * under the supervisor already (and must not stack a second filter).
 */
#define ROAR_SUP_PROBE_FD 0x5eed0a11
#define ROAR_SUP_PROBE_ERRNO 69 /* ESRMNT */

/** Whether the caller is under our filter already (the probe). */
int roar_sup_armed(roar_syscall_fn sys);

/**
 * Whether this kernel offers user notification to us (seccomp(2) is not
 * forbidden and knows SECCOMP_RET_USER_NOTIF).  0, or -errno saying why
 * not.  Changes nothing.
 */
int roar_sup_available(roar_syscall_fn sys);

/**
 * Arm the calling thread: connect to the collector's socket sock, set
 * no_new_privs, install the filter, and send frame (a complete supervise
 * frame, header included) with the listener attached.  The socket and the
 * listener are close-on-exec, so after the exec only the collector holds
 * the listener.  Never closes them itself: close is a watched call.
 * @return 0; or -errno, and then nothing was changed when the failure
 *         came before the filter (connect, availability), which is every
 *         failure but a send that the kernel refused after it
 */
int roar_sup_arm(roar_syscall_fn sys, const char *sock, const void *frame,
		 size_t len);

/** roar_sup_arm over fd, a connected Unix stream socket (the launcher's
 *  socketpair to itself), which stays open. */
int roar_sup_arm_fd(roar_syscall_fn sys, int fd, const void *frame, size_t len);

/*
 * Linux 6.6's synchronous wake-up, newer than the headers we build with:
 * ioctl(listener, ROAR_SUP_IOCTL_SET_FLAGS, ROAR_SUP_SYNC_WAKE_UP) makes
 * a notified task hand its CPU straight to the supervisor and back (older
 * kernels refuse it with EINVAL; nothing else changes then).
 */
#include <linux/seccomp.h>
#ifdef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define ROAR_SUP_IOCTL_SET_FLAGS SECCOMP_IOCTL_NOTIF_SET_FLAGS
#else
#define ROAR_SUP_IOCTL_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#define ROAR_SUP_SYNC_WAKE_UP 1UL /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */

#endif /* ROAR_SUPERVISE_H */
