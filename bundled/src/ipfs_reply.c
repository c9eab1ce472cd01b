#include "ipfs_reply.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "translog/text.h"

static int load_object(json_t **out, const uint8_t *body, size_t len)
{
	char text[160];
	json_error_t e;
	json_t *j;

	if (len == 0)
		return tl_error_set(TL_E_INPUT, "empty reply where JSON was expected");
	j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		tl_text_printable(text, sizeof(text), e.text, strlen(e.text));
		return tl_error_set(TL_E_INPUT, "reply is not JSON: %s (byte %d)", text, e.position);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return tl_error_set(TL_E_INPUT, "reply is not a JSON object");
	}
	*out = j;
	return 0;
}

static const char *cid_text(char buf[BD_CID_TEXT_MAX], const bd_cid *cid)
{
	if (bd_cid_format(buf, BD_CID_TEXT_MAX, cid) != 0)
		snprintf(buf, BD_CID_TEXT_MAX, "(codec 0x%llx)", (unsigned long long)cid->codec);
	return buf;
}

/* Reads a JSON string member (or the value `v` itself when name is NULL) as a CID. */
static int read_cid(bd_cid *out, const json_t *v, const char *what)
{
	char shown[80];
	const char *s;
	size_t n;
	int err;

	if (!json_is_string(v))
		return tl_error_set(TL_E_INPUT, "%s is not a string", what);
	s = json_string_value(v);
	n = json_string_length(v);
	if ((err = bd_cid_parse(out, s, n)) != 0) {
		tl_text_printable(shown, sizeof(shown), s, n);
		return tl_error_wrap(err, "%s \"%s\"", what, shown);
	}
	return 0;
}

static int expect_cid(const bd_cid *got, const bd_cid *expect, const char *what)
{
	char a[BD_CID_TEXT_MAX], b[BD_CID_TEXT_MAX];

	if (bd_cid_equal(got, expect))
		return 0;
	return tl_error_set(TL_E_CONFLICT, "%s is %s, expected %s", what, cid_text(a, got), cid_text(b, expect));
}

int bd_ipfs_reply__error(char *msg, size_t cap, const uint8_t *body, size_t len)
{
	json_t *j = NULL, *m;
	int err;

	if (cap > 0)
		msg[0] = '\0';
	if ((err = load_object(&j, body, len)) != 0)
		return err;
	m = json_object_get(j, "Message");
	if (!json_is_string(m)) {
		err = tl_error_set(TL_E_INPUT, "error reply without a \"Message\" string");
		goto out;
	}
	if (cap > 0)
		tl_text_printable(msg, cap, json_string_value(m), json_string_length(m));
out:
	json_decref(j);
	return err;
}

int bd_ipfs_reply__block_put(const bd_cid *expect, uint64_t size, const uint8_t *body, size_t len)
{
	json_t *j = NULL, *s;
	bd_cid got;
	int err;

	if ((err = load_object(&j, body, len)) != 0)
		return err;
	if ((err = read_cid(&got, json_object_get(j, "Key"), "\"Key\"")) != 0)
		goto out;
	if ((err = expect_cid(&got, expect, "the stored block's CID")) != 0)
		goto out;
	s = json_object_get(j, "Size");
	if (s != NULL && (!json_is_integer(s) || json_integer_value(s) < 0 ||
			(uint64_t)json_integer_value(s) != size))
		err = tl_error_set(TL_E_CONFLICT, "the node stored a block of a different size than the %llu bytes sent",
			(unsigned long long)size);
out:
	json_decref(j);
	return err;
}

int bd_ipfs_reply__pins(const bd_cid *expect, const uint8_t *body, size_t len)
{
	json_t *j = NULL, *pins;
	bd_cid got;
	int err;

	if ((err = load_object(&j, body, len)) != 0)
		return err;
	pins = json_object_get(j, "Pins");
	if (!json_is_array(pins)) {
		err = tl_error_set(TL_E_INPUT, "reply has no \"Pins\" array");
		goto out;
	}
	if (json_array_size(pins) != 1) {
		err = tl_error_set(TL_E_INPUT, "\"Pins\" lists %zu CIDs, expected the one asked for",
			json_array_size(pins));
		goto out;
	}
	if ((err = read_cid(&got, json_array_get(pins, 0), "\"Pins\"[0]")) != 0)
		goto out;
	err = expect_cid(&got, expect, "the pinned CID");
out:
	json_decref(j);
	return err;
}

int bd_ipfs_reply__pin_ls(int *pinned, const bd_cid *expect, const uint8_t *body, size_t len)
{
	json_t *j = NULL, *keys, *v, *type;
	const char *key;
	int err, found = 0;

	if ((err = load_object(&j, body, len)) != 0)
		return err;
	keys = json_object_get(j, "Keys");
	if (!json_is_object(keys)) {
		err = tl_error_set(TL_E_INPUT, "reply has no \"Keys\" object");
		goto out;
	}
	json_object_foreach(keys, key, v) {
		bd_cid got;
		json_t *k = json_string(key);

		if (k == NULL) {
			err = tl_error_set(TL_E_INPUT, "\"Keys\" has a key that is not UTF-8");
			goto out;
		}
		err = read_cid(&got, k, "a \"Keys\" member");
		json_decref(k);
		if (err != 0)
			goto out;
		if ((err = expect_cid(&got, expect, "the listed pin")) != 0)
			goto out;
		type = json_object_get(v, "Type");
		if (!json_is_object(v) || !json_is_string(type)) {
			err = tl_error_set(TL_E_INPUT, "pin entry without a \"Type\" string");
			goto out;
		}
		found = strcmp(json_string_value(type), "recursive") == 0;
	}
	*pinned = found;
out:
	json_decref(j);
	return err;
}

int bd_ipfs_reply__version(bd_ipfs_info *out, const uint8_t *body, size_t len)
{
	json_t *j = NULL, *v;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = load_object(&j, body, len)) != 0)
		return err;
	v = json_object_get(j, "Version");
	if (!json_is_string(v) || json_string_length(v) == 0) {
		err = tl_error_set(TL_E_INPUT, "reply has no \"Version\" string");
		goto out;
	}
	tl_text_printable(out->version, sizeof(out->version), json_string_value(v), json_string_length(v));
	if (json_object_get(j, "ipfs-core") != NULL)
		snprintf(out->implementation, sizeof(out->implementation), "js-ipfs");
	else if (json_object_get(j, "Golang") != NULL)
		snprintf(out->implementation, sizeof(out->implementation), "kubo");
	else
		snprintf(out->implementation, sizeof(out->implementation), "unknown");
out:
	json_decref(j);
	return err;
}

int bd_ipfs_reply__add(bd_cid *root, const uint8_t *body, size_t len)
{
	size_t pos = 0, objects = 0;
	int err = 0;

	while (pos < len) {
		const uint8_t *nl = memchr(body + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - body) : len;
		json_t *j = NULL;

		if (end > pos) {
			if ((err = load_object(&j, body + pos, end - pos)) != 0)
				return tl_error_wrap(err, "add reply object %zu", objects + 1);
			err = read_cid(root, json_object_get(j, "Hash"), "\"Hash\"");
			json_decref(j);
			if (err != 0)
				return err;
			objects++;
		}
		pos = end + 1;
	}
	if (objects == 0)
		return tl_error_set(TL_E_INPUT, "add reply holds no object");
	return 0;
}
