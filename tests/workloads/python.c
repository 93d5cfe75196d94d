// SPDX-License-Identifier: Apache-2.0
/* python [DIR]: python3 (/usr/bin/python3, else the one on PATH) in the middle of a computation:
 * a SHA-256 hash chain, a big-integer recurrence and a list of floats, advanced in small rounds
 * with a short sleep between them. Prints READY once computing; on SIGUSR1 it stops after the
 * current step, recomputes everything from the start and compares (every 1024th link of the chain
 * too), prints "PASS <steps> <digest>" or "FAIL ..." and exits 0 or 1. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

static const char script[] =
    "import hashlib, signal, sys, time\n"
    "verify = False\n"
    "def on_usr1(sig, frame):\n"
    "    global verify\n"
    "    verify = True\n"
    "signal.signal(signal.SIGUSR1, on_usr1)\n"
    "SEED = b'ferry python workload'\n"
    "P = (1 << 521) - 1\n"
    "def step(h, big, floats, n):\n"
    "    h = hashlib.sha256(h).digest()\n"
    "    big = (big * big + n) % P\n"
    "    floats[n % len(floats)] = floats[n % len(floats)] * 0.5 + n / 3.0\n"
    "    return h, big\n"
    "h, big, floats, n, marks = SEED, 3, [1.0] * 64, 0, {}\n"
    "print('READY', flush=True)\n"
    "while not verify:\n"
    "    for _ in range(500):\n"
    "        n += 1\n"
    "        h, big = step(h, big, floats, n)\n"
    "        if n % 1024 == 0:\n"
    "            marks[n] = (h, big)\n"
    "    time.sleep(0.002)\n"
    "h2, big2, floats2 = SEED, 3, [1.0] * 64\n"
    "for i in range(1, n + 1):\n"
    "    h2, big2 = step(h2, big2, floats2, i)\n"
    "    if i in marks and marks[i] != (h2, big2):\n"
    "        print('FAIL step %d differs from its recomputation' % i)\n"
    "        sys.exit(1)\n"
    "if (h2, big2, floats2) != (h, big, floats):\n"
    "    print('FAIL the final state differs after %d steps' % n)\n"
    "    sys.exit(1)\n"
    "print('PASS %d %s' % (n, h.hex()))\n";

int main(int argc, char **argv)
{
	char *args[] = {"python3", "-c", (char *)script, argc > 1 ? argv[1] : NULL, NULL};

	execv("/usr/bin/python3", args);
	execvp("python3", args);
	printf("FAIL exec python3: %m\n");
	return 1;
}
