//! The parallel runner: `jobs` workers take the next piece of work (a whole
//! object, or one part of a large one) from one counter, generate its bytes
//! at their offset into their own buffer and send them; a GET streams the
//! body through a sink that compares it with the stream as it arrives. As
//! with files, no queue between generation and I/O is needed, because every
//! byte is a function of its offset.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use s3::bucket_ops::BucketConfiguration;
use s3::command::Command;
use s3::request::blocking::AttoRequest;
use s3::request::Request;
use s3::serde_types::Part;
use s3::Bucket;

use super::put;
use super::store::{self, Failed};
use super::{
    Layout, ObjectControl, ObjectError, ObjectErrorKind, ObjectOp, ObjectOptions, ObjectProblem, ObjectReport,
    ObjectSpec, ObjectUrl, ProblemKind, Store, MAX_PARTS, MAX_PROBLEMS_LISTED,
};
use crate::generator::Generator;
use crate::storage::{new_histogram, record_ns, Latency};
use crate::Error;

pub(crate) const CONTENT_TYPE: &str = "application/octet-stream";

/// Uploads every object of `layout`: object `i` holds the stream's range
/// of [`Layout::objects`]. Objects up to `opts.part_size` go up in one PUT,
/// larger ones as multipart uploads whose parts the workers share. On an
/// error or the cancel flag, requests in flight finish, no new ones start,
/// and every unfinished multipart upload is aborted; the error carries the
/// report of the objects done.
pub fn put_objects(
    gen: &Generator,
    store: &Store,
    url: &ObjectUrl,
    layout: &Layout,
    opts: &ObjectOptions,
    control: &ObjectControl<'_>,
) -> Result<ObjectReport, ObjectError> {
    run(Op::Put, gen, store, url, layout, opts, control)
}

/// Downloads every object of `layout` and discards the bytes: load, with the
/// GET latency and time to first byte. A missing object is an error.
pub fn get_objects(
    gen: &Generator,
    store: &Store,
    url: &ObjectUrl,
    layout: &Layout,
    opts: &ObjectOptions,
    control: &ObjectControl<'_>,
) -> Result<ObjectReport, ObjectError> {
    run(Op::Get, gen, store, url, layout, opts, control)
}

/// Lists the prefix and downloads every object of `layout`, comparing each
/// byte with the stream. Missing, short, wrong and extra objects are counted
/// and listed by key in the report (not an error: see
/// [`ObjectReport::passed`]).
pub fn verify_objects(
    gen: &Generator,
    store: &Store,
    url: &ObjectUrl,
    layout: &Layout,
    opts: &ObjectOptions,
    control: &ObjectControl<'_>,
) -> Result<ObjectReport, ObjectError> {
    run(Op::Verify, gen, store, url, layout, opts, control)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Put,
    Get,
    Verify,
}

/// An unfinished multipart upload of one object.
struct Upload {
    id: Mutex<Option<String>>,
    parts: Mutex<Vec<Part>>,
    left: AtomicU64,
    started: Mutex<Option<Instant>>,
}

/// What one worker counted.
struct Tally {
    generate_ns: u64,
    io_ns: u64,
    wall_ns: u64,
    requests: u64,
    bytes: u64,
    objects: u64,
    multipart: u64,
    request: Histogram<u64>,
    object: Histogram<u64>,
    first_byte: Histogram<u64>,
    problems: Vec<ObjectProblem>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            generate_ns: 0,
            io_ns: 0,
            wall_ns: 0,
            requests: 0,
            bytes: 0,
            objects: 0,
            multipart: 0,
            request: new_histogram(),
            object: new_histogram(),
            first_byte: new_histogram(),
            problems: Vec::new(),
        }
    }
}

impl Tally {
    /// A request that took `took` ns, `generate_ns` of them generating (or
    /// comparing) and the rest in I/O.
    fn timed(&mut self, took: u64, generate_ns: u64) {
        self.generate_ns += generate_ns;
        self.io_ns += took.saturating_sub(generate_ns);
    }

