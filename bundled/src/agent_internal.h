/*
 * The agent's pieces (internal to the bundled core): its state (agent_state.c), the check of
 * one diff response (agent_verify.c) and the loop, output and alarms (agent.c). See
 * bundled/agent.h.
 */
#ifndef BUNDLED_AGENT_INTERNAL_H
#define BUNDLED_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "audit_internal.h"
#include "bundled/agent.h"
#include "bundled/diff_response.h"
#include "translog/checkpoint.h"
#include "translog/follow.h"

#define AGENT_STATE_FILE "state"
#define AGENT_VERSIONS_DIR "versions"   /* canonical bytes by SHA-256 (the bases of diffs) */
#define AGENT_EVIDENCE_DIR "evidence"
#define AGENT_MAX_STATE_FILE (4u << 20)
/* Up to this many new log entries are read one by one (GET /v1/log/entries/<i>, each proven
 * by its inclusion proof against the verified checkpoint) rather than from entry bundles: a
 * partial bundle holds every entry of its tile so far, so reading it again downloads the
 * prefix the agent replayed before (most of an update's bytes; benchmarks/README.md). */
#define AGENT_MAX_SINGLE_ENTRIES 8

/* The version the agent holds of one domain. */
struct agent_version {
	bool has;
	uint64_t sequence, index, size, refresh_hint;
	tl_hash sha256;
};

/* Everything in DIR/state: written whole after each verified step. */
struct agent_state {
	char log_vkey[TL_MAX_KEY_TEXT + 1]; /* the pinned log key ("" before first contact with --tofu) */
	bool has_checkpoint;
	tl_checkpoint checkpoint;           /* the last checkpoint verified */
	tl_buf note;                        /* its signed note */
	uint64_t verified_at;               /* unix seconds when a checkpoint was last verified */
	uint64_t cosigned_at;               /* with witnesses: when the quorum-th of them had cosigned it */
	uint64_t scanned;                   /* entries [0, scanned) replayed into `keys` */
	bool rescan;                        /* a domain is followed that was not replayed for */
	struct audit_domains keys;          /* the followed domains' keys as the log made them */
	size_t n;                           /* followed domains, in the options' order */
	char domains[BD_AGENT_MAX_DOMAINS][BD_MAX_DOMAIN + 1];
	struct agent_version held[BD_AGENT_MAX_DOMAINS];
};

/* Loads DIR/state for these domains (a state without a domain starts it empty; domains the
 * state has but the options do not are dropped at the next save). A missing file is a fresh
 * state. TL_E_INPUT for a damaged file. The checkpoint is not verified here. */
int agent_state_load(struct agent_state *st, const char *dir, const char *const *domains, size_t n) TL_MUST_USE;
/* Writes DIR/state atomically. */
int agent_state_save(const struct agent_state *st, const char *dir) TL_MUST_USE;
void agent_state_free(struct agent_state *st);

/* What a verified response gives, to install. */
struct agent_update {
	bd_entry entry;          /* the version's entry */
	uint64_t index;
	tl_buf bytes;            /* its canonical bytes (empty when status is CURRENT) */
	tl_checkpoint checkpoint;
	uint64_t cosigned_at;    /* with witnesses: the quorum-th newest valid cosignature's time */
	bool fork;               /* the checkpoint contradicts the held one: evidence, not an update */
	tl_follow_fork evidence;
};

/* The inputs of one verification. */
struct agent_check {
	const tl_follow_config *follow;   /* log key (pinned), witnesses, tiles through the server */
	const char *origin;               /* the log's origin (the pinned key's name) */
	const char *domain;
	bd_client *server;                /* the daemon: single entries and their inclusion proofs */
	bd_client *blocks;                /* where whole versions come from, by CID */
	const uint8_t *held_bytes;        /* the canonical bytes held (NULL if none) */
	size_t held_len;
};

/* A cosignature dated further ahead of the agent's clock than this is refused as invalid. */
#define AGENT_MAX_COSIG_SKEW_S 300

/* Verifies response `r` (items 1-6 of bundled/agent.h) against the state, and on success
 * fills *u and advances st->keys, st->scanned (the caller saves st only if it installs).
 * Returns 0 with u->fork set for a fork or rollback (the evidence in u->evidence), or a
 * negative tl_err naming the check that failed: TL_E_UNAUTHORIZED for a signature, proof or
 * hash that does not hold, TL_E_CONFLICT for a rollback of the sequence or a wrong base,
 * TL_E_INPUT for a malformed response, the transport's codes for fetches. */
int agent_verify(struct agent_update *u, struct agent_state *st, const struct agent_check *c,
	const bd_diff_response *r) TL_MUST_USE;

/* agent_output.c. Where domain i's output goes (one domain: the file named; several: a file
 * per domain in the directory named). */
void agent_out_path(char *path, size_t cap, const bd_agent_options *o, size_t i);
/* Makes domain i's output file hold the canonical bytes in the configured format, replaced
 * atomically, unless it holds them already (*changed says which). */
int agent_write_output(bool *changed, const bd_agent_options *o, size_t i, const uint8_t *canon, size_t len)
	TL_MUST_USE;
/* Runs --on-update (if any) for domain i's new version: 0, or its exit status (-1: did not run). */
int agent_run_hook(const bd_agent_options *o, size_t i, uint64_t sequence);
/* Saves a fork's evidence under DIR/evidence/<n>-* (n: the first free number): both signed
 * checkpoints (the files `bundlectl verify-consistency` takes) and what disagrees;
 * the files' pattern goes to `where`. */
int agent_save_evidence(char *where, size_t cap, const bd_agent_options *o, const struct agent_state *st,
	const struct agent_update *u, const bd_diff_response *r) TL_MUST_USE;
/* mkdir, 0700, an existing directory included. */
int agent_mkdir(const char *path) TL_MUST_USE;

/* The watch (agent_watch.c): a thread holding one /v1/watch stream for o's domains that calls
 * wake(wake_ctx, domain) for each event of a sequence above the one held (told through
 * agent_watch_held). resume/after: replay the events after leaf index `after`. */
struct agent_watch;
int agent_watch_start(struct agent_watch **out, const bd_agent_options *o, bool resume, uint64_t after,
	void (*wake)(void *ctx, const char *domain), void *wake_ctx) TL_MUST_USE;
/* The sequence now held of domain i (NULL aw: nothing). */
void agent_watch_held(struct agent_watch *aw, size_t i, uint64_t sequence);
/* Ends the stream and the thread, frees. NULL is ignored. */
void agent_watch_stop(struct agent_watch *aw);

#endif
