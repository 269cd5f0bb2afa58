/* SPDX-License-Identifier: ISC */
/* The packer's zstd frames, compressed side by side.  The packer hands over
 * the tar bytes of one frame at a time; a pool of threads compresses whole
 * frames, each thread with its own context, and the frames are written in
 * the order they were handed over.  A frame's bytes depend only on its
 * contents, its kind and the level: never on the number of threads. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "folio-internal.h"

/* A frame whose tar bytes pass this is not held in memory: it is
 * compressed as a stream (with zstd's own workers) as its bytes come. */
#define FRAME_HOLD_MIN (16u << 20)
#define FRAME_HOLD_CAP (64u << 20)

enum job_state { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct frame_job {
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_cap;
	enum folio_frame_kind kind;
	size_t zerr;            /* a zstd error code, or 0 */
	enum job_state state;
};

struct folio_frames {
	folio_ctx *ctx;
	const char *out_name;
	int fd;
	int level;
	int window_cap;          /* the largest window log a frame may ask for */
	uint64_t hold_max;
	int nworkers;            /* 0: frames are compressed here, one by one */
	pthread_t *workers;
	int started;
	bool locks;              /* lock, work and done are initialised */
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	bool stop;
	struct frame_job *jobs;  /* a ring of nworkers + 1 jobs */
	size_t njobs;
	size_t head;             /* the next job to write out */
	size_t next_run;         /* the next queued job a worker takes */
	size_t tail;             /* the job being filled */
	ZSTD_CCtx *here;         /* nworkers 0: the one context */
	enum folio_frame_kind kind; /* of the frame being filled */
	/* a frame too large to hold, compressed as a stream */
	ZSTD_CCtx *stream;
	bool streaming;
	uint8_t *sbuf;
	size_t sbuf_size;
	uint64_t frame_in;       /* tar bytes in the frame being filled */
	uint64_t written;
	int rc;
};

/* Text at the packer's level.  Media that is compressed already (JPEG,
 * PNG, fonts, archives) gains a few percent at level 19, nearly all of it
 * from the optimal parser's cheaper literals and short matches, not from
 * deep searches: the same strategy with small tables and a short search
 * keeps that gain at about a quarter of the time (docs/FORMAT.md 2.1). */
static size_t set_params(ZSTD_CCtx *c, int level, int window_cap, enum folio_frame_kind kind,
			 int workers)
{
	ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
	size_t r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	if (kind == FOLIO_FRAME_MEDIA && level >= 12) {
		int wlog = window_cap < 20 ? window_cap : 20;
		const int params[][2] = {
			{ZSTD_c_strategy, ZSTD_btultra}, {ZSTD_c_windowLog, wlog},
			{ZSTD_c_chainLog, 18}, {ZSTD_c_hashLog, 18}, {ZSTD_c_searchLog, 2},
			{ZSTD_c_minMatch, 3}, {ZSTD_c_targetLength, 32},
		};
		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]) && !ZSTD_isError(r); i++)
			r = ZSTD_CCtx_setParameter(c, (ZSTD_cParameter)params[i][0], params[i][1]);
	} else if (!ZSTD_isError(r) && (level >= 20 || window_cap < 23)) {
		/* Levels up to 19 use windows of at most 2^23; 20 to 22 ask
		 * for up to 2^27, more than a cheap reader should hold. */
		r = ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_cap);
	}
	if (!ZSTD_isError(r) && workers > 0)
		r = ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, workers);
	return r;
}

static void compress_job(ZSTD_CCtx *c, const struct folio_frames *fw, struct frame_job *j)
{
	j->zerr = 0;
	j->out_len = 0;
	size_t bound = ZSTD_compressBound(j->in_len);
	if (j->out_cap < bound) {
		free(j->out);
		j->out_cap = 0;
		if ((j->out = malloc(bound)) == NULL) {
			j->zerr = (size_t)-ZSTD_error_memory_allocation;
			return;
		}
		j->out_cap = bound;
	}
	size_t r = set_params(c, fw->level, fw->window_cap, j->kind, 0);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(c, j->out, j->out_cap, j->in, j->in_len);
	if (ZSTD_isError(r))
		j->zerr = r;
	else
		j->out_len = r;
}

static void *worker(void *arg)
{
	struct folio_frames *fw = arg;
	ZSTD_CCtx *c = ZSTD_createCCtx();
	pthread_mutex_lock(&fw->lock);
	for (;;) {
		while (!fw->stop && fw->next_run == fw->tail)
			pthread_cond_wait(&fw->work, &fw->lock);
		if (fw->next_run == fw->tail)
			break; /* stopped, nothing left */
		struct frame_job *j = &fw->jobs[fw->next_run % fw->njobs];
		fw->next_run++;
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&fw->lock);
		if (c == NULL)
			j->zerr = (size_t)-ZSTD_error_memory_allocation;
		else
			compress_job(c, fw, j);
		pthread_mutex_lock(&fw->lock);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&fw->done);
	}
	pthread_mutex_unlock(&fw->lock);
	ZSTD_freeCCtx(c);
	return NULL;
}

