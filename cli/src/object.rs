//! `dgen put`, `dgen get` and `dgen verify s3://...`: the library's object
//! runner (`dgen::object`) on an S3 bucket.

use clap::Args;
use dgen::object::{
    self, Layout, Naming, ObjectControl, ObjectError, ObjectErrorKind, ObjectOptions, ObjectReport, ObjectUrl,
    SizeDist, Store,
};

#[cfg(not(feature = "s3"))]
use absent::{get_objects, put_objects, verify_objects};
#[cfg(feature = "s3")]
use dgen::object::{get_objects, put_objects, verify_objects};

use crate::data::DataArgs;
use crate::out::us;
use crate::size::parse_size;
use crate::{Failure, Outcome};

fn size_arg(s: &str) -> Result<u64, String> {
    parse_size(s)
}

/// Which objects make the dataset, and where they are: the options `put`,
/// `get` and `verify s3://...` share.
#[derive(Args, Clone)]
pub struct ObjectArgs {
    /// Number of objects: object i is the stream's range after objects 0..i.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub objects: Option<u64>,
    /// Size of every object (or give --sizes).
    #[arg(long, value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub object_size: Option<u64>,
    /// Mixed sizes drawn from the seed: fixed:SIZE, uniform:MIN:MAX or
    /// lognormal:MEAN:SD (sizes as 1MiB).
    #[arg(long, value_name = "DIST", allow_hyphen_values = true)]
    pub sizes: Option<String>,
    /// Key template after the prefix, its {} replaced by the index
    /// (obj-{}.bin); default: the index zero-padded to 8 digits.
    #[arg(long, value_name = "TEMPLATE")]
    pub name: Option<String>,
    /// Bytes per part: larger objects go up as multipart uploads (at least
    /// 5 MiB, S3's smallest part).
    #[arg(long, default_value = "8MiB", value_parser = size_arg, value_name = "SIZE", allow_hyphen_values = true)]
    pub part_size: u64,
    /// S3 endpoint (http://127.0.0.1:7070); default: AWS_ENDPOINT_URL, else
    /// AWS.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Region; default: AWS_REGION, else us-east-1.
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
    /// Addressing: path (bucket in the path; the default with --endpoint)
    /// or virtual (bucket in the host name; the default on AWS).
    #[arg(long, value_name = "STYLE", value_parser = ["path", "virtual"])]
    pub addressing: Option<String>,
    /// Access key id; default: AWS_ACCESS_KEY_ID, else the profile.
    #[arg(long, value_name = "KEY")]
    pub access_key: Option<String>,
    /// Secret key (with --access-key); default: AWS_SECRET_ACCESS_KEY.
    #[arg(long, value_name = "SECRET")]
    pub secret_key: Option<String>,
    /// Profile of ~/.aws/credentials; default: AWS_PROFILE, else default.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

impl ObjectArgs {
    /// True when any option that only object storage takes was given.
    pub fn any(&self) -> bool {
        self.objects.is_some()
            || self.object_size.is_some()
            || self.sizes.is_some()
            || self.name.is_some()
            || self.endpoint.is_some()
            || self.region.is_some()
            || self.addressing.is_some()
            || self.access_key.is_some()
            || self.secret_key.is_some()
            || self.profile.is_some()
    }

    fn store(&self) -> Result<Store, Failure> {
        if self.secret_key.is_some() != self.access_key.is_some() {
            return Err(Failure::usage("--access-key and --secret-key go together"));
        }
        let store = Store {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            path_style: self.addressing.as_deref().map(|a| a == "path"),
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            session_token: None,
            profile: self.profile.clone(),
        };
        store.validate().map_err(|e| Failure::usage(format!("--endpoint: {}", e.message)))?;
        Ok(store)
    }

