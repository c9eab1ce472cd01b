/*
 * The readers of IPFS RPC replies: their bytes come from whatever answers on the API
 * address. No input may crash a reader, every failure must leave a one-line message, and
 * what a reader accepts must name the CID it was asked about.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bundled/src/ipfs_reply.h"

static void check_message(int err)
{
	const char *m = tl_error_message();

	if (err == 0)
		return;
	if (err != TL_E_INPUT && err != TL_E_CONFLICT)
		abort();
	if (m[0] == '\0' || strchr(m, '\n') != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char want_text[] = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
	char msg[64];
	bd_ipfs_info info;
	bd_cid want, root;
	int pinned = -1, err;

	if (bd_cid_parse(&want, want_text, sizeof(want_text) - 1) != 0)
		abort();

	err = bd_ipfs_reply__error(msg, sizeof(msg), data, size);
	check_message(err);
	if (strlen(msg) >= sizeof(msg))
		abort();
	for (const char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();

	check_message(bd_ipfs_reply__block_put(&want, 11, data, size));
	check_message(bd_ipfs_reply__pins(&want, data, size));

	err = bd_ipfs_reply__pin_ls(&pinned, &want, data, size);
	check_message(err);
	if (err == 0 && pinned != 0 && pinned != 1)
		abort();

	err = bd_ipfs_reply__version(&info, data, size);
	check_message(err);
	if (err == 0 && (info.version[0] == '\0' || strlen(info.version) >= sizeof(info.version)))
		abort();

	err = bd_ipfs_reply__add(&root, data, size);
	check_message(err);
	if (err == 0) {
		char text[BD_CID_TEXT_MAX];
		bd_cid again;

		/* What was accepted is a CID bundled can write and read back. */
		if (bd_cid_format(text, sizeof(text), &root) != 0 ||
				bd_cid_parse(&again, text, strlen(text)) != 0 || !bd_cid_equal(&again, &root))
			abort();
	}
	return 0;
}
