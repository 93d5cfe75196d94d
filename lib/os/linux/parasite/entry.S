/* SPDX-License-Identifier: Apache-2.0 */
/* Entry of the code run inside a stopped process: ferry sets rip here, rdi to the command and
 * rsp to the top of the blob's stack (16-byte aligned); the command runs, then int3 hands the
 * thread back to ferry (a SIGTRAP stop it never delivers). */
	.section .text.entry, "ax"
	.globl parasite_entry
parasite_entry:
	call parasite_run
	int3
1:	jmp 1b
	.section .note.GNU-stack, "", @progbits
