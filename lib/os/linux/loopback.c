// SPDX-License-Identifier: Apache-2.0
/* The loopback interface of a new network namespace starts down; a container's is brought up, as
 * runc does, and so is the one a restore makes sockets in. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "core/cleanup.h"
#include "os/linux/loopback.h"

int lx_loopback_up(ferry_err_t *err)
{
	struct ifreq ifr = {0};
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return ferry_error_errno(err, "loopback");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? ferry_error_errno(err, "bring lo up") : 0;
}
