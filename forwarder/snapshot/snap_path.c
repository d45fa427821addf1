#include "snap_path.h"

#include <errno.h>
#include <string.h>

ssize_t snap_path_encode(const char *below_hw, size_t len, char *out, size_t outsz)
{
	size_t i;

	if (len + 1 > outsz)
		return -ENAMETOOLONG;
	for (i = 0; i < len; i++)
		out[i] = below_hw[i] == '/' ? '@' : below_hw[i];
	out[len] = '\0';
	return (ssize_t)len;
}

/* Extension of the last component: from its last '.', unless that is the
 * first character (".bashrc" has none). */
static const char *snap_path_ext(const char *s, size_t len)
{
	size_t i = len;

	while (i > 0 && s[i - 1] != '/') {
		if (s[i - 1] == '.' && i - 1 > 0 && s[i - 2] != '/')
			return s + i - 1;
		i--;
	}
	return s + len;
}

enum snap_path_result snap_path_map(const char *container_root, const void *host,
				    size_t host_len, const void *path, size_t path_len,
				    struct snap_path *out)
{
	/* hwpath_homework knows the homework layout below the fixed root
	 * /home/coder/project/; the part below a configured root is checked
	 * by re-rooting it there, so both agree on what a homework file is. */
	static const char fixed_root[] = "/home/coder/project/";
	char norm[HWPATH_MAX], probe[sizeof(fixed_root) + HWPATH_MAX];
	size_t root_len, below_root_len, prefix;
	const char *below_root;
	ssize_t n;

	switch (student_parse(host, host_len, &out->st)) {
	case STUDENT_OK:
		break;
	case STUDENT_MALFORMED:
		return SNAP_PATH_MALFORMED_HOST;
	default:
		return SNAP_PATH_NOT_STUDENT;
	}
	n = hwpath_normalise(NULL, 0, path, path_len, norm, sizeof(norm));
	if (n < 0)
		return SNAP_PATH_INVALID;

	root_len = strlen(container_root);
	while (root_len > 0 && container_root[root_len - 1] == '/')
		root_len--;
	if ((size_t)n <= root_len + 1 || memcmp(norm, container_root, root_len) != 0 ||
	    norm[root_len] != '/')
		return SNAP_PATH_OUTSIDE_ROOT;
	below_root = norm + root_len + 1;
	below_root_len = (size_t)n - root_len - 1;

	memcpy(probe, fixed_root, sizeof(fixed_root) - 1);
	memcpy(probe + sizeof(fixed_root) - 1, below_root, below_root_len);
	if (hwpath_homework(probe, sizeof(fixed_root) - 1 + below_root_len, NULL, out->hw) !=
	    HWPATH_HOMEWORK)
		return SNAP_PATH_OUTSIDE_HW;

	/* "{class_div}-{id}/" + "hwN/..." */
	prefix = out->st.class_div_len + 1 + out->st.id_len + 1;
	if (prefix + below_root_len + 1 > sizeof(out->rel))
		return SNAP_PATH_INVALID;
	memcpy(out->rel, out->st.class_div, out->st.class_div_len);
	out->rel[out->st.class_div_len] = '-';
	memcpy(out->rel + out->st.class_div_len + 1, out->st.id, out->st.id_len);
	out->rel[prefix - 1] = '/';
	memcpy(out->rel + prefix, below_root, below_root_len);
	out->rel_len = prefix + below_root_len;
	out->rel[out->rel_len] = '\0';

	out->below_hw = out->rel + prefix + strlen(out->hw) + 1;
	out->below_len = out->rel_len - (size_t)(out->below_hw - out->rel);
	if (snap_path_encode(out->below_hw, out->below_len, out->filename,
			     sizeof(out->filename)) < 0)
		return SNAP_PATH_INVALID;
	out->ext = snap_path_ext(out->below_hw, out->below_len);
	return SNAP_PATH_OK;
}

const char *snap_path_result_name(enum snap_path_result r)
{
	switch (r) {
	case SNAP_PATH_OK:           return "ok";
	case SNAP_PATH_NOT_STUDENT:  return "not_student_host";
	case SNAP_PATH_MALFORMED_HOST: return "malformed_hostname";
	case SNAP_PATH_INVALID:      return "invalid_path";
	case SNAP_PATH_OUTSIDE_ROOT: return "outside_workspace";
	case SNAP_PATH_OUTSIDE_HW:   return "outside_hw";
	case SNAP_PATH_RESULT_COUNT: break;
	}
	return "unknown";
}
