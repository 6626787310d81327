/*
 * test_source_plan.c — the VRT XML reader's 1:1 decisions and their
 * reasons, source path resolution, remote path detection, the source index
 * against a brute-force painter's order, and grouping by source block.
 * No pixel I/O (the XML names files that are never opened).
 */
#include <gdal.h>

#include "check.h"
#include "remote.h"
#include "vrt_plan.h"
#include "vrt_xml.h"

static const char *simple_vrt =
    "<VRTDataset rasterXSize=\"100\" rasterYSize=\"80\">"
    " <VRTRasterBand dataType=\"Int16\" band=\"1\"><NoDataValue>-1</NoDataValue>"
    "  <SimpleSource><SourceFilename relativeToVRT=\"1\">a.tif</SourceFilename>"
    "   <SourceBand>1</SourceBand>"
    "   <SourceProperties RasterXSize=\"50\" RasterYSize=\"40\" DataType=\"Int16\" "
    "    BlockXSize=\"16\" BlockYSize=\"8\"/>"
    "   <SrcRect xOff=\"0\" yOff=\"0\" xSize=\"50\" ySize=\"40\"/>"
    "   <DstRect xOff=\"0\" yOff=\"0\" xSize=\"50\" ySize=\"40\"/></SimpleSource>"
    "  <ComplexSource><SourceFilename relativeToVRT=\"0\">/abs/b.tif</SourceFilename>"
    "   <SourceBand>2</SourceBand>"
    "   <SrcRect xOff=\"5\" yOff=\"6\" xSize=\"60\" ySize=\"50\"/>"
    "   <DstRect xOff=\"30\" yOff=\"20\" xSize=\"60\" ySize=\"50\"/><NODATA>nan</NODATA>"
    "   <ScaleOffset>0</ScaleOffset><ScaleRatio>1</ScaleRatio></ComplexSource>"
    " </VRTRasterBand>"
    "</VRTDataset>";

/* A one-band VRT with the given source element body (inside the band). */
static rp_vrt *parse_band(const char *band_attrs, const char *body, char *why, size_t n) {
    static char xml[8192];
    snprintf(xml, sizeof xml,
             "<VRTDataset rasterXSize=\"10\" rasterYSize=\"10\">"
             "<VRTRasterBand dataType=\"Int16\" band=\"1\" %s>%s</VRTRasterBand></VRTDataset>",
             band_attrs, body);
    return rp_vrt_parse(xml, "/data/m.vrt", why, n);
}

#define RECT(sx, sy, sw, sh, dx, dy, dw, dh)                                                       \
    "<SrcRect xOff=\"" #sx "\" yOff=\"" #sy "\" xSize=\"" #sw "\" ySize=\"" #sh "\"/>"             \
    "<DstRect xOff=\"" #dx "\" yOff=\"" #dy "\" xSize=\"" #dw "\" ySize=\"" #dh "\"/>"

static void expect_reason(const char *band_attrs, const char *body, const char *reason) {
    char why[256] = "";
    rp_vrt *v = parse_band(band_attrs, body, why, sizeof why);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK(!v->bands[0].direct);
    if (!strstr(v->bands[0].reason, reason)) {
        fprintf(stderr, "reason '%s' lacks '%s'\n", v->bands[0].reason, reason);
        CHECK(0);
    }
    rp_vrt_free(v);
}

