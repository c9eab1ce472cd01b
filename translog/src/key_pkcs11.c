/*
 * Ed25519 keys in a PKCS#11 token, behind the tl_signer interface (translog/pkcs11.h). The
 * token holds three objects per key, all with the same CKA_LABEL: the private key (never
 * extractable), its public key, and a public data object with the verifier key text, which
 * gives the key its note name and type.
 */
#include "translog/pkcs11.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pkcs11_module.h"
#include "secret_file.h"

/* CKA_APPLICATION of the data object holding a key's verifier key text. */
#define VKEY_APPLICATION "bundled verifier key"
/* CKA_ID of a generated key when the URI names none. */
#define GENERATED_ID_SIZE 16

/* DER of the edwards25519 curve as CKA_EC_PARAMS: the OID 1.3.101.112 (RFC 8410), which
 * keygen writes, or the PrintableString "edwards25519" that PKCS#11 3.0 also allows. */
static const uint8_t ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t ed25519_name[] = { 0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9' };

/* The signer's ctx: a session kept open (and logged in) for the key's life. */
struct p11_key {
	struct tl_p11_token token;
	CK_OBJECT_HANDLE priv;
	pthread_mutex_t lock; /* one operation at a time on a session (PKCS#11 section 5.6) */
};

static int p11_sign(void *ctx, uint8_t sig[TL_ED25519_SIGNATURE_SIZE], const void *msg, size_t len)
{
	struct p11_key *k = ctx;
	CK_MECHANISM mech = { CKM_EDDSA, NULL, 0 }; /* no parameters: pure Ed25519 */
	CK_ULONG sig_len = TL_ED25519_SIGNATURE_SIZE;
	CK_RV rv;

	pthread_mutex_lock(&k->lock);
	TL_P11_MODULE_ALLOCS_BEGIN();
	rv = k->token.f->C_SignInit(k->token.session, &mech, k->priv);
	/* C_Sign only reads the message; the API is not const-correct. */
	if (rv == CKR_OK)
		rv = k->token.f->C_Sign(k->token.session, (CK_BYTE_PTR)(uintptr_t)msg, len, sig, &sig_len);
	TL_P11_MODULE_ALLOCS_END();
	pthread_mutex_unlock(&k->lock);
	if (rv != CKR_OK)
		return tl_p11_fail(rv, "C_Sign");
	if (sig_len != TL_ED25519_SIGNATURE_SIZE)
		return tl_error_set(TL_E_IO, "pkcs11: the token made a %lu-byte Ed25519 signature", (unsigned long)sig_len);
	return 0;
}

static void p11_release(void *ctx)
{
	struct p11_key *k = ctx;

	if (k == NULL)
		return;
	tl_p11_token_close(&k->token);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static const struct tl_signer_ops p11_ops = { p11_sign, p11_release };

/* Up to `max` objects matching the template: handles in out, how many in *n. */
static int find_objects(CK_OBJECT_HANDLE *out, CK_ULONG *n, CK_ULONG max, struct tl_p11_token *t, CK_ATTRIBUTE *tmpl,
	CK_ULONG n_tmpl)
{
	CK_RV rv;

	*n = 0;
	if ((rv = t->f->C_FindObjectsInit(t->session, tmpl, n_tmpl)) != CKR_OK)
		return tl_p11_fail(rv, "C_FindObjectsInit");
	rv = t->f->C_FindObjects(t->session, out, max, n);
	t->f->C_FindObjectsFinal(t->session);
	if (rv != CKR_OK)
		return tl_p11_fail(rv, "C_FindObjects");
	return 0;
}

static int find_one(CK_OBJECT_HANDLE *out, struct tl_p11_token *t, CK_ATTRIBUTE *tmpl, CK_ULONG n_tmpl, const char *what)
{
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n;
	int err;

	if ((err = find_objects(found, &n, 2, t, tmpl, n_tmpl)) != 0)
		return err;
	if (n == 0)
		return tl_error_set(TL_E_NOTFOUND, "pkcs11: token \"%s\" has no %s the URI names", t->label, what);
	if (n > 1)
		return tl_error_set(TL_E_INPUT, "pkcs11: the URI names more than one %s in token \"%s\"", what, t->label);
	*out = found[0];
	return 0;
}

/* Reads one attribute of at most `cap` bytes. */
static int get_attr(void *buf, size_t *len, size_t cap, struct tl_p11_token *t, CK_OBJECT_HANDLE obj,
	CK_ATTRIBUTE_TYPE type, const char *what)
{
	CK_ATTRIBUTE a = { type, buf, cap };
	CK_RV rv = t->f->C_GetAttributeValue(t->session, obj, &a, 1);

	if (rv == CKR_BUFFER_TOO_SMALL)
		return tl_error_set(TL_E_INPUT, "pkcs11: the key's %s is longer than %zu bytes", what, cap);
	if (rv != CKR_OK)
		return tl_p11_fail(rv, what);
	*len = a.ulValueLen;
	return 0;
}

/* The 32-byte Ed25519 public key of an edwards25519 public key object. */
static int read_public_key(uint8_t pk[TL_ED25519_PUBLIC_KEY_SIZE], struct tl_p11_token *t, CK_OBJECT_HANDLE pub)
{
	uint8_t buf[64];
	size_t len;
	int err;

	if ((err = get_attr(buf, &len, sizeof(buf), t, pub, CKA_EC_PARAMS, "CKA_EC_PARAMS")) != 0)
		return err;
	if (!(len == sizeof(ed25519_oid) && memcmp(buf, ed25519_oid, len) == 0) &&
	    !(len == sizeof(ed25519_name) && memcmp(buf, ed25519_name, len) == 0))
		return tl_error_set(TL_E_INPUT, "pkcs11: the key is not on edwards25519 (an Ed448 key?)");
	if ((err = get_attr(buf, &len, sizeof(buf), t, pub, CKA_EC_POINT, "CKA_EC_POINT")) != 0)
		return err;
	/* PKCS#11 3.0 says a DER OCTET STRING; some tokens give the raw 32 bytes. */
	if (len == TL_ED25519_PUBLIC_KEY_SIZE + 2 && buf[0] == 0x04 && buf[1] == TL_ED25519_PUBLIC_KEY_SIZE)
		memcpy(pk, buf + 2, TL_ED25519_PUBLIC_KEY_SIZE);
	else if (len == TL_ED25519_PUBLIC_KEY_SIZE)
		memcpy(pk, buf, TL_ED25519_PUBLIC_KEY_SIZE);
	else
		return tl_error_set(TL_E_INPUT, "pkcs11: CKA_EC_POINT is %zu bytes, not an Ed25519 public key", len);
	return 0;
}

/* The verifier key stored beside the key labelled `label`. */
static int read_vkey(tl_verifier **out, struct tl_p11_token *t, const uint8_t *label, size_t label_len)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_APPLICATION, (void *)(uintptr_t)VKEY_APPLICATION, strlen(VKEY_APPLICATION) },
		{ CKA_LABEL, (void *)(uintptr_t)label, label_len },
	};
	char text[TL_MAX_KEY_TEXT];
	CK_OBJECT_HANDLE obj;
	size_t len;
	int err;

	if ((err = find_one(&obj, t, tmpl, 3, "verifier key object (CKO_DATA \"" VKEY_APPLICATION "\") for the key")) != 0 ||
	    (err = get_attr(text, &len, sizeof(text), t, obj, CKA_VALUE, "verifier key object")) != 0)
		return err;
	if ((err = tl_verifier_parse(out, text, len)) != 0)
		return tl_error_wrap(err, "pkcs11: token \"%s\"", t->label);
	return 0;
}

