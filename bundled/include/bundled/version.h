/*
 * A bundle version's facts as a bundle entry states them: the canonical bytes of the bundle
 * (with its sequence and refresh hint), their size, SHA-256 and the CID of their UnixFS DAG.
 * What a publisher computes before it signs, the same way the daemon re-derives them.
 */
#ifndef BUNDLED_VERSION_H
#define BUNDLED_VERSION_H

#include "bundled/bundle.h"
#include "bundled/entry.h"
#include "translog/bytes.h"
#include "translog/error.h"

/* Fills e as an unsigned bundle entry of `domain` for b, whose sequence must be set
 * (TL_E_INPUT otherwise): kind, domain, sequence, refresh hint (0 when b has none), size,
 * sha256, cid (DAG under `chunker`, NULL: "lines"), and time = `time`. The canonical bytes
 * are appended to `canonical`. Other fields of e are zeroed. */
int bd_version_entry(bd_entry *e, tl_buf *canonical, const bd_bundle *b, const char *domain, const char *chunker,
	uint64_t time) TL_MUST_USE;

#endif
