/*
 * Helpers for the agent's suites: a real daemon with registered domains and a publisher key,
 * publishing the bundle history through bundlectl, running `bundlectl agent --once`, and the
 * files an agent keeps (output and state), to compare byte for byte.
 */
#ifndef BUNDLED_TESTAGENT_H
#define BUNDLED_TESTAGENT_H

#include <stddef.h>
#include <stdint.h>

#include "testdaemon.h"
#include "testpublish.h"
#include "testrun.h"

struct tu_world {
	char *dir;
	char data[4200];
	char key[4200];      /* the publisher key file */
	char vkey[512];      /* its verifier key */
	struct tu_daemon d;
	struct tu_history h;
};

/* Starts a daemon in a new directory (with `log_key`, a log.key file to copy into its data
 * directory first, or NULL for a new one) and registers the domains with one publisher key
 * (made from the seed file `publisher`, or a new one when NULL). */
void tu_world_start(struct tu_world *w, const char *const *domains, size_t n, const char *log_key,
	const char *publisher);
void tu_world_stop(struct tu_world *w);

/* Publishes history version `v` (0-based) as the next version of td; returns its sequence. */
uint64_t tu_world_publish(struct tu_world *w, const char *td, size_t v);

/* The canonical bytes of td's newest version (malloc'ed). */
uint8_t *tu_world_newest(const struct tu_world *w, const char *td, size_t *len);

/* Runs `bundlectl agent --once` against `server` with the given options (shell text, e.g.
 * "--domain a.test --out '...' --state '...' --log-key '...'"); returns its exit status. */
int tu_agent_once(struct tu_output *o, const char *dir, const char *server, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The output file and the state file of an agent. */
struct tu_agent_files {
	uint8_t *out, *state;
	size_t out_len, state_len;
};
void tu_agent_files_get(struct tu_agent_files *f, const char *out, const char *state_dir);
void tu_agent_files_assert_same(const struct tu_agent_files *a, const struct tu_agent_files *b, const char *what);
void tu_agent_files_free(struct tu_agent_files *f);

#endif
