//! The S3 client: a `rust-s3` bucket handle from a [`Store`] and a URL, and
//! its errors in the words of [`ObjectError`].

use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, Region};

use super::{ObjectErrorKind, ObjectUrl, Store};

/// A failed request: the kind and one line.
#[derive(Debug)]
pub(crate) struct Failed {
    pub kind: ObjectErrorKind,
    pub message: String,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
}

fn env(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// The endpoint the store talks to, for messages.
pub(crate) fn endpoint_name(store: &Store) -> String {
    store
        .endpoint
        .clone()
        .or_else(|| env(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]))
        .unwrap_or_else(|| "AWS S3".to_string())
}

/// A bucket handle for `url` on `store`.
pub(crate) fn open(store: &Store, url: &ObjectUrl) -> Result<Box<Bucket>, Failed> {
    let invalid = |message: String| Failed { kind: ObjectErrorKind::InvalidOption, message, status: None };
    let region_name = store.region.clone().or_else(|| env(&["AWS_REGION", "AWS_DEFAULT_REGION"]));
    let endpoint = store.endpoint.clone().or_else(|| env(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]));
    let region = match &endpoint {
        Some(e) => {
            let rest = e.strip_prefix("http://").or_else(|| e.strip_prefix("https://"));
            if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                return Err(invalid(format!("endpoint {e:?} is not a URL (http://HOST:PORT or https://HOST)")));
            }
            Region::Custom {
                region: region_name.unwrap_or_else(|| "us-east-1".into()),
                endpoint: e.trim_end_matches('/').to_string(),
            }
        }
        None => {
            let name = region_name.unwrap_or_else(|| "us-east-1".into());
            name.parse::<Region>().map_err(|e| invalid(format!("region {name:?}: {e}")))?
        }
    };
    let credentials = Credentials::new(
        store.access_key.as_deref(),
        store.secret_key.as_deref(),
        None,
        store.session_token.as_deref(),
        store.profile.as_deref(),
    )
    .map_err(|e| Failed {
        kind: ObjectErrorKind::Auth,
        message: format!(
            "no credentials ({e}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile in ~/.aws/credentials, \
             or give the keys"
        ),
        status: None,
    })?;
    let bucket = Bucket::new(&url.bucket, region, credentials).map_err(|e| invalid(format!("bucket: {e}")))?;
    let path_style = store.path_style.unwrap_or(endpoint.is_some());
    Ok(if path_style { bucket.with_path_style() } else { bucket })
}

/// The `<Code>` and `<Message>` of an S3 error body, when it has them.
fn error_code(body: &str) -> String {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].trim().to_string())
    };
    match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) if !m.is_empty() => format!("{c}: {m}"),
        (Some(c), _) => c,
        _ => String::new(),
    }
}

/// `e`, from a request about `what`, as a kind and one line.
pub(crate) fn failed(e: S3Error, what: &str, store: &Store) -> Failed {
    match e {
        S3Error::HttpFailWithBody(status, body) => {
            let code = error_code(&body);
            let kind = match status {
                401 | 403 => ObjectErrorKind::Auth,
                404 if code.starts_with("NoSuchBucket") => ObjectErrorKind::NoBucket,
                _ => ObjectErrorKind::Io,
            };
            let reason = match status {
                401 => " Unauthorized",
                403 => " Forbidden",
                404 => " Not Found",
                _ => "",
            };
            let detail = if code.is_empty() { String::new() } else { format!(" ({code})") };
            let hint = if kind == ObjectErrorKind::Auth { ": check the access key and secret" } else { "" };
            Failed { kind, message: format!("{what}: HTTP {status}{reason}{detail}{hint}"), status: Some(status) }
        }
        S3Error::Atto(e) => Failed {
            kind: ObjectErrorKind::Io,
            message: format!("{what}: cannot reach {}: {e}", endpoint_name(store)),
            status: None,
        },
        S3Error::Io(e) => Failed { kind: ObjectErrorKind::Io, message: format!("{what}: {e}"), status: None },
        other => Failed { kind: ObjectErrorKind::Io, message: format!("{what}: {other}"), status: None },
    }
}
