/* SPDX-License-Identifier: ISC */
/* Images: lossless cleaning of JPEG, PNG and WebP, shrinking, thumbnails.
 * The sample images are made here (libjpeg, libexif, zlib, libwebp), so
 * the test needs nothing but the libraries folio links. */
#include "unit.h"

#include <jpeglib.h>
#include <libexif/exif-data.h>
#include <vips/vips.h>
#include <webp/decode.h>
#include <webp/encode.h>
#include <webp/mux.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <zlib.h>

enum { ALL_JPEG_FLAGS = FOLIO_IMAGE_GPS | FOLIO_IMAGE_CAMERA | FOLIO_IMAGE_EXIF |
			FOLIO_IMAGE_XMP | FOLIO_IMAGE_IPTC | FOLIO_IMAGE_COMMENT |
			FOLIO_IMAGE_THUMBNAIL };

static const char xmp_payload[] =
	"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
	"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
	"<rdf:Description photoshop:City='Cairo' "
	"xmlns:photoshop='http://ns.adobe.com/photoshop/1.0/'/></rdf:RDF></x:xmpmeta>";
static const char iptc_payload[] = "Photoshop 3.0\0" "8BIM\x04\x04\0\0\0\0\0\x0a\x1c\x02\x5a\0\x05" "Cairo";
static const char comment_payload[] = "taken at 30.0457N 31.2381E";

/* ---- pictures ------------------------------------------------------------- */

/* Gradients and a little pseudo-random texture, different in each corner so
 * that a rotation shows. */
static uint8_t *picture(unsigned w, unsigned h, unsigned channels, uint32_t seed)
{
	uint8_t *p = malloc((size_t)w * h * channels);
	uint32_t x = seed * 2654435761u + 1;

	assert_non_null(p);
	for (unsigned y = 0; y < h; y++)
		for (unsigned i = 0; i < w; i++) {
			uint8_t *px = p + ((size_t)y * w + i) * channels;
			x = x * 1664525u + 1013904223u;
			int noise = (int)(x >> 27) - 16;
			int v[4] = { (int)(i * 255 / w) + noise, (int)(y * 255 / h) + noise,
				     (i < w / 4 && y < h / 4) ? 250 : 60 + noise, 255 };
			if (channels == 4)
				v[3] = i < w / 2 ? 255 : 128;
			for (unsigned c = 0; c < channels; c++)
				px[c] = (uint8_t)(v[c] < 0 ? 0 : v[c] > 255 ? 255 : v[c]);
		}
	return p;
}

/* ---- EXIF made with libexif ------------------------------------------------ */

static void exif_put(ExifData *ed, ExifIfd ifd, unsigned tag, ExifFormat format,
		     const void *data, size_t size, unsigned components)
{
	ExifEntry *e = exif_entry_new();

	assert_non_null(e);
	e->tag = (ExifTag)tag;
	e->format = format;
	e->components = components;
	e->size = (unsigned)size;
	e->data = malloc(size); /* libexif's default allocator frees with free() */
	assert_non_null(e->data);
	memcpy(e->data, data, size);
	exif_content_add_entry(ed->ifd[ifd], e);
	exif_entry_unref(e);
}

static void exif_put_ascii(ExifData *ed, ExifIfd ifd, unsigned tag, const char *s)
{
	exif_put(ed, ifd, tag, EXIF_FORMAT_ASCII, s, strlen(s) + 1, (unsigned)strlen(s) + 1);
}

struct exif_recipe {
	unsigned orientation; /* 0: none */
	bool gps, serial, make;
	const uint8_t *thumbnail;
	size_t thumbnail_len;
};

/* An EXIF block with its "Exif\0\0" header; malloc'd. */
static uint8_t *make_exif(const struct exif_recipe *r, size_t *len)
{
	ExifData *ed = exif_data_new();
	assert_non_null(ed);
	exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_INTEL);
	if (r->orientation != 0) {
		uint8_t v[2];
		exif_set_short(v, EXIF_BYTE_ORDER_INTEL, (ExifShort)r->orientation);
		exif_put(ed, EXIF_IFD_0, 0x0112, EXIF_FORMAT_SHORT, v, 2, 1);
	}
	if (r->make)
		exif_put_ascii(ed, EXIF_IFD_0, 0x010f, "FolioCam");
	if (r->serial) {
		exif_put_ascii(ed, EXIF_IFD_EXIF, 0xa431, "SN-123456789");
		exif_put_ascii(ed, EXIF_IFD_EXIF, 0xa430, "Jane Reporter");
	}
	if (r->gps) {
		uint8_t rat[24];
		ExifRational deg[3] = { { 30, 1 }, { 2, 1 }, { 4440, 100 } };
		for (int i = 0; i < 3; i++)
			exif_set_rational(rat + 8 * i, EXIF_BYTE_ORDER_INTEL, deg[i]);
		exif_put_ascii(ed, EXIF_IFD_GPS, 0x0001, "N");
		exif_put(ed, EXIF_IFD_GPS, 0x0002, EXIF_FORMAT_RATIONAL, rat, 24, 3);
	}
	if (r->thumbnail != NULL) {
		ed->data = malloc(r->thumbnail_len);
		assert_non_null(ed->data);
		memcpy(ed->data, r->thumbnail, r->thumbnail_len);
		ed->size = (unsigned)r->thumbnail_len;
	}
	unsigned char *d = NULL;
	unsigned n = 0;
	exif_data_save_data(ed, &d, &n);
	exif_data_unref(ed);
	assert_non_null(d);
	*len = n;
	return d;
}

/* What a parsed EXIF block holds: entries per IFD and the orientation. */
struct exif_seen {
	unsigned entries[EXIF_IFD_COUNT];
	unsigned orientation;
	bool thumbnail;
};

