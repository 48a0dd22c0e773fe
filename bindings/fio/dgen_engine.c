/*
 * libdgen as a fio external ioengine.
 *
 * A synchronous file engine (pread/pwrite, like fio's psync) whose writes
 * carry libdgen data: before each write, the buffer is filled with
 * dgen_fill_at() at the I/O's file offset. A file's bytes therefore depend
 * only on the offsets written and the dgen_* options, never on block size,
 * access order, numjobs or the number of fio processes: they are exactly the
 * bytes of an endless libdgen stream (config size 0) with the same options.
 *
 * Reads can be checked against the same stream (dgen_verify=1), and
 * dgen_null=1 generates without any I/O, to measure generation alone.
 *
 * Built against the headers of the fio it is loaded into (FIO_IOOPS_VERSION
 * must match); see README.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "fio.h"
#include "optgroup.h"

#include "dgen.h"

/* Stands in for "whole device" in null mode, where no file is looked at. */
#define NULL_MODE_FILE_SIZE (1ULL << 62)

/*
 * Engine options as fio stores them. fio keeps the job's thread_data pointer
 * in the first member while it parses options, so it must stay first.
 */
struct dgen_fio_options {
	void *pad;
	char *dedup;
	char *compress;
	unsigned long long dedup_unit; /* 0: not given, the library default */
	char *seed;                    /* NULL: the run's random seed */
	unsigned int verify;
	unsigned int null_io;
};

/* Per job state, in td->io_ops_data. */
struct dgen_job {
	dgen_generator *gen;
	bool verify;
	bool null_io;
};

/*
 * One random seed per fio run. It is drawn when fio loads the engine, in the
 * process that parses the job file and before it starts the jobs, so every
 * job of the run (numjobs clones, forked processes or threads, and later
 * job sections such as a verifying read) shares it.
 */
static uint64_t run_seed;

__attribute__((constructor)) static void draw_run_seed(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s)) {
		/* Only a kernel without getrandom (or a seccomp filter) gets
		 * here; a varying value still beats a constant. */
		s = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
	}
	run_seed = s;
}

/* fio strips blanks around values, but job files may still carry some. */
static bool only_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0';
}

static int parse_ratio(const char *opt, const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || !only_blanks(end) || errno == ERANGE) {
		log_err("fio: dgen: %s=%s is not a number\n", opt, text);
		return 1;
	}
	*out = v;
	return 0;
}

static int parse_seed(const char *text, uint64_t *out)
{
	const char *p = text;
	unsigned long long v;
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	v = strtoull(p, &end, 0);
	/* strtoull accepts "-1" as 2^64-1; a seed is not negative. */
	if (*p == '-' || end == p || !only_blanks(end) || errno == ERANGE) {
		log_err("fio: dgen: dgen_seed=%s is not a whole number from 0 to "
			"18446744073709551615\n", text);
		return 1;
	}
	*out = v;
	return 0;
}

/*
 * Turns the options into a libdgen config. Only fields given are set; the
 * rest keep the library's defaults. The stream is endless (size 0) so that
 * content depends on the offset alone, and single threaded because fio's
 * own jobs are the parallelism and each fill is one I/O.
 */
static int options_to_config(const struct dgen_fio_options *o, dgen_config *cfg,
			     bool *seed_given)
{
	dgen_config_init(cfg);
	cfg->size = 0;
	cfg->threads = 1;
	if (o->dedup && parse_ratio("dgen_dedup", o->dedup, &cfg->dedup_ratio))
		return 1;
	if (o->compress &&
	    parse_ratio("dgen_compress", o->compress, &cfg->compress_ratio))
		return 1;
	if (o->dedup_unit) {
		if (o->dedup_unit > UINT32_MAX) {
			log_err("fio: dgen: dgen_dedup_unit=%llu: must be a multiple "
				"of 4096 from 4096 to 67108864 (64 MiB)\n",
				o->dedup_unit);
			return 1;
		}
		cfg->dedup_unit = (uint32_t)o->dedup_unit;
	}
	*seed_given = o->seed != NULL;
	if (o->seed) {
		if (parse_seed(o->seed, &cfg->seed))
			return 1;
	} else {
		cfg->seed = run_seed;
	}
	cfg->has_seed = true;
	return 0;
}

