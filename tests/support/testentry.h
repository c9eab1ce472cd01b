/*
 * Helpers for the suites of entries, the registry and publishing: deterministic publisher
 * keys, entries built and signed by the library, and a data directory holding a log, its
 * registry, a block store and a pin queue (with a transport that records nothing: the
 * queue's own suite tests pushing).
 */
#ifndef BUNDLED_TESTENTRY_H
#define BUNDLED_TESTENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/blockstore.h"
#include "bundled/entry.h"
#include "bundled/pinq.h"
#include "bundled/registry.h"
#include "translog/log.h"

#define TU_LOG_ORIGIN "example.org/test-log"

/* An Ed25519 publisher key from the seed 32 x seed_byte. */
tl_signer *tu_signer(uint8_t seed_byte, const char *name);
/* Its verifier key text into out (BD_MAX_VKEY + 1 bytes). */
void tu_vkey(char *out, const tl_signer *s);

/* Entries on the heap (free them). Registration: operator-authorised, keys sorted. */
bd_entry *tu_register(const char *domain, tl_signer *const *keys, size_t n, uint64_t time);
bd_entry *tu_key_change(const char *domain, bd_domain_action action, const tl_signer *subject,
	const tl_signer *by, uint64_t time);
/* A bundle entry for canonical bytes `canon`, signed by `key` (chunker "lines"). */
bd_entry *tu_bundle_entry(const char *domain, uint64_t sequence, uint64_t refresh_hint, const uint8_t *canon,
	size_t len, uint64_t time, const tl_signer *key);
/* The entry's text, NUL-terminated; *len gets its length. */
char *tu_entry_text(const bd_entry *e, size_t *len);

struct tu_store {
	char *dir;
	tl_signer *log_key;
	tl_db *db;
	tl_log *log;
	bd_registry *registry;
	bd_blockstore *blocks;
	bd_pinq *pins;
};

/* A fresh data directory with everything open. */
void tu_store_init(struct tu_store *s);
/* Closes and opens everything again on the same directory (as after a restart). */
void tu_store_close(struct tu_store *s);
void tu_store_open(struct tu_store *s);
void tu_store_free(struct tu_store *s);

/* Appends an entry's text to the log (not to the registry); returns its index. */
uint64_t tu_store_append(struct tu_store *s, const bd_entry *e);

/* How many blocks the block store holds (a scan of its column family). */
size_t tu_store_block_count(struct tu_store *s);

#endif