static struct exif_seen read_exif(const uint8_t *data, size_t len)
{
	struct exif_seen s = { { 0 }, 0, false };
	uint8_t *buf = malloc(len + 6);
	assert_non_null(buf);
	memcpy(buf, "Exif\0\0", 6);
	memcpy(buf + 6, data, len);
	bool header = len >= 6 && memcmp(data, "Exif\0\0", 6) == 0;
	ExifData *ed = exif_data_new();
	exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_load_data(ed, header ? buf + 6 : buf, (unsigned)len + (header ? 0 : 6));
	free(buf);
	for (int i = 0; i < EXIF_IFD_COUNT; i++)
		s.entries[i] = ed->ifd[i]->count;
	ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
	if (e != NULL)
		s.orientation = exif_get_short(e->data, exif_data_get_byte_order(ed));
	s.thumbnail = ed->data != NULL;
	exif_data_unref(ed);
	return s;
}

/* ---- JPEG with libjpeg ----------------------------------------------------- */

struct jpeg_recipe {
	unsigned w, h;
	bool progressive;
	bool jfif;
	const uint8_t *exif;
	size_t exif_len;
	bool xmp, iptc, comment, icc;
	uint32_t seed;
	int quality;
};

static uint8_t *make_jpeg(const struct jpeg_recipe *r, size_t *len)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr err;
	unsigned char *out = NULL;
	unsigned long n = 0;
	uint8_t *px = picture(r->w, r->h, 3, r->seed);

	c.err = jpeg_std_error(&err);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &n);
	c.image_width = r->w;
	c.image_height = r->h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, r->quality > 0 ? r->quality : 85, TRUE);
	c.write_JFIF_header = r->jfif;
	if (r->progressive)
		jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	if (r->exif != NULL)
		jpeg_write_marker(&c, JPEG_APP0 + 1, r->exif, (unsigned)r->exif_len);
	if (r->xmp)
		jpeg_write_marker(&c, JPEG_APP0 + 1, (const JOCTET *)xmp_payload,
				  sizeof(xmp_payload) - 1);
	if (r->icc) {
		/* A profile in two segments, as large ones are stored. */
		uint8_t seg[40];
		for (int i = 1; i <= 2; i++) {
			memcpy(seg, "ICC_PROFILE\0", 12);
			seg[12] = (uint8_t)i;
			seg[13] = 2;
			memset(seg + 14, 'a' + i, sizeof(seg) - 14);
			jpeg_write_marker(&c, JPEG_APP0 + 2, seg, sizeof(seg));
		}
	}
	if (r->iptc)
		jpeg_write_marker(&c, JPEG_APP0 + 13, (const JOCTET *)iptc_payload,
				  sizeof(iptc_payload) - 1);
	if (r->comment)
		jpeg_write_marker(&c, JPEG_COM, (const JOCTET *)comment_payload,
				  sizeof(comment_payload) - 1);
	for (unsigned y = 0; y < r->h; y++) {
		JSAMPROW row = px + (size_t)y * r->w * 3;
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(px);
	*len = n;
	return out; /* malloc'd by libjpeg */
}

/* A decoded JPEG and the segments it carries. */
struct jpeg_seen {
	unsigned w, h;
	uint8_t *pixels;
	bool progressive;
	unsigned app1_exif, app1_other, app2_icc, app13, com, other;
	uint8_t *exif; /* the first EXIF segment, copied */
	size_t exif_len;
	uint8_t icc[2][64];
	size_t icc_len[2];
};

static struct jpeg_seen read_jpeg(const uint8_t *data, size_t len)
{
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr err;
	struct jpeg_seen s;

	memset(&s, 0, sizeof(s));
	d.err = jpeg_std_error(&err);
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, (unsigned long)len);
	for (int i = 0; i < 16; i++)
		jpeg_save_markers(&d, JPEG_APP0 + i, 0xffff);
	jpeg_save_markers(&d, JPEG_COM, 0xffff);
	assert_int_equal(jpeg_read_header(&d, TRUE), JPEG_HEADER_OK);
	d.out_color_space = JCS_RGB;
	s.progressive = d.progressive_mode;
	jpeg_start_decompress(&d);
	s.w = d.output_width;
	s.h = d.output_height;
	s.pixels = malloc((size_t)s.w * s.h * 3);
	assert_non_null(s.pixels);
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = s.pixels + (size_t)d.output_scanline * s.w * 3;
		jpeg_read_scanlines(&d, &row, 1);
	}
	for (jpeg_saved_marker_ptr m = d.marker_list; m != NULL; m = m->next) {
		if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
		    memcmp(m->data, "Exif\0\0", 6) == 0) {
			if (s.app1_exif++ == 0) {
				s.exif = malloc(m->data_length);
				assert_non_null(s.exif);
				memcpy(s.exif, m->data, m->data_length);
				s.exif_len = m->data_length;
			}
		} else if (m->marker == JPEG_APP0 + 1)
			s.app1_other++;
		else if (m->marker == JPEG_APP0 + 2 && m->data_length >= 12 &&
			 memcmp(m->data, "ICC_PROFILE", 12) == 0) {
			if (s.app2_icc < 2 && m->data_length <= 64) {
				memcpy(s.icc[s.app2_icc], m->data, m->data_length);
				s.icc_len[s.app2_icc] = m->data_length;
			}
			s.app2_icc++;
		} else if (m->marker == JPEG_APP0 + 13)
			s.app13++;
		else if (m->marker == JPEG_COM)
			s.com++;
		else if (m->marker != JPEG_APP0 && m->marker != JPEG_APP0 + 14)
			s.other++;
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return s;
}

static void jpeg_seen_release(struct jpeg_seen *s)
{
	free(s->pixels);
	free(s->exif);
}

/* ---- PNG by hand ----------------------------------------------------------- */

