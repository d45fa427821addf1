/* cell: the notebook marker's argv, exactly, and everything near it refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "process/cell.h"

/* argv from C strings, as the collector captures it (no NULs). */
static size_t mk(ProtobufCBinaryData *a, const char *const *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		a[n].data = (uint8_t *)s[n];
		a[n].len = strlen(s[n]);
	}
	return n;
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

static bool parse(const char *const *s, struct notebook_cell *c)
{
	ProtobufCBinaryData a[16];
	size_t n = mk(a, s);

	return cell_parse(a, n, c);
}

Test(cell, ok_cell)
{
	struct notebook_cell c;

	cr_assert(parse(ARGV("jcw-cell", "/home/coder/project/hw1/a.ipynb", "3", "ok", "1250"), &c));
	cr_assert_eq(c.path_len, strlen("/home/coder/project/hw1/a.ipynb"));
	cr_assert_eq(memcmp(c.path, "/home/coder/project/hw1/a.ipynb", c.path_len), 0);
	cr_assert_eq(c.count, 3);
	cr_assert(c.ok);
	cr_assert_eq(c.duration_ns, 1250000);
	cr_assert_null(c.exc_type);
}

Test(cell, failed_cell_with_exception)
{
	struct notebook_cell c;

	cr_assert(parse(ARGV("jcw-cell", "a.ipynb", "12", "error", "0", "ZeroDivisionError",
			     "division by zero"), &c));
	cr_assert_not(c.ok);
	cr_assert_eq(c.count, 12);
	cr_assert_eq(c.exc_type_len, strlen("ZeroDivisionError"));
	cr_assert_eq(memcmp(c.exc_msg, "division by zero", c.exc_msg_len), 0);
	/* An error without a name (a syntax error before execution, say). */
	cr_assert(parse(ARGV("jcw-cell", "a.ipynb", "1", "error", "5"), &c));
	cr_assert_not(c.ok);
	cr_assert_null(c.exc_type);
	/* An empty message is still a message. */
	cr_assert(parse(ARGV("jcw-cell", "a.ipynb", "1", "error", "5", "KeyboardInterrupt", ""), &c));
	cr_assert_eq(c.exc_msg_len, 0);
	cr_assert_not_null(c.exc_msg);
}

Test(cell, not_a_marker)
{
	struct notebook_cell c;

	cr_assert_not(parse(ARGV("true"), &c));
	cr_assert_not(parse(ARGV("./jcw-cell", "a.ipynb", "1", "ok", "5"), &c));      /* argv[0] exactly */
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1", "ok"), &c));             /* too few */
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1", "ok", "5", "x"), &c));   /* six */
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1", "ok", "5", "E", "m"), &c)); /* ok with an exception */
	cr_assert_not(parse(ARGV("jcw-cell", "", "1", "ok", "5"), &c));               /* no path */
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "0", "ok", "5"), &c));        /* count from 1 */
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "-1", "ok", "5"), &c));
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1x", "ok", "5"), &c));
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "12345678901", "ok", "5"), &c)); /* 11 digits */
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1", "OK", "5"), &c));
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1", "ok", ""), &c));
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1", "ok", "1.5"), &c));
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1", "ok", "1234567890123456"), &c));
	cr_assert_not(parse(ARGV("jcw-cell", "a.ipynb", "1", "error", "5", "", "m"), &c)); /* empty type */
}

Test(cell, embedded_nul_in_path_refused)
{
	ProtobufCBinaryData a[5];
	struct notebook_cell c;

	mk(a, ARGV("jcw-cell", "a.ipynb", "1", "ok", "5"));
	a[1].data = (uint8_t *)"a\0b.ipynb";
	a[1].len = 9;
	cr_assert_not(cell_parse(a, 5, &c));
}
