/* The dataset's CSV: what is written reads back the same. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"

Test(csv, round_trip)
{
	static const char *const f[] = {"plain", "", "a,b", "say \"hi\"", "two\nlines", "cr\r\nlf", "ü"};
	char *buf = NULL;
	size_t len = 0, i;
	struct csv_out o;
	struct csv_in in;
	const char *why;
	FILE *m = open_memstream(&buf, &len);

	csv_out_init(&o, m);
	for (i = 0; i < 7; i++)
		csv_cfield(&o, f[i]);
	csv_end(&o);
	csv_cfield(&o, "second");
	csv_end(&o);
	fclose(m);
	cr_assert(strstr(buf, "\"say \"\"hi\"\"\""));
	m = fmemopen(buf, len, "r");
	csv_in_init(&in, m);
	cr_assert_eq(csv_next(&in, &why), 1);
	cr_assert_eq(in.nfields, 7);
	for (i = 0; i < 7; i++)
		cr_assert_str_eq(csv_get(&in, i), f[i]);
	cr_assert_eq(in.line, 1);
	cr_assert_eq(csv_next(&in, &why), 1);
	cr_assert_eq(in.line, 4, "the second record begins on line 4: %lu", in.line);
	cr_assert_str_eq(csv_get(&in, 0), "second");
	cr_assert_eq(csv_next(&in, &why), 0);
	csv_in_free(&in);
	fclose(m);
	free(buf);
}

Test(csv, malformed)
{
	static const char unclosed[] = "a,\"open\n", after[] = "a,\"q\"x\n";
	struct csv_in in;
	const char *why = NULL;
	FILE *m = fmemopen((void *)unclosed, strlen(unclosed), "r");

	csv_in_init(&in, m);
	cr_assert_eq(csv_next(&in, &why), -1);
	cr_assert_str_eq(why, "a quoted field is never closed");
	csv_in_free(&in);
	fclose(m);
	m = fmemopen((void *)after, strlen(after), "r");
	csv_in_init(&in, m);
	cr_assert_eq(csv_next(&in, &why), -1);
	cr_assert_str_eq(why, "text after a closing quote");
	csv_in_free(&in);
	fclose(m);
}