struct buf {
	uint8_t *data;
	size_t len;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	b->data = realloc(b->data, b->len + n + 1);
	assert_non_null(b->data);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void png_chunk(struct buf *b, const char *type, const void *data, size_t n)
{
	uint8_t head[8], crc[4];
	be32(head, (uint32_t)n);
	memcpy(head + 4, type, 4);
	uLong c = crc32(crc32(0L, head + 4, 4), data, (uInt)n);
	be32(crc, (uint32_t)c);
	buf_add(b, head, 8);
	if (n > 0)
		buf_add(b, data, n);
	buf_add(b, crc, 4);
}

struct png_recipe {
	unsigned w, h;
	bool alpha;
	bool text, xmp, time, icc, gamma;
	const uint8_t *exif; /* raw TIFF, no header */
	size_t exif_len;
	uint32_t seed;
};

static uint8_t *make_png(const struct png_recipe *r, size_t *len)
{
	struct buf b = { NULL, 0 };
	unsigned ch = r->alpha ? 4 : 3;
	uint8_t ihdr[13];

	buf_add(&b, "\x89PNG\r\n\x1a\n", 8);
	be32(ihdr, r->w);
	be32(ihdr + 4, r->h);
	ihdr[8] = 8;
	ihdr[9] = r->alpha ? 6 : 2;
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	png_chunk(&b, "IHDR", ihdr, 13);
	if (r->gamma) {
		uint8_t g[4];
		be32(g, 45455);
		png_chunk(&b, "gAMA", g, 4);
	}
	if (r->icc) {
		/* An iCCP chunk (name, method 0, zlib data) with libvips'
		 * own sRGB profile. */
		VipsBlob *profile = NULL;
		assert_int_equal(vips_profile_load("srgb", &profile, NULL), 0);
		size_t plen;
		const void *p = vips_blob_get(profile, &plen);
		uLongf zn = compressBound(plen);
		uint8_t *chunk = malloc(6 + zn);
		assert_non_null(chunk);
		memcpy(chunk, "sRGB\0\0", 6);
		assert_int_equal(compress(chunk + 6, &zn, p, plen), Z_OK);
		png_chunk(&b, "iCCP", chunk, 6 + zn);
		free(chunk);
		vips_area_unref(VIPS_AREA(profile));
	}
	if (r->text) {
		png_chunk(&b, "tEXt", "Author\0Jane Reporter", 20);
		png_chunk(&b, "tEXt", "GPS\0" "30.0457N 31.2381E", 21);
	}
	if (r->xmp) {
		static const char x[] = "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>";
		png_chunk(&b, "iTXt", x, sizeof(x) - 1);
	}
	if (r->time)
		png_chunk(&b, "tIME", "\x07\xe9\x0b\x1c\x0a\x14\x1e", 7);
	if (r->exif != NULL)
		png_chunk(&b, "eXIf", r->exif, r->exif_len);

	uint8_t *px = picture(r->w, r->h, ch, r->seed);
	size_t rowlen = (size_t)r->w * ch + 1, rawlen = rowlen * r->h;
	uint8_t *raw = malloc(rawlen);
	assert_non_null(raw);
	for (unsigned y = 0; y < r->h; y++) {
		raw[y * rowlen] = 0;
		memcpy(raw + y * rowlen + 1, px + (size_t)y * r->w * ch, rowlen - 1);
	}
	uLongf zn = compressBound(rawlen);
	uint8_t *z = malloc(zn);
	assert_non_null(z);
	assert_int_equal(compress2(z, &zn, raw, rawlen, 9), Z_OK);
	/* Two IDAT chunks, to see that both go through. */
	png_chunk(&b, "IDAT", z, zn / 2);
	png_chunk(&b, "IDAT", z + zn / 2, zn - zn / 2);
	png_chunk(&b, "IEND", "", 0);
	free(z);
	free(raw);
	free(px);
	*len = b.len;
	return b.data;
}

/* The chunk types of a PNG, as a string "IHDR gAMA ...". */
static void png_chunk_list(const uint8_t *d, size_t len, char *out, size_t size)
{
	size_t pos = 8, o = 0;
	out[0] = '\0';
	while (pos + 12 <= len && o + 6 < size) {
		uint32_t n = (uint32_t)d[pos] << 24 | (uint32_t)d[pos + 1] << 16 |
			     (uint32_t)d[pos + 2] << 8 | d[pos + 3];
		o += (size_t)snprintf(out + o, size - o, "%s%.4s", o > 0 ? " " : "",
				      (const char *)d + pos + 4);
		pos += 12 + (size_t)n;
	}
}

/* The bytes of a PNG chunk type's data (the first one), or NULL. */
static const uint8_t *png_find(const uint8_t *d, size_t len, const char *type, size_t *n)
{
	for (size_t pos = 8; pos + 12 <= len;) {
		uint32_t l = (uint32_t)d[pos] << 24 | (uint32_t)d[pos + 1] << 16 |
			     (uint32_t)d[pos + 2] << 8 | d[pos + 3];
		if (memcmp(d + pos + 4, type, 4) == 0) {
			*n = l;
			return d + pos + 8;
		}
		pos += 12 + (size_t)l;
	}
	return NULL;
}

/* Decoded pixels of any image libvips reads, as a malloc'd buffer. */
static uint8_t *vips_pixels(const uint8_t *data, size_t len, int *w, int *h, size_t *n)
{
	VipsImage *im = vips_image_new_from_buffer(data, len, "", NULL);
	if (im == NULL)
		fail_msg("libvips cannot read the image: %s", vips_error_buffer());
	*w = vips_image_get_width(im);
	*h = vips_image_get_height(im);
	void *mem = vips_image_write_to_memory(im, n);
	assert_non_null(mem);
	uint8_t *copy = malloc(*n);
	assert_non_null(copy);
	memcpy(copy, mem, *n);
	g_free(mem);
	g_object_unref(im);
	return copy;
}

static void assert_same_pixels(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int wa, ha, wb, hb;
	size_t na, nb;
	uint8_t *pa = vips_pixels(a, alen, &wa, &ha, &na);
	uint8_t *pb = vips_pixels(b, blen, &wb, &hb, &nb);
	assert_int_equal(wa, wb);
	assert_int_equal(ha, hb);
	assert_int_equal(na, nb);
	assert_memory_equal(pa, pb, na);
	free(pa);
	free(pb);
}

/* ---- WebP ------------------------------------------------------------------ */

static uint8_t *make_webp(bool lossless, bool exif, bool xmp, size_t *len)
{
	uint8_t *px = picture(96, 64, 3, 7), *enc = NULL;
	size_t n = lossless ? WebPEncodeLosslessRGB(px, 96, 64, 96 * 3, &enc)
			    : WebPEncodeRGB(px, 96, 64, 96 * 3, 80, &enc);
	assert_true(n > 0);
	free(px);
	WebPData in = { enc, n }, out = { NULL, 0 };
	WebPMux *mux = WebPMuxCreate(&in, 1);
	assert_non_null(mux);
	WebPFree(enc);
	uint8_t *e = NULL;
	if (exif) {
		struct exif_recipe r = { 3, true, true, true, NULL, 0 };
		size_t elen;
		e = make_exif(&r, &elen);
		WebPData x = { e + 6, elen - 6 };
		assert_int_equal(WebPMuxSetChunk(mux, "EXIF", &x, 1), WEBP_MUX_OK);
	}
	if (xmp) {
		WebPData x = { (const uint8_t *)"<x:xmpmeta/>", 12 };
		assert_int_equal(WebPMuxSetChunk(mux, "XMP ", &x, 1), WEBP_MUX_OK);
	}
	assert_int_equal(WebPMuxAssemble(mux, &out), WEBP_MUX_OK);
	WebPMuxDelete(mux);
	free(e);
	uint8_t *copy = malloc(out.size);
	assert_non_null(copy);
	memcpy(copy, out.bytes, out.size);
	*len = out.size;
	WebPDataClear(&out);
	return copy;
}

static bool webp_has_chunk(const uint8_t *d, size_t len, const char *fourcc)
{
	for (size_t pos = 12; pos + 8 <= len;) {
		uint32_t n = (uint32_t)d[pos + 4] | (uint32_t)d[pos + 5] << 8 |
			     (uint32_t)d[pos + 6] << 16 | (uint32_t)d[pos + 7] << 24;
		if (memcmp(d + pos, fourcc, 4) == 0)
			return true;
		pos += 8 + n + (n & 1);
	}
	return false;
}

/* ---- the tests ------------------------------------------------------------- */

static void supported_types(void **state)
{
	(void)state;
	assert_true(folio_image_supported("image/jpeg"));
	assert_true(folio_image_supported("image/png"));
	assert_true(folio_image_supported("image/webp"));
	assert_false(folio_image_supported("image/gif"));
	assert_false(folio_image_supported("image/svg+xml"));
	assert_false(folio_image_supported(NULL));
}

/* A camera JPEG with everything: all of it goes but the Orientation and the
 * ICC profile, and the pixels stay. */
static void jpeg_clean_removes_everything(void **state)
{
	struct unit_state *s = *state;
	struct jpeg_recipe thumb = { .w = 32, .h = 24, .jfif = true, .seed = 3 };
	size_t tlen, elen, len, out_len;
	uint8_t *t = make_jpeg(&thumb, &tlen);
	struct exif_recipe er = { 6, true, true, true, t, tlen };
	uint8_t *exif = make_exif(&er, &elen);
	struct jpeg_recipe r = { .w = 64, .h = 48, .exif = exif, .exif_len = elen, .xmp = true,
				 .iptc = true, .comment = true, .icc = true, .seed = 1 };
	uint8_t *img = make_jpeg(&r, &len), *out = NULL;
	unsigned removed = 0;

	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "camera.jpg", "image/jpeg", img, len, &out,
					  &out_len, &removed));
	assert_non_null(out);
	assert_int_equal(removed, ALL_JPEG_FLAGS);

	struct jpeg_seen a = read_jpeg(img, len), b = read_jpeg(out, out_len);
	assert_int_equal(a.w, b.w);
	assert_int_equal(a.h, b.h);
	assert_memory_equal(a.pixels, b.pixels, (size_t)a.w * a.h * 3);
	assert_int_equal(a.app1_exif, 1);
	assert_int_equal(a.app1_other, 1);
	assert_int_equal(b.app1_exif, 1);
	assert_int_equal(b.app1_other, 0);
	assert_int_equal(b.app13, 0);
	assert_int_equal(b.com, 0);
	assert_int_equal(b.other, 0);
	/* The ICC segments, byte for byte and in order. */
	assert_int_equal(b.app2_icc, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(a.icc_len[i], b.icc_len[i]);
		assert_memory_equal(a.icc[i], b.icc[i], a.icc_len[i]);
	}
	/* Only the Orientation is left of the EXIF. */
	struct exif_seen e = read_exif(b.exif, b.exif_len);
	assert_int_equal(e.orientation, 6);
	assert_int_equal(e.entries[EXIF_IFD_0], 1);
	assert_int_equal(e.entries[EXIF_IFD_EXIF], 0);
	assert_int_equal(e.entries[EXIF_IFD_GPS], 0);
	assert_false(e.thumbnail);

	/* Cleaning the result finds nothing more. */
	uint8_t *again = NULL;
	size_t again_len = 0;
	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "camera.jpg", "image/jpeg", out, out_len,
					  &again, &again_len, &removed));
	assert_null(again);
	assert_int_equal(removed, 0);

	jpeg_seen_release(&a);
	jpeg_seen_release(&b);
	free(out);
	free(img);
	free(exif);
	free(t);
}

