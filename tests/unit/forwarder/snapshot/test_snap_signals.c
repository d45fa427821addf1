/* What a saved version says beside its content: hashes with and without
 * comments and whitespace, and the lines it added and removed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap_signals.h"

static const char *norm(enum snap_lang lang, const char *src)
{
	static uint8_t out[4096];
	size_t n = snap_normalize(lang, (const uint8_t *)src, strlen(src), out);

	out[n] = '\0';
	return (const char *)out;
}

Test(snap_signals, c_comments_and_whitespace_out_literals_kept)
{
	cr_assert_str_eq(norm(SNAP_LANG_C, "int main(void) // entry\n{\n\t/* none */ return 0;\n}\n"),
			 "intmain(void){return0;}");
	cr_assert_str_eq(norm(SNAP_LANG_C, "puts(\"// not a comment /* nor this */\");"),
			 "puts(\"// not a comment /* nor this */\");");
	cr_assert_str_eq(norm(SNAP_LANG_C, "char c = '\\'', d = '\"'; // x"), "charc='\\'',d='\"';");
	cr_assert_str_eq(norm(SNAP_LANG_C, "a /* unclosed"), "a");
}

Test(snap_signals, python_comments_out_strings_kept)
{
	cr_assert_str_eq(norm(SNAP_LANG_PYTHON, "def f(x):  # twice\n    return 2 * x\n"),
			 "deff(x):return2*x");
	cr_assert_str_eq(norm(SNAP_LANG_PYTHON, "s = '# kept'  # gone\n"), "s='# kept'");
	cr_assert_str_eq(norm(SNAP_LANG_PYTHON, "\"\"\"doc # kept\n  here\"\"\"\nx = 1\n"),
			 "\"\"\"doc # kept\n  here\"\"\"x=1");
}

/* The same program with other comments and indentation: the same
 * normalized hash, another plain one; other code: another normalized. */
Test(snap_signals, same_code_retyped)
{
	const char *a = "#include <stdio.h>\nint main(void)\n{\n\tprintf(\"hi\\n\");\n\treturn 0;\n}\n";
	const char *b = "#include <stdio.h>\n/* my solution */\nint main(void) {\n    printf(\"hi\\n\");   // print\n    return 0;\n}\n";
	const char *c = "#include <stdio.h>\nint main(void)\n{\n\tprintf(\"bye\\n\");\n\treturn 0;\n}\n";
	struct snap_signals sa, sb, sc;

	cr_assert_eq(snap_signals_of((const uint8_t *)a, strlen(a), NULL, 0, ".c", &sa), 0);
	cr_assert_eq(snap_signals_of((const uint8_t *)b, strlen(b), NULL, 0, ".c", &sb), 0);
	cr_assert_eq(snap_signals_of((const uint8_t *)c, strlen(c), NULL, 0, ".c", &sc), 0);
	cr_assert_str_neq(sa.sha256, sb.sha256);
	cr_assert_str_eq(sa.sha256_normalized, sb.sha256_normalized);
	cr_assert_str_neq(sa.sha256_normalized, sc.sha256_normalized);
	cr_assert_eq(strlen(sa.sha256), 64);
	/* "" has the well-known hash; a language without rules has none. */
	cr_assert_eq(snap_signals_of((const uint8_t *)"", 0, NULL, 0, ".ipynb", &sa), 0);
	cr_assert_str_eq(sa.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cr_assert_str_eq(sa.sha256_normalized, "");
	cr_assert_eq(snap_lang_of(".java"), SNAP_LANG_C);
	cr_assert_eq(snap_lang_of(".py"), SNAP_LANG_PYTHON);
}

static void diff(const char *prev, const char *now, uint32_t add, uint32_t rem)
{
	uint32_t a, r;
	bool exact;

	snap_line_diff((const uint8_t *)prev, prev ? strlen(prev) : 0, (const uint8_t *)now,
		       strlen(now), &a, &r, &exact);
	cr_assert(a == add && r == rem && exact, "%s -> %s: +%u -%u (want +%u -%u)", prev, now, a, r,
		  add, rem);
}

Test(snap_signals, line_counts)
{
	diff(NULL, "a\nb\nc\n", 3, 0);                    /* the first version: all added */
	diff("a\nb\nc\n", "a\nb\nc\n", 0, 0);
	diff("a\nb\nc\n", "a\nb\nc\nd\ne\n", 2, 0);       /* appended */
	diff("a\nb\nc\n", "a\nB\nc\n", 1, 1);             /* one line changed */
	diff("a\nb\nc\n", "c\na\nb\n", 1, 1);             /* a line moved: out, in */
	diff("a\nb\nc\n", "", 0, 3);                      /* emptied */
	diff("a\nb", "a\nb\n", 0, 0);                     /* a final newline added is no line */
	diff("a", "a\nb", 1, 0);                          /* a last line without newline counts */
	diff("x\n", "p\nq\nx\nr\n", 3, 0);                /* around what stays */
}

/* A 300-line block pasted into an existing file. */
Test(snap_signals, paste_of_a_block)
{
	char *prev = malloc(64 * 20), *now = malloc(64 * 400), *p;
	uint32_t a, r;
	bool exact;
	int i;

	p = prev;
	for (i = 0; i < 20; i++)
		p += sprintf(p, "line %d\n", i);
	p = now;
	for (i = 0; i < 10; i++)
		p += sprintf(p, "line %d\n", i);
	for (i = 0; i < 300; i++)
		p += sprintf(p, "pasted %d;\n", i);
	for (i = 10; i < 20; i++)
		p += sprintf(p, "line %d\n", i);
	snap_line_diff((uint8_t *)prev, strlen(prev), (uint8_t *)now, strlen(now), &a, &r, &exact);
	cr_assert(a == 300 && r == 0 && exact, "+%u -%u", a, r);
	free(prev);
	free(now);
}

/* A rewrite past SNAP_DIFF_MAX_EDITS: counted by content, in bounded time. */
Test(snap_signals, big_rewrite_counted_by_content)
{
	size_t n = 6000, i;
	char *prev = malloc(n * 16), *now = malloc(n * 16), *p = prev, *q = now;
	uint32_t a, r;
	bool exact;

	for (i = 0; i < n; i++) {
		p += sprintf(p, "old %zu\n", i);
		q += sprintf(q, "%s %zu\n", i % 2 ? "new" : "old", n - 1 - i);
	}
	snap_line_diff((uint8_t *)prev, strlen(prev), (uint8_t *)now, strlen(now), &a, &r, &exact);
	cr_assert_not(exact);
	cr_assert_eq(a, n / 2, "+%u", a);   /* the "new" lines */
	cr_assert_eq(r, n / 2, "-%u", r);
	free(prev);
	free(now);
}
