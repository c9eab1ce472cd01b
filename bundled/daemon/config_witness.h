/*
 * The witnesses in the daemon's configuration (docs/operations.md, "Witnesses of the log"):
 * which C2SP tlog-witnesses the daemon asks to cosign its checkpoints, how many cosignatures
 * make a quorum, and what it serves when too few answer in time. JSON keys and flags of
 * their own, kept apart from the rest of config.c as config_http.c keeps the server's.
 */
#ifndef BUNDLED_DAEMON_CONFIG_WITNESS_H
#define BUNDLED_DAEMON_CONFIG_WITNESS_H

#include <getopt.h>
#include <stddef.h>

#include "translog/error.h"

#define CONFIG_MAX_WITNESSES 16
#define CONFIG_WITNESS_MAX_URL 512   /* BD_HTTP_URL_MAX */
#define CONFIG_WITNESS_MAX_VKEY 1024 /* TL_MAX_KEY_TEXT */
#define CONFIG_WITNESS_MAX_PATH 1024
#define CONFIG_WITNESS_MAX_TIMEOUT_MS 600000u
#define CONFIG_WITNESS_MAX_REFRESH_S 86400u

struct json_t;

/* What the daemon serves when a round of cosigning ends without the quorum. */
enum witness_policy_kind {
	WITNESS_POLICY_SERVE, /* the newest checkpoint, with the cosignatures it got */
	WITNESS_POLICY_HOLD,  /* the newest checkpoint that reached the quorum */
};

struct config_witness {
	struct {
		char url[CONFIG_WITNESS_MAX_URL];   /* submission prefix; /add-checkpoint is appended */
		char vkey[CONFIG_WITNESS_MAX_VKEY]; /* the witness's cosigner key (type 0x04) */
	} w[CONFIG_MAX_WITNESSES];
	size_t n;
	size_t quorum;                   /* settled by config_witness_finish: default every witness */
	int quorum_set;
	int listed_by_flag;             /* a --witness flag replaced the file's list */
	enum witness_policy_kind policy; /* default serve */
	unsigned timeout_ms;             /* a round's deadline (default 5000) */
	unsigned refresh_s;              /* re-ask after this long without a commit (default 300) */
	char ca_file[CONFIG_WITNESS_MAX_PATH]; /* "" = the system's CAs for https witnesses */
};

void config_witness_defaults(struct config_witness *w);

/* Applies one key of the JSON config file: 0 if it was a witness key and is valid, 1 if it
 * is not a witness key, or TL_E_INPUT. */
int config_witness_key(struct config_witness *w, const char *key, struct json_t *value) TL_MUST_USE;

/* The flags (--witness URL=VKEY, --witness-quorum N, ...): getopt_long entries whose `val`
 * is CONFIG_WITNESS_FLAG + index, ended by a zero entry; config_witness_flag applies one. */
#define CONFIG_WITNESS_FLAG 3072
extern const struct option config_witness_flags[];
int config_witness_flag(struct config_witness *w, int val, const char *arg) TL_MUST_USE;

/* The --help lines of the flags and keys. */
extern const char config_witness_usage[];

/* Settles the quorum (every witness unless given; from 1 to the number of witnesses) and
 * checks the values together. */
int config_witness_finish(struct config_witness *w) TL_MUST_USE;

#endif