/* A progressive JPEG with a GPS position only: progressive it stays. */
static void jpeg_clean_progressive_gps(void **state)
{
	struct unit_state *s = *state;
	struct exif_recipe er = { 1, true, false, false, NULL, 0 };
	size_t elen, len, out_len;
	uint8_t *exif = make_exif(&er, &elen);
	struct jpeg_recipe r = { .w = 80, .h = 60, .progressive = true, .jfif = true,
				 .exif = exif, .exif_len = elen, .seed = 2 };
	uint8_t *img = make_jpeg(&r, &len), *out = NULL;
	unsigned removed;

	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "p.jpg", "image/jpeg", img, len, &out,
					  &out_len, &removed));
	assert_non_null(out);
	assert_int_equal(removed, FOLIO_IMAGE_GPS);
	struct jpeg_seen a = read_jpeg(img, len), b = read_jpeg(out, out_len);
	assert_true(b.progressive);
	assert_int_equal(b.app1_exif, 0); /* Orientation 1 says nothing */
	assert_memory_equal(a.pixels, b.pixels, (size_t)a.w * a.h * 3);
	jpeg_seen_release(&a);
	jpeg_seen_release(&b);
	free(out);
	free(img);
	free(exif);
}

/* Nothing to remove: the file is left as it is. */
static void jpeg_clean_nothing_to_do(void **state)
{
	struct unit_state *s = *state;
	size_t len, out_len = 99;
	uint8_t *out = (uint8_t *)1;
	unsigned removed = 99;

	struct jpeg_recipe r = { .w = 40, .h = 30, .jfif = true, .icc = true, .seed = 4 };
	uint8_t *img = make_jpeg(&r, &len);
	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "c.jpg", "image/jpeg", img, len, &out,
					  &out_len, &removed));
	assert_null(out);
	assert_int_equal(out_len, 0);
	assert_int_equal(removed, 0);
	free(img);

	/* Nor is one without JFIF, or with trailing zero padding. */
	struct jpeg_recipe r2 = { .w = 40, .h = 30, .seed = 5 };
	img = make_jpeg(&r2, &len);
	img = realloc(img, len + 16);
	memset(img + len, 0, 16);
	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "c.jpg", "image/jpeg", img, len + 16, &out,
					  &out_len, &removed));
	assert_null(out);

	/* Data after the end of the image is removed. */
	memcpy(img + len, "motion-photo-mp4", 16);
	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "c.jpg", "image/jpeg", img, len + 16, &out,
					  &out_len, &removed));
	assert_non_null(out);
	assert_int_equal(removed, FOLIO_IMAGE_EXIF);
	free(out);
	free(img);
}