static int write_out(struct folio_frames *fw, const uint8_t *p, size_t len)
{
	if (folio_write_all(fw->fd, p, len) != 0)
		return folio_fail_errno(fw->ctx, errno, "cannot write '%s'", fw->out_name);
	fw->written += len;
	return FOLIO_OK;
}

static int zstd_failed(struct folio_frames *fw, size_t r)
{
	if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
		return folio_fail_errno(fw->ctx, ENOMEM, "cannot compress '%s'", fw->out_name);
	return folio_fail(fw->ctx, FOLIO_ESYSTEM, "cannot compress '%s': %s", fw->out_name,
			  ZSTD_getErrorName(r));
}

/* Waits for the oldest job and writes its frame; with all, every job. */
static int write_done(struct folio_frames *fw, bool all)
{
	int rc = FOLIO_OK;
	while (rc == FOLIO_OK && fw->head != fw->tail) {
		struct frame_job *j = &fw->jobs[fw->head % fw->njobs];
		pthread_mutex_lock(&fw->lock);
		while (j->state != JOB_DONE && (all || fw->tail - fw->head >= fw->njobs))
			pthread_cond_wait(&fw->done, &fw->lock);
		bool ready = j->state == JOB_DONE;
		pthread_mutex_unlock(&fw->lock);
		if (!ready)
			break;
		rc = j->zerr != 0 ? zstd_failed(fw, j->zerr) : write_out(fw, j->out, j->out_len);
		j->state = JOB_FREE;
		j->in_len = 0;
		fw->head++;
	}
	return rc;
}

/* The frame being filled is complete: compress it here, or queue it. */
static int submit(struct folio_frames *fw)
{
	struct frame_job *j = &fw->jobs[fw->tail % fw->njobs];
	j->kind = fw->kind;
	if (fw->nworkers == 0) {
		compress_job(fw->here, fw, j);
		int rc = j->zerr != 0 ? zstd_failed(fw, j->zerr) : write_out(fw, j->out, j->out_len);
		j->in_len = 0;
		return rc;
	}
	pthread_mutex_lock(&fw->lock);
	j->state = JOB_QUEUED;
	fw->tail++;
	pthread_cond_signal(&fw->work);
	pthread_mutex_unlock(&fw->lock);
	/* one job stays free to be filled while the others run */
	return write_done(fw, false);
}

static int stream_feed(struct folio_frames *fw, const void *data, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {data, len, 0};
	for (;;) {
		ZSTD_outBuffer out = {fw->sbuf, fw->sbuf_size, 0};
		size_t left = ZSTD_compressStream2(fw->stream, &out, &in, mode);
		if (ZSTD_isError(left))
			return zstd_failed(fw, left);
		int rc = write_out(fw, fw->sbuf, out.pos);
		if (rc != FOLIO_OK)
			return rc;
		if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0)
			return FOLIO_OK;
	}
}

/* The frame has outgrown what is held in memory: every frame before it
 * is written, and it goes on as a stream. */
static int start_stream(struct folio_frames *fw)
{
	int rc = fw->nworkers > 0 ? write_done(fw, true) : FOLIO_OK;
	if (rc != FOLIO_OK)
		return rc;
	if (fw->stream == NULL) {
		fw->stream = ZSTD_createCCtx();
		fw->sbuf_size = ZSTD_CStreamOutSize();
		fw->sbuf = malloc(fw->sbuf_size);
		if (fw->stream == NULL || fw->sbuf == NULL)
			return folio_fail_errno(fw->ctx, ENOMEM, "cannot compress '%s'", fw->out_name);
	}
	/* zstd's workers: their output is the same for any number of them */
	int workers = fw->nworkers > 0 ? fw->nworkers : 1;
	size_t r = set_params(fw->stream, fw->level, fw->window_cap, fw->kind, workers);
	if (ZSTD_isError(r))
		return zstd_failed(fw, r);
	struct frame_job *j = &fw->jobs[fw->tail % fw->njobs];
	fw->streaming = true;
	rc = stream_feed(fw, j->in, j->in_len, ZSTD_e_continue);
	j->in_len = 0;
	return rc;
}

