/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config_table.c: the table of every directive, generated from config_keys.def. */
#include "config.h"

const struct cfg_def cfg_defs[CFG__COUNT] = {
#define CFG_KEY(id, name_, type_, def_, min_, max_, group_, help_) \
    [CFG_##id] = {                                                  \
        .name = name_,                                              \
        .type = type_,                                              \
        .def = def_,                                                \
        .min = min_,                                                \
        .max = max_,                                                \
        .group = group_,                                            \
        .help = help_,                                              \
    },
#include "config_keys.def"
#undef CFG_KEY
};
