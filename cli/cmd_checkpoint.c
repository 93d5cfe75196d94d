// SPDX-License-Identifier: Apache-2.0
/* checkpoint and restore of a container, with runc's flags. Flags runc passes on to CRIU that
 * ferry has no use for are accepted; those asking for what ferry cannot do yet are refused by
 * name. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/progress.h"

/* A flag given that ferry cannot honour yet: an error naming it; returns 1. */
static int not_yet(const char *cmd, const char *flag, const char *why)
{
	fprintf(stderr, "ferry %s: %s: not supported yet%s%s\n", cmd, flag, why ? ": " : "",
		why ? why : "");
	return 1;
}

int cmd_checkpoint(const struct ferry_ctx *ctx, int argc, char **argv)
{
	struct ferry_ct_checkpoint_opts o = {0};
	const char *parent = NULL, *page_server = NULL, *empty_ns = NULL, *status_fd = NULL;
	bool pre_dump = false, lazy = false, dedup = false;
	int leave = 0, i = 1, r;
	struct opt opts[] = {
	    {"image-path", 0, OPT_STRING, &o.image_path},
	    {"work-path", 0, OPT_STRING, &o.work_path},
	    {"parent-path", 0, OPT_STRING, &parent},
	    {"leave-running", 0, OPT_COUNT, &leave},
	    {"tcp-established", 0, OPT_BOOL, &o.tcp_established},
	    {"ext-unix-sk", 0, OPT_BOOL, &o.ext_unix_sk},
	    {"shell-job", 0, OPT_BOOL, &o.shell_job},
	    {"file-locks", 0, OPT_BOOL, &o.file_locks},
	    {"manage-cgroups-mode", 0, OPT_STRING, &o.manage_cgroups_mode},
	    {"empty-ns", 0, OPT_STRING, &empty_ns},
	    {"pre-dump", 0, OPT_BOOL, &pre_dump},
	    {"lazy-pages", 0, OPT_BOOL, &lazy},
	    {"page-server", 0, OPT_STRING, &page_server},
	    {"status-fd", 0, OPT_STRING, &status_fd},
	    {"auto-dedup", 0, OPT_BOOL, &dedup},
	    {NULL, 0, 0, NULL},
	};
	struct ferry_checkpoint_stats stats;
	struct cli_progress p;
	ferry_err_t err = NULL;

	r = opts_parse("checkpoint", opts, argc, argv, &i);
	if (r != 0)
		return r > 0 ? cli_help("checkpoint") : 1;
	if (i != argc - 1)
		return cli_usage_error("checkpoint", "expects exactly one container id");
	if (pre_dump)
		return not_yet("checkpoint", "--pre-dump", "iterative migration is not built yet");
	if (lazy || page_server || parent || status_fd)
		return not_yet("checkpoint",
			       lazy	     ? "--lazy-pages"
			       : page_server ? "--page-server"
			       : parent	     ? "--parent-path"
					     : "--status-fd",
			       NULL);
	o.id = argv[i];
	o.leave_running = leave > 0;
	if (!o.image_path)
		o.image_path = "checkpoint"; /* runc's default, in the current directory */
	cli_progress_init(&p);
	o.progress = cli_progress_cb;
	o.progress_arg = &p;
	r = ferry_container_checkpoint(ctx, &o, &stats, &err);
	cli_progress_end(&p);
	if (r < 0)
		return cli_fail(&err);
	cli_checkpoint_summary(&p, &stats);
	return 0;
}

int cmd_restore(const struct ferry_ctx *ctx, int argc, char **argv)
{
	struct ferry_ct_restore_opts o = {0};
	const char *empty_ns = NULL, *lsm_profile = NULL;
	bool no_subreaper = false, no_pivot = false, ext_unix = false, shell_job = false;
	bool file_locks = false, lazy = false, dedup = false;
	const char *cgroups_mode = NULL;
	int i = 1, r, status;
	struct opt opts[] = {
	    {"image-path", 0, OPT_STRING, &o.image_path},
	    {"work-path", 0, OPT_STRING, &o.work_path},
	    {"bundle", 'b', OPT_STRING, &o.bundle},
	    {"detach", 'd', OPT_BOOL, &o.detach},
	    {"pid-file", 0, OPT_STRING, &o.pid_file},
	    {"console-socket", 0, OPT_STRING, &o.console_socket},
	    {"no-subreaper", 0, OPT_BOOL, &no_subreaper},
	    {"no-pivot", 0, OPT_BOOL, &no_pivot},
	    {"tcp-established", 0, OPT_BOOL, &o.tcp_established},
	    {"ext-unix-sk", 0, OPT_BOOL, &ext_unix},
	    {"shell-job", 0, OPT_BOOL, &shell_job},
	    {"file-locks", 0, OPT_BOOL, &file_locks},
	    {"manage-cgroups-mode", 0, OPT_STRING, &cgroups_mode},
	    {"empty-ns", 0, OPT_STRING, &empty_ns},
	    {"auto-dedup", 0, OPT_BOOL, &dedup},
	    {"lazy-pages", 0, OPT_BOOL, &lazy},
	    {"lsm-profile", 0, OPT_STRING, &lsm_profile},
	    {"lsm-mount-context", 0, OPT_STRING, &o.lsm_mount_context},
	    {NULL, 0, 0, NULL},
	};
	struct ferry_restore_stats stats;
	struct cli_progress p;
	ferry_err_t err = NULL;
	pid_t pid;

	r = opts_parse("restore", opts, argc, argv, &i);
	if (r != 0)
		return r > 0 ? cli_help("restore") : 1;
	if (i != argc - 1)
		return cli_usage_error("restore", "expects exactly one container id");
	if (lazy)
		return not_yet("restore", "--lazy-pages", NULL);
	o.id = argv[i];
	if (!o.image_path)
		o.image_path = "checkpoint";
	cli_progress_init(&p);
	o.progress = cli_progress_cb;
	o.progress_arg = &p;
	r = ferry_container_restore(ctx, &o, &pid, &stats, &err);
	cli_progress_end(&p);
	if (r < 0)
		return cli_fail(&err);
	cli_restore_summary(&p, &stats);
	if (o.detach)
		return 0;
	status = cli_wait_forward(pid, -1);
	if (ferry_container_delete(ctx, o.id, true, &err) < 0)
		cli_fail(&err);
	return status;
}
