/* The exec/exit join table: put, take, replace, expire, evict. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/join.h"

/* A decoded Exec frame of host (NULL: "jcode-os-1-1") with nargs
 * arguments of one byte, allocated as frame_decode() would. */
static Jcw__Frame *exec_frame_of(uint32_t tgid, uint64_t start, uint64_t seq, const char *host,
				 size_t nargs)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;
	ProtobufCBinaryData *argv = calloc(nargs ? nargs : 1, sizeof(*argv));
	uint8_t *buf;
	size_t len, i;
	Jcw__Frame *out;

	cr_assert_not_null(argv);
	if (!host)
		host = "jcode-os-1-1";
	for (i = 0; i < nargs; i++) {
		argv[i].data = (uint8_t *)"a";
		argv[i].len = 1;
	}
	e.argv = argv;
	e.n_argv = nargs;
	e.hostname.data = (uint8_t *)host;
	e.hostname.len = strlen(host);
	e.ppid = 1;
	e.uts_ns_inum = 4026531838u;
	e.tgid = tgid;
	e.pid = tgid;
	e.start_boottime_ns = start;
	f.seq = seq;
	f.body_case = JCW__FRAME__BODY_EXEC;
	f.exec = &e;
	buf = malloc(jcw__frame__get_packed_size(&f));
	cr_assert_not_null(buf);
	len = jcw__frame__pack(&f, buf);
	out = jcw__frame__unpack(NULL, len, buf);
	cr_assert_not_null(out);
	free(buf);
	free(argv);
	return out;
}

static Jcw__Frame *exec_frame(uint32_t tgid, uint64_t start, uint64_t seq)
{
	return exec_frame_of(tgid, start, seq, NULL, 0);
}

static const struct join_limits small = {
	.max_entries = 4, .max_bytes = 1u << 20, .container_bytes = JOIN_CONTAINER_BYTES_MIN};

static struct join_table *t;

static void setup(void)
{
	cr_assert_eq(join_new(&small, &t), 0);
}

static void teardown(void)
{
	join_free(t);   /* frees what is left: ASan checks for leaks */
}

TestSuite(join, .init = setup, .fini = teardown);

Test(join, put_take)
{
	Jcw__Frame *f;

	cr_assert_eq(join_put(t, exec_frame(100, 5000, 1), 10), 0);
	cr_assert_eq(join_put(t, exec_frame(101, 5000, 2), 10), 0);
	cr_assert_eq(join_size(t), 2);
	f = join_take(t, 100, 5000);
	cr_assert_not_null(f);
	cr_assert_eq(f->seq, 1);
	cr_assert_eq(f->exec->tgid, 100);
	jcw__frame__free_unpacked(f, NULL);
	cr_assert_null(join_take(t, 100, 5000));
	cr_assert_eq(join_size(t), 1);
}

Test(join, pid_reuse_is_another_process)
{
	Jcw__Frame *f;

	cr_assert_eq(join_put(t, exec_frame(100, 5000, 1), 10), 0);
	cr_assert_eq(join_put(t, exec_frame(100, 9000, 2), 10), 0);
	cr_assert_eq(join_size(t), 2);
	cr_assert_null(join_take(t, 100, 7000));
	f = join_take(t, 100, 9000);
	cr_assert_eq(f->seq, 2);
	jcw__frame__free_unpacked(f, NULL);
	f = join_take(t, 100, 5000);
	cr_assert_eq(f->seq, 1);
	jcw__frame__free_unpacked(f, NULL);
}

Test(join, second_exec_replaces)
{
	Jcw__Frame *f;

	cr_assert_eq(join_put(t, exec_frame(100, 5000, 1), 10), 0);
	cr_assert_eq(join_put(t, exec_frame(100, 5000, 7), 20), 1);
	cr_assert_eq(join_size(t), 1);
	cr_assert_eq(join_get_stats(t)->replaced, 1);
	f = join_take(t, 100, 5000);
	cr_assert_eq(f->seq, 7);
	jcw__frame__free_unpacked(f, NULL);
}

Test(join, expire_oldest_first)
{
	Jcw__Frame *f;

	cr_assert_eq(join_put(t, exec_frame(1, 1, 1), 100), 0);
	cr_assert_eq(join_put(t, exec_frame(2, 1, 2), 200), 0);
	cr_assert_eq(join_put(t, exec_frame(3, 1, 3), 300), 0);
	/* a replacement refreshes its entry */
	cr_assert_eq(join_put(t, exec_frame(1, 1, 4), 350), 1);
	cr_assert_eq(join_expire(t, 1000, 1000), 0);
	cr_assert_eq(join_expire(t, 1250, 1000), 1);     /* put at 200 */
	cr_assert_eq(join_size(t), 2);
	cr_assert_null(join_take(t, 2, 1));
	cr_assert_eq(join_expire(t, 1340, 1000), 1);     /* put at 300 */
	f = join_take(t, 1, 1);
	cr_assert_eq(f->seq, 4);
	jcw__frame__free_unpacked(f, NULL);
	cr_assert_eq(join_get_stats(t)->expired, 2);
	cr_assert_eq(join_expire(t, 99999, 1), 0);      /* empty table */
}

Test(join, full_table_evicts_oldest)
{
	uint32_t i;
	Jcw__Frame *f;

	for (i = 1; i <= 6; i++)
		cr_assert_eq(join_put(t, exec_frame(i, 7, i), i), 0);
	cr_assert_eq(join_size(t), 4);
	cr_assert_eq(join_get_stats(t)->evicted, 2);
	cr_assert_null(join_take(t, 1, 7));
	cr_assert_null(join_take(t, 2, 7));
	for (i = 3; i <= 6; i++) {
		f = join_take(t, i, 7);
		cr_assert_not_null(f, "tgid %u", i);
		jcw__frame__free_unpacked(f, NULL);
	}
	cr_assert_eq(join_size(t), 0);
}

