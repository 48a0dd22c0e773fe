/*
 * Write versions in the fio engine (dgen_overwrite=new, the default).
 *
 * Every write of a dedup unit carries the unit's next version, claimed in a
 * write state (libdgen's dgen_state_*) shared by every job that writes the
 * same data, so an overwrite writes new bytes and a check of the reads
 * tells a lost write (stale) from misplaced, zeroed and corrupt units.
 *
 * The state is dgen_state=FILE when given, kept across runs. Without it the
 * run keeps one of its own in $TMPDIR (default /tmp), named from the real
 * uid, the fio process that runs the jobs (its pid and start time, as pids
 * are reused) and a hash of the file name and the dataset options: jobs of
 * one run find it, other runs do not. The last job of the run to finish
 * removes it.
 *
 * The dataset a state describes ends where the job's range ends: offset=
 * plus size= (without size=, the file or device), over every numjobs clone
 * that offset_increment moves, or the whole range dgen_part splits. It is
 * rounded up to a whole number of dedup windows (1024 dedup units), since
 * the last window of a sized dataset is laid out for its own length: so
 * rounded, a unit's first write is exactly what the engine writes without
 * a state, at every offset.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "engine.h"

/* Units per dedup window of the library's dedup map (src/model/dedup.rs). */
#define WINDOW_UNITS 1024

/* One write's claim on the state, by io_u->index. */
struct dgen_claim {
	uint64_t offset;
	uint64_t len;
	bool held;
};

/* How a job uses a state. */
enum state_use {
	STATE_NONE, /* dgen_overwrite=same, or nothing to write or check */
	STATE_NAMED, /* dgen_state=FILE */
	STATE_RUN, /* the run's own state */
};

int dgen_parse_overwrite(const char *text, bool *same)
{
	const char *p = text;
	size_t n;

	*same = false;
	if (!text)
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 3 && strncmp(p, "new", 3) == 0)
		return 0;
	if (n == 4 && strncmp(p, "same", 4) == 0) {
		*same = true;
		return 0;
	}
	log_err("fio: dgen: dgen_overwrite=%s: must be new or same\n", text);
	return 1;
}

