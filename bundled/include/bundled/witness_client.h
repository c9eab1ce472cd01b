/*
 * A client of one C2SP tlog-witness, for a log that asks witnesses to cosign its checkpoints
 * (docs/checkpoints.md, "Witnesses"). It speaks add-checkpoint over the shared HTTP transport
 * (bundled/http.h), remembers the size the witness last cosigned for this log, and hands back
 * only cosignature lines that verify under the witness's key.
 *
 * The log's side of the protocol: the client starts believing the witness knows size 0. A 409
 * answer teaches it the witness's size, and bd_witness_client_cosign retries once from there
 * with a proof from that size (asked of the caller's prove function). A witness that knows a
 * size above the checkpoint's, or a root the log does not have, is a witness that saw another
 * view of the log: that is an error (TL_E_CONFLICT), never retried.
 *
 * One caller at a time per client (the log asks its witnesses after each commit, one thread
 * per witness or one after the other); clients of different witnesses are independent.
 */
#ifndef BUNDLED_WITNESS_CLIENT_H
#define BUNDLED_WITNESS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/key.h"

typedef struct bd_witness_client bd_witness_client;

typedef struct bd_witness_client_options {
	/* The witness's submission prefix, "https://witness.example/w1"; /add-checkpoint is
	 * appended. Required. */
	const char *url;
	/* The witness's cosigner key (type 0x04); borrowed, must outlive the client. Required. */
	const tl_verifier *key;
	/* Milliseconds for the whole request, and for connecting; 0 takes the transport's
	 * defaults (bundled/http.h). A log sets these low: it should not wait on a slow witness. */
	long timeout_ms;
	long connect_timeout_ms;
	/* NULL: the system's CAs for an https witness; otherwise a PEM file of the only CA
	 * certificates trusted (a private CA, as for `bundlectl witness serve --tls-cert`). */
	const char *ca_file;
} bd_witness_client_options;

int bd_witness_client_open(bd_witness_client **out, const bd_witness_client_options *opts) TL_MUST_USE;
void bd_witness_client_close(bd_witness_client *c);

/* The size the client believes the witness last cosigned for this log (0 at first). */
uint64_t bd_witness_client_known_size(const bd_witness_client *c);

/* One add-checkpoint request: old size, proof, and the log's signed checkpoint note. On 200,
 * checks that the answer holds a valid cosignature by the witness's key on the checkpoint and
 * appends that key's line(s), only those, to `cosig`; *timestamp (if not NULL) gets the
 * cosignature's time. Errors:
 *   TL_E_CONFLICT      409: *known_size (if not NULL) is the witness's size from the body
 *   TL_E_NOTFOUND      404: the witness does not know this log
 *   TL_E_UNAUTHORIZED  403, or an answer without a valid cosignature by the witness's key
 *   TL_E_INPUT         400, 422, a malformed answer, or a request that cannot be written
 *   TL_E_UNAVAILABLE   the witness cannot be reached, timed out, or answered 5xx
 * Each with a message that names the witness's URL. */
int bd_witness_client_add_checkpoint(tl_buf *cosig, uint64_t *timestamp, uint64_t *known_size, bd_witness_client *c,
	uint64_t old_size, const tl_hash *proof, size_t n_proof, const uint8_t *note, size_t note_len) TL_MUST_USE;

/* Supplies the log's consistency proof from old_size to size into proof[TL_MAX_PROOF_HASHES]
 * (e.g. tl_log_prove_consistency); 0 or a tl_err. */
typedef int (*bd_witness_prove_fn)(tl_hash *proof, size_t *n, void *ctx, uint64_t old_size, uint64_t size);

/* Gets the witness's cosignature on the log's checkpoint `note` (signed by the log; its size
 * is read from it): a request from the size the client knows, and after a 409 one retry
 * from the size the witness named, if it is not above the checkpoint's. On success appends
 * the cosignature line(s) to `cosig` and remembers the checkpoint's size. Errors as
 * bd_witness_client_add_checkpoint; TL_E_CONFLICT when the witness is ahead of the
 * checkpoint or still disagrees after the retry. */
int bd_witness_client_cosign(tl_buf *cosig, bd_witness_client *c, const uint8_t *note, size_t note_len,
	bd_witness_prove_fn prove, void *ctx) TL_MUST_USE;

#endif
