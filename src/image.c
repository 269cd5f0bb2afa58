/* SPDX-License-Identifier: ISC */
/* Images: metadata removed without touching a pixel (libjpeg's lossless
 * transcoding for JPEG, a chunk walk for PNG, libwebpmux for WebP), the
 * optional lossless optimisation (libjpeg, libpng and zlib), and
 * scaling and thumbnails with libvips. */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <libexif/exif-data.h>
#include <png.h>
#include <vips/vips.h>
#include <webp/mux.h>
#include <zlib.h>

#include "folio-internal.h"

/* Decoding allocates about 4 bytes a pixel at least: 100 megapixels is a
 * large photo, and more is either a panorama we will not scale or a
 * decompression bomb. */
#define MAX_PIXELS 100000000ull
/* A progressive JPEG needs a handful of scans; thousands make even the
 * coefficient reader loop over the image thousands of times. */
#define MAX_JPEG_SCANS 1000
/* libjpeg's own ceiling for what it may allocate (coefficients of a
 * 100-megapixel CMYK image fit). */
#define MAX_JPEG_MEMORY (1l << 30)

const char *folio_image_sniff(const uint8_t *data, size_t len)
{
	static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		return "image/jpeg";
	if (len >= sizeof(png) && memcmp(data, png, sizeof(png)) == 0)
		return "image/png";
	if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		return "image/webp";
	return NULL;
}

bool folio_image_supported(const char *type)
{
	return type != NULL && (strcmp(type, "image/jpeg") == 0 ||
				strcmp(type, "image/png") == 0 ||
				strcmp(type, "image/webp") == 0);
}

/* ---- EXIF ------------------------------------------------------------------- */

#define EXIF_TAG_NUMBER_ORIENTATION 0x0112
static const uint8_t exif_header[6] = { 'E', 'x', 'i', 'f', 0, 0 };

/* Tags that identify a camera or a person (numbers, as not every libexif
 * names them). */
static bool exif_tag_identifies(unsigned tag)
{
	switch (tag) {
	case 0x013b: /* Artist */
	case 0x927c: /* MakerNote */
	case 0x9c9d: /* XPAuthor */
	case 0xa420: /* ImageUniqueID */
	case 0xa430: /* CameraOwnerName */
	case 0xa431: /* BodySerialNumber */
	case 0xa435: /* LensSerialNumber */
	case 0xc62f: /* CameraSerialNumber (DNG) */
		return true;
	default:
		return false;
	}
}

struct exif_survey {
	unsigned removed;     /* FOLIO_IMAGE_* flags for what is there */
	unsigned orientation; /* 1..8, 0 when absent or out of range */
};

struct exif_walk {
	struct exif_survey *s;
	ExifByteOrder order;
	ExifIfd ifd;
};

static void survey_entry(ExifEntry *e, void *user)
{
	struct exif_walk *w = user;

	if (w->ifd == EXIF_IFD_GPS)
		w->s->removed |= FOLIO_IMAGE_GPS;
	else if (exif_tag_identifies(e->tag))
		w->s->removed |= FOLIO_IMAGE_CAMERA;
	else if (w->ifd == EXIF_IFD_0 && e->tag == EXIF_TAG_NUMBER_ORIENTATION &&
		 e->format == EXIF_FORMAT_SHORT && e->components == 1 &&
		 e->data != NULL && e->size >= 2) {
		unsigned v = exif_get_short(e->data, w->order);
		w->s->orientation = v >= 1 && v <= 8 ? v : 0;
	} else
		w->s->removed |= FOLIO_IMAGE_EXIF;
}

/* What an EXIF block holds.  tiff is the TIFF structure, with or without
 * the "Exif\0\0" header in front.  Returns false when out of memory. */
static bool exif_inspect(const uint8_t *tiff, size_t len, struct exif_survey *s)
{
	memset(s, 0, sizeof(*s));
	if (len >= sizeof(exif_header) && memcmp(tiff, exif_header, sizeof(exif_header)) == 0) {
		tiff += sizeof(exif_header);
		len -= sizeof(exif_header);
	}
	if (len > UINT_MAX - sizeof(exif_header))
		len = UINT_MAX - sizeof(exif_header);
	/* libexif finds EXIF only behind its header. */
	uint8_t *buf = malloc(len + sizeof(exif_header));
	ExifData *ed = exif_data_new();
	if (buf == NULL || ed == NULL) {
		free(buf);
		if (ed != NULL)
			exif_data_unref(ed);
		return false;
	}
	memcpy(buf, exif_header, sizeof(exif_header));
	memcpy(buf + sizeof(exif_header), tiff, len);
	/* Read what is there, not what the specification says should be:
	 * the default options add missing mandatory tags and drop unknown
	 * ones. */
	exif_data_unset_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
	exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_set_option(ed, EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);
	exif_data_load_data(ed, buf, (unsigned)(len + sizeof(exif_header)));
	free(buf);

	bool any = false;
	struct exif_walk w = { s, exif_data_get_byte_order(ed), EXIF_IFD_0 };
	for (int i = 0; i < EXIF_IFD_COUNT; i++) {
		if (ed->ifd[i] == NULL || ed->ifd[i]->count == 0)
			continue;
		any = true;
		w.ifd = (ExifIfd)i;
		exif_content_foreach_entry(ed->ifd[i], survey_entry, &w);
	}
	if (ed->data != NULL && ed->size > 0) {
		s->removed |= FOLIO_IMAGE_THUMBNAIL;
		any = true;
	}
	/* Bytes libexif could not make sense of are EXIF we cannot vouch for. */
	if (!any && len > 8)
		s->removed |= FOLIO_IMAGE_EXIF;
	exif_data_unref(ed);
	return true;
}

/* The EXIF block folio keeps: only an Orientation other than 1, big-endian,
 * with the "Exif\0\0" header (JPEG) or without (PNG, WebP).  *out is
 * malloc'd, or NULL with *len 0 when nothing is kept.  False when out of
 * memory. */
static bool exif_minimal(unsigned orientation, bool header, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (orientation < 2 || orientation > 8)
		return true;
	ExifData *ed = exif_data_new();
	if (ed == NULL)
		return false;
	exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_MOTOROLA);
	ExifEntry *e = exif_entry_new();
	if (e == NULL) {
		exif_data_unref(ed);
		return false;
	}
	exif_content_add_entry(ed->ifd[EXIF_IFD_0], e);
	exif_entry_initialize(e, EXIF_TAG_ORIENTATION);
	exif_entry_unref(e);
	if (e->data == NULL || e->size < 2) {
		exif_data_unref(ed);
		return false;
	}
	exif_set_short(e->data, EXIF_BYTE_ORDER_MOTOROLA, (ExifShort)orientation);
	unsigned char *d = NULL;
	unsigned n = 0;
	exif_data_save_data(ed, &d, &n);
	exif_data_unref(ed);
	if (d == NULL || n < sizeof(exif_header)) {
		free(d);
		return false;
	}
	if (!header) {
		memmove(d, d + sizeof(exif_header), n - sizeof(exif_header));
		n -= (unsigned)sizeof(exif_header);
	}
	*out = d;
	*len = n;
	return true;
}

/* Whether an EXIF block (with or without header, as exif_minimal makes
 * it) is exactly what folio would keep of it: then it stays as it is. */
static bool exif_is_minimal(const uint8_t *data, size_t len, const uint8_t *min,
			    size_t min_len)
{
	return min != NULL && len == min_len && memcmp(data, min, len) == 0;
}

/* ---- a growing buffer ------------------------------------------------------ */

struct buf {
	uint8_t *data;
	size_t len, cap;
};

static bool buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap > 0 ? b->cap : 4096;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2)
				return false;
			cap *= 2;
		}
		uint8_t *d = realloc(b->data, cap);
		if (d == NULL)
			return false;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return true;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool starts_with(const uint8_t *data, size_t len, const void *prefix, size_t n)
{
	return len >= n && memcmp(data, prefix, n) == 0;
}

/* ---- JPEG ------------------------------------------------------------------- */

struct jpeg_failure {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	char message[JMSG_LENGTH_MAX];
	bool out_of_memory;
};

/* libjpeg's default error handler prints and exits. */
static void jpeg_on_error(j_common_ptr c)
{
	struct jpeg_failure *f = (struct jpeg_failure *)c->err;

	c->err->format_message(c, f->message);
	f->out_of_memory = c->err->msg_code == JERR_OUT_OF_MEMORY;
	longjmp(f->jump, 1);
}