static void test_parse(void) {
    char why[256] = "";
    rp_vrt *v = rp_vrt_parse(simple_vrt, "/data/m.vrt", why, sizeof why);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_EQ_INT(v->nbands, 1);
    rp_vrt_band *b = &v->bands[0];
    CHECK(b->direct);
    CHECK_EQ_INT(b->type, GDT_Int16);
    CHECK_EQ_INT(b->nsources, 2);
    CHECK_EQ_STR(b->sources[0].path, "/data/a.tif");
    CHECK(b->sources[0].props_known);
    CHECK_EQ_INT(b->sources[0].block_w, 16);
    CHECK_EQ_INT(b->sources[0].block_h, 8);
    CHECK(!b->sources[0].has_nodata);
    CHECK_EQ_STR(b->sources[1].path, "/abs/b.tif");
    CHECK_EQ_INT(b->sources[1].band, 2);
    CHECK_EQ_INT(b->sources[1].src_x, 5);
    CHECK_EQ_INT(b->sources[1].dst_y, 20);
    CHECK(b->sources[1].has_nodata && isnan(b->sources[1].nodata));
    CHECK(!b->sources[1].props_known);
    CHECK(!v->remote);
    rp_vrt_free(v);

    /* relative to a remote VRT; a bare URL source gets /vsicurl/ */
    v = parse_band(
        "",
        "<SimpleSource><SourceFilename relativeToVRT=\"1\">t/a.tif</SourceFilename>" RECT(
            0, 0, 5, 5, 0, 0, 5,
            5) "</SimpleSource>"
               "<SimpleSource><SourceFilename>https://h/x.tif</SourceFilename>" RECT(
                   0, 0, 5, 5, 5, 5, 5, 5) "</SimpleSource>",
        why, sizeof why);
    CHECK(v && v->bands[0].direct && v->remote);
    if (v) {
        CHECK_EQ_STR(v->bands[0].sources[0].path, "/data/t/a.tif");
        CHECK_EQ_STR(v->bands[0].sources[1].path, "/vsicurl/https://h/x.tif");
        rp_vrt_free(v);
    }
    v = rp_vrt_parse("<VRTDataset rasterXSize=\"1\" rasterYSize=\"1\"><VRTRasterBand "
                     "dataType=\"Byte\"><SimpleSource><SourceFilename relativeToVRT=\"1\">a.tif"
                     "</SourceFilename>" RECT(0, 0, 1, 1, 0, 0, 1,
                                              1) "</SimpleSource></VRTRasterBand></VRTDataset>",
                     "/vsicurl/http://host/dir/m.vrt", why, sizeof why);
    CHECK(v && v->remote);
    if (v) {
        CHECK_EQ_STR(v->bands[0].sources[0].path, "/vsicurl/http://host/dir/a.tif");
        rp_vrt_free(v);
    }

    /* what falls back, and why */
    expect_reason("",
                  "<SimpleSource><SourceFilename>a.tif</SourceFilename>" RECT(0, 0, 5, 5, 0, 0, 10,
                                                                              10) "</SimpleSource>",
                  "resampled (SrcRect 5x5 to DstRect 10x10)");
    expect_reason("",
                  "<ComplexSource><SourceFilename>a.tif</SourceFilename>" RECT(
                      0, 0, 5, 5, 0, 0, 5, 5) "<LUT>0:0,1:10</LUT></ComplexSource>",
                  "changes values (LUT)");
    expect_reason("",
                  "<ComplexSource><SourceFilename>a.tif</SourceFilename>" RECT(
                      0, 0, 5, 5, 0, 0, 5, 5) "<ScaleRatio>2</ScaleRatio></ComplexSource>",
                  "changes values (ScaleRatio)");
    expect_reason("",
                  "<KernelFilteredSource><SourceFilename>a.tif</SourceFilename>"
                  "</KernelFilteredSource>",
                  "is a KernelFilteredSource");
    expect_reason("",
                  "<AveragedSource><SourceFilename>a.tif</SourceFilename>" RECT(
                      0, 0, 5, 5, 0, 0, 5, 5) "</AveragedSource>",
                  "is a AveragedSource");
    expect_reason("subClass=\"VRTDerivedRasterBand\"", "", "is a VRTDerivedRasterBand");
    expect_reason("", "<SimpleSource><SourceFilename>a.tif</SourceFilename></SimpleSource>",
                  "no SrcRect/DstRect");
    expect_reason("",
                  "<SimpleSource><SourceFilename>a.tif</SourceFilename>" RECT(0.5, 0, 5, 5, 0, 0, 5,
                                                                              5) "</SimpleSource>",
                  "not whole pixels");
    expect_reason(
        "",
        "<SimpleSource><SourceFilename>a.tif</SourceFilename>"
        "<SourceProperties RasterXSize=\"5\" RasterYSize=\"5\" DataType=\"Float32\""
        " BlockXSize=\"5\" BlockYSize=\"5\"/>" RECT(0, 0, 5, 5, 0, 0, 5, 5) "</SimpleSource>",
        "is Float32, the band Int16");
    expect_reason("",
                  "<SimpleSource><SourceFilename>a.tif</SourceFilename>"
                  "<SourceBand>mask,1</SourceBand>" RECT(0, 0, 5, 5, 0, 0, 5, 5) "</SimpleSource>",
                  "mask band");
    expect_reason("", "<MaskBand><VRTRasterBand dataType=\"Byte\"/></MaskBand>", "mask band");
    expect_reason("",
                  "<SimpleSource><SourceFilename>a.tif</SourceFilename>"
                  "<OpenOptions><OOI key=\"A\">B</OOI></OpenOptions>" RECT(0, 0, 5, 5, 0, 0, 5,
                                                                           5) "</SimpleSource>",
                  "open options");
    expect_reason("", "<HideNoDataValue>1</HideNoDataValue>", "hides its nodata");

    /* not plannable at all */
    CHECK(rp_vrt_parse("<VRTDataset subClass=\"VRTWarpedDataset\"/>", NULL, why, sizeof why) ==
          NULL);
    CHECK(strstr(why, "VRTWarpedDataset") != NULL);
    CHECK(rp_vrt_parse("<VRTDataset><unclosed>", NULL, why, sizeof why) == NULL);
    CHECK(rp_vrt_parse("<GDAL_WMS/>", NULL, why, sizeof why) == NULL);
    CHECK(strstr(why, "not a VRTDataset") != NULL);
    rp_vrt_free(NULL);
}

