// SPDX-License-Identifier: Apache-2.0
/* SysV IPC ids mean something only in one IPC namespace: while ferry dumps or restores a tree
 * that has its own (a container's), ferry works in it. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/ipcns.h"

int lx_ipcns_enter(pid_t pid, int *saved, ferry_err_t *err)
{
	_cleanup_close_ int target = -1;
	char path[64];
	struct stat a, b;

	*saved = -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", pid);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0 && errno == ENOENT)
		return 0; /* gone: the caller's own step says so */
	if (target < 0)
		return ferry_error_errno(err, "%s", path);
	if (stat("/proc/thread-self/ns/ipc", &a) < 0 || fstat(target, &b) < 0)
		return ferry_error_errno(err, "IPC namespace");
	if (a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		return 0;
	*saved = open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return ferry_error_errno(err, "IPC namespace");
	if (setns(target, CLONE_NEWIPC) < 0) {
		close(*saved);
		*saved = -1;
		return ferry_error_errno(err, "enter the IPC namespace of %d", pid);
	}
	return 0;
}

void lx_ipcns_leave(int saved)
{
	if (saved < 0)
		return;
	setns(saved, CLONE_NEWIPC);
	close(saved);
}
