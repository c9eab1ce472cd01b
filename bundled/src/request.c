#include "bundled/request.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "translog/text.h"

/* The longest string member: a bundle of BD_REQUEST_MAX_BUNDLE bytes in base64. */
#define MAX_BASE64 (((BD_REQUEST_MAX_BUNDLE + 2) / 3) * 4)

/* The body as one JSON object whose members are exactly `names` (n of them, all required). */
static int load_object(json_t **out, const uint8_t *body, size_t len, const char *what, const char *const *names,
	size_t n)
{
	json_error_t jerr;
	json_t *doc;
	const char *key;
	json_t *value;
	size_t known;

	if (len > BD_REQUEST_MAX_BODY)
		return tl_error_set(TL_E_INPUT, "%s: body larger than %zu bytes", what, BD_REQUEST_MAX_BODY);
	if ((doc = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return tl_error_set(TL_E_INPUT, "%s: not JSON: %s at byte %d", what, jerr.text, jerr.position);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return tl_error_set(TL_E_INPUT, "%s: the body must be a JSON object", what);
	}
	json_object_foreach(doc, key, value) {
		for (known = 0; known < n && strcmp(key, names[known]) != 0; known++)
			;
		if (known == n) {
			char safe[64];

			tl_text_printable(safe, sizeof(safe), key, strlen(key));
			json_decref(doc);
			return tl_error_set(TL_E_INPUT, "%s: unknown member \"%s\"", what, safe);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (json_object_get(doc, names[i]) == NULL) {
			json_decref(doc);
			return tl_error_set(TL_E_INPUT, "%s: missing member \"%s\"", what, names[i]);
		}
	}
	*out = doc;
	return 0;
}

/* A string member of 1..max bytes. */
static int get_string(const char **s, size_t *len, json_t *doc, const char *what, const char *name, size_t max)
{
	json_t *v = json_object_get(doc, name);

	if (!json_is_string(v))
		return tl_error_set(TL_E_INPUT, "%s: \"%s\" must be a string", what, name);
	*s = json_string_value(v);
	*len = json_string_length(v);
	if (*len == 0 || *len > max)
		return tl_error_set(TL_E_INPUT, "%s: \"%s\" must have 1 to %zu bytes", what, name, max);
	return 0;
}

static int copy_member(uint8_t **out, size_t *out_len, json_t *doc, const char *what, const char *name, size_t max)
{
	const char *s;
	size_t len;
	int err;

	if ((err = get_string(&s, &len, doc, what, name, max)) != 0)
		return err;
	if ((*out = malloc(len + 1)) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	memcpy(*out, s, len);
	(*out)[len] = '\0';
	*out_len = len;
	return 0;
}

int bd_register_request_parse(bd_register_request *out, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "domain", "publisher_keys" };
	const char *what = "registration";
	json_t *doc = NULL, *keys;
	const char *s;
	size_t n;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = load_object(&doc, body, len, what, names, 2)) != 0)
		return err;
	if ((err = get_string(&s, &n, doc, what, "domain", BD_MAX_DOMAIN)) != 0)
		goto out;
	memcpy(out->domain, s, n);
	keys = json_object_get(doc, "publisher_keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > BD_ENTRY_MAX_KEYS) {
		err = tl_error_set(TL_E_INPUT, "%s: \"publisher_keys\" must be an array of 1 to %u keys", what,
			BD_ENTRY_MAX_KEYS);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(keys); i++) {
		json_t *k = json_array_get(keys, i);

		if (!json_is_string(k) || json_string_length(k) == 0 || json_string_length(k) > BD_MAX_VKEY) {
			err = tl_error_set(TL_E_INPUT, "%s: publisher key %zu must be a string of 1 to %u bytes", what,
				i + 1, BD_MAX_VKEY);
			goto out;
		}
		memcpy(out->keys[i], json_string_value(k), json_string_length(k));
		out->n_keys++;
	}
out:
	json_decref(doc);
	return err;
}

