/*
 * The engine's asynchronous path, on io_uring (liburing).
 *
 * fio drives an asynchronous engine in four steps: queue() takes one io_u
 * (its write buffer already filled by prep()), commit() starts everything
 * queued, getevents() waits for completions and event() hands each
 * completed io_u back. Here queue() prepares one submission queue entry,
 * commit() submits them all with one system call, getevents() reaps
 * completion queue entries into a small array, and event() takes them from
 * it, checking reads against the data (dgen_verify=1) as they complete.
 *
 * The ring belongs to the job's own thread or process (fio calls init() and
 * every hook from there), which is what IORING_SETUP_SINGLE_ISSUER asks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liburing.h>

#include "engine.h"

struct dgen_uring {
	struct io_uring ring;
	unsigned int depth;
	bool fixedbufs;
	/* Entries prepared but not yet submitted, in submission order. */
	struct io_u **pending;
	unsigned int queued;
	/* Submitted and not yet reaped. */
	unsigned int inflight;
	/* Reaped by the last getevents(), for event() to hand back. */
	struct io_u **events;
};

/*
 * Ring setup flags worth having when the kernel offers them, dropped one
 * by one when it refuses (EINVAL): no interrupting the job's thread to run
 * completion work (COOP_TASKRUN), and, since one thread submits and reaps,
 * running that work only when the job asks for completions
 * (SINGLE_ISSUER + DEFER_TASKRUN, kernel 6.1+). DEFER_TASKRUN cannot be
 * combined with a kernel submission thread (SQPOLL).
 */
static const unsigned int optional_flags[] = {
	IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	IORING_SETUP_COOP_TASKRUN,
};

int dgen_uring_create(struct thread_data *td, const struct dgen_fio_options *o,
		      unsigned int depth, struct dgen_uring **out,
		      const char **why)
{
	struct io_uring_params p;
	struct dgen_uring *u;
	unsigned int extra = IORING_SETUP_COOP_TASKRUN;
	size_t i;
	int ret;

	*out = NULL;
	*why = "out of memory";
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->depth = depth;
	u->fixedbufs = o->fixedbufs != 0;
	u->pending = calloc(depth, sizeof(*u->pending));
	u->events = calloc(depth, sizeof(*u->events));
	if (!u->pending || !u->events) {
		dgen_uring_free(u);
		return -ENOMEM;
	}

	if (!o->sqpoll)
		extra |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	for (i = 0;; i++) {
		memset(&p, 0, sizeof(p));
		p.flags = extra;
		if (o->sqpoll) {
			p.flags |= IORING_SETUP_SQPOLL;
			if (o->sqpoll_cpu_set) {
				p.flags |= IORING_SETUP_SQ_AFF;
				p.sq_thread_cpu = o->sqpoll_cpu;
			}
		}
		ret = io_uring_queue_init_params(depth, &u->ring, &p);
		if (ret != -EINVAL || i == sizeof(optional_flags) / sizeof(optional_flags[0]))
			break;
		extra &= ~optional_flags[i];
	}
	if (ret < 0) {
		*why = "io_uring_setup";
		free(u->pending);
		free(u->events);
		free(u);
		return ret;
	}
	*out = u;
	return 0;
}

void dgen_uring_free(struct dgen_uring *u)
{
	if (!u)
		return;
	if (u->ring.ring_fd > 0)
		io_uring_queue_exit(&u->ring);
	free(u->pending);
	free(u->events);
	free(u);
}

/*
 * fio lays out every io_u buffer (td_max_bs bytes each) before post_init();
 * registering them once lets each read or write skip pinning its pages.
 */