/* A key that wants the PIN again for every signature (CKA_ALWAYS_AUTHENTICATE) cannot sign
 * unattended checkpoints: refused at open rather than at the first commit. A token that
 * does not know the attribute (PKCS#11 before 2.20) has no such keys. */
static int refuse_per_signature_login(struct tl_p11_token *t, CK_OBJECT_HANDLE priv)
{
	CK_BBOOL always = CK_FALSE;
	CK_ATTRIBUTE a = { CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always) };

	if (t->f->C_GetAttributeValue(t->session, priv, &a, 1) == CKR_OK && always == CK_TRUE)
		return tl_error_set(TL_E_INPUT, "pkcs11: the key needs a login for every signature "
			"(CKA_ALWAYS_AUTHENTICATE), which an unattended log cannot give");
	return 0;
}

/* Finds the private key the URI names in an open session and makes the signer (which takes
 * over k on success). */
static int open_key(tl_signer **out, struct p11_key *k, const struct tl_pkcs11_uri *u)
{
	struct tl_p11_token *t = &k->token;
	CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
	CK_KEY_TYPE key_type = CKK_EC_EDWARDS, found_type = 0;
	uint8_t label[TL_PKCS11_MAX_LABEL], id[TL_PKCS11_MAX_ID], pk[TL_ED25519_PUBLIC_KEY_SIZE];
	size_t label_len = 0, id_len = 0, type_len;
	CK_ATTRIBUTE tmpl[4] = { { CKA_CLASS, &priv_class, sizeof(priv_class) } };
	CK_ULONG n = 1;
	CK_OBJECT_HANDLE pub;
	tl_verifier *v = NULL;
	int err;

	if (u->object[0] == '\0' && u->id_len == 0)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: name the key with object= (its label) or id=");
	if (u->type != TL_PKCS11_TYPE_ANY && u->type != TL_PKCS11_TYPE_PRIVATE)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: a signing key is type=private");
	if (u->object[0] != '\0')
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)(uintptr_t)u->object, strlen(u->object) };
	if (u->id_len > 0)
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_ID, (void *)(uintptr_t)u->id, u->id_len };
	if ((err = find_one(&k->priv, t, tmpl, n, "private key")) != 0 ||
	    (err = get_attr(&found_type, &type_len, sizeof(found_type), t, k->priv, CKA_KEY_TYPE, "CKA_KEY_TYPE")) != 0)
		return err;
	if (found_type != CKK_EC_EDWARDS)
		return tl_error_set(TL_E_INPUT, "pkcs11: the key is of type 0x%lx, not CKK_EC_EDWARDS (Ed25519)",
			(unsigned long)found_type);
	if ((err = refuse_per_signature_login(t, k->priv)) != 0)
		return err;
	if ((err = get_attr(label, &label_len, sizeof(label), t, k->priv, CKA_LABEL, "CKA_LABEL")) != 0 ||
	    (err = get_attr(id, &id_len, sizeof(id), t, k->priv, CKA_ID, "CKA_ID")) != 0)
		return err;
	if (label_len == 0)
		return tl_error_set(TL_E_INPUT, "pkcs11: the key has no label, so no verifier key can be stored beside it");
	/* Its public half: same label and id. */
	n = 0;
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &pub_class, sizeof(pub_class) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &key_type, sizeof(key_type) };
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_LABEL, label, label_len };
	if (id_len > 0)
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_ID, id, id_len };
	if ((err = find_one(&pub, t, tmpl, n, "public key beside the private key")) != 0 ||
	    (err = read_public_key(pk, t, pub)) != 0 || (err = read_vkey(&v, t, label, label_len)) != 0)
		goto out;
	if (memcmp(tl_verifier_public_key(v), pk, sizeof(pk)) != 0) {
		err = tl_error_set(TL_E_CONFLICT, "pkcs11: the verifier key stored in token \"%s\" is not the key's", t->label);
		goto out;
	}
	err = tl_signer_from_ops(out, tl_verifier_name(v), tl_verifier_type(v), pk, &p11_ops, k);
