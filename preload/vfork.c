/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vfork shim: vfork stays the kernel's vfork, but the thread that
 * calls it is marked (roar_in_vfork) until vfork returns in the parent.
 * The child shares its parent's memory, TLS included, so it sees the mark
 * too: every hook then leaves the bookkeeping alone (guard.h), and the
 * exec and exit hooks send on a connection of their own
 * (lifecycle.h ROAR_WHO_SHARED) instead of touching state that is the
 * parent's.
 *
 * It must be assembly: a C function cannot return twice from vfork (the
 * child would clobber the frame the parent then returns through).  The
 * shape is glibc's: the return address is popped into a register the
 * kernel keeps, so neither side needs the stack across the call.  On
 * other architectures vfork is not hooked and a vfork child is told apart
 * by its pid in the exec and exit hooks only.
 */
#include "config.h"

#include <errno.h>

#include "guard.h"

__thread int roar_in_vfork __attribute__((tls_model("initial-exec")));

#if defined(__x86_64__)

/* Called (tail-jumped) by the shim when vfork fails with -ret. */
long roar_vfork_failed(long err);

long
roar_vfork_failed(long err)
{
	errno = (int)err;
	return -1;
}

__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	".p2align 4\n"
	"vfork:\n"
	"	endbr64\n"
	"	movq roar_in_vfork@gottpoff(%rip), %rdx\n"
	"	movl %fs:(%rdx), %esi\n" /* the mark as it was (kept by the
					      kernel): a vfork child may vfork */
	"	movl $1, %fs:(%rdx)\n"
	"	popq %rdi\n"      /* the return address */
	"	movl $58, %eax\n" /* SYS_vfork */
	"	syscall\n"
	"	pushq %rdi\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n" /* the child keeps the mark */
	"	movq roar_in_vfork@gottpoff(%rip), %rdx\n"
	"	movl %esi, %fs:(%rdx)\n" /* the parent gets its own back */
	"	cmpq $-4095, %rax\n"
	"	jae 2f\n"
	"	ret\n"
	/* The child.  With a shadow stack (CET), the kernel shares it with
	 * the suspended parent: the child must not pop it, so it returns by
	 * a jump (rdsspq reads 0 where there is no shadow stack). */
	"1:	xorl %ecx, %ecx\n"
	"	rdsspq %rcx\n"
	"	testq %rcx, %rcx\n"
	"	jz 3f\n"
	"	popq %rdi\n"
	"	jmp *%rdi\n"
	"3:	ret\n"
	"2:	negq %rax\n"
	"	movq %rax, %rdi\n"
	"	jmp roar_vfork_failed\n"
	".size vfork, .-vfork\n");

#endif
