#include "check_common.h"
START_TEST(x)
{
}
END_TEST
CHECK_MAIN("x", x)
