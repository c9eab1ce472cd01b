#include "translog/key.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "translog/hash.h"
#include "translog/text.h"

#include "secret_file.h"

#define PRIVATE_PREFIX "PRIVATE+KEY+"
/* type byte || 32-byte key */
#define KEY_BLOB_SIZE (1 + TL_ED25519_PUBLIC_KEY_SIZE)

/* What a signer and a verifier both are: a named, typed public key with its key id. The
 * accessors of both types read it, and both are built by key_pub_set. */
struct key_pub {
	char name[TL_MAX_KEY_NAME + 1];
	uint32_t key_id;
	uint8_t type;
	uint8_t pk[TL_ED25519_PUBLIC_KEY_SIZE];
};

/* The secret is either here (seed and sk; ops == NULL) or behind ops and ctx. */
struct tl_signer {
	struct key_pub pub;
	uint8_t seed[TL_ED25519_SEED_SIZE];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	const struct tl_signer_ops *ops;
	void *ctx;
};

struct tl_verifier {
	struct key_pub pub;
};

int tl_crypto_init(void)
{
	/* sodium_init is itself idempotent and thread-safe; 1 means "already done". */
	if (sodium_init() < 0)
		return tl_error_set(TL_E_INTERNAL, "libsodium failed to initialise");
	return 0;
}

/* Unicode White_Space, which is what Go's unicode.IsSpace (and so sumdb/note) rejects. */
static int is_unicode_space(uint32_t r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return 1;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

int tl_key_name_valid(const char *name, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return 0;
	while (i < len) {
		uint32_t r;
		size_t n = tl_utf8_next(&r, (const uint8_t *)name + i, len - i);

		if (n == 0 || r < 0x20 || r == '+' || is_unicode_space(r))
			return 0;
		i += n;
	}
	return 1;
}

uint32_t tl_key_id(const char *name, size_t name_len, uint8_t type, const uint8_t *pub, size_t pub_len)
{
	crypto_hash_sha256_state st;
	uint8_t sum[crypto_hash_sha256_BYTES];
	const uint8_t nl = '\n';

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, name_len);
	crypto_hash_sha256_update(&st, &nl, 1);
	crypto_hash_sha256_update(&st, &type, 1);
	crypto_hash_sha256_update(&st, pub, pub_len);
	crypto_hash_sha256_final(&st, sum);
	return tl_load_u32be(sum);
}

static int check_type(uint8_t type)
{
	if (type != TL_KEY_TYPE_ED25519 && type != TL_KEY_TYPE_COSIGNATURE)
		return tl_error_set(TL_E_INPUT, "unsupported key type 0x%02x (want 0x01 or 0x04)", type);
	return 0;
}

static int check_name(const char *name, size_t len)
{
	if (len > TL_MAX_KEY_NAME)
		return tl_error_set(TL_E_INPUT, "key name is %zu bytes, longer than %d", len, TL_MAX_KEY_NAME);
	if (!tl_key_name_valid(name, len))
		return tl_error_set(TL_E_INPUT, "invalid key name: must be non-empty UTF-8 without spaces, '+' or control characters");
	return 0;
}

/* The checks both constructors make before building a key. */
static int check_new_key(const char *name, size_t name_len, uint8_t type)
{
	int err;

	if ((err = tl_crypto_init()) != 0 || (err = check_type(type)) != 0 || (err = check_name(name, name_len)) != 0)
		return err;
	return 0;
}

/* Fills k from checked parts; `pk` may be k->pk (already set). */
static void key_pub_set(struct key_pub *k, const char *name, size_t name_len, uint8_t type, const uint8_t *pk)
{
	memcpy(k->name, name, name_len);
	k->name[name_len] = '\0';
	k->type = type;
	memmove(k->pk, pk, TL_ED25519_PUBLIC_KEY_SIZE);
	k->key_id = tl_key_id(k->name, name_len, type, k->pk, sizeof(k->pk));
}

int tl_signer_from_seed(tl_signer **out, const char *name, uint8_t type, const uint8_t seed[TL_ED25519_SEED_SIZE])
{
	size_t name_len = strlen(name);
	tl_signer *s;
	int err;

	assert(seed != NULL);
	*out = NULL;
	if ((err = check_new_key(name, name_len, type)) != 0)
		return err;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory allocating a signer");
	memcpy(s->seed, seed, TL_ED25519_SEED_SIZE);
	if (crypto_sign_seed_keypair(s->pub.pk, s->sk, s->seed) != 0) {
		tl_signer_free(s);
		return tl_error_set(TL_E_INTERNAL, "Ed25519 key derivation failed");
	}
	key_pub_set(&s->pub, name, name_len, type, s->pub.pk);
	*out = s;
	return 0;
}