/* Warnings are not printed.  A file that ends early is refused: libjpeg
 * would pad it with grey, and the result would not be the image. */
static void jpeg_on_message(j_common_ptr c, int level)
{
	if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF)
		jpeg_on_error(c);
	if (level < 0)
		c->err->num_warnings++;
}

static void jpeg_on_progress(j_common_ptr c)
{
	if (c->is_decompressor &&
	    ((j_decompress_ptr)c)->input_scan_number > MAX_JPEG_SCANS) {
		struct jpeg_failure *f = (struct jpeg_failure *)c->err;
		snprintf(f->message, sizeof(f->message), "more than %d scans",
			 MAX_JPEG_SCANS);
		f->out_of_memory = false;
		longjmp(f->jump, 1);
	}
}

/* A destination in a malloc'd buffer that the caller owns even after an
 * error (jpeg_mem_dest's is out of reach once it has grown). */
struct jpeg_sink {
	struct jpeg_destination_mgr pub;
	struct buf b;
};

static void sink_init(j_compress_ptr c)
{
	struct jpeg_sink *s = (struct jpeg_sink *)c->dest;

	s->b.cap = 65536;
	s->b.len = 0;
	s->b.data = malloc(s->b.cap);
	if (s->b.data == NULL)
		ERREXIT1(c, JERR_OUT_OF_MEMORY, 0);
	s->pub.next_output_byte = s->b.data;
	s->pub.free_in_buffer = s->b.cap;
}

static boolean sink_empty(j_compress_ptr c)
{
	struct jpeg_sink *s = (struct jpeg_sink *)c->dest;
	size_t cap = s->b.cap * 2;
	uint8_t *d = cap > s->b.cap ? realloc(s->b.data, cap) : NULL;

	if (d == NULL)
		ERREXIT1(c, JERR_OUT_OF_MEMORY, 0);
	s->b.data = d;
	s->pub.next_output_byte = d + s->b.cap;
	s->pub.free_in_buffer = cap - s->b.cap;
	s->b.cap = cap;
	return TRUE;
}

static void sink_term(j_compress_ptr c)
{
	struct jpeg_sink *s = (struct jpeg_sink *)c->dest;

	s->b.len = s->b.cap - s->pub.free_in_buffer;
}

/* Everything a cleaning needs, outside the frame that calls setjmp so
 * that nothing it changes is lost by the longjmp. */
struct jpeg_job {
	struct jpeg_decompress_struct in;
	struct jpeg_compress_struct out;
	struct jpeg_failure err;
	struct jpeg_progress_mgr progress;
	struct jpeg_sink sink;
	uint8_t *exif;     /* the EXIF block kept, or NULL */
	size_t exif_len;
	unsigned removed;
	bool too_large;
	bool no_memory;
};

/* What an APPn or COM segment is: 0 when it stays, else the flag for its
 * removal. */
static unsigned jpeg_marker_verdict(struct jpeg_job *job, jpeg_saved_marker_ptr m,
				    bool *first_exif, bool *exif_kept)
{
	const uint8_t *d = m->data;
	size_t n = m->data_length;

	if (m->marker == JPEG_COM)
		return FOLIO_IMAGE_COMMENT;
	switch (m->marker - JPEG_APP0) {
	case 0:
		/* libjpeg writes the JFIF segment itself, without a preview. */
		if (starts_with(d, n, "JFIF\0", 5))
			return n >= 14 && (d[12] != 0 || d[13] != 0) ? FOLIO_IMAGE_THUMBNAIL : 0;
		if (starts_with(d, n, "JFXX\0", 5))
			return FOLIO_IMAGE_THUMBNAIL;
		return FOLIO_IMAGE_EXIF;
	case 1:
		if (starts_with(d, n, exif_header, sizeof(exif_header))) {
			struct exif_survey s;
			if (!exif_inspect(d, n, &s)) {
				job->no_memory = true;
				return 0;
			}
			unsigned flags = s.removed;
			/* Readers honour the first EXIF segment only. */
			if (*first_exif) {
				*first_exif = false;
				if (!exif_minimal(s.orientation, true, &job->exif, &job->exif_len)) {
					job->no_memory = true;
					return 0;
				}
				if (exif_is_minimal(d, n, job->exif, job->exif_len)) {
					*exif_kept = true;
					return 0;
				}
			}
			/* Rewritten (an Orientation 1, another byte order):
			 * still a change. */
			return flags != 0 ? flags : FOLIO_IMAGE_EXIF;
		}
		if (starts_with(d, n, "http://ns.adobe.com/", 20))
			return FOLIO_IMAGE_XMP;
		return FOLIO_IMAGE_EXIF;
	case 2:
		if (starts_with(d, n, "ICC_PROFILE\0", 12))
			return 0;
		/* MPF indexes preview images stored after the end of the
		 * image; FlashPix extensions belong to EXIF. */
		if (starts_with(d, n, "MPF\0", 4))
			return FOLIO_IMAGE_THUMBNAIL;
		return FOLIO_IMAGE_EXIF;
	case 13:
		return FOLIO_IMAGE_IPTC;
	case 14:
		/* libjpeg writes its own Adobe segment when the colour
		 * transform needs one. */
		return starts_with(d, n, "Adobe", 5) ? 0 : FOLIO_IMAGE_EXIF;
	default:
		return FOLIO_IMAGE_EXIF;
	}
}

/* Keeps every APPn and COM marker, reads the header (a failure jumps to
 * the caller's setjmp) and tells whether the image is within MAX_PIXELS. */
static bool jpeg_header_fits(struct jpeg_decompress_struct *in)
{
	for (int i = 0; i < 16; i++)
		jpeg_save_markers(in, JPEG_APP0 + i, 0xffff);
	jpeg_save_markers(in, JPEG_COM, 0xffff);
	jpeg_read_header(in, TRUE);
	return (uint64_t)in->image_width * in->image_height <= MAX_PIXELS;
}

/* Returns 0 on success, -1 on a libjpeg error (job->err.message says
 * which). */
static int jpeg_run(struct jpeg_job *job, const uint8_t *data, size_t len)
{
	if (setjmp(job->err.jump))
		return -1;

	job->in.err = jpeg_std_error(&job->err.pub);
	job->err.pub.error_exit = jpeg_on_error;
	job->err.pub.emit_message = jpeg_on_message;
	jpeg_create_decompress(&job->in);
	job->in.mem->max_memory_to_use = MAX_JPEG_MEMORY;
	job->progress.progress_monitor = jpeg_on_progress;
	job->in.progress = &job->progress;
	jpeg_mem_src(&job->in, data, (unsigned long)len);
	if (!jpeg_header_fits(&job->in)) {
		job->too_large = true;
		return 0;
	}
	/* Reads every scan, so that segments between scans and at the end
	 * are seen too, and a broken file is refused before anything. */
	jvirt_barray_ptr *coefs = jpeg_read_coefficients(&job->in);

	bool first_exif = true, exif_kept = false;
	for (jpeg_saved_marker_ptr m = job->in.marker_list; m != NULL; m = m->next) {
		job->removed |= jpeg_marker_verdict(job, m, &first_exif, &exif_kept);
		if (job->no_memory)
			return 0;
	}
	/* Bytes after the end of the image: previews (MPF), motion-photo
	 * videos, leftovers of an edit.  Padding of 0x00 or 0xff carries
	 * nothing. */
	const uint8_t *rest = job->in.src->next_input_byte;
	for (size_t i = 0; i < job->in.src->bytes_in_buffer; i++)
		if (rest[i] != 0x00 && rest[i] != 0xff) {
			job->removed |= FOLIO_IMAGE_EXIF;
			break;
		}
	bool changed = job->removed != 0 || (job->exif != NULL && !exif_kept);
	if (!changed) {
		jpeg_abort_decompress(&job->in);
		return 0;
	}
	if (job->removed == 0)
		job->removed = FOLIO_IMAGE_EXIF;

	job->out.err = &job->err.pub;
	jpeg_create_compress(&job->out);
	job->out.mem->max_memory_to_use = MAX_JPEG_MEMORY;
	job->sink.pub.init_destination = sink_init;
	job->sink.pub.empty_output_buffer = sink_empty;
	job->sink.pub.term_destination = sink_term;
	job->out.dest = &job->sink.pub;
	jpeg_copy_critical_parameters(&job->in, &job->out);
	job->out.optimize_coding = TRUE;
	if (job->in.progressive_mode)
		jpeg_simple_progression(&job->out);
	/* A JFIF segment only where there was one, so that a decoder guesses
	 * the colour space as it did from the original. */
	job->out.write_JFIF_header = job->in.saw_JFIF_marker;
	if (job->in.saw_Adobe_marker)
		job->out.write_Adobe_marker = TRUE;
	jpeg_write_coefficients(&job->out, coefs);
	if (job->exif != NULL)
		jpeg_write_marker(&job->out, JPEG_APP0 + 1, job->exif,
				  (unsigned)job->exif_len);
	for (jpeg_saved_marker_ptr m = job->in.marker_list; m != NULL; m = m->next)
		if (m->marker == JPEG_APP0 + 2 &&
		    starts_with(m->data, m->data_length, "ICC_PROFILE\0", 12))
			jpeg_write_marker(&job->out, JPEG_APP0 + 2, m->data,
					  m->data_length);
	jpeg_finish_compress(&job->out);
	jpeg_finish_decompress(&job->in);
	return 0;
}