/* fio's size syntax for a message: 8k, 1m, or bytes. */
static const char *size_text(uint64_t v, char *buf, size_t n)
{
	if (v && v % (1ULL << 30) == 0)
		snprintf(buf, n, "%" PRIu64 "g", v >> 30);
	else if (v && v % (1ULL << 20) == 0)
		snprintf(buf, n, "%" PRIu64 "m", v >> 20);
	else if (v && v % 1024 == 0)
		snprintf(buf, n, "%" PRIu64 "k", v >> 10);
	else
		snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

static bool overwrite_same(const struct dgen_fio_options *o)
{
	bool same = false;

	/* check_job() has refused a bad value. */
	dgen_parse_overwrite(o->overwrite, &same);
	return same;
}

/* Whether the job writes through a state of the run: new, no dgen_state. */
static bool writes_run_state(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;

	return td_write(td) && !overwrite_same(o) && !o->state;
}

/*
 * Whether the job checks its reads against a state, as far as the options
 * tell (a job that only checks may also find the run's state at open).
 */
static bool reads_through_state(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;

	if (!o->verify || !td_read(td) || overwrite_same(o))
		return false;
	return o->state || td_write(td) || o->run_state;
}

static uint32_t dedup_unit_of(const struct dgen_fio_options *o)
{
	dgen_config cfg;
	bool seed_given;

	if (dgen_options_to_config(o, &cfg, &seed_given))
		return 0;
	return cfg.dedup_unit;
}

/*
 * A job's clones (numjobs) share its options and would say the same: the
 * section says it once.
 */
#define say_once(td, ...)						\
	do {								\
		if ((td)->subjob_number == 0)				\
			log_err(__VA_ARGS__);				\
	} while (0)

/*
 * What the job is told when a size or offset splits dedup units; what
 * every clone shares is said once (all = false).
 */
static void say_unaligned(struct thread_data *td, const char *what,
			  const char *why, uint32_t unit, bool all)
{
	char u[32];

	if (!all && td->subjob_number)
		return;
	log_err("fio: dgen: %s: %s is not a multiple of dgen_dedup_unit=%s: "
		"%s cover whole dedup units; use one that is, or "
		"dgen_overwrite=same\n", td->o.name, what,
		size_text(unit, u, sizeof(u)), why);
}

/* Block sizes and alignment of one direction: multiples of the unit. */
static int check_blocks(struct thread_data *td, enum fio_ddir ddir,
			uint32_t unit, const char *why)
{
	const struct thread_options *to = &td->o;
	const char *dir = ddir == DDIR_WRITE ? "writes" : "reads";
	char what[96], a[32], b[32];

	if (to->min_bs[ddir] == to->max_bs[ddir]) {
		if (to->min_bs[ddir] % unit == 0)
			goto align;
		snprintf(what, sizeof(what), "bs=%s (%s)",
			 size_text(to->min_bs[ddir], a, sizeof(a)), dir);
		goto bad;
	}
	if (to->bs_unaligned) {
		say_once(td, "fio: dgen: %s: bs_unaligned=1 draws %s of any length: "
			"%s cover whole dedup units; drop it, or use "
			"dgen_overwrite=same\n", td->o.name, dir, why);
		return 1;
	}
	/* fio draws sizes in multiples of the smallest, up to the largest. */
	if (to->min_bs[ddir] % unit || to->max_bs[ddir] % unit) {
		snprintf(what, sizeof(what), "%s=%s-%s (%s)",
			 to->bssplit_nr[ddir] ? "bssplit" : "bsrange",
			 size_text(to->min_bs[ddir], a, sizeof(a)),
			 size_text(to->max_bs[ddir], b, sizeof(b)), dir);
		goto bad;
	}
align:
	if (to->ba[ddir] % unit) {
		snprintf(what, sizeof(what), "blockalign=%s (%s)",
			 size_text(to->ba[ddir], a, sizeof(a)), dir);
		goto bad;
	}
	return 0;
bad:
	say_unaligned(td, what, why, unit, false);
	return 1;
}

/*
 * Offsets and block sizes of a job that writes or checks through a state
 * must be whole dedup units: the state records versions per unit.
 */
static int check_alignment(struct thread_data *td, bool reads)
{
	const struct dgen_fio_options *o = td->eo;
	const struct thread_options *to = &td->o;
	uint32_t unit = dedup_unit_of(o);
	const char *wwhy = "with dgen_overwrite=new (the default) writes";
	const char *rwhy = "reads checked against a write state (dgen_verify=1)";
	char what[96], a[32];

	if (!unit)
		return 1;
	if (td_write(td) && check_blocks(td, DDIR_WRITE, unit, wwhy))
		return 1;
	if (reads && check_blocks(td, DDIR_READ, unit, rwhy))
		return 1;
	/* dgen_part places the job itself, on 4k boundaries: checked once
	 * the part is known (dgen_state_open_job). */
	if (!o->part && to->start_offset % unit) {
		snprintf(what, sizeof(what), "offset=%s",
			 size_text(to->start_offset, a, sizeof(a)));
		say_unaligned(td, what, td_write(td) ? wwhy : rwhy, unit, false);
		return 1;
	}
	if (to->offset_increment % unit) {
		snprintf(what, sizeof(what), "offset_increment=%s",
			 size_text(to->offset_increment, a, sizeof(a)));
		say_unaligned(td, what, td_write(td) ? wwhy : rwhy, unit, false);
		return 1;
	}
	if (to->ddir_seq_add % unit) {
		snprintf(what, sizeof(what), "rw=...:%s (the gap between I/Os)",
			 size_text(to->ddir_seq_add, a, sizeof(a)));
		say_unaligned(td, what, td_write(td) ? wwhy : rwhy, unit, false);
		return 1;
	}
	return 0;
}

int dgen_state_check_job(struct thread_data *td)
{
	const struct dgen_fio_options *o = td->eo;
	bool same;

	if (dgen_parse_overwrite(o->overwrite, &same))
		return 1;
	if (same && o->state) {
		say_once(td, "fio: dgen: %s: dgen_overwrite=same cannot be used with "
			"dgen_state=%s: a state records the versions that "
			"dgen_overwrite=new writes; drop one of them\n",
			td->o.name, o->state);
		return 1;
	}
	if (o->state && !*o->state) {
		say_once(td, "fio: dgen: %s: dgen_state= names no file\n", td->o.name);
		return 1;
	}
	if (o->state && o->null_io) {
		say_once(td, "fio: dgen: %s: dgen_state=%s cannot be used with "
			"dgen_null=1, which writes nothing the state could "
			"record\n", td->o.name, o->state);
		return 1;
	}
	if (same || (!td_write(td) && !reads_through_state(td)))
		return 0;
	if (td->o.nr_files > 1) {
		if (o->state)
			say_once(td, "fio: dgen: %s: dgen_state=%s records the versions "
				"of one file, and this job has %u (nrfiles=, or "
				"several names in filename=): one file per job\n",
				td->o.name, o->state, td->o.nr_files);
		else
			say_once(td, "fio: dgen: %s: dgen_overwrite=new (the default) "
				"keeps the versions of one file per job, and this "
				"job has %u (nrfiles=, or several names in "
				"filename=): one file per job, or "
				"dgen_overwrite=same\n", td->o.name,
				td->o.nr_files);
		return 1;
	}
	return check_alignment(td, reads_through_state(td));
}

/* FNV-1a, over the fields that make two jobs write the same data. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

/*
 * What names the run's state of a job: its file and dataset options. A
 * dgen_null=1 job writes nothing, so it never shares a real file's state.
 */
static int run_state_key(struct thread_data *td, const char *file,
			 uint64_t *key)
{
	const struct dgen_fio_options *o = td->eo;
	unsigned char null_io = o->null_io != 0;
	dgen_config cfg;
	bool seed_given;
	uint64_t h = 0xcbf29ce484222325ULL;

	if (dgen_options_to_config(o, &cfg, &seed_given))
		return 1;
	h = fnv(h, file, strlen(file) + 1);
	h = fnv(h, &cfg.seed, sizeof(cfg.seed));
	h = fnv(h, &cfg.dedup_ratio, sizeof(cfg.dedup_ratio));
	h = fnv(h, &cfg.compress_ratio, sizeof(cfg.compress_ratio));
	h = fnv(h, &cfg.dedup_unit, sizeof(cfg.dedup_unit));
	h = fnv(h, &cfg.compressor, sizeof(cfg.compressor));
	h = fnv(h, &null_io, 1);
	*key = h;
	return 0;
}

static const char *file_of(struct thread_data *td)
{
	if (!td->files || !td->files_index || !td->files[0])
		return NULL;
	return td->files[0]->file_name;
}

/*
 * In fio's main process, before any job starts (fio sizes every file
 * there first): a job that checks reads without writing takes the run's
 * state when another job of the run writes the same data through it,
 * whether that job runs before it (stonewall) or beside it.
 */
void dgen_state_mark_readers(struct thread_data *td)
{
	struct dgen_fio_options *o = td->eo;
	struct thread_data *t;
	const char *file = file_of(td), *other;
	uint64_t key, k;
	int i;

	o->run_state = 0;
	if (td_write(td) || !td_read(td) || !o->verify || o->state ||
	    overwrite_same(o) || !file || run_state_key(td, file, &key))
		return;
	for_each_td(t, i) {
		if (t == td || t->io_ops != &ioengine || !t->eo ||
		    !writes_run_state(t))
			continue;
		other = file_of(t);
		if (other && strcmp(other, file) == 0 &&
		    !run_state_key(t, other, &k) && k == key) {
			o->run_state = 1;
			return;
		}
	}
}

/* The process that runs the jobs: their parent, or theirs as threads. */
static pid_t run_pid_of(struct thread_data *td)
{
	return td->o.use_thread ? getpid() : getppid();
}

/* A process's start time (clock ticks since boot), from /proc; 0 if not
 * known. With the pid it names one run. */
static unsigned long long start_time_of(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long t = 0;
	const char *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The name (field 2) may hold anything; fields follow its ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* p + 2 is field 3; the start time is field 22. */
	for (p += 2, field = 3; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field == 22)
		t = strtoull(p, NULL, 10);
	return t;
}

static const char *tmp_dir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d ? d : "/tmp";
}

