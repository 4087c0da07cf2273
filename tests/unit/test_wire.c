/* test_wire.c - work and result messages, payload batches, failures. */
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "unit.h"

START_TEST(work_without_payloads)
{
    mb_buf b = {0};
    mb_work w;
    size_t pos = 0;
    ck_assert_int_eq(mb_wire_put_work(&b, 40, 7, NULL, 0), MB_OK);
    ck_assert_uint_eq(b.len, 24);
    ck_assert_int_eq(mb_wire_get_work(b.data, b.len, &pos, &w), MB_OK);
    ck_assert_uint_eq(pos, b.len);
    ck_assert_uint_eq(w.first, 40);
    ck_assert_uint_eq(w.count, 7);
    ck_assert_ptr_null(mb_work_payload(&w, 3).data);
    mb_buf_free(&b);
}
END_TEST

/* Two messages from one batch, back to back, decode to the right bytes;
 * empty payloads are still payloads. */
START_TEST(work_with_payloads)
{
    mb_batch batch = {0};
    mb_buf b = {0};
    mb_work w;
    size_t pos = 0;
    const char *docs[] = {"alpha", "", "gamma ray", "", "\\0 x"};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(mb_batch_add(&batch, docs[i], strlen(docs[i])), MB_OK);
    ck_assert_int_eq(mb_wire_put_work(&b, 100, 3, &batch, 0), MB_OK);
    ck_assert_int_eq(mb_wire_put_work(&b, 103, 2, &batch, 3), MB_OK);
    ck_assert_uint_eq(b.len % 8, 0);
    ck_assert_int_eq(mb_wire_get_work(b.data, b.len, &pos, &w), MB_OK);
    ck_assert_uint_eq(w.count, 3);
    mb_payload p = mb_work_payload(&w, 2);
    ck_assert_uint_eq(p.len, 9);
    ck_assert(memcmp(p.data, "gamma ray", 9) == 0);
    ck_assert_ptr_nonnull(mb_work_payload(&w, 1).data);
    ck_assert_uint_eq(mb_work_payload(&w, 1).len, 0);
    ck_assert_int_eq(mb_wire_get_work(b.data, b.len, &pos, &w), MB_OK);
    ck_assert_uint_eq(w.first, 103);
    ck_assert_uint_eq(mb_work_payload(&w, 0).len, 0);
    ck_assert_ptr_nonnull(mb_work_payload(&w, 0).data);
    ck_assert(memcmp(mb_work_payload(&w, 1).data, "\\0 x", 4) == 0);
    ck_assert_uint_eq(pos, b.len);
    mb_batch_clear(&batch);
    ck_assert_uint_eq(batch.count, 0);
    mb_batch_free(&batch);
    mb_buf_free(&b);
}
END_TEST

START_TEST(truncated_work_is_rejected)
{
    mb_batch batch = {0};
    mb_buf b = {0};
    mb_work w;
    ck_assert_int_eq(mb_batch_add(&batch, "abcdef", 6), MB_OK);
    ck_assert_int_eq(mb_wire_put_work(&b, 0, 1, &batch, 0), MB_OK);
    for (size_t cut = 0; cut < b.len; cut += 4) {
        size_t pos = 0;
        ck_assert_int_eq(mb_wire_get_work(b.data, cut, &pos, &w), MB_ERR_INTERNAL);
    }
    mb_batch_free(&batch);
    mb_buf_free(&b);
}
END_TEST

START_TEST(results_round_trip)
{
    double rows[6] = {1, 2, 3, 4, 5, 6};
    mb_buf fails = {0}, b = {0};
    mb_result r;
    size_t pos = 0, fpos = 0, len;
    uint64_t task;
    const char *text;
    ck_assert_int_eq(mb_wire_pack_failure(&fails, 8, "line 9: not JSON"), MB_OK);
    ck_assert_int_eq(mb_wire_put_result(&b, 7, 3, 2, rows, 1, fails.data, fails.len), MB_OK);
    ck_assert_int_eq(mb_wire_put_result(&b, 10, 1, 2, rows, 0, NULL, 0), MB_OK);
    ck_assert_int_eq(mb_wire_get_result(b.data, b.len, &pos, 2, &r), MB_OK);
    ck_assert_uint_eq(r.first, 7);
    ck_assert_uint_eq(r.count, 3);
    ck_assert(r.rows[5] == 6);
    ck_assert_int_eq(mb_result_next_failure(&r, &fpos, &task, &text, &len), 1);
    ck_assert_uint_eq(task, 8);
    ck_assert(len == 16 && memcmp(text, "line 9: not JSON", len) == 0);
    ck_assert_int_eq(mb_result_next_failure(&r, &fpos, &task, &text, &len), 0);
    ck_assert_int_eq(mb_wire_get_result(b.data, b.len, &pos, 2, &r), MB_OK);
    ck_assert_uint_eq(r.first, 10);
    ck_assert_uint_eq(r.nfail, 0);
    ck_assert_uint_eq(pos, b.len);
    pos = 0;
    ck_assert_int_eq(mb_wire_get_result(b.data, 40, &pos, 2, &r), MB_ERR_INTERNAL);
    mb_buf_free(&fails);
    mb_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, work_without_payloads);
    tcase_add_test(tc, work_with_payloads);
    tcase_add_test(tc, truncated_work_is_rejected);
    tcase_add_test(tc, results_round_trip);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