static void test_remote(void) {
    CHECK(rp_path_is_remote("/vsicurl/http://a/b.tif"));
    CHECK(rp_path_is_remote("/vsis3/bucket/k.tif"));
    CHECK(rp_path_is_remote("/vsigs/b/k.tif"));
    CHECK(rp_path_is_remote("/vsiaz/c/k.tif"));
    CHECK(rp_path_is_remote("https://h/k.tif"));
    CHECK(rp_path_is_remote("http://h/k.tif"));
    CHECK(rp_path_is_remote("/vsizip//vsicurl/http://h/a.zip/x.tif"));
    CHECK(!rp_path_is_remote("/data/http.tif"));
    CHECK(!rp_path_is_remote("/vsizip/a.zip/x.tif"));
    CHECK(!rp_path_is_remote("dem.tif"));
    CHECK(!rp_path_is_remote(NULL));
    char *p = rp_remote_gdal_path("https://h/k.tif");
    CHECK_EQ_STR(p, "/vsicurl/https://h/k.tif");
    free(p);
    p = rp_remote_gdal_path("/vsis3/b/k.tif");
    CHECK_EQ_STR(p, "/vsis3/b/k.tif");
    free(p);
}

/* Random sources on a W x H VRT; the index must give, for every cell and
 * every limit, the last source (below the limit) whose clipped window holds
 * it, as a brute-force walk computes. */
static uint32_t brute(const rp_vrt_band *b, int64_t c, int64_t r, uint32_t limit) {
    for (uint32_t s = limit; s-- > 0;) {
        const rp_vrt_source *x = &b->sources[s];
        int64_t w = x->w, h = x->h;
        if (x->props_known) {
            if (x->src_x + w > x->raster_w)
                w = x->raster_w - x->src_x;
            if (x->src_y + h > x->raster_h)
                h = x->raster_h - x->src_y;
        }
        if (c >= x->dst_x && c < x->dst_x + w && r >= x->dst_y && r < x->dst_y + h)
            return s;
    }
    return RP_NO_SOURCE;
}

