/* A domain's published versions as the log and the block store hold them: what the read
 * routes and the diff cache share. */
#ifndef BUNDLED_DAEMON_VERSIONS_H
#define BUNDLED_DAEMON_VERSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "bundled/entry.h"
#include "translog/bytes.h"
#include "translog/error.h"
#include "watch.h"

struct daemon;

/* The version of `td` with `sequence` (or the newest when !by_sequence): its leaf index, its
 * entry's text (appended to `text`) and the parsed entry. TL_E_NOTFOUND for an unknown
 * domain or version. */
int version_load(uint64_t *index, tl_buf *text, bd_entry *e, struct daemon *d, const char *td, bool by_sequence,
	uint64_t sequence) TL_MUST_USE;

/* Appends the canonical bytes of the version `e` names, from the block store (a version the
 * log has but the store lacks is TL_E_INTERNAL). */
int version_bytes(tl_buf *out, struct daemon *d, const bd_entry *e) TL_MUST_USE;

/* The version of `td` with `sequence` (or the newest when !by_sequence) as a watcher is told
 * of it (domain, sequence, SHA-256, CID, leaf index): from the version cache, or from the
 * registry and the log (version_load), kept for the next reader. TL_E_NOTFOUND as
 * version_load. Memory or RocksDB point reads only: fit for the event loops. */
int version_find(struct watch_event *out, struct daemon *d, const char *td, bool by_sequence, uint64_t sequence)
	TL_MUST_USE;

/* Answers 200 with the canonical bytes of version `v`: from a memory file (d->files, under
 * VERSION_FILE_PREFIX and the CID, so never a raw block's slot) without a copy, as
 * http_file_reply sends it (`tls`: the connection's); a miss reads them from the block store
 * once and keeps them there (a body the file cache does not take is answered from memory). */
#define VERSION_FILE_PREFIX "version/"
int version_reply(bd_httpd_response *res, struct daemon *d, const struct watch_event *v, bool tls) TL_MUST_USE;

#endif
