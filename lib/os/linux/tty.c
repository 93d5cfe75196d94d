// SPDX-License-Identifier: Apache-2.0
/* Terminal settings: the kernel struct termios, read by TCGETS and written by TCSETS (not glibc's
 * larger struct termios: the image holds the kernel's bytes). */
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/tty.h"

_Static_assert(sizeof(struct termios) == CR_TERMIOS_SIZE, "kernel struct termios size");

int lx_tty_record(const char *path, struct cr_fd *f, ferry_err_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct termios t;

	if (fd < 0)
		return ferry_error_errno(err, "open %s", path);
	if (ioctl(fd, TCGETS, &t) < 0)
		return errno == ENOTTY || errno == EINVAL
			   ? 0
			   : ferry_error_errno(err, "TCGETS %s", path);
	f->termios.data = malloc(sizeof(t));
	if (!f->termios.data)
		return ferry_error(err, ENOMEM, "%s", path);
	memcpy(f->termios.data, &t, sizeof(t));
	f->termios.len = sizeof(t);
	return 1;
}

static const struct cr_fd *first_tty(const struct cr_image *img)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++) {
			const struct cr_fd *f = &img->procs[i].fds[k];

			if (f->kind == CR_FD_CHR && f->path &&
			    f->termios.len == sizeof(struct termios))
				return f;
		}
	return NULL;
}

int lx_tty_apply(const struct cr_image *img, ferry_err_t *err)
{
	const struct cr_fd *f = first_tty(img);
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	struct termios t;
	int r;

	if (!f)
		return 0;
	_cleanup_close_ int fd = open(f->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "terminal %s", f->path);
	memcpy(&t, f->termios.data, sizeof(t));
	sigaction(SIGTTOU, &ign, &old);
	r = ioctl(fd, TCSETS, &t);
	sigaction(SIGTTOU, &old, NULL);
	if (r < 0)
		return errno == ENOTTY ? 0
				       : ferry_error_errno(err, "terminal %s settings", f->path);
	return 0;
}
