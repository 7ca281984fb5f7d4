/* image.c - PNG/JPEG decoding to 8-bit RGB as PIL's Image.open(f).convert("RGB"), and
 * Pillow 9.4's BICUBIC resize reproduced bit for bit (src/libImaging/Resample.c).
 *
 *   bytes --magic--> libpng | libjpeg-turbo --(PIL mode rules)--> RGB u8 [H, W, 3]
 *
 * Both libraries report fatal errors through longjmp: the handlers below record one line and
 * jump back, so a corrupt or truncated file is an LV_ERR_IMAGE naming the file, never a
 * crash or a message on stderr. Declared dimensions are checked before any allocation.
 */
#include "vision.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

void lv_image_free(lv_image *img)
{
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

static lv_status check_dims(const char *name, long long w, long long h)
{
    if (w <= 0 || h <= 0)
        return lv_fail(LV_ERR_IMAGE, "%s: invalid image size %lldx%lld", name, w, h);
    if (w > LV_IMAGE_MAX_SIDE || h > LV_IMAGE_MAX_SIDE || w * h > LV_IMAGE_MAX_PIXELS)
        return lv_fail(LV_ERR_LIMIT,
                       "%s: image %lldx%lld exceeds the limit (max %d per side, %lld pixels)",
                       name, w, h, LV_IMAGE_MAX_SIDE, LV_IMAGE_MAX_PIXELS);
    return LV_OK;
}

static lv_status alloc_rgb(lv_image *img, const char *name, int w, int h)
{
    img->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!img->rgb) return lv_fail(LV_ERR_NOMEM, "%s: cannot allocate %dx%d RGB image", name, w, h);
    img->width = w;
    img->height = h;
    return LV_OK;
}

/* ---- PNG ------------------------------------------------------------------------------ */

typedef struct {
    const char          *name;
    const unsigned char *data;
    size_t               size, pos;
    char                 msg[200];
    lv_status            status;     /* set before png_error when not LV_ERR_IMAGE */
    png_structp          png;
    png_infop            info;
    unsigned char       *buf;        /* decoded rows [h or 1, rowbytes] */
    png_bytep           *rows;       /* [h or 1] pointers into buf */
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;   /* the library stays silent; PIL ignores the same ancillary problems */
}

static void png_on_read(png_structp png, png_bytep out, size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->size - c->pos) png_error(png, "truncated file");
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

/* One decoded PNG row (ch channels of bd bits, big-endian) to RGB: see png_decode. */
static void png_row_to_rgb(unsigned char *o, const unsigned char *r, png_uint_32 w, int ch,
                           int bd)
{
    int gray = ch <= 2, gray16 = bd == 16 && ch == 1, step = bd / 8;
    for (png_uint_32 x = 0; x < w; x++, o += 3, r += (size_t)ch * step) {
        if (gray16) {
            unsigned v = (unsigned)r[0] << 8 | r[1];
            o[0] = o[1] = o[2] = (unsigned char)(v > 255 ? 255 : v);
        } else if (gray) {
            o[0] = o[1] = o[2] = r[0];
        } else {
            o[0] = r[0];
            o[1] = r[step];
            o[2] = r[2 * step];
        }
    }
}

/* PIL modes of PNG (PngImagePlugin._MODES) and their convert("RGB"): 8-bit L/LA/RGB/RGBA/P
 * keep their samples; 16-bit "RGB;16B", "RGBA;16B", "LA;16B" unpack to the high byte; 16-bit
 * gray is mode "I" whose conversion to RGB clips the value to [0, 255]. */