/* "dgen-fio-<uid>-<pid>-<start>-": the start of every state of one run. */
static void run_prefix(char *buf, size_t n, pid_t pid, unsigned long long start)
{
	snprintf(buf, n, "dgen-fio-%u-%d-%llu-", (unsigned int)getuid(),
		 (int)pid, start);
}

/*
 * Where the dataset of a state ends: the job's range end, over every
 * clone offset_increment moves, or the range dgen_part split.
 */
static uint64_t dataset_end(struct thread_data *td, struct fio_file *f)
{
	const struct dgen_fio_options *o = td->eo;
	const struct thread_options *to = &td->o;
	struct thread_data *t, *first = td;
	uint64_t end = f->file_offset + f->io_size, inc;
	unsigned int numjobs;
	int i;

	if (o->part_applied)
		return o->part_end;
	inc = to->offset_increment_percent ?
		      to->offset_increment_percent * f->real_file_size / 100 :
		      to->offset_increment;
	if (!inc)
		return end;
	/* fio adds a section's clones right after it, numbered from
	 * numjobs - 1 down to 1; the section itself (0) keeps numjobs. */
	for_each_td(t, i) {
		if (t == td)
			break;
		if (t->subjob_number == 0 && t->o.name && to->name &&
		    strcmp(t->o.name, to->name) == 0)
			first = t;
	}
	numjobs = td->subjob_number ? first->o.numjobs : to->numjobs;
	if (numjobs > td->subjob_number + 1)
		end += (uint64_t)(numjobs - 1 - td->subjob_number) * inc;
	return end;
}

