#include "testpeers.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

const char *tu_peer_path(const char *name)
{
	static _Thread_local char path[4096];
	const char *dir = getenv("BUNDLED_TEST_PEERS_BIN");

	ck_assert_msg(dir != NULL && dir[0] != '\0', "BUNDLED_TEST_PEERS_BIN is not set");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(access(path, X_OK) == 0, "%s is not built (scripts/test.sh builds tests/peers)", path);
	return path;
}

pid_t tu_proxy_start(char *url, size_t cap, const char *dir, const char *upstream, const char *corrupt)
{
	return tu_proxy_start_mode(url, cap, dir, upstream, corrupt, "flip");
}

pid_t tu_proxy_start_mode(char *url, size_t cap, const char *dir, const char *upstream, const char *corrupt,
	const char *mode)
{
	char addr_file[4200];
	const char *bin = tu_peer_path("tamperproxy");
	pid_t pid;

	snprintf(addr_file, sizeof(addr_file), "%s/proxy-addr", dir);
	unlink(addr_file);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(bin, "tamperproxy", "-upstream", upstream, "-corrupt", corrupt, "-addr-file", addr_file, "-mode",
			mode, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		struct timespec ts = { 0, 50 * 1000000L };
		size_t len;
		char *text = (char *)tu_read_file(addr_file, &len);

		if (text != NULL) {
			text[strcspn(text, "\n")] = '\0';
			snprintf(url, cap, "%s", text);
			free(text);
			return pid;
		}
		nanosleep(&ts, NULL);
	}
	tu_proxy_stop(pid);
	ck_abort_msg("tamperproxy did not start");
	return -1;
}

void tu_proxy_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}