static lv_status png_decode(png_ctx *c, lv_image *img)
{
    if (setjmp(png_jmpbuf(c->png)))
        return c->status != LV_OK ? c->status
                                  : lv_fail(LV_ERR_IMAGE, "%s: corrupt PNG: %s", c->name, c->msg);
    png_set_user_limits(c->png, 0x7fffffffU, 0x7fffffffU);   /* our own limits below */
    png_set_read_fn(c->png, c, png_on_read);
    png_read_info(c->png, c->info);

    png_uint_32 w = png_get_image_width(c->png, c->info), h = png_get_image_height(c->png, c->info);
    int color = png_get_color_type(c->png, c->info), depth = png_get_bit_depth(c->png, c->info);
    lv_status s = check_dims(c->name, w, h);
    if (s != LV_OK) return s;

    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);   /* + tRNS alpha */
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(c->png);
    int passes = png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);

    int ch = png_get_channels(c->png, c->info), bd = png_get_bit_depth(c->png, c->info);
    size_t rowbytes = png_get_rowbytes(c->png, c->info);
    if (ch < 1 || ch > 4 || (bd != 8 && bd != 16) || rowbytes < (size_t)w * ch * (bd / 8)) {
        snprintf(c->msg, sizeof c->msg, "unexpected layout (%d channels, %d bits)", ch, bd);
        png_error(c->png, c->msg);
    }
    if ((s = alloc_rgb(img, c->name, (int)w, (int)h)) != LV_OK) {
        c->status = s;
        png_error(c->png, "out of memory");
    }
    /* Interlaced images need every row at once (Adam7 passes); others go row by row. */
    png_uint_32 held = passes > 1 ? h : 1;
    c->buf = malloc(rowbytes * held);
    c->rows = malloc(sizeof *c->rows * held);
    if (!c->buf || !c->rows) {
        c->status = lv_fail(LV_ERR_NOMEM, "%s: cannot allocate %ux%u PNG rows", c->name, w, h);
        png_error(c->png, "out of memory");
    }
    for (png_uint_32 y = 0; y < held; y++) c->rows[y] = c->buf + (size_t)y * rowbytes;
    /* The reads check the IDAT CRCs and the zlib stream. No png_read_end: like PIL, chunks
     * after the image data (even a missing IEND) do not matter once every row is decoded. */
    if (passes > 1) {
        png_read_image(c->png, c->rows);
        for (png_uint_32 y = 0; y < h; y++)
            png_row_to_rgb(img->rgb + (size_t)y * w * 3, c->rows[y], w, ch, bd);
    } else {
        for (png_uint_32 y = 0; y < h; y++) {
            png_read_row(c->png, c->rows[0], NULL);
            png_row_to_rgb(img->rgb + (size_t)y * w * 3, c->rows[0], w, ch, bd);
        }
    }
    return LV_OK;
}

static lv_status decode_png(lv_image *img, const unsigned char *data, size_t size,
                            const char *name)
{
    png_ctx c = {.name = name, .data = data, .size = size, .status = LV_OK};
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, png_on_error, png_on_warning);
    if (c.png) c.info = png_create_info_struct(c.png);
    lv_status s = c.info ? png_decode(&c, img)
                         : lv_fail(LV_ERR_NOMEM, "%s: cannot create a PNG decoder", name);
    png_destroy_read_struct(c.png ? &c.png : NULL, c.info ? &c.info : NULL, NULL);
    free(c.buf);
    free(c.rows);
    if (s != LV_OK) lv_image_free(img);
    return s;
}

/* ---- JPEG ----------------------------------------------------------------------------- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf               jump;
    char                  msg[JMSG_LENGTH_MAX];
} jpeg_err;

typedef struct {
    const char                   *name;
    struct jpeg_decompress_struct cinfo;
    jpeg_err                      err;
    lv_status                     status;
    unsigned char                *row;    /* [width * components] */
} jpeg_ctx;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