    /// A whole object of `bytes` moved in one request of `took` ns.
    fn whole_object(&mut self, bytes: u64, took: u64) {
        self.requests += 1;
        self.objects += 1;
        self.bytes += bytes;
        record_ns(&mut self.request, took);
        record_ns(&mut self.object, took);
    }
}

fn ns(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn now_epoch() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Everything the workers share.
struct Shared<'a> {
    op: Op,
    gen: &'a Generator,
    store: &'a Store,
    bucket: &'a Bucket,
    objects: &'a [ObjectSpec],
    /// Put: the first work item of each object, and the total at the end.
    first_item: Vec<u64>,
    part_sizes: Vec<u64>,
    next: AtomicU64,
    stop: AtomicBool,
    cancel: Option<&'a AtomicBool>,
    error: Mutex<Option<Failed>>,
    uploads: Mutex<HashMap<u64, Arc<Upload>>>,
    /// Verify: the sizes of the keys listed under the prefix.
    listed: HashMap<String, u64>,
}

impl Shared<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    fn fail(&self, f: Failed) {
        let mut e = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if e.is_none() {
            *e = Some(f);
        }
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Part size for an object: the chosen one, or larger where the object
/// would need more than S3's 10,000 parts (a drawn size can be huge).
fn part_size_for(size: u64, part: u64) -> u64 {
    if size.div_ceil(part) <= MAX_PARTS {
        part
    } else {
        size.div_ceil(MAX_PARTS).next_multiple_of(1 << 20)
    }
}

/// A failure of the run, with the report as far as it got.
fn fail(kind: ObjectErrorKind, message: String, field: Option<&'static str>, report: &ObjectReport) -> ObjectError {
    ObjectError { kind, field, message, report: Box::new(report.clone()) }
}

/// A failure of a request, with the report as far as it got.
fn as_error(f: Failed, report: &ObjectReport) -> ObjectError {
    fail(f.kind, f.message, None, report)
}

/// Checks, plans and runs one operation over every object of `layout`.
fn run(
    op: Op,
    gen: &Generator,
    store_cfg: &Store,
    url: &ObjectUrl,
    layout: &Layout,
    opts: &ObjectOptions,
    control: &ObjectControl<'_>,
) -> Result<ObjectReport, ObjectError> {
    let name = match op {
        Op::Put => ObjectOp::Put,
        Op::Get => ObjectOp::Get,
        Op::Verify => ObjectOp::Verify,
    };
    let mut report = ObjectReport::new(name, &url.to_string(), gen.seed());
    let objects = check(gen, url, layout, opts, store_cfg, &mut report)?;
    let bucket = open_bucket(op, store_cfg, url, opts, &report)?;
    if let Some(started) = control.started {
        started(&report);
    }
    let start = Instant::now();
    report.start_time = now_epoch();
    let listed = if op == Op::Verify { list(&bucket, store_cfg, url, &report)? } else { HashMap::new() };
    let (first_item, part_sizes) =
        if op == Op::Put { plan_parts(&objects, opts.part_size) } else { Default::default() };
    let shared = Shared {
        op,
        gen,
        store: store_cfg,
        bucket: &bucket,
        objects: &objects,
        first_item,
        part_sizes,
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        cancel: control.cancel,
        error: Mutex::new(None),
        uploads: Mutex::new(HashMap::new()),
        listed,
    };
    let workers = opts.workers().min(match op {
        Op::Put => shared.first_item.last().copied().unwrap_or(1) as usize,
        _ => objects.len(),
    });
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers.max(1)).map(|_| s.spawn(|| worker(&shared))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    abort_open_uploads(&shared, &mut report);
    sum_up(&shared, tallies, &mut report);
    report.seconds = start.elapsed().as_secs_f64();
    report.end_time = now_epoch();

    let error = shared.error.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(f) = error {
        return Err(as_error(f, &report));
    }
    if control.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        report.interrupted = true;
        let message = format!("interrupted after {} of {} objects", report.objects, report.objects_total);
        return Err(fail(ObjectErrorKind::Interrupted, message, None, &report));
    }
    Ok(report)
}

