/* cli.c - a small getopt_long-like parser with typed destinations and generated usage text. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lv_status lv_cli_set(const lv_opt *o, const char *v)
{
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case LV_OPT_STR: *(const char **)o->dst = v; return LV_OK;
    case LV_OPT_INT: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || x < -2147483647L || x > 2147483647L)
            return lv_fail(LV_ERR_ARG, "%s: expected an integer, got '%s'", o->name, v);
        *(int *)o->dst = (int)x;
        return LV_OK;
    }
    case LV_OPT_COUNT: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || x < 0 || x > 2147483647L)
            return lv_fail(LV_ERR_ARG, "%s: expected an integer >= 0, got '%s'", o->name, v);
        *(int *)o->dst = (int)x;
        return LV_OK;
    }
    case LV_OPT_U64: {
        if (*v == '-') return lv_fail(LV_ERR_ARG, "%s: expected a non-negative integer, got '%s'", o->name, v);
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v || *end)
            return lv_fail(LV_ERR_ARG, "%s: expected a non-negative integer, got '%s'", o->name, v);
        *(uint64_t *)o->dst = (uint64_t)x;
        return LV_OK;
    }
    case LV_OPT_FLOAT: {
        double x = strtod(v, &end);
        if (errno || end == v || *end || x != x)
            return lv_fail(LV_ERR_ARG, "%s: expected a number, got '%s'", o->name, v);
        *(float *)o->dst = (float)x;
        return LV_OK;
    }
    case LV_OPT_FLAG: *(int *)o->dst = 1; return LV_OK;
    }
    return lv_fail(LV_ERR_INTERNAL, "%s: bad option type", o->name);
}

lv_status lv_cli_parse(int argc, char **argv, const lv_opt *opts, int nopts, const char **pos,
                       int max_pos, int *npos, int *want_help)
{
    int only_pos = 0;
    *npos = 0;
    *want_help = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && !strcmp(a, "--")) { only_pos = 1; continue; }
        if (!only_pos && (!strcmp(a, "-h") || !strcmp(a, "--help"))) { *want_help = 1; return LV_OK; }
        if (only_pos || a[0] != '-' || a[1] == 0) {
            if (*npos >= max_pos)
                return lv_fail(LV_ERR_ARG, "%s: unexpected argument '%s'", argv[0], a);
            pos[(*npos)++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const lv_opt *o = NULL;
        for (int k = 0; k < nopts && !o; k++)
            if ((strlen(opts[k].name) == nlen && !strncmp(opts[k].name, a, nlen)) ||
                (opts[k].alias && strlen(opts[k].alias) == nlen && !strncmp(opts[k].alias, a, nlen)))
                o = &opts[k];
        if (!o) return lv_fail(LV_ERR_ARG, "%s: unknown option '%.*s' (see lladav %s --help)",
                               argv[0], (int)nlen, a, argv[0]);
        if (o->type == LV_OPT_FLAG) {
            if (eq) return lv_fail(LV_ERR_ARG, "%s: option %s takes no value", argv[0], o->name);
            LV_TRY(lv_cli_set(o, NULL));
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) return lv_fail(LV_ERR_ARG, "%s: option %s needs a value %s", argv[0], o->name,
                               o->meta ? o->meta : "");
        LV_TRY(lv_cli_set(o, v));
    }
    return LV_OK;
}

void lv_cli_usage(const char *cmd, const char *synopsis, const char *about, const lv_opt *opts,
                  int nopts)
{
    printf("usage: lladav %s %s\n\n%s\n\nOptions:\n", cmd, synopsis, about);
    for (int k = 0; k < nopts; k++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "%s%s%s %s", opts[k].alias ? opts[k].alias : "",
                 opts[k].alias ? ", " : "", opts[k].name, opts[k].meta ? opts[k].meta : "");
        printf("  %-28s %s\n", lhs, opts[k].help);
    }
}

int lv_cli_threads(int n)
{
    lv_threads_set(n);
    return lv_threads_get();
}

lv_status lv_cli_precision(const char *name)
{
    int bf16 = name && !strcmp(name, "bf16");
    if (name && !bf16 && strcmp(name, "f32"))
        return lv_fail(LV_ERR_ARG, "--precision '%s': expected f32 or bf16", name);
    if (bf16 && !lv_bf16_gemm_available())
        return lv_fail(LV_ERR_UNSUPPORTED, "--precision bf16 needs a CPU with AVX512-BF16");
    lv_precision_set(bf16 ? LV_PRECISION_BF16 : LV_PRECISION_F32);
    return LV_OK;
}

/* "16.87 GB", "612.0 KB": decimal units, as file managers and the HF hub show sizes. */
const char *lv_cli_bytes(char *buf, size_t n, double v)
{
    static const char *unit[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (v >= 1000.0 && u < 4) { v /= 1000.0; u++; }
    if (u == 0) snprintf(buf, n, "%.0f B", v);
    else snprintf(buf, n, "%.*f %s", v < 10 ? 2 : 1, v, unit[u]);
    return buf;
}
