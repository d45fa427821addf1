/* The kernel's extension filter words (loader_file_exts) and the compare
 * bpf/file.bpf.h does with them, replayed here on names. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "loader.h"

/* file_ext_match() of bpf/file.bpf.h on a little-endian machine. */
static int match(const __u64 *words, const __u8 *lens, __u32 n, const char *name)
{
	size_t len = strlen(name);
	__u64 w = 0;
	__u32 i;

	if (n == 0)
		return 1;
	if (len >= 8) {
		memcpy(&w, name + len - 8, 8);
	} else {
		memcpy(&w, name, len);
		w <<= 8 * (8 - len);
	}
	for (i = 0; i < n; i++)
		if (lens[i] < len && (w >> (8 * (8 - lens[i]))) == words[i])
			return 1;
	return 0;
}

Test(file_exts, seed_extensions_match_what_they_should)
{
	__u64 w[JCW_EXT_MAX];
	__u8 l[JCW_EXT_MAX];
	__u32 n;
	char err[128];

	cr_assert_eq(loader_file_exts(".c,.h,.cpp,.hpp,.py,.ipynb", w, l, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 6);
	cr_assert_eq(l[0], 2);
	cr_assert_eq(w[0], (__u64)'.' | (__u64)'c' << 8);
	cr_assert(match(w, l, n, "main.c"));
	cr_assert(match(w, l, n, "a.c"));
	cr_assert(match(w, l, n, "util.h"));
	cr_assert(match(w, l, n, "very_long_name.cpp"));
	cr_assert(match(w, l, n, "x.hpp"));
	cr_assert(match(w, l, n, "script.py"));
	cr_assert(match(w, l, n, "notebook.ipynb"));
	cr_assert(match(w, l, n, "/home/coder/project/hw1/main.c"));
	cr_assert(!match(w, l, n, "main.o"));
	cr_assert(!match(w, l, n, "main.cc"));
	cr_assert(!match(w, l, n, "main.c.swp"));
	cr_assert(!match(w, l, n, "main.pyc"));
	cr_assert(!match(w, l, n, "c"));
	cr_assert(!match(w, l, n, ".c"), "the name must be longer than the suffix");
	cr_assert(!match(w, l, n, "abc"));
}

Test(file_exts, empty_list_is_no_filter)
{
	__u64 w[JCW_EXT_MAX];
	__u8 l[JCW_EXT_MAX];
	__u32 n = 99;
	char err[128];

	cr_assert_eq(loader_file_exts("", w, l, &n, err, sizeof(err)), 0);
	cr_assert_eq(n, 0);
	cr_assert(match(w, l, n, "anything.o"));
}

Test(file_exts, bad_lists_are_refused)
{
	__u64 w[JCW_EXT_MAX];
	__u8 l[JCW_EXT_MAX];
	__u32 n;
	char err[128];

	cr_assert_eq(loader_file_exts(".c,,.h", w, l, &n, err, sizeof(err)), -EINVAL);
	cr_assert_eq(loader_file_exts(".c,", w, l, &n, err, sizeof(err)), -EINVAL);
	cr_assert_eq(loader_file_exts(".toolongext", w, l, &n, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ".toolongext") != NULL, "%s", err);
	cr_assert_eq(loader_file_exts(".a,.b,.c,.d,.e,.f,.g,.h,.i", w, l, &n, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "more than") != NULL, "%s", err);
	cr_assert_eq(loader_file_exts("12345678", w, l, &n, err, sizeof(err)), 0, "8 bytes is the limit");
	cr_assert(match(w, l, n, "x12345678"));
}
