/* cmd_vqa.c - `lladav vqa`: batch visual question answering, JSONL in, JSONL out.
 *
 *   Q.jsonl --lv_bench_load (native reader: id, image / images, question, per-line sampler
 *            settings; a bad line becomes an error sample)--> samples in file order
 *   A.jsonl --locked, torn last line cut, ids read--> the set already answered (resume)
 *   each sample not answered yet: user text (template of its type, "free" = the question)
 *     --lv_model_ask (images cached by content: each distinct image decoded + encoded once)-->
 *     one record {id, answer, tokens, seconds, sampler, ...} or {id, line, error, status},
 *     appended and flushed before the next question
 *
 * A run killed at any point and started again with the same command ends with exactly one
 * record per id: a record is one write of one line, the torn line a SIGKILL can leave is cut
 * on restart, and ids with a record are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_readers.h"
#include "cmd_generate.h"
#include "eval_text.h"
#include "lladav.h"
#include "report.h"

static double vq_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- a set of id strings (open addressing, FNV-1a) --------------------------------------- */

typedef struct {
    char **slot;
    size_t cap, n;
} vq_set;

static size_t vq_slot(const vq_set *s, const char *k)
{
    size_t i = (size_t)lv_hash64(LV_HASH64_INIT, k, strlen(k)) & (s->cap - 1);
    while (s->slot[i] && strcmp(s->slot[i], k)) i = (i + 1) & (s->cap - 1);
    return i;
}

static int vq_has(const vq_set *s, const char *k)
{
    return s->cap && s->slot[vq_slot(s, k)] != NULL;
}

/* 0 on success (or already there), -1 out of memory. */
static int vq_add(vq_set *s, const char *k)
{
    if (2 * (s->n + 1) > s->cap) {
        vq_set g = {calloc(s->cap ? 2 * s->cap : 64, sizeof(char *)), s->cap ? 2 * s->cap : 64, 0};
        if (!g.slot) return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i]) g.slot[vq_slot(&g, s->slot[i])] = s->slot[i], g.n++;
        free(s->slot);
        *s = g;
    }
    size_t i = vq_slot(s, k);
    if (s->slot[i]) return 0;
    if (!(s->slot[i] = strdup(k))) return -1;
    s->n++;
    return 0;
}

static void vq_set_free(vq_set *s)
{
    for (size_t i = 0; i < s->cap; i++) free(s->slot[i]);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

/* The key of a record or sample: its id, or "line:N" for a line that had none (the reader's
 * fallback id of such a line, lv_sample.id_missing). */
static char *vq_key(const char *id, int line)
{
    return id ? strdup(id) : lv_strfmt("line:%d", line);
}

/* Ids of the records path already holds (resume). Every line must be a JSON object with "id"
 * (null for an input line that had none, then "line"): anything else means the file is not a
 * `vqa` output, and appending to it would pass a broken file off as complete. */
static lv_status vq_load_done(const char *path, vq_set *done)
{
    char *buf;
    size_t n;
    LV_TRY(lv_file_read(path, &buf, &n));
    lv_status st = LV_OK;
    int line = 0;
    for (size_t i = 0; st == LV_OK && i < n;) {
        size_t e = i;
        while (e < n && buf[e] != '\n') e++;
        line++;
        cJSON *o = e > i ? cJSON_ParseWithLength(buf + i, e - i) : NULL;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        const cJSON *ln = cJSON_GetObjectItemCaseSensitive(o, "line");
        char *idt = id ? lv_bench_id_text(id) : NULL;
        if (!cJSON_IsObject(o) || !id || (!idt && !(cJSON_IsNull(id) && cJSON_IsNumber(ln))))
            st = lv_fail(LV_ERR_FORMAT, "%s: line %d is not a vqa record (a JSON object with \"id\"); "
                         "give another --output or repair the file", path, line);
        char *k = st == LV_OK ? vq_key(idt, cJSON_IsNumber(ln) ? ln->valueint : 0) : NULL;
        if (st == LV_OK && (!k || vq_add(done, k))) st = lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
        free(k);
        free(idt);
        cJSON_Delete(o);
        i = e + 1;
    }
    free(buf);
    return st;
}

/* ---- per-line sampler settings ----------------------------------------------------------- */

/* o (the command line's flags) with the line's settings s->sampler on top. Strings of numbers
 * live in strs (16 x 32 bytes). */
static lv_status vq_line_opts(const lv_sample *s, const lv_gen_opts *cli, lv_gen_opts *o, char strs[][32])
{
    *o = *cli;
    if (!s->sampler) return LV_OK;
    cJSON *j = cJSON_Parse(s->sampler);
    if (!j) return lv_fail(LV_ERR_NOMEM, "out of memory");
    lv_status st = LV_OK;
    int *ints[] = {&o->gen_length, &o->steps, &o->block_length, &o->cache_refresh};
    const char *int_keys[] = {"gen_length", "steps", "block_length", "cache_refresh"};
    const char **strv[] = {&o->temperature, &o->cfg, &o->remasking, &o->mode, &o->cache, &o->dllm_cache,
                           &o->threshold, &o->factor};
    const char *str_keys[] = {"temperature", "cfg", "remasking", "mode", "cache", "dllm_cache", "threshold", "factor"};
    for (int k = 0; st == LV_OK && k < 4; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, int_keys[k]);
        if (!v) continue;
        double d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
        if (!(d >= 0 && d <= 1e9 && d == (double)(int)d))
            st = lv_fail(LV_ERR_ARG, "\"%s\" must be an integer from 0 to 1e9", int_keys[k]);
        else *ints[k] = (int)d;
    }
    for (int k = 0; st == LV_OK && k < 8; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, str_keys[k]);
        if (!v) continue;
        if (cJSON_IsString(v)) {
            snprintf(strs[k], 32, "%s", v->valuestring);
            if (strlen(v->valuestring) >= 32) st = lv_fail(LV_ERR_ARG, "\"%s\": value too long", str_keys[k]);
        } else {
            snprintf(strs[k], 32, "%.17g", v->valuedouble);
        }
        *strv[k] = strs[k];
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "seed");
    if (st == LV_OK && v) {
        double d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
        if (!(d >= 0 && d < 9007199254740992.0 && d == (double)(long long)d))
            st = lv_fail(LV_ERR_ARG, "\"seed\" must be an integer from 0 to 2^53");
        else o->seed = (uint64_t)d;
    }
    cJSON_Delete(j);
    return st;
}

