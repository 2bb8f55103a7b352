/* Check boilerplate shared by every unit test: one suite per file, tests added
 * with TCASE(name) lists, CK_RUN_CASE selects one case. */
#ifndef POSTWARDEN_CHECK_COMMON_H
#define POSTWARDEN_CHECK_COMMON_H

#include <check.h>
#include <stdlib.h>

/* CHECK_MAIN(name, tc...) - main() running the test functions listed in one tcase. */
#define CHECK_MAIN(suite_name, ...)                                                                \
	int main(void)                                                                             \
	{                                                                                          \
		Suite *s = suite_create(suite_name);                                               \
		TCase *tc = tcase_create("main");                                                  \
		const TTest *const tests[] = { __VA_ARGS__ };                                      \
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)                      \
			_tcase_add_test(tc, tests[i], 0, 0, 0, 1);                                 \
		tcase_set_timeout(tc, 60);                                                         \
		suite_add_tcase(s, tc);                                                            \
		SRunner *sr = srunner_create(s);                                                   \
		srunner_run_all(sr, CK_ENV);                                                       \
		int failed = srunner_ntests_failed(sr);                                            \
		srunner_free(sr);                                                                  \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                       \
	}

#endif
