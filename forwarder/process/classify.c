#include "classify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rulesfile.h"

#define CLASSIFY_PATTERN_MAX 128
#define CLASSIFY_EXT_MAX 16
#define CLASSIFY_MAX_EXTS 32

/* Both gcc and g++ (clang and clang++) compile either language, so C and C++
 * compilers look for the same sources. .i/.ii/.s are generated, not sources. */
static const char *const classify_c_exts[] = {
	".c", ".h", ".cc", ".cp", ".cpp", ".cxx", ".c++", ".C", ".CPP",
	".hh", ".hpp", ".hxx", ".h++", ".H",
};
#define C_EXTS_N (sizeof(classify_c_exts) / sizeof(classify_c_exts[0]))
#define C_EXTS classify_c_exts, C_EXTS_N

/* Order matters only where patterns overlap; the driver's own helpers (cc1,
 * collect2, as, ld, ...) match none of the compiler patterns and are listed
 * so that a broader rule added later cannot catch them. */
static const struct classify_rule classify_builtin[] = {
	{PROC_NONE, "cc1", NULL, 0},
	{PROC_NONE, "cc1plus", NULL, 0},
	{PROC_NONE, "cc1obj", NULL, 0},
	{PROC_NONE, "collect2", NULL, 0},
	{PROC_NONE, "lto1", NULL, 0},
	{PROC_NONE, "lto-wrapper", NULL, 0},
	{PROC_NONE, "as", NULL, 0},
	{PROC_NONE, "*-as", NULL, 0},
	{PROC_NONE, "ld", NULL, 0},
	{PROC_NONE, "ld.*", NULL, 0},
	{PROC_NONE, "*-ld", NULL, 0},
	{PROC_NONE, "*-ld.*", NULL, 0},

	{PROC_C_COMPILER, "gcc", C_EXTS},
	{PROC_C_COMPILER, "gcc-#", C_EXTS},
	{PROC_C_COMPILER, "*-gcc", C_EXTS},
	{PROC_C_COMPILER, "*-gcc-#", C_EXTS},
	{PROC_C_COMPILER, "cc", C_EXTS},
	{PROC_C_COMPILER, "*-cc", C_EXTS},
	{PROC_C_COMPILER, "clang", C_EXTS},
	{PROC_C_COMPILER, "clang-#", C_EXTS},
	{PROC_C_COMPILER, "*-clang", C_EXTS},
	{PROC_C_COMPILER, "*-clang-#", C_EXTS},

	{PROC_CXX_COMPILER, "g++", C_EXTS},
	{PROC_CXX_COMPILER, "g++-#", C_EXTS},
	{PROC_CXX_COMPILER, "*-g++", C_EXTS},
	{PROC_CXX_COMPILER, "*-g++-#", C_EXTS},
	{PROC_CXX_COMPILER, "c++", C_EXTS},
	{PROC_CXX_COMPILER, "*-c++", C_EXTS},
	{PROC_CXX_COMPILER, "clang++", C_EXTS},
	{PROC_CXX_COMPILER, "clang++-#", C_EXTS},
	{PROC_CXX_COMPILER, "*-clang++", C_EXTS},
	{PROC_CXX_COMPILER, "*-clang++-#", C_EXTS},

	{PROC_PYTHON, "python", NULL, 0},
	{PROC_PYTHON, "python#", NULL, 0},
};
#define CLASSIFY_N_BUILTIN (sizeof(classify_builtin) / sizeof(classify_builtin[0]))

struct classify_rules {
	struct classify_rule *rules;   /* from the file; strings owned */
	size_t n, cap;
};

/* Length of the class "[...]" starting at p, or 0 if it is unterminated. */
static size_t classify_class_len(const char *p)
{
	size_t i = 1;

	if (p[i] == '!')
		i++;
	if (p[i] == ']')
		i++;   /* a leading ']' is a member */
	while (p[i] && p[i] != ']')
		i++;
	return p[i] == ']' ? i + 1 : 0;
}