static int jpeg_clean(folio_ctx *ctx, const char *name, const uint8_t *data,
		      size_t len, uint8_t **out, size_t *out_len, unsigned *removed)
{
	struct jpeg_job *job = calloc(1, sizeof(*job));
	if (job == NULL)
		return folio_fail(ctx, FOLIO_ESYSTEM, "cannot clean '%s': out of memory", name);

	int rc = FOLIO_OK;
	if (jpeg_run(job, data, len) != 0) {
		if (job->err.out_of_memory)
			rc = folio_fail(ctx, FOLIO_ESYSTEM, "cannot clean '%s': out of memory (%s)",
					name, job->err.message);
		else
			rc = folio_fail(ctx, FOLIO_EREJECT,
					"cannot clean '%s': not a valid JPEG (%s)", name,
					job->err.message);
	} else if (job->no_memory) {
		rc = folio_fail(ctx, FOLIO_ESYSTEM, "cannot clean '%s': out of memory", name);
	} else if (job->too_large) {
		rc = folio_fail(ctx, FOLIO_EREJECT,
				"cannot clean '%s': it is %u x %u pixels, more than %llu megapixels",
				name, (unsigned)job->in.image_width,
				(unsigned)job->in.image_height, MAX_PIXELS / 1000000);
	} else if (job->sink.b.data != NULL) {
		*out = job->sink.b.data;
		*out_len = job->sink.b.len;
		*removed = job->removed;
		job->sink.b.data = NULL;
	}
	jpeg_destroy_compress(&job->out);
	jpeg_destroy_decompress(&job->in);
	free(job->sink.b.data);
	free(job->exif);
	free(job);
	return rc;
}

/* ---- PNG ------------------------------------------------------------------- */

static const uint8_t png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

/* Chunks a viewer needs to show the image as it was meant: the image data,
 * transparency, colour and gamma, physical size, animation (APNG). */
static bool png_chunk_kept(const uint8_t type[4])
{
	static const char kept[][5] = {
		"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB",
		"iCCP", "sBIT", "pHYs", "bKGD", "hIST", "sPLT", "acTL", "fcTL",
		"fdAT", "cICP", "mDCv", "cLLi",
	};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (memcmp(type, kept[i], 4) == 0)
			return true;
	/* An unknown critical chunk is part of the image as its writer meant
	 * it: a decoder that does not know it refuses the file anyway. */
	return (type[0] & 0x20) == 0;
}

/* What a text chunk's keyword says it carries. */
static unsigned png_text_verdict(const uint8_t *d, size_t n)
{
	static const struct {
		const char *keyword;
		unsigned flag;
	} special[] = {
		{ "XML:com.adobe.xmp", FOLIO_IMAGE_XMP },
		{ "Raw profile type xmp", FOLIO_IMAGE_XMP },
		{ "Raw profile type exif", FOLIO_IMAGE_EXIF },
		{ "Raw profile type APP1", FOLIO_IMAGE_EXIF },
		{ "Raw profile type iptc", FOLIO_IMAGE_IPTC },
		{ "Raw profile type 8bim", FOLIO_IMAGE_IPTC },
	};
	const uint8_t *nul = memchr(d, 0, n < 80 ? n : 80);
	size_t k = nul != NULL ? (size_t)(nul - d) : 0;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strlen(special[i].keyword) == k && memcmp(d, special[i].keyword, k) == 0)
			return special[i].flag;
	return FOLIO_IMAGE_COMMENT;
}

static bool png_add_chunk(struct buf *b, const char *type, const uint8_t *d, size_t n)
{
	uint8_t head[8], crc[4];
	put_be32(head, (uint32_t)n);
	memcpy(head + 4, type, 4);
	uLong c = crc32(0L, head + 4, 4);
	if (n > 0)
		c = crc32(c, d, (uInt)n);
	put_be32(crc, (uint32_t)c);
	return buf_add(b, head, 8) && (n == 0 || buf_add(b, d, n)) && buf_add(b, crc, 4);
}

static int png_clean(folio_ctx *ctx, const char *name, const uint8_t *data,
		     size_t len, uint8_t **out, size_t *out_len, unsigned *removed)
{
	const char *problem = NULL;
	unsigned flags = 0;
	bool changed = false, ended = false, seen_exif = false;
	size_t pos = sizeof(png_signature);
	struct buf b = { 0 };
	uint8_t *exif = NULL;
	size_t exif_len = 0;

	if (!starts_with(data, len, png_signature, sizeof(png_signature)))
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot clean '%s': not a valid PNG (no PNG signature)", name);
	if (!buf_add(&b, png_signature, sizeof(png_signature)))
		goto no_memory;
	for (unsigned i = 0; !ended; i++) {
		if (len - pos < 12) {
			problem = "it ends before its IEND chunk";
			goto bad;
		}
		const uint8_t *c = data + pos;
		uint32_t n = get_be32(c);
		const uint8_t *type = c + 4, *d = c + 8;
		if (n > 0x7fffffffu || n > len - pos - 12) {
			problem = "a chunk is longer than the file";
			goto bad;
		}
		for (int k = 0; k < 4; k++)
			if (!((type[k] >= 'A' && type[k] <= 'Z') || (type[k] >= 'a' && type[k] <= 'z'))) {
				problem = "a chunk type is not four letters";
				goto bad;
			}
		if ((uint32_t)crc32(crc32(0L, type, 4), d, n) != get_be32(d + n)) {
			problem = "a chunk's CRC does not match";
			goto bad;
		}
		if (i == 0 && (memcmp(type, "IHDR", 4) != 0 || n != 13)) {
			problem = "it does not start with an IHDR chunk";
			goto bad;
		}
		pos += 12 + (size_t)n;
		ended = memcmp(type, "IEND", 4) == 0;

		if (png_chunk_kept(type)) {
			if (!buf_add(&b, c, 12 + (size_t)n))
				goto no_memory;
		} else if (memcmp(type, "eXIf", 4) == 0) {
			struct exif_survey s;
			if (!exif_inspect(d, n, &s))
				goto no_memory;
			/* Only the first eXIf counts; an Orientation stays. */
			bool first = !seen_exif;
			seen_exif = true;
			if (first && s.orientation > 1) {
				if (!exif_minimal(s.orientation, false, &exif, &exif_len))
					goto no_memory;
				if (exif_is_minimal(d, n, exif, exif_len)) {
					if (!buf_add(&b, c, 12 + (size_t)n))
						goto no_memory;
					continue;
				}
				if (!png_add_chunk(&b, "eXIf", exif, exif_len))
					goto no_memory;
			}
			flags |= s.removed != 0 ? s.removed : FOLIO_IMAGE_EXIF;
			changed = true;
		} else if (memcmp(type, "tEXt", 4) == 0 || memcmp(type, "zTXt", 4) == 0 ||
			   memcmp(type, "iTXt", 4) == 0) {
			flags |= png_text_verdict(d, n);
			changed = true;
		} else {
			/* tIME is the date of the last change, as EXIF's
			 * DateTime; the other chunks are unknown or private
			 * (previews, editor state, signatures). */
			flags |= FOLIO_IMAGE_EXIF;
			changed = true;
		}
	}
	/* Data after IEND is invisible and can be anything (even what a crop
	 * cut away). */
	for (size_t i = pos; i < len; i++)
		if (data[i] != 0) {
			flags |= FOLIO_IMAGE_EXIF;
			changed = true;
			break;
		}
	free(exif);
	if (!changed) {
		free(b.data);
		return FOLIO_OK;
	}
	*out = b.data;
	*out_len = b.len;
	*removed = flags;
	return FOLIO_OK;
bad:
	free(b.data);
	free(exif);
	return folio_fail(ctx, FOLIO_EREJECT, "cannot clean '%s': not a valid PNG (%s)",
			  name, problem);
no_memory:
	free(b.data);
	free(exif);
	return folio_fail(ctx, FOLIO_ESYSTEM, "cannot clean '%s': out of memory", name);
}

