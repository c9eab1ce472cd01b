/*
 * The dag-pb encoding of UnixFS file nodes (internal to the bundled core): the one writer,
 * which produces nodes byte for byte as Kubo's importer does, and the one reader, which
 * accepts the file nodes of any conforming importer (raw or dag-pb leaves).
 *
 * dag-pb:  PBNode { repeated PBLink Links = 2; optional bytes Data = 1; } serialised Links
 *          first; PBLink { bytes Hash = 1; string Name = 2; uint64 Tsize = 3; }.
 * UnixFS:  Data { Type = 1; bytes Data = 2; uint64 filesize = 3; repeated uint64 blocksizes = 4; ... }
 */
#ifndef BUNDLED_UNIXFS_H
#define BUNDLED_UNIXFS_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/cid.h"
#include "translog/bytes.h"

/* Kubo's limit of links per node (helpers.DefaultLinksPerBlock). */
#define BD_UNIXFS_LINKS_PER_NODE 174
/* What the reader accepts: a block is at most 1 MiB, so 1 MiB / 38 bytes per link at most. */
#define BD_UNIXFS_MAX_LINKS 32768
#define BD_UNIXFS_MAX_BLOCK (1u << 20)

#define BD_UNIXFS_TYPE_RAW 0
#define BD_UNIXFS_TYPE_DIRECTORY 1
#define BD_UNIXFS_TYPE_FILE 2
/* The longest name of a directory entry this code writes or reads. */
#define BD_UNIXFS_MAX_NAME 255

/* One child of a file node as the writer needs it. */
typedef struct bd_unixfs__child {
	bd_cid cid;
	uint64_t tsize;    /* bytes of the child's block plus all blocks below it */
	uint64_t filesize; /* bytes of file content under the child */
} bd_unixfs__child;

/* Appends the dag-pb bytes of a UnixFS file node over `n` children (1..174) whose content
 * is in the children alone (raw leaves): Links with empty Name and Tsize, then Data =
 * UnixFS { Type = File, filesize = sum, blocksizes = each child's filesize }. */
int bd_unixfs__write_file_node(tl_buf *out, const bd_unixfs__child *children, size_t n) TL_MUST_USE;

/* A UnixFS file node as read from a dag-pb block; pointers into the block and two arrays
 * the reader allocates (free with bd_unixfs__node_free). */
typedef struct bd_unixfs__node {
	uint64_t type;             /* BD_UNIXFS_TYPE_FILE or BD_UNIXFS_TYPE_RAW */
	const uint8_t *data;       /* the node's own content bytes (may be none) */
	size_t data_len;
	int has_filesize;
	uint64_t filesize;
	size_t nlinks;
	bd_cid *links;             /* nlinks */
	uint64_t *blocksizes;      /* nlinks: content bytes under each link (files) */
	struct bd_unixfs__link_info {
		const uint8_t *name;   /* into the block; a directory's entry names */
		size_t name_len;
		uint64_t tsize;
	} *info;                   /* nlinks */
} bd_unixfs__node;

/* One entry of a UnixFS directory as the writer needs it. */
typedef struct bd_unixfs__dirent {
	const char *name;  /* 1..BD_UNIXFS_MAX_NAME bytes, no '/' */
	bd_cid cid;
	uint64_t tsize;    /* bytes of the entry's block and every block below it */
} bd_unixfs__dirent;

/* Appends the dag-pb bytes of a UnixFS directory (as Kubo writes a basic, unsharded one):
 * Links {Hash, Name, Tsize} in the order given, which must be the byte order of the names
 * (TL_E_INTERNAL otherwise, as for names that are empty, too long or hold '/'), then
 * Data = UnixFS { Type = Directory }. n may be 0 (the empty directory). */
int bd_unixfs__write_dir_node(tl_buf *out, const bd_unixfs__dirent *entries, size_t n) TL_MUST_USE;

/* Reads a dag-pb block strictly (field order and wire types as the dag-pb spec requires,
 * no unknown PBNode/PBLink fields) and its UnixFS Data; refuses nodes that are not File or
 * Raw, and blocksizes that do not match the links. TL_E_INPUT with a message otherwise. */
int bd_unixfs__read_node(bd_unixfs__node *out, const uint8_t *block, size_t len) TL_MUST_USE;
/* The same, taking a Directory node too (its links' names in `info`, no blocksizes). */
int bd_unixfs__read_any_node(bd_unixfs__node *out, const uint8_t *block, size_t len) TL_MUST_USE;
void bd_unixfs__node_free(bd_unixfs__node *node);

#endif
