/* The HTML report: one self-contained page (inline CSS, inline SVG drawn
 * here, no script, nothing fetched).  The picture is a radial chart: one
 * equal sector per category; within a sector the reached fraction of its
 * applicable probes is drawn red and the rest green, a category with
 * nothing applicable grey.  So the red share of the disc is the mean reached
 * fraction over the categories (tests/radius checks exactly that on a
 * screenshot); a dark red ring outside the disc marks every category where
 * anything at all was reached, so a single leak among many probes shows.  The chart sits at the page's top-left corner, CHART px
 * square, so a screenshot can be measured without parsing the page. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "radius/radius.h"
#include "util/cleanup.h"

#define CHART 520
#define RADIUS 160.0
#define COLOR_REACHED "#d62728"
#define COLOR_CONTAINED "#2ca02c"
#define COLOR_NA "#c7c7c7"
#define COLOR_ALERT "#8b0000"

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void wedge(FILE *f, double cx, double cy, double a0, double a1, const char *color)
{
    if (a1 - a0 < 1e-9)
        return;
    /* Angles in turns, 0 at the top, clockwise. */
    double x0 = cx + RADIUS * sin(2 * M_PI * a0), y0 = cy - RADIUS * cos(2 * M_PI * a0);
    double x1 = cx + RADIUS * sin(2 * M_PI * a1), y1 = cy - RADIUS * cos(2 * M_PI * a1);
    if (a1 - a0 >= 1.0 - 1e-9) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n", cx, cy, RADIUS,
                color);
        return;
    }
    fprintf(f, "<path d=\"M%.2f %.2f L%.2f %.2f A%.1f %.1f 0 %d 1 %.2f %.2f Z\" fill=\"%s\"/>\n",
            cx, cy, x0, y0, RADIUS, RADIUS, a1 - a0 > 0.5 ? 1 : 0, x1, y1, color);
}

static void chart(FILE *f, const cdn_radius_t *r, const char *id, int top, const char *tag)
{
    const char *cats[64];
    size_t nc = 0;
    for (size_t i = 0; cdn_rad_categories[i]; i++) {
        cdn_rad_count_t c = cdn_radius_count(r, cdn_rad_categories[i]);
        if (c.reached + c.contained + c.na)
            cats[nc++] = cdn_rad_categories[i];
    }
    double cx = CHART / 2.0, cy = CHART / 2.0;
    fprintf(f,
            "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" style=\"position:absolute;left:0;top:%dpx\" role=\"img\">\n",
            id, CHART, CHART, CHART, CHART, top);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", CHART, CHART);
    if (tag)
        fprintf(f,
                "<text x=\"12\" y=\"28\" font-size=\"22\" font-weight=\"bold\" "
                "fill=\"#222222\">%s</text>\n",
                tag);
    for (size_t k = 0; k < nc; k++) {
        cdn_rad_count_t c = cdn_radius_count(r, cats[k]);
        double a0 = (double)k / (double)nc, a1 = (double)(k + 1) / (double)nc;
        size_t app = c.reached + c.contained;
        fprintf(f, "<g><title>%s: reached %zu of %zu, %zu not applicable</title>\n", cats[k],
                c.reached, app, c.na);
        if (!app) {
            wedge(f, cx, cy, a0, a1, COLOR_NA);
        } else {
            double am = a0 + (a1 - a0) * (double)c.reached / (double)app;
            wedge(f, cx, cy, a0, am, COLOR_REACHED);
            wedge(f, cx, cy, am, a1, COLOR_CONTAINED);
        }
        if (c.reached) {
            /* Any reach at all must show, even one probe out of many: a ring
             * outside the disc, in a red the measured share does not count. */
            double r1 = RADIUS + 4, r2 = RADIUS + 9;
            fprintf(f,
                    "<path d=\"M%.2f %.2f A%.1f %.1f 0 %d 1 %.2f %.2f L%.2f %.2f A%.1f %.1f 0 %d 0 "
                    "%.2f %.2f Z\" fill=\"" COLOR_ALERT "\"/>\n",
                    cx + r1 * sin(2 * M_PI * a0), cy - r1 * cos(2 * M_PI * a0), r1, r1,
                    a1 - a0 > 0.5 ? 1 : 0, cx + r1 * sin(2 * M_PI * a1),
                    cy - r1 * cos(2 * M_PI * a1), cx + r2 * sin(2 * M_PI * a1),
                    cy - r2 * cos(2 * M_PI * a1), r2, r2, a1 - a0 > 0.5 ? 1 : 0,
                    cx + r2 * sin(2 * M_PI * a0), cy - r2 * cos(2 * M_PI * a0));
        }
        fprintf(f, "</g>\n");
        /* Sector edge and label. */
        if (nc > 1)
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#ffffff\" "
                    "stroke-width=\"2\"/>\n",
                    cx, cy, cx + RADIUS * sin(2 * M_PI * a0), cy - RADIUS * cos(2 * M_PI * a0));
        double am = (a0 + a1) / 2, lr = RADIUS + 22;
        double lx = cx + lr * sin(2 * M_PI * am), ly = cy - lr * cos(2 * M_PI * am);
        const char *anchor = fabs(lx - cx) < 20 ? "middle" : lx > cx ? "start" : "end";
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"13\" "
                "fill=\"#222222\"><tspan x=\"%.1f\">%s</tspan><tspan x=\"%.1f\" "
                "dy=\"15\">%zu/%zu</tspan></text>\n",
                lx, ly - 4, anchor, lx, cats[k], lx, c.reached, app);
    }
    cdn_rad_count_t t = cdn_radius_count(r, NULL);
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"54\" fill=\"#ffffff\"/>\n", cx, cy);
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" "
            "fill=\"#222222\">reached</text>\n",
            cx, cy - 6);
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"17\" "
            "font-weight=\"bold\" fill=\"#222222\">%zu of %zu</text>\n</svg>\n",
            cx, cy + 16, t.reached, t.reached + t.contained);
}

