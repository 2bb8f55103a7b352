/* keys: DKIM private keys and their DNS records.
 *
 * Loading: PEM (PKCS#8 or traditional) from a path or from systemd's
 * $CREDENTIALS_DIRECTORY; the mode of the opened file is checked with fstat, so
 * a key readable by others (or by its group unless allowed) is refused, and the
 * error names the file. Accepted keys: RSA 1024..4096 bits (RFC 8301 3.2) and
 * Ed25519 (RFC 8463). Generation writes PKCS#8 PEM through an O_EXCL temporary
 * file with mode 0600 and a no-replace rename. Records: RFC 6376 3.6.1 tag lists;
 * RSA p= is the SPKI DER, Ed25519 p= the raw 32-byte key (RFC 8463 4.2).
 * Private key bytes are cleansed from memory after use and never put into an
 * error string. Pure apart from the file system; thread safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keys.h"
#include "tags.h"
#include "xalloc.h"

#define KEYS_MAX_FILE (64 * 1024)
#define KEYS_CRED_PREFIX "credential:"

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static char *spec_path(const char *spec, struct buf *err)
{
	size_t plen = strlen(KEYS_CRED_PREFIX);
	if (strncmp(spec, KEYS_CRED_PREFIX, plen) != 0)
		return xstrdup(spec);
	const char *name = spec + plen;
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		buf_add_line(err, "key %s: bad credential name", spec);
		return NULL;
	}
	if (!dir || !*dir) {
		buf_add_line(err, "key %s: $CREDENTIALS_DIRECTORY is not set", spec);
		return NULL;
	}
	return xasprintf("%s/%s", dir, name);
}

static int read_key_file(const char *path, bool allow_group, struct buf *data, struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		buf_add_line(err, "key file %s: %s", path, strerror(e));
		return -e;
	}
	int r = 0;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		buf_add_line(err, "key file %s: %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		buf_add_line(err, "key file %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & S_IRWXO) || (st.st_mode & S_IWGRP)) {
		r = -EPERM;
		buf_add_line(err, "key file %s is accessible by others (mode %04o): chmod 0600 it",
		             path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((st.st_mode & (S_IRGRP | S_IXGRP)) && !allow_group) {
		r = -EPERM;
		buf_printf(err,
		           "key file %s is readable by its group (mode %04o): chmod 0600 it or "
		           "set allow_group_readable = yes",
		           path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > KEYS_MAX_FILE) {
		r = -EFBIG;
		buf_add_line(err, "key file %s is too large for a key", path);
		goto out;
	}
	buf_reserve(data, (size_t)st.st_size + 1);
	for (;;) {
		if (data->len >= KEYS_MAX_FILE) {
			r = -EFBIG;
			buf_add_line(err, "key file %s is too large for a key", path);
			goto out;
		}
		buf_reserve(data, 4096);
		ssize_t n = read(fd, data->data + data->len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			buf_add_line(err, "key file %s: %s", path, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		data->len += (size_t)n;
		data->data[data->len] = '\0';
	}
out:
	close(fd);
	return r;
}

static int check_key(EVP_PKEY *key, const char *path, struct buf *err)
{
	int bits;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return 0;
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(key);
		if (bits >= KEYS_RSA_MIN_BITS && bits <= KEYS_RSA_MAX_BITS)
			return 0;
		buf_add_line(err, "key file %s: RSA key of %d bits (allowed: %d..%d)", path, bits,
		             KEYS_RSA_MIN_BITS, KEYS_RSA_MAX_BITS);
		return -EINVAL;
	default:
		buf_add_line(err, "key file %s: not an RSA or Ed25519 key", path);
		return -EINVAL;
	}
}

int keys_load(const char *spec, bool allow_group_readable, EVP_PKEY **key, struct buf *err)
{
	*key = NULL;
	char *path = spec_path(spec, err);
	if (!path)
		return -EINVAL;
	struct buf data;
	buf_init(&data);
	int r = read_key_file(path, allow_group_readable, &data, err);
	if (r < 0)
		goto out;
	BIO *bio = BIO_new_mem_buf(data.data ? data.data : "", (int)data.len);
	if (!bio) {
		r = -ENOMEM;
		buf_add_line(err, "key file %s: out of memory", path);
		goto out;
	}
	EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!k) {
		r = -EINVAL;
		buf_add_line(err, "key file %s: not a PEM private key (or encrypted)", path);
		goto out;
	}
	r = check_key(k, path, err);
	if (r < 0)
		EVP_PKEY_free(k);
	else
		*key = k;
out:
	if (data.data)
		OPENSSL_cleanse(data.data, data.cap);
	buf_fini(&data);
	free(path);
	return r;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int place_file(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(tmp, path) < 0)
		return -errno;
	unlink(tmp);
	return 0;
}

static void sync_dir(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static int write_pem(const char *path, EVP_PKEY *k, struct buf *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		buf_add_line(err, "key file %s: cannot encode the key", path);
		return -EIO;
	}
	char *pem = NULL;
	long pem_len = BIO_get_mem_data(bio, &pem);
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int r = 0;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		buf_add_line(err, "key file %s: cannot create a temporary file: %s", path,
		             strerror(-r));
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || (r = write_all(fd, pem, (size_t)pem_len)) < 0 ||
	    fsync(fd) < 0) {
		r = r ? r : -errno;
		buf_add_line(err, "key file %s: cannot write %s: %s", path, tmp, strerror(-r));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0) {
		r = -errno;
		buf_add_line(err, "key file %s: cannot write %s: %s", path, tmp, strerror(-r));
		unlink(tmp);
		goto out;
	}
	r = place_file(tmp, path);
	if (r < 0) {
		buf_add_line(err, "key file %s: %s", path, strerror(-r));
		unlink(tmp);
		goto out;
	}
	sync_dir(path);
out:
	OPENSSL_cleanse(pem, (size_t)pem_len);
	BIO_free(bio);
	free(tmp);
	return r;
}

int keys_generate(const char *path, enum keys_type type, int bits, EVP_PKEY **key, struct buf *err)
{
	if (key)
		*key = NULL;
	EVP_PKEY *k;
	if (type == KEYS_RSA) {
		if (bits < KEYS_RSA_MIN_BITS || bits > KEYS_RSA_MAX_BITS) {
			buf_add_line(err, "key file %s: RSA bits must be %d..%d, not %d", path,
			             KEYS_RSA_MIN_BITS, KEYS_RSA_MAX_BITS, bits);
			return -EINVAL;
		}
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	}
	if (!k) {
		buf_add_line(err, "key file %s: key generation failed", path);
		return -EIO;
	}
	if (access(path, F_OK) == 0) {
		EVP_PKEY_free(k);
		buf_add_line(err, "key file %s exists already", path);
		return -EEXIST;
	}
	int r = write_pem(path, k, err);
	if (r < 0 || !key)
		EVP_PKEY_free(k);
	else
		*key = k;
	return r;
}

void keys_describe(const EVP_PKEY *key, struct buf *out)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		buf_printf(out, "rsa-%d", EVP_PKEY_get_bits(key));
		break;
	case EVP_PKEY_ED25519:
		buf_puts(out, "ed25519");
		break;
	default:
		buf_puts(out, "unsupported");
		break;
	}
}

static void base64_append(struct buf *out, const unsigned char *p, size_t n)
{
	size_t at = out->len;
	buf_reserve(out, 4 * ((n + 2) / 3) + 1);
	int w = EVP_EncodeBlock((unsigned char *)out->data + at, p, (int)n);
	out->len = at + (size_t)w;
	out->data[out->len] = '\0';
}

/* The public key bytes p= carries: SPKI DER (RSA) or raw (Ed25519); caller frees. */
static unsigned char *public_bytes(EVP_PKEY *key, size_t *len)
{
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		size_t n = 0;
		if (EVP_PKEY_get_raw_public_key(key, NULL, &n) != 1)
			return NULL;
		unsigned char *p = xmalloc(n ? n : 1);
		if (EVP_PKEY_get_raw_public_key(key, p, &n) != 1) {
			free(p);
			return NULL;
		}
		*len = n;
		return p;
	}
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	if (n <= 0)
		return NULL;
	unsigned char *p = xmemdup(der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return p;
}