/* Warnings stay silent, except running out of data: libjpeg would pad with gray, PIL raises
 * "image file is truncated", so we fail too. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_on_error(cinfo);
}

static void jpeg_on_output(j_common_ptr cinfo) { (void)cinfo; }

/* Pillow's Convert.c cmyk2rgb on the inverted ("CMYK;I", Adobe) samples. */
static unsigned char cmyk_channel(unsigned c, unsigned nk)
{
    unsigned t = c * nk + 128;
    int v = (int)nk - (int)(((t >> 8) + t) >> 8);
    return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static lv_status jpeg_decode(jpeg_ctx *c, lv_image *img, const unsigned char *data, size_t size)
{
    struct jpeg_decompress_struct *ci = &c->cinfo;
    if (setjmp(c->err.jump))
        return c->status != LV_OK ? c->status
                                  : lv_fail(LV_ERR_IMAGE, "%s: corrupt JPEG: %s", c->name,
                                            c->err.msg);
    jpeg_create_decompress(ci);
    jpeg_mem_src(ci, data, (unsigned long)size);
    jpeg_read_header(ci, TRUE);
    lv_status s = check_dims(c->name, ci->image_width, ci->image_height);
    if (s != LV_OK) return s;
    int comps = ci->num_components;
    if (comps == 1) {
        ci->out_color_space = JCS_GRAYSCALE;
    } else if (comps == 3) {
        ci->out_color_space = JCS_RGB;
    } else if (comps == 4) {
        ci->out_color_space = JCS_CMYK;   /* libjpeg converts YCCK -> CMYK */
    } else {
        return lv_fail(LV_ERR_UNSUPPORTED, "%s: JPEG with %d color components is not supported",
                       c->name, comps);
    }
    jpeg_start_decompress(ci);
    int w = (int)ci->output_width, h = (int)ci->output_height, oc = ci->output_components;
    if ((s = check_dims(c->name, w, h)) != LV_OK) return s;
    if (!(c->row = malloc((size_t)w * oc))) {
        c->status = lv_fail(LV_ERR_NOMEM, "%s: cannot allocate a JPEG row", c->name);
        return c->status;
    }
    if ((s = alloc_rgb(img, c->name, w, h)) != LV_OK) return s;
    while ((int)ci->output_scanline < h) {
        int y = (int)ci->output_scanline;
        JSAMPROW rp = c->row;
        if (jpeg_read_scanlines(ci, &rp, 1) != 1) {
            snprintf(c->err.msg, sizeof c->err.msg, "no data for row %d", y);
            longjmp(c->err.jump, 1);
        }
        unsigned char *o = img->rgb + (size_t)y * w * 3;
        const unsigned char *r = c->row;
        for (int x = 0; x < w; x++, o += 3, r += oc) {
            if (oc == 1) {
                o[0] = o[1] = o[2] = r[0];
            } else if (oc == 3) {
                o[0] = r[0], o[1] = r[1], o[2] = r[2];
            } else {
                unsigned nk = r[3];   /* 255 - k of the inverted sample 255 - r[3] */
                o[0] = cmyk_channel(255u - r[0], nk);
                o[1] = cmyk_channel(255u - r[1], nk);
                o[2] = cmyk_channel(255u - r[2], nk);
            }
        }
    }
    return LV_OK;
}

static lv_status decode_jpeg(lv_image *img, const unsigned char *data, size_t size,
                             const char *name)
{
    jpeg_ctx *c = calloc(1, sizeof *c);
    if (!c) return lv_fail(LV_ERR_NOMEM, "%s: cannot create a JPEG decoder", name);
    c->name = name;
    c->status = LV_OK;
    c->cinfo.err = jpeg_std_error(&c->err.pub);
    c->err.pub.error_exit = jpeg_on_error;
    c->err.pub.emit_message = jpeg_on_message;
    c->err.pub.output_message = jpeg_on_output;
    lv_status s = jpeg_decode(c, img, data, size);
    jpeg_destroy_decompress(&c->cinfo);
    free(c->row);
    free(c);
    if (s != LV_OK) lv_image_free(img);
    return s;
}

/* ---- entry points --------------------------------------------------------------------- */

static const char *sniff_other(const unsigned char *d, size_t n)
{
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) return "GIF";
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) return "WebP";
    if (n >= 2 && !memcmp(d, "BM", 2)) return "BMP";
    if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4))) return "TIFF";
    if (n == 0) return "empty file";
    return "unknown";
}