static cJSON *vq_sampler_json(const lv_sampler_params *sp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "precision", lv_precision_get() == LV_PRECISION_BF16 ? "bf16" : "f32");
    cJSON_AddNumberToObject(o, "gen_length", sp->gen_length);
    cJSON_AddNumberToObject(o, "steps", sp->steps > 0 ? sp->steps : sp->gen_length);
    cJSON_AddNumberToObject(o, "block_length", sp->block_length > 0 ? sp->block_length : sp->gen_length);
    cJSON_AddNumberToObject(o, "temperature", sp->temperature);
    cJSON_AddNumberToObject(o, "cfg", sp->cfg_scale);
    cJSON_AddStringToObject(o, "remasking", lv_remask_name(sp->remasking));
    cJSON_AddNumberToObject(o, "seed", (double)sp->seed);
    cJSON_AddNumberToObject(o, "threshold", sp->threshold);
    cJSON_AddNumberToObject(o, "factor", sp->factor);
    cJSON_AddStringToObject(o, "cache", lv_cache_mode_name(sp->cache.mode));
    if (sp->cache.reuse_prefix) cJSON_AddBoolToObject(o, "reuse_prefix", 1);
    if (sp->cache.mode == LV_CACHE_PREFIX || sp->cache.mode == LV_CACHE_DUAL)
        cJSON_AddNumberToObject(o, "cache_refresh", sp->cache.refresh);
    if (sp->cache.mode == LV_CACHE_DLLM) {
        char t[64];
        snprintf(t, sizeof t, "%d,%d,%g", sp->cache.prompt_interval, sp->cache.gen_interval, sp->cache.transfer_ratio);
        cJSON_AddStringToObject(o, "dllm_cache", t);
    }
    return o;
}

/* ---- records ------------------------------------------------------------------------------ */

static void vq_add_id(cJSON *rec, const lv_sample *s)
{
    if (s->id_missing)
        cJSON_AddNullToObject(rec, "id");
    else if (s->id_is_number)
        cJSON_AddRawToObject(rec, "id", s->id);
    else
        cJSON_AddStringToObject(rec, "id", s->id);
}

static cJSON *vq_error_record(const lv_sample *s, lv_status st, const char *msg)
{
    cJSON *rec = cJSON_CreateObject();
    vq_add_id(rec, s);
    cJSON_AddNumberToObject(rec, "line", s->line);
    cJSON_AddStringToObject(rec, "error", msg);
    cJSON_AddStringToObject(rec, "status", lv_status_name(st));
    return rec;
}

/* One line + '\n' in one write and flushed, so a kill leaves whole records (and at most a torn
 * last line, which the next start cuts). */