/*
 * The run's state must be a file of this user's, not a link someone put
 * where it is looked for.
 */
static int check_run_state_file(struct thread_data *td, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : 1;
	if (S_ISREG(st.st_mode) && st.st_uid == geteuid())
		return 0;
	log_err("fio: dgen: %s: dgen_overwrite=new: %s, where this run keeps "
		"its state, is not a file of this user's: remove it, or set "
		"TMPDIR or dgen_state=\n", td->o.name, path);
	return 1;
}

static enum state_use decide(struct thread_data *td, const char *run_path)
{
	const struct dgen_fio_options *o = td->eo;

	if (overwrite_same(o))
		return STATE_NONE;
	if (o->state)
		return td_write(td) || (o->verify && td_read(td)) ?
			       STATE_NAMED : STATE_NONE;
	if (td_write(td))
		return STATE_RUN;
	/* A job that only checks: the run's state when a job of the run
	 * writes through it (told by fio's main process, or, when fio sizes
	 * files in each job, found in place). */
	if (o->verify && td_read(td) &&
	    (o->run_state || access(run_path, F_OK) == 0))
		return STATE_RUN;
	return STATE_NONE;
}

int dgen_state_open_job(struct thread_data *td, struct dgen_job *job,
			struct fio_file *f)
{
	struct dgen_fio_options *o = td->eo;
	enum state_use use;
	dgen_config cfg;
	dgen_status st;
	bool seed_given, reads;
	uint64_t end, window, size, key;
	char run_path[4096], prefix[128], a[32], what[96];
	const char *path;

	if (job->state_opened)
		return 0;
	job->state_opened = true;
	if (dgen_options_to_config(o, &cfg, &seed_given))
		goto fail;
	job->unit = cfg.dedup_unit;
	job->run_pid = run_pid_of(td);
	job->run_start = start_time_of(job->run_pid);
	run_prefix(prefix, sizeof(prefix), job->run_pid, job->run_start);
	if (run_state_key(td, f->file_name, &key))
		goto fail;
	snprintf(run_path, sizeof(run_path), "%s/%s%016" PRIx64 ".state",
		 tmp_dir(), prefix, key);