static void jpeg_clean_refuses_bad_files(void **state)
{
	struct unit_state *s = *state;
	size_t len, out_len;
	uint8_t *out = NULL;
	unsigned removed;
	struct jpeg_recipe r = { .w = 64, .h = 48, .jfif = true, .comment = true, .seed = 6 };
	uint8_t *img = make_jpeg(&r, &len);

	/* Truncated, in the headers and in the scan. */
	for (size_t cut = 1; cut < len; cut += cut < 64 ? 7 : 211) {
		folio_clear_error(s->ctx);
		int rc = folio_image_clean(s->ctx, "cut.jpg", "image/jpeg", img, cut, &out,
					   &out_len, &removed);
		UNIT_CHECK_FAILED(s->ctx, rc, FOLIO_EREJECT, "cut.jpg", "truncated JPEG");
		assert_null(out);
	}
	UNIT_REJECTS(s->ctx, folio_image_clean(s->ctx, "e.jpg", "image/jpeg", img, 0, &out,
					       &out_len, &removed), "e.jpg");
	uint8_t garbage[512];
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 37 + 11);
	UNIT_REJECTS(s->ctx, folio_image_clean(s->ctx, "g.jpg", "image/jpeg", garbage,
					       sizeof(garbage), &out, &out_len, &removed), "g.jpg");
	assert_non_null(strstr(folio_errmsg(s->ctx), "not a valid JPEG"));

	/* A frame header declaring 60000 x 60000 pixels (libjpeg's limit
	 * is 65500). */
	uint8_t *big = malloc(len);
	memcpy(big, img, len);
	for (size_t i = 2; i + 9 < len; i++)
		if (big[i] == 0xff && big[i + 1] == 0xc0) {
			big[i + 5] = big[i + 7] = 0xea;
			big[i + 6] = big[i + 8] = 0x60;
			break;
		}
	UNIT_REJECTS(s->ctx, folio_image_clean(s->ctx, "big.jpg", "image/jpeg", big, len, &out,
					       &out_len, &removed), "big.jpg");
	assert_non_null(strstr(folio_errmsg(s->ctx), "megapixels"));
	UNIT_REJECTS(s->ctx, folio_image_shrink(s->ctx, "big.jpg", "image/jpeg", big, len, 800,
						false, &out, &out_len), "big.jpg");
	UNIT_REJECTS(s->ctx, folio_image_thumbnail(s->ctx, "big.jpg", big, len, 240, 240, &out,
						   &out_len), "big.jpg");
	/* Flipped bits in the scan: refused or cleaned, never a crash. */
	for (size_t i = len / 2; i < len; i += 97) {
		memcpy(big, img, len);
		big[i] ^= 0x5a;
		folio_clear_error(s->ctx);
		if (folio_image_clean(s->ctx, "x.jpg", "image/jpeg", big, len, &out, &out_len,
				      &removed) == FOLIO_OK)
			free(out);
		else
			assert_int_equal(folio_errcode(s->ctx), FOLIO_EREJECT);
		out = NULL;
	}
	/* A PNG named .jpg. */
	struct png_recipe pr = { .w = 8, .h = 8, .seed = 1 };
	uint8_t *png = make_png(&pr, &len);
	UNIT_REJECTS(s->ctx, folio_image_clean(s->ctx, "png.jpg", "image/jpeg", png, len, &out,
					       &out_len, &removed), "png.jpg");
	UNIT_REJECTS(s->ctx, folio_image_shrink(s->ctx, "png.jpg", "image/jpeg", png, len, 4,
						false, &out, &out_len), "png.jpg");
	UNIT_REJECTS(s->ctx, folio_image_clean(s->ctx, "a.gif", "image/gif", png, len, &out,
					       &out_len, &removed), "a.gif");
	free(png);
	free(big);
	free(img);
}

