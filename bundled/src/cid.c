#include "bundled/cid.h"

#include <string.h>

#include "multibase.h"
#include "translog/bytes.h"
#include "translog/text.h"
#include "varint.h"

/* CIDv0 text: "Qm" + 44 base58btc characters, the base58btc of 0x12 0x20 + digest. */
#define CIDV0_TEXT_LEN 46
#define MULTIHASH_LEN (2 + TL_HASH_SIZE)

void bd_cid_of(bd_cid *out, uint64_t codec, const void *block, size_t len)
{
	out->codec = codec;
	tl_sha256(&out->digest, block, len);
}

int bd_cid_equal(const bd_cid *a, const bd_cid *b)
{
	return a->codec == b->codec && tl_hash_equal(&a->digest, &b->digest);
}

int bd_cid_to_bytes(uint8_t *out, size_t cap, size_t *len, const bd_cid *cid)
{
	uint8_t buf[BD_CID_BYTES_MAX];
	size_t n = 0;

	if (cid->codec > BD_VARINT_MAX)
		return tl_error_set(TL_E_INPUT, "cid: codec 0x%llx is too large", (unsigned long long)cid->codec);
	buf[n++] = 0x01;
	n += bd_varint__put(buf + n, cid->codec);
	buf[n++] = BD_MH_SHA2_256;
	buf[n++] = TL_HASH_SIZE;
	memcpy(buf + n, cid->digest.b, TL_HASH_SIZE);
	n += TL_HASH_SIZE;
	if (n > cap)
		return tl_error_set(TL_E_INPUT, "cid: %zu bytes do not fit in %zu", n, cap);
	memcpy(out, buf, n);
	*len = n;
	return 0;
}

static int read_multihash(tl_hash *out, tl_cursor *c)
{
	uint64_t code = 0, size = 0;
	int err;

	if ((err = bd_varint__read(&code, c)) != 0 || (err = bd_varint__read(&size, c)) != 0)
		return tl_error_wrap(err, "cid: multihash");
	if (code != BD_MH_SHA2_256)
		return tl_error_set(TL_E_INPUT, "cid: multihash 0x%llx is not sha2-256 (0x12)", (unsigned long long)code);
	if (size != TL_HASH_SIZE)
		return tl_error_set(TL_E_INPUT, "cid: sha2-256 digest of %llu bytes, want 32", (unsigned long long)size);
	if ((err = tl_cursor_copy(out->b, c, TL_HASH_SIZE)) != 0)
		return tl_error_wrap(err, "cid: digest");
	if (tl_cursor_left(c) != 0)
		return tl_error_set(TL_E_INPUT, "cid: %zu bytes after the digest", tl_cursor_left(c));
	return 0;
}

int bd_cid_from_bytes(bd_cid *out, const uint8_t *bytes, size_t len)
{
	tl_cursor c = tl_cursor_make(bytes, len);
	uint64_t version = 0, codec = 0;
	bd_cid cid;
	int err;

	/* A CIDv0 is a bare sha2-256 multihash; its first byte, 0x12, is no CID version. */
	if (len == MULTIHASH_LEN && bytes[0] == BD_MH_SHA2_256) {
		cid.codec = BD_CODEC_DAG_PB;
		if ((err = read_multihash(&cid.digest, &c)) != 0)
			return err;
		*out = cid;
		return 0;
	}
	if ((err = bd_varint__read(&version, &c)) != 0)
		return tl_error_wrap(err, "cid: version");
	if (version != 1)
		return tl_error_set(TL_E_INPUT, "cid: version %llu, want 1", (unsigned long long)version);
	if ((err = bd_varint__read(&codec, &c)) != 0)
		return tl_error_wrap(err, "cid: codec");
	cid.codec = codec;
	if ((err = read_multihash(&cid.digest, &c)) != 0)
		return err;
	*out = cid;
	return 0;
}

int bd_cid_format(char *out, size_t cap, const bd_cid *cid)
{
	uint8_t bin[BD_CID_BYTES_MAX];
	size_t n = 0;
	int err;

	if ((err = bd_cid_to_bytes(bin, sizeof(bin), &n, cid)) != 0)
		return err;
	if (cap < 1 + bd_multibase__base32_encoded_len(n) + 1)
		return tl_error_set(TL_E_INPUT, "cid: text form needs %zu bytes, have %zu",
			1 + bd_multibase__base32_encoded_len(n) + 1, cap);
	out[0] = 'b';
	bd_multibase__base32_encode(out + 1, bin, n);
	return 0;
}

int bd_cid_parse(bd_cid *out, const char *text, size_t len)
{
	uint8_t bin[BD_CID_BYTES_MAX];
	char prefix[8];
	size_t n = 0;
	int err;

	if (len == 0)
		return tl_error_set(TL_E_INPUT, "cid: empty");
	if (len >= BD_CID_TEXT_MAX)
		return tl_error_set(TL_E_INPUT, "cid: longer than %d characters", BD_CID_TEXT_MAX - 1);
	if (len == CIDV0_TEXT_LEN && text[0] == 'Q' && text[1] == 'm') {
		if ((err = bd_multibase__base58btc_decode(bin, sizeof(bin), &n, text, len)) != 0)
			return tl_error_wrap(err, "cidv0");
		if (n != MULTIHASH_LEN)
			return tl_error_set(TL_E_INPUT, "cidv0: decodes to %zu bytes, want 34", n);
		return bd_cid_from_bytes(out, bin, n);
	}
	switch (text[0]) {
	case 'b':
		err = bd_multibase__base32_decode(bin, sizeof(bin), &n, text + 1, len - 1);
		break;
	case 'z':
		err = bd_multibase__base58btc_decode(bin, sizeof(bin), &n, text + 1, len - 1);
		break;
	default:
		return tl_error_set(TL_E_INPUT, "cid: multibase prefix '%s' is not supported (want 'b' base32 or 'z' base58btc)",
			tl_text_printable(prefix, sizeof(prefix), text, 1));
	}
	if (err)
		return tl_error_wrap(err, "cid");
	/* A multibase text of a CIDv1 never holds a bare multihash: that form is CIDv0's only. */
	if (n == 0 || bin[0] != 0x01)
		return tl_error_set(TL_E_INPUT, "cid: not a CIDv1 (first byte 0x%02x)", n ? bin[0] : 0);
	return bd_cid_from_bytes(out, bin, n);
}
