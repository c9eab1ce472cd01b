#include "unixfs.h"

#include <stdlib.h>
#include <string.h>

#include "translog/array.h"
#include "varint.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* Protobuf keys: (field number << 3) | wire type. */
#define KEY(field, wt) ((uint8_t)((field) << 3 | (wt)))

/* ---- writer ---- */

static int put_varint(tl_buf *b, uint64_t v)
{
	uint8_t tmp[BD_VARINT_BYTES_MAX];

	return tl_buf_append(b, tmp, bd_varint__put(tmp, v));
}

int bd_unixfs__write_file_node(tl_buf *out, const bd_unixfs__child *children, size_t n)
{
	/* Type (2) + filesize (1 + 9) + one blocksize (1 + 9) per child. */
	uint8_t data[2 + 10 + 10 * BD_UNIXFS_LINKS_PER_NODE];
	uint64_t filesize = 0;
	size_t dlen = 0;
	int err = 0;

	if (n == 0 || n > BD_UNIXFS_LINKS_PER_NODE)
		return tl_error_set(TL_E_INTERNAL, "unixfs: a file node holds 1..%d links, not %zu",
			BD_UNIXFS_LINKS_PER_NODE, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t cid[BD_CID_BYTES_MAX];
		size_t cid_len = 0, link_len;

		if (__builtin_add_overflow(filesize, children[i].filesize, &filesize) || filesize > BD_VARINT_MAX ||
		    children[i].tsize > BD_VARINT_MAX)
			return tl_error_set(TL_E_INPUT, "unixfs: file size overflows");
		if ((err = bd_cid_to_bytes(cid, sizeof(cid), &cid_len, &children[i].cid)) != 0)
			return err;
		/* Hash, then Name present and empty (as go-merkledag writes it), then Tsize. */
		link_len = 1 + bd_varint__len(cid_len) + cid_len + 2 + 1 + bd_varint__len(children[i].tsize);
		if ((err = tl_buf_append_u8(out, KEY(2, WT_LEN))) != 0 || (err = put_varint(out, link_len)) != 0 ||
		    (err = tl_buf_append_u8(out, KEY(1, WT_LEN))) != 0 || (err = put_varint(out, cid_len)) != 0 ||
		    (err = tl_buf_append(out, cid, cid_len)) != 0 ||
		    (err = tl_buf_append_u8(out, KEY(2, WT_LEN))) != 0 || (err = tl_buf_append_u8(out, 0)) != 0 ||
		    (err = tl_buf_append_u8(out, KEY(3, WT_VARINT))) != 0 ||
		    (err = put_varint(out, children[i].tsize)) != 0)
			return err;
	}
	data[dlen++] = KEY(1, WT_VARINT);
	data[dlen++] = BD_UNIXFS_TYPE_FILE;
	data[dlen++] = KEY(3, WT_VARINT);
	dlen += bd_varint__put(data + dlen, filesize);
	for (size_t i = 0; i < n; i++) {
		data[dlen++] = KEY(4, WT_VARINT);
		dlen += bd_varint__put(data + dlen, children[i].filesize);
	}
	if ((err = tl_buf_append_u8(out, KEY(1, WT_LEN))) != 0 || (err = put_varint(out, dlen)) != 0 ||
	    (err = tl_buf_append(out, data, dlen)) != 0)
		return err;
	return 0;
}

