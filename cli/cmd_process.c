// SPDX-License-Identifier: Apache-2.0
/* process: `ferry process checkpoint` dumps a process tree into an image; `ferry process restore`
 * brings it back. On a terminal a progress line and a timing summary go to stderr; with
 * --log-format json the summary goes to the log as a JSON line.
 * --shell-job (CRIU's meaning): the tree was a job of a terminal session; on restore the tree
 * keeps its session and process groups only where their leaders are inside it, else it joins the
 * caller's session and process group, and its fds on a pseudo-terminal are opened on the caller's
 * terminal (so a restored job runs in the restoring terminal) with the terminal settings it had;
 * a foreground restore then hands the terminal to the restored root's process group, and takes it
 * back with its own settings once the tree has exited. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "ferry/log.h"
#include "ferry/process.h"

static int process_checkpoint(int argc, char **argv)
{
	int pid = 0, i = 1, r;
	const char *image_path = NULL;
	bool leave_running = false, shell_job = false, tcp_established = false;
	struct opt opts[] = {
	    {"pid", 0, OPT_INT, &pid},
	    {"image-path", 0, OPT_STRING, &image_path},
	    {"leave-running", 0, OPT_BOOL, &leave_running},
	    {"shell-job", 0, OPT_BOOL, &shell_job},
	    {"tcp-established", 0, OPT_BOOL, &tcp_established},
	    {NULL, 0, 0, NULL},
	};
	struct cli_progress p;
	struct ferry_checkpoint_stats stats;
	ferry_err_t err = NULL;

	r = opts_parse("process checkpoint", opts, argc, argv, &i);
	if (r != 0)
		return r > 0 ? cli_help("process") : 1;
	if (i != argc)
		return cli_usage_error("process checkpoint", "unexpected argument \"%s\"", argv[i]);
	if (pid <= 0 || !image_path)
		return cli_usage_error("process checkpoint",
				       "--pid PID and --image-path DIR needed");
	struct ferry_checkpoint_opts o = {
	    .pid = pid,
	    .image_path = image_path,
	    .leave_running = leave_running,
	    .shell_job = shell_job,
	    .tcp_established = tcp_established,
	    .progress = cli_progress_cb,
	    .progress_arg = &p,
	};
	cli_progress_init(&p);
	r = ferry_process_checkpoint(&o, &stats, &err);
	cli_progress_end(&p);
	if (r < 0)
		return cli_fail(&err);
	cli_checkpoint_summary(&p, &stats);
	return 0;
}

static int write_pid_file(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d", pid) < 0 || fclose(f) != 0) {
		fprintf(stderr, "ferry: --pid-file %s: %m\n", path);
		return -1;
	}
	return 0;
}

/* The caller's terminal (fd 0) and its settings before a --shell-job restore. */
struct shell_tty {
	bool on;
	struct termios saved;
};

/* Makes pgid the terminal's foreground group, SIGTTOU ignored (ferry may be in the background). */
static void tty_foreground(pid_t pgid)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;

	sigaction(SIGTTOU, &ign, &old);
	if (tcsetpgrp(0, pgid) < 0)
		fprintf(stderr, "ferry: terminal foreground: %m\n");
	sigaction(SIGTTOU, &old, NULL);
}

/* The exit status to report for a wait status, as a shell does. */
static int job_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

/* The job stopped itself (Ctrl-Z): ferry gives the terminal back to the shell with its
 * settings and stops too, so that the shell sees its job stopped; on `fg` the job gets the
 * terminal (and its own settings) again and goes on. */
static void job_stopped(const struct shell_tty *t, pid_t pgid)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, old;
	struct termios job;
	bool have = tcgetattr(0, &job) == 0;

	tty_foreground(getpgrp());
	tcsetattr(0, TCSADRAIN, &t->saved);
	sigaction(SIGTSTP, &dfl, &old);
	raise(SIGTSTP);
	sigaction(SIGTSTP, &old, NULL);
	if (have)
		tcsetattr(0, TCSADRAIN, &job);
	tty_foreground(pgid);
	kill(-pgid, SIGWINCH);
	kill(-pgid, SIGCONT);
}

/* Waits for the restored tree in the foreground of the caller's terminal, then takes the terminal
 * back with its settings from before the restore; returns the exit status to report. The job is
 * told the window size may have changed (SIGWINCH: it was dumped on another terminal). */
static int shell_job_wait(const struct shell_tty *t, pid_t root)
{
	pid_t pgid = getpgid(root);
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	bool own = pgid > 0 && pgid != getpgrp();
	int status = 0;

	if (!own)
		return cli_wait_forward(root, -1);
	tty_foreground(pgid);
	kill(-pgid, SIGWINCH);
	kill(-pgid, SIGCONT); /* if it read the terminal before it had it */
	for (;;) {
		pid_t r = waitpid(root, &status, WUNTRACED);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || !WIFSTOPPED(status))
			break;
		job_stopped(t, pgid);
	}
	tty_foreground(getpgrp());
	sigaction(SIGTTOU, &ign, &old);
	tcsetattr(0, TCSADRAIN, &t->saved);
	sigaction(SIGTTOU, &old, NULL);
	return job_status(status);
}

static int process_restore(int argc, char **argv)
{
	const char *image_path = NULL, *pid_file = NULL;
	bool detach = false, shell_job = false, tcp_established = false;
	int i = 1, r;
	struct opt opts[] = {
	    {"image-path", 0, OPT_STRING, &image_path},
	    {"detach", 'd', OPT_BOOL, &detach},
	    {"pid-file", 0, OPT_STRING, &pid_file},
	    {"shell-job", 0, OPT_BOOL, &shell_job},
	    {"tcp-established", 0, OPT_BOOL, &tcp_established},
	    {NULL, 0, 0, NULL},
	};
	struct cli_progress p;
	struct ferry_restore_stats stats;
	struct shell_tty tty = {false};
	ferry_err_t err = NULL;
	pid_t root = -1;

	r = opts_parse("process restore", opts, argc, argv, &i);
	if (r != 0)
		return r > 0 ? cli_help("process") : 1;
	if (i != argc)
		return cli_usage_error("process restore", "unexpected argument \"%s\"", argv[i]);
	if (!image_path)
		return cli_usage_error("process restore", "--image-path DIR needed");
	struct ferry_restore_opts o = {
	    .image_path = image_path,
	    .shell_job = shell_job,
	    .tcp_established = tcp_established,
	    .progress = cli_progress_cb,
	    .progress_arg = &p,
	};
	tty.on = shell_job && !detach && isatty(0) && tcgetattr(0, &tty.saved) == 0 &&
		 tcgetpgrp(0) == getpgrp();
	cli_progress_init(&p);
	r = ferry_process_restore(&o, &root, &stats, &err);
	cli_progress_end(&p);
	if (r < 0)
		return cli_fail(&err);
	cli_restore_summary(&p, &stats);
	if (pid_file && write_pid_file(pid_file, root) < 0)
		return 1;
	if (detach)
		return 0;
	return tty.on ? shell_job_wait(&tty, root) : cli_wait_forward(root, -1);
}

int cmd_process(const struct ferry_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("process", "expected checkpoint|restore");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help("process");
	if (!strcmp(argv[1], "checkpoint"))
		return process_checkpoint(argc - 1, argv + 1);
	if (!strcmp(argv[1], "restore"))
		return process_restore(argc - 1, argv + 1);
	return cli_usage_error("process", "unknown subcommand \"%s\"", argv[1]);
}