/// The objects of `layout`, after the checks of the options, the layout
/// against the URL and the generator, and the store; the report gets the
/// run's totals.
fn check(
    gen: &Generator,
    url: &ObjectUrl,
    layout: &Layout,
    opts: &ObjectOptions,
    store_cfg: &Store,
    report: &mut ObjectReport,
) -> Result<Vec<ObjectSpec>, ObjectError> {
    let with_report = |mut e: ObjectError| {
        e.report = Box::new(report.clone());
        e
    };
    opts.validate(layout).map_err(with_report)?;
    if layout.prefix != url.prefix {
        return Err(fail(
            ObjectErrorKind::InvalidOption,
            format!("the layout's prefix {:?} is not the URL's {:?}", layout.prefix, url.prefix),
            Some("prefix"),
            report,
        ));
    }
    let objects = layout.objects().ok_or_else(|| {
        fail(
            ObjectErrorKind::InvalidOption,
            "the objects add up to more than 2^64 - 1 bytes".into(),
            Some("sizes"),
            report,
        )
    })?;
    let total: u64 = objects.iter().map(|o| o.size).sum();
    if gen.size() != 0 && gen.size() < total {
        return Err(fail(
            ObjectErrorKind::InvalidOption,
            format!("the generator's size {} is smaller than the objects' {total} bytes", gen.size()),
            Some("size"),
            report,
        ));
    }
    report.objects_total = objects.len() as u64;
    report.bytes_total = total;
    report.jobs = opts.workers();
    report.part_size = opts.part_size;
    let with_report = |mut e: ObjectError| {
        e.report = Box::new(report.clone());
        e
    };
    store_cfg.validate().map_err(with_report)?;
    Ok(objects)
}

/// The bucket, after one small list: a missing bucket, refused credentials
/// or an unreachable server show here as one error, before any worker
/// starts. A put with `create_bucket` creates a missing bucket.
fn open_bucket(
    op: Op,
    store_cfg: &Store,
    url: &ObjectUrl,
    opts: &ObjectOptions,
    report: &ObjectReport,
) -> Result<Box<Bucket>, ObjectError> {
    let bucket = store::open(store_cfg, url).map_err(|f| as_error(f, report))?;
    let check = bucket.list_page(url.prefix.clone(), None, None, None, Some(1));
    if let Err(e) = check {
        let f = store::failed(e, &format!("s3://{}", url.bucket), store_cfg);
        if f.kind == ObjectErrorKind::NoBucket && op == Op::Put && opts.create_bucket {
            create_bucket(&bucket, store_cfg, url).map_err(|f| as_error(f, report))?;
        } else if f.kind == ObjectErrorKind::NoBucket {
            let hint = if op == Op::Put { " (option create_bucket creates it)" } else { "" };
            let message = format!("bucket {} does not exist on {}{hint}", url.bucket, store::endpoint_name(store_cfg));
            return Err(fail(ObjectErrorKind::NoBucket, message, None, report));
        } else {
            return Err(as_error(f, report));
        }
    }
    Ok(bucket)
}

/// The sizes of the keys listed under the URL's prefix.
fn list(
    bucket: &Bucket,
    store_cfg: &Store,
    url: &ObjectUrl,
    report: &ObjectReport,
) -> Result<HashMap<String, u64>, ObjectError> {
    let pages = bucket
        .list(url.prefix.clone(), None)
        .map_err(|e| as_error(store::failed(e, &format!("list {url}"), store_cfg), report))?;
    Ok(pages.into_iter().flat_map(|page| page.contents).map(|o| (o.key, o.size)).collect())
}

