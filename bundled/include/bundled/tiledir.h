/*
 * The log on IPFS: every full hash tile and full entry bundle, as it completes, is stored as
 * a UnixFS file (raw leaves, 256 KiB chunks: the CID `ipfs add --cid-version=1 --raw-leaves`
 * gives its bytes) and pinned through the durable pin queue, and a UnixFS directory whose
 * layout is the C2SP tlog-tiles URL space holds them all:
 *
 *     <root>/tile/<L>/<N>          e.g. <root>/tile/0/x001/234, <root>/tile/entries/000
 *
 * so `ipfs cat <root>/tile/0/000`, an IPFS gateway's /ipfs/<root>/tile/..., or an IPFS
 * Cluster that replicates the root serve the log's immutable part to auditors without
 * bundled. (Partial tiles and the checkpoint change, so they stay with bundled.)
 *
 * Each round adds the tiles completed since the last one, writes the directory nodes that
 * changed (once each per round), and enqueues the new root; the pin queue skips what is
 * pinned already, so a round costs its new tiles and directory nodes. Where it is (the tree
 * size whose full tiles the directory holds, and the root) is kept in a small state file,
 * replaced atomically after each round; the directory's blocks live in the block store.
 */
#ifndef BUNDLED_TILEDIR_H
#define BUNDLED_TILEDIR_H

#include <stdbool.h>
#include <stdint.h>

#include "bundled/blockstore.h"
#include "bundled/cid.h"
#include "bundled/pinq.h"
#include "translog/error.h"
#include "translog/log.h"

/* Files one round adds at most (the rest waits for the next round). */
#define BD_TILEDIR_ROUND_MAX 4096
/* The chunker of the files: Kubo's default. */
#define BD_TILEDIR_CHUNKER "size-262144"

typedef struct bd_tiledir bd_tiledir;

typedef struct bd_tiledir_options {
	tl_log *log;
	bd_blockstore *blocks;
	bd_pinq *pins;
	const char *state_file; /* where the position and root are kept */
	unsigned interval_ms;   /* between rounds of the thread; 0: 1000 */
} bd_tiledir_options;

typedef struct bd_tiledir_status {
	uint64_t size;           /* the tree size whose full tiles the directory holds */
	uint64_t files;          /* tiles and bundles added since open */
	bool has_root;
	bd_cid root;             /* the newest root enqueued */
	uint64_t failures;       /* rounds that failed (retried) */
	char error[256];
} bd_tiledir_status;

/* Reads the state file (absent: nothing added yet). TL_E_INPUT if it is malformed. */
int bd_tiledir_open(bd_tiledir **out, const bd_tiledir_options *opts) TL_MUST_USE;

/* One round: the tiles and bundles completed since the state's size (at most
 * BD_TILEDIR_ROUND_MAX of them), the new directory, its root enqueued, the state saved. */
int bd_tiledir_sync(bd_tiledir *t) TL_MUST_USE;

int bd_tiledir_start(bd_tiledir *t) TL_MUST_USE;
void bd_tiledir_stop(bd_tiledir *t);
void bd_tiledir_get_status(bd_tiledir_status *out, bd_tiledir *t);
void bd_tiledir_close(bd_tiledir *t);

#endif