/* The value of one option as the user wrote it, for error messages. */
static void option_text(const struct fio_option *fo,
			const struct dgen_fio_options *o, char *buf, size_t len)
{
	const char *s = NULL;

	if (fo->off1 == offsetof(struct dgen_fio_options, dedup))
		s = o->dedup;
	else if (fo->off1 == offsetof(struct dgen_fio_options, compress))
		s = o->compress;
	else if (fo->off1 == offsetof(struct dgen_fio_options, seed))
		s = o->seed;
	if (s)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%llu", o->dedup_unit);
}

/*
 * Called by fio's parser right after it stores one option, so a bad value
 * stops fio while it reads the job file, before any job starts. Each option
 * is checked alone (the others at their defaults), so the message names the
 * option that was wrong; init() checks the whole set again per job.
 */
static int check_option(const struct fio_option *fo, void *data)
{
	const struct dgen_fio_options *given = data;
	struct dgen_fio_options one = { 0 };
	dgen_generator *gen = NULL;
	dgen_config cfg;
	bool seed_given;
	char text[128];

	switch (fo->off1) {
	case offsetof(struct dgen_fio_options, dedup):
		one.dedup = given->dedup;
		break;
	case offsetof(struct dgen_fio_options, compress):
		one.compress = given->compress;
		break;
	case offsetof(struct dgen_fio_options, seed):
		one.seed = given->seed;
		break;
	case offsetof(struct dgen_fio_options, dedup_unit):
		/* 0 is how an unset unit is stored; written out, it is wrong. */
		if (given->dedup_unit == 0) {
			log_err("fio: dgen: dgen_dedup_unit=0: must be a multiple "
				"of 4096 from 4096 to 67108864 (64 MiB)\n");
			return 1;
		}
		one.dedup_unit = given->dedup_unit;
		break;
	default:
		return 0;
	}
	if (options_to_config(&one, &cfg, &seed_given))
		return 1;
	if (dgen_create(&cfg, &gen) != DGEN_STATUS_OK) {
		option_text(fo, given, text, sizeof(text));
		log_err("fio: dgen: %s=%s: %s\n", fo->name, text, dgen_last_error());
		return 1;
	}
	dgen_free(gen);
	return 0;
}

static struct fio_option options[] = {
	{
		.name	= "dgen_dedup",
		.lname	= "dgen dedup ratio",
		.type	= FIO_OPT_STR_STORE,
		.off1	= offsetof(struct dgen_fio_options, dedup),
		.verify	= check_option,
		.help	= "Dedup ratio of written data: total / distinct dedup "
			  "units, 1.0 to 1024.0, fractions allowed (default 1)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "dgen_compress",
		.lname	= "dgen compression ratio",
		.type	= FIO_OPT_STR_STORE,
		.off1	= offsetof(struct dgen_fio_options, compress),
		.verify	= check_option,
		.help	= "Compression ratio of written data for zstd/lz4/gzip, "
			  "1.0 to 32.0, fractions allowed (default 1)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		/* No .def: fio parses a size default before it can look up
		 * kb_base, so "not given" is 0 and means the library default. */
		.name	= "dgen_dedup_unit",
		.lname	= "dgen dedup unit",
		.type	= FIO_OPT_STR_VAL,
		.off1	= offsetof(struct dgen_fio_options, dedup_unit),
		.verify	= check_option,
		.help	= "Dedup unit in bytes (e.g. 8k): a multiple of 4k up to "
			  "64m (default 4k)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "dgen_seed",
		.lname	= "dgen seed",
		.type	= FIO_OPT_STR_STORE,
		.off1	= offsetof(struct dgen_fio_options, seed),
		.verify	= check_option,
		.help	= "Seed of the data, 0 to 2^64-1 (default: one random seed "
			  "per fio run, shared by its jobs and printed)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "dgen_verify",
		.lname	= "dgen verify reads",
		.type	= FIO_OPT_BOOL,
		.off1	= offsetof(struct dgen_fio_options, verify),
		.def	= "0",
		.help	= "Check every read against the data the same options "
			  "write; a wrong byte fails the I/O with EILSEQ",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "dgen_null",
		.lname	= "dgen null mode",
		.type	= FIO_OPT_BOOL,
		.off1	= offsetof(struct dgen_fio_options, null_io),
		.def	= "0",
		.help	= "Fill write buffers but do no I/O and touch no file, "
			  "to measure generation alone (needs size=)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= NULL,
	},
};

/*
 * Checks what the option parser cannot see alone: combinations with fio's
 * own options. Called from get_file_size(), which fio runs before it lays
 * out any file, and again from init().
 */
