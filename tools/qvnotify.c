// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvnotify: the receiving end of systemd's readiness protocol, for tests
 * of "qvisorctl watch" without systemd.
 *
 *   qvnotify SOCKET SECONDS
 *
 * Binds a unix datagram socket at SOCKET (what $NOTIFY_SOCKET names for
 * the service) and prints each datagram received as one line, its
 * newlines as spaces, prefixed by the milliseconds since qvnotify
 * started; exits after SECONDS (or on SIGTERM), removing SOCKET.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act = { .sa_handler = on_term };
	char buf[4096];
	double t0 = now(), secs;
	ssize_t n;
	int fd, i;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path) ||
	    (secs = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: qvnotify SOCKET SECONDS\n");
		return 2;
	}
	sigaction(SIGTERM, &act, NULL);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "qvnotify: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while (!stop && now() - t0 < secs) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		buf[n] = '\0';
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
		printf("%.0f %s\n", (now() - t0) * 1e3, buf);
		fflush(stdout);
	}
	unlink(argv[1]);
	return 0;
}
