#include "argv_source.h"

#include <string.h>

/* Options of gcc and clang whose value may be the next argument. The joined
 * forms ("-Idir", "-DX=1", "-ofile", "--param=x") need no skipping, so only
 * an exact match consumes the next argument. */
static const char *const argv_cc_value_opts[] = {
	"-o", "-I", "-include", "-imacros", "-isystem", "-iquote", "-idirafter",
	"-iprefix", "-iwithprefix", "-iwithprefixbefore", "-isysroot",
	"-imultilib", "-imultiarch", "-iframework", "-cxx-isystem", "-include-pch",
	"-D", "-U", "-MF", "-MT", "-MQ", "-MJ", "-L", "-l", "-x", "-A", "-B", "-F",
	"-Xlinker", "-Xpreprocessor", "-Xassembler", "-Xclang", "-Xanalyzer",
	"-mllvm", "-T", "-aux-info", "-e", "-u", "-z", "-G",
	"-target", "-arch", "-dumpbase", "-dumpbase-ext", "-dumpdir",
	"-serialize-diagnostics",
	"--param", "--sysroot", "--output", "--include", "--include-directory",
	"--define-macro", "--undefine-macro", "--language", "--library-directory",
	"--for-linker", "--assert", "--dump", "--prefix",
};

static bool argv_eq(const ProtobufCBinaryData *a, const char *s)
{
	size_t n = strlen(s);

	return a->len == n && memcmp(a->data, s, n) == 0;
}

static bool argv_cc_takes_value(const ProtobufCBinaryData *a)
{
	size_t i;

	/* every option in the table is 2..24 bytes: most arguments stop here */
	if (a->len < 2 || a->len > 24)
		return false;
	for (i = 0; i < sizeof(argv_cc_value_opts) / sizeof(argv_cc_value_opts[0]); i++)
		if (a->data[1] == (uint8_t)argv_cc_value_opts[i][1] && argv_eq(a, argv_cc_value_opts[i]))
			return true;
	return false;
}

/* -x values after which any operand is C or C++ source. */
static bool argv_is_c_lang(const uint8_t *v, size_t n)
{
	static const char *const langs[] = {"c", "c++", "c-header", "c++-header"};
	size_t i;

	for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (strlen(langs[i]) == n && memcmp(v, langs[i], n) == 0)
			return true;
	return false;
}

ssize_t argv_compiler_next(const ProtobufCBinaryData *argv, size_t n,
			   const struct classify_rule *rule, struct argv_iter *it)
{
	bool c_family = rule->type == PROC_C_COMPILER || rule->type == PROC_CXX_COMPILER;

	while (it->i < n) {
		size_t i = it->i++;
		const ProtobufCBinaryData *a = &argv[i];

		if (a->len == 0)
			continue;
		if (a->data[0] == '-' && a->len > 1) {
			if (c_family && a->len > 2 && a->data[1] == 'x')   /* -xc */
				it->forced_lang = argv_is_c_lang(a->data + 2, a->len - 2);
			if (!argv_cc_takes_value(a))
				continue;
			if (it->i < n && c_family && argv_eq(a, "-x"))
				it->forced_lang = argv_is_c_lang(argv[it->i].data, argv[it->i].len);
			it->i++;   /* the option's value */
			continue;
		}
		if (a->data[0] == '@' || argv_eq(a, "-"))
			continue;
		if (it->forced_lang || classify_has_ext(rule, (const char *)a->data, a->len))
			return (ssize_t)i;
	}
	return -1;
}

ssize_t argv_python_script(const ProtobufCBinaryData *argv, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		const ProtobufCBinaryData *a = &argv[i];

		if (a->len == 0 || a->data[0] != '-')
			return a->len ? (ssize_t)i : -1;
		if (a->len == 1)
			return -1;                      /* "-": stdin */
		if (a->data[1] == '-') {
			if (a->len == 2)                /* "--": the script follows, */
				return i + 1 < n && argv[i + 1].len &&   /* "-" is stdin */
				       !argv_eq(&argv[i + 1], "-") ? (ssize_t)(i + 1) : -1;
			if (argv_eq(a, "--check-hash-based-pycs"))
				i++;
			else if (argv_eq(a, "--help") || argv_eq(a, "--version") ||
				 (a->len > 7 && memcmp(a->data, "--help-", 7) == 0))
				return -1;
			continue;
		}
		/* A cluster of one-letter options: "-uB", "-Wignore", "-c'code'". */
		for (j = 1; j < a->len; j++) {
			char c = (char)a->data[j];

			if (c == 'c' || c == 'm' || c == 'h' || c == '?' || c == 'V')
				return -1;              /* no script file runs */
			if (c == 'W' || c == 'X') {
				if (j + 1 == a->len)
					i++;            /* value is the next argument */
				break;                  /* or the rest of this one */
			}
		}
	}
	return -1;
}
