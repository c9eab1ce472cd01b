#include "pkcs11_module.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A process loads few modules; each is initialised once however many keys use it, because
 * C_Initialize may be called once per process (a second call is an error). */
#define MAX_MODULES 8
/* Tokens present at once: more than any machine has; bounds the slot list. */
#define MAX_SLOTS 256

struct tl_p11_module {
	char path[TL_PKCS11_MAX_PATH + 1];
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	unsigned users;
	int finalize; /* we initialised it (not someone else in this process) */
};

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tl_p11_module modules[MAX_MODULES];

static const char *const default_modules[] = {
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
};

const char *tl_pkcs11_default_module(void)
{
	for (size_t i = 0; i < sizeof(default_modules) / sizeof(default_modules[0]); i++)
		if (access(default_modules[i], R_OK) == 0)
			return default_modules[i];
	return default_modules[0];
}

static const char *rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
	case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
	case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
	case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
	case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
	case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
	case CKR_ATTRIBUTE_SENSITIVE: return "CKR_ATTRIBUTE_SENSITIVE";
	case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
	case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
	case CKR_TOKEN_WRITE_PROTECTED: return "CKR_TOKEN_WRITE_PROTECTED";
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_HOST_MEMORY: return "CKR_HOST_MEMORY";
	case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
	case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
	case CKR_BUFFER_TOO_SMALL: return "CKR_BUFFER_TOO_SMALL";
	default: return "error";
	}
}

int tl_p11_fail(CK_RV rv, const char *what)
{
	int code = TL_E_IO;

	switch (rv) {
	case CKR_PIN_INCORRECT: case CKR_PIN_LOCKED: case CKR_PIN_LEN_RANGE: case CKR_PIN_INVALID:
	case CKR_PIN_EXPIRED: case CKR_USER_NOT_LOGGED_IN:
		code = TL_E_UNAUTHORIZED;
		break;
	case CKR_HOST_MEMORY:
		code = TL_E_NOMEM;
		break;
	case CKR_MECHANISM_INVALID: case CKR_KEY_TYPE_INCONSISTENT: case CKR_ATTRIBUTE_VALUE_INVALID:
	case CKR_TEMPLATE_INCONSISTENT: case CKR_TOKEN_WRITE_PROTECTED:
		code = TL_E_INPUT;
		break;
	default:
		break;
	}
	return tl_error_set(code, "pkcs11: %s: %s (0x%lx)", what, rv_name(rv), (unsigned long)rv);
}