int keys_dns_record(EVP_PKEY *key, struct buf *out)
{
	const char *k;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		k = "rsa";
		break;
	case EVP_PKEY_ED25519:
		k = "ed25519";
		break;
	default:
		return -EINVAL;
	}
	size_t n = 0;
	unsigned char *pub = public_bytes(key, &n);
	if (!pub)
		return -EIO;
	buf_printf(out, "v=DKIM1; k=%s; p=", k);
	base64_append(out, pub, n);
	free(pub);
	return 0;
}

void keys_txt_quote(const char *record, struct buf *out)
{
	size_t used = 0;
	buf_putc(out, '"');
	for (const char *p = record; *p; p++) {
		bool esc = *p == '"' || *p == '\\';
		if (used + 1 + esc > 255) {
			buf_puts(out, "\" \"");
			used = 0;
		}
		if (esc)
			buf_putc(out, '\\');
		buf_putc(out, *p);
		used += 1 + esc;
	}
	buf_putc(out, '"');
}

int keys_txt_parse(const char *txt, EVP_PKEY **pub, int *type)
{
	enum keys_txt_result res = KEYS_TXT_MALFORMED;
	struct tags t = { 0 };
	struct buf raw;
	buf_init(&raw);
	*pub = NULL;
	*type = -1;
	if (tags_parse(&t, txt, NULL) < 0)
		goto out;
	const char *v = tags_get(&t, "v");
	if (v && (strcmp(t.v[0].name, "v") != 0 || strcmp(v, "DKIM1") != 0))
		goto out;
	const char *p = tags_get(&t, "p");
	if (!p)
		goto out;
	res = KEYS_TXT_WRONG_TYPE;
	const char *k = tags_get(&t, "k");
	if (!k || strcmp(k, "rsa") == 0)
		*type = KEYS_RSA;
	else if (strcmp(k, "ed25519") == 0)
		*type = KEYS_ED25519;
	else
		goto out;
	const char *h = tags_get(&t, "h");
	if (h && !tags_list_has(h, ':', "sha256"))
		goto out;
	const char *s = tags_get(&t, "s");
	if (s && !tags_list_has(s, ':', "email") && !tags_list_has(s, ':', "*"))
		goto out;
	res = KEYS_TXT_MALFORMED;
	if (!tags_base64(p, &raw))
		goto out;
	if (raw.len == 0) {
		res = *p ? KEYS_TXT_MALFORMED : KEYS_TXT_REVOKED;
		goto out;
	}
	if (*type == KEYS_ED25519) {
		if (raw.len == 32)
			*pub = EVP_PKEY_new_raw_public_key(
			        EVP_PKEY_ED25519, NULL, (const unsigned char *)raw.data, raw.len);
	} else {
		const unsigned char *der = (const unsigned char *)raw.data;
		*pub = d2i_PUBKEY(NULL, &der, (long)raw.len);
		if (*pub && EVP_PKEY_get_base_id(*pub) != EVP_PKEY_RSA) {
			EVP_PKEY_free(*pub);
			*pub = NULL;
		}
	}
	if (*pub)
		res = KEYS_TXT_MATCH;
out:
	tags_fini(&t);
	buf_fini(&raw);
	return (int)res;
}

enum keys_txt_result keys_txt_check(const char *txt, EVP_PKEY *key)
{
	EVP_PKEY *pub = NULL;
	int type = -1;
	int want = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? KEYS_ED25519 : KEYS_RSA;
	enum keys_txt_result res = (enum keys_txt_result)keys_txt_parse(txt, &pub, &type);
	if (type >= 0 && type != want)
		res = KEYS_TXT_WRONG_TYPE;
	else if (res == KEYS_TXT_MATCH && EVP_PKEY_eq(pub, key) != 1)
		res = KEYS_TXT_MISMATCH;
	EVP_PKEY_free(pub);
	return res;
}

const char *keys_txt_result_name(enum keys_txt_result r)
{
	switch (r) {
	case KEYS_TXT_MATCH:
		return "matches";
	case KEYS_TXT_MISMATCH:
		return "mismatch";
	case KEYS_TXT_REVOKED:
		return "revoked";
	case KEYS_TXT_WRONG_TYPE:
		return "wrong type";
	case KEYS_TXT_MALFORMED:
		return "malformed";
	}
	return "?";
}
