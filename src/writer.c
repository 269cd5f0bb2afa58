/* SPDX-License-Identifier: ISC */
/* Writes files from a second thread, so that the reader decodes, parses and
 * hashes the next entry while the kernel copies the last one into place.
 * The bytes queued are a copy of the bytes hashed; a failure is kept and
 * told to the next caller, who names it. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio-internal.h"

struct write_op {
	struct write_op *next;
	int fd;
	bool close;          /* close fd after data */
	const char *name;    /* for the message; borrowed */
	size_t len;
	uint8_t data[];
};

struct folio_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more, less;
	struct write_op *first, *last;
	size_t queued, max_queued; /* bytes of data waiting */
	size_t nqueued;            /* operations waiting: each may hold a file open */
	bool busy;                 /* the thread holds an op */
	bool stop;
	int err;                   /* the first failure's errno, 0 if none */
	const char *err_name;
	/* the op being filled (caller's side): small files go in one op */
	struct write_op *fill;
	size_t fill_cap;
};

#define FILL_MIN (16u << 10)
#define FILL_MAX (256u << 10)
#define QUEUED_OPS_MAX 64

static void *write_loop(void *arg)
{
	struct folio_writer *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->first == NULL && !w->stop)
			pthread_cond_wait(&w->more, &w->lock);
		struct write_op *op = w->first;
		if (op == NULL)
			break;
		w->first = op->next;
		if (w->first == NULL)
			w->last = NULL;
		w->busy = true;
		bool failed = w->err != 0;
		pthread_mutex_unlock(&w->lock);
		int err = 0;
		/* after a failure only the closes still run: the job is lost */
		if (!failed && op->len > 0 && folio_write_all(op->fd, op->data, op->len) != 0)
			err = errno;
		if (op->close && close(op->fd) != 0 && err == 0 && !failed)
			err = errno;
		pthread_mutex_lock(&w->lock);
		if (err != 0 && w->err == 0) {
			w->err = err;
			w->err_name = op->name;
		}
		w->queued -= op->len;
		w->nqueued--;
		w->busy = false;
		free(op);
		pthread_cond_broadcast(&w->less);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int folio_writer_new(struct folio_writer **out, size_t max_queued)
{
	*out = NULL;
	struct folio_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return ENOMEM;
	w->max_queued = max_queued;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->less, NULL);
	int err = pthread_create(&w->thread, NULL, write_loop, w);
	if (err != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->more);
		pthread_cond_destroy(&w->less);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

/* Hands the op being filled to the thread. */
static int hand_over(struct folio_writer *w, const char **failed)
{
	struct write_op *op = w->fill;
	w->fill = NULL;
	pthread_mutex_lock(&w->lock);
	while (((w->queued > 0 && w->queued + op->len > w->max_queued) || w->nqueued >= QUEUED_OPS_MAX) &&
	       w->err == 0)
		pthread_cond_wait(&w->less, &w->lock);
	if (w->last != NULL)
		w->last->next = op;
	else
		w->first = op;
	w->last = op;
	w->queued += op->len;
	w->nqueued++;
	int err = w->err;
	if (err != 0 && failed != NULL)
		*failed = w->err_name;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	return err;
}

static int fill_start(struct folio_writer *w, int fd, const char *name, size_t want)
{
	size_t cap = want < FILL_MIN ? FILL_MIN : want;
	struct write_op *op = malloc(sizeof(*op) + cap);
	if (op == NULL)
		return ENOMEM;
	memset(op, 0, sizeof(*op));
	op->fd = fd;
	op->name = name;
	w->fill = op;
	w->fill_cap = cap;
	return 0;
}

int folio_writer_write(struct folio_writer *w, int fd, const void *data, size_t len,
		       const char *name, const char **failed)
{
	int err = 0;
	struct write_op *op = w->fill;
	if (op != NULL && op->fd == fd && op->len + len > w->fill_cap && op->len + len <= FILL_MAX) {
		size_t cap = 2 * w->fill_cap < op->len + len ? op->len + len : 2 * w->fill_cap;
		if (cap > FILL_MAX)
			cap = FILL_MAX;
		struct write_op *grown = realloc(op, sizeof(*op) + cap);
		if (grown == NULL)
			return ENOMEM;
		w->fill = grown;
		w->fill_cap = cap;
	}
	if (w->fill != NULL && (w->fill->fd != fd || w->fill->len + len > w->fill_cap))
		err = hand_over(w, failed);
	if (err == 0 && w->fill == NULL)
		err = fill_start(w, fd, name, len);
	if (err != 0)
		return err;
	memcpy(w->fill->data + w->fill->len, data, len);
	w->fill->len += len;
	return 0;
}

int folio_writer_close(struct folio_writer *w, int fd, const char *name, const char **failed)
{
	int err = 0;
	if (w->fill != NULL && w->fill->fd != fd)
		err = hand_over(w, failed);
	if (err == 0 && w->fill == NULL && (err = fill_start(w, fd, name, 0)) != 0) {
		/* no memory for the close: it runs here, after what was queued */
		(void)folio_writer_drain(w, NULL);
		close(fd);
		return err;
	}
	if (err != 0) {
		close(fd);
		return err;
	}
	w->fill->close = true;
	return hand_over(w, failed);
}

int folio_writer_drain(struct folio_writer *w, const char **failed)
{
	if (w == NULL)
		return 0;
	if (w->fill != NULL)
		(void)hand_over(w, NULL);
	pthread_mutex_lock(&w->lock);
	while (w->first != NULL || w->busy)
		pthread_cond_wait(&w->less, &w->lock);
	int err = w->err;
	if (err != 0 && failed != NULL)
		*failed = w->err_name;
	pthread_mutex_unlock(&w->lock);
	return err;
}

void folio_writer_free(struct folio_writer *w)
{
	if (w == NULL)
		return;
	if (w->fill != NULL)
		(void)hand_over(w, NULL);
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL); /* every queued close has run */
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->less);
	free(w);
}