static void png_clean_removes_text_and_exif(void **state)
{
	struct unit_state *s = *state;
	struct exif_recipe er = { 6, true, true, false, NULL, 0 };
	size_t elen, len, out_len;
	uint8_t *exif = make_exif(&er, &elen);
	struct png_recipe r = { .w = 50, .h = 40, .alpha = true, .text = true, .xmp = true,
				.time = true, .icc = true, .gamma = true, .exif = exif + 6,
				.exif_len = elen - 6, .seed = 9 };
	uint8_t *img = make_png(&r, &len), *out = NULL;
	unsigned removed;
	char list[256];

	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "m.png", "image/png", img, len, &out,
					  &out_len, &removed));
	assert_non_null(out);
	assert_int_equal(removed, FOLIO_IMAGE_GPS | FOLIO_IMAGE_CAMERA | FOLIO_IMAGE_EXIF |
					  FOLIO_IMAGE_XMP | FOLIO_IMAGE_COMMENT);
	png_chunk_list(out, out_len, list, sizeof(list));
	assert_string_equal(list, "IHDR gAMA iCCP eXIf IDAT IDAT IEND");
	size_t n;
	const uint8_t *x = png_find(out, out_len, "eXIf", &n);
	struct exif_seen e = read_exif(x, n);
	assert_int_equal(e.orientation, 6);
	assert_int_equal(e.entries[EXIF_IFD_0], 1);
	assert_int_equal(e.entries[EXIF_IFD_GPS], 0);
	assert_same_pixels(img, len, out, out_len);

	uint8_t *again = NULL;
	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "m.png", "image/png", out, out_len, &again,
					  &n, &removed));
	assert_null(again);
	free(out);
	free(img);
	free(exif);

	/* Nothing to remove. */
	struct png_recipe plain = { .w = 20, .h = 10, .gamma = true, .seed = 2 };
	img = make_png(&plain, &len);
	out = NULL;
	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "p.png", "image/png", img, len, &out,
					  &out_len, &removed));
	assert_null(out);
	assert_int_equal(removed, 0);
	/* Bytes after IEND are removed. */
	img = realloc(img, len + 5);
	memcpy(img + len, "extra", 5);
	UNIT_OK(s->ctx, folio_image_clean(s->ctx, "p.png", "image/png", img, len + 5, &out,
					  &out_len, &removed));
	assert_non_null(out);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, img, len);
	free(out);
	free(img);
}

static void png_clean_refuses_bad_files(void **state)
{
	struct unit_state *s = *state;
	struct png_recipe r = { .w = 20, .h = 10, .text = true, .seed = 3 };
	size_t len, out_len;
	uint8_t *img = make_png(&r, &len), *out = NULL;
	unsigned removed;
	uint8_t *bad = malloc(len);

	for (size_t cut = 0; cut < len; cut += 13)
		UNIT_REJECTS(s->ctx, folio_image_clean(s->ctx, "cut.png", "image/png", img, cut,
						       &out, &out_len, &removed), "cut.png");
	/* Any flipped byte after the signature breaks a CRC or a length. */
	for (size_t i = 8; i < len; i += 5) {
		memcpy(bad, img, len);
		bad[i] ^= 0x01;
		folio_clear_error(s->ctx);
		int rc = folio_image_clean(s->ctx, "bad.png", "image/png", bad, len, &out,
					   &out_len, &removed);
		UNIT_CHECK_FAILED(s->ctx, rc, FOLIO_EREJECT, "bad.png", "flipped PNG byte");
	}
	memcpy(bad, img, len);
	bad[8] = 0x7f; /* a length of 2 GiB */
	UNIT_REJECTS(s->ctx, folio_image_clean(s->ctx, "len.png", "image/png", bad, len, &out,
					       &out_len, &removed), "len.png");
	free(bad);
	free(img);

	/* A 20000 x 20000 image: its header is enough to refuse scaling it. */
	struct png_recipe tiny = { .w = 1, .h = 1, .seed = 1 };
	img = make_png(&tiny, &len);
	be32(img + 16, 20000);
	be32(img + 20, 20000);
	be32(img + 29, (uint32_t)crc32(0L, img + 12, 17));
	UNIT_REJECTS(s->ctx, folio_image_shrink(s->ctx, "bomb.png", "image/png", img, len, 800,
						false, &out, &out_len), "bomb.png");
	assert_non_null(strstr(folio_errmsg(s->ctx), "20000 x 20000"));
	UNIT_REJECTS(s->ctx, folio_image_thumbnail(s->ctx, "bomb.png", img, len, 240, 240, &out,
						   &out_len), "bomb.png");
	free(img);
}

static void webp_clean(void **state)
{
	struct unit_state *s = *state;

	for (int lossless = 0; lossless <= 1; lossless++) {
		size_t len, out_len;
		uint8_t *img = make_webp(lossless, true, true, &len), *out = NULL;
		unsigned removed;

		UNIT_OK(s->ctx, folio_image_clean(s->ctx, "w.webp", "image/webp", img, len, &out,
						  &out_len, &removed));
		assert_non_null(out);
		assert_int_equal(removed, FOLIO_IMAGE_GPS | FOLIO_IMAGE_CAMERA |
						  FOLIO_IMAGE_EXIF | FOLIO_IMAGE_XMP);
		assert_false(webp_has_chunk(out, out_len, "XMP "));
		/* Orientation 3 is kept, alone. */
		assert_true(webp_has_chunk(out, out_len, "EXIF"));
		int wa, ha, wb, hb;
		uint8_t *pa = WebPDecodeRGBA(img, len, &wa, &ha);
		uint8_t *pb = WebPDecodeRGBA(out, out_len, &wb, &hb);
		assert_non_null(pa);
		assert_non_null(pb);
		assert_int_equal(wa, wb);
		assert_int_equal(ha, hb);
		assert_memory_equal(pa, pb, (size_t)wa * ha * 4);
		WebPFree(pa);
		WebPFree(pb);
		uint8_t *again = NULL;
		UNIT_OK(s->ctx, folio_image_clean(s->ctx, "w.webp", "image/webp", out, out_len,
						  &again, &len, &removed));
		assert_null(again);
		free(out);
		free(img);

		img = make_webp(lossless, false, false, &len);
		out = NULL;
		UNIT_OK(s->ctx, folio_image_clean(s->ctx, "w.webp", "image/webp", img, len, &out,
						  &out_len, &removed));
		assert_null(out);
		for (size_t cut = 0; cut < len; cut += 9) {
			folio_clear_error(s->ctx);
			if (folio_image_clean(s->ctx, "cut.webp", "image/webp", img, cut, &out,
					      &out_len, &removed) == FOLIO_OK)
				free(out);
			else
				assert_int_equal(folio_errcode(s->ctx), FOLIO_EREJECT);
			out = NULL;
		}
		free(img);
	}
}