static lv_status vq_write(FILE *f, const char *path, cJSON *rec)
{
    char *txt = rec ? cJSON_PrintUnformatted(rec) : NULL;
    cJSON_Delete(rec);
    if (!txt) return lv_fail(LV_ERR_NOMEM, "%s: out of memory", path);
    size_t n = strlen(txt);
    txt[n] = '\n';   /* replaces the NUL: fwrite of n + 1 bytes */
    int bad = fwrite(txt, 1, n + 1, f) != n + 1 || fflush(f) != 0;
    cJSON_free(txt);
    return bad ? lv_fail(LV_ERR_IO, "%s: write failed: %s", path, strerror(errno)) : LV_OK;
}

typedef struct {
    const char *input, *output, *image_root, *think;
    int quiet;
    long image_cache_mb;
    int json_help;
} vq_opts;

static lv_status vq_run(const vq_opts *v, const lv_gen_opts *cli)
{
    double t0 = vq_now();
    lv_bench_params bp = lv_bench_default_params();
    bp.format = "native";
    int in_stdin = !strcmp(v->input, "-"), out_stdout = !strcmp(v->output, "-");
    /* from standard input, relative image paths are relative to the working directory */
    bp.image_root = v->image_root ? v->image_root : in_stdin ? "." : NULL;
    bp.any_path = 1;
    lv_bench *b = NULL;
    LV_TRY(lv_bench_load(&b, in_stdin ? "/dev/stdin" : v->input, &bp));
    /* the output: locked against a second writer, torn last line cut, answered ids read */
    lv_status st = LV_OK;
    int fd = out_stdout ? dup(1) : open(v->output, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) st = lv_fail(LV_ERR_IO, "%s: cannot open for appending: %s", v->output, strerror(errno));
    struct stat in_st, out_st;
    if (st == LV_OK && fstat(fd, &out_st) == 0 && b->source && stat(b->source, &in_st) == 0 &&
        in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
        st = lv_fail(LV_ERR_ARG, "%s: --output is the input file", v->output);
    if (st == LV_OK && !out_stdout && flock(fd, LOCK_EX | LOCK_NB) != 0)
        st = lv_fail(LV_ERR_IO, "%s: another process is writing it (%s)", v->output,
                     errno == EWOULDBLOCK ? "locked" : strerror(errno));
    int torn = 0;
    if (st == LV_OK && !out_stdout) st = lv_preds_repair(v->output, &torn);   /* stdout: no resume */
    if (st == LV_OK && torn && !v->quiet) fprintf(stderr, "lladav: vqa: %s: cut a torn last line (a killed run)\n", v->output);
    vq_set done = {0};
    if (st == LV_OK && !out_stdout) st = vq_load_done(v->output, &done);
    FILE *f = st == LV_OK ? fdopen(fd, "ab") : NULL;
    if (st == LV_OK && !f) st = lv_fail(LV_ERR_IO, "%s: %s", v->output, strerror(errno));
    if (f) fd = -1;   /* closed with f */

    long todo = 0, n_answered = 0;   /* distinct keys: to run / with a record already */
    vq_set seen = {0};
    for (int i = 0; st == LV_OK && i < b->n; i++) {
        char *k = vq_key(b->samples[i].id_missing ? NULL : b->samples[i].id, b->samples[i].line);
        if (!k) st = lv_fail(LV_ERR_NOMEM, "out of memory");
        else if (!vq_has(&seen, k)) {
            if (vq_has(&done, k)) n_answered++;
            else todo++;
            if (vq_add(&seen, k)) st = lv_fail(LV_ERR_NOMEM, "out of memory");
        }
        free(k);
    }
    vq_set_free(&seen);
    if (st == LV_OK && !v->quiet)
        fprintf(stderr, "lladav: vqa: %s: %d requests (%d unreadable), %ld answered before, %ld to run -> %s\n",
                b->source ? b->source : v->input, b->n, b->n_errors, n_answered, todo, v->output);
    lv_model *m = NULL;
    if (st == LV_OK && todo) {
        lv_model_params mp = lv_model_default_params();
        mp.image_cache_mb = v->image_cache_mb;
        lv_cli_threads(cli->threads);
        st = lv_model_load(&m, cli->model, &mp);
    }
    long n_ok = 0, n_err = 0, n_dup = 0, k_run = 0;
    for (int i = 0; st == LV_OK && i < b->n; i++) {
        const lv_sample *s = &b->samples[i];
        char *key = vq_key(s->id_missing ? NULL : s->id, s->line);
        if (!key) { st = lv_fail(LV_ERR_NOMEM, "out of memory"); break; }
        if (vq_has(&done, key)) {
            /* answered before this run, or a repeated id in the input: never a second record */
            if (s->error && strstr(s->error, "duplicate id")) {
                n_dup++;
                if (!v->quiet) fprintf(stderr, "lladav: vqa: line %d: %s: skipped\n", s->line, s->error);
            }
            free(key);
            continue;
        }
        k_run++;
        double ts = vq_now();
        cJSON *rec = NULL;
        char *prompt = NULL, *asked = NULL;
        lv_status as = LV_OK;
        lv_result r = {0};
        lv_gen_opts lo;
        char strs[16][32];
        lv_sampler_params sp;
        if (s->error) {
            rec = vq_error_record(s, LV_ERR_FORMAT, s->error);
        } else if (s->n_images > 1) {
            as = lv_fail(LV_ERR_UNSUPPORTED, "%s: %d images: multi-image requests are not supported (one \"image\" per line)",
                         s->id, s->n_images);
        } else if ((as = vq_line_opts(s, cli, &lo, strs)) != LV_OK || (as = lv_gen_opts_sampler(&lo, &sp)) != LV_OK) {
            /* lv_last_error names the bad setting */
        } else if (!(prompt = lv_bench_prompt(b, s)) ||
                   !(asked = strcmp(v->think, "none") ? lv_strfmt("%s /%s", prompt, v->think) : strdup(prompt))) {
            as = lv_fail(LV_ERR_NOMEM, "out of memory");
        } else {
            as = lv_model_ask(m, s->n_images ? s->images[0] : NULL, asked, &sp, &r);
            if (as == LV_OK) {
                rec = cJSON_CreateObject();
                vq_add_id(rec, s);
                cJSON *a = lv_answer_json(m, s->n_images ? s->images[0] : NULL, asked, &r);
                while (a && a->child) {
                    cJSON *it = cJSON_DetachItemViaPointer(a, a->child);
                    cJSON_AddItemToObject(rec, it->string, it);
                }
                cJSON_Delete(a);
                cJSON_AddItemToObject(rec, "sampler", vq_sampler_json(&sp));
                if (s->meta) cJSON_AddRawToObject(rec, "meta", s->meta);
            }
        }
        if (!s->error && as != LV_OK) {
            char *msg = lv_strfmt("%s", lv_last_error());
            rec = vq_error_record(s, as, msg ? msg : lv_status_str(as));
            free(msg);
        }
        if (rec && cJSON_GetObjectItemCaseSensitive(rec, "error")) n_err++;
        else n_ok++;
        st = vq_write(f, v->output, rec);
        if (st == LV_OK && vq_add(&done, key)) st = lv_fail(LV_ERR_NOMEM, "out of memory");
        if (st == LV_OK && !v->quiet) {
            if (s->error || as != LV_OK)
                fprintf(stderr, "lladav: vqa [%ld/%ld] %s: error: %s\n", k_run, todo, key,
                        s->error ? s->error : lv_last_error());
            else
                fprintf(stderr, "lladav: vqa [%ld/%ld] %s: %d tokens, %.2f s, %s%s\n", k_run, todo, key,
                        r.n_response_tokens, vq_now() - ts,
                        s->n_images ? (r.image_reused ? "image reused: " : "image encoded: ") : "text only",
                        s->n_images ? s->images[0] : "");
        }
        lv_result_free(&r);
        free(prompt);
        free(asked);
        free(key);
    }
    long enc = 0, reu = 0, pre_saved = 0, pre_reused = 0;
    if (m) lv_model_image_counts(m, &enc, &reu);
    if (m) lv_model_prefix_counts(m, &pre_saved, &pre_reused);
    if (f && fclose(f) != 0 && st == LV_OK) st = lv_fail(LV_ERR_IO, "%s: write failed: %s", v->output, strerror(errno));
    if (fd >= 0) close(fd);
    if (st == LV_OK && !v->quiet)
        fprintf(stderr, "lladav: vqa: %ld answered, %ld errors, %ld answered before, %ld duplicate ids skipped; "
                        "images: %ld encoded, %ld reused; %.1f s -> %s\n",
                n_ok, n_err, n_answered, n_dup, enc, reu, vq_now() - t0, v->output);
    if (st == LV_OK && !v->quiet && cli->reuse_prefix)
        fprintf(stderr, "lladav: vqa: --reuse-prefix: %ld prefixes computed, %ld passes took a kept one\n",
                pre_saved, pre_reused);
    lv_model_free(m);
    vq_set_free(&done);
    lv_bench_free(b);
    return st;
}

lv_status lv_cmd_vqa(int argc, char **argv)
{
    lv_gen_opts o;
    lv_gen_opts_default(&o);
    vq_opts v = {.think = "none", .image_cache_mb = LV_IMAGE_CACHE_MB};
    int image_cache = -1;
#define VQ_N_EXTRA 7
    lv_opt opts[LV_GEN_N_OPTS + VQ_N_EXTRA];
    lv_gen_opts_table(&o, opts);
    opts[0].help = "model directory (default: $LLADAV_MODEL, else the bundled " LV_BUNDLED_MODEL ")";
    memmove(opts + 1, opts + 2, (LV_GEN_N_OPTS - 2) * sizeof *opts);   /* no --prompt */
    const lv_opt extra[VQ_N_EXTRA] = {
        {"--input", "-i", LV_OPT_STR, &v.input, "Q.jsonl", "requests, one JSON object per line: id, image, question (required; - = stdin)"},
        {"--output", "-o", LV_OPT_STR, &v.output, "A.jsonl", "answers, appended; a rerun resumes (required; - = stdout, no resume)"},
        {"--image-root", NULL, LV_OPT_STR, &v.image_root, "DIR", "relative image paths are under DIR (default: the input's folder)"},
        {"--image-cache-mb", NULL, LV_OPT_COUNT, &image_cache, "N", "memory for encoded images kept for later questions (default 1024)"},
        {"--think-mode", NULL, LV_OPT_STR, &v.think, "M", "none, no_think or think: \" /M\" after each question (default none, as ask)"},
        {"--quiet", "-q", LV_OPT_FLAG, &v.quiet, NULL, "no progress on stderr"},
        {"--json-help", NULL, LV_OPT_FLAG, &v.json_help, NULL, "describe the input and output lines"},
    };
    int nopt = LV_GEN_N_OPTS - 1 + VQ_N_EXTRA;
    memcpy(opts + LV_GEN_N_OPTS - 1, extra, sizeof extra);
    const char *pos[8];
    int npos = 0, help = 0;
    LV_TRY(lv_cli_parse(argc, argv, opts, nopt, pos, 8, &npos, &help));
    if (help) {
        lv_cli_usage("vqa", "--input Q.jsonl --output A.jsonl [--model DIR] [options]",
                     "Answer every request of Q.jsonl, appending one record per id to A.jsonl, flushed per\n"
                     "line; run the same command again to resume after a crash or kill. Each distinct image\n"
                     "is decoded and encoded once. The sampler flags are the defaults of every line; a line\n"
                     "may override them (--json-help).", opts, nopt);
        return LV_OK;
    }
    if (v.json_help) {
        printf("Input line (native benchmark format, spec/benchmarks.md 3):\n"
               "  {\"id\": \"q1\" | 1, \"image\": \"cat.png\", \"question\": \"What is it?\",\n"
               "   optional: \"type\", \"choices\", \"hint\", \"prompt\", \"meta\" (copied to the record),\n"
               "   sampler: \"gen_length\", \"steps\", \"block_length\", \"temperature\", \"cfg\", \"remasking\",\n"
               "            \"seed\", \"mode\", \"cache\", \"dllm_cache\", \"cache_refresh\", \"threshold\", \"factor\"}\n"
               "  Relative image paths are under --image-root (default: the input's folder).\n"
               "Output record: {\"id\", \"model\", \"image\", \"question\" (as asked), \"answer\", \"image_width\",\n"
               "  \"image_height\", \"views\", \"image_reused\", \"tokens\": {...}, \"seconds\": {...},\n"
               "  \"sampler\": {...}, \"meta\"}, or for a bad line {\"id\" (null if none), \"line\", \"error\", \"status\"}.\n");
        return LV_OK;
    }
    if (npos) return lv_fail(LV_ERR_ARG, "vqa: unexpected argument '%s'", pos[0]);
    if (!v.input || !v.output) return lv_fail(LV_ERR_ARG, "vqa: --input Q.jsonl and --output A.jsonl are required");
    if (image_cache >= 0) v.image_cache_mb = image_cache;
    if (strcmp(v.think, "no_think") && strcmp(v.think, "think") && strcmp(v.think, "none"))
        return lv_fail(LV_ERR_ARG, "vqa: --think-mode '%s' is not none, no_think or think", v.think);
    if (o.gen_length < 1 || o.steps < 0 || o.block_length < 0)
        return lv_fail(LV_ERR_ARG, "vqa: --gen-length must be >= 1, --steps and --block-length >= 0");
    LV_TRY(lv_cli_precision(o.precision));
    lv_sampler_params check;   /* the command line's settings, checked before any work */
    LV_TRY(lv_gen_opts_sampler(&o, &check));
    return vq_run(&v, &o);
}