/// The work items of a put: the first item of each object (and the total
/// at the end), and each object's part size. An object up to its part size
/// is one item, a larger one an item per part.
fn plan_parts(objects: &[ObjectSpec], part_size: u64) -> (Vec<u64>, Vec<u64>) {
    let mut first_item = Vec::with_capacity(objects.len() + 1);
    let mut part_sizes = Vec::with_capacity(objects.len());
    let mut n = 0u64;
    for o in objects {
        first_item.push(n);
        let p = part_size_for(o.size, part_size);
        part_sizes.push(p);
        n += if o.size <= p { 1 } else { o.size.div_ceil(p) };
    }
    first_item.push(n);
    (first_item, part_sizes)
}

/// Whatever multipart upload is still open was cut short: aborts it so that
/// no part is left stored (and billed) behind.
fn abort_open_uploads(sh: &Shared<'_>, report: &mut ObjectReport) {
    let open: Vec<(u64, Arc<Upload>)> = sh.uploads.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
    for (i, up) in open {
        let id = up.id.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(id) = id {
            match sh.bucket.abort_upload(&sh.objects[i as usize].key, &id) {
                Ok(()) => report.aborted_uploads += 1,
                Err(_) => report.abort_failed += 1,
            }
        }
    }
}

/// The workers' tallies summed into `report`, with a verification's
/// problems (extra keys included) counted and the first ones listed.
fn sum_up(sh: &Shared<'_>, tallies: Vec<Tally>, report: &mut ObjectReport) {
    let mut request = new_histogram();
    let mut object = new_histogram();
    let mut first_byte = new_histogram();
    let mut problems = Vec::new();
    for t in tallies {
        report.generate_seconds += t.generate_ns as f64 / 1e9;
        report.io_seconds += t.io_ns as f64 / 1e9;
        report.worker_seconds += t.wall_ns as f64 / 1e9;
        report.requests += t.requests;
        report.bytes += t.bytes;
        report.objects += t.objects;
        report.multipart_objects += t.multipart;
        let _ = request.add(&t.request);
        let _ = object.add(&t.object);
        let _ = first_byte.add(&t.first_byte);
        problems.extend(t.problems);
    }
    if sh.op == Op::Verify && !sh.stopped() {
        let expected: HashSet<&str> = sh.objects.iter().map(|o| o.key.as_str()).collect();
        for (key, size) in &sh.listed {
            if !expected.contains(key.as_str()) {
                problems.push(ObjectProblem {
                    kind: ProblemKind::Extra,
                    key: key.clone(),
                    offset: None,
                    expected_size: None,
                    size: Some(*size),
                });
            }
        }
    }
    problems.sort_by(|a, b| a.key.cmp(&b.key));
    for p in &problems {
        match p.kind {
            ProblemKind::Missing => report.missing += 1,
            ProblemKind::Short => report.short += 1,
            ProblemKind::Wrong => report.wrong += 1,
            ProblemKind::Extra => report.extra += 1,
        }
    }
    problems.truncate(MAX_PROBLEMS_LISTED);
    report.problems = problems;
    report.request_latency = Latency::from_histogram(&request);
    report.object_latency = Latency::from_histogram(&object);
    report.first_byte = Latency::from_histogram(&first_byte);
}

/// Creates the bucket. The location constraint is sent only outside
/// us-east-1, where S3 (and servers as strict) refuse it.
fn create_bucket(bucket: &Bucket, store_cfg: &Store, url: &ObjectUrl) -> Result<(), Failed> {
    let mut config = BucketConfiguration::default();
    let region = bucket.region();
    if region.to_string() != "us-east-1" {
        config.set_region(region);
    }
    let what = format!("create bucket {}", url.bucket);
    let request = AttoRequest::new(bucket, "", Command::CreateBucket { config })
        .map_err(|e| store::failed(e, &what, store_cfg))?;
    request.response_data(false).map(|_| ()).map_err(|e| store::failed(e, &what, store_cfg))
}

