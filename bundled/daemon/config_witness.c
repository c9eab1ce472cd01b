#include "config_witness.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "translog/bytes.h"

enum { F_WITNESS, F_QUORUM, F_POLICY, F_TIMEOUT, F_REFRESH, F_CA_FILE };

const struct option config_witness_flags[] = {
	{ "witness", required_argument, NULL, CONFIG_WITNESS_FLAG + F_WITNESS },
	{ "witness-quorum", required_argument, NULL, CONFIG_WITNESS_FLAG + F_QUORUM },
	{ "witness-policy", required_argument, NULL, CONFIG_WITNESS_FLAG + F_POLICY },
	{ "witness-timeout-ms", required_argument, NULL, CONFIG_WITNESS_FLAG + F_TIMEOUT },
	{ "witness-refresh", required_argument, NULL, CONFIG_WITNESS_FLAG + F_REFRESH },
	{ "witness-cacert", required_argument, NULL, CONFIG_WITNESS_FLAG + F_CA_FILE },
	{ NULL, 0, NULL, 0 },
};

/* Key names, in the order of the enum. */
static const char *const keys[] = { "witnesses", "witness_quorum", "witness_policy", "witness_timeout_ms",
	"witness_refresh", "witness_cacert" };

const char config_witness_usage[] =
	"Witnesses (config keys: witnesses [\"URL=VKEY\", ...], witness_quorum, witness_policy,\n"
	"witness_timeout_ms, witness_refresh, witness_cacert; see docs/operations.md):\n"
	"  --witness URL=VKEY     a C2SP tlog-witness (its submission URL, http or https, and its\n"
	"                         cosigner key) asked to cosign each new checkpoint (repeatable, up to 16)\n"
	"  --witness-quorum N     cosignatures a checkpoint needs (default: every witness)\n"
	"  --witness-policy P     when fewer answer in time: serve (the newest checkpoint with the\n"
	"                         cosignatures it got; default) or hold (the newest that reached the quorum)\n"
	"  --witness-timeout-ms MS  how long a round waits for the witnesses (default 5000)\n"
	"  --witness-refresh S    ask again after S seconds without a commit, so cosignatures stay\n"
	"                         fresh (default 300)\n"
	"  --witness-cacert FILE  PEM CA certificates trusted for https witnesses (default: the system's)\n";

void config_witness_defaults(struct config_witness *w)
{
	memset(w, 0, sizeof(*w));
	w->policy = WITNESS_POLICY_SERVE;
	w->timeout_ms = 5000;
	w->refresh_s = 300;
}

