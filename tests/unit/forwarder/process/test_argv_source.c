/* Source files from argv: compilers and Python. */
#include <criterion/criterion.h>
#include <string.h>

#include "process/argv_source.h"

#define MAXA 32

struct args {
	ProtobufCBinaryData v[MAXA];
	size_t n;
};

static void mk(struct args *a, const char *const *argv)
{
	a->n = 0;
	while (argv[a->n]) {
		a->v[a->n].data = (uint8_t *)argv[a->n];
		a->v[a->n].len = strlen(argv[a->n]);
		a->n++;
	}
}

static const struct classify_rule *gcc_rule(void)
{
	static struct classify_rules *r;
	char err[128];

	if (!r)
		cr_assert_eq(classify_rules_new(NULL, &r, err, sizeof(err)), 0);
	return classify_match(r, "gcc", 3);
}

/* All sources, as "a,b,c". */
static const char *sources(const char *const *argv)
{
	static char out[1024];
	struct args a;
	struct argv_iter it = ARGV_ITER_INIT;
	ssize_t i;

	mk(&a, argv);
	out[0] = '\0';
	while ((i = argv_compiler_next(a.v, a.n, gcc_rule(), &it)) >= 0) {
		if (out[0])
			strcat(out, ",");
		strncat(out, (const char *)a.v[i].data, a.v[i].len);
	}
	return out;
}

#define SRC(want, ...) do { \
	static const char *const av[] = {__VA_ARGS__, NULL}; \
	cr_expect_str_eq(sources(av), want); \
} while (0)

Test(argv_compiler, output_option)
{
	SRC("main.c", "gcc", "-o", "out", "main.c");
	SRC("main.c", "gcc", "main.c", "-o", "out");
	/* the value of -o is never a source even with a source's name */
	SRC("main.c", "gcc", "-o", "x.c", "main.c");
	SRC("main.c", "gcc", "-ox.c", "main.c");
}

Test(argv_compiler, include_and_define)
{
	SRC("a.c,b.c", "gcc", "-I", "inc", "-DX=1", "a.c", "b.c");
	SRC("a.c", "gcc", "-Iinc.c", "-D", "Y.c", "-U", "Z.c", "a.c");
	SRC("a.c", "gcc", "-include", "pre.h", "-isystem", "s.h", "-iquote", "q.h",
	    "-idirafter", "d.h", "-imacros", "m.h", "a.c");
	SRC("a.c", "gcc", "-MF", "dep.c", "-MT", "t.c", "-MQ", "q.c", "-MD", "a.c");
	SRC("a.c", "gcc", "-L", "lib.c", "-l", "m.c", "-lm", "a.c");
	SRC("a.c", "gcc", "-Xlinker", "x.c", "-Xpreprocessor", "p.c", "-Xassembler",
	    "as.c", "-T", "t.c", "-aux-info", "ai.c", "--param", "p.c", "-e", "e.c",
	    "-u", "u.c", "-z", "z.c", "a.c");
	SRC("a.c", "gcc", "-std=c11", "-O2", "-Wall", "-g", "--param=x=1", "a.c");
}

Test(argv_compiler, extensions_and_operands)
{
	SRC("a.c,b.cpp,c.h", "g++", "a.c", "b.cpp", "c.h", "d.o", "e.a", "f.s", "libx.so");
	SRC("/abs/x.c,../rel/y.cc", "gcc", "/abs/x.c", "../rel/y.cc");
	SRC("", "gcc", "-", "@opts.c", "main.o");
	SRC("", "gcc", "--version");
	SRC("", "gcc");
	/* the value of the last option is missing: nothing breaks */
	SRC("", "gcc", "-o");
}

Test(argv_compiler, forced_language)
{
	SRC("prog.txt", "gcc", "-x", "c", "prog.txt", "-o", "out");
	SRC("prog.txt", "gcc", "-xc++", "prog.txt");
	SRC("b.c", "gcc", "-x", "c", "-x", "none", "a.txt", "b.c");
	SRC("", "gcc", "-x", "assembler", "a.txt");
}

static ssize_t script(const char *const *argv)
{
	struct args a;

	mk(&a, argv);
	return argv_python_script(a.v, a.n);
}

#define PY(want, ...) do { \
	static const char *const av[] = {__VA_ARGS__, NULL}; \
	cr_expect_eq(script(av), want, "%s ...", av[1] ? av[1] : ""); \
} while (0)

Test(argv_python, scripts)
{
	PY(1, "python3", "main.py");
	PY(1, "python3", "main.py", "-c", "x");
	PY(2, "python3", "-u", "hw2/a.py", "arg");
	PY(3, "python3", "-W", "ignore", "a.py");
	PY(2, "python3", "-Wignore", "a.py");
	PY(3, "python3", "-X", "dev", "a.py");
	PY(4, "python3", "-uB", "-X", "utf8", "a.py");
	PY(3, "python3", "-E", "-s", "a.py");
	PY(3, "python3", "--check-hash-based-pycs", "always", "a.py");
	PY(2, "python3", "--", "-weird.py");
	PY(1, "python3", "noext");
}

Test(argv_python, no_script)
{
	PY(-1, "python3", "-m", "pkg");
	PY(-1, "python3", "-mpkg", "a.py");
	PY(-1, "python3", "-c", "print('hi')");
	PY(-1, "python3", "-c", "import x", "a.py");
	PY(-1, "python3", "-Ic", "pass");
	PY(-1, "python3", "-");
	PY(-1, "python3", "-u", "--", "-");   /* found by fuzz_argv_source */
	PY(-1, "python3", "-", "a.py");
	PY(-1, "python3");
	PY(-1, "python3", "-i");
	PY(-1, "python3", "--version");
	PY(-1, "python3", "-V");
	PY(-1, "python3", "--help-env");
	PY(-1, "python3", "-W");
	PY(-1, "python3", "--");
}
