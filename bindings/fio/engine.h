/*
 * What the two halves of the fio engine share: the options fio parses for
 * it, the per-job state, and the io_uring path (uring.c) that the fio hooks
 * in dgen_engine.c hand I/O to when a job runs asynchronously.
 */
#ifndef DGEN_FIO_ENGINE_H
#define DGEN_FIO_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "fio.h"

#include "dgen.h"

/*
 * Engine options as fio stores them. fio keeps the job's thread_data pointer
 * in the first member while it parses options, so it must stay first.
 */
struct dgen_fio_options {
	void *pad;
	char *dedup;
	char *compress;
	char *dedup_unit; /* NULL: not given, the library default */
	char *seed;       /* NULL: the run's random seed */
	char *compressor; /* NULL: auto */
	char *io;         /* NULL: auto */
	char *part;       /* NULL: the job's whole range */
	/* Set once dgen_part has moved the job's offset= and size= to its
	 * part, so that the job's range is split only once. */
	unsigned int part_applied;
	unsigned int verify;
	unsigned int null_io;
	/* io_uring settings, named as fio's own io_uring engine names them. */
	unsigned int fixedbufs;
	unsigned int sqpoll;
	unsigned int sqpoll_cpu;
	unsigned int sqpoll_cpu_set;
};

/* How a job does its I/O (dgen_io=). */
enum dgen_io_mode {
	DGEN_IO_AUTO,    /* io_uring when iodepth > 1 and it works, else psync */
	DGEN_IO_URING,   /* io_uring, or the job fails */
	DGEN_IO_PSYNC,   /* pread/pwrite, one I/O at a time */
};

struct dgen_uring; /* uring.c */

/* Per job state, in td->io_ops_data. */
struct dgen_job {
	dgen_generator *gen;
	bool verify;
	bool null_io;
	struct dgen_uring *uring; /* NULL: the synchronous path */
	/* Every io_u of the job by io_u->index, to register their buffers. */
	struct io_u **io_us;
	unsigned int nr_io_us;
};

/*
 * Checks `len` bytes read at io_u->offset against the data; on a mismatch
 * says where, in fio's error output and in the job's error summary, and
 * fails the io_u with EILSEQ.
 */
void dgen_verify_read(struct thread_data *td, struct dgen_job *job,
		      struct io_u *io_u, size_t len);

/*
 * Creates the job's ring of `depth` entries. Returns 0, or a negative errno
 * with *why naming the step that failed (ring setup is the only step that
 * can fail for want of io_uring support; see dgen_uring_unsupported).
 */
int dgen_uring_create(struct thread_data *td, const struct dgen_fio_options *o,
		      unsigned int depth, struct dgen_uring **out,
		      const char **why);

/* True when `err` from dgen_uring_create means "no io_uring here". */
bool dgen_uring_unsupported(int err);

/* Registers the job's io_u buffers (fixedbufs); after fio made them. */
int dgen_uring_register_buffers(struct thread_data *td, struct dgen_job *job);

void dgen_uring_free(struct dgen_uring *u);

enum fio_q_status dgen_uring_queue(struct thread_data *td, struct dgen_job *job,
				   struct io_u *io_u);
int dgen_uring_commit(struct thread_data *td, struct dgen_job *job);
int dgen_uring_getevents(struct thread_data *td, struct dgen_job *job,
			 unsigned int min, unsigned int max);
struct io_u *dgen_uring_event(struct thread_data *td, struct dgen_job *job,
			      int event);

#endif