out:
	tl_verifier_free(v);
	return err;
}

static int key_new(struct p11_key **out)
{
	struct p11_key *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (k == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory opening a PKCS#11 key");
	if (pthread_mutex_init(&k->lock, NULL) != 0) {
		free(k);
		return tl_error_set(TL_E_INTERNAL, "pkcs11: cannot create a lock");
	}
	*out = k;
	return 0;
}

static int parse_uri(struct tl_pkcs11_uri *u, const char *uri)
{
	int err;

	if ((err = tl_crypto_init()) != 0)
		return err;
	return tl_pkcs11_uri_parse(u, uri, strlen(uri));
}

int tl_pkcs11_signer_open(tl_signer **out, const char *uri, const char *pin)
{
	struct tl_pkcs11_uri u;
	struct p11_key *k = NULL;
	int err;

	*out = NULL;
	if ((err = parse_uri(&u, uri)) != 0 || (err = key_new(&k)) != 0 ||
	    (err = tl_p11_token_open(&k->token, &u, pin, 0)) != 0 || (err = open_key(out, k, &u)) != 0)
		goto out;
	k = NULL; /* the signer owns it */
out:
	p11_release(k);
	return err;
}

/* TL_E_CONFLICT if the token already has a key or a verifier key object with this label
 * (or a key with this id): keygen never shadows or replaces a key. */
static int check_unused(struct tl_p11_token *t, const struct tl_pkcs11_uri *u)
{
	CK_OBJECT_HANDLE found[1];
	CK_ULONG n;
	CK_ATTRIBUTE by_label = { CKA_LABEL, (void *)(uintptr_t)u->object, strlen(u->object) };
	CK_ATTRIBUTE by_id = { CKA_ID, (void *)(uintptr_t)u->id, u->id_len };
	int err;

	if ((err = find_objects(found, &n, 1, t, &by_label, 1)) != 0)
		return err;
	if (n == 0 && u->id_len > 0 && (err = find_objects(found, &n, 1, t, &by_id, 1)) != 0)
		return err;
	if (n > 0)
		return tl_error_set(TL_E_CONFLICT, "pkcs11: token \"%s\" already holds an object labelled \"%s\"%s "
			"(refusing to add a second key under that name)", t->label, u->object, u->id_len ? " or with that id" : "");
	return 0;
}

/* Creates the key pair and the verifier key object; removes what it made if any step fails. */
static int generate(struct tl_p11_token *t, const struct tl_pkcs11_uri *u, const char *name, uint8_t type)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS data_class = CKO_DATA;
	uint8_t id[GENERATED_ID_SIZE], pk[TL_ED25519_PUBLIC_KEY_SIZE] = { 0 };
	const void *id_ptr = u->id_len ? (const void *)u->id : (const void *)id;
	CK_ULONG id_len = u->id_len ? u->id_len : sizeof(id);
	CK_ATTRIBUTE label = { CKA_LABEL, (void *)(uintptr_t)u->object, strlen(u->object) };
	CK_MECHANISM mech = { CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pub_tmpl[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) }, { CKA_PRIVATE, &no, sizeof(no) }, { CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_EC_PARAMS, (void *)(uintptr_t)ed25519_oid, sizeof(ed25519_oid) }, label,
		{ CKA_ID, (void *)(uintptr_t)id_ptr, id_len },
	};
	CK_ATTRIBUTE priv_tmpl[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) }, { CKA_PRIVATE, &yes, sizeof(yes) }, { CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) }, { CKA_SIGN, &yes, sizeof(yes) }, label,
		{ CKA_ID, (void *)(uintptr_t)id_ptr, id_len },
	};
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE, data = CK_INVALID_HANDLE;
	tl_verifier *v = NULL;
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT);
	CK_RV rv;
	int err;

	randombytes_buf(id, sizeof(id));
	/* The name and type are checked before anything is written to the token. */
	if ((err = tl_verifier_make(&v, name, type, pk)) != 0)
		goto out;
	tl_verifier_free(v);
	v = NULL;
	TL_P11_MODULE_ALLOCS_BEGIN();
	rv = t->f->C_GenerateKeyPair(t->session, &mech, pub_tmpl, sizeof(pub_tmpl) / sizeof(pub_tmpl[0]), priv_tmpl,
		sizeof(priv_tmpl) / sizeof(priv_tmpl[0]), &pub, &priv);
	TL_P11_MODULE_ALLOCS_END();
	if (rv != CKR_OK) {
		err = tl_p11_fail(rv, "C_GenerateKeyPair");
		goto out;
	}
	if ((err = read_public_key(pk, t, pub)) != 0 || (err = tl_verifier_make(&v, name, type, pk)) != 0 ||
	    (err = tl_verifier_format(&vkey, v)) != 0)
		goto out;
	{
		CK_ATTRIBUTE data_tmpl[] = {
			{ CKA_CLASS, &data_class, sizeof(data_class) }, { CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &no, sizeof(no) }, label,
			{ CKA_APPLICATION, (void *)(uintptr_t)VKEY_APPLICATION, strlen(VKEY_APPLICATION) },
			{ CKA_VALUE, vkey.data, vkey.len },
		};

		if ((rv = t->f->C_CreateObject(t->session, data_tmpl, sizeof(data_tmpl) / sizeof(data_tmpl[0]), &data)) != CKR_OK)
			err = tl_p11_fail(rv, "C_CreateObject (verifier key)");
	}