    fn layout(&self, url: &ObjectUrl, seed: u64) -> Result<Layout, Failure> {
        let count = self.objects.ok_or_else(|| Failure::usage("--objects N is needed: the number of objects"))?;
        let sizes = match (self.object_size, &self.sizes) {
            (Some(s), None) => SizeDist::Fixed(s),
            (None, Some(d)) => SizeDist::parse(d, parse_size).map_err(|e| Failure::usage(format!("--sizes: {e}")))?,
            (Some(_), Some(_)) => return Err(Failure::usage("--object-size and --sizes: give one of them")),
            (None, None) => return Err(Failure::usage("--object-size SIZE (or --sizes DIST) is needed")),
        };
        let naming = self.name.clone().map_or(Naming::Padded, Naming::Template);
        let layout = Layout { prefix: url.prefix.clone(), naming, count, sizes, seed };
        let opts = ObjectOptions { part_size: self.part_size, ..ObjectOptions::default() };
        opts.validate(&layout).map_err(|e| {
            let option = match e.field {
                Some("objects") => "--objects",
                Some("part_size") => "--part-size",
                Some("template") => "--name",
                _ if self.sizes.is_some() => "--sizes",
                _ => "--object-size",
            };
            Failure::usage(format!("{option}: {}", e.message))
        })?;
        Ok(layout)
    }
}

#[derive(Args)]
pub struct PutArgs {
    /// s3://BUCKET/PREFIX: the objects' keys start with PREFIX.
    pub url: String,
    #[command(flatten)]
    pub object: ObjectArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Requests in flight (whole objects or parts of large ones).
    #[arg(long, default_value_t = 8, value_name = "N", allow_hyphen_values = true)]
    pub jobs: usize,
    /// Create the bucket when it does not exist.
    #[arg(long)]
    pub create_bucket: bool,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct GetArgs {
    /// s3://BUCKET/PREFIX the objects were put to.
    pub url: String,
    #[command(flatten)]
    pub object: ObjectArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// GETs in flight.
    #[arg(long, default_value_t = 8, value_name = "N", allow_hyphen_values = true)]
    pub jobs: usize,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

fn parse_url(text: &str) -> Result<ObjectUrl, Failure> {
    ObjectUrl::parse(text).map_err(Failure::usage)
}

/// The pieces every object command builds before it runs.
struct Plan {
    url: ObjectUrl,
    store: Store,
    layout: Layout,
    gen: dgen::Generator,
    seed: u64,
    total: u64,
}

fn plan(url: &str, args: &ObjectArgs, data: &DataArgs, need_seed: bool) -> Result<Plan, Failure> {
    let url = parse_url(url)?;
    let store = args.store()?;
    if need_seed && data.seed.is_none() {
        return Err(Failure::usage(
            "--seed is needed: the one put printed (the objects' sizes and bytes follow from it)",
        ));
    }
    // The seed comes first: the sizes and so the dataset's size follow
    // from it. A generator of the endless stream draws it when none is given.
    let seed = match data.seed {
        Some(s) => s,
        None => data.generator(0)?.seed(),
    };
    let layout = args.layout(&url, seed)?;
    let total = layout.total().ok_or_else(|| Failure::usage("the objects add up to more than 2^64 - 1 bytes"))?;
    let mut with_seed = data.clone();
    with_seed.seed = Some(seed);
    let gen = with_seed.generator(total)?;
    Ok(Plan { url, store, layout, gen, seed, total })
}

/// The line of figures every run ends with.
fn figures(r: &ObjectReport) -> String {
    let what = match r.operation {
        object::ObjectOp::Put => "PUT",
        _ => "GET",
    };
    let mut text = format!(
        "dgen: {} objects, {} bytes, {} requests, {} job(s), part size {} MiB: {:.3} GB/s, {:.1} objects/s; {what} p50 {} \
         p99 {} max {}",
        r.objects,
        r.bytes,
        r.requests,
        r.jobs,
        r.part_size >> 20,
        r.gbps(),
        r.objects_per_second(),
        us(r.request_latency.p50),
        us(r.request_latency.p99),
        us(r.request_latency.max),
    );
    if r.operation != object::ObjectOp::Put {
        text += &format!(", first byte p50 {} p99 {}", us(r.first_byte.p50), us(r.first_byte.p99));
    }
    text + &format!("; {}", r.bottleneck())
}

fn print_json(r: &ObjectReport) {
    crate::out::outln!("{}", r.to_json());
}

/// The library's error as the command's failure, with the report printed
/// first when asked for and something ran.
fn failure(e: ObjectError, json: bool, seed: u64) -> Failure {
    let r = &e.report;
    if json && r.start_time > 0.0 {
        print_json(r);
    }
    let done = format!("{} of {} objects done", r.objects, r.objects_total);
    let aborted = if r.aborted_uploads + r.abort_failed > 0 {
        let mut t = format!(", {} unfinished multipart upload(s) aborted", r.aborted_uploads);
        if r.abort_failed > 0 {
            t += &format!(", {} could not be aborted", r.abort_failed);
        }
        t
    } else {
        String::new()
    };
    match e.kind {
        ObjectErrorKind::InvalidOption => Failure::usage(e.message),
        ObjectErrorKind::Interrupted => Failure::interrupted(format!("interrupted: {done}{aborted}, seed {seed}")),
        ObjectErrorKind::Auth | ObjectErrorKind::NoBucket if r.start_time == 0.0 => {
            Failure::runtime(crate::in_flags(&e.message))
        }
        _ => Failure::runtime(format!("{}; {done}{aborted}, seed {seed}", crate::in_flags(&e.message))),
    }
}

/// The run's options, checked (the layout's were, so `--jobs` is what can
/// be wrong), with the report's standard output open when `--json` asks.
fn options(p: &Plan, jobs: usize, part_size: u64, create_bucket: bool, json: bool) -> Result<ObjectOptions, Failure> {
    let opts = ObjectOptions { jobs, part_size, create_bucket };
    opts.validate(&p.layout).map_err(|e| Failure::usage(format!("--jobs: {}", e.message)))?;
    crate::data::check_report_output(json)?;
    Ok(opts)
}

fn control<'a>(started: &'a dyn Fn(&ObjectReport)) -> ObjectControl<'a> {
    crate::catch_signals();
    ObjectControl { cancel: Some(&crate::INTERRUPTED), started: Some(started) }
}

pub fn put(args: &PutArgs) -> Outcome {
    let p = plan(&args.url, &args.object, &args.data, false)?;
    let opts = options(&p, args.jobs, args.object.part_size, args.create_bucket, args.json)?;
    // The seed line once the bucket has answered, so that a refused run
    // (credentials, a missing bucket) stays one line.
    let started = |_: &ObjectReport| {
        eprintln!(
            "dgen: seed {}: putting {} objects ({} bytes) to {} on {}",
            p.seed,
            p.layout.count,
            p.total,
            p.url,
            endpoint(&p.store)
        )
    };
    let r = put_objects(&p.gen, &p.store, &p.url, &p.layout, &opts, &control(&started))
        .map_err(|e| failure(e, args.json, p.seed))?;
    if args.json {
        print_json(&r);
    }
    eprintln!("{}", figures(&r));
    eprintln!(
        "dgen: put {} objects ({} bytes) in {:.2} s ({:.3} GB/s), seed {}",
        r.objects,
        r.bytes,
        r.seconds,
        r.gbps(),
        p.seed
    );
    Ok(())
}

pub fn get(args: &GetArgs) -> Outcome {
    let p = plan(&args.url, &args.object, &args.data, true)?;
    let opts = options(&p, args.jobs, args.object.part_size, false, args.json)?;
    let started = |_: &ObjectReport| {
        eprintln!("dgen: seed {}: getting {} objects ({} bytes) from {}", p.seed, p.layout.count, p.total, p.url)
    };
    let r = get_objects(&p.gen, &p.store, &p.url, &p.layout, &opts, &control(&started))
        .map_err(|e| failure(e, args.json, p.seed))?;
    if args.json {
        print_json(&r);
    }
    eprintln!("{}", figures(&r));
    eprintln!("dgen: got {} objects ({} bytes) in {:.2} s ({:.3} GB/s)", r.objects, r.bytes, r.seconds, r.gbps());
    Ok(())
}

/// `dgen verify s3://...`: `jobs` and `json` come from verify's own options.
pub fn verify(url: &str, args: &ObjectArgs, data: &DataArgs, jobs: usize, json: bool) -> Outcome {
    let p = plan(url, args, data, true)?;
    let opts = options(&p, jobs, args.part_size, false, json)?;
    let started = |_: &ObjectReport| {
        eprintln!("dgen: seed {}: verifying {} objects ({} bytes) under {}", p.seed, p.layout.count, p.total, p.url)
    };
    let r = verify_objects(&p.gen, &p.store, &p.url, &p.layout, &opts, &control(&started))
        .map_err(|e| failure(e, json, p.seed))?;
    if json {
        print_json(&r);
    }
    eprintln!("{}", figures(&r));
    if let Some(problem) = r.problem() {
        for line in r.problems.iter().take(50) {
            eprintln!("dgen: {line}");
        }
        if r.problems.len() > 50 {
            eprintln!("dgen: ... ({} more listed in --json)", r.problems.len() - 50);
        }
        return Err(Failure::runtime(format!("{}: {problem}", p.url)));
    }
    eprintln!(
        "dgen: {}: all {} objects ({} bytes) match (seed {}), {:.2} s ({:.3} GB/s)",
        p.url,
        r.objects,
        r.bytes,
        p.seed,
        r.seconds,
        r.gbps()
    );
    Ok(())
}

fn endpoint(store: &Store) -> String {
    store
        .endpoint
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "AWS S3".into())
}

