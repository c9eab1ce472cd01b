/*
 * The diff header reader and the patch applier: no input may crash them, and whatever they
 * apply must be exactly the bytes the header promised (an applier that returns anything else
 * for a hostile patch would hand an agent wrong bytes). The first input byte picks one of a
 * few bases; the rest is the diff.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/diff.h"

static const char *const bases[] = {
	"",
	"{\"keys\":[\n{\"use\":\"x509-svid\"}\n],\"spiffe_sequence\":1}\n",
	"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *base;
	bd_diff_header h;
	tl_buf out = tl_buf_make(1u << 20);
	tl_hash got;

	if (size < 1)
		return 0;
	base = bases[data[0] % (sizeof(bases) / sizeof(bases[0]))];
	data++;
	size--;
	if (bd_diff_read_header(&h, data, size) != 0) {
		if (bd_diff_apply(&out, (const uint8_t *)base, strlen(base), data, size) == 0)
			abort(); /* applied what the header reader refuses */
		goto done;
	}
	if (bd_diff_apply(&out, (const uint8_t *)base, strlen(base), data, size) == 0) {
		tl_sha256(&got, out.data, out.len);
		if (out.len != h.to_size || memcmp(got.b, h.to_sha256.b, 32) != 0)
			abort();
	} else if (out.len != 0) {
		abort(); /* a failed apply left bytes behind */
	}
done:
	tl_buf_free(&out);
	return 0;
}