static void table(FILE *f, const cdn_radius_t *r, const char *tag)
{
    cdn_rad_count_t t = cdn_radius_count(r, NULL);
    fprintf(f, "<h2>%s", tag ? tag : "");
    esc(f, r->label);
    fprintf(f, "</h2>\n<p class=\"meta\">kernel ");
    esc(f, r->kernel);
    fprintf(f, ", uid %u, ", r->uid);
    esc(f, r->date);
    fprintf(f, "; settings: ");
    esc(f, r->settings);
    fprintf(f, "</p>\n<p class=\"sum\">reached %zu of %zu (%zu not applicable)</p>\n", t.reached,
            t.reached + t.contained, t.na);
    fprintf(f, "<table>\n");
    for (size_t k = 0; cdn_rad_categories[k]; k++) {
        cdn_rad_count_t c = cdn_radius_count(r, cdn_rad_categories[k]);
        if (!(c.reached + c.contained + c.na))
            continue;
        fprintf(f, "<tr><th colspan=\"3\">%s &mdash; reached %zu of %zu</th></tr>\n",
                cdn_rad_categories[k], c.reached, c.reached + c.contained);
        for (size_t i = 0; i < r->n; i++) {
            const cdn_rad_result_t *x = &r->v[i];
            if (strcmp(x->category, cdn_rad_categories[k]))
                continue;
            const char *cls = x->verdict == CDN_RAD_REACHED     ? "r"
                              : x->verdict == CDN_RAD_CONTAINED ? "c"
                                                                : "n";
            fprintf(f, "<tr><td><span class=\"b %s\">%s</span></td><td><code>", cls,
                    cdn_rad_verdict_name(x->verdict));
            esc(f, x->id);
            fprintf(f, "</code><br>");
            esc(f, x->description);
            fprintf(f, "</td><td class=\"ev\">");
            esc(f, x->evidence);
            fprintf(f, "</td></tr>\n");
        }
    }
    fprintf(f, "</table>\n");
}

int cdn_radius_write_html(const cdn_radius_t *a, const cdn_radius_t *b, const char *path,
                          cdn_error_t *err)
{
    _cleanup_fclose_ FILE *f = fopen(path, "we");
    if (!f)
        return cdn_error(err, errno, "creating %s", path);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<title>cordon radius</title>\n<style>\n"
            "body{margin:0;font-family:sans-serif;color:#222;background:#fff}\n"
            ".main{margin-left:%dpx;padding:12px 16px 24px 0;max-width:900px}\n"
            "h1{font-size:20px;margin:8px 0}h2{font-size:17px;margin:18px 0 4px}\n"
            ".meta{color:#555;font-size:12px;margin:2px 0}.sum{font-weight:bold}\n"
            "table{border-collapse:collapse;font-size:12px;width:100%%}\n"
            "th{text-align:left;background:#eef;padding:4px}td{border-top:1px solid #ddd;"
            "padding:3px 4px;vertical-align:top}\n"
            ".ev{color:#444;word-break:break-word}\n"
            ".b{display:inline-block;padding:1px 5px;border-radius:3px;white-space:nowrap}\n"
            ".b.r{background:#f6caca;color:#7a0000}.b.c{background:#cdeccd;color:#0b4d0b}"
            ".b.n{background:#e6e6e6;color:#555}\n"
            ".key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;"
            "vertical-align:middle;border:1px solid #888}\n"
            "</style></head><body>\n",
            CHART + 20);
    chart(f, a, "radius-a", 0, b ? "A" : NULL);
    if (b)
        chart(f, b, "radius-b", CHART, "B");
    fprintf(f, "<div class=\"main\">\n<h1>cordon radius: what a command in this sandbox could "
               "still reach</h1>\n");
    fprintf(f,
            "<p class=\"key\">chart: one sector per category;<span style=\"background:#f6caca\">"
            "</span>reached<span style=\"background:#cdeccd\"></span>contained"
            "<span style=\"background:#e6e6e6\"></span>nothing applicable"
               "<span style=\"background:#8b0000\"></span>ring: something reached%s</p>\n",
            b ? " (top: A, below: B)" : "");
    table(f, a, b ? "A: " : NULL);
    if (b)
        table(f, b, "B: ");
    fprintf(f, "</div>\n</body></html>\n");
    if (fflush(f) != 0 || ferror(f))
        return cdn_error(err, errno, "writing %s", path);
    return 0;
}
