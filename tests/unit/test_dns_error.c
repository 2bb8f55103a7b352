/* Unit tests for common/dns's pure helpers: what a failed lookup's code is called and
 * whether it means DNS is down. No resolver is created. */
#include <errno.h>

#include "check_common.h"
#include "dns.h"

START_TEST(error_names)
{
	ck_assert_str_eq(dns_error_str(-ETIMEDOUT), "timeout");
	ck_assert_str_eq(dns_error_str(-EAGAIN), "SERVFAIL");
	ck_assert_str_eq(dns_error_str(-ECONNREFUSED), "REFUSED");
	ck_assert_str_eq(dns_error_str(-EIO), "resolver error");
	ck_assert_str_eq(dns_error_str(-EBADMSG), "undecodable record");
	ck_assert_str_eq(dns_error_str(-EINVAL), "invalid query");
	ck_assert_str_eq(dns_error_str(-ENOMEM), "out of memory");
	ck_assert_str_eq(dns_error_str(-EPERM), "error");
	ck_assert_str_eq(dns_error_str(0), "error");
}
END_TEST

START_TEST(unreachable_from_codes)
{
	ck_assert(dns_error_unreachable(-ETIMEDOUT));
	ck_assert(dns_error_unreachable(-EAGAIN));
	ck_assert(dns_error_unreachable(-ECONNREFUSED));
	ck_assert(dns_error_unreachable(-EIO));
	/* the resolver answered, or the failure is ours */
	ck_assert(!dns_error_unreachable(-EBADMSG));
	ck_assert(!dns_error_unreachable(-EINVAL));
	ck_assert(!dns_error_unreachable(-ENOMEM));
	ck_assert(!dns_error_unreachable(DNS_ANSWER));
	ck_assert(!dns_error_unreachable(DNS_NXDOMAIN));
	ck_assert(!dns_error_unreachable(DNS_NODATA));
	ck_assert(!dns_error_unreachable(DNS_BOGUS));
}
END_TEST

CHECK_MAIN("dns_error", error_names, unreachable_from_codes)