static int vips_width(const uint8_t *d, size_t n, int *h)
{
	VipsImage *im = vips_image_new_from_buffer(d, n, "", NULL);
	assert_non_null(im);
	int w = vips_image_get_width(im);
	*h = vips_image_get_height(im);
	g_object_unref(im);
	return w;
}

static void shrink(void **state)
{
	struct unit_state *s = *state;
	struct jpeg_recipe r = { .w = 3000, .h = 2000, .jfif = true, .seed = 8, .quality = 90 };
	size_t len, out_len;
	uint8_t *img = make_jpeg(&r, &len), *out = NULL;
	int h;

	UNIT_OK(s->ctx, folio_image_shrink(s->ctx, "big.jpg", "image/jpeg", img, len, 800, false,
					   &out, &out_len));
	assert_non_null(out);
	assert_true(out_len < len);
	assert_int_equal(vips_width(out, out_len, &h), 800);
	assert_int_equal(h, 533);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xd8);
	struct jpeg_seen js = read_jpeg(out, out_len);
	assert_int_equal(js.app1_exif + js.app1_other + js.com + js.app13 + js.other, 0);
	jpeg_seen_release(&js);
	free(out);
	out = NULL;
	/* Wide enough already. */
	UNIT_OK(s->ctx, folio_image_shrink(s->ctx, "big.jpg", "image/jpeg", img, len, 3000, false,
					   &out, &out_len));
	assert_null(out);
	free(img);

	/* An Orientation 6 image 300 wide as stored is 200 wide as shown. */
	struct exif_recipe er = { 6, true, false, false, NULL, 0 };
	size_t elen;
	uint8_t *exif = make_exif(&er, &elen);
	struct jpeg_recipe rr = { .w = 300, .h = 200, .exif = exif, .exif_len = elen, .seed = 3 };
	img = make_jpeg(&rr, &len);
	UNIT_OK(s->ctx, folio_image_shrink(s->ctx, "r.jpg", "image/jpeg", img, len, 250, false,
					   &out, &out_len));
	assert_null(out);
	UNIT_OK(s->ctx, folio_image_shrink(s->ctx, "r.jpg", "image/jpeg", img, len, 100, true,
					   &out, &out_len));
	assert_non_null(out);
	assert_int_equal(vips_width(out, out_len, &h), 100);
	assert_int_equal(h, 150);
	/* Kept metadata, but the rotation is done: Orientation is 1 now. */
	js = read_jpeg(out, out_len);
	assert_int_equal(js.app1_exif, 1);
	struct exif_seen es = read_exif(js.exif, js.exif_len);
	assert_int_equal(es.orientation, 1);
	assert_true(es.entries[EXIF_IFD_GPS] > 0);
	jpeg_seen_release(&js);
	free(out);
	free(img);
	free(exif);

	/* PNG and WebP keep their format. */
	struct png_recipe pr = { .w = 400, .h = 100, .alpha = true, .seed = 4 };
	img = make_png(&pr, &len);
	UNIT_OK(s->ctx, folio_image_shrink(s->ctx, "a.png", "image/png", img, len, 200, false,
					   &out, &out_len));
	assert_non_null(out);
	assert_memory_equal(out, "\x89PNG", 4);
	assert_int_equal(vips_width(out, out_len, &h), 200);
	free(out);
	free(img);
	img = make_webp(false, true, true, &len);
	UNIT_OK(s->ctx, folio_image_shrink(s->ctx, "a.webp", "image/webp", img, len, 48, false,
					   &out, &out_len));
	assert_non_null(out);
	assert_memory_equal(out + 8, "WEBP", 4);
	assert_false(webp_has_chunk(out, out_len, "EXIF"));
	assert_false(webp_has_chunk(out, out_len, "XMP "));
	assert_int_equal(vips_width(out, out_len, &h), 48);
	free(out);
	free(img);

	uint8_t garbage[300] = { 0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0 };
	UNIT_REJECTS(s->ctx, folio_image_shrink(s->ctx, "g.jpg", "image/jpeg", garbage,
						sizeof(garbage), 10, false, &out, &out_len),
		     "g.jpg");
}

