/*
 * A transparency log witness (C2SP tlog-witness): it cosigns (C2SP tlog-cosignature,
 * cosignature/v1) only checkpoints that are consistent with the latest one it cosigned for
 * the same log, so a log that shows two views of its history cannot get both cosigned.
 *
 * The add-checkpoint request body (the one reader and writer are tl_witness_request_parse
 * and tl_witness_request_write):
 *
 *     old <size>\n                 the size the client believes the witness last cosigned
 *     <base64 hash>\n ...          0..TL_WITNESS_MAX_PROOF consistency proof hashes
 *     \n
 *     <signed checkpoint note>
 *
 * State: one file per log in a state directory, named by the SHA-256 of the log's origin
 * ("<64 hex>.checkpoint"), holding the latest cosigned checkpoint note with the witness's own
 * cosignature on it. It is replaced atomically (temp file, fsync, rename, fsync of the
 * directory) before the cosignature is handed out. Checking the old size and persisting the
 * new checkpoint happen under the log's lock, a mutex within the process and an flock(2) on
 * "<64 hex>.lock" across processes, so two requests racing with sizes N and N+K can never
 * roll the state back (the spec's race), even from two witness processes on one directory.
 * Different logs have different locks: one log's fsyncs do not hold up another's requests.
 *
 * A state file that does not verify (the log's signature and the witness's own cosignature,
 * origin and name) is corruption or tampering: tl_witness_open refuses to start, and a request
 * that finds one later is answered 500 and the file is left untouched for the operator.
 * Nothing here uses RocksDB: libtranslog alone is enough.
 */
#ifndef TRANSLOG_WITNESS_H
#define TRANSLOG_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/key.h"

/* The spec's limit on consistency proof lines. */
#define TL_WITNESS_MAX_PROOF 63
/* The largest checkpoint note a request may carry: the text is under 400 bytes, the rest is
 * room for signature lines (100 Ed25519 lines are about 12 KB). */
#define TL_WITNESS_MAX_NOTE (64u * 1024)
/* The largest request body: "old " + 20 digits + "\n", the proof lines, the blank line, the note. */
#define TL_WITNESS_MAX_REQUEST (4 + 20 + 1 + TL_WITNESS_MAX_PROOF * 45 + 1 + TL_WITNESS_MAX_NOTE)
/* The longest 409 body, "<size>\n". */
#define TL_WITNESS_MAX_SIZE_BODY 21
/* The most log keys one witness is configured with. */
#define TL_WITNESS_MAX_LOGS 256
/* The Content-Type of a 409 answer. */
#define TL_WITNESS_SIZE_TYPE "text/x.tlog.size"

/* A parsed add-checkpoint request. `note` borrows from the parsed body. */
typedef struct tl_witness_request {
	uint64_t old_size;
	size_t n_proof;
	tl_hash proof[TL_WITNESS_MAX_PROOF];
	const uint8_t *note;
	size_t note_len;
} tl_witness_request;

/* Parses a request body strictly: "old " and a canonical decimal, each proof line exactly the
 * 44 characters of canonical base64 of 32 bytes, one empty line, then a non-empty note of at
 * most TL_WITNESS_MAX_NOTE bytes (not parsed here). TL_E_INPUT naming the line that is wrong. */
int tl_witness_request_parse(tl_witness_request *out, const uint8_t *body, size_t len) TL_MUST_USE;

/* Appends a request body; the writer of what tl_witness_request_parse reads. TL_E_INPUT for
 * more than TL_WITNESS_MAX_PROOF hashes or an empty or oversized note. */
int tl_witness_request_write(tl_buf *out, uint64_t old_size, const tl_hash *proof, size_t n_proof,
	const uint8_t *note, size_t note_len) TL_MUST_USE;

/* The 409 body, "<size>\n" (canonical decimal): reader and writer. */
int tl_witness_size_parse(uint64_t *size, const uint8_t *body, size_t len) TL_MUST_USE;
int tl_witness_size_write(tl_buf *out, uint64_t size) TL_MUST_USE;

typedef struct tl_witness tl_witness;

typedef struct tl_witness_config {
	/* The witness's key: type 0x04 (cosignature/v1). Its name is the witness's name. */
	const tl_signer *key;
	/* The logs' keys (type 0x01), n_logs of them (1..TL_WITNESS_MAX_LOGS). A key's name is its
	 * log's origin; a log may have several keys (a rotation), two equal keys are refused. */
	const tl_verifier *const *logs;
	size_t n_logs;
	/* The state directory; created (mode 0700) if it does not exist. */
	const char *state_dir;
} tl_witness_config;

/* Checks the config, opens the state directory and verifies the state file of every
 * configured log that has one. The key, the log keys and the strings cfg points to must
 * outlive the witness (the array of log keys is copied).
 * TL_E_INPUT for a bad config, TL_E_IO if the directory cannot be used, TL_E_INTERNAL
 * ("witness state ... does not verify: ...") for a state file that fails its checks. */
int tl_witness_open(tl_witness **out, const tl_witness_config *cfg) TL_MUST_USE;
void tl_witness_free(tl_witness *w);

/* Handles one add-checkpoint request body; safe from any number of threads and processes.
 * Returns 0 with the HTTP status the spec prescribes in *status and the response body
 * appended to `reply`:
 *   200  the cosignature line(s) ("— <witness> base64(...)\n"), timestamp `now` (POSIX
 *        seconds), after the new checkpoint was made durable
 *   400  malformed body, note or checkpoint; old size above the checkpoint's size
 *   403  no valid signature by a key configured for the origin (or a bad one by such a key)
 *   404  the origin is not one of the configured logs
 *   409  the old size is not the size last cosigned, or the size is the same and the root is
 *        not: the body is "<size last cosigned>\n" (Content-Type TL_WITNESS_SIZE_TYPE)
 *   422  the consistency proof does not verify (a non-empty proof from size 0 or between equal
 *        sizes included)
 * For every status but 200 the body is one line of text saying why (409: the size), and the
 * same line is the thread's error message. Returns a negative tl_err (TL_E_IO, TL_E_INTERNAL
 * for a state file that does not verify, TL_E_NOMEM) with *status 500 when it could not
 * decide; the state is then unchanged. */
int tl_witness_add_checkpoint(tl_buf *reply, unsigned *status, tl_witness *w, const uint8_t *body, size_t len,
	uint64_t now) TL_MUST_USE;

/* The latest checkpoint cosigned for `origin`: *size (0 if none) and, if `note` is not NULL,
 * the stored note (with the witness's cosignature) appended, nothing when there is none.
 * TL_E_NOTFOUND for an origin that is not configured; errors as tl_witness_add_checkpoint. */
int tl_witness_latest(uint64_t *size, tl_buf *note, tl_witness *w, const char *origin) TL_MUST_USE;

#endif