/* Under modules_lock. */
static int module_load(struct tl_p11_module *m, const char *path)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	if (m->dl == NULL) {
		if ((m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
			return tl_error_set(TL_E_NOTFOUND, "pkcs11: cannot load module %s: %s", path, dlerror());
		*(void **)&get_list = dlsym(m->dl, "C_GetFunctionList");
		if (get_list == NULL || (rv = get_list(&m->f)) != CKR_OK || m->f == NULL) {
			/* Not a module: unloading it is safe, it never ran. */
			dlclose(m->dl);
			m->dl = NULL;
			return tl_error_set(TL_E_INPUT, "pkcs11: %s is not a PKCS#11 module (no C_GetFunctionList)", path);
		}
		snprintf(m->path, sizeof(m->path), "%s", path);
	}
	/* The signer may sign from any thread: let the module use the OS's locks. */
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return tl_p11_fail(rv, "C_Initialize");
	m->finalize = rv == CKR_OK;
	return 0;
}

static int module_get(struct tl_p11_module **out, const char *path)
{
	struct tl_p11_module *m = NULL;
	int err = 0;

	pthread_mutex_lock(&modules_lock);
	for (size_t i = 0; i < MAX_MODULES && m == NULL; i++)
		if (modules[i].dl != NULL && strcmp(modules[i].path, path) == 0)
			m = &modules[i];
	for (size_t i = 0; i < MAX_MODULES && m == NULL; i++)
		if (modules[i].dl == NULL)
			m = &modules[i];
	if (m == NULL) {
		err = tl_error_set(TL_E_INPUT, "pkcs11: more than %d modules in one process", MAX_MODULES);
		goto out;
	}
	if (m->users == 0 && (err = module_load(m, path)) != 0)
		goto out;
	m->users++;
	*out = m;
out:
	pthread_mutex_unlock(&modules_lock);
	return err;
}

/* Finalises a module when its last user goes. The module stays mapped: unloading a library
 * that registered exit handlers of its own (SoftHSM2 through OpenSSL does) can crash the
 * process at exit, and a process loads at most MAX_MODULES of them. */
static void module_put(struct tl_p11_module *m)
{
	pthread_mutex_lock(&modules_lock);
	if (--m->users == 0 && m->finalize)
		m->f->C_Finalize(NULL);
	pthread_mutex_unlock(&modules_lock);
}

/* A blank-padded CK_*_INFO field equals `want` ("" matches anything). */
static int padded_eq(const CK_UTF8CHAR *field, size_t size, const char *want)
{
	size_t n = size;

	if (want[0] == '\0')
		return 1;
	while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0'))
		n--;
	return n == strlen(want) && memcmp(field, want, n) == 0;
}

static int library_matches(CK_FUNCTION_LIST_PTR f, const struct tl_pkcs11_uri *u)
{
	CK_INFO info;
	CK_RV rv;

	if (u->library_manufacturer[0] == '\0' && u->library_description[0] == '\0' && !u->has_library_version)
		return 0;
	if ((rv = f->C_GetInfo(&info)) != CKR_OK)
		return tl_p11_fail(rv, "C_GetInfo");
	if (!padded_eq(info.manufacturerID, sizeof(info.manufacturerID), u->library_manufacturer) ||
	    !padded_eq(info.libraryDescription, sizeof(info.libraryDescription), u->library_description) ||
	    (u->has_library_version && (info.libraryVersion.major != u->library_version_major ||
					info.libraryVersion.minor != u->library_version_minor)))
		return tl_error_set(TL_E_NOTFOUND, "pkcs11: the module is not the library the URI names");
	return 0;
}

/* The one slot whose token matches the URI's token and slot attributes. */
static int find_slot(struct tl_p11_token *t, const struct tl_pkcs11_uri *u)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	size_t found = 0;
	CK_RV rv;
	int err = 0;

	if ((rv = t->f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK)
		return tl_p11_fail(rv, "C_GetSlotList");
	if (n > MAX_SLOTS)
		return tl_error_set(TL_E_INPUT, "pkcs11: the module reports %lu tokens, more than %d", (unsigned long)n, MAX_SLOTS);
	if (n > 0 && (slots = calloc(n, sizeof(*slots))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory listing PKCS#11 slots");
	if (n > 0 && (rv = t->f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) {
		err = tl_p11_fail(rv, "C_GetSlotList");
		goto out;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		CK_SLOT_INFO si;
		CK_TOKEN_INFO ti;

		if (u->has_slot_id && slots[i] != u->slot_id)
			continue;
		if (t->f->C_GetSlotInfo(slots[i], &si) != CKR_OK || t->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue; /* a token removed while we look is not the one */
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue; /* holds no keys (SoftHSM2 always offers one such slot) */
		if (!padded_eq(si.slotDescription, sizeof(si.slotDescription), u->slot_description) ||
		    !padded_eq(si.manufacturerID, sizeof(si.manufacturerID), u->slot_manufacturer) ||
		    !padded_eq(ti.label, sizeof(ti.label), u->token) ||
		    !padded_eq(ti.manufacturerID, sizeof(ti.manufacturerID), u->manufacturer) ||
		    !padded_eq(ti.model, sizeof(ti.model), u->model) ||
		    !padded_eq(ti.serialNumber, sizeof(ti.serialNumber), u->serial))
			continue;
		if (found++ == 0) {
			t->slot = slots[i];
			memcpy(t->label, ti.label, sizeof(ti.label));
			t->label[sizeof(ti.label)] = '\0';
			for (size_t k = sizeof(ti.label); k > 0 && t->label[k - 1] == ' '; k--)
				t->label[k - 1] = '\0';
		}
	}
	if (found == 0)
		err = tl_error_set(TL_E_NOTFOUND, "pkcs11: no token matches the URI (token=\"%s\")", u->token);
	else if (found > 1)
		err = tl_error_set(TL_E_INPUT, "pkcs11: %zu tokens match the URI; name one with token=, serial= or slot-id=",
			found);
out:
	free(slots);
	return err;
}

static int check_mechanism(struct tl_p11_token *t, CK_MECHANISM_TYPE mech, const char *name)
{
	CK_MECHANISM_INFO info;
	CK_RV rv = t->f->C_GetMechanismInfo(t->slot, mech, &info);

	if (rv == CKR_MECHANISM_INVALID)
		return tl_error_set(TL_E_INPUT, "pkcs11: token \"%s\" does not support %s (PKCS#11 3.0 Ed25519)", t->label,
			name);
	if (rv != CKR_OK)
		return tl_p11_fail(rv, "C_GetMechanismInfo");
	return 0;
}

static int login(struct tl_p11_token *t, const char *pin)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;

	if (pin == NULL || pin[0] == '\0') {
		if ((rv = t->f->C_GetTokenInfo(t->slot, &ti)) != CKR_OK)
			return tl_p11_fail(rv, "C_GetTokenInfo");
		if (ti.flags & CKF_LOGIN_REQUIRED)
			return tl_error_set(TL_E_UNAUTHORIZED, "pkcs11: token \"%s\" needs a PIN (a PIN file or the "
				"environment)", t->label);
		return 0;
	}
	/* C_Login does not write the PIN; the API is just not const-correct. */
	rv = t->f->C_Login(t->session, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return tl_p11_fail(rv, "C_Login");
	return 0;
}

int tl_p11_token_open(struct tl_p11_token *t, const struct tl_pkcs11_uri *u, const char *pin, int keygen)
{
	const char *path = u->module_path[0] != '\0' ? u->module_path : tl_pkcs11_default_module();
	CK_FLAGS flags = CKF_SERIAL_SESSION | (keygen ? CKF_RW_SESSION : 0);
	CK_RV rv;
	int err;

	memset(t, 0, sizeof(*t));
	t->session = CK_INVALID_HANDLE;
	if ((err = module_get(&t->module, path)) != 0)
		return err;
	t->f = t->module->f;
	if ((err = library_matches(t->f, u)) != 0 || (err = find_slot(t, u)) != 0 ||
	    (err = check_mechanism(t, CKM_EDDSA, "CKM_EDDSA")) != 0 ||
	    (keygen && (err = check_mechanism(t, CKM_EC_EDWARDS_KEY_PAIR_GEN, "CKM_EC_EDWARDS_KEY_PAIR_GEN")) != 0))
		goto out;
	if ((rv = t->f->C_OpenSession(t->slot, flags, NULL, NULL, &t->session)) != CKR_OK) {
		t->session = CK_INVALID_HANDLE;
		err = tl_p11_fail(rv, "C_OpenSession");
		goto out;
	}
	err = login(t, pin);
out:
	if (err)
		tl_p11_token_close(t);
	return err;
}

void tl_p11_token_close(struct tl_p11_token *t)
{
	if (t->module == NULL)
		return;
	if (t->session != CK_INVALID_HANDLE)
		t->f->C_CloseSession(t->session);
	module_put(t->module);
	memset(t, 0, sizeof(*t));
}
