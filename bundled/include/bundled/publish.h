/*
 * Publishing: the one place that turns a publisher's signed request into log entries. It
 * checks the request against the registry, re-derives the canonical bytes, SHA-256 and CID of
 * a submitted bundle (bd_entry_set_version), and appends the entries, waiting until a durable
 * checkpoint covers them. The version's blocks, its pin and the registry's update ride in the
 * log's group commit (the publisher installs the log's commit hook, see translog/log.h): one
 * synced write for a whole group of requests, and after a crash all of a request or nothing
 * of it. A request that fails any check changes nothing: not the log, the blocks, the
 * registry nor the pin queue.
 *
 * The caller (the daemon's route) checks that the entry's domain is the one in the URL; the
 * entry itself says which domain it is for, and that is what is checked and logged.
 *
 * Thread-safe: requests for one domain are serialised (sequence checks and appends happen
 * under the domain's turn), requests for different domains run concurrently and share the
 * log's group commit. One publisher per log (it owns the log's hook), created after the
 * registry is open and freed before it is closed.
 */
#ifndef BUNDLED_PUBLISH_H
#define BUNDLED_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/blockstore.h"
#include "bundled/entry.h"
#include "bundled/pinq.h"
#include "bundled/registry.h"
#include "translog/log.h"

/* How far a publisher's claimed time may be from the server's clock. */
#define BD_PUBLISH_MAX_SKEW_SECONDS 600u

typedef struct bd_publisher bd_publisher;

typedef struct bd_publish_options {
	tl_log *log;
	bd_registry *registry;
	bd_blockstore *blocks;
	bd_pinq *pins; /* NULL: no IPFS pinning */
	const char *chunker; /* chunker spec for the versions' DAGs (NULL: "lines") */
} bd_publish_options;

/* Installs the log's commit hook (tl_log_set_hook): one publisher per log. */
int bd_publisher_new(bd_publisher **out, const bd_publish_options *opts) TL_MUST_USE;
/* Removes the hook; no request may be in flight (stop the server first). */
void bd_publisher_free(bd_publisher *p);

/* What a successful request logged. */
typedef struct bd_publish_result {
	uint64_t index;      /* leaf index of the (last) entry */
	uint64_t first;      /* leaf index of the first entry (a revocation's) */
	size_t n_entries;
	bool existing;       /* the very same signed request was logged before: nothing new */
	uint64_t tree_size;  /* the size of the checkpoint that covers it */
} bd_publish_result;

/* Registers a domain (operator-authorised: the caller checked the operator's credentials).
 * TL_E_CONFLICT if it exists. */
int bd_publish_register(bd_publish_result *res, bd_publisher *p, const char *domain, const char *const *vkeys,
	size_t n_keys, uint64_t now) TL_MUST_USE;

/* A signed key change (entry text of kind domain, action add-key or remove-key), signed by a
 * current key of the domain, with a time after the domain's last key change (keys_time) and
 * within the skew. TL_E_CONFLICT: adding a held key or a 17th, removing a key not held or
 * the last one, a time not after the last change. The very same entry as the domain's
 * newest: 0 with existing. */
int bd_publish_key_change(bd_publish_result *res, bd_publisher *p, const uint8_t *entry, size_t entry_len,
	uint64_t now) TL_MUST_USE;

/* A signed bundle version: the entry text and the bundle the publisher submitted (any format
 * bd_bundle_parse reads; the sequence and refresh hint are the entry's, and a spiffe_sequence
 * in the document must equal the entry's). Refused: TL_E_INPUT (malformed, not a bundle
 * entry, invalid bundle, canonical bytes that differ from what was signed, an empty bundle,
 * a time more than BD_PUBLISH_MAX_SKEW_SECONDS from `now`), TL_E_UNAUTHORIZED (unknown,
 * removed or other domain's key, bad signature), TL_E_CONFLICT (sequence not above the
 * newest; a different version with a used sequence), TL_E_NOTFOUND (no such domain). The
 * very same signed version again: 0 with existing (and its pin queued again if it is not
 * queued), whatever bundle comes with it. */
int bd_publish_bundle(bd_publish_result *res, bd_publisher *p, const uint8_t *entry, size_t entry_len,
	const uint8_t *bundle, size_t bundle_len, uint64_t now) TL_MUST_USE;

/* A signed revocation and the signed bundle entry of the version that results (the newest
 * version without that authority), logged in one batch (revocation first). Refused as
 * bd_publish_bundle, and TL_E_INPUT if the two entries name different versions or a kid
 * names several authorities, TL_E_CONFLICT if the newest version lacks the authority (or
 * there is none). The very same pair again: 0 with existing. */
int bd_publish_revocation(bd_publish_result *res, bd_publisher *p, const uint8_t *revocation, size_t revocation_len,
	const uint8_t *bundle_entry, size_t bundle_entry_len, uint64_t now) TL_MUST_USE;

#endif
