/*
 * Content identifiers: CIDv1 with a sha2-256 multihash, the only kind bundled makes. A CID
 * names a block by its bytes; the codec says how to read them (raw bytes for file leaves,
 * dag-pb for UnixFS file nodes). Text forms are multibase: bundled writes base32 lower
 * ("b..."), and reads base32 lower, base58btc ("z...") and CIDv0 ("Qm..."), which it converts
 * to the equivalent CIDv1 dag-pb. docs/formats.md, "Content addressing", has the details.
 */
#ifndef BUNDLED_CID_H
#define BUNDLED_CID_H

#include <stddef.h>
#include <stdint.h>

#include "translog/error.h"
#include "translog/hash.h"

#define BD_CODEC_RAW    0x55
#define BD_CODEC_DAG_PB 0x70

/* The multihash code and digest length of sha2-256. */
#define BD_MH_SHA2_256 0x12

/* Room for the text form of any CID bd_cid_parse accepts: "b" + base32 of at most
 * BD_CID_BYTES_MAX bytes (71 characters) + NUL. */
#define BD_CID_TEXT_MAX 100
/* The binary form: version (1) + codec varint (at most 9) + 0x12 0x20 + 32-byte digest. */
#define BD_CID_BYTES_MAX 44

typedef struct bd_cid {
	uint64_t codec; /* multicodec of the block: BD_CODEC_RAW, BD_CODEC_DAG_PB, ... (< 2^63) */
	tl_hash digest; /* sha2-256 of the block's bytes */
} bd_cid;

/* The CIDv1 of a block of `len` bytes read with `codec`: the digest is SHA-256(block). */
void bd_cid_of(bd_cid *out, uint64_t codec, const void *block, size_t len);

/* Writes the canonical text form ("b" + lower-case base32, no padding) and a NUL. Fails with
 * TL_E_INPUT if `cap` is too small (BD_CID_TEXT_MAX always suffices) or the codec is >= 2^63. */
int bd_cid_format(char *out, size_t cap, const bd_cid *cid) TL_MUST_USE;

/* Reads the text form of a CID: exactly `len` bytes of `text` (no NUL needed, no spaces).
 * Accepted: multibase 'b' (base32 lower, RFC 4648 alphabet, no padding, zero trailing bits)
 * and 'z' (base58btc) of a binary CIDv1 whose multihash is sha2-256 with a 32-byte digest;
 * and a CIDv0 ("Qm" + 44 base58btc characters), returned as the CIDv1 dag-pb it names.
 * Anything else (other bases, other hashes, non-minimal varints, trailing bytes) is
 * TL_E_INPUT with a message saying what is wrong. */
int bd_cid_parse(bd_cid *out, const char *text, size_t len) TL_MUST_USE;

/* Reads a binary CID (as found in dag-pb links): a CIDv1 as above, or a CIDv0 (the bare
 * 34-byte sha2-256 multihash), returned as CIDv1 dag-pb. All `len` bytes must be used. */
int bd_cid_from_bytes(bd_cid *out, const uint8_t *bytes, size_t len) TL_MUST_USE;

/* 1 if both name the same block read the same way (codec and digest equal), else 0. */
int bd_cid_equal(const bd_cid *a, const bd_cid *b);

/* Writes the binary CIDv1 (0x01, codec varint, 0x12, 0x20, digest) and its length. Fails
 * with TL_E_INPUT if `cap` is too small (BD_CID_BYTES_MAX always suffices). */
int bd_cid_to_bytes(uint8_t *out, size_t cap, size_t *len, const bd_cid *cid) TL_MUST_USE;

#endif
