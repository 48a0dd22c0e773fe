//! The body of a PUT or part upload, streamed from the generator into the
//! socket with `UNSIGNED-PAYLOAD`: the request is signed (SigV4) but the body
//! is not hashed. rust-s3's own PUT hashes every body twice (SHA-256 to sign
//! it, MD5 for Content-MD5) and copies it once, and the server then hashes it
//! twice more to check: on a 2-core machine that CPU is taken from the server
//! and halves the throughput. Data integrity is what `verify` is for: it
//! checks every byte against the stream.
//!
//! rust-s3 still builds the URL (addressing, part number, upload id) and the
//! signing pieces (`s3::signing`), so the request is the one its own PUT
//! would be, less the payload hashes.

use std::io::Write;
use std::time::Instant;

use hmac::Mac;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use s3::command::{Command, Multipart};
use s3::error::S3Error;
use s3::request::blocking::AttoRequest;
use s3::request::Request;
use s3::{signing, Bucket};

use crate::generator::Generator;

const UNSIGNED: &str = "UNSIGNED-PAYLOAD";

/// Bytes generated and written at a time: the body is never whole in
/// memory, whatever the part size.
pub(crate) const CHUNK: usize = 1 << 20;

/// A body of `len` bytes of the stream from `offset`, generated a chunk at a
/// time as the socket takes it.
struct GenBody<'a> {
    gen: &'a Generator,
    offset: u64,
    len: u64,
    chunk: &'a mut Vec<u8>,
    generate_ns: &'a mut u64,
}

impl attohttpc::body::Body for GenBody<'_> {
    fn kind(&mut self) -> std::io::Result<attohttpc::body::BodyKind> {
        Ok(attohttpc::body::BodyKind::KnownLength(self.len))
    }

    fn write<W: Write>(&mut self, mut writer: W) -> std::io::Result<()> {
        let mut done = 0u64;
        while done < self.len {
            let n = (self.len - done).min(CHUNK as u64) as usize;
            if self.chunk.len() < n {
                self.chunk.resize(n, 0);
            }
            let g = Instant::now();
            self.gen
                .fill_at(self.offset + done, &mut self.chunk[..n])
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            *self.generate_ns += u64::try_from(g.elapsed().as_nanos()).unwrap_or(u64::MAX);
            writer.write_all(&self.chunk[..n])?;
            done += n as u64;
        }
        Ok(())
    }
}

fn header(v: &str) -> Result<HeaderValue, S3Error> {
    Ok(v.parse()?)
}

/// PUTs `len` bytes of the stream from `offset` to `key` (as part `part` of
/// the upload `upload_id`, when given). Returns the ETag, and adds the time
/// spent generating to `generate_ns`; `chunk` is the worker's buffer.
#[allow(clippy::too_many_arguments)]
pub(crate) fn put_stream(
    bucket: &Bucket,
    key: &str,
    part: Option<(u32, &str)>,
    gen: &Generator,
    offset: u64,
    len: u64,
    chunk: &mut Vec<u8>,
    generate_ns: &mut u64,
) -> Result<String, S3Error> {
    let command = Command::PutObject {
        content: &[],
        multipart: part.map(|(n, id)| Multipart::new(n, id)),
        custom_headers: None,
        content_type: super::run::CONTENT_TYPE,
    };
    // Refreshes expiring credentials and stamps the request's time.
    let request = AttoRequest::new(bucket, key, command)?;
    let url = request.url()?;
    let mut headers = HeaderMap::new();
    headers.insert(HOST, header(&request.host_header())?);
    headers.insert(CONTENT_LENGTH, header(&len.to_string())?);
    headers.insert(CONTENT_TYPE, header(super::run::CONTENT_TYPE)?);
    headers.insert(HeaderName::from_static("x-amz-content-sha256"), header(UNSIGNED)?);
    headers.insert(HeaderName::from_static("x-amz-date"), header(&request.long_date()?)?);
    if let Some(token) = bucket.session_token()?.or(bucket.security_token()?) {
        headers.insert(HeaderName::from_static("x-amz-security-token"), header(&token)?);
    }
    let region = bucket.region();
    let canonical = signing::canonical_request("PUT", &url, &headers, UNSIGNED)?;
    let to_sign = signing::string_to_sign(&request.datetime, &region, &canonical)?;
    let secret = bucket.secret_key()?.unwrap_or_default();
    let mut mac =
        signing::HmacSha256::new_from_slice(&signing::signing_key(&request.datetime, &secret, &region, "s3")?)?;
    mac.update(to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let access = bucket.access_key()?.unwrap_or_default();
    let auth = signing::authorization_header(
        &access,
        &request.datetime,
        &region,
        &signing::signed_header_string(&headers),
        &signature,
    )?;
    headers.insert(http::header::AUTHORIZATION, header(&auth)?);

    let mut builder = attohttpc::put(url.as_str());
    for (name, value) in headers.iter() {
        builder = builder.header(name, value);
    }
    if let Some(timeout) = bucket.request_timeout {
        builder = builder.timeout(timeout);
    }
    let body = GenBody { gen, offset, len, chunk, generate_ns };
    let response = builder.body(body).send()?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let text = response.text().unwrap_or_default();
        return Err(S3Error::HttpFailWithBody(status, text));
    }
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    Ok(etag)
}