fn worker(sh: &Shared<'_>) -> Tally {
    let mut t = Tally::new();
    let start = Instant::now();
    match sh.op {
        Op::Put => put_worker(sh, &mut t),
        Op::Get | Op::Verify => get_worker(sh, &mut t),
    }
    t.wall_ns = ns(start);
    t
}

fn put_worker(sh: &Shared<'_>, t: &mut Tally) {
    let items = *sh.first_item.last().unwrap_or(&0);
    // The worker's one buffer: a chunk of the body at a time.
    let mut chunk: Vec<u8> = Vec::with_capacity(put::CHUNK);
    loop {
        if sh.stopped() {
            return;
        }
        let k = sh.next.fetch_add(1, Ordering::Relaxed);
        if k >= items {
            return;
        }
        // The object whose items hold k.
        let i = sh.first_item.partition_point(|&f| f <= k) - 1;
        let o = &sh.objects[i];
        let part_size = sh.part_sizes[i];
        if o.size <= part_size {
            let mut generate_ns = 0;
            let io = Instant::now();
            let r = put::put_stream(sh.bucket, &o.key, None, sh.gen, o.offset, o.size, &mut chunk, &mut generate_ns);
            let took = ns(io);
            t.timed(took, generate_ns);
            match r {
                Ok(_) => t.whole_object(o.size, took),
                Err(e) => {
                    sh.fail(store::failed(e, &format!("PUT {}", o.key), sh.store));
                    return;
                }
            }
            continue;
        }
        if let Err(f) = put_part(sh, t, i, k - sh.first_item[i], &mut chunk) {
            sh.fail(f);
            return;
        }
    }
}

/// Uploads part `part` of object `i` (initiating its upload when this is
/// the first part taken), and completes the upload when it was the last.
fn put_part(sh: &Shared<'_>, t: &mut Tally, i: usize, part: u64, chunk: &mut Vec<u8>) -> Result<(), Failed> {
    let o = &sh.objects[i];
    let part_size = sh.part_sizes[i];
    let parts = o.size.div_ceil(part_size);
    let from = part * part_size;
    let len = part_size.min(o.size - from);
    let io = Instant::now();
    let up = {
        let mut map = sh.uploads.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(i as u64)
            .or_insert_with(|| {
                Arc::new(Upload {
                    id: Mutex::new(None),
                    parts: Mutex::new(Vec::new()),
                    left: AtomicU64::new(parts),
                    started: Mutex::new(None),
                })
            })
            .clone()
    };
    let id = {
        let mut id = up.id.lock().unwrap_or_else(|p| p.into_inner());
        if id.is_none() {
            *up.started.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            let r = sh.bucket.initiate_multipart_upload(&o.key, CONTENT_TYPE);
            let r = r.map_err(|e| store::failed(e, &format!("start multipart upload of {}", o.key), sh.store))?;
            *id = Some(r.upload_id);
        }
        id.clone().unwrap_or_default()
    };
    let number = u32::try_from(part + 1).unwrap_or(u32::MAX);
    let mut generate_ns = 0;
    let r =
        put::put_stream(sh.bucket, &o.key, Some((number, &id)), sh.gen, o.offset + from, len, chunk, &mut generate_ns);
    let took = ns(io);
    t.timed(took, generate_ns);
    let etag = r.map_err(|e| store::failed(e, &format!("PUT part {number} of {}", o.key), sh.store))?;
    t.requests += 1;
    t.bytes += len;
    record_ns(&mut t.request, took);
    up.parts.lock().unwrap_or_else(|p| p.into_inner()).push(Part { etag, part_number: number });
    if up.left.fetch_sub(1, Ordering::AcqRel) != 1 {
        return Ok(());
    }
    // The last part: complete the object.
    let mut list = std::mem::take(&mut *up.parts.lock().unwrap_or_else(|p| p.into_inner()));
    list.sort_by_key(|p| p.part_number);
    let c = Instant::now();
    let r = sh.bucket.complete_multipart_upload(&o.key, &id, list);
    t.io_ns += ns(c);
    r.map_err(|e| store::failed(e, &format!("complete multipart upload of {}", o.key), sh.store))?;
    sh.uploads.lock().unwrap_or_else(|p| p.into_inner()).remove(&(i as u64));
    t.objects += 1;
    t.multipart += 1;
    if let Some(s) = *up.started.lock().unwrap_or_else(|p| p.into_inner()) {
        record_ns(&mut t.object, ns(s));
    }
    Ok(())
}

