/* SPDX-License-Identifier: Apache-2.0 */
/* Entry of the code run inside a stopped process: ferry sets rip here, rdi to the arguments and
 * rsp to the top of the code's stack (16-byte aligned); parasite_main never returns (it leaves
 * through the process's own code, see blob.c). */
	.section .text.entry, "ax"
	.globl parasite_entry
parasite_entry:
	call parasite_main
	ud2

/* long parasite_clone(flags %rdi, top %rsi, tid %rdx, fn %rcx, a %r8, k %r9): a raw clone(2)
 * whose new thread starts on the 16-byte aligned stack top with fn, a and k taken from it, calls
 * fn(a, k) and exits (only itself); the id goes to *tid both ways (PARENT_SETTID, CHILD_CLEARTID).
 * Returns the new thread's id or -errno in the caller. */
	.text
	.globl parasite_clone
parasite_clone:
	sub	$32, %rsi
	mov	%rcx, 0(%rsi)
	mov	%r8, 8(%rsi)
	mov	%r9, 16(%rsi)
	mov	%rdx, %r10
	xor	%r8d, %r8d
	mov	$56, %eax
	syscall
	test	%rax, %rax
	jnz	1f
	pop	%rax
	pop	%rdi
	pop	%rsi
	pop	%rcx
	call	*%rax
	mov	$60, %eax
	xor	%edi, %edi
	syscall
	ud2
1:	ret
	.section .note.GNU-stack, "", @progbits