/* ---- WebP ------------------------------------------------------------------- */

struct webp_layout {
	size_t riff_len;  /* bytes of the RIFF container, header included */
	bool lossless;    /* a VP8L image */
	bool animated;
	char unknown[16][4]; /* fourccs of chunks libwebpmux does not know */
	int nunknown;
	bool too_many_unknown;
	const uint8_t *exif; /* the first EXIF chunk */
	size_t exif_len;
	bool xmp;
};

static bool webp_known(const uint8_t *f)
{
	static const char known[][5] = {
		"VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF", "ICCP", "EXIF", "XMP ",
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (memcmp(f, known[i], 4) == 0)
			return true;
	return false;
}

/* Walks the RIFF chunks; NULL or the problem. */
static const char *webp_walk(const uint8_t *data, size_t len, struct webp_layout *w)
{
	memset(w, 0, sizeof(*w));
	if (len < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WEBP", 4) != 0)
		return "no RIFF WEBP header";
	uint32_t size = get_le32(data + 4);
	if (size < 4 || size > len - 8)
		return "the RIFF size does not match the file";
	w->riff_len = (size_t)size + 8;
	size_t pos = 12;
	while (pos < w->riff_len) {
		if (w->riff_len - pos < 8)
			return "a chunk header is cut short";
		const uint8_t *f = data + pos;
		uint32_t n = get_le32(f + 4);
		size_t padded = (size_t)n + (n & 1);
		if (n > w->riff_len - pos - 8)
			return "a chunk is longer than the file";
		/* Some writers leave out the last chunk's padding byte. */
		if (padded > w->riff_len - pos - 8)
			padded = n;
		if (memcmp(f, "VP8L", 4) == 0)
			w->lossless = true;
		else if (memcmp(f, "ANIM", 4) == 0)
			w->animated = true;
		else if (memcmp(f, "EXIF", 4) == 0 && w->exif == NULL) {
			w->exif = f + 8;
			w->exif_len = n;
		} else if (memcmp(f, "XMP ", 4) == 0)
			w->xmp = true;
		else if (!webp_known(f)) {
			int k;
			for (k = 0; k < w->nunknown; k++)
				if (memcmp(w->unknown[k], f, 4) == 0)
					break;
			if (k == w->nunknown) {
				if (w->nunknown == 16)
					w->too_many_unknown = true;
				else
					memcpy(w->unknown[w->nunknown++], f, 4);
			}
		}
		pos += 8 + padded;
	}
	return NULL;
}

static int webp_clean(folio_ctx *ctx, const char *name, const uint8_t *data,
		      size_t len, uint8_t **out, size_t *out_len, unsigned *removed)
{
	struct webp_layout w;
	const char *problem = webp_walk(data, len, &w);
	if (problem != NULL)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot clean '%s': not a valid WebP (%s)",
				  name, problem);
	if (w.too_many_unknown)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot clean '%s': not a valid WebP (too many unknown chunks)", name);

	unsigned flags = 0;
	uint8_t *exif = NULL;
	size_t exif_len = 0;
	bool exif_stays = false;
	if (w.exif != NULL) {
		struct exif_survey s;
		if (!exif_inspect(w.exif, w.exif_len, &s) ||
		    !exif_minimal(s.orientation, false, &exif, &exif_len))
			goto no_memory;
		exif_stays = exif_is_minimal(w.exif, w.exif_len, exif, exif_len);
		if (!exif_stays)
			flags |= s.removed != 0 ? s.removed : FOLIO_IMAGE_EXIF;
	}
	if (w.xmp)
		flags |= FOLIO_IMAGE_XMP;
	if (w.nunknown > 0)
		flags |= FOLIO_IMAGE_EXIF;
	for (size_t i = w.riff_len; i < len; i++)
		if (data[i] != 0) {
			flags |= FOLIO_IMAGE_EXIF;
			break;
		}
	if (flags == 0) {
		free(exif);
		return FOLIO_OK;
	}

	WebPData in = { data, w.riff_len };
	WebPMux *mux = WebPMuxCreate(&in, 0);
	if (mux == NULL) {
		free(exif);
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot clean '%s': not a valid WebP (libwebpmux cannot read it)",
				  name);
	}
	WebPMuxError e = WEBP_MUX_OK;
	if (!exif_stays) {
		e = WebPMuxDeleteChunk(mux, "EXIF");
		if (e == WEBP_MUX_NOT_FOUND)
			e = WEBP_MUX_OK;
		if (e == WEBP_MUX_OK && exif != NULL) {
			WebPData x = { exif, exif_len };
			e = WebPMuxSetChunk(mux, "EXIF", &x, 1);
		}
	}
	if (e == WEBP_MUX_OK && w.xmp)
		e = WebPMuxDeleteChunk(mux, "XMP ");
	for (int k = 0; e == WEBP_MUX_OK && k < w.nunknown; k++) {
		char fourcc[5];
		memcpy(fourcc, w.unknown[k], 4);
		fourcc[4] = '\0';
		e = WebPMuxDeleteChunk(mux, fourcc);
		if (e == WEBP_MUX_NOT_FOUND)
			e = WEBP_MUX_OK;
	}
	WebPData assembled = { NULL, 0 };
	if (e == WEBP_MUX_OK)
		e = WebPMuxAssemble(mux, &assembled);
	WebPMuxDelete(mux);
	free(exif);
	exif = NULL;
	if (e == WEBP_MUX_MEMORY_ERROR)
		goto no_memory;
	if (e != WEBP_MUX_OK) {
		WebPDataClear(&assembled);
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot clean '%s': not a valid WebP (libwebpmux error %d)", name,
				  (int)e);
	}
	/* Ours to free with free(), not WebPFree(). */
	*out = malloc(assembled.size > 0 ? assembled.size : 1);
	if (*out == NULL) {
		WebPDataClear(&assembled);
		goto no_memory;
	}
	memcpy(*out, assembled.bytes, assembled.size);
	*out_len = assembled.size;
	*removed = flags;
	WebPDataClear(&assembled);
	return FOLIO_OK;
no_memory:
	free(exif);
	return folio_fail(ctx, FOLIO_ESYSTEM, "cannot clean '%s': out of memory", name);
}

int folio_image_clean(folio_ctx *ctx, const char *name, const char *type,
		      const uint8_t *data, size_t len, uint8_t **out,
		      size_t *out_len, unsigned *removed)
{
	*out = NULL;
	*out_len = 0;
	*removed = 0;
	if (type != NULL && strcmp(type, "image/jpeg") == 0)
		return jpeg_clean(ctx, name, data, len, out, out_len, removed);
	if (type != NULL && strcmp(type, "image/png") == 0)
		return png_clean(ctx, name, data, len, out, out_len, removed);
	if (type != NULL && strcmp(type, "image/webp") == 0)
		return webp_clean(ctx, name, data, len, out, out_len, removed);
	return folio_fail(ctx, FOLIO_EREJECT, "cannot clean '%s': %s images are not supported",
			  name, type != NULL ? type : "these");
}

/* ---- lossless optimisation --------------------------------------------------- */

/* Larger images stay as they are: the PNG trials hold the pixels and two
 * filtered copies of them at once. */
#define OPTIMIZE_MAX_RAW (64u << 20)

/* One libjpeg run that writes either baseline or progressive. */
struct jpeg_optimize_job {
	struct jpeg_decompress_struct in;
	struct jpeg_compress_struct out[2]; /* baseline, progressive */
	struct jpeg_failure err;
	struct jpeg_progress_mgr progress;
	struct jpeg_sink sink[2];
	bool too_large;
};

static void jpeg_start_decompress_from(struct jpeg_decompress_struct *in, struct jpeg_failure *err,
				       struct jpeg_progress_mgr *progress, const uint8_t *data,
				       size_t len)
{
	in->err = jpeg_std_error(&err->pub);
	err->pub.error_exit = jpeg_on_error;
	err->pub.emit_message = jpeg_on_message;
	jpeg_create_decompress(in);
	in->mem->max_memory_to_use = MAX_JPEG_MEMORY;
	progress->progress_monitor = jpeg_on_progress;
	in->progress = progress;
	jpeg_mem_src(in, data, (unsigned long)len);
}

