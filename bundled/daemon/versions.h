/* A domain's published versions as the log and the block store hold them: what the read
 * routes and the diff cache share. */
#ifndef BUNDLED_DAEMON_VERSIONS_H
#define BUNDLED_DAEMON_VERSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "bundled/entry.h"
#include "translog/bytes.h"
#include "translog/error.h"

struct daemon;

/* The version of `td` with `sequence` (or the newest when !by_sequence): its leaf index, its
 * entry's text (appended to `text`) and the parsed entry. TL_E_NOTFOUND for an unknown
 * domain or version. */
int version_load(uint64_t *index, tl_buf *text, bd_entry *e, struct daemon *d, const char *td, bool by_sequence,
	uint64_t sequence) TL_MUST_USE;

/* Appends the canonical bytes of the version `e` names, from the block store (a version the
 * log has but the store lacks is TL_E_INTERNAL). */
int version_bytes(tl_buf *out, struct daemon *d, const bd_entry *e) TL_MUST_USE;

#endif
