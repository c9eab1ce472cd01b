/* The pin queue, as operators see it: GET /v1/pins lists every item and its state. */
#include <jansson.h>
#include <string.h>

#include "daemon.h"
#include "routes.h"
#include "translog/text.h"

static int add_item(void *ctx, const bd_pinq_item *item)
{
	json_t *items = ctx;
	char cid[BD_CID_TEXT_MAX], last_error[1024];
	json_t *obj;
	int err;

	if ((err = bd_cid_format(cid, sizeof(cid), &item->root)) != 0)
		return err;
	obj = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "cid", cid, "state", bd_pin_state_name(item->state),
		"attempts", (json_int_t)item->attempts, "enqueued_ms", (json_int_t)item->enqueued_ms, "next_try_ms",
		(json_int_t)item->next_try_ms, "updated_ms", (json_int_t)item->updated_ms);
	/* The error may quote the node's reply: printable ASCII only, so it is always a JSON
	 * string (jansson refuses invalid UTF-8, which used to turn the listing into a 500). */
	tl_text_printable(last_error, sizeof(last_error), item->last_error, strlen(item->last_error));
	if (obj != NULL && item->last_error[0] != '\0' &&
	    json_object_set_new(obj, "last_error", json_string(last_error)) != 0) {
		json_decref(obj);
		obj = NULL;
	}
	if (obj == NULL || json_array_append_new(items, obj) != 0)
		return tl_error_set(TL_E_NOMEM, "out of memory listing pins");
	return 0;
}

int route_pins(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	json_t *items = NULL;
	int err;

	if (d->pins == NULL)
		return tl_error_set(TL_E_NOTFOUND, "IPFS pinning is off: start bundled with --ipfs-api URL");
	if ((items = json_array()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory listing pins");
		goto out;
	}
	if ((err = bd_pinq_list(d->pins, add_item, items)) != 0)
		goto out;
	err = http_reply_json(res, 200, json_pack("{s:s,s:O}", "ipfs_api", d->ipfs_api_shown, "items", items));
out:
	json_decref(items);
	return err;
}
