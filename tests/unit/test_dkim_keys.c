/* Unit tests for milter-dkim/keys: load with mode checks, credentials, generate
 * (0600, no replace), DNS records, zone quoting, published record checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "check_common.h"
#include "keys.h"

static char dir[] = "/tmp/test_dkim_keys.XXXXXX";

static void cleanup(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	atexit(cleanup);
}

static char *path_of(const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_key(const char *path, EVP_PKEY *k, mode_t mode)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(generate_load_roundtrip)
{
	setup();
	struct buf err;
	buf_init(&err);
	mode_t old = umask(0);
	EVP_PKEY *gen = NULL, *loaded = NULL;
	const char *p = path_of("ex.rsa.key");
	ck_assert_int_eq(keys_generate(p, KEYS_RSA, 1024, &gen, &err), 0);
	umask(old);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(keys_load(p, false, &loaded, &err), 0);
	ck_assert_int_eq(EVP_PKEY_eq(gen, loaded), 1);
	struct buf d;
	buf_init(&d);
	keys_describe(loaded, &d);
	ck_assert_str_eq(d.data, "rsa-1024");
	/* never replaces an existing key */
	ck_assert_int_eq(keys_generate(p, KEYS_ED25519, 0, NULL, &err), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err.data, p));
	EVP_PKEY_free(loaded);
	ck_assert_int_eq(keys_load(p, false, &loaded, &err), 0);
	ck_assert_int_eq(EVP_PKEY_eq(gen, loaded), 1);
	EVP_PKEY_free(loaded);
	EVP_PKEY_free(gen);

	p = path_of("ex.ed.key");
	ck_assert_int_eq(keys_generate(p, KEYS_ED25519, 0, &gen, &err), 0);
	ck_assert_int_eq(keys_load(p, false, &loaded, &err), 0);
	ck_assert_int_eq(EVP_PKEY_eq(gen, loaded), 1);
	buf_reset(&d);
	keys_describe(loaded, &d);
	ck_assert_str_eq(d.data, "ed25519");
	EVP_PKEY_free(loaded);
	EVP_PKEY_free(gen);

	buf_reset(&err);
	ck_assert_int_eq(keys_generate(path_of("bad"), KEYS_RSA, 512, NULL, &err), -EINVAL);
	ck_assert_int_eq(keys_generate(path_of("bad"), KEYS_RSA, 8192, NULL, &err), -EINVAL);
	ck_assert_int_eq(access(path_of("bad"), F_OK), -1);
	ck_assert_int_eq(keys_generate("/nonexistent-dir/k.key", KEYS_ED25519, 0, NULL, &err),
	                 -ENOENT);
	buf_fini(&d);
	buf_fini(&err);
}
END_TEST

START_TEST(load_refuses_loose_modes)
{
	setup();
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *out = NULL;
	struct buf err;
	buf_init(&err);
	const char *p = path_of("loose.key");
	write_key(p, k, 0644);
	ck_assert_int_eq(keys_load(p, true, &out, &err), -EPERM);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err.data, p));
	ck_assert_ptr_nonnull(strstr(err.data, "others"));
	ck_assert_int_eq(chmod(p, 0604), 0);
	ck_assert_int_eq(keys_load(p, true, &out, &err), -EPERM);
	ck_assert_int_eq(chmod(p, 0640), 0);
	buf_reset(&err);
	ck_assert_int_eq(keys_load(p, false, &out, &err), -EPERM);
	ck_assert_ptr_nonnull(strstr(err.data, "group"));
	ck_assert_ptr_nonnull(strstr(err.data, p));
	ck_assert_int_eq(keys_load(p, true, &out, &err), 0);
	ck_assert_ptr_nonnull(out);
	EVP_PKEY_free(out);
	ck_assert_int_eq(chmod(p, 0660), 0);
	ck_assert_int_eq(keys_load(p, true, &out, &err), -EPERM);
	ck_assert_int_eq(chmod(p, 0400), 0);
	ck_assert_int_eq(keys_load(p, false, &out, &err), 0);
	EVP_PKEY_free(out);
	/* not a regular file */
	ck_assert_int_eq(keys_load(dir, false, &out, &err), -EINVAL);
	ck_assert_int_eq(keys_load(path_of("missing"), false, &out, &err), -ENOENT);
	EVP_PKEY_free(k);
	buf_fini(&err);
}
END_TEST

START_TEST(load_refuses_bad_keys)
{
	setup();
	EVP_PKEY *out = NULL;
	struct buf err;
	buf_init(&err);
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)768);
	ck_assert_ptr_nonnull(small);
	write_key(path_of("small.key"), small, 0600);
	ck_assert_int_eq(keys_load(path_of("small.key"), false, &out, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.data, "768"));
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	write_key(path_of("ec.key"), ec, 0600);
	ck_assert_int_eq(keys_load(path_of("ec.key"), false, &out, &err), -EINVAL);
	int fd = open(path_of("junk.key"), O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not a key\n", 10), 10);
	close(fd);
	ck_assert_int_eq(keys_load(path_of("junk.key"), false, &out, &err), -EINVAL);
	/* encrypted PEM: refused without prompting */
	FILE *f = fopen(path_of("enc.key"), "w");
	ck_assert_int_eq(PEM_write_PrivateKey(f, small, EVP_aes_128_cbc(),
	                                      (unsigned char *)"secret", 6, NULL, NULL),
	                 1);
	fclose(f);
	chmod(path_of("enc.key"), 0600);
	ck_assert_int_eq(keys_load(path_of("enc.key"), false, &out, &err), -EINVAL);
	ck_assert_ptr_null(out);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
	buf_fini(&err);
}
END_TEST