int bd_unixfs__write_dir_node(tl_buf *out, const bd_unixfs__dirent *entries, size_t n)
{
	static const uint8_t data[] = { KEY(1, WT_VARINT), BD_UNIXFS_TYPE_DIRECTORY };
	int err;

	for (size_t i = 0; i < n; i++) {
		const char *name = entries[i].name;
		size_t name_len = strlen(name), cid_len = 0, link_len;
		uint8_t cid[BD_CID_BYTES_MAX];

		if (name_len == 0 || name_len > BD_UNIXFS_MAX_NAME || memchr(name, '/', name_len) != NULL ||
		    (i > 0 && strcmp(entries[i - 1].name, name) >= 0))
			return tl_error_set(TL_E_INTERNAL, "unixfs: directory entry \"%.64s\" is not a name in order", name);
		if (entries[i].tsize > BD_VARINT_MAX)
			return tl_error_set(TL_E_INPUT, "unixfs: Tsize overflows");
		if ((err = bd_cid_to_bytes(cid, sizeof(cid), &cid_len, &entries[i].cid)) != 0)
			return err;
		link_len = 1 + bd_varint__len(cid_len) + cid_len + 1 + bd_varint__len(name_len) + name_len + 1 +
			bd_varint__len(entries[i].tsize);
		if ((err = tl_buf_append_u8(out, KEY(2, WT_LEN))) != 0 || (err = put_varint(out, link_len)) != 0 ||
		    (err = tl_buf_append_u8(out, KEY(1, WT_LEN))) != 0 || (err = put_varint(out, cid_len)) != 0 ||
		    (err = tl_buf_append(out, cid, cid_len)) != 0 || (err = tl_buf_append_u8(out, KEY(2, WT_LEN))) != 0 ||
		    (err = put_varint(out, name_len)) != 0 || (err = tl_buf_append(out, name, name_len)) != 0 ||
		    (err = tl_buf_append_u8(out, KEY(3, WT_VARINT))) != 0 || (err = put_varint(out, entries[i].tsize)) != 0)
			return err;
	}
	if ((err = tl_buf_append_u8(out, KEY(1, WT_LEN))) != 0 || (err = put_varint(out, sizeof(data))) != 0)
		return err;
	return tl_buf_append(out, data, sizeof(data));
}

/* ---- reader ---- */

static int read_key(uint64_t *field, unsigned *wt, tl_cursor *c)
{
	uint64_t key = 0;
	int err = bd_varint__read(&key, c);

	if (err)
		return err;
	*field = key >> 3;
	*wt = (unsigned)(key & 7);
	if (*field == 0)
		return tl_error_set(TL_E_INPUT, "protobuf field number 0");
	return 0;
}

static int read_len(const uint8_t **p, size_t *n, tl_cursor *c)
{
	uint64_t len = 0;
	int err = bd_varint__read(&len, c);

	if (err)
		return err;
	if (len > tl_cursor_left(c))
		return tl_error_set(TL_E_INPUT, "length %llu runs past the end (%zu bytes left)",
			(unsigned long long)len, tl_cursor_left(c));
	*n = (size_t)len;
	return tl_cursor_take(p, c, *n);
}

static int skip_field(tl_cursor *c, unsigned wt)
{
	const uint8_t *p = NULL;
	uint64_t v = 0;
	size_t n = 0;

	switch (wt) {
	case WT_VARINT:
		return bd_varint__read(&v, c);
	case WT_I64:
		return tl_cursor_take(&p, c, 8);
	case WT_LEN:
		return read_len(&p, &n, c);
	case WT_I32:
		return tl_cursor_take(&p, c, 4);
	default:
		return tl_error_set(TL_E_INPUT, "protobuf wire type %u is not supported", wt);
	}
}

static int read_link(bd_cid *cid, struct bd_unixfs__link_info *info, const uint8_t *bytes, size_t len)
{
	tl_cursor c = tl_cursor_make(bytes, len);
	int seen = 0; /* the last of Hash (1), Name (2), Tsize (3) read: each once, in order */
	int err;

	while (tl_cursor_left(&c) > 0) {
		const uint8_t *p = NULL;
		uint64_t field = 0, v = 0;
		unsigned wt = 0;
		size_t n = 0;

		if ((err = read_key(&field, &wt, &c)) != 0)
			return err;
		if (field <= (uint64_t)seen || field > 3)
			return tl_error_set(TL_E_INPUT, "field %llu out of order or unknown", (unsigned long long)field);
		if ((field == 3) != (wt == WT_VARINT) || (field != 3 && wt != WT_LEN))
			return tl_error_set(TL_E_INPUT, "field %llu has wire type %u", (unsigned long long)field, wt);
		if (field == 3)
			err = bd_varint__read(&v, &c);
		else
			err = read_len(&p, &n, &c);
		if (err)
			return err;
		if (field == 1 && (err = bd_cid_from_bytes(cid, p, n)) != 0)
			return err;
		if (field == 2) {
			info->name = p;
			info->name_len = n;
		}
		if (field == 3)
			info->tsize = v;
		seen = (int)field;
	}
	if (seen == 0)
		return tl_error_set(TL_E_INPUT, "no Hash");
	return 0;
}

