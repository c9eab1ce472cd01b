/*
 * The pin queue's pieces, internal to the bundled core: the item record and its storage keys
 * (pinq_record.c), pushing one DAG through the transport (pinq_push.c); the queue and its
 * worker (pinq.c) use both.
 *
 * Storage, in column family "pinq":
 *   'i' + binary root CID           -> the item record (below)
 *   'd' + next try (u64 BE, ms) + binary root CID -> ""   for pending items only
 * The 'd' keys sort by due time, so a step reads only the items that are due. An item's
 * record and its 'd' key always change in one write batch.
 *
 * Item record, version 1 (all integers big-endian):
 *   u8 version (1) | u8 state | u8 -last_error_code | u64 attempts | u64 failures |
 *   u64 enqueued_ms | u64 next_try_ms | u64 updated_ms | u16 error length | error bytes
 */
#ifndef BUNDLED_PINQ_INTERNAL_H
#define BUNDLED_PINQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/blockstore.h"
#include "bundled/cid.h"
#include "bundled/pinq.h"
#include "translog/bytes.h"

#define BD_PINQ__RECORD_FIXED (3 + 5 * 8 + 2)
#define BD_PINQ__KEY_MAX (1 + 8 + BD_CID_BYTES_MAX)
/* The due key: 'd', the due time, the root. */
#define BD_PINQ__DUE_PREFIX 9

/* Appends the record of `it` to out. */
int bd_pinq__record_write(tl_buf *out, const bd_pinq_item *it) TL_MUST_USE;

/* Reads a stored record of the item under `root`. TL_E_IO if it is malformed (the store
 * is ours: a bad record is damage, not input). */
int bd_pinq__record_read(bd_pinq_item *it, const bd_cid *root, const uint8_t *data, size_t len) TL_MUST_USE;

/* An item key and its record, as a scan over 'i' keys sees them. */
int bd_pinq__item_decode(bd_pinq_item *it, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) TL_MUST_USE;

/* The keys; `key` has room for BD_PINQ__KEY_MAX bytes. */
int bd_pinq__item_key(uint8_t *key, size_t *klen, const bd_cid *root) TL_MUST_USE;
int bd_pinq__due_key(uint8_t *key, size_t *klen, uint64_t when, const bd_cid *root) TL_MUST_USE;

/* The due time and, if root != NULL, the root of a 'd' key. TL_E_IO if malformed. */
int bd_pinq__due_key_read(uint64_t *when, bd_cid *root, const uint8_t *k, size_t kl) TL_MUST_USE;

/* Puts every block under `root` from the block store through the transport, children
 * before parents and each distinct block once, then pins the root. A UnixFS directory's
 * entries are followed too. Below the root, a block for which pinned(ctx, cid) says 1 is
 * skipped with everything under it: it is the root of an item the node has pinned already
 * (so a directory over many pinned files costs only its own new nodes). The error is the
 * transport's or the store's, with its message. */
int bd_pinq__push_dag(bd_blockstore *bs, const bd_pinq_transport *t, const bd_cid *root,
	int (*pinned)(void *ctx, const bd_cid *cid), void *ctx) TL_MUST_USE;

#endif
