/*
 * The PKCS#11 URI parser reads what operators type into --log-key and config files. Besides
 * not crashing, whatever it accepts must respect its own bounds: the input starts with the
 * scheme, every text field is NUL-terminated inside its array, the id fits, and a module
 * path is absolute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "translog/pkcs11.h"

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tl_pkcs11_uri u;
	char *text;

	if (tl_pkcs11_uri_parse(&u, (const char *)data, size) != 0)
		return 0;
	if (size < 7 || !TERMINATED(u.token) || !TERMINATED(u.manufacturer) || !TERMINATED(u.serial) ||
	    !TERMINATED(u.model) || !TERMINATED(u.library_manufacturer) || !TERMINATED(u.library_description) ||
	    !TERMINATED(u.slot_description) || !TERMINATED(u.slot_manufacturer) || !TERMINATED(u.object) ||
	    !TERMINATED(u.module_path) || u.id_len > TL_PKCS11_MAX_ID ||
	    (u.module_path[0] != '\0' && u.module_path[0] != '/') || u.type > TL_PKCS11_TYPE_DATA)
		abort();
	/* What it accepted is a URI by the cheap test too. */
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!tl_pkcs11_uri_is(text))
		abort();
	free(text);
	return 0;
}