Test(join, rejects_non_exec)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exit x = JCW__EXIT__INIT;
	uint8_t buf[64];
	size_t len;

	f.body_case = JCW__FRAME__BODY_EXIT;
	f.exit = &x;
	len = jcw__frame__pack(&f, buf);
	cr_assert_eq(join_put(t, jcw__frame__unpack(NULL, len, buf), 1), -EINVAL);
	cr_assert_eq(join_put(t, NULL, 1), -EINVAL);
	cr_assert_eq(join_size(t), 0);
}

Test(join, churn_keeps_invariants)
{
	/* many puts, takes and evictions through a small table: every take
	 * returns the right frame and ASan sees no leak or double free */
	struct join_limits lim = small;
	struct join_table *big;
	uint32_t i;
	Jcw__Frame *f;

	lim.max_entries = 64;
	cr_assert_eq(join_new(&lim, &big), 0);
	for (i = 0; i < 5000; i++) {
		join_put(big, exec_frame(i % 97, i / 97, i), i);
		if (i % 3 == 0 && (f = join_take(big, (i - 1) % 97, (i - 1) / 97))) {
			cr_assert_eq(f->exec->tgid, (i - 1) % 97);
			jcw__frame__free_unpacked(f, NULL);
		}
		join_expire(big, i, 50);
		cr_assert_leq(join_size(big), 64);
	}
	join_free(big);
}

Test(join, peek_knows_the_exec_without_decoding_and_decode_gives_it_whole)
{
	const struct join_exec *x;
	Jcw__Frame *f;

	cr_assert_eq(join_put(t, exec_frame_of(100, 5000, 1, "jcode-os-1-202012345", 3), 10), 0);
	x = join_peek(t, 100, 5000);
	cr_assert_not_null(x);
	cr_assert_eq(x->ppid, 1);
	cr_assert_eq(x->uts_ns_inum, 4026531838u);
	cr_assert(x->hostname_len == 20 && memcmp(x->hostname, "jcode-os-1-202012345", 20) == 0);
	cr_assert_eq(join_find_tgid(t, 100), x);
	f = join_decode(t, x);
	cr_assert_not_null(f);
	cr_assert_eq(f->exec->n_argv, 3);
	jcw__frame__free_unpacked(f, NULL);
	cr_assert_eq(join_size(t), 1, "decoding leaves it in the table");
}

Test(join, bytes_are_bounded_and_counted)
{
	struct join_limits lim = {.max_entries = 1000, .max_bytes = 600u << 10,
				  .container_bytes = 600u << 10};
	struct join_table *b;
	uint32_t i;

	cr_assert_eq(join_new(&lim, &b), 0);
	/* 4,096 one-byte arguments: 12 KiB packed each (~190 KiB decoded) */
	for (i = 0; i < 200; i++) {
		char host[32];

		snprintf(host, sizeof(host), "jcode-os-1-%u", 1000 + i % 50);
		cr_assert_geq(join_put(b, exec_frame_of(i + 1, 7, i, host, 4096), i), 0);
		cr_assert_leq(join_bytes(b), lim.max_bytes);
	}
	cr_assert_gt(join_get_stats(b)->evicted, 100, "evicted %llu",
		     (unsigned long long)join_get_stats(b)->evicted);
	cr_assert_eq(join_size(b) + join_get_stats(b)->evicted, 200, "kept plus evicted is all");
	cr_assert_null(join_take(b, 1, 7), "the oldest went first");
	join_free(b);
}

Test(join, a_container_over_its_share_gives_up_its_own_oldest)
{
	struct join_limits lim = {.max_entries = 1000, .max_bytes = 8u << 20,
				  .container_bytes = JOIN_CONTAINER_BYTES_MIN};
	struct join_table *b;
	Jcw__Frame *f;
	uint32_t i;

	cr_assert_eq(join_new(&lim, &b), 0);
	cr_assert_eq(join_put(b, exec_frame_of(1, 7, 1, "jcode-os-1-222", 10), 1), 0);
	for (i = 0; i < 100; i++)   /* A floods: 100 x 12 KiB against 256 KiB */
		cr_assert_geq(join_put(b, exec_frame_of(100 + i, 7, i, "jcode-os-1-111", 4096), i), 0);
	cr_assert_gt(join_get_stats(b)->evicted_share, 70);
	cr_assert_eq(join_get_stats(b)->evicted, 0, "the table itself never filled");
	f = join_take(b, 1, 7);
	cr_assert_not_null(f, "B's exec survives A's flood");
	jcw__frame__free_unpacked(f, NULL);
	cr_assert_not_null(join_peek(b, 199, 7), "A's newest is kept");
	cr_assert_null(join_peek(b, 100, 7), "A's oldest went");
	join_free(b);
}

Test(join, limits_out_of_range)
{
	struct join_limits lim = small;
	struct join_table *b;

	lim.container_bytes = 1024;
	cr_assert_eq(join_new(&lim, &b), -EINVAL);
	lim = small;
	lim.max_bytes = lim.container_bytes - 1;
	cr_assert_eq(join_new(&lim, &b), -EINVAL);
	lim = small;
	lim.max_entries = 0;
	cr_assert_eq(join_new(&lim, &b), -EINVAL);
}