static int check_job(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;

	if (td->flags & TD_F_DO_VERIFY) {
		/* fio's verify= writes its own headers into every block, which
		 * would make the data no longer libdgen's. */
		log_err("fio: dgen: verify= cannot be used with this engine, "
			"whose written data must stay exactly libdgen's; set "
			"verify=0 and check reads with dgen_verify=1\n");
		return 1;
	}
	if (o->null_io && o->verify) {
		log_err("fio: dgen: dgen_verify=1 needs data read back, and "
			"dgen_null=1 does no I/O: use one or the other\n");
		return 1;
	}
	if (o->null_io && !td->o.size && !td->o.file_size_low) {
		log_err("fio: dgen: dgen_null=1 needs size= (or filesize=) "
			"since no file is looked at\n");
		return 1;
	}
	return 0;
}

static int dgen_init(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;
	struct dgen_job *job;
	dgen_config cfg;
	dgen_status st;
	bool seed_given;

	if (check_job(td) || options_to_config(o, &cfg, &seed_given))
		return 1;

	job = calloc(1, sizeof(*job));
	if (!job) {
		td_verror(td, ENOMEM, "dgen init");
		return 1;
	}
	st = dgen_create(&cfg, &job->gen);
	if (st != DGEN_STATUS_OK) {
		log_err("fio: dgen: %s\n", dgen_last_error());
		free(job);
		return 1;
	}
	job->verify = o->verify != 0;
	job->null_io = o->null_io != 0;

	/*
	 * fio would scramble buffers after prep() and refill them before it;
	 * prep() writes every byte, so scrambling would corrupt the data and
	 * refilling only wastes time.
	 */
	td->flags &= ~(TD_F_SCRAMBLE_BUFFERS | TD_F_REFILL_BUFFERS);
	if (td_write(td) && td->subjob_number == 0 &&
	    (td->o.refill_buffers || td->o.compress_percentage ||
	     td->o.dedupe_percentage || td->o.buffer_pattern_bytes ||
	     td->o.zero_buffers))
		log_info("dgen: %s: fio's buffer options (refill_buffers, "
			 "buffer_compress_percentage, dedupe_percentage, "
			 "buffer_pattern, zero_buffers) have no effect here: the "
			 "dgen_* options set the data\n", td->o.name);

	if (job->null_io) {
		/* From here on fio treats the job like its null engine: no
		 * cache invalidation, fadvise or I/O scheduler on the file. */
		td->flags |= (unsigned long long)FIO_DISKLESSIO << TD_ENG_FLAG_SHIFT;
	}

	if (!seed_given && td->subjob_number == 0) {
		log_info("dgen: %s: random seed %" PRIu64
			 " (repeat with dgen_seed=%" PRIu64 ")\n",
			 td->o.name, cfg.seed, cfg.seed);
		/* Each fio server draws its own run seed. */
		if (is_backend)
			log_info("dgen: %s: this fio server chose the seed alone; "
				 "give every server the same dgen_seed to write "
				 "one dataset\n", td->o.name);
	}

	td->io_ops_data = job;
	return 0;
}

static void dgen_cleanup(struct thread_data *td)
{
	struct dgen_job *job = td->io_ops_data;

	if (!job)
		return;
	dgen_free(job->gen);
	free(job);
	td->io_ops_data = NULL;
}

/*
 * Writes are filled here rather than in queue() so that generation stays
 * outside fio's latency figures, as fio's own buffer filling does. init()
 * turned off the only later change fio makes to write buffers
 * (scramble_buffers) and refused the other (verify= headers).
 */
static int dgen_prep(struct thread_data *td, struct io_u *io_u)
{
	struct dgen_job *job = td->io_ops_data;
	dgen_status st;

	if (io_u->ddir != DDIR_WRITE)
		return 0;
	st = dgen_fill_at(job->gen, io_u->offset, io_u->xfer_buf,
			  io_u->xfer_buflen);
	if (st != DGEN_STATUS_OK) {
		log_err("fio: dgen: %s: fill at offset %llu: %s\n",
			io_u->file->file_name, io_u->offset, dgen_last_error());
		td_verror(td, EIO, "dgen_fill_at");
		return 1;
	}
	return 0;
}