static void test_index(void) {
    enum { W = 97, H = 61, N = 40 };
    rp_vrt_source src[N];
    memset(src, 0, sizeof src);
    uint32_t seed = 12345;
#define RND(n) ((seed = seed * 1103515245u + 12345u) >> 8) % (uint32_t)(n)
    for (int i = 0; i < N; i++) {
        src[i].w = 1 + RND(40);
        src[i].h = 1 + RND(30);
        src[i].dst_x = (int64_t)RND(W + 20) - 10;
        src[i].dst_y = (int64_t)RND(H + 20) - 10;
        src[i].src_x = RND(5);
        src[i].src_y = RND(5);
        src[i].props_known = RND(2);
        src[i].raster_w = src[i].src_x + 1 + RND(45);
        src[i].raster_h = src[i].src_y + 1 + RND(35);
        src[i].block_w = 1 + RND(16);
        src[i].block_h = 1 + RND(16);
    }
    rp_vrt_band band = {.band = 1, .type = GDT_Byte, .direct = true, .sources = src, .nsources = N};
    rp_source_index ix;
    CHECK_EQ_INT(rp_source_index_build(&ix, &band, W, H, 1u << 20), 0);
    int mismatches = 0, found = 0;
    for (int64_t r = 0; r < H; r++)
        for (int64_t c = 0; c < W; c++)
            for (uint32_t limit = 0; limit <= N; limit += 7) {
                uint32_t a = rp_source_lookup(&ix, &band, c, r, limit);
                uint32_t b = brute(&band, c, r, limit);
                mismatches += a != b;
                found += a != RP_NO_SOURCE;
            }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(found > 1000);
    CHECK(rp_source_lookup(&ix, &band, -1, 0, N) == RP_NO_SOURCE);
    CHECK(rp_source_lookup(&ix, &band, W, 0, N) == RP_NO_SOURCE);
    rp_source_index_free(&ix);
    /* a bound on the index size is honoured */
    CHECK_EQ_INT(rp_source_index_build(&ix, &band, W, H, 3), -1);
    rp_source_index_free(&ix);

    /* grouping: every point once, by (source, block row, block column) */
    enum { NP = 500 };
    uint64_t cell[NP];
    uint32_t points[NP], sources[NP];
    size_t n = 0;
    for (uint32_t i = 0; i < NP; i++) {
        int64_t c = RND(W), r = RND(H);
        cell[i] = (uint64_t)(r * W + c);
        uint32_t s = brute(&band, c, r, N);
        if (s == RP_NO_SOURCE)
            continue;
        points[n] = i;
        sources[n++] = s;
    }
    rp_source_tasks t;
    CHECK_EQ_INT(rp_source_tasks_build(&t, &band, W, cell, points, sources, n), 0);
    CHECK_EQ_INT(t.norder, n);
    size_t total = 0;
    int bad = 0;
    unsigned char seen[NP] = {0};
    for (size_t k = 0; k < t.ntasks; k++) {
        const rp_source_task *task = &t.tasks[k];
        total += task->count;
        CHECK(task->count > 0);
        if (k > 0) {
            const rp_source_task *prev = &t.tasks[k - 1];
            bad += prev->source > task->source ||
                   (prev->source == task->source &&
                    (prev->block_y > task->block_y ||
                     (prev->block_y == task->block_y && prev->block_x >= task->block_x)));
        }
        for (size_t j = 0; j < task->count; j++) {
            uint32_t p = t.order[task->start + j];
            seen[p]++;
            const rp_vrt_source *s = &src[task->source];
            int64_t c = (int64_t)(cell[p] % W), r = (int64_t)(cell[p] / W);
            bad += (c - s->dst_x + s->src_x) / s->block_w != task->block_x;
            bad += (r - s->dst_y + s->src_y) / s->block_h != task->block_y;
            bad += brute(&band, c, r, N) != task->source;
            if (j > 0)
                bad += t.order[task->start + j - 1] >= p; /* input order within a block */
        }
    }
    CHECK_EQ_INT(total, n);
    CHECK_EQ_INT(bad, 0);
    for (size_t k = 0; k < n; k++)
        bad += seen[points[k]] != 1;
    CHECK_EQ_INT(bad, 0);
    rp_source_tasks_free(&t);
    rp_source_tasks_free(NULL);
}

int main(void) {
    test_parse();
    test_remote();
    test_index();
    return CHECK_DONE();
}