/// A dgen built without the `s3` feature has the commands but no client:
/// each says so in one line.
#[cfg(not(feature = "s3"))]
mod absent {
    use dgen::object::{
        Layout, ObjectControl, ObjectError, ObjectErrorKind, ObjectOp, ObjectOptions, ObjectReport, ObjectUrl, Store,
    };
    use dgen::Generator;

    fn absent(op: ObjectOp) -> Result<ObjectReport, ObjectError> {
        Err(ObjectError {
            kind: ObjectErrorKind::InvalidOption,
            field: None,
            message: "this dgen was built without object storage (cargo feature s3)".into(),
            report: Box::new(ObjectReport::new(op, "", 0)),
        })
    }

    /// A stand-in with the signature of the library's runner `$name`.
    macro_rules! stand_in {
        ($name:ident, $op:expr) => {
            pub fn $name(
                _: &Generator,
                _: &Store,
                _: &ObjectUrl,
                _: &Layout,
                _: &ObjectOptions,
                _: &ObjectControl<'_>,
            ) -> Result<ObjectReport, ObjectError> {
                absent($op)
            }
        };
    }

    stand_in!(put_objects, ObjectOp::Put);
    stand_in!(get_objects, ObjectOp::Get);
    stand_in!(verify_objects, ObjectOp::Verify);
}
