/*
 * A log's witness policy: after each commit, ask a set of C2SP tlog-witnesses to cosign the
 * log's newest checkpoint, and decide which checkpoint (with which cosignatures) the log
 * serves (docs/checkpoints.md, "Cosigned checkpoints").
 *
 * One coordinator thread watches the log's size (and, without commits, re-asks every
 * refresh_s seconds so that cosignatures stay fresh); each new checkpoint starts a round:
 * every witness's own thread (bd_witness_client_cosign, with the log's consistency proof
 * from the size the witness last cosigned, and one retry after a 409) is given the
 * checkpoint, and the round ends when all have answered or at the deadline. A witness still
 * busy with an older round sits the new one out. Nothing here holds a lock the log's appends
 * or readers take: appends never wait for witnesses, and readers copy the served checkpoint
 * under a lock of its own.
 *
 * What is served after a round:
 *   - the quorum was met: the new checkpoint with the cosignatures it got;
 *   - it was not, policy "serve": the new checkpoint all the same, with the (too few)
 *     cosignatures it got; clients that require the quorum refuse it;
 *   - it was not, policy "hold": the newest checkpoint that met the quorum (kept in
 *     state_path across restarts), so clients that require it keep a valid, older view;
 *     none yet: as "serve".
 * Until the first round ends, "hold" serves the kept checkpoint (if state_path holds one that
 * is still this log's with the quorum) and otherwise the log's own newest checkpoint is served.
 */
#ifndef BUNDLED_COSIGNING_H
#define BUNDLED_COSIGNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/key.h"
#include "translog/log.h"

#define BD_COSIGNING_MAX_WITNESSES 16

typedef struct bd_cosigning bd_cosigning;

typedef struct bd_cosigning_witness {
	const char *url;          /* submission prefix, http or https; copied */
	const tl_verifier *key;   /* cosigner key (type 0x04); borrowed, must outlive the policy */
} bd_cosigning_witness;

typedef struct bd_cosigning_options {
	tl_log *log;              /* borrowed; must outlive the policy */
	const bd_cosigning_witness *witnesses;
	size_t n_witnesses;       /* 1..BD_COSIGNING_MAX_WITNESSES */
	size_t quorum;            /* 1..n_witnesses */
	bool hold;                /* the "hold" policy; false is "serve" */
	long timeout_ms;          /* a round's deadline; also each request's timeout */
	unsigned refresh_s;       /* re-ask after this long without a commit; 0: never */
	const char *ca_file;      /* NULL, or the PEM CAs trusted for https witnesses */
	/* NULL, or a file that keeps the newest checkpoint that met the quorum across restarts
	 * (replaced atomically after each such round); log_key (borrowed, only during start)
	 * verifies it when it is read back at start. */
	const char *state_path;
	const tl_verifier *log_key;
	/* NULL, or called (from the policy's threads, never with a lock readers take) with a
	 * witness's name and why it failed a round, or with NULL and the outcome of a round
	 * whose quorum differs from the round before (and of the first). */
	void (*report)(void *ctx, const char *witness, const char *message);
	void *report_ctx;
} bd_cosigning_options;

/* Checks the options (TL_E_INPUT), opens a client per witness and starts the threads; the
 * first round starts at once. */
int bd_cosigning_start(bd_cosigning **out, const bd_cosigning_options *opts) TL_MUST_USE;

/* Stops the threads (a round in flight is abandoned at its requests' timeout) and frees.
 * NULL is a no-op. */
void bd_cosigning_stop(bd_cosigning *c);

/* Appends to `note` the checkpoint to serve (the log's signed note and the cosignature lines
 * it carries) and sets *size (may be NULL) to its tree size. If that checkpoint is smaller
 * than min_size (a proof for an entry it does not cover yet), the log's own newest
 * checkpoint is given instead. With c NULL (no witnesses), always the log's newest. */
int bd_cosigning_checkpoint(uint64_t *size, tl_buf *note, bd_cosigning *c, tl_log *log, uint64_t min_size) TL_MUST_USE;

typedef struct bd_cosigning_stats {
	uint64_t rounds;             /* rounds ended since start */
	bool quorum_met;             /* the last round reached the quorum (false before any) */
	uint64_t served_size;        /* the tree size of the checkpoint served (0 before any round) */
	uint64_t cosigned_unix;      /* wall clock when a round last reached the quorum; 0: never */
} bd_cosigning_stats;

typedef struct bd_cosigning_witness_stats {
	const char *name;            /* the witness's key name */
	uint64_t cosigned_size;      /* the size it last cosigned for this log (0: none yet) */
	uint64_t cosignatures;       /* valid cosignatures it gave since start */
	uint64_t failures;           /* rounds it refused, failed, or missed the deadline */
} bd_cosigning_witness_stats;

void bd_cosigning_stats_get(bd_cosigning_stats *out, bd_cosigning *c);
size_t bd_cosigning_witness_count(const bd_cosigning *c);
void bd_cosigning_witness_stats_get(bd_cosigning_witness_stats *out, bd_cosigning *c, size_t i);

#endif
