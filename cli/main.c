// SPDX-License-Identifier: Apache-2.0
/* ferry: an OCI container runtime, command-line compatible with runc. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "ferry/log.h"
#include "ferry/version.h"

static const struct cli_cmd commands[] = {
	{"create", "create [--bundle DIR] [--console-socket SOCK] [--pid-file FILE] [--no-pivot]\n"
		   "       [--no-new-keyring] [--preserve-fds N] ID\n"
		   "Creates a container from the bundle; `start` runs its process.",
	 cmd_create},
	{"start", "start ID\nRuns the process of a created container.", cmd_start},
	{"run", "run [--bundle DIR] [--console-socket SOCK] [--pid-file FILE] [--detach]\n"
		"    [--no-pivot] [--no-new-keyring] [--preserve-fds N] [--keep] ID\n"
		"Creates and starts a container; in the foreground it waits, forwards signals and\n"
		"exits with the container's status.",
	 cmd_run},
	{"state", "state ID\nPrints the container's state as JSON.", cmd_state},
	{"list", "list [--format table|json] [--quiet]\nLists the containers.", cmd_list},
	{"ps", "ps [--format table|json] ID [PS_ARGS...]\nLists the container's processes.",
	 cmd_ps},
	{"kill", "kill [--all] ID [SIGNAL]\nSends a signal (default SIGTERM) to the container.",
	 cmd_kill},
	{"delete", "delete [--force] ID\nDeletes a container and everything it holds.", cmd_delete},
	{"pause", "pause ID\nFreezes every process of the container.", cmd_pause},
	{"resume", "resume ID\nThaws a paused container.", cmd_resume},
	{"exec", "exec [--process FILE] [--tty] [--console-socket SOCK] [--cwd DIR]\n"
		 "     [--env K=V]... [--user UID[:GID]] [--additional-gids GID]... [--cap CAP]...\n"
		 "     [--no-new-privs] [--detach] [--pid-file FILE] [--preserve-fds N]\n"
		 "     ID [COMMAND [ARG...]]\nRuns a new process in a running container.",
	 cmd_exec},
	{"spec", "spec [--bundle DIR] [--rootless]\nWrites a default config.json.", cmd_spec},
	{"features", "features\nPrints what this runtime supports, as JSON.", cmd_features},
	{"update", "update [--resources FILE|-] [--blkio-weight N] [--cpu-period US] [--cpu-quota US]\n"
		   "       [--cpu-share N] [--cpu-rt-period US] [--cpu-rt-runtime US]\n"
		   "       [--cpuset-cpus LIST] [--cpuset-mems LIST] [--memory SIZE]\n"
		   "       [--memory-reservation SIZE] [--memory-swap SIZE] [--kernel-memory SIZE]\n"
		   "       [--kernel-memory-tcp SIZE] [--pids-limit N] ID\n"
		   "Changes the resource limits of a container live. SIZE is bytes or 300M, 1G...\n"
		   "(binary multiples), -1 for unlimited; 0 leaves a value unchanged. --resources\n"
		   "reads an OCI linux.resources JSON (\"-\": stdin).",
	 cmd_update},
	{"events", "events [--stats] [--interval DURATION] ID\n"
		   "Prints the container's resource usage as JSON every interval (default 5s) and\n"
		   "its OOM kills, until it stops; --stats prints the usage once.",
	 cmd_events},
	{"limits", "limits [--format json|cgroup1|cgroup2|rctl] (--bundle DIR | ID)\n"
		   "Prints a container's live resource limits, or a bundle's, as OCI JSON, cgroup\n"
		   "v1 or v2 files, or FreeBSD RCTL rules.",
	 cmd_limits},
	{"image", "image show|check DIR\n"
		  "show prints a checkpoint image as JSON (pages as ranges and byte counts); check\n"
		  "validates every file and record and prints a summary.",
	 cmd_image},
	{"checkpoint",
	 "checkpoint [--image-path DIR] [--work-path DIR] [--leave-running] [--tcp-established]\n"
	 "           [--ext-unix-sk] [--shell-job] [--file-locks] [--manage-cgroups-mode MODE]\n"
	 "           [--empty-ns NS] ID\n"
	 "Checkpoints a running container into an image directory (default ./checkpoint) and\n"
	 "stops it, as runc does (--leave-running: it runs on). --tcp-established carries its\n"
	 "established TCP connections. stats-dump (phase timings) goes to the work path.",
	 cmd_checkpoint},
	{"restore",
	 "restore [--image-path DIR] [--work-path DIR] [--bundle DIR] [--detach] [--pid-file FILE]\n"
	 "        [--console-socket SOCK] [--no-subreaper] [--tcp-established]\n"
	 "        [--lsm-mount-context CTX] ID\n"
	 "Creates container ID from the bundle and restores a checkpoint image into it, with the\n"
	 "limits it had live; waits for it and exits with its status (--detach: leaves it running).",
	 cmd_restore},
	{"process", "process checkpoint --pid PID --image-path DIR [--leave-running] [--shell-job]\n"
		    "       process restore --image-path DIR [--detach] [--pid-file FILE] [--shell-job]\n"
		    "checkpoint dumps the process tree rooted at PID into an image directory (the tree\n"
		    "is killed after a good dump unless --leave-running); restore brings it back with\n"
		    "the same pids, waits for it and exits with its status (--detach: leaves it running).",
	 cmd_process},
	{NULL, NULL, NULL},
};

static const char global_usage[] =
	"usage: ferry [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"An OCI container runtime with checkpoint/restore, command-line compatible with runc.\n"
	"\n"
	"Commands: create start run state list ps kill delete pause resume exec update events\n"
	"          limits spec features checkpoint restore image process\n"
	"\n"
	"Global options:\n"
	"  --root DIR           state directory (default " FERRY_DEFAULT_ROOT ")\n"
	"  --log FILE           log file (containerd reads errors from it)\n"
	"  --log-format FMT     text or json\n"
	"  --debug              log debug messages\n"
	"  --systemd-cgroup     accepted for compatibility; cgroupfs is used\n"
	"  --version, -v        print the version\n"
	"  --help, -h           print this help; `ferry COMMAND --help` for a command\n";

int cli_fail(ferry_err_t *err)
{
	const char *msg = err && *err ? (*err)->msg : "unknown error";

	fprintf(stderr, "ferry: %s\n", msg);
	ferry_log(FERRY_LOG_ERROR, "%s", msg);
	ferry_error_free(err);
	return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ferry %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see ferry %s --help)\n", cmd);
	return 1;
}

int cli_help(const char *cmd)
{
	for (const struct cli_cmd *c = commands; c->name; c++)
		if (!strcmp(c->name, cmd))
			printf("usage: ferry %s\n", c->usage);
	return 0;
}

static int global_flags(int argc, char **argv, int *i, struct ferry_ctx *ctx)
{
	const char *log_path = NULL, *log_format = "text", *criu = NULL;
	bool debug = false, version = false, systemd = false, rootless = false;
	struct opt opts[] = {
		{"root", 0, OPT_STRING, &ctx->root},
		{"log", 0, OPT_STRING, &log_path},
		{"log-format", 0, OPT_STRING, &log_format},
		{"debug", 0, OPT_BOOL, &debug},
		{"systemd-cgroup", 0, OPT_BOOL, &systemd},
		{"rootless", 0, OPT_STRING, &rootless},
		{"criu", 0, OPT_STRING, &criu},
		{"version", 'v', OPT_BOOL, &version},
		{NULL, 0, 0, NULL},
	};
	ferry_err_t err = NULL;
	int r = opts_parse("", opts, argc, argv, i);

	if (r != 0) {
		if (r > 0)
			fputs(global_usage, stdout);
		return r > 0 ? 0 : 1;
	}
	if (version) {
		printf("ferry version %s\nspec: 1.1.0\n", FERRY_VERSION);
		return 0;
	}
	if (strcmp(log_format, "text") && strcmp(log_format, "json")) {
		fprintf(stderr, "ferry: --log-format: expected text or json, got \"%s\"\n",
			log_format);
		return 1;
	}
	if (ferry_log_open(log_path, !strcmp(log_format, "json") ? FERRY_LOG_JSON : FERRY_LOG_TEXT,
			   debug, &err) < 0)
		return cli_fail(&err);
	return -1; /* carry on */
}

int main(int argc, char **argv)
{
	struct ferry_ctx ctx = {.root = FERRY_DEFAULT_ROOT};
	int i = 1, r;

	r = global_flags(argc, argv, &i, &ctx);
	if (r >= 0)
		return r;
	if (i >= argc) {
		fputs(global_usage, stderr);
		return 1;
	}
	for (const struct cli_cmd *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[i]))
			return c->run(&ctx, argc - i, argv + i);
	if (!strcmp(argv[i], "help")) {
		fputs(global_usage, stdout);
		return 0;
	}
	fprintf(stderr, "ferry: unknown command \"%s\" (see ferry --help)\n", argv[i]);
	return 1;
}