static void thumbnail(void **state)
{
	struct unit_state *s = *state;
	struct jpeg_recipe r = { .w = 640, .h = 480, .jfif = true, .seed = 10 };
	size_t len, out_len, out2_len;
	uint8_t *img = make_jpeg(&r, &len), *out = NULL, *out2 = NULL;
	int h;

	UNIT_OK(s->ctx, folio_image_thumbnail(s->ctx, "t.jpg", img, len, 240, 240, &out,
					      &out_len));
	assert_non_null(out);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xd8);
	assert_int_equal(vips_width(out, out_len, &h), 240);
	assert_int_equal(h, 180);
	/* The same bytes every time. */
	UNIT_OK(s->ctx, folio_image_thumbnail(s->ctx, "t.jpg", img, len, 240, 240, &out2,
					      &out2_len));
	assert_int_equal(out_len, out2_len);
	assert_memory_equal(out, out2, out_len);
	struct jpeg_seen js = read_jpeg(out, out_len);
	assert_false(js.progressive);
	assert_int_equal(js.app1_exif + js.app1_other + js.app2_icc + js.com + js.app13, 0);
	jpeg_seen_release(&js);
	free(out);
	free(out2);
	free(img);

	/* Orientation 6: a 300 x 200 image is shown 200 x 300. */
	struct exif_recipe er = { 6, false, false, false, NULL, 0 };
	size_t elen;
	uint8_t *exif = make_exif(&er, &elen);
	struct jpeg_recipe rr = { .w = 300, .h = 200, .exif = exif, .exif_len = elen, .seed = 3 };
	img = make_jpeg(&rr, &len);
	UNIT_OK(s->ctx, folio_image_thumbnail(s->ctx, "r.jpg", img, len, 240, 240, &out,
					      &out_len));
	assert_int_equal(vips_width(out, out_len, &h), 160);
	assert_int_equal(h, 240);
	free(out);
	free(img);
	free(exif);

	/* A small PNG with alpha: not enlarged, flattened to a JPEG. */
	struct png_recipe pr = { .w = 100, .h = 50, .alpha = true, .seed = 5 };
	img = make_png(&pr, &len);
	UNIT_OK(s->ctx, folio_image_thumbnail(s->ctx, "a.png", img, len, 240, 240, &out,
					      &out_len));
	assert_int_equal(out[0], 0xff);
	assert_int_equal(vips_width(out, out_len, &h), 100);
	assert_int_equal(h, 50);
	js = read_jpeg(out, out_len);
	/* The half-transparent right side is flattened onto white (blue
	 * about 60 at half opacity: about 157 on white, 30 on black). */
	const uint8_t *px = js.pixels + ((size_t)25 * js.w + 90) * 3;
	assert_true(px[2] > 120);
	jpeg_seen_release(&js);
	free(out);
	free(img);

	uint8_t garbage[64] = { 'R', 'I', 'F', 'F', 56, 0, 0, 0, 'W', 'E', 'B', 'P' };
	UNIT_REJECTS(s->ctx, folio_image_thumbnail(s->ctx, "g.webp", garbage, sizeof(garbage),
						   240, 240, &out, &out_len), "g.webp");
	UNIT_REJECTS(s->ctx, folio_image_thumbnail(s->ctx, "t.txt", (const uint8_t *)"hello", 5,
						   240, 240, &out, &out_len), "t.txt");
}

/* pack runs these for hundreds of images in one process. */
static void many_times(void **state)
{
	struct unit_state *s = *state;
	struct exif_recipe er = { 8, true, true, true, NULL, 0 };
	size_t elen, len;
	uint8_t *exif = make_exif(&er, &elen);
	struct jpeg_recipe r = { .w = 320, .h = 240, .exif = exif, .exif_len = elen,
				 .comment = true, .seed = 12 };
	uint8_t *img = make_jpeg(&r, &len);

	for (int i = 0; i < 40; i++) {
		uint8_t *out = NULL;
		size_t out_len;
		unsigned removed;
		UNIT_OK(s->ctx, folio_image_clean(s->ctx, "m.jpg", "image/jpeg", img, len, &out,
						  &out_len, &removed));
		free(out);
		UNIT_OK(s->ctx, folio_image_shrink(s->ctx, "m.jpg", "image/jpeg", img, len, 100,
						   false, &out, &out_len));
		free(out);
		UNIT_OK(s->ctx, folio_image_thumbnail(s->ctx, "m.jpg", img, len, 64, 64, &out,
						      &out_len));
		free(out);
		folio_clear_error(s->ctx);
		(void)folio_image_thumbnail(s->ctx, "m.jpg", img, len / 3, 64, 64, &out, &out_len);
		free(out);
	}
	free(img);
	free(exif);
}

/* Running out of memory while optimising fails the pack: keeping the
 * image as it is would make the bundle's bytes depend on the memory there
 * was.  A child process fills its address space (limited to what it has
 * plus 4 MiB) with 32 KiB blocks, then frees every other one of the last
 * 64: small allocations still succeed, the PNG's 6.75 MB of pixels cannot. */
#if !defined(__SANITIZE_ADDRESS__)
#define BALLOON_MAX (1u << 16)
static void *balloon[BALLOON_MAX];
#endif

static void optimize_out_of_memory(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	printf("skipped: AddressSanitizer reserves more address space than any limit allows\n");
	skip();
#else
	struct png_recipe r = { .w = 1500, .h = 1500, .seed = 9 };
	size_t len;
	uint8_t *img = make_png(&r, &len), *out = NULL;
	size_t out_len;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		if (f == NULL || fscanf(f, "%lu", &pages) != 1)
			_exit(3);
		fclose(f);
		rlim_t have = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
		struct rlimit lim = { have + (4u << 20), have + (4u << 20) };
		if (setrlimit(RLIMIT_AS, &lim) != 0)
			_exit(3);
		size_t n = 0;
		while (n < BALLOON_MAX && (balloon[n] = malloc(32u << 10)) != NULL)
			n++;
		if (n < 64 || n == BALLOON_MAX)
			_exit(4);
		for (size_t i = n - 64; i < n; i += 2)
			free(balloon[i]);
		int rc = folio_image_optimize("image/png", img, len, &out, &out_len);
		_exit(rc == FOLIO_ESYSTEM ? 0 : rc == FOLIO_OK ? 1 : 2);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(img);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(supported_types),
		UNIT_TEST(jpeg_clean_removes_everything),
		UNIT_TEST(jpeg_clean_progressive_gps),
		UNIT_TEST(jpeg_clean_nothing_to_do),
		UNIT_TEST(jpeg_clean_refuses_bad_files),
		UNIT_TEST(png_clean_removes_text_and_exif),
		UNIT_TEST(png_clean_refuses_bad_files),
		UNIT_TEST(webp_clean),
		UNIT_TEST(shrink),
		UNIT_TEST(thumbnail),
		UNIT_TEST(many_times),
		UNIT_TEST(optimize_out_of_memory),
	};

	if (VIPS_INIT("test_image") != 0)
		return 1;
	int failed = cmocka_run_group_tests_name("image", tests, NULL, NULL);
	/* libvips' caches and threads, so that LeakSanitizer sees only ours. */
	vips_shutdown();
	return failed;
}