/* The same coefficients written twice, with optimised Huffman tables:
 * sequential and progressive.  Markers the cleaning kept (EXIF orientation,
 * ICC profile) are copied; JFIF and Adobe segments libjpeg writes itself. */
static int jpeg_optimize_run(struct jpeg_optimize_job *job, const uint8_t *data, size_t len)
{
	if (setjmp(job->err.jump))
		return -1;
	jpeg_start_decompress_from(&job->in, &job->err, &job->progress, data, len);
	if (!jpeg_header_fits(&job->in)) {
		job->too_large = true;
		return 0;
	}
	jvirt_barray_ptr *coefs = jpeg_read_coefficients(&job->in);
	for (int k = 0; k < 2; k++) {
		struct jpeg_compress_struct *out = &job->out[k];
		out->err = &job->err.pub;
		jpeg_create_compress(out);
		out->mem->max_memory_to_use = MAX_JPEG_MEMORY;
		job->sink[k].pub.init_destination = sink_init;
		job->sink[k].pub.empty_output_buffer = sink_empty;
		job->sink[k].pub.term_destination = sink_term;
		out->dest = &job->sink[k].pub;
		jpeg_copy_critical_parameters(&job->in, out);
		out->optimize_coding = TRUE;
		if (k == 1)
			jpeg_simple_progression(out);
		out->write_JFIF_header = job->in.saw_JFIF_marker;
		if (job->in.saw_Adobe_marker)
			out->write_Adobe_marker = TRUE;
		jpeg_write_coefficients(out, coefs);
		for (jpeg_saved_marker_ptr m = job->in.marker_list; m != NULL; m = m->next) {
			if (m->marker == JPEG_APP0 && starts_with(m->data, m->data_length, "JFIF\0", 5))
				continue;
			if (m->marker == JPEG_APP0 + 14 &&
			    starts_with(m->data, m->data_length, "Adobe", 5))
				continue;
			jpeg_write_marker(out, m->marker, m->data, m->data_length);
		}
		jpeg_finish_compress(out);
	}
	jpeg_finish_decompress(&job->in);
	return 0;
}

/* Two JPEGs decoded side by side, a row of each at a time: the pixel check
 * holds two rows, not two images.  Both decoders share one error manager,
 * so a failure in either lands in the one setjmp. */
struct jpeg_compare_job {
	struct jpeg_decompress_struct in[2];
	struct jpeg_failure err;
	struct jpeg_progress_mgr progress[2];
	JSAMPROW row[2];
};

/* 1 when both decode to the same pixels, 0 when not (or one does not
 * decode), -1 when out of memory. */
static int jpeg_compare_run(struct jpeg_compare_job *job, const uint8_t *const data[2],
			    const size_t len[2])
{
	if (setjmp(job->err.jump))
		return job->err.out_of_memory ? -1 : 0;
	for (int k = 0; k < 2; k++) {
		jpeg_start_decompress_from(&job->in[k], &job->err, &job->progress[k], data[k], len[k]);
		jpeg_read_header(&job->in[k], TRUE);
		if ((uint64_t)job->in[k].image_width * job->in[k].image_height > MAX_PIXELS)
			return 0;
		jpeg_start_decompress(&job->in[k]);
	}
	struct jpeg_decompress_struct *a = &job->in[0], *b = &job->in[1];
	if (a->output_width != b->output_width || a->output_height != b->output_height ||
	    a->output_components != b->output_components)
		return 0;
	size_t row = (size_t)a->output_width * (size_t)a->output_components;
	for (int k = 0; k < 2; k++)
		if ((job->row[k] = malloc(row + 1)) == NULL)
			return -1;
	while (a->output_scanline < a->output_height) {
		jpeg_read_scanlines(a, &job->row[0], 1);
		jpeg_read_scanlines(b, &job->row[1], 1);
		if (memcmp(job->row[0], job->row[1], row) != 0)
			return 0;
	}
	jpeg_finish_decompress(a);
	jpeg_finish_decompress(b);
	return 1;
}

static int jpeg_same_pixels(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct jpeg_compare_job *job = calloc(1, sizeof(*job));
	if (job == NULL)
		return -1;
	const uint8_t *data[2] = {a, b};
	size_t len[2] = {alen, blen};
	int same = jpeg_compare_run(job, data, len);
	for (int k = 0; k < 2; k++) {
		jpeg_destroy_decompress(&job->in[k]); /* safe on one never created */
		free(job->row[k]);
	}
	free(job);
	return same;
}

static int jpeg_optimize(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
	struct jpeg_optimize_job *job = calloc(1, sizeof(*job));
	if (job == NULL)
		return FOLIO_ESYSTEM;
	int rc = FOLIO_OK;
	if (jpeg_optimize_run(job, data, len) != 0) {
		if (job->err.out_of_memory)
			rc = FOLIO_ESYSTEM;
	} else if (!job->too_large) {
		int best = -1;
		size_t best_len = len;
		for (int k = 0; k < 2; k++)
			if (job->sink[k].b.data != NULL && job->sink[k].b.len < best_len) {
				best = k;
				best_len = job->sink[k].b.len;
			}
		int same = best >= 0 ? jpeg_same_pixels(data, len, job->sink[best].b.data, best_len) : 0;
		if (same < 0) {
			rc = FOLIO_ESYSTEM;
		} else if (same > 0) {
			*out = job->sink[best].b.data;
			*out_len = best_len;
			job->sink[best].b.data = NULL;
		}
	}
	for (int k = 0; k < 2; k++) {
		jpeg_destroy_compress(&job->out[k]);
		free(job->sink[k].b.data);
	}
	jpeg_destroy_decompress(&job->in);
	free(job);
	return rc;
}

/* A PNG decoded as stored: the same bit depth and colour type, palette
 * indexes as they are, interlaced images put in row order. */
struct png_raw {
	png_uint_32 width, height;
	int depth, color;
	size_t rowbytes;
	uint8_t *pixels;   /* height rows of rowbytes */
	png_color palette[256];
	int npalette;
};

struct png_source {
	const uint8_t *data;
	size_t len, pos;
};

/* libpng's default handlers print; these do not. */
static void png_on_error(png_structp png, png_const_charp message)
{
	(void)message;
	png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp message)
{
	(void)png;
	(void)message;
}

static void png_from_memory(png_structp png, png_bytep to, size_t n)
{
	struct png_source *s = png_get_io_ptr(png);
	if (n > s->len - s->pos)
		png_error(png, "the file ends early");
	memcpy(to, s->data + s->pos, n);
	s->pos += n;
}

/* libpng allocates through these, so that running out of memory is told
 * apart from a file libpng refuses: the first fails the pack (the bytes
 * must not depend on how much memory there was), the second keeps the
 * image as it is.  The flag is the struct's mem_ptr. */
static png_voidp png_alloc(png_structp png, png_alloc_size_t n)
{
	void *p = malloc(n);
	if (p == NULL)
		*(bool *)png_get_mem_ptr(png) = true;
	return p;
}

static void png_release(png_structp png, png_voidp p)
{
	(void)png;
	free(p);
}

static void png_out_of_memory(png_structp png)
{
	*(bool *)png_get_mem_ptr(png) = true;
	png_error(png, "out of memory");
}

static int png_decode_run(png_structp png, png_infop info, struct png_raw *raw,
			  png_bytep *volatile *rows)
{
	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_benign_errors(png, 1);
	png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
	/* Only the pixels are used here: the other chunks are copied as
	 * they are. */
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	png_read_info(png, info);
	int interlace;
	png_get_IHDR(png, info, &raw->width, &raw->height, &raw->depth, &raw->color, &interlace,
		     NULL, NULL);
	if ((uint64_t)raw->width * raw->height > MAX_PIXELS)
		return -1;
	if (interlace != PNG_INTERLACE_NONE)
		png_set_interlace_handling(png);
	png_read_update_info(png, info);
	raw->rowbytes = png_get_rowbytes(png, info);
	if ((uint64_t)(raw->rowbytes + 1) * raw->height > OPTIMIZE_MAX_RAW)
		return -1;
	png_colorp palette;
	if (png_get_PLTE(png, info, &palette, &raw->npalette) == PNG_INFO_PLTE)
		memcpy(raw->palette, palette, (size_t)raw->npalette * sizeof(*palette));
	raw->pixels = malloc(raw->rowbytes * raw->height + 1);
	*rows = malloc(raw->height * sizeof(**rows) + 1);
	if (raw->pixels == NULL || *rows == NULL)
		png_out_of_memory(png);
	for (png_uint_32 y = 0; y < raw->height; y++)
		(*rows)[y] = raw->pixels + (size_t)y * raw->rowbytes;
	png_read_image(png, *rows);
	png_read_end(png, NULL);
	return 0;
}