int folio_frames_new(folio_ctx *ctx, const char *out_name, int fd, int level, int threads,
		     uint64_t frame_target, struct folio_frames **out)
{
	*out = NULL;
	struct folio_frames *fw = calloc(1, sizeof(*fw));
	if (fw == NULL)
		return folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", out_name);
	fw->ctx = ctx;
	fw->out_name = out_name;
	fw->fd = fd;
	fw->level = level;
	uint64_t limit = ctx->limits[FOLIO_LIMIT_WINDOW_LOG];
	fw->window_cap = limit < FOLIO_PACK_WINDOW_LOG ? (int)limit : FOLIO_PACK_WINDOW_LOG;
	/* twice the target, within [16 MiB, 64 MiB]: decided by the size
	 * alone, so the bytes stay the same whatever the threads */
	fw->hold_max = frame_target < FRAME_HOLD_MIN / 2   ? FRAME_HOLD_MIN
		       : frame_target > FRAME_HOLD_CAP / 2 ? FRAME_HOLD_CAP
							   : 2 * frame_target;
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	fw->nworkers = threads > 1 ? threads : 0;
	fw->njobs = (size_t)fw->nworkers + 1;
	fw->jobs = calloc(fw->njobs, sizeof(*fw->jobs));
	int rc = fw->jobs == NULL ? folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", out_name) : FOLIO_OK;
	if (rc == FOLIO_OK && fw->nworkers == 0 && (fw->here = ZSTD_createCCtx()) == NULL)
		rc = folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", out_name);
	if (rc == FOLIO_OK && fw->nworkers > 0) {
		pthread_mutex_init(&fw->lock, NULL);
		pthread_cond_init(&fw->work, NULL);
		pthread_cond_init(&fw->done, NULL);
		fw->locks = true;
		fw->workers = calloc((size_t)fw->nworkers, sizeof(*fw->workers));
		if (fw->workers == NULL)
			rc = folio_fail_errno(ctx, ENOMEM, "cannot write '%s'", out_name);
		for (int i = 0; i < fw->nworkers && rc == FOLIO_OK; i++) {
			int err = pthread_create(&fw->workers[i], NULL, worker, fw);
			if (err != 0)
				rc = folio_fail_errno(ctx, err, "cannot start a compression thread");
			else
				fw->started++;
		}
	}
	if (rc != FOLIO_OK) {
		folio_frames_free(fw);
		return rc;
	}
	*out = fw;
	return FOLIO_OK;
}

int folio_frames_kind(struct folio_frames *fw, enum folio_frame_kind kind)
{
	int rc = kind != fw->kind ? folio_frames_end(fw) : fw->rc;
	if (rc == FOLIO_OK)
		fw->kind = kind;
	return rc;
}

uint64_t folio_frames_in(const struct folio_frames *fw)
{
	return fw->frame_in;
}

uint64_t folio_frames_written(const struct folio_frames *fw)
{
	return fw->written;
}

int folio_frames_write(struct folio_frames *fw, const void *data, size_t len)
{
	if (fw->rc != FOLIO_OK)
		return fw->rc;
	fw->frame_in += len;
	if (fw->streaming)
		return fw->rc = stream_feed(fw, data, len, ZSTD_e_continue);
	struct frame_job *j = &fw->jobs[fw->tail % fw->njobs];
	if (j->in_len + len > fw->hold_max) {
		fw->rc = start_stream(fw);
		return fw->rc == FOLIO_OK ? (fw->rc = stream_feed(fw, data, len, ZSTD_e_continue)) : fw->rc;
	}
	if (j->in_len + len > j->in_cap) {
		size_t cap = j->in_cap ? j->in_cap : (1u << 20);
		while (cap < j->in_len + len)
			cap *= 2;
		if (cap > fw->hold_max)
			cap = fw->hold_max;
		uint8_t *p = realloc(j->in, cap);
		if (p == NULL)
			return fw->rc = folio_fail_errno(fw->ctx, ENOMEM, "cannot write '%s'", fw->out_name);
		j->in = p;
		j->in_cap = cap;
	}
	memcpy(j->in + j->in_len, data, len);
	j->in_len += len;
	return FOLIO_OK;
}

int folio_frames_end(struct folio_frames *fw)
{
	if (fw->rc != FOLIO_OK || fw->frame_in == 0)
		return fw->rc;
	fw->frame_in = 0;
	if (fw->streaming) {
		fw->streaming = false;
		return fw->rc = stream_feed(fw, NULL, 0, ZSTD_e_end);
	}
	return fw->rc = submit(fw);
}

int folio_frames_finish(struct folio_frames *fw)
{
	int rc = folio_frames_end(fw);
	if (rc == FOLIO_OK && fw->nworkers > 0)
		rc = fw->rc = write_done(fw, true);
	return rc;
}

void folio_frames_free(struct folio_frames *fw)
{
	if (fw == NULL)
		return;
	if (fw->locks) {
		pthread_mutex_lock(&fw->lock);
		fw->stop = true;
		fw->next_run = fw->tail; /* queued jobs are dropped */
		pthread_cond_broadcast(&fw->work);
		pthread_mutex_unlock(&fw->lock);
		for (int i = 0; i < fw->started; i++)
			pthread_join(fw->workers[i], NULL);
		pthread_mutex_destroy(&fw->lock);
		pthread_cond_destroy(&fw->work);
		pthread_cond_destroy(&fw->done);
	}
	for (size_t i = 0; fw->jobs != NULL && i < fw->njobs; i++) {
		free(fw->jobs[i].in);
		free(fw->jobs[i].out);
	}
	free(fw->jobs);
	free(fw->workers);
	ZSTD_freeCCtx(fw->here);
	ZSTD_freeCCtx(fw->stream);
	free(fw->sbuf);
	free(fw);
}