	use = decide(td, run_path);
	if (use == STATE_NONE)
		return 0;
	reads = o->verify && td_read(td);
	if (check_alignment(td, reads))
		goto fail;
	if (f->file_offset % job->unit) {
		snprintf(what, sizeof(what), "the job's start, offset %" PRIu64
			 " (from offset=, offset_increment= or dgen_part=),",
			 (uint64_t)f->file_offset);
		say_unaligned(td, what, td_write(td) ?
			      "with dgen_overwrite=new (the default) writes" :
			      "reads checked against a write state", job->unit,
			      true);
		goto fail;
	}

	end = dataset_end(td, f);
	if (!end) {
		log_err("fio: dgen: %s: the job's range on %s is empty, and a "
			"write state needs a dataset\n", td->o.name, f->file_name);
		goto fail;
	}
	window = (uint64_t)job->unit * WINDOW_UNITS;
	size = (end + window - 1) / window * window;
	cfg.size = size;
	st = dgen_create(&cfg, &job->sgen);
	if (st != DGEN_STATUS_OK) {
		log_err("fio: dgen: %s: %s\n", td->o.name, dgen_last_error());
		goto fail;
	}

	job->run_state = use == STATE_RUN;
	path = job->run_state ? run_path : o->state;
	if (job->run_state && check_run_state_file(td, path))
		goto fail;
	st = dgen_state_open(job->sgen, path, td_write(td) || job->run_state,
			     &job->state);
	if (st != DGEN_STATUS_OK) {
		if (job->run_state)
			log_err("fio: dgen: %s: dgen_overwrite=new: the state "
				"this run keeps for %s: %s (%s)\n", td->o.name,
				f->file_name, dgen_last_error(),
				st == DGEN_STATUS_INVALID_STATE ?
				"every job of a run on one file must cover the "
				"same range, offset= + size=" :
				"set TMPDIR, or give dgen_state=");
		else
			log_err("fio: dgen: %s: dgen_state=%s: %s\n", td->o.name,
				o->state, dgen_last_error());
		goto fail;
	}
	job->state_path = strdup(path);
	job->file_name = strdup(f->file_name);
	job->nr_claims = td->o.iodepth;
	job->claims = calloc(job->nr_claims, sizeof(*job->claims));
	if (reads)
		job->check = job->run_state ?
				     dgen_state_check_new_unwritten_first() :
				     dgen_state_check_new();
	if (!job->state_path || !job->file_name || !job->claims ||
	    (reads && !job->check)) {
		td_verror(td, ENOMEM, "dgen state");
		return 1;
	}
	/* Machine-readable output (json, terse) stays as fio makes it. */
	if (td->subjob_number == 0 && (output_format & FIO_OUTPUT_NORMAL))
		log_info("dgen: %s: %s; state %s%s, a dataset of %" PRIu64
			 " bytes (%s dedup units)\n", td->o.name,
			 td_write(td) ? "each write carries the unit's next "
					"version" :
					"reads are checked against the writes",
			 path, job->run_state ? " (this run only)" : "", size,
			 size_text(job->unit, a, sizeof(a)));
	return 0;
fail:
	/* Not EINVAL, which fio takes for a refused O_DIRECT here. */
	td_vmsg(td, ENOTSUP, "write state", "dgen");
	return 1;
}

static void complete_claim(struct dgen_job *job, struct dgen_claim *c)
{
	if (dgen_state_complete(job->state, c->offset, c->len) != DGEN_STATUS_OK)
		log_err("fio: dgen: %s: completing the write at offset %" PRIu64
			": %s\n", job->file_name, c->offset, dgen_last_error());
	c->held = false;
}

int dgen_state_prep(struct thread_data *td, struct dgen_job *job,
		    struct io_u *io_u)
{
	struct dgen_claim *c = &job->claims[io_u->index];
	dgen_status st;