/* 0, or -1 when libpng cannot decode it (or it is too large to try), with
 * *oom set when that is for want of memory. */
static int png_decode(const uint8_t *data, size_t len, struct png_raw *raw, bool *oom)
{
	memset(raw, 0, sizeof(*raw));
	struct png_source src = { data, len, 0 };
	png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, NULL, png_on_error,
						   png_on_warning, oom, png_alloc, png_release);
	png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
	if (info == NULL) {
		png_destroy_read_struct(&png, NULL, NULL);
		*oom = true;
		return -1;
	}
	png_set_read_fn(png, &src, png_from_memory);
	png_bytep *volatile rows = NULL;
	int rc = png_decode_run(png, info, raw, &rows);
	png_destroy_read_struct(&png, &info, NULL);
	free(rows);
	if (rc != 0) {
		free(raw->pixels);
		raw->pixels = NULL;
	}
	return rc;
}

static void png_to_memory(png_structp png, png_bytep from, size_t n)
{
	if (!buf_add(png_get_io_ptr(png), from, n))
		png_out_of_memory(png);
}

static void png_flush_nothing(png_structp png)
{
	(void)png;
}

static int png_encode_run(png_structp png, png_infop info, const struct png_raw *raw, int filters,
			  png_bytep *volatile *rows)
{
	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_IHDR(png, info, raw->width, raw->height, raw->depth, raw->color,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (raw->npalette > 0)
		png_set_PLTE(png, info, raw->palette, raw->npalette);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
	png_set_compression_level(png, Z_NO_COMPRESSION);
	png_write_info(png, info);
	*rows = malloc(raw->height * sizeof(**rows) + 1);
	if (*rows == NULL)
		png_out_of_memory(png);
	for (png_uint_32 y = 0; y < raw->height; y++)
		(*rows)[y] = raw->pixels + (size_t)y * raw->rowbytes;
	png_write_image(png, *rows);
	png_write_end(png, NULL);
	return 0;
}

/* The image's rows as libpng filters them for the filters asked for (each
 * row's filter byte and its bytes), in *filtered (malloc'd, height x
 * (rowbytes + 1) bytes).  libpng writes them uncompressed; zlib takes them
 * out of the IDAT chunks again.  0, or -1 (a libpng error, or out of memory
 * with *oom set). */
static int png_filter(const struct png_raw *raw, int filters, uint8_t **filtered, size_t *size,
		      bool *oom)
{
	*filtered = NULL;
	struct buf file = { 0 };
	png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, NULL, png_on_error,
						    png_on_warning, oom, png_alloc, png_release);
	png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
	if (info == NULL) {
		png_destroy_write_struct(&png, NULL);
		*oom = true;
		return -1;
	}
	png_set_write_fn(png, &file, png_to_memory, png_flush_nothing);
	png_bytep *volatile rows = NULL;
	int rc = png_encode_run(png, info, raw, filters, &rows);
	png_destroy_write_struct(&png, &info);
	free(rows);

	*size = (raw->rowbytes + 1) * raw->height;
	uint8_t *out = rc == 0 ? malloc(*size + 1) : NULL;
	z_stream z = { 0 };
	if (out == NULL || inflateInit(&z) != Z_OK) {
		*oom |= rc == 0; /* libpng's own failure is told already */
		free(out);
		free(file.data);
		return -1;
	}
	z.next_out = out;
	z.avail_out = (uInt)(*size + 1);
	int zr = Z_OK;
	for (size_t pos = sizeof(png_signature); pos + 12 <= file.len && zr == Z_OK;) {
		uint32_t n = get_be32(file.data + pos);
		if (n > file.len - pos - 12)
			break;
		if (memcmp(file.data + pos + 4, "IDAT", 4) == 0) {
			z.next_in = file.data + pos + 8;
			z.avail_in = n;
			zr = inflate(&z, Z_NO_FLUSH);
		}
		pos += 12 + (size_t)n;
	}
	inflateEnd(&z);
	free(file.data);
	if (zr != Z_STREAM_END || z.total_out != *size) {
		free(out);
		return -1;
	}
	*filtered = out;
	return 0;
}

/* data as a zlib stream of the given level and strategy, in *out
 * (malloc'd).  0, or -1 when out of memory. */
