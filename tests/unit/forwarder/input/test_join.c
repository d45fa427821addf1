/* The exec/exit join table: put, take, replace, expire, evict. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "input/join.h"

/* A decoded Exec frame, allocated as frame_decode() would. */
static Jcw__Frame *exec_frame(uint32_t tgid, uint64_t start, uint64_t seq)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;
	uint8_t buf[256];
	size_t len;
	Jcw__Frame *out;

	e.tgid = tgid;
	e.pid = tgid;
	e.start_boottime_ns = start;
	f.seq = seq;
	f.body_case = JCW__FRAME__BODY_EXEC;
	f.exec = &e;
	len = jcw__frame__pack(&f, buf);
	out = jcw__frame__unpack(NULL, len, buf);
	cr_assert_not_null(out);
	return out;
}

static struct join_table *t;

static void setup(void)
{
	cr_assert_eq(join_new(4, &t), 0);
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
	struct join_table *big;
	uint32_t i;
	Jcw__Frame *f;

	cr_assert_eq(join_new(64, &big), 0);
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
