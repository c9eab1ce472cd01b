/*
 * The agent: keeps a local bundle file per followed trust domain current, pulling each new
 * version as a diff (GET /v1/domains/<td>/diff) and trusting the server for nothing. Before a
 * file is replaced, the agent checks (docs/agent.md):
 *   1. the checkpoint's signature against the pinned log key (--log-key, or the key the
 *      server presented on first contact with --tofu), and a quorum of witness cosignatures
 *      when witnesses are configured;
 *   2. its consistency with the last checkpoint the agent verified (a fork, or a rollback, is
 *      an alarm: both signed checkpoints are saved as evidence, the old file is kept);
 *   3. the inclusion of the new version's entry in that checkpoint's tree;
 *   4. the publisher's signature on the entry, against the domain's keys as the log records
 *      them: the agent reads the log's entries since its last position from entry bundles
 *      (each proven against the verified checkpoint, translog/follow.h) and replays the
 *      domain's registration and key changes (the auditor's rules, audit_domain_step);
 *   5. the patched bytes' SHA-256, size and CID against the entry (or, with no usable diff,
 *      the whole version fetched by CID from the server's /ipfs/ or an IPFS gateway, every
 *      block checked against its CID), and that they are a canonical bundle of that sequence;
 *   6. a sequence strictly above the one held.
 * Only then: the canonical bytes and the state (DIR/state) are written atomically, then the
 * output file (temporary file, fsync, rename, fsync of the directory), then --on-update runs.
 * A refused update leaves the output file and the state byte for byte as they were.
 *
 * The loop waits for the refresh hint (or the poll interval) on a pipe that bd_agent_wake
 * writes to, so a watch stream (or anything else) can make it poll a domain at once. With
 * `watch`, bd_agent_run holds one GET /v1/watch stream (bundled/watch.h) on a thread of its
 * own, and each event of a followed domain, for a sequence above the one held, wakes the loop
 * for that domain only; the poll of every domain at the refresh hint goes on, so a lost event
 * costs at most one interval. The stream is a hint, never trusted: what it announces is
 * verified as any poll's answer, and wakes are coalesced and spaced (BD_AGENT_WAKE_GAP_*:
 * a wake that finds nothing new doubles the gap), so a hostile stream cannot make it spin.
 */
#ifndef BUNDLED_AGENT_H
#define BUNDLED_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/client.h"
#include "translog/error.h"
#include "translog/key.h"

#define BD_AGENT_MAX_DOMAINS 64
#define BD_AGENT_MAX_WITNESSES 32
#define BD_AGENT_DEFAULT_INTERVAL_S 300u /* when a version has no refresh hint */
#define BD_AGENT_MIN_INTERVAL_S 5u       /* a refresh hint below this is raised to it */
#define BD_AGENT_MAX_INTERVAL_S 86400u
#define BD_AGENT_WAKE_GAP_MIN_MS 100u    /* the least time between two woken polls of domains */
#define BD_AGENT_WAKE_GAP_MAX_MS 60000u  /* the gap after woken polls that found nothing, at most */

typedef enum bd_agent_format {
	BD_AGENT_FORMAT_SPIFFE = 0, /* the canonical SPIFFE bundle (JSON), as published */
	BD_AGENT_FORMAT_PEM,        /* the X.509 authorities as PEM certificates */
	BD_AGENT_FORMAT_DER,        /* the X.509 authorities as concatenated DER certificates */
} bd_agent_format;

/* "spiffe", "pem", "der" -> format; TL_E_INPUT otherwise. */
int bd_agent_format_parse(bd_agent_format *out, const char *name) TL_MUST_USE;

typedef enum bd_agent_level { BD_AGENT_INFO, BD_AGENT_WARN, BD_AGENT_ERROR } bd_agent_level;

typedef struct bd_agent_options {
	bd_client_options server;      /* the bundled daemon */
	const char *ipfs_gateway;      /* NULL: whole versions come from the server's /ipfs/ */
	const char *const *domains;    /* n_domains trust domains, 1..BD_AGENT_MAX_DOMAINS */
	size_t n_domains;
	/* One domain: the output file. Several: a directory, each domain's file named
	 * "<td>.json", "<td>.pem" or "<td>.der". */
	const char *out;
	bd_agent_format format;
	const char *state_dir;         /* created (0700) if missing */
	const tl_verifier *log_key;    /* NULL with tofu */
	bool tofu;                     /* pin the key the server presents on first contact */
	const tl_verifier *const *witnesses;
	size_t n_witnesses, quorum;
	const char *on_update;         /* NULL, or a shell command run after each new file, with
	                                * BUNDLED_DOMAIN, BUNDLED_SEQUENCE, BUNDLED_FILE set */
	uint64_t max_stale_s;          /* 0: no staleness limit */
	uint64_t poll_interval_s;      /* 0: each domain's refresh hint */
	bool watch;                    /* bd_agent_run holds a /v1/watch stream (1..16 domains) */
	/* Where the agent says what it does (may be NULL: nothing is said). */
	void (*log)(void *ctx, bd_agent_level level, const char *message);
	void *log_ctx;
} bd_agent_options;

typedef struct bd_agent bd_agent;

/* Opens the state (creating it on first use) and checks it against the options: a state
 * pinned to another log key than --log-key, or without a pinned key and neither --log-key
 * nor --tofu, is TL_E_INPUT. Rewrites any output file that does not hold the state's
 * version (a crash between the state's commit and the file's write). */
int bd_agent_new(bd_agent **out, const bd_agent_options *opts) TL_MUST_USE;
void bd_agent_free(bd_agent *a);

/* What one round over every domain found. */
typedef struct bd_agent_round {
	size_t updated;   /* files replaced */
	size_t refused;   /* updates refused (the reason was logged) */
	size_t failed;    /* domains the server could not be asked about (down, 5xx, ...) */
	bool fork;        /* a fork or rollback of the log: evidence saved */
	bool stale;       /* no checkpoint verified within max_stale_s */
	int first_error;  /* the tl_err of the first refusal or failure, or 0 */
} bd_agent_round;

/* One round: every domain asked for its newest version, verified, installed. Returns 0
 * when the round ran (see *r), or an error that stops the agent (state unwritable, NOMEM). */
int bd_agent_poll(bd_agent_round *r, bd_agent *a) TL_MUST_USE;

/* Runs rounds until bd_agent_stop: after each, waits for the shortest refresh hint (or the
 * poll interval), or less after a failure (jittered exponential back-off from 1 s), or until
 * bd_agent_wake (a wake for one domain polls only it). With opts->watch, the watch stream
 * runs meanwhile (a stream that cannot be had is said, and the agent polls only). Returns 0
 * once stopped, or the error of bd_agent_poll. */
int bd_agent_run(bd_agent *a) TL_MUST_USE;

/* Makes the waiting loop poll now; `domain` (NULL, or one not followed: all) is the domain
 * said to have changed, and only it is asked about. Thread-safe and async-signal-safe (an
 * atomic flag and one write to a pipe). */
void bd_agent_wake(bd_agent *a, const char *domain);

/* Makes bd_agent_run return after the round in progress. Thread- and signal-safe. */
void bd_agent_stop(bd_agent *a);

#endif