lv_status lv_image_decode(lv_image *img, const void *data, size_t size, const char *name)
{
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const unsigned char *d = data;
    if (!name) name = "<memory>";
    img->width = img->height = 0;
    img->rgb = NULL;
    if (size >= 8 && !memcmp(d, png_magic, 8)) return decode_png(img, d, size, name);
    if (size >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return decode_jpeg(img, d, size, name);
    return lv_fail(LV_ERR_UNSUPPORTED,
                   "%s: unsupported image format (%s; only PNG and JPEG are supported)", name,
                   sniff_other(d, size));
}

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

lv_status lv_image_decode_base64(lv_image *img, const char *b64, size_t len, const char *name)
{
    img->width = img->height = 0;
    img->rgb = NULL;
    if (!name) name = "<base64>";
    const char *comma = len > 5 && !memcmp(b64, "data:", 5) ? memchr(b64, ',', len) : NULL;
    if (comma) len -= (size_t)(comma + 1 - b64), b64 = comma + 1;
    if (len / 4 * 3 > (size_t)LV_IMAGE_MAX_BYTES)
        return lv_fail(LV_ERR_LIMIT, "%s: base64 image of %zu characters exceeds the limit",
                       name, len);
    unsigned char *buf = malloc(len / 4 * 3 + 3);
    if (!buf) return lv_fail(LV_ERR_NOMEM, "%s: cannot allocate %zu bytes", name, len);
    size_t n = 0, pad = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)b64[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
        if (ch == '=') {
            pad++;
            continue;
        }
        int v = b64_value(ch);
        if (v < 0 || pad) {   /* not in the alphabet, or data after the padding */
            free(buf);
            return lv_fail(LV_ERR_IMAGE, "%s: invalid base64 character 0x%02x at offset %zu",
                           name, ch, i);
        }
        acc = (acc << 6) | (unsigned)v, bits += 6;
        if (bits >= 8) bits -= 8, buf[n++] = (unsigned char)(acc >> bits);
    }
    lv_status s = lv_image_decode(img, buf, n, name);
    free(buf);
    return s;
}

lv_status lv_image_read_file(const char *path, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return lv_fail(LV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;   /* a directory opens too, and then "measures" LONG_MAX bytes */
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return lv_fail(LV_ERR_IO, "%s: not a regular file", path);
    }
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return lv_fail(LV_ERR_IO, "%s: cannot determine the file size", path);
    }
    if (len > LV_IMAGE_MAX_BYTES) {
        fclose(f);
        return lv_fail(LV_ERR_LIMIT, "%s: file of %ld bytes exceeds the limit of %lld bytes",
                       path, len, LV_IMAGE_MAX_BYTES);
    }
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf) {
        fclose(f);
        return lv_fail(LV_ERR_NOMEM, "%s: cannot allocate %ld bytes", path, len);
    }
    size_t got = fread(buf, 1, (size_t)len, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != (size_t)len) {
        free(buf);
        return lv_fail(LV_ERR_IO, "%s: read error", path);
    }
    *data = buf;
    *size = (size_t)len;
    return LV_OK;
}

lv_status lv_image_load(lv_image *img, const char *path)
{
    img->width = img->height = 0;
    img->rgb = NULL;
    unsigned char *buf;
    size_t len;
    LV_TRY(lv_image_read_file(path, &buf, &len));
    lv_status s = lv_image_decode(img, buf, len, path);
    free(buf);
    return s;
}

/* ---- Pillow BICUBIC (Resample.c, 8 bits per channel) ------------------------------------ */

#define LV_PREC_BITS 22   /* 32 - 8 - 2: fixed-point coefficient precision in Pillow */

static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* precompute_coeffs + normalize_coeffs_8bpc for the box [0, in]: per output o, the source
 * start bounds[2o], count bounds[2o+1], and ksize fixed-point weights at k[o*ksize]. */
static int bicubic_coeffs(int in, int out, int **bounds_out, int32_t **k_out)
{
    double scale = (double)(float)in / out, fs = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * fs;
    int ksize = (int)ceil(support) * 2 + 1;
    int *bounds = malloc(sizeof *bounds * 2 * (size_t)out);
    int32_t *kk = malloc(sizeof *kk * (size_t)ksize * out);
    double *w = malloc(sizeof *w * (size_t)ksize);
    if (!bounds || !kk || !w) {
        free(bounds), free(kk), free(w);
        return 0;
    }
    for (int o = 0; o < out; o++) {
        double center = (o + 0.5) * scale, ww = 0.0, ss = 1.0 / fs;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        int n = hi - lo, x;
        for (x = 0; x < n; x++) {
            w[x] = bicubic((x + lo - center + 0.5) * ss);
            ww += w[x];
        }
        int32_t *k = kk + (size_t)o * ksize;
        for (x = 0; x < n; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << LV_PREC_BITS))
                         : (int32_t)(0.5 + v * (1 << LV_PREC_BITS));
        }
        for (; x < ksize; x++) k[x] = 0;
        bounds[2 * o] = lo;
        bounds[2 * o + 1] = n;
    }
    free(w);
    *bounds_out = bounds;
    *k_out = kk;
    return ksize;
}