/// Receives a GET body: notes the first byte's time and, to verify,
/// compares each piece with the stream as it arrives.
struct Sink<'a> {
    gen: &'a Generator,
    verify: bool,
    /// The object's first byte in the stream, and its size.
    base: u64,
    size: u64,
    pos: u64,
    first_wrong: Option<u64>,
    first_byte: Option<Instant>,
    generate_ns: u64,
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.first_byte.is_none() {
            self.first_byte = Some(Instant::now());
        }
        if self.verify && self.first_wrong.is_none() {
            let inside = self.size.saturating_sub(self.pos).min(buf.len() as u64) as usize;
            if inside > 0 {
                let g = Instant::now();
                match self.gen.verify_at(self.base + self.pos, &buf[..inside]) {
                    Ok(()) => {}
                    Err(Error::Mismatch { offset, .. }) => self.first_wrong = Some(offset - self.base),
                    Err(e) => return Err(std::io::Error::other(e.to_string())),
                }
                self.generate_ns += ns(g);
            }
            if inside < buf.len() && self.first_wrong.is_none() {
                // Bytes past the object's end.
                self.first_wrong = Some(self.size);
            }
        }
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn get_worker(sh: &Shared<'_>, t: &mut Tally) {
    let verify = sh.op == Op::Verify;
    loop {
        if sh.stopped() {
            return;
        }
        let i = sh.next.fetch_add(1, Ordering::Relaxed);
        let Some(o) = sh.objects.get(i as usize) else { return };
        let missing = || ObjectProblem {
            kind: ProblemKind::Missing,
            key: o.key.clone(),
            offset: None,
            expected_size: Some(o.size),
            size: None,
        };
        if verify && !sh.listed.contains_key(&o.key) {
            t.problems.push(missing());
            continue;
        }
        let mut sink = Sink {
            gen: sh.gen,
            verify,
            base: o.offset,
            size: o.size,
            pos: 0,
            first_wrong: None,
            first_byte: None,
            generate_ns: 0,
        };
        let io = Instant::now();
        let r = sh.bucket.get_object_to_writer(&o.key, &mut sink);
        let took = ns(io);
        t.timed(took, sink.generate_ns);
        match r {
            Ok(_) => {}
            Err(e) => {
                let f = store::failed(e, &format!("GET {}", o.key), sh.store);
                if verify && f.status == Some(404) {
                    // Deleted between the list and the GET.
                    t.problems.push(missing());
                    continue;
                }
                sh.fail(f);
                return;
            }
        }
        t.whole_object(sink.pos, took);
        if let Some(f) = sink.first_byte {
            record_ns(&mut t.first_byte, u64::try_from(f.duration_since(io).as_nanos()).unwrap_or(u64::MAX));
        }
        if !verify {
            continue;
        }
        let problem = |kind, offset| ObjectProblem {
            kind,
            key: o.key.clone(),
            offset: Some(offset),
            expected_size: Some(o.size),
            size: Some(sink.pos),
        };
        if sink.pos < o.size {
            t.problems.push(problem(ProblemKind::Short, sink.first_wrong.unwrap_or(sink.pos).min(sink.pos)));
        } else if let Some(w) = sink.first_wrong {
            t.problems.push(problem(ProblemKind::Wrong, w));
        }
    }
}