int tl_signer_from_ops(tl_signer **out, const char *name, uint8_t type, const uint8_t pub[TL_ED25519_PUBLIC_KEY_SIZE],
	const struct tl_signer_ops *ops, void *ctx)
{
	size_t name_len = strlen(name);
	tl_signer *s;
	int err;

	assert(pub != NULL && ops != NULL && ops->sign != NULL);
	*out = NULL;
	if ((err = check_new_key(name, name_len, type)) != 0)
		return err;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory allocating a signer");
	key_pub_set(&s->pub, name, name_len, type, pub);
	s->ops = ops;
	s->ctx = ctx;
	*out = s;
	return 0;
}

int tl_signer_generate_typed(tl_signer **out, const char *name, uint8_t type)
{
	uint8_t seed[TL_ED25519_SEED_SIZE];
	int err;

	*out = NULL;
	if ((err = tl_crypto_init()) != 0)
		return err;
	randombytes_buf(seed, sizeof(seed));
	err = tl_signer_from_seed(out, name, type, seed);
	sodium_memzero(seed, sizeof(seed));
	return err;
}

int tl_signer_generate(tl_signer **out, const char *name)
{
	return tl_signer_generate_typed(out, name, TL_KEY_TYPE_ED25519);
}

/* Splits "<name>+<8 hex>+<base64>" (shared by both key encodings): the name ends at the
 * first '+' because names cannot contain one, while base64 can. */
static int split_key(const char **name, size_t *name_len, uint32_t *id, const char **b64, size_t *b64_len,
	const char *s, size_t len, const char *what)
{
	const char *plus = memchr(s, '+', len);
	uint8_t idb[4];

	if (plus == NULL)
		return tl_error_set(TL_E_INPUT, "%s: missing '+' after the key name", what);
	*name = s;
	*name_len = (size_t)(plus - s);
	s = plus + 1;
	len -= *name_len + 1;
	if (len < 9 || s[8] != '+')
		return tl_error_set(TL_E_INPUT, "%s: key id must be 8 hex digits followed by '+'", what);
	if (tl_hex_decode(idb, sizeof(idb), s, 8) != 0)
		return tl_error_set(TL_E_INPUT, "%s: key id must be 8 lowercase hex digits", what);
	*id = tl_load_u32be(idb);
	*b64 = s + 9;
	*b64_len = len - 9;
	return 0;
}

static size_t strip_newline(const char *s, size_t len)
{
	return len > 0 && s[len - 1] == '\n' ? len - 1 : len;
}

int tl_signer_parse(tl_signer **out, const char *text, size_t len)
{
	const char *name, *b64;
	size_t name_len, b64_len, blob_len = 0;
	uint8_t blob[KEY_BLOB_SIZE];
	char name_z[TL_MAX_KEY_NAME + 1];
	uint32_t id;
	int err;

	*out = NULL;
	len = strip_newline(text, len);
	if (len > TL_MAX_KEY_TEXT)
		return tl_error_set(TL_E_INPUT, "private key: longer than %d bytes", TL_MAX_KEY_TEXT);
	if (len < strlen(PRIVATE_PREFIX) || memcmp(text, PRIVATE_PREFIX, strlen(PRIVATE_PREFIX)) != 0)
		return tl_error_set(TL_E_INPUT, "private key: does not start with \"" PRIVATE_PREFIX "\"");
	text += strlen(PRIVATE_PREFIX);
	len -= strlen(PRIVATE_PREFIX);
	if ((err = split_key(&name, &name_len, &id, &b64, &b64_len, text, len, "private key")) != 0)
		return err;
	if ((err = check_name(name, name_len)) != 0)
		return tl_error_wrap(err, "private key");
	if (tl_base64_decode(blob, sizeof(blob), &blob_len, b64, b64_len) != 0 || blob_len != KEY_BLOB_SIZE) {
		err = tl_error_set(TL_E_INPUT, "private key: key data must be base64 of a type byte and a 32-byte seed");
		goto out;
	}
	memcpy(name_z, name, name_len);
	name_z[name_len] = '\0';
	if ((err = tl_signer_from_seed(out, name_z, blob[0], blob + 1)) != 0) {
		err = tl_error_wrap(err, "private key");
		goto out;
	}
	if ((*out)->pub.key_id != id) {
		err = tl_error_set(TL_E_INPUT, "private key: key id %08x does not match the key (want %08x)", id,
			(unsigned)(*out)->pub.key_id);
		tl_signer_free(*out);
		*out = NULL;
		goto out;
	}
out:
	sodium_memzero(blob, sizeof(blob));
	return err;
}