static bool classify_class_match(const char *p, size_t plen, unsigned char c)
{
	size_t i = 1, end = plen - 1;
	bool neg = false, hit = false;

	if (p[i] == '!') {
		neg = true;
		i++;
	}
	for (; i < end; i++) {
		unsigned char lo = (unsigned char)p[i], hi = lo;

		if (i + 2 < end && p[i + 1] == '-') {
			hi = (unsigned char)p[i + 2];
			i += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	return hit != neg;
}

/* Length of the version number at s: digits, then any ".digits" parts. */
static size_t classify_version_len(const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0)
		return 0;
	while (i + 1 < n && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
		j = i + 1;
		while (j < n && s[j] >= '0' && s[j] <= '9')
			j++;
		i = j;
	}
	return i;
}

/* Iterative glob: on a mismatch only the last '*' is retried one byte
 * further, which keeps the cost at O(pattern * name) for any input. */
bool classify_glob(const char *pattern, const char *name, size_t len)
{
	const char *p = pattern, *star_p = NULL;
	size_t i = 0, star_i = 0, k;

	while (i < len || *p) {
		if (*p == '*') {
			star_p = ++p;
			star_i = i;
			continue;
		}
		if (*p && i < len) {
			switch (*p) {
			case '?':
				p++;
				i++;
				continue;
			case '[':
				k = classify_class_len(p);
				if (k && classify_class_match(p, k, (unsigned char)name[i])) {
					p += k;
					i++;
					continue;
				}
				if (k)
					break;
				/* an unterminated '[' is a literal */
				if (name[i] == '[') {
					p++;
					i++;
					continue;
				}
				break;
			case '#':
				k = classify_version_len(name + i, len - i);
				if (k) {
					p++;
					i += k;
					continue;
				}
				break;
			case '\\':
				if (p[1] && name[i] == p[1]) {
					p += 2;
					i++;
					continue;
				}
				break;
			default:
				if (name[i] == *p) {
					p++;
					i++;
					continue;
				}
				break;
			}
		}
		if (star_p && star_i < len) {
			p = star_p;
			i = ++star_i;
			continue;
		}
		return false;
	}
	return true;
}

const struct classify_rule *classify_match(const struct classify_rules *r,
					   const char *name, size_t len)
{
	size_t i;

	if (r)
		for (i = 0; i < r->n; i++)
			if (classify_glob(r->rules[i].pattern, name, len))
				return &r->rules[i];
	for (i = 0; i < CLASSIFY_N_BUILTIN; i++)
		if (classify_glob(classify_builtin[i].pattern, name, len))
			return &classify_builtin[i];
	return NULL;
}

bool classify_has_ext(const struct classify_rule *rule, const char *path, size_t len)
{
	size_t i, el;

	for (i = 0; i < rule->n_exts; i++) {
		el = strlen(rule->exts[i]);
		/* "dir/.c" is a hidden file named .c, not a source */
		if (len > el && path[len - el - 1] != '/' &&
		    memcmp(path + len - el, rule->exts[i], el) == 0)
			return true;
	}
	return false;
}

static void classify_rule_clear(struct classify_rule *rule)
{
	size_t i;

	free((char *)rule->pattern);
	for (i = 0; i < rule->n_exts; i++)
		free((char *)rule->exts[i]);
	free((void *)rule->exts);
}

void classify_rules_free(struct classify_rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		classify_rule_clear(&r->rules[i]);
	free(r->rules);
	free(r);
}

static int classify_parse_type(const char *s, enum proc_type *type)
{
	static const struct { const char *name; enum proc_type type; } types[] = {
		{"c", PROC_C_COMPILER}, {"c++", PROC_CXX_COMPILER},
		{"compiler", PROC_COMPILER}, {"python", PROC_PYTHON},
		{"ignore", PROC_NONE},
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(s, types[i].name) == 0) {
			*type = types[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

const char *classify_check_pattern(const char *p, bool path)
{
	size_t i, k;

	if (strlen(p) > (path ? CLASSIFY_PATH_PATTERN_MAX : CLASSIFY_PATTERN_MAX))
		return "pattern too long";
	for (i = 0; p[i]; i++) {
		if (p[i] == '/' && !path)
			return "pattern matches a basename and cannot contain '/'";
		if (p[i] == '\\' && !p[i + 1])
			return "pattern ends with '\\'";
		if (p[i] == '\\')
			i++;
		else if (p[i] == '[') {
			k = classify_class_len(p + i);
			if (!k)
				return "unterminated '[' in pattern";
			i += k - 1;
		}
	}
	return NULL;
}

static const char *classify_check_ext(const char *e)
{
	size_t i, n = strlen(e);

	if (n < 2 || e[0] != '.')
		return "an extension starts with '.' and is not empty";
	if (n > CLASSIFY_EXT_MAX)
		return "extension too long";
	for (i = 0; i < n; i++)
		if (e[i] == '/' || (unsigned char)e[i] < 0x21)
			return "extension contains '/' or a control character";
	return NULL;
}

/* Parses one rule's fields. 0, or -errno with the reason in *what. */
static int classify_parse_line(char **tok, size_t n, struct classify_rule *rule, const char **what)
{
	const char **exts = NULL;
	size_t i;

	memset(rule, 0, sizeof(*rule));
	if (classify_parse_type(tok[0], &rule->type)) {
		*what = "unknown type (expected c, c++, compiler, python or ignore)";
		return -EINVAL;
	}
	if (n < 2) {
		*what = "missing pattern";
		return -EINVAL;
	}
	if ((*what = classify_check_pattern(tok[1], false)))
		return -EINVAL;
	for (i = 2; i < n; i++)
		if ((*what = classify_check_ext(tok[i])))
			return -EINVAL;
	if ((rule->type == PROC_PYTHON || rule->type == PROC_NONE) && n > 2) {
		*what = "only compilers take extensions";
		return -EINVAL;
	}
	if (rule->type == PROC_COMPILER && n == 2) {
		*what = "a compiler rule needs at least one source extension";
		return -EINVAL;
	}

	rule->pattern = strdup(tok[1]);
	if (!rule->pattern)
		goto nomem;
	if (n == 2 && (rule->type == PROC_C_COMPILER || rule->type == PROC_CXX_COMPILER)) {
		exts = calloc(C_EXTS_N, sizeof(*exts));
		if (!exts)
			goto nomem;
		rule->exts = exts;
		for (i = 0; i < C_EXTS_N; i++) {
			if (!(exts[i] = strdup(classify_c_exts[i])))
				goto nomem;
			rule->n_exts++;
		}
		return 0;
	}
	if (n > 2) {
		exts = calloc(n - 2, sizeof(*exts));
		if (!exts)
			goto nomem;
		rule->exts = exts;
		for (i = 2; i < n; i++) {
			if (!(exts[i - 2] = strdup(tok[i])))
				goto nomem;
			rule->n_exts++;
		}
	}
	return 0;
nomem:
	classify_rule_clear(rule);
	*what = "out of memory";
	return -ENOMEM;
}

static int classify_add(void *ctx, char **tok, size_t n, const char **what)
{
	struct classify_rules *r = ctx;
	struct classify_rule rule;
	int rc = classify_parse_line(tok, n, &rule, what);

	if (rc)
		return rc;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 8;
		struct classify_rule *nr = realloc(r->rules, ncap * sizeof(*nr));

		if (!nr) {
			classify_rule_clear(&rule);
			*what = "out of memory";
			return -ENOMEM;
		}
		r->rules = nr;
		r->cap = ncap;
	}
	r->rules[r->n++] = rule;
	return 0;
}

int classify_rules_new(const char *file, struct classify_rules **out,
		       char *err, size_t errlen)
{
	struct classify_rules *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (file) {
		ret = rulesfile_read(file, 2 + CLASSIFY_MAX_EXTS, classify_add, r, err, errlen);
		if (ret) {
			classify_rules_free(r);
			return ret;
		}
	}
	*out = r;
	return 0;
}
