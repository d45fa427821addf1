#include "hwpath.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Appends one component to out[0..*n), resolving "." and "..". */
static int hwpath_push(char *out, size_t outsz, size_t *n, const char *c, size_t clen)
{
	if (clen == 0 || (clen == 1 && c[0] == '.'))
		return 0;
	if (clen == 2 && c[0] == '.' && c[1] == '.') {
		while (*n > 0 && out[*n - 1] != '/')
			(*n)--;
		if (*n > 0)
			(*n)--;   /* the '/' before the removed component */
		return 0;
	}
	if (*n + 1 + clen + 1 > outsz)
		return -ENAMETOOLONG;
	out[(*n)++] = '/';
	memcpy(out + *n, c, clen);
	*n += clen;
	return 0;
}

static int hwpath_push_all(char *out, size_t outsz, size_t *n, const char *p, size_t len)
{
	size_t i = 0, start;
	int err;

	while (i < len) {
		while (i < len && p[i] == '/')
			i++;
		start = i;
		while (i < len && p[i] != '/')
			i++;
		err = hwpath_push(out, outsz, n, p + start, i - start);
		if (err)
			return err;
	}
	return 0;
}

ssize_t hwpath_normalise(const void *cwd, size_t cwd_len, const void *path,
			 size_t len, char *out, size_t outsz)
{
	const char *p = path, *c = cwd;
	size_t n = 0;
	int err;

	if (len == 0 || outsz < 2 || memchr(p, '\0', len))
		return -EINVAL;
	if (p[0] != '/') {
		if (!c || cwd_len == 0 || c[0] != '/' || memchr(c, '\0', cwd_len))
			return -EINVAL;
		err = hwpath_push_all(out, outsz, &n, c, cwd_len);
		if (err)
			return err;
	}
	err = hwpath_push_all(out, outsz, &n, p, len);
	if (err)
		return err;
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return (ssize_t)n;
}

/* "hw" followed by digits: the shape of a homework directory name. */
static bool hwpath_is_hw_like(const char *c, size_t len)
{
	size_t i;

	if (len < 3 || c[0] != 'h' || c[1] != 'w')
		return false;
	for (i = 2; i < len; i++)
		if (c[i] < '0' || c[i] > '9')
			return false;
	return true;
}

/* hw0 .. hw20, no leading zeros. */
static bool hwpath_is_hw(const char *c, size_t len)
{
	unsigned v;

	if (!hwpath_is_hw_like(c, len) || len > 4 || (len == 4 && c[2] == '0'))
		return false;
	v = (unsigned)(c[2] - '0');
	if (len == 4)
		v = v * 10 + (unsigned)(c[3] - '0');
	return v <= HWPATH_HW_LAST;
}

/* Length of the workspace root prefix of path (ending with '/'), or 0;
 * *foreign when it is another student's workspace. */
static size_t hwpath_root_len(const char *path, size_t len, const struct student *owner,
			      bool *foreign)
{
	static const char project[] = "/home/coder/project/";
	static const char workspace[] = "/workspace/";
	const size_t plen = sizeof(project) - 1, wlen = sizeof(workspace) - 1;
	struct student st;
	const char *slash;

	*foreign = false;
	if (len > plen && memcmp(path, project, plen) == 0)
		return plen;
	if (len > wlen && memcmp(path, workspace, wlen) == 0) {
		slash = memchr(path + wlen, '/', len - wlen);
		if (!slash || student_parse_workspace(path + wlen, (size_t)(slash - path) - wlen, &st))
			return 0;
		*foreign = owner && !student_equal(owner, &st);
		return (size_t)(slash - path) + 1;
	}
	return 0;
}

enum hwpath_where hwpath_homework(const char *path, size_t len, const struct student *owner,
				  char *hw_name)
{
	size_t root, i, start, hwlen;
	const char *hw, *slash;
	bool foreign;

	root = hwpath_root_len(path, len, owner, &foreign);
	if (!root)
		return HWPATH_OUTSIDE;
	hw = path + root;
	slash = memchr(hw, '/', len - root);
	if (!slash || slash + 1 == path + len)
		return HWPATH_WORKSPACE;   /* the root or hwN itself, not a file in it */
	hwlen = (size_t)(slash - hw);
	if (!hwpath_is_hw(hw, hwlen))
		return HWPATH_WORKSPACE;
	/* Directories between hwN and the file name: none may look like hwM. */
	i = (size_t)(slash - path) + 1;
	for (;;) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i >= len)
			break;   /* the last component is the file itself */
		if (hwpath_is_hw_like(path + start, i - start))
			return HWPATH_WORKSPACE;
		i++;
	}
	if (foreign)
		return HWPATH_FOREIGN;
	memcpy(hw_name, hw, hwlen);
	hw_name[hwlen] = '\0';
	return HWPATH_HOMEWORK;
}
