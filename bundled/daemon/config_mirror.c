#include "config_mirror.h"

#include <jansson.h>
#include <stddef.h>
#include <string.h>

#include "translog/bytes.h"

#define DEFAULT_INTERVAL_MS 1000u
#define MAX_INTERVAL_MS 3600000u

enum { F_REPLICA_OF, F_REPLICA_LOG_KEY, F_REPLICA_CA_FILE, F_GIT_MIRROR, F_STRINGS, F_REPLICA_INTERVAL = F_STRINGS,
	F_REPLICA_NO_WATCH, F_ALL };

static const struct {
	const char *key, *flag;
	size_t offset;
} strings[F_STRINGS] = {
	{ "replica_of", "replica-of", offsetof(struct config_mirror, replica_of) },
	{ "replica_log_key", "replica-log-key", offsetof(struct config_mirror, replica_log_key) },
	{ "replica_ca_file", "replica-ca-file", offsetof(struct config_mirror, replica_ca_file) },
	{ "git_mirror", "git-mirror", offsetof(struct config_mirror, git_mirror) },
};

const struct option config_mirror_flags[] = {
	{ "replica-of", required_argument, NULL, CONFIG_MIRROR_FLAG + F_REPLICA_OF },
	{ "replica-log-key", required_argument, NULL, CONFIG_MIRROR_FLAG + F_REPLICA_LOG_KEY },
	{ "replica-ca-file", required_argument, NULL, CONFIG_MIRROR_FLAG + F_REPLICA_CA_FILE },
	{ "git-mirror", required_argument, NULL, CONFIG_MIRROR_FLAG + F_GIT_MIRROR },
	{ "replica-interval", required_argument, NULL, CONFIG_MIRROR_FLAG + F_REPLICA_INTERVAL },
	{ "replica-no-watch", no_argument, NULL, CONFIG_MIRROR_FLAG + F_REPLICA_NO_WATCH },
	{ NULL, 0, NULL, 0 },
};

const char config_mirror_usage[] =
	"Mirrors (config keys: replica_of, replica_log_key, replica_ca_file, replica_interval_ms,\n"
	"replica_watch, git_mirror):\n"
	"  --replica-of URL       serve as a read-only replica of the bundled at URL: follow its\n"
	"                         checkpoint, tiles and versions, verified (docs/operations.md)\n"
	"  --replica-log-key VKEY the primary log's verifier key (required with --replica-of)\n"
	"  --replica-ca-file FILE the CA of an https primary (default: the system's)\n"
	"  --replica-interval MS  between the replica's rounds (default 1000)\n"
	"  --replica-no-watch     rounds every interval only: no watch of the primary's events\n"
	"  --git-mirror DIR       keep a bare git repository of the log, one commit per entry\n";

void config_mirror_defaults(struct config_mirror *m)
{
	memset(m, 0, sizeof(*m));
	m->replica_interval_ms = DEFAULT_INTERVAL_MS;
	m->replica_watch = true;
}

static int set_string(struct config_mirror *m, int which, const char *s, const char *how)
{
	char *dst = (char *)m + strings[which].offset;

	if (strlen(s) >= CONFIG_MIRROR_MAX_STRING)
		return tl_error_set(TL_E_INPUT, "%s %s is longer than %d bytes", how, strings[which].key,
			CONFIG_MIRROR_MAX_STRING - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int set_interval(struct config_mirror *m, unsigned long long v, const char *how)
{
	if (v == 0 || v > MAX_INTERVAL_MS)
		return tl_error_set(TL_E_INPUT, "%s replica_interval_ms must be 1 to %u", how, MAX_INTERVAL_MS);
	m->replica_interval_ms = (unsigned)v;
	return 0;
}

int config_mirror_key(struct config_mirror *m, const char *key, struct json_t *value)
{
	for (int i = 0; i < F_STRINGS; i++) {
		if (strcmp(key, strings[i].key) != 0)
			continue;
		if (!json_is_string(value))
			return tl_error_set(TL_E_INPUT, "config: \"%s\" must be a string", key);
		return set_string(m, i, json_string_value(value), "config:");
	}
	if (strcmp(key, "replica_interval_ms") == 0) {
		if (!json_is_integer(value) || json_integer_value(value) < 0)
			return tl_error_set(TL_E_INPUT, "config: \"%s\" must be a whole number", key);
		return set_interval(m, (unsigned long long)json_integer_value(value), "config:");
	}
	if (strcmp(key, "replica_watch") == 0) {
		if (!json_is_boolean(value))
			return tl_error_set(TL_E_INPUT, "config: \"%s\" must be true or false", key);
		m->replica_watch = json_is_true(value);
		return 0;
	}
	return 1;
}

int config_mirror_flag(struct config_mirror *m, int val, const char *arg)
{
	int which = val - CONFIG_MIRROR_FLAG;
	uint64_t v;

	if (which >= 0 && which < F_STRINGS)
		return set_string(m, which, arg, "flag");
	if (which == F_REPLICA_NO_WATCH) {
		m->replica_watch = false;
		return 0;
	}
	if (which != F_REPLICA_INTERVAL)
		return tl_error_set(TL_E_INTERNAL, "no such mirror flag");
	if (tl_parse_u64(&v, arg, strlen(arg)) != 0)
		return tl_error_set(TL_E_INPUT, "--replica-interval: \"%.32s\" is not a decimal integer", arg);
	return set_interval(m, v, "flag");
}

int config_mirror_finish(const struct config_mirror *m)
{
	if ((m->replica_of[0] != '\0') != (m->replica_log_key[0] != '\0'))
		return tl_error_set(TL_E_INPUT, "replica_of and replica_log_key go together: a replica verifies what it "
						"follows with the primary's log key");
	return 0;
}
