/*
 * Readers of the JSON replies of the Kubo RPC API (internal to the bundled core; the unit
 * suite and the fuzz target call them directly). The replies are outside input: each reader
 * takes the whole body (already capped at BD_IPFS_MAX_REPLY by the HTTP layer), parses it
 * with jansson, rejects duplicate keys and anything of the wrong type, and compares every
 * CID the node names with the one bundled computed itself.
 *
 * Errors: TL_E_INPUT for a reply that is not what the API documents, TL_E_CONFLICT for a
 * well-formed reply naming a different CID than expected (the message names both).
 * Messages do not say which call the reply answered; the caller wraps them.
 */
#ifndef BUNDLED_IPFS_REPLY_H
#define BUNDLED_IPFS_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/cid.h"
#include "bundled/ipfs.h"
#include "translog/error.h"

/* An error body {"Message": string, "Code": number, "Type": "error"}: copies Message into
 * msg made printable by tl_text_printable (one line: controls, '"', '\\' and non-ASCII bytes
 * escaped as \xNN; cut between whole escapes with "..." to fit cap - 1 bytes and a NUL).
 * Only Message is required (js-ipfs and Kubo differ on the others). TL_E_INPUT if the body
 * is not such an object; msg is then "". */
int bd_ipfs_reply__error(char *msg, size_t cap, const uint8_t *body, size_t len) TL_MUST_USE;

/* block/put: {"Key": cid, "Size": n}. Key must name `expect` (TL_E_CONFLICT otherwise);
 * Size, when present, must equal `size`. */
int bd_ipfs_reply__block_put(const bd_cid *expect, uint64_t size, const uint8_t *body, size_t len) TL_MUST_USE;

/* pin/add and pin/rm: {"Pins": [cid]} with exactly the one CID asked for. Kubo may add
 * "Progress" to pin/add; it is ignored. */
int bd_ipfs_reply__pins(const bd_cid *expect, const uint8_t *body, size_t len) TL_MUST_USE;

/* pin/ls?arg=<cid>&type=recursive: {"Keys": {cid: {"Type": "recursive", ...}}}. *pinned is
 * 1 if `expect` is listed with Type "recursive", 0 if it is listed otherwise. Every key must
 * parse as a CID; a key other than `expect` is TL_E_CONFLICT. */
int bd_ipfs_reply__pin_ls(int *pinned, const bd_cid *expect, const uint8_t *body, size_t len) TL_MUST_USE;

/* version: {"Version": string, ...}. The implementation is "js-ipfs" when the reply has
 * "ipfs-core" (js-ipfs adds it), "kubo" when it has "Golang", "unknown" otherwise. */
int bd_ipfs_reply__version(bd_ipfs_info *out, const uint8_t *body, size_t len) TL_MUST_USE;

/* add (one file, no progress): the last of the newline-separated {"Name","Hash","Size"}
 * objects is the file's root; its Hash is parsed into *root. Used to cross-check that the
 * node's importer agrees with ours. */
int bd_ipfs_reply__add(bd_cid *root, const uint8_t *body, size_t len) TL_MUST_USE;

#endif