int tl_signer_load(tl_signer **out, const char *path)
{
	char text[TL_MAX_KEY_TEXT + 2];
	size_t len = 0;
	int err;

	*out = NULL;
	if ((err = tl_secret_file_read(text, sizeof(text), &len, path, "private key")) != 0)
		goto out;
	if ((err = tl_signer_parse(out, text, len)) != 0)
		err = tl_error_wrap(err, "%s", path);
out:
	sodium_memzero(text, sizeof(text));
	return err;
}

int tl_signer_format(tl_buf *out, const tl_signer *s)
{
	uint8_t blob[KEY_BLOB_SIZE];
	int err;

	if (s->ops != NULL)
		return tl_error_set(TL_E_INPUT, "key %s+%08x is held in a token: its private key cannot be exported",
			s->pub.name, (unsigned)s->pub.key_id);
	blob[0] = s->pub.type;
	memcpy(blob + 1, s->seed, TL_ED25519_SEED_SIZE);
	if ((err = tl_buf_printf(out, PRIVATE_PREFIX "%s+%08x+", s->pub.name, (unsigned)s->pub.key_id)) != 0)
		goto out;
	err = tl_base64_encode(out, blob, sizeof(blob));
out:
	sodium_memzero(blob, sizeof(blob));
	return err;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, err = 0;

	if (copy == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		err = tl_error_set(TL_E_IO, "%s: cannot sync its directory: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return err;
}

int tl_signer_save(const tl_signer *s, const char *path)
{
	tl_buf text = tl_buf_make(TL_MAX_KEY_TEXT + 1);
	size_t off = 0;
	int fd = -1, err, created = 0;

	if ((err = tl_signer_format(&text, s)) != 0 || (err = tl_buf_append_u8(&text, '\n')) != 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = tl_error_set(errno == EEXIST ? TL_E_CONFLICT : TL_E_IO, "%s: %s%s", path, strerror(errno),
			errno == EEXIST ? " (refusing to overwrite a key file)" : "");
		goto out;
	}
	created = 1;
	while (off < text.len) {
		ssize_t n = write(fd, text.data + off, text.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = tl_error_set(TL_E_IO, "%s: write failed: %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		err = tl_error_set(TL_E_IO, "%s: fsync failed: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = tl_error_set(TL_E_IO, "%s: close failed: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	err = fsync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (err && created)
		unlink(path);
	if (text.data)
		sodium_memzero(text.data, text.alloc);
	tl_buf_free(&text);
	return err;
}

static int format_vkey(tl_buf *out, const struct key_pub *k)
{
	uint8_t blob[KEY_BLOB_SIZE];
	int err;

	blob[0] = k->type;
	memcpy(blob + 1, k->pk, TL_ED25519_PUBLIC_KEY_SIZE);
	if ((err = tl_buf_printf(out, "%s+%08x+", k->name, (unsigned)k->key_id)) != 0)
		return err;
	return tl_base64_encode(out, blob, sizeof(blob));
}

int tl_signer_vkey(tl_buf *out, const tl_signer *s)
{
	return format_vkey(out, &s->pub);
}

const char *tl_signer_name(const tl_signer *s)
{
	return s->pub.name;
}

uint32_t tl_signer_key_id(const tl_signer *s)
{
	return s->pub.key_id;
}

uint8_t tl_signer_type(const tl_signer *s)
{
	return s->pub.type;
}

const uint8_t *tl_signer_public_key(const tl_signer *s)
{
	return s->pub.pk;
}

int tl_signer_sign(uint8_t sig[TL_ED25519_SIGNATURE_SIZE], const tl_signer *s, const void *msg, size_t len)
{
	int err;

	if (s->ops != NULL) {
		/* A signature that does not verify would be published and then refused by every
		 * verifier; catching it here turns a token fault into an error, not a bad checkpoint. */
		if ((err = s->ops->sign(s->ctx, sig, msg, len)) != 0)
			return err;
		if (crypto_sign_verify_detached(sig, msg, len, s->pub.pk) != 0)
			return tl_error_set(TL_E_INTERNAL, "the token's signature does not verify under key %s+%08x",
				s->pub.name, (unsigned)s->pub.key_id);
		return 0;
	}
	if (crypto_sign_detached(sig, NULL, msg, len, s->sk) != 0)
		return tl_error_set(TL_E_INTERNAL, "Ed25519 signing failed");
	return 0;
}

void tl_signer_free(tl_signer *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL && s->ops->release != NULL)
		s->ops->release(s->ctx);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

int tl_verifier_make(tl_verifier **out, const char *name, uint8_t type, const uint8_t pub[TL_ED25519_PUBLIC_KEY_SIZE])
{
	size_t name_len = strlen(name);
	tl_verifier *v;
	int err;

	assert(pub != NULL);
	*out = NULL;
	if ((err = check_new_key(name, name_len, type)) != 0)
		return err;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory allocating a verifier");
	key_pub_set(&v->pub, name, name_len, type, pub);
	*out = v;
	return 0;
}

int tl_verifier_parse(tl_verifier **out, const char *vkey, size_t len)
{
	const char *name, *b64;
	size_t name_len, b64_len, blob_len = 0;
	uint8_t blob[KEY_BLOB_SIZE];
	char name_z[TL_MAX_KEY_NAME + 1];
	uint32_t id;
	int err;

	*out = NULL;
	len = strip_newline(vkey, len);
	if (len > TL_MAX_KEY_TEXT)
		return tl_error_set(TL_E_INPUT, "verifier key: longer than %d bytes", TL_MAX_KEY_TEXT);
	if ((err = split_key(&name, &name_len, &id, &b64, &b64_len, vkey, len, "verifier key")) != 0)
		return err;
	if ((err = check_name(name, name_len)) != 0)
		return tl_error_wrap(err, "verifier key");
	if (tl_base64_decode(blob, sizeof(blob), &blob_len, b64, b64_len) != 0 || blob_len < 1)
		return tl_error_set(TL_E_INPUT, "verifier key: key data is not valid base64");
	if ((err = check_type(blob[0])) != 0)
		return tl_error_wrap(err, "verifier key");
	if (blob_len != KEY_BLOB_SIZE)
		return tl_error_set(TL_E_INPUT, "verifier key: Ed25519 public key is %zu bytes, want 32", blob_len - 1);
	memcpy(name_z, name, name_len);
	name_z[name_len] = '\0';
	if ((err = tl_verifier_make(out, name_z, blob[0], blob + 1)) != 0)
		return tl_error_wrap(err, "verifier key");
	if ((*out)->pub.key_id != id) {
		err = tl_error_set(TL_E_INPUT, "verifier key: key id %08x does not match the key (want %08x)", id, (*out)->pub.key_id);
		tl_verifier_free(*out);
		*out = NULL;
		return err;
	}
	return 0;
}

int tl_verifier_from_signer(tl_verifier **out, const tl_signer *s)
{
	return tl_verifier_make(out, s->pub.name, s->pub.type, s->pub.pk);
}

int tl_verifier_format(tl_buf *out, const tl_verifier *v)
{
	return format_vkey(out, &v->pub);
}

const char *tl_verifier_name(const tl_verifier *v)
{
	return v->pub.name;
}

uint32_t tl_verifier_key_id(const tl_verifier *v)
{
	return v->pub.key_id;
}

uint8_t tl_verifier_type(const tl_verifier *v)
{
	return v->pub.type;
}

const uint8_t *tl_verifier_public_key(const tl_verifier *v)
{
	return v->pub.pk;
}

int tl_verifier_check_distinct(const tl_verifier *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct key_pub *a = keys[i] ? &keys[i]->pub : NULL;

		for (size_t j = 0; a != NULL && j < i; j++) {
			const struct key_pub *b = keys[j] ? &keys[j]->pub : NULL;

			if (b == NULL)
				continue;
			if (a->key_id == b->key_id && strcmp(a->name, b->name) == 0)
				return tl_error_set(TL_E_INPUT, "key %s+%08x is listed twice", a->name, (unsigned)a->key_id);
			if (a->type == b->type && sodium_memcmp(a->pk, b->pk, sizeof(a->pk)) == 0)
				return tl_error_set(TL_E_INPUT, "keys %s+%08x and %s+%08x are one public key under two names",
					b->name, (unsigned)b->key_id, a->name, (unsigned)a->key_id);
		}
	}
	return 0;
}

int tl_verifier_verify(const tl_verifier *v, const void *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
	if (sig_len != TL_ED25519_SIGNATURE_SIZE)
		return tl_error_set(TL_E_UNAUTHORIZED, "signature by %s+%08x is %zu bytes, want %d", v->pub.name,
			(unsigned)v->pub.key_id, sig_len, TL_ED25519_SIGNATURE_SIZE);
	if (crypto_sign_verify_detached(sig, msg, len, v->pub.pk) != 0)
		return tl_error_set(TL_E_UNAUTHORIZED, "invalid signature by %s+%08x", v->pub.name, (unsigned)v->pub.key_id);
	return 0;
}

void tl_verifier_free(tl_verifier *v)
{
	free(v);
}
