// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ferry/container.h"

static const struct {
	const char *name;
	int num;
} signals[] = {
	{"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
	{"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGABRT},    {"BUS", SIGBUS},
	{"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
	{"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
	{"CHLD", SIGCHLD},   {"CONT", SIGCONT},     {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},
	{"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},     {"URG", SIGURG},     {"XCPU", SIGXCPU},
	{"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
	{"IO", SIGIO},       {"SYS", SIGSYS},
};

int ferry_signal_parse(const char *s, ferry_err_t *err)
{
	char *end;
	long n;

	if (!s || !*s)
		return ferry_error(err, 0, "empty signal");
	n = strtol(s, &end, 10);
	if (*end == '\0') {
		if (n <= 0 || n >= NSIG)
			return ferry_error(err, 0, "invalid signal number %s", s);
		return (int)n;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].num;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		long off = s[5] ? strtol(s + 5, &end, 10) : 0;

		if (s[5] && *end == '\0') {
			n = (s[3] == 'M' || s[3] == 'm') && strncasecmp(s, "RTMIN", 5) == 0
				    ? SIGRTMIN + off
				    : SIGRTMAX + off;
			if (n >= SIGRTMIN && n <= SIGRTMAX)
				return (int)n;
		} else if (!s[5]) {
			return strncasecmp(s, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
		}
	}
	return ferry_error(err, 0, "unknown signal \"%s\"", s);
}