static int read_unixfs(bd_unixfs__node *node, const uint8_t *bytes, size_t len, int allow_dir)
{
	tl_cursor c = tl_cursor_make(bytes, len);
	size_t nsizes = 0;
	int has_type = 0, has_data = 0;
	uint64_t sum = 0;
	int err;

	while (tl_cursor_left(&c) > 0) {
		uint64_t field = 0, v = 0;
		unsigned wt = 0;

		if ((err = read_key(&field, &wt, &c)) != 0)
			return err;
		if (field == 1 || field == 3) {
			int *seen = field == 1 ? &has_type : &node->has_filesize;

			if (wt != WT_VARINT || *seen)
				return tl_error_set(TL_E_INPUT, "unixfs field %llu repeated or mistyped", (unsigned long long)field);
			if ((err = bd_varint__read(field == 1 ? &node->type : &node->filesize, &c)) != 0)
				return err;
			*seen = 1;
		} else if (field == 2) {
			if (wt != WT_LEN || has_data)
				return tl_error_set(TL_E_INPUT, "unixfs Data repeated or mistyped");
			if ((err = read_len(&node->data, &node->data_len, &c)) != 0)
				return err;
			has_data = 1;
		} else if (field == 4 && (wt == WT_VARINT || wt == WT_LEN)) {
			/* blocksizes: unpacked as Kubo writes them, or packed as proto3 tools may. */
			tl_cursor packed = c;

			if (wt == WT_LEN) {
				const uint8_t *p = NULL;
				size_t n = 0;

				if ((err = read_len(&p, &n, &c)) != 0)
					return err;
				packed = tl_cursor_make(p, n);
			}
			do {
				if ((err = bd_varint__read(&v, wt == WT_LEN ? &packed : &c)) != 0)
					return err;
				if (nsizes == node->nlinks)
					return tl_error_set(TL_E_INPUT, "unixfs: more blocksizes than the %zu links", node->nlinks);
				node->blocksizes[nsizes++] = v;
				if (__builtin_add_overflow(sum, v, &sum))
					return tl_error_set(TL_E_INPUT, "unixfs: blocksizes overflow");
			} while (wt == WT_LEN && tl_cursor_left(&packed) > 0);
		} else if ((err = skip_field(&c, wt)) != 0) {
			return err;
		}
	}
	if (!has_type)
		return tl_error_set(TL_E_INPUT, "unixfs: no Type");
	if (allow_dir && node->type == BD_UNIXFS_TYPE_DIRECTORY) {
		if (nsizes != 0 || node->data_len != 0 || node->has_filesize)
			return tl_error_set(TL_E_INPUT, "unixfs: a directory with file fields");
		for (size_t i = 0; i < node->nlinks; i++)
			if (node->info[i].name_len == 0 || node->info[i].name_len > BD_UNIXFS_MAX_NAME ||
			    memchr(node->info[i].name, '/', node->info[i].name_len) != NULL)
				return tl_error_set(TL_E_INPUT, "unixfs: directory entry %zu has no valid name", i);
		return 0;
	}
	if (node->type != BD_UNIXFS_TYPE_FILE && node->type != BD_UNIXFS_TYPE_RAW)
		return tl_error_set(TL_E_INPUT, "unixfs: type %llu is not a file", (unsigned long long)node->type);
	if (nsizes != node->nlinks)
		return tl_error_set(TL_E_INPUT, "unixfs: %zu blocksizes for %zu links", nsizes, node->nlinks);
	if (__builtin_add_overflow(sum, (uint64_t)node->data_len, &sum) ||
	    (node->has_filesize && node->filesize != sum))
		return tl_error_set(TL_E_INPUT, "unixfs: filesize %llu is not data plus blocksizes",
			(unsigned long long)node->filesize);
	return 0;
}