out:
	if (err && priv != CK_INVALID_HANDLE)
		t->f->C_DestroyObject(t->session, priv);
	if (err && pub != CK_INVALID_HANDLE)
		t->f->C_DestroyObject(t->session, pub);
	tl_verifier_free(v);
	tl_buf_free(&vkey);
	return err;
}

int tl_pkcs11_keygen(tl_signer **out, const char *uri, const char *pin, const char *name, uint8_t type)
{
	struct tl_pkcs11_uri u;
	struct p11_key *k = NULL;
	int err;

	*out = NULL;
	if ((err = parse_uri(&u, uri)) != 0)
		return err;
	if (u.object[0] == '\0')
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: a new key needs a label: add object=LABEL");
	if (u.type != TL_PKCS11_TYPE_ANY && u.type != TL_PKCS11_TYPE_PRIVATE)
		return tl_error_set(TL_E_INPUT, "pkcs11 URI: a signing key is type=private");
	if ((err = key_new(&k)) != 0 || (err = tl_p11_token_open(&k->token, &u, pin, 1)) != 0 ||
	    (err = check_unused(&k->token, &u)) != 0 || (err = generate(&k->token, &u, name, type)) != 0 ||
	    (err = open_key(out, k, &u)) != 0)
		goto out;
	k = NULL;
out:
	p11_release(k);
	return err;
}