static inline uint8_t clip8(int32_t acc)
{
    int32_t v = acc >> LV_PREC_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

lv_status lv_image_resize(lv_image *out, const lv_image *in, int width, int height)
{
    out->rgb = NULL;
    out->width = out->height = 0;
    if (width <= 0 || height <= 0)
        return lv_fail(LV_ERR_ARG, "resize: invalid target size %dx%d", width, height);
    int W = in->width, H = in->height;
    LV_TRY(alloc_rgb(out, "resize", width, height));
    if (W == width && H == height) {
        memcpy(out->rgb, in->rgb, (size_t)W * H * 3);
        return LV_OK;
    }
    int *bh = NULL, *bv = NULL;
    int32_t *kh = NULL, *kv = NULL;
    uint8_t *tmp = NULL;
    int need_h = W != width, need_v = H != height;
    int ksh = need_h ? bicubic_coeffs(W, width, &bh, &kh) : 1;
    int ksv = need_v ? bicubic_coeffs(H, height, &bv, &kv) : 1;
    lv_status s = LV_OK;
    if (!ksh || !ksv) {
        s = lv_fail(LV_ERR_NOMEM, "resize: cannot allocate coefficients");
        goto done;
    }
    /* Horizontal pass over the source rows the vertical pass will read. */
    const uint8_t *src = in->rgb;
    int rows = H, first = 0;
    if (need_h) {
        if (need_v) {
            first = bv[0];
            rows = bv[2 * (height - 1)] + bv[2 * (height - 1) + 1] - first;
        }
        tmp = malloc((size_t)width * rows * 3);
        if (!tmp) {
            s = lv_fail(LV_ERR_NOMEM, "resize: cannot allocate %dx%d", width, rows);
            goto done;
        }
        uint8_t *dst = need_v ? tmp : out->rgb;
        for (int y = 0; y < rows; y++) {
            const uint8_t *r = in->rgb + (size_t)(y + first) * W * 3;
            for (int x = 0; x < width; x++) {
                const int32_t *k = kh + (size_t)x * ksh;
                int lo = bh[2 * x], n = bh[2 * x + 1];
                int32_t a0 = 1 << (LV_PREC_BITS - 1), a1 = a0, a2 = a0;
                for (int i = 0; i < n; i++) {
                    const uint8_t *p = r + (size_t)(lo + i) * 3;
                    a0 += p[0] * k[i];
                    a1 += p[1] * k[i];
                    a2 += p[2] * k[i];
                }
                uint8_t *o = dst + ((size_t)y * width + x) * 3;
                o[0] = clip8(a0), o[1] = clip8(a1), o[2] = clip8(a2);
            }
        }
        src = tmp;
    }
    if (need_v) {
        int sw = need_h ? width : W;   /* == width: a skipped horizontal pass keeps W */
        for (int y = 0; y < height; y++) {
            const int32_t *k = kv + (size_t)y * ksv;
            int lo = bv[2 * y] - first, n = bv[2 * y + 1];
            for (int x = 0; x < sw; x++) {
                int32_t a0 = 1 << (LV_PREC_BITS - 1), a1 = a0, a2 = a0;
                for (int i = 0; i < n; i++) {
                    const uint8_t *p = src + ((size_t)(lo + i) * sw + x) * 3;
                    a0 += p[0] * k[i];
                    a1 += p[1] * k[i];
                    a2 += p[2] * k[i];
                }
                uint8_t *o = out->rgb + ((size_t)y * width + x) * 3;
                o[0] = clip8(a0), o[1] = clip8(a1), o[2] = clip8(a2);
            }
        }
    }
done:
    free(bh), free(bv), free(kh), free(kv), free(tmp);
    if (s != LV_OK) lv_image_free(out);
    return s;
}