int bd_register_request_write(tl_buf *out, const char *domain, const char *const *keys, size_t n_keys)
{
	json_t *doc = json_pack("{s:s,s:[]}", "domain", domain, "publisher_keys");
	json_t *list = json_object_get(doc, "publisher_keys");
	char *text = NULL;
	int err = 0;

	for (size_t i = 0; list != NULL && i < n_keys; i++)
		if (json_array_append_new(list, json_string(keys[i])) != 0)
			list = NULL;
	if (list == NULL || (text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		err = tl_error_set(TL_E_INPUT, "registration: domain or keys are not UTF-8 text");
	else
		err = tl_buf_append_str(out, text);
	free(text);
	json_decref(doc);
	return err;
}

/* Reads a signed request whose members are `names`: entry, revocation (text) and bundle
 * (base64), whichever are named. */
static int parse_signed(bd_signed_request *out, const uint8_t *body, size_t len, const char *what,
	const char *const *names, size_t n)
{
	json_t *doc = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = load_object(&doc, body, len, what, names, n)) != 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++) {
		if (strcmp(names[i], "entry") == 0) {
			err = copy_member(&out->entry, &out->entry_len, doc, what, "entry", BD_ENTRY_MAX_SIZE);
		} else if (strcmp(names[i], "revocation") == 0) {
			err = copy_member(&out->revocation, &out->revocation_len, doc, what, "revocation",
				BD_ENTRY_MAX_SIZE);
		} else {
			const char *b64;
			size_t b64_len;

			if ((err = get_string(&b64, &b64_len, doc, what, "bundle", MAX_BASE64)) != 0)
				break;
			if ((out->bundle = malloc(b64_len / 4 * 3 + 3)) == NULL) {
				err = tl_error_set(TL_E_NOMEM, "out of memory");
				break;
			}
			if ((err = tl_base64_decode(out->bundle, b64_len / 4 * 3 + 3, &out->bundle_len, b64, b64_len)) != 0)
				err = tl_error_set(TL_E_INPUT, "%s: \"bundle\" is not canonical standard base64", what);
		}
	}
	json_decref(doc);
	if (err)
		bd_signed_request_free(out);
	return err;
}

int bd_key_request_parse(bd_signed_request *out, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "entry" };

	return parse_signed(out, body, len, "key change", names, 1);
}

int bd_bundle_request_parse(bd_signed_request *out, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "entry", "bundle" };

	return parse_signed(out, body, len, "bundle version", names, 2);
}

int bd_revocation_request_parse(bd_signed_request *out, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "revocation", "entry" };

	return parse_signed(out, body, len, "revocation", names, 2);
}

/* Writes {"<name>":"<text>",...} for up to three members; a NULL name ends the list. */
static int write_members(tl_buf *out, const char *const names[3], const uint8_t *const values[3],
	const size_t lens[3], const char *what)
{
	json_t *doc = json_object();
	char *text = NULL;
	int err = 0;

	for (size_t i = 0; doc != NULL && i < 3 && names[i] != NULL; i++) {
		json_t *v = json_stringn((const char *)values[i], lens[i]);

		if (v == NULL || json_object_set_new(doc, names[i], v) != 0) {
			err = tl_error_set(TL_E_INPUT, "%s: \"%s\" is not UTF-8 text", what, names[i]);
			goto out;
		}
	}
	if (doc == NULL || (text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	err = tl_buf_append_str(out, text);
out:
	free(text);
	json_decref(doc);
	return err;
}

int bd_key_request_write(tl_buf *out, const uint8_t *entry, size_t entry_len)
{
	const char *const names[3] = { "entry", NULL, NULL };
	const uint8_t *const values[3] = { entry, NULL, NULL };
	const size_t lens[3] = { entry_len, 0, 0 };

	return write_members(out, names, values, lens, "key change");
}

int bd_bundle_request_write(tl_buf *out, const uint8_t *entry, size_t entry_len, const uint8_t *bundle,
	size_t bundle_len)
{
	tl_buf b64 = tl_buf_make(MAX_BASE64 + 1);
	int err;

	if (bundle_len > BD_REQUEST_MAX_BUNDLE)
		return tl_error_set(TL_E_INPUT, "bundle larger than %zu bytes", BD_REQUEST_MAX_BUNDLE);
	if ((err = tl_base64_encode(&b64, bundle, bundle_len)) == 0) {
		const char *const names[3] = { "entry", "bundle", NULL };
		const uint8_t *const values[3] = { entry, b64.data, NULL };
		const size_t lens[3] = { entry_len, b64.len, 0 };

		err = write_members(out, names, values, lens, "bundle version");
	}
	tl_buf_free(&b64);
	return err;
}

int bd_revocation_request_write(tl_buf *out, const uint8_t *revocation, size_t revocation_len, const uint8_t *entry,
	size_t entry_len)
{
	const char *const names[3] = { "revocation", "entry", NULL };
	const uint8_t *const values[3] = { revocation, entry, NULL };
	const size_t lens[3] = { revocation_len, entry_len, 0 };

	return write_members(out, names, values, lens, "revocation");
}

void bd_signed_request_free(bd_signed_request *r)
{
	free(r->entry);
	free(r->revocation);
	free(r->bundle);
	memset(r, 0, sizeof(*r));
}
