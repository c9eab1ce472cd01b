/*
 * What the publisher's commands (domain, publish, revoke, get, status) share: a session with
 * one daemon (its client and the log's origin and verifier key from GET /v1/log), signing
 * entries, building a version's entry from a bundle, and submitting a signed request: the
 * answer's checkpoint and inclusion proof are checked here against the log key before the
 * command reports success, and written as a C2SP tlog-proof file when asked.
 */
#ifndef BUNDLECTL_PUBLISHER_H
#define BUNDLECTL_PUBLISHER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/bundle.h"
#include "bundled/client.h"
#include "bundled/entry.h"
#include "server.h"
#include "translog/key.h"

struct pub_session {
	const char *cmd; /* for messages: "publish" */
	bd_client *client;
	char origin[TL_MAX_KEY_NAME + 1];
	tl_verifier *log_key;
};

/* Opens a session with the daemon `server` names (URL and TLS options, server.h) with
 * `authorization` (an Authorization value, or NULL) and reads GET /v1/log. Returns a tl_err. */
int pub_open(struct pub_session *s, const char *cmd, const struct cli_server *server,
	const char *authorization) TL_MUST_USE;
void pub_close(struct pub_session *s);

/* GET <path> as one JSON object. */
int pub_get_json(json_t **out, struct pub_session *s, const char *path) TL_MUST_USE;

/* The domain's state (GET /v1/domains/<td>): the next sequence and, when it has published,
 * the newest one. */
int pub_domain_sequences(uint64_t *next, bool *has_newest, uint64_t *newest, struct pub_session *s,
	const char *domain) TL_MUST_USE;

/* An unsigned bundle entry of `domain` for b as version `sequence` with `refresh_hint`
 * (0: none), claimed now; b's canonical bytes (carrying both) are appended to `canonical`. */
int pub_version_entry(bd_entry *e, tl_buf *canonical, bd_bundle *b, const char *domain, uint64_t sequence,
	uint64_t refresh_hint) TL_MUST_USE;

/* Signs e with `key` in the session's log and appends its text. */
int pub_sign(tl_buf *text, bd_entry *e, const struct pub_session *s, const tl_signer *key) TL_MUST_USE;

/* POSTs `body` to `path`, checks that the answer's checkpoint is signed by the log and that
 * the entry whose text is `leaf` is at the answer's index in it; writes the tlog-proof file
 * to proof_out (unless NULL). *reply gets the answer. An empty `leaf` (an entry the daemon
 * writes, a registration) is filled with the entry the daemon serves at that index, which the
 * caller then checks. */
int pub_submit(json_t **reply, struct pub_session *s, const char *path, const tl_buf *body, tl_buf *leaf,
	const char *proof_out) TL_MUST_USE;

/* Signs b as version `sequence` of `domain` with `refresh_hint` (0: none) and submits it
 * (pub_submit, proof to proof_out unless NULL): what publish and follow share. */
int pub_publish_version(json_t **reply, struct pub_session *s, const char *domain, const tl_signer *key,
	bd_bundle *b, uint64_t sequence, uint64_t refresh_hint, const char *proof_out) TL_MUST_USE;

/* A command's end: the exit code for err (printing why), else prints the outcome as
 * pub_print does; frees reply and closes the session. */
int pub_finish(struct pub_session *s, int err, json_t *reply, bool json, const char *verb);

/* Prints the outcome: with json, one object (domain, sequence, index, sha256, cid,
 * checkpoint); else one line starting with `verb`. */
int pub_print(const json_t *reply, bool json, const char *verb);

#endif