	if (c->held) {
		/* Back from a requeue (a full queue, or the rest of a short
		 * write): the buffer still holds the claimed bytes. */
		if (io_u->ddir == DDIR_WRITE && io_u->offset >= c->offset &&
		    io_u->offset + io_u->xfer_buflen <= c->offset + c->len)
			return 0;
		complete_claim(job, c);
	}
	if (io_u->ddir != DDIR_WRITE)
		return 0;
	st = dgen_state_fill(job->state, job->sgen, io_u->offset,
			     io_u->xfer_buf, io_u->xfer_buflen);
	if (st != DGEN_STATUS_OK) {
		log_err("fio: dgen: %s: write at offset %llu: %s\n",
			io_u->file->file_name, io_u->offset, dgen_last_error());
		td_verror(td, EIO, "dgen_state_fill");
		return 1;
	}
	c->offset = io_u->offset;
	c->len = io_u->xfer_buflen;
	c->held = true;
	return 0;
}

/*
 * A write came back, done or failed. fio issues the rest of a short write
 * again from the same io_u (as it decides in io_completed()), and its claim
 * is completed once that is over.
 */
void dgen_state_done(struct thread_data *td, struct dgen_job *job,
		     struct io_u *io_u)
{
	struct dgen_claim *c = &job->claims[io_u->index];
	unsigned long long bytes;

	if (!c->held || io_u->ddir != DDIR_WRITE)
		return;
	bytes = io_u->xfer_buflen - io_u->resid;
	if (!io_u->error && io_u->resid && bytes &&
	    io_u->offset + bytes < io_u->file->real_file_size)
		return;
	complete_claim(job, c);
}

void dgen_state_verify_read(struct thread_data *td, struct dgen_job *job,
			    struct io_u *io_u, size_t len)
{
	const unsigned char *buf = io_u->xfer_buf;
	uint64_t unit = job->unit, start, end;

	/* Whole units only: a short read leaves part of one. */
	start = (io_u->offset + unit - 1) / unit * unit;
	end = (io_u->offset + len) / unit * unit;
	if (end <= start)
		return;
	if (dgen_state_verify(job->state, job->sgen, start,
			      buf + (start - io_u->offset), end - start,
			      job->check) != DGEN_STATUS_OK) {
		log_err("fio: dgen: %s: verify at offset %" PRIu64 ": %s\n",
			io_u->file->file_name, start, dgen_last_error());
		io_u->error = EIO;
	}
}

/* Offsets of each class the verdict names. */
#define FIRST_SHOWN 4

/* The verdict of a job's reads, once they are all in. */
static void verdict(struct thread_data *td, struct dgen_job *job)
{
	static const char *const names[] = { "stale", "misplaced", "zero",
					     "corrupt" };
	char words[sizeof(td->verror)];
	uint64_t counts[4], firsts[4], offs[FIRST_SHOWN];
	char line[1024];
	dgen_state_result r;
	dgen_status st;
	size_t n = 0, k, j;
	int i;

	st = dgen_state_check_finish(job->state, job->sgen, job->check, &r);
	if (st == DGEN_STATUS_OK) {
		if (output_format & FIO_OUTPUT_NORMAL)
			log_info("dgen: %s: verify: %" PRIu64 " units right "
				 "against state %s; %" PRIu64 " never written and "
				 "%" PRIu64 " in doubt (a first write in flight "
				 "when its writer died), not checked\n",
				 td->o.name, r.units_ok, job->state_path,
				 r.units_unwritten, r.units_in_doubt);
		return;
	}
	if (st != DGEN_STATUS_MISMATCH) {
		log_err("fio: dgen: %s: verify against state %s: %s\n",
			td->o.name, job->state_path, dgen_last_error());
		td_verror(td, EIO, "dgen_state_check_finish");
		return;
	}
	counts[0] = r.stale, firsts[0] = r.first_stale;
	counts[1] = r.misplaced, firsts[1] = r.first_misplaced;
	counts[2] = r.zero, firsts[2] = r.first_zero;
	counts[3] = r.corrupt, firsts[3] = r.first_corrupt;
	/* One line: the count of each class and its first offsets. */
	line[0] = '\0';
	for (i = 0; i < 4 && n < sizeof(line); i++) {
		if (!counts[i])
			continue;
		if (dgen_state_check_offsets(job->check, (uint32_t)i, offs,
					     FIRST_SHOWN, &k) != DGEN_STATUS_OK)
			k = 0;
		n += snprintf(line + n, sizeof(line) - n, "%s%" PRIu64 " %s",
			      n ? ", " : "", counts[i], names[i]);
		for (j = 0; j < k && n < sizeof(line); j++)
			n += snprintf(line + n, sizeof(line) - n, "%s%" PRIu64,
				      j ? ", " : counts[i] > 1 ? " (at offsets " :
				      " (at offset ", offs[j]);
		if (k && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, "%s)",
				      counts[i] > k ? ", ..." : "");
	}
	log_err("fio: dgen: verify failed: file %s, state %s: %" PRIu64 " of %"
		PRIu64 " units checked are wrong: %s\n", job->file_name,
		job->state_path, r.stale + r.misplaced + r.zero + r.corrupt,
		r.units_ok + r.stale + r.misplaced + r.zero + r.corrupt, line);
	/* The job's summary on standard output gets the counts too (fio
	 * keeps the first error a job records). */
	n = 0;
	words[0] = '\0';
	for (i = 0; i < 4; i++) {
		if (!counts[i] || n >= sizeof(words))
			continue;
		n += snprintf(words + n, sizeof(words) - n, "%s%" PRIu64
			      " %s (first at offset %" PRIu64 ")", n ? ", " : "",
			      counts[i], names[i], firsts[i]);
	}
	td_vmsg(td, EILSEQ, words, "dgen_verify");
}