/* Checks `len` bytes read at io_u->offset; sets io_u->error on a mismatch. */
static void verify_read(struct thread_data *td, struct dgen_job *job,
			struct io_u *io_u, size_t len)
{
	const unsigned char *buf = io_u->xfer_buf;
	uint64_t bad = 0;
	unsigned char want = 0;
	dgen_status st;

	st = dgen_verify_at(job->gen, io_u->offset, buf, len, &bad);
	if (st == DGEN_STATUS_OK)
		return;
	if (st != DGEN_STATUS_MISMATCH) {
		log_err("fio: dgen: %s: verify at offset %llu: %s\n",
			io_u->file->file_name, io_u->offset, dgen_last_error());
		io_u->error = EIO;
		return;
	}
	if (dgen_fill_at(job->gen, bad, &want, 1) != DGEN_STATUS_OK)
		want = 0;
	log_err("fio: dgen: verify failed: file %s, offset %" PRIu64
		" (0x%" PRIx64 "): expected 0x%02x, got 0x%02x\n",
		io_u->file->file_name, bad, bad, want,
		buf[bad - io_u->offset]);
	io_u->error = EILSEQ;
}

static enum fio_q_status dgen_queue(struct thread_data *td, struct io_u *io_u)
{
	struct dgen_job *job = td->io_ops_data;
	struct fio_file *f = io_u->file;
	ssize_t ret;

	fio_ro_check(td, io_u);

	if (job->null_io)
		return FIO_Q_COMPLETED;

	if (io_u->ddir == DDIR_READ) {
		ret = pread(f->fd, io_u->xfer_buf, io_u->xfer_buflen, io_u->offset);
		if (ret > 0 && job->verify)
			verify_read(td, job, io_u, (size_t)ret);
	} else if (io_u->ddir == DDIR_WRITE) {
		ret = pwrite(f->fd, io_u->xfer_buf, io_u->xfer_buflen, io_u->offset);
	} else if (io_u->ddir == DDIR_TRIM) {
		do_io_u_trim(td, io_u);
		return FIO_Q_COMPLETED;
	} else {
		ret = do_io_u_sync(td, io_u);
	}

	if (ret < 0)
		io_u->error = errno;
	else if (ret != (ssize_t)io_u->xfer_buflen && !io_u->error)
		/* fio issues the rest again at the advanced offset. */
		io_u->resid = io_u->xfer_buflen - ret;

	if (io_u->error) {
		io_u_log_error(td, io_u);
		td_verror(td, io_u->error, "xfer");
	}
	return FIO_Q_COMPLETED;
}

static int dgen_open_file(struct thread_data *td, struct fio_file *f)
{
	struct dgen_job *job = td->io_ops_data;

	if (job && job->null_io) {
		f->fd = -1;
		return 0;
	}
	return generic_open_file(td, f);
}

static int dgen_close_file(struct thread_data *td, struct fio_file *f)
{
	struct dgen_job *job = td->io_ops_data;

	if (job && job->null_io) {
		f->fd = -1;
		return 0;
	}
	return generic_close_file(td, f);
}

static int dgen_get_file_size(struct thread_data *td, struct fio_file *f)
{
	const struct dgen_fio_options *o = td->eo;

	if (check_job(td)) {
		/* Any error but ENOENT stops fio's file setup. */
		td_verror(td, EINVAL, "dgen options");
		return 1;
	}
	/* fio asks for sizes before init(), so read the option itself. */
	if (o->null_io) {
		f->real_file_size = NULL_MODE_FILE_SIZE;
		fio_file_set_size_known(f);
		return 0;
	}
	return generic_get_file_size(td, f);
}

static int dgen_unlink_file(struct thread_data *td, struct fio_file *f)
{
	const struct dgen_fio_options *o = td->eo;

	if (o && o->null_io)
		return 0;
	if (unlink(f->file_name) < 0)
		return errno;
	return 0;
}

/* The symbol fio looks up in an external engine. */
struct ioengine_ops ioengine = {
	.name			= "dgen",
	.version		= FIO_IOOPS_VERSION,
	.flags			= FIO_SYNCIO,
	.init			= dgen_init,
	.cleanup		= dgen_cleanup,
	.prep			= dgen_prep,
	.queue			= dgen_queue,
	.open_file		= dgen_open_file,
	.close_file		= dgen_close_file,
	.get_file_size		= dgen_get_file_size,
	.unlink_file		= dgen_unlink_file,
	.options		= options,
	.option_struct_size	= sizeof(struct dgen_fio_options),
};
