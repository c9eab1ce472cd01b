#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logging.h"
#include "translog/bytes.h"

#define TOKEN_HEX (2 * AUTH_TOKEN_BYTES)
#define BEARER "Bearer "

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* Writes a new file (O_EXCL, 0600) and syncs it: it must not exist. */
static int write_new(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int err = 0;

	if (fd < 0)
		return tl_error_set(TL_E_IO, "creating %s: %s", path, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) != 0)
		err = tl_error_set(TL_E_IO, "writing %s: %s", path, strerror(errno));
	close(fd);
	return err;
}

/* Reads a small file whole into buf (cap bytes); *len gets its size. */
static int read_small(char *buf, size_t cap, size_t *len, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return tl_error_set(errno == ENOENT ? TL_E_NOTFOUND : TL_E_IO, "%s: %s", path, strerror(errno));
	n = read(fd, buf, cap);
	close(fd);
	if (n < 0)
		return tl_error_set(TL_E_IO, "reading %s: %s", path, strerror(errno));
	*len = (size_t)n;
	return 0;
}

/* The hash file holds the hex SHA-256 of the token text and a newline. It is written after
 * the token (through a temporary file and a rename), so a crash in between leaves a token
 * whose hash the next start derives again. */
static int save_hash(const char *data_dir, const tl_hash *h)
{
	char path[4200], tmp[4300], text[2 * TL_HASH_SIZE + 2];
	int err;

	path_in(path, sizeof(path), data_dir, AUTH_HASH_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	tl_hex_encode(text, h->b, TL_HASH_SIZE);
	text[2 * TL_HASH_SIZE] = '\n';
	unlink(tmp);
	if ((err = write_new(tmp, text, sizeof(text) - 1)) != 0)
		return err;
	if (rename(tmp, path) != 0)
		return tl_error_set(TL_E_IO, "renaming %s: %s", tmp, strerror(errno));
	return 0;
}

static int load_hash(tl_hash *h, const char *path)
{
	char text[2 * TL_HASH_SIZE + 2];
	size_t len;
	int err;

	if ((err = read_small(text, sizeof(text), &len, path)) != 0)
		return err;
	if (len != 2 * TL_HASH_SIZE + 1 || text[len - 1] != '\n' || tl_hex_decode(h->b, TL_HASH_SIZE, text, len - 1) != 0)
		return tl_error_set(TL_E_INPUT, "%s: not one line of 64 hex digits", path);
	return 0;
}

int auth_open(struct auth *a, const char *data_dir)
{
	char hash_path[4200], token_path[4200], token[TOKEN_HEX + 2];
	uint8_t raw[AUTH_TOKEN_BYTES];
	size_t len;
	int err;

	path_in(hash_path, sizeof(hash_path), data_dir, AUTH_HASH_FILE);
	path_in(token_path, sizeof(token_path), data_dir, AUTH_TOKEN_FILE);
	if ((err = load_hash(&a->token_hash, hash_path)) != TL_E_NOTFOUND)
		return err;
	err = read_small(token, sizeof(token), &len, token_path);
	if (err == TL_E_NOTFOUND) {
		randombytes_buf(raw, sizeof(raw));
		tl_hex_encode(token, raw, sizeof(raw));
		token[TOKEN_HEX] = '\n';
		len = TOKEN_HEX + 1;
		sodium_memzero(raw, sizeof(raw));
		if ((err = write_new(token_path, token, len)) != 0)
			goto out;
		log_at(LOG_INFO, "created the operator token", "path=\"%s\"", token_path);
	} else if (err) {
		goto out;
	}
	if (len != TOKEN_HEX + 1 || token[TOKEN_HEX] != '\n') {
		err = tl_error_set(TL_E_INPUT, "%s: not one line of %d hex digits", token_path, TOKEN_HEX);
		goto out;
	}
	tl_sha256(&a->token_hash, token, TOKEN_HEX);
	err = save_hash(data_dir, &a->token_hash);
out:
	sodium_memzero(token, sizeof(token));
	return err;
}

int auth_check_operator(const struct auth *a, const struct http_request *req)
{
	const char *h = http_header(req, "Authorization");
	tl_hash presented;
	int same;

	/* A TLS client certificate verified against tls_client_ca proves the role as well. */
	if (req->operator_cert)
		return 0;
	if (h == NULL)
		return tl_error_set(TL_E_UNAUTHORIZED, "the operator token is required (Authorization: Bearer ...)");
	if (strncmp(h, BEARER, strlen(BEARER)) != 0)
		return tl_error_set(TL_E_UNAUTHORIZED, "the Authorization header is not a Bearer token");
	h += strlen(BEARER);
	/* Hashing first makes the comparison's time independent of the presented length. */
	tl_sha256(&presented, h, strlen(h));
	same = sodium_memcmp(presented.b, a->token_hash.b, TL_HASH_SIZE) == 0;
	if (!same)
		return tl_error_set(TL_E_UNAUTHORIZED, "wrong operator token");
	return 0;
}
