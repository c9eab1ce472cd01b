/* The pin queue's item record and storage keys: one writer, one reader for each. */
#include "pinq_internal.h"

#include <string.h>

#define RECORD_VERSION 1

int bd_pinq__record_write(tl_buf *out, const bd_pinq_item *it)
{
	size_t elen = strnlen(it->last_error, BD_PINQ_ERROR_MAX - 1);
	int err;

	if ((err = tl_buf_append_u8(out, RECORD_VERSION)) != 0 ||
			(err = tl_buf_append_u8(out, (uint8_t)it->state)) != 0 ||
			(err = tl_buf_append_u8(out, (uint8_t)(-it->last_error_code))) != 0 ||
			(err = tl_buf_append_u64be(out, it->attempts)) != 0 ||
			(err = tl_buf_append_u64be(out, it->failures)) != 0 ||
			(err = tl_buf_append_u64be(out, it->enqueued_ms)) != 0 ||
			(err = tl_buf_append_u64be(out, it->next_try_ms)) != 0 ||
			(err = tl_buf_append_u64be(out, it->updated_ms)) != 0 ||
			(err = tl_buf_append_u16be(out, (uint16_t)elen)) != 0 ||
			(err = tl_buf_append(out, it->last_error, elen)) != 0)
		return err;
	return 0;
}

int bd_pinq__record_read(bd_pinq_item *it, const bd_cid *root, const uint8_t *data, size_t len)
{
	tl_cursor c = tl_cursor_make(data, len);
	uint8_t version, state, code;
	uint64_t attempts, failures;
	uint16_t elen;
	const uint8_t *e;

	memset(it, 0, sizeof(*it));
	it->root = *root;
	if (tl_cursor_u8(&version, &c) != 0 || version != RECORD_VERSION)
		return tl_error_set(TL_E_IO, "pin queue: item record of unknown version");
	if (tl_cursor_u8(&state, &c) != 0 || tl_cursor_u8(&code, &c) != 0 ||
			tl_cursor_u64be(&attempts, &c) != 0 || tl_cursor_u64be(&failures, &c) != 0 ||
			tl_cursor_u64be(&it->enqueued_ms, &c) != 0 || tl_cursor_u64be(&it->next_try_ms, &c) != 0 ||
			tl_cursor_u64be(&it->updated_ms, &c) != 0 || tl_cursor_u16be(&elen, &c) != 0 ||
			elen >= BD_PINQ_ERROR_MAX || tl_cursor_take(&e, &c, elen) != 0 || tl_cursor_left(&c) != 0)
		return tl_error_set(TL_E_IO, "pin queue: malformed item record (%zu bytes)", len);
	if (state < BD_PIN_PENDING || state > BD_PIN_FAILED || attempts > UINT32_MAX || failures > attempts ||
			code > -TL_E_UNAVAILABLE)
		return tl_error_set(TL_E_IO, "pin queue: item record with impossible values");
	it->state = (bd_pin_state)state;
	it->last_error_code = -(int)code;
	it->attempts = (uint32_t)attempts;
	it->failures = (uint32_t)failures;
	memcpy(it->last_error, e, elen);
	it->last_error[elen] = '\0';
	return 0;
}

int bd_pinq__item_decode(bd_pinq_item *it, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	bd_cid root;

	if (kl < 1 || bd_cid_from_bytes(&root, k + 1, kl - 1) != 0)
		return tl_error_wrap(TL_E_IO, "pin queue: bad item key");
	return bd_pinq__record_read(it, &root, v, vl);
}

int bd_pinq__item_key(uint8_t *key, size_t *klen, const bd_cid *root)
{
	size_t n;
	int err;

	key[0] = 'i';
	if ((err = bd_cid_to_bytes(key + 1, BD_PINQ__KEY_MAX - 1, &n, root)) != 0)
		return err;
	*klen = 1 + n;
	return 0;
}

int bd_pinq__due_key(uint8_t *key, size_t *klen, uint64_t when, const bd_cid *root)
{
	size_t n;
	int err;

	key[0] = 'd';
	tl_store_u64be(key + 1, when);
	if ((err = bd_cid_to_bytes(key + BD_PINQ__DUE_PREFIX, BD_PINQ__KEY_MAX - BD_PINQ__DUE_PREFIX, &n, root)) != 0)
		return err;
	*klen = BD_PINQ__DUE_PREFIX + n;
	return 0;
}

int bd_pinq__due_key_read(uint64_t *when, bd_cid *root, const uint8_t *k, size_t kl)
{
	if (kl < BD_PINQ__DUE_PREFIX)
		return tl_error_set(TL_E_IO, "pin queue: bad due key");
	*when = tl_load_u64be(k + 1);
	if (root != NULL && bd_cid_from_bytes(root, k + BD_PINQ__DUE_PREFIX, kl - BD_PINQ__DUE_PREFIX) != 0)
		return tl_error_wrap(TL_E_IO, "pin queue: bad due key");
	return 0;
}
