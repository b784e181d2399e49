/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_journal.c: the journal decoder on arbitrary files, checking that what
 * it accepts is a plan recovery can follow and encodes back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct journal_plan plan, again;
    struct journal_info info, info2;
    const char *err = NULL;
    uint64_t end;
    size_t len;
    void *img;

    if (journal_decode(data, size, &plan, &info, &err) < 0) {
        if (!err)
            abort();
        return 0;
    }
    /* What the decoder promises: ranges in order, moving down, laid end
     * to end, within the start size. */
    if (plan.final_size > plan.start_size)
        abort();
    end = plan.count ? plan.ranges[0].dst : 0;
    for (size_t i = 0; i < plan.count; i++) {
        const struct journal_range *r = &plan.ranges[i];

        if (r->len == 0 || r->dst >= r->src || r->dst != end
            || r->src > plan.start_size || plan.start_size - r->src < r->len)
            abort();
        if (i > 0 && r->src < plan.ranges[i - 1].src + plan.ranges[i - 1].len)
            abort();
        end = r->dst + r->len;
    }
    /* Encoding it again gives an image that decodes to the same thing. */
    img = journal_encode(&plan, &info, &len);
    if (journal_decode(img, len, &again, &info2, &err) < 0)
        abort();
    if (again.count != plan.count || again.start_size != plan.start_size
        || again.final_size != plan.final_size
        || memcmp(&info, &info2, sizeof info) != 0)
        abort();
    for (size_t i = 0; i < plan.count; i++)
        if (again.ranges[i].src != plan.ranges[i].src
            || again.ranges[i].dst != plan.ranges[i].dst
            || again.ranges[i].len != plan.ranges[i].len
            || again.ranges[i].flags != plan.ranges[i].flags)
            abort();
    free(img);
    journal_plan_free(&again);
    journal_plan_free(&plan);
    return 0;
}
