/* SPDX-License-Identifier: Apache-2.0 */
/* Entry of the code run inside a stopped process: ferry sets rip here, rdi to the arguments and
 * rsp to the top of the code's stack (16-byte aligned); parasite_main never returns (it leaves
 * through the process's own code, see blob.c). */
	.section .text.entry, "ax"
	.globl parasite_entry
parasite_entry:
	call parasite_main
	ud2
	.section .note.GNU-stack, "", @progbits