/* Copies a string of 1 to cap - 1 bytes. */
static int copy(char *dst, size_t cap, const char *src, size_t len, const char *what)
{
	if (len == 0 || len >= cap)
		return tl_error_set(TL_E_INPUT, "%s must be 1 to %zu bytes", what, cap - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* "URL=VKEY": split at the last '=' (a verifier key has none: its base64 is unpadded). */
static int add_witness(struct config_witness *w, const char *arg)
{
	const char *eq = strrchr(arg, '=');
	int err;

	if (w->n == CONFIG_MAX_WITNESSES)
		return tl_error_set(TL_E_INPUT, "at most %d witnesses", CONFIG_MAX_WITNESSES);
	if (eq == NULL)
		return tl_error_set(TL_E_INPUT, "witness \"%.64s\" is not URL=VKEY", arg);
	if ((err = copy(w->w[w->n].url, sizeof(w->w[0].url), arg, (size_t)(eq - arg), "a witness's URL")) != 0 ||
	    (err = copy(w->w[w->n].vkey, sizeof(w->w[0].vkey), eq + 1, strlen(eq + 1), "a witness's key")) != 0)
		return err;
	w->n++;
	return 0;
}

static int set_number(unsigned *out, const char *arg, unsigned long long min, unsigned long long max, const char *what)
{
	uint64_t v;

	if (tl_parse_u64(&v, arg, strlen(arg)) != 0 || v < min || v > max)
		return tl_error_set(TL_E_INPUT, "%s must be an integer from %llu to %llu", what, min, max);
	*out = (unsigned)v;
	return 0;
}

/* Applies one setting given as text, from a flag or a string in the file. */
static int apply(struct config_witness *w, int which, const char *arg)
{
	unsigned q;
	int err;

	switch (which) {
	case F_WITNESS:
		return add_witness(w, arg);
	case F_QUORUM:
		if ((err = set_number(&q, arg, 1, CONFIG_MAX_WITNESSES, "witness_quorum")) != 0)
			return err;
		w->quorum = q;
		w->quorum_set = 1;
		return 0;
	case F_POLICY:
		if (strcmp(arg, "serve") == 0)
			w->policy = WITNESS_POLICY_SERVE;
		else if (strcmp(arg, "hold") == 0)
			w->policy = WITNESS_POLICY_HOLD;
		else
			return tl_error_set(TL_E_INPUT, "witness_policy \"%.32s\" is not serve or hold", arg);
		return 0;
	case F_TIMEOUT:
		return set_number(&w->timeout_ms, arg, 1, CONFIG_WITNESS_MAX_TIMEOUT_MS, "witness_timeout_ms");
	case F_REFRESH:
		return set_number(&w->refresh_s, arg, 1, CONFIG_WITNESS_MAX_REFRESH_S, "witness_refresh");
	case F_CA_FILE:
		return copy(w->ca_file, sizeof(w->ca_file), arg, strlen(arg), "witness_cacert");
	}
	return tl_error_set(TL_E_INTERNAL, "no such witness setting");
}

int config_witness_key(struct config_witness *w, const char *key, json_t *value)
{
	char num[24];
	size_t i;
	json_t *item;
	int which = -1, err;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (strcmp(key, keys[k]) == 0)
			which = (int)k;
	if (which < 0)
		return 1;
	if (which == F_WITNESS) {
		if (!json_is_array(value))
			return tl_error_set(TL_E_INPUT, "config: \"witnesses\" must be a list of \"URL=VKEY\" strings");
		w->n = 0;
		json_array_foreach(value, i, item) {
			if (!json_is_string(item))
				return tl_error_set(TL_E_INPUT, "config: \"witnesses\" must be a list of \"URL=VKEY\" strings");
			if ((err = add_witness(w, json_string_value(item))) != 0)
				return tl_error_wrap(err, "config: witnesses[%zu]", i);
		}
		return 0;
	}
	if (json_is_string(value) && (which == F_POLICY || which == F_CA_FILE))
		return apply(w, which, json_string_value(value));
	if (json_is_integer(value) && which != F_POLICY && which != F_CA_FILE && json_integer_value(value) >= 0) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(value));
		return apply(w, which, num);
	}
	return tl_error_set(TL_E_INPUT, "config: \"%s\" must be %s", key,
		which == F_POLICY || which == F_CA_FILE ? "a string" : "a positive integer");
}

int config_witness_flag(struct config_witness *w, int val, const char *arg)
{
	int which = val - CONFIG_WITNESS_FLAG;

	/* The first --witness replaces the file's list: flags override the file. */
	if (which == F_WITNESS && !w->listed_by_flag) {
		w->n = 0;
		w->listed_by_flag = 1;
	}
	return apply(w, which, arg);
}

int config_witness_finish(struct config_witness *w)
{
	if (w->n == 0) {
		if (w->quorum_set)
			return tl_error_set(TL_E_INPUT, "witness_quorum without any witness");
		return 0;
	}
	if (!w->quorum_set)
		w->quorum = w->n;
	if (w->quorum > w->n)
		return tl_error_set(TL_E_INPUT, "witness_quorum %zu is more than the %zu witnesses", w->quorum, w->n);
	return 0;
}