static int png_deflate(const uint8_t *data, size_t len, int level, int strategy, uint8_t **out,
		       size_t *out_len)
{
	*out = NULL;
	z_stream z = { 0 };
	if (deflateInit2(&z, level, Z_DEFLATED, 15, 9, strategy) != Z_OK)
		return -1;
	size_t cap = deflateBound(&z, (uLong)len);
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	int zr = deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/* Whether a PNG chunk type is one optimisation may copy as it is: not the
 * image data and its header, not animation (whose frames are compressed
 * like IDAT), not a critical chunk libpng does not know. */
static bool png_chunk_copied(const uint8_t type[4])
{
	static const char refused[][5] = { "acTL", "fcTL", "fdAT" };
	/* The standard chunks say things of the pixels, which stay the same;
	 * an unknown chunk marked unsafe to copy (fourth letter upper case,
	 * PNG 14.2) may point into the image data, as Apple's iDOT does: a
	 * file with one stays as it is. */
	static const char known[][5] = {
		"PLTE", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "hIST", "sPLT",
		"tIME", "pHYs", "tEXt", "zTXt", "iTXt", "eXIf", "oFFs", "pCAL", "sCAL", "sTER",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (memcmp(type, refused[i], 4) == 0)
			return false;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (memcmp(type, known[i], 4) == 0)
			return true;
	return (type[0] & 0x20) != 0 && (type[3] & 0x20) != 0;
}

/* The file rebuilt around a new zlib stream: the IHDR (not interlaced),
 * the chunks before and after the image data as they were.  1, or 0 when
 * the file has chunks it does not copy, -1 when out of memory. */
static int png_rebuild(const uint8_t *data, size_t len, const uint8_t *z, size_t zlen,
		       struct buf *b)
{
	size_t pos = sizeof(png_signature);
	bool idat_done = false, in_idat = false;
	if (!buf_add(b, png_signature, sizeof(png_signature)))
		return -1;
	while (pos + 12 <= len) {
		const uint8_t *c = data + pos;
		uint32_t n = get_be32(c);
		if (n > len - pos - 12)
			return 0;
		const uint8_t *type = c + 4;
		pos += 12 + (size_t)n;
		if (memcmp(type, "IHDR", 4) == 0) {
			if (n != 13)
				return 0;
			uint8_t ihdr[13];
			memcpy(ihdr, c + 8, 13);
			ihdr[12] = 0; /* no interlacing */
			if (!png_add_chunk(b, "IHDR", ihdr, 13))
				return -1;
		} else if (memcmp(type, "IDAT", 4) == 0) {
			if (idat_done)
				return 0; /* IDAT chunks must be consecutive */
			if (!in_idat)
				for (size_t k = 0; k < zlen; k += 1u << 30) {
					size_t part = zlen - k < (1u << 30) ? zlen - k : 1u << 30;
					if (!png_add_chunk(b, "IDAT", z + k, part))
						return -1;
				}
			in_idat = true;
		} else if (memcmp(type, "IEND", 4) == 0) {
			if (!in_idat)
				return 0;
			return png_add_chunk(b, "IEND", NULL, 0) ? 1 : -1;
		} else {
			if (!png_chunk_copied(type))
				return 0;
			idat_done |= in_idat;
			if (!buf_add(b, c, 12 + (size_t)n))
				return -1;
		}
	}
	return 0;
}

static int png_optimize(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
	struct png_raw raw, check;
	bool oom = false;
	if (png_decode(data, len, &raw, &oom) != 0)
		return oom ? FOLIO_ESYSTEM : FOLIO_OK; /* what libpng refuses stays as it is */
	/* The filters and strategy are chosen at zlib's level 6, several
	 * times faster than level 9 and ranking them nearly the same way; the
	 * winner alone is compressed at level 9.  (zopfli's deflate made the
	 * handbook's images 5% smaller than level 9 but its bundle only 0.01%,
	 * at twice the time: not used.) */
	int rc = FOLIO_OK, strategy = Z_DEFAULT_STRATEGY;
	uint8_t *best = NULL, *best_filtered = NULL;
	size_t best_len = SIZE_MAX, filtered_len = 0;
	static const int filter_sets[] = { PNG_FILTER_NONE, PNG_ALL_FILTERS };
	static const int strategies[] = { Z_DEFAULT_STRATEGY, Z_FILTERED };
	for (size_t f = 0; f < sizeof(filter_sets) / sizeof(filter_sets[0]) && rc == FOLIO_OK; f++) {
		uint8_t *filtered;
		size_t size;
		if (png_filter(&raw, filter_sets[f], &filtered, &size, &oom) != 0) {
			rc = oom ? FOLIO_ESYSTEM : FOLIO_OK;
			break; /* what libpng cannot write stays as it is */
		}
		bool won = false;
		for (size_t s = 0; s < sizeof(strategies) / sizeof(strategies[0]); s++) {
			uint8_t *z;
			size_t zlen;
			if (png_deflate(filtered, size, 6, strategies[s], &z, &zlen) != 0) {
				rc = FOLIO_ESYSTEM;
				break;
			}
			free(z);
			if (zlen < best_len) {
				best_len = zlen;
				strategy = strategies[s];
				won = true;
			}
		}
		if (won) {
			free(best_filtered);
			best_filtered = filtered;
			filtered_len = size;
		} else
			free(filtered);
	}
	if (rc == FOLIO_OK && best_filtered != NULL &&
	    png_deflate(best_filtered, filtered_len, 9, strategy, &best, &best_len) != 0)
		rc = FOLIO_ESYSTEM;
	struct buf file = { 0 };
	int rebuilt = rc == FOLIO_OK && best != NULL && best_len < len ?
		      png_rebuild(data, len, best, best_len, &file) : 0;
	bool decoded = false;
	if (rebuilt < 0)
		rc = FOLIO_ESYSTEM;
	else if (rebuilt > 0 && file.len < len) {
		decoded = png_decode(file.data, file.len, &check, &oom) == 0;
		if (oom)
			rc = FOLIO_ESYSTEM;
	}
	if (decoded) {
		/* The same header, palette and chunks around: the same rows
		 * are the same pixels. */
		if (check.width == raw.width && check.height == raw.height &&
		    check.depth == raw.depth && check.color == raw.color &&
		    check.rowbytes == raw.rowbytes &&
		    memcmp(check.pixels, raw.pixels, raw.rowbytes * raw.height) == 0) {
			*out = file.data;
			*out_len = file.len;
			file.data = NULL;
		}
		free(check.pixels);
	}
	free(file.data);
	free(best);
	free(best_filtered);
	free(raw.pixels);
	return rc;
}

int folio_image_optimize(const char *type, const uint8_t *data, size_t len, uint8_t **out,
			 size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (type != NULL && strcmp(type, "image/jpeg") == 0)
		return jpeg_optimize(data, len, out, out_len);
	if (type != NULL && strcmp(type, "image/png") == 0)
		return png_optimize(data, len, out, out_len);
	return FOLIO_OK;
}

/* ---- libvips ---------------------------------------------------------------- */

static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static bool vips_ready;

/* The library never prints: GLib would send libvips' warnings to stderr. */
static void vips_quiet(const gchar *domain, GLogLevelFlags level, const gchar *message,
		       gpointer user)
{
	(void)domain;
	(void)level;
	(void)message;
	(void)user;
}

static void vips_start(void)
{
	static const char *const domains[] = { "VIPS", "GLib", "GLib-GObject", "GModule" };
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
		g_log_set_handler(domains[i], G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
				  G_LOG_FLAG_RECURSION, vips_quiet, NULL);
	if (VIPS_INIT("folio") != 0) {
		vips_error_clear();
		return;
	}
	/* One image at a time: nothing worth caching, and no thread pool
	 * to compete with the packer. */
	vips_cache_set_max(0);
	vips_concurrency_set(1);
	vips_leak_set(FALSE);
	/* The type comes from the file name and the bytes are checked, but
	 * libvips would still pick its loader by content: only these three
	 * may run (not SVG, PDF, ImageMagick, ...). */
	vips_operation_block_set("VipsForeignLoad", TRUE);
	vips_operation_block_set("VipsForeignLoadJpeg", FALSE);
	vips_operation_block_set("VipsForeignLoadPng", FALSE);
	vips_operation_block_set("VipsForeignLoadWebp", FALSE);
	vips_ready = true;
}

/* The first line of libvips' error buffer, which is then cleared. */
static void vips_message(char *msg, size_t size)
{
	const char *e = vips_error_buffer();
	size_t n = strcspn(e, "\n");

	if (n == 0) {
		e = "libvips failed";
		n = strlen(e);
	}
	snprintf(msg, size, "%.*s", (int)n, e);
	vips_error_clear();
}

enum image_format { FORMAT_NONE, FORMAT_JPEG, FORMAT_PNG, FORMAT_WEBP };

static enum image_format sniff(const uint8_t *data, size_t len)
{
	if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		return FORMAT_JPEG;
	if (starts_with(data, len, png_signature, sizeof(png_signature)))
		return FORMAT_PNG;
	if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		return FORMAT_WEBP;
	return FORMAT_NONE;
}

static const char *format_name(enum image_format f)
{
	return f == FORMAT_JPEG ? "JPEG" : f == FORMAT_PNG ? "PNG" : f == FORMAT_WEBP ? "WebP" : "image";
}

/* A JPEG's frame is progressive: walks the segments up to the SOF. */
static bool jpeg_progressive(const uint8_t *data, size_t len)
{
	size_t pos = 2;
	while (pos + 4 <= len && data[pos] == 0xff) {
		uint8_t m = data[pos + 1];
		if (m == 0xff) {
			pos++;
			continue;
		}
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc)
			return m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce;
		pos += 2 + ((size_t)data[pos + 2] << 8 | data[pos + 3]);
	}
	return false;
}

/* What an image to be scaled is.  verb is for messages. */
struct image_info {
	enum image_format format;
	int width, height; /* as shown, EXIF orientation applied */
	bool palette;      /* PNG colour type 3 */
	bool lossless;     /* WebP VP8L */
	bool animated;     /* APNG or animated WebP */
	bool progressive;  /* JPEG */
};

static int image_probe(folio_ctx *ctx, const char *verb, const char *name,
		       const char *type, const uint8_t *data, size_t len,
		       struct image_info *info)
{
	memset(info, 0, sizeof(*info));
	pthread_once(&vips_once, vips_start);
	if (!vips_ready)
		return folio_fail(ctx, FOLIO_ESYSTEM, "cannot %s '%s': libvips cannot start",
				  verb, name);
	info->format = sniff(data, len);
	enum image_format want = FORMAT_NONE;
	if (type == NULL)
		want = info->format;
	else if (strcmp(type, "image/jpeg") == 0)
		want = FORMAT_JPEG;
	else if (strcmp(type, "image/png") == 0)
		want = FORMAT_PNG;
	else if (strcmp(type, "image/webp") == 0)
		want = FORMAT_WEBP;
	if (want == FORMAT_NONE && type != NULL)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot %s '%s': %s images are not supported",
				  verb, name, type);
	if (want == FORMAT_NONE)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot %s '%s': not a JPEG, PNG or WebP image",
				  verb, name);
	if (info->format != want)
		return folio_fail(ctx, FOLIO_EREJECT, "cannot %s '%s': not a valid %s", verb,
				  name, format_name(want));

	switch (info->format) {
	case FORMAT_JPEG:
		info->progressive = jpeg_progressive(data, len);
		break;
	case FORMAT_PNG:
		info->palette = len > 25 && data[25] == 3;
		/* acTL must come before the first IDAT: look there.  libpng
		 * allocates a whole chunk (but IDAT) before reading it: one
		 * claiming more bytes than the file has is refused here, or a
		 * few hundred bytes could make it ask for gigabytes. */
		for (size_t pos = 8, idat = 0; pos + 8 <= len;) {
			uint32_t n = get_be32(data + pos);
			bool is_idat = memcmp(data + pos + 4, "IDAT", 4) == 0;
			if (memcmp(data + pos + 4, "acTL", 4) == 0 && idat == 0)
				info->animated = true;
			if (memcmp(data + pos + 4, "IEND", 4) == 0)
				break; /* what follows is not read */
			bool whole = n <= len - pos - 8 && len - pos - 8 - n >= 4;
			if (!whole && !is_idat)
				return folio_fail(ctx, FOLIO_EREJECT,
						  "cannot %s '%s': a PNG chunk is longer than "
						  "the file", verb, name);
			if (!whole)
				break;
			idat += is_idat;
			pos += 12 + (size_t)n;
		}
		break;
	case FORMAT_WEBP: {
		struct webp_layout w;
		if (webp_walk(data, len, &w) == NULL) {
			info->lossless = w.lossless;
			info->animated = w.animated;
		}
		break;
	}
	case FORMAT_NONE:
		break;
	}

	/* The header only: libvips reads pixels when they are asked for. */
	VipsImage *head = vips_image_new_from_buffer(data, len, "", "access",
						     VIPS_ACCESS_SEQUENTIAL, NULL);
	if (head == NULL) {
		char msg[512];
		vips_message(msg, sizeof(msg));
		return folio_fail(ctx, FOLIO_EREJECT, "cannot %s '%s': %s", verb, name, msg);
	}
	int w = vips_image_get_width(head), h = vips_image_get_height(head);
	bool swap = vips_image_get_orientation_swap(head);
	g_object_unref(head);
	if ((uint64_t)w * (uint64_t)h > MAX_PIXELS)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot %s '%s': it is %d x %d pixels, more than %llu megapixels",
				  verb, name, w, h, MAX_PIXELS / 1000000);
	info->width = swap ? h : w;
	info->height = swap ? w : h;
	return FOLIO_OK;
}