START_TEST(load_from_credentials)
{
	setup();
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	write_key(path_of("dkim-ex"), k, 0400);
	EVP_PKEY *out = NULL;
	struct buf err;
	buf_init(&err);
	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_int_eq(keys_load("credential:dkim-ex", false, &out, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.data, "CREDENTIALS_DIRECTORY"));
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	ck_assert_int_eq(keys_load("credential:dkim-ex", false, &out, &err), 0);
	ck_assert_int_eq(EVP_PKEY_eq(k, out), 1);
	EVP_PKEY_free(out);
	ck_assert_int_eq(keys_load("credential:../x", false, &out, &err), -EINVAL);
	ck_assert_int_eq(keys_load("credential:", false, &out, &err), -EINVAL);
	ck_assert_int_eq(keys_load("credential:nothere", false, &out, &err), -ENOENT);
	EVP_PKEY_free(k);
	buf_fini(&err);
}
END_TEST

START_TEST(dns_record_and_check)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct buf r, e;
	buf_init(&r);
	buf_init(&e);
	ck_assert_int_eq(keys_dns_record(rsa, &r), 0);
	ck_assert_int_eq(strncmp(r.data, "v=DKIM1; k=rsa; p=MIIBIjANBg", 27), 0);
	ck_assert_int_eq(keys_dns_record(ed, &e), 0);
	ck_assert_int_eq(strncmp(e.data, "v=DKIM1; k=ed25519; p=", 22), 0);
	ck_assert_uint_eq(e.len, 22 + 44);

	ck_assert_int_eq(keys_txt_check(r.data, rsa), KEYS_TXT_MATCH);
	ck_assert_int_eq(keys_txt_check(r.data, rsa2), KEYS_TXT_MISMATCH);
	ck_assert_int_eq(keys_txt_check(r.data, ed), KEYS_TXT_WRONG_TYPE);
	ck_assert_int_eq(keys_txt_check(e.data, ed), KEYS_TXT_MATCH);
	ck_assert_int_eq(keys_txt_check(e.data, rsa), KEYS_TXT_WRONG_TYPE);

	/* whitespace anywhere in p=, no v=, k= defaulting to rsa, h=, s=, trailing ';' */
	struct buf loose;
	buf_init(&loose);
	buf_puts(&loose, " h = sha1:sha256 ;s=email; p = ");
	const char *p = strstr(r.data, "p=") + 2;
	for (size_t i = 0; p[i]; i++) {
		buf_putc(&loose, p[i]);
		if (i % 50 == 49)
			buf_puts(&loose, " \t");
	}
	buf_puts(&loose, " ; ");
	ck_assert_int_eq(keys_txt_check(loose.data, rsa), KEYS_TXT_MATCH);
	ck_assert_int_eq(keys_txt_check("v=DKIM1; k=rsa; p=", rsa), KEYS_TXT_REVOKED);
	ck_assert_int_eq(keys_txt_check("v=DKIM1; k=ed25519; p= ;", ed), KEYS_TXT_REVOKED);
	ck_assert_int_eq(keys_txt_check("v=DKIM1; k=rsa; h=sha1; p=AAAA", rsa),
	                 KEYS_TXT_WRONG_TYPE);
	ck_assert_int_eq(keys_txt_check("s=web; p=AAAA", rsa), KEYS_TXT_WRONG_TYPE);
	ck_assert_int_eq(keys_txt_check("k=rsa; v=DKIM1; p=AAAA", rsa), KEYS_TXT_MALFORMED);
	ck_assert_int_eq(keys_txt_check("v=DKIM2; p=AAAA", rsa), KEYS_TXT_MALFORMED);
	ck_assert_int_eq(keys_txt_check("v=spf1 -all", rsa), KEYS_TXT_MALFORMED);
	ck_assert_int_eq(keys_txt_check("v=DKIM1; k=rsa", rsa), KEYS_TXT_MALFORMED);
	ck_assert_int_eq(keys_txt_check("v=DKIM1; p=!!!!", rsa), KEYS_TXT_MALFORMED);
	ck_assert_int_eq(keys_txt_check("v=DKIM1; p=AAAA", rsa), KEYS_TXT_MALFORMED);
	ck_assert_int_eq(keys_txt_check("", rsa), KEYS_TXT_MALFORMED);
	ck_assert_int_eq(
	        keys_txt_check("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	                       ed),
	        KEYS_TXT_MISMATCH);
	ck_assert_str_eq(keys_txt_result_name(KEYS_TXT_REVOKED), "revoked");

	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ed);
	buf_fini(&r);
	buf_fini(&e);
	buf_fini(&loose);
}
END_TEST

START_TEST(txt_quote_splits_at_255)
{
	struct buf in, out;
	buf_init(&in);
	buf_init(&out);
	keys_txt_quote("v=DKIM1; p=x", &out);
	ck_assert_str_eq(out.data, "\"v=DKIM1; p=x\"");
	for (int i = 0; i < 600; i++)
		buf_putc(&in, (char)('a' + i % 26));
	buf_reset(&out);
	keys_txt_quote(in.data, &out);
	/* 255 + 255 + 90, each quoted, joined by one space */
	ck_assert_uint_eq(out.len, 600 + 6 + 2);
	ck_assert_int_eq(out.data[256], '"');
	ck_assert_int_eq(out.data[257], ' ');
	ck_assert_int_eq(out.data[258], '"');
	buf_reset(&out);
	keys_txt_quote("a\"b\\c", &out);
	ck_assert_str_eq(out.data, "\"a\\\"b\\\\c\"");
	buf_fini(&in);
	buf_fini(&out);
}
END_TEST

CHECK_MAIN("dkim_keys", generate_load_roundtrip, load_refuses_loose_modes, load_refuses_bad_keys,
           load_from_credentials, dns_record_and_check, txt_quote_splits_at_255)
