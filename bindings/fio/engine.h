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
	char *overwrite;  /* NULL: new */
	char *state;      /* NULL: the run's own state (dgen_overwrite=new) */
	/* Set once dgen_part has moved the job's offset= and size= to its
	 * part, so that the job's range is split only once; part_end is where
	 * the range it split ends (the dataset a state describes). */
	unsigned int part_applied;
	uint64_t part_end;
	/* Set in fio's main process for a job that checks reads without
	 * writing, when another job of the run writes the same data through
	 * the run's state: this job checks against that state. */
	unsigned int run_state;
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
struct dgen_claim; /* state.c */

/* Per job state, in td->io_ops_data. */
struct dgen_job {
	dgen_generator *gen;
	bool verify;
	bool null_io;
	struct dgen_uring *uring; /* NULL: the synchronous path */
	/* Every io_u of the job by io_u->index, to register their buffers. */
	struct io_u **io_us;
	unsigned int nr_io_us;

	/*
	 * The write state (state.c): NULL when the job writes the same bytes
	 * on every pass (dgen_overwrite=same) or neither writes nor checks
	 * through one. sgen is the sized dataset it describes, check what
	 * reads found (dgen_verify=1), claims each io_u's claimed write.
	 */
	dgen_state *state;
	dgen_generator *sgen;
	dgen_state_check *check;
	struct dgen_claim *claims;
	unsigned int nr_claims;
	bool state_opened;  /* the decision was made at the first open */
	bool run_state;     /* the run's own state, not dgen_state= */
	char *state_path;
	char *file_name;    /* for messages */
	uint32_t unit;      /* dedup unit in bytes */
	/* The fio process that runs the jobs: its pid and start time name
	 * the run's states. */
	pid_t run_pid;
	unsigned long long run_start;
};

/* The engine, as fio finds it (dgen_engine.c): jobs of this engine are
 * those whose td->io_ops points here. */
extern struct ioengine_ops ioengine;

/* The dgen_* options as a libdgen config (endless stream); 0 or 1 after
 * saying what is wrong. */
int dgen_options_to_config(const struct dgen_fio_options *o, dgen_config *cfg,
			   bool *seed_given);

/* dgen_overwrite= read: *same is true for "same". 0, or 1 after saying
 * what is wrong. */
int dgen_parse_overwrite(const char *text, bool *same);

/*
 * The write state (state.c). dgen_state_check_job() refuses what cannot
 * work (from check_job(), before any file is touched);
 * dgen_state_mark_readers() runs in fio's main process before the jobs
 * start; dgen_state_open_job() decides and opens the job's state when it
 * first opens its file; prep, done and verify wrap each I/O; end gives
 * the verdict and closes it, and the last job of the run removes the
 * run's own states.
 */
int dgen_state_check_job(struct thread_data *td);
void dgen_state_mark_readers(struct thread_data *td);
int dgen_state_open_job(struct thread_data *td, struct dgen_job *job,
			struct fio_file *f);
int dgen_state_prep(struct thread_data *td, struct dgen_job *job,
		    struct io_u *io_u);
void dgen_state_done(struct thread_data *td, struct dgen_job *job,
		     struct io_u *io_u);
void dgen_state_verify_read(struct thread_data *td, struct dgen_job *job,
			    struct io_u *io_u, size_t len);
void dgen_state_end(struct thread_data *td, struct dgen_job *job);
void dgen_state_sweep_run(struct thread_data *td, struct dgen_job *job);

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
