/* Path normaliser and homework-directory fuzzer (forwarder/process/hwpath.h).
 *
 * Input: a 2-byte cwd length, an output size, the cwd, the path. The output
 * buffer is allocated at exactly that size so ASan sees any overflow.
 *
 * Invariants of a normalised path: absolute, NUL-terminated at the returned
 * length, no empty, "." or ".." component, no trailing '/', a fixed point
 * of normalisation, independent of cwd when the path is absolute; a NUL in
 * the path is refused. A homework path lies under a workspace root,
 * directly in hw0..hw20, with a file below it and no hw<digits> directory
 * between; a /workspace/ root is a student's name, and a homework path in
 * a workspace other than the owner's is foreign. */
#include <errno.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "process/hwpath.h"

static void check_normalised(const char *out, size_t n)
{
	size_t i = 0;

	FUZZ_CHECK(n >= 1 && out[0] == '/' && out[n] == '\0' && strlen(out) == n);
	if (n == 1)
		return;
	FUZZ_CHECK(out[n - 1] != '/');
	while (i < n) {
		size_t start = ++i;

		while (i < n && out[i] != '/')
			i++;
		FUZZ_CHECK(i > start);
		FUZZ_CHECK(!(i - start == 1 && out[start] == '.'));
		FUZZ_CHECK(!(i - start == 2 && out[start] == '.' && out[start + 1] == '.'));
	}
}

static void check_homework(const char *p, size_t n)
{
	static const struct student owner = {"os-1", "202012345", 4, 9};
	char hw[HWPATH_NAME_MAX], hw_any[HWPATH_NAME_MAX];
	size_t root, hwlen;
	const char *rest;
	enum hwpath_where w = hwpath_homework(p, n, &owner, hw);
	enum hwpath_where any = hwpath_homework(p, n, NULL, hw_any);

	FUZZ_CHECK(w == HWPATH_OUTSIDE || w == HWPATH_WORKSPACE || w == HWPATH_HOMEWORK ||
		   w == HWPATH_FOREIGN);
	FUZZ_CHECK(any != HWPATH_FOREIGN);
	/* The owner only turns a homework path into a foreign one. */
	FUZZ_CHECK(w == any || (w == HWPATH_FOREIGN && any == HWPATH_HOMEWORK));
	if (w == HWPATH_FOREIGN)
		FUZZ_CHECK(strncmp(p, "/workspace/", 11) == 0 &&
			   strncmp(p, "/workspace/os-1-202012345/", 26) != 0);
	if (strncmp(p, "/home/coder/project/", 20) != 0 && strncmp(p, "/workspace/", 11) != 0)
		FUZZ_CHECK(w == HWPATH_OUTSIDE);
	if (w != HWPATH_HOMEWORK)
		return;
	FUZZ_CHECK(strcmp(hw, hw_any) == 0);
	hwlen = strlen(hw);
	FUZZ_CHECK(hwlen >= 3 && hwlen <= 4 && memcmp(hw, "hw", 2) == 0);
	FUZZ_CHECK(hw[2] >= '0' && hw[2] <= '9' && (hwlen == 3 || (hw[3] >= '0' && hw[3] <= '9')));
	FUZZ_CHECK(hwlen == 3 || (hw[2] != '0' && atoi(hw + 2) <= HWPATH_HW_LAST));
	if (strncmp(p, "/home/coder/project/", 20) == 0) {
		root = 20;
	} else {
		const char *s = strchr(p + 11, '/');
		struct student st;

		FUZZ_CHECK(s != NULL && s > p + 11);
		FUZZ_CHECK(student_parse_workspace(p + 11, (size_t)(s - p) - 11, &st) == 0);
		FUZZ_CHECK(student_equal(&st, &owner));
		root = (size_t)(s - p) + 1;
	}
	FUZZ_CHECK(n > root + hwlen + 1);
	FUZZ_CHECK(memcmp(p + root, hw, hwlen) == 0 && p[root + hwlen] == '/');
	/* no directory below hwN looks like hw<digits> */
	rest = p + root + hwlen + 1;
	for (const char *s = rest, *e; (e = strchr(s, '/')) != NULL; s = e + 1) {
		size_t l = (size_t)(e - s), k = 2;

		if (l >= 3 && s[0] == 'h' && s[1] == 'w') {
			while (k < l && s[k] >= '0' && s[k] <= '9')
				k++;
			FUZZ_CHECK(k != l);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	size_t cwd_len = (size_t)fuzz_u8(&in) << 8;
	size_t outsz;
	const uint8_t *cwd, *path;
	size_t path_len;
	char *out, *again;
	ssize_t n, m;

	cwd_len |= fuzz_u8(&in);
	outsz = fuzz_u8(&in);
	/* mostly the real size, sometimes tiny buffers to reach ENAMETOOLONG */
	outsz = outsz >= 128 ? HWPATH_MAX : outsz;
	if (cwd_len > in.n)
		cwd_len = in.n;
	cwd = in.p;
	path = in.p + cwd_len;
	path_len = in.n - cwd_len;

	out = malloc(outsz ? outsz : 1);
	FUZZ_CHECK(out != NULL);
	n = hwpath_normalise(cwd_len ? cwd : NULL, cwd_len, path, path_len, out, outsz);
	if (path_len && memchr(path, '\0', path_len))
		FUZZ_CHECK(n == -EINVAL);
	if (path_len == 0)
		FUZZ_CHECK(n == -EINVAL);
	if (n < 0) {
		FUZZ_CHECK(n == -EINVAL || n == -ENAMETOOLONG);
		free(out);
		return 0;
	}
	FUZZ_CHECK((size_t)n < outsz);
	check_normalised(out, (size_t)n);

	again = malloc(HWPATH_MAX);
	FUZZ_CHECK(again != NULL);
	m = hwpath_normalise(NULL, 0, out, (size_t)n, again, HWPATH_MAX);
	FUZZ_CHECK(m == n && memcmp(again, out, (size_t)n + 1) == 0);
	if (path[0] == '/' && outsz == HWPATH_MAX) {
		m = hwpath_normalise(NULL, 0, path, path_len, again, HWPATH_MAX);
		FUZZ_CHECK(m == n && memcmp(again, out, (size_t)n + 1) == 0);
	}
	check_homework(out, (size_t)n);
	free(again);
	free(out);
	return 0;
}