int tl_pkcs11_pin_load(char pin[TL_PKCS11_MAX_PIN + 1], const char *file, const char *env_var)
{
	char buf[TL_PKCS11_MAX_PIN + 2];
	const char *env = env_var != NULL ? getenv(env_var) : NULL;
	const char *src = file != NULL ? file : env_var;
	size_t len = 0;
	int err = 0;

	pin[0] = '\0';
	if (file != NULL) {
		if ((err = tl_secret_file_read(buf, sizeof(buf), &len, file, "PIN file")) != 0)
			goto out;
		if (len > 0 && buf[len - 1] == '\n')
			len--;
	} else if (env != NULL && env[0] != '\0') {
		len = strnlen(env, TL_PKCS11_MAX_PIN + 1);
		memcpy(buf, env, len);
	} else {
		return 0;
	}
	if (len > TL_PKCS11_MAX_PIN) {
		err = tl_error_set(TL_E_INPUT, "%s: a PIN is at most %d bytes", src, TL_PKCS11_MAX_PIN);
		goto out;
	}
	if (len == 0 || memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len) != NULL) {
		err = tl_error_set(TL_E_INPUT, "%s: a PIN is one non-empty line without NUL bytes", src);
		goto out;
	}
	memcpy(pin, buf, len);
	pin[len] = '\0';
out:
	sodium_memzero(buf, sizeof(buf));
	return err;
}

void tl_pkcs11_pin_wipe(char pin[TL_PKCS11_MAX_PIN + 1])
{
	sodium_memzero(pin, TL_PKCS11_MAX_PIN + 1);
}