int folio_image_size(folio_ctx *ctx, const char *name, const char *type,
		     const uint8_t *data, size_t len, unsigned *width, unsigned *height)
{
	struct image_info info;

	*width = 0;
	*height = 0;
	int rc = image_probe(ctx, "measure", name, type, data, len, &info);
	if (rc == FOLIO_OK && info.width > 0 && info.height > 0) {
		*width = (unsigned)info.width;
		*height = (unsigned)info.height;
	}
	return rc;
}

/* A copy of libvips' g_malloc'd output in memory the caller frees with
 * free(). */
static int take_output(folio_ctx *ctx, const char *verb, const char *name, void *buf,
		       size_t size, uint8_t **out, size_t *out_len)
{
	*out = malloc(size > 0 ? size : 1);
	if (*out == NULL) {
		g_free(buf);
		return folio_fail(ctx, FOLIO_ESYSTEM, "cannot %s '%s': out of memory", verb, name);
	}
	memcpy(*out, buf, size);
	*out_len = size;
	g_free(buf);
	return FOLIO_OK;
}

/* Drops the metadata libvips would write, except the colour profile. */
static void drop_metadata(VipsImage *im)
{
	static const char *const prefixes[] = {
		"exif-", "xmp-", "iptc-", "png-comment-", "gif-comment", "jpeg-thumbnail",
		"orientation",
	};
	gchar **fields = vips_image_get_fields(im);

	for (gchar **f = fields; f != NULL && *f != NULL; f++)
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
			if (strncmp(*f, prefixes[i], strlen(prefixes[i])) == 0) {
				vips_image_remove(im, *f);
				break;
			}
	g_strfreev(fields);
}

int folio_image_shrink(folio_ctx *ctx, const char *name, const char *type,
		       const uint8_t *data, size_t len, unsigned max_width,
		       bool keep_metadata, uint8_t **out, size_t *out_len)
{
	static const char verb[] = "shrink";
	struct image_info info;

	*out = NULL;
	*out_len = 0;
	int rc = image_probe(ctx, verb, name, type, data, len, &info);
	if (rc != FOLIO_OK)
		return rc;
	/* Scaling would keep only the first frame of an animation. */
	if (info.animated || max_width == 0 || (unsigned)info.width <= max_width)
		return FOLIO_OK;
	if (max_width > VIPS_MAX_COORD)
		max_width = VIPS_MAX_COORD;

	VipsImage *scaled = NULL, *saveable = NULL;
	void *buf = NULL;
	size_t size = 0;
	/* libvips does not write to the buffer it reads. */
	void *in = (void *)(uintptr_t)data;
	if (vips_thumbnail_buffer(in, len, &scaled, (int)max_width, "height", VIPS_MAX_COORD,
				  "size", VIPS_SIZE_DOWN, "option_string", "fail_on=truncated",
				  NULL) != 0)
		goto vips_failed;
	if (vips_copy(scaled, &saveable, NULL) != 0)
		goto vips_failed;
	if (!keep_metadata)
		drop_metadata(saveable);
	int saved;
	switch (info.format) {
	case FORMAT_JPEG:
		saved = vips_jpegsave_buffer(saveable, &buf, &size, "Q", 85, "interlace",
					     info.progressive, "optimize_coding", TRUE, NULL);
		break;
	case FORMAT_PNG:
		saved = vips_pngsave_buffer(saveable, &buf, &size, "compression", 9,
					    "palette", info.palette, NULL);
		break;
	default:
		saved = vips_webpsave_buffer(saveable, &buf, &size, "Q", 80, "lossless",
					     info.lossless, NULL);
		break;
	}
	if (saved != 0)
		goto vips_failed;
	g_object_unref(saveable);
	g_object_unref(scaled);
	rc = take_output(ctx, verb, name, buf, size, out, out_len);
	if (rc == FOLIO_OK && !keep_metadata) {
		/* libvips writes a fresh EXIF block (resolution, a colour
		 * space) unless told to strip everything, ICC profile
		 * included: the lossless cleaning takes it out instead. */
		static const char *const types[] = {
			[FORMAT_JPEG] = "image/jpeg", [FORMAT_PNG] = "image/png",
			[FORMAT_WEBP] = "image/webp",
		};
		uint8_t *clean = NULL;
		size_t clean_len = 0;
		unsigned removed = 0;
		rc = folio_image_clean(ctx, name, types[info.format], *out, *out_len, &clean,
				       &clean_len, &removed);
		if (clean != NULL) {
			free(*out);
			*out = clean;
			*out_len = clean_len;
		}
	}
	if (rc != FOLIO_OK || *out_len >= len) {
		free(*out);
		*out = NULL;
		*out_len = 0;
	}
	return rc;

vips_failed:;
	char msg[512];
	vips_message(msg, sizeof(msg));
	if (saveable != NULL)
		g_object_unref(saveable);
	if (scaled != NULL)
		g_object_unref(scaled);
	return folio_fail(ctx, FOLIO_EREJECT, "cannot %s '%s': %s", verb, name, msg);
}

int folio_image_thumbnail(folio_ctx *ctx, const char *name, const uint8_t *data,
			  size_t len, unsigned width, unsigned height,
			  uint8_t **out, size_t *out_len)
{
	static const char verb[] = "make a thumbnail of";
	struct image_info info;

	*out = NULL;
	*out_len = 0;
	if (width == 0 || height == 0 || width > 10000 || height > 10000)
		return folio_fail(ctx, FOLIO_EREJECT,
				  "cannot %s '%s': a thumbnail of %u x %u pixels", verb, name,
				  width, height);
	int rc = image_probe(ctx, verb, name, NULL, data, len, &info);
	if (rc != FOLIO_OK)
		return rc;

	VipsImage *t[4] = { NULL, NULL, NULL, NULL };
	void *buf = NULL;
	size_t size = 0;
	void *in = (void *)(uintptr_t)data;
	if (vips_thumbnail_buffer(in, len, &t[0], (int)width, "height", (int)height,
				  "size", VIPS_SIZE_DOWN, "crop", VIPS_INTERESTING_NONE,
				  NULL) != 0)
		goto vips_failed;
	VipsImage *cur = t[0];
	/* JPEG has no alpha: transparent parts turn white, as a page shows
	 * them, not black. */
	if (vips_image_hasalpha(cur)) {
		VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
		int r = vips_flatten(cur, &t[1], "background", white, NULL);
		vips_area_unref(VIPS_AREA(white));
		if (r != 0)
			goto vips_failed;
		cur = t[1];
	}
	if (vips_colourspace(cur, &t[2], VIPS_INTERPRETATION_sRGB, NULL) != 0)
		goto vips_failed;
	cur = t[2];
	if (vips_image_get_format(cur) != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(cur, &t[3], NULL) != 0)
			goto vips_failed;
		cur = t[3];
	}
	if (vips_jpegsave_buffer(cur, &buf, &size, "Q", 70, "strip", TRUE, "interlace", FALSE,
				 "optimize_coding", TRUE, NULL) != 0)
		goto vips_failed;
	for (int i = 0; i < 4; i++)
		if (t[i] != NULL)
			g_object_unref(t[i]);
	return take_output(ctx, verb, name, buf, size, out, out_len);

vips_failed:;
	char msg[512];
	vips_message(msg, sizeof(msg));
	for (int i = 0; i < 4; i++)
		if (t[i] != NULL)
			g_object_unref(t[i]);
	return folio_fail(ctx, FOLIO_EREJECT, "cannot %s '%s': %s", verb, name, msg);
}