static int read_node(bd_unixfs__node *out, const uint8_t *block, size_t len, int allow_dir)
{
	bd_unixfs__node node;
	tl_cursor c = tl_cursor_make(block, len);
	const uint8_t *data = NULL;
	size_t data_len = 0, alloc = 0, info_alloc = 0;
	int has_data = 0;
	int err = 0;

	memset(&node, 0, sizeof(node));
	if (len > BD_UNIXFS_MAX_BLOCK) {
		err = tl_error_set(TL_E_INPUT, "dag-pb: block of %zu bytes is over %u", len, BD_UNIXFS_MAX_BLOCK);
		goto out;
	}
	while (tl_cursor_left(&c) > 0) {
		const uint8_t *p = NULL;
		uint64_t field = 0;
		unsigned wt = 0;
		size_t n = 0;

		if ((err = read_key(&field, &wt, &c)) != 0) {
			err = tl_error_wrap(err, "dag-pb");
			goto out;
		}
		/* Links (2) all come before the one Data (1), which ends the node. */
		if (has_data || wt != WT_LEN || (field != 1 && field != 2)) {
			err = tl_error_set(TL_E_INPUT, "dag-pb: unexpected field %llu (wire type %u) at offset %zu",
				(unsigned long long)field, wt, c.pos);
			goto out;
		}
		if ((err = read_len(&p, &n, &c)) != 0) {
			err = tl_error_wrap(err, "dag-pb");
			goto out;
		}
		if (field == 1) {
			data = p;
			data_len = n;
			has_data = 1;
			continue;
		}
		if (node.nlinks == BD_UNIXFS_MAX_LINKS) {
			err = tl_error_set(TL_E_INPUT, "dag-pb: more than %d links", BD_UNIXFS_MAX_LINKS);
			goto out;
		}
		if ((err = tl_array_grow(&node.links, &alloc, node.nlinks + 1, sizeof(*node.links), BD_UNIXFS_MAX_LINKS)) != 0 ||
		    (err = tl_array_grow(&node.info, &info_alloc, node.nlinks + 1, sizeof(*node.info), BD_UNIXFS_MAX_LINKS)) != 0)
			goto out;
		memset(&node.info[node.nlinks], 0, sizeof(node.info[0]));
		if ((err = read_link(&node.links[node.nlinks], &node.info[node.nlinks], p, n)) != 0) {
			err = tl_error_wrap(err, "dag-pb: link %zu", node.nlinks);
			goto out;
		}
		node.nlinks++;
	}
	if (!has_data) {
		err = tl_error_set(TL_E_INPUT, "dag-pb: no Data, so not a UnixFS node");
		goto out;
	}
	if (node.nlinks && (node.blocksizes = calloc(node.nlinks, sizeof(*node.blocksizes))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = read_unixfs(&node, data, data_len, allow_dir)) != 0)
		err = tl_error_wrap(err, "dag-pb");
out:
	if (err) {
		bd_unixfs__node_free(&node);
		return err;
	}
	*out = node;
	return 0;
}

int bd_unixfs__read_node(bd_unixfs__node *out, const uint8_t *block, size_t len)
{
	return read_node(out, block, len, 0);
}

int bd_unixfs__read_any_node(bd_unixfs__node *out, const uint8_t *block, size_t len)
{
	return read_node(out, block, len, 1);
}

void bd_unixfs__node_free(bd_unixfs__node *node)
{
	free(node->links);
	free(node->blocksizes);
	free(node->info);
	node->links = NULL;
	node->blocksizes = NULL;
	node->info = NULL;
	node->nlinks = 0;
}