/*
 * Whether every other job of this engine in the run is past its I/O
 * (finishing, done, or never to start): then no job will open the run's
 * states again.
 */
static bool last_of_run(struct thread_data *td)
{
	struct thread_data *t;
	int i;

	for_each_td(t, i) {
		if (t == td || t->io_ops != &ioengine)
			continue;
		if (t->runstate == TD_NOT_CREATED && t->terminate)
			continue;
		if (t->runstate < TD_FINISHING)
			return false;
	}
	return true;
}

void dgen_state_end(struct thread_data *td, struct dgen_job *job)
{
	if (job->check && job->state)
		verdict(td, job);
	dgen_state_check_free(job->check);
	job->check = NULL;
	/*
	 * A claim still held belongs to a write fio prepared and never
	 * issued, or issued and never reaped: it stays in flight in the
	 * state, as a killed writer's would, so the unit accepts its old or
	 * new bytes.
	 */
	/* The run's own state goes with the last job of the run (the others
	 * that ended before it left it for the jobs still to come). */
	if (job->run_state && last_of_run(td))
		dgen_state_close_remove(job->state, NULL);
	else
		dgen_state_close(job->state);
	job->state = NULL;
	dgen_free(job->sgen);
	job->sgen = NULL;
	free(job->claims);
	job->claims = NULL;
	free(job->state_path);
	job->state_path = NULL;
	free(job->file_name);
	job->file_name = NULL;
}

/*
 * Removes what is left of the run's own states once the last job of the
 * run is done: states of other files or options whose jobs all ended while
 * this one ran. A file is removed only when no process holds it (its
 * lock), the test dgen_state_close_remove makes; one still held is left to
 * the job holding it, which removes it when it ends.
 */
void dgen_state_sweep_run(struct thread_data *td, struct dgen_job *job)
{
	char prefix[128], path[4096];
	size_t plen, nlen;
	struct dirent *d;
	struct stat st;
	pid_t pid;
	DIR *dir;
	int fd;

	if (!last_of_run(td))
		return;
	pid = job && job->run_pid ? job->run_pid : run_pid_of(td);
	run_prefix(prefix, sizeof(prefix), pid,
		   job && job->run_pid ? job->run_start : start_time_of(pid));
	plen = strlen(prefix);
	dir = opendir(tmp_dir());
	if (!dir)
		return;
	while ((d = readdir(dir)) != NULL) {
		nlen = strlen(d->d_name);
		if (strncmp(d->d_name, prefix, plen) != 0 || nlen < 6 ||
		    strcmp(d->d_name + nlen - 6, ".state") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_dir(), d->d_name);
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid() && flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlink(path);
		close(fd);
	}
	closedir(dir);
}