int dgen_uring_register_buffers(struct thread_data *td, struct dgen_job *job)
{
	struct dgen_uring *u = job->uring;
	struct iovec *iov;
	unsigned int i;
	int ret;

	if (!u->fixedbufs)
		return 0;
	iov = calloc(job->nr_io_us, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	for (i = 0; i < job->nr_io_us; i++) {
		if (!job->io_us[i]) {
			free(iov);
			return -EINVAL;
		}
		iov[i].iov_base = job->io_us[i]->buf;
		iov[i].iov_len = td_max_bs(td);
	}
	ret = io_uring_register_buffers(&u->ring, iov, job->nr_io_us);
	free(iov);
	return ret;
}

/*
 * The opcode of a read [0] or a write [1] of an io_u's buffer: plain [0],
 * or [1] with the buffer fixedbufs registered (at the io_u's index).
 */
static const uint8_t rw_opcodes[2][2] = {
	{ IORING_OP_READ, IORING_OP_READ_FIXED },
	{ IORING_OP_WRITE, IORING_OP_WRITE_FIXED },
};

/* Writes, reads and the file syncs fio asks for; trims run in place. */
enum fio_q_status dgen_uring_queue(struct thread_data *td, struct dgen_job *job,
				   struct io_u *io_u)
{
	struct dgen_uring *u = job->uring;
	struct fio_file *f = io_u->file;
	struct io_uring_sqe *sqe;

	if (io_u->ddir == DDIR_TRIM) {
		/* Like fio's own async engines: a trim waits for the queue
		 * to drain, then runs synchronously. */
		if (u->queued || u->inflight)
			return FIO_Q_BUSY;
		do_io_u_trim(td, io_u);
		io_u_mark_submit(td, 1);
		io_u_mark_complete(td, 1);
		return FIO_Q_COMPLETED;
	}

	if (u->queued + u->inflight >= u->depth)
		return FIO_Q_BUSY;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return FIO_Q_BUSY;

	switch (io_u->ddir) {
	case DDIR_READ:
	case DDIR_WRITE:
		/* What io_uring_prep_read(), _write() and their _fixed forms
		 * do: a _FIXED opcode also names the registered buffer. */
		io_uring_prep_rw(rw_opcodes[io_u->ddir == DDIR_WRITE][u->fixedbufs],
				 sqe, f->fd, io_u->xfer_buf, io_u->xfer_buflen,
				 io_u->offset);
		if (u->fixedbufs)
			sqe->buf_index = (__u16)io_u->index;
		break;
	case DDIR_SYNC_FILE_RANGE:
		io_uring_prep_sync_file_range(sqe, f->fd,
					      f->last_write - f->first_write,
					      f->first_write,
					      td->o.sync_file_range);
		break;
	case DDIR_DATASYNC:
		io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
		break;
	default: /* DDIR_SYNC */
		io_uring_prep_fsync(sqe, f->fd, 0);
		break;
	}
	/*
	 * A sync must cover the writes queued before it, which io_uring may
	 * otherwise run in any order: drain makes it wait for them.
	 */
	if (ddir_sync(io_u->ddir))
		sqe->flags |= IOSQE_IO_DRAIN;
	io_uring_sqe_set_data(sqe, io_u);
	u->pending[u->queued++] = io_u;
	return FIO_Q_QUEUED;
}

/* Records the first `n` pending entries as submitted now. */
static void mark_submitted(struct thread_data *td, struct dgen_uring *u,
			   unsigned int n)
{
	struct timespec now;
	unsigned int i;

	if (fio_fill_issue_time(td)) {
		fio_gettime(&now, NULL);
		for (i = 0; i < n; i++) {
			u->pending[i]->issue_time = now;
			io_u_queued(td, u->pending[i]);
		}
		if (td->o.read_iolog_file)
			td->last_issue = now;
	}
	io_u_mark_submit(td, n);
	memmove(u->pending, u->pending + n,
		(u->queued - n) * sizeof(*u->pending));
	u->queued -= n;
	u->inflight += n;
}

/*
 * Submits what queue() prepared. Returns 0, or a negative errno. When the
 * kernel is short of resources (EAGAIN, EBUSY) and I/O is in flight, the
 * rest waits for getevents(), which submits again once some completed.
 */
static int submit_pending(struct thread_data *td, struct dgen_uring *u)
{
	int ret;

	while (u->queued) {
		ret = io_uring_submit(&u->ring);
		if (ret > 0) {
			mark_submitted(td, u, (unsigned int)ret < u->queued ?
						      (unsigned int)ret : u->queued);
			continue;
		}
		if (ret == 0 || ret == -EINTR)
			continue;
		if (ret == -EAGAIN || ret == -EBUSY) {
			if (u->inflight)
				return 0;
			usleep(1);
			continue;
		}
		return ret;
	}
	return 0;
}

int dgen_uring_commit(struct thread_data *td, struct dgen_job *job)
{
	int ret = submit_pending(td, job->uring);

	if (ret < 0)
		td_verror(td, -ret, "io_uring_submit");
	return ret;
}

/* Moves up to max - n completions into u->events[n...]; returns how many. */
static unsigned int reap(struct dgen_uring *u, unsigned int n, unsigned int max)
{
	struct io_uring_cqe *cqe;
	unsigned int head, count = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		struct io_u *io_u;
		int res = cqe->res;

		if (n + count >= max)
			break;
		io_u = io_uring_cqe_get_data(cqe);
		io_u->error = 0;
		if (res < 0)
			io_u->error = -res;
		else if (ddir_rw(io_u->ddir) &&
			 (unsigned long long)res < io_u->xfer_buflen)
			/* fio issues the rest again at the advanced offset. */
			io_u->resid = io_u->xfer_buflen - res;
		u->events[n + count++] = io_u;
	}
	io_uring_cq_advance(&u->ring, count);
	u->inflight -= count;
	return count;
}

/*
 * fio passes a timeout only with min = 0, when it never waits here anyway,
 * so it is not used (as in fio's own io_uring engine).
 */
int dgen_uring_getevents(struct thread_data *td, struct dgen_job *job,
			 unsigned int min, unsigned int max)
{
	struct dgen_uring *u = job->uring;
	struct io_uring_cqe *cqe;
	unsigned int n;
	int ret;

	if (max > u->depth)
		max = u->depth;
	ret = submit_pending(td, u);
	if (ret < 0) {
		td_verror(td, -ret, "io_uring_submit");
		return ret;
	}
	n = reap(u, 0, max);
	while (n < min) {
		ret = io_uring_wait_cqe_nr(&u->ring, &cqe, min - n);
		if (ret == -EINTR || ret == -EAGAIN)
			continue;
		if (ret < 0) {
			td_verror(td, -ret, "io_uring_wait_cqe");
			return ret;
		}
		n += reap(u, n, max);
	}
	/* With DEFER_TASKRUN, finished I/O shows up only when asked for. */
	if (n == 0 && u->inflight && (u->ring.flags & IORING_SETUP_DEFER_TASKRUN)) {
		io_uring_get_events(&u->ring);
		n = reap(u, 0, max);
	}
	return (int)n;
}

struct io_u *dgen_uring_event(struct thread_data *td, struct dgen_job *job,
			      int event)
{
	struct io_u *io_u = job->uring->events[event];

	if (job->verify && io_u->ddir == DDIR_READ && !io_u->error &&
	    io_u->xfer_buflen > io_u->resid)
		dgen_verify_read(td, job, io_u, io_u->xfer_buflen - io_u->resid);
	if (job->state)
		dgen_state_done(td, job, io_u);
	return io_u;
}
