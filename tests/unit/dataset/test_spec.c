/* ProgSnap2 v1.0's datatypes and event types (dataset/spec.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "spec.h"

Test(spec, timestamps_need_an_offset)
{
	cr_assert(ps2_timestamp_with_offset("2026-11-21T22:40:00.123456+00:00"));
	cr_assert(ps2_timestamp_with_offset("2026-11-21T22:40:00Z"));
	cr_assert(ps2_timestamp_with_offset("2026-11-21T22:40:00+0900"));
	cr_assert(!ps2_timestamp_with_offset("2026-11-21T22:40:00"));
	cr_assert(!ps2_timestamp_with_offset("2026-11-21 22:40:00+00:00"));
	cr_assert(!ps2_timestamp_with_offset("2026-11-21T22:40:00.+00:00"));
	cr_assert(ps2_value_ok(PS2_TIMESTAMP, ""));
}

Test(spec, values)
{
	cr_assert(ps2_value_ok(PS2_INTEGER, "12"));
	cr_assert(!ps2_value_ok(PS2_INTEGER, "1.5"));
	cr_assert(ps2_value_ok(PS2_REAL, "1.5"));
	cr_assert(ps2_value_ok(PS2_BOOLEAN, "true"));
	cr_assert(!ps2_value_ok(PS2_BOOLEAN, "yes"));
}

Test(spec, tables)
{
	const struct ps2_event_type *e = ps2_event_type("Compile.Error");
	size_t n = 0;

	cr_assert_not_null(e);
	while (e->required[n])
		n++;
	cr_assert_eq(n, 5);
	cr_assert_eq(ps2_column("EventID")->req, PS2_REQUIRED);
	cr_assert_eq(ps2_column("ServerTimestamp")->type, PS2_TIMESTAMP);
	cr_assert_null(ps2_column("X-Cell"));
	cr_assert_null(ps2_event_type("Compile.Oops"));
	cr_assert_not_null(ps2_event_type("Submit"));
	cr_assert_null(ps2_event_type("Submit")->required[0]);
}
