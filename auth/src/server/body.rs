//! Reading a small request body, and refusing one too large so that the client hears it.
//!
//! A refusal sent before the body was read must close the connection (`Connection: close`):
//! otherwise a keep-alive client sends its next request on a socket the server then drops,
//! and loses it. And a server that closes while the client is still sending makes the kernel
//! answer with a reset that can destroy the refusal unread; so a bounded amount more is read
//! and dropped first.
use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, HeaderValue, header},
    response::Response,
};
use http_body_util::BodyExt as _;

/// At most this much of a refused body is read (and dropped) before the answer…
const DRAIN_BYTES: usize = 8 * 1024 * 1024;
/// …for at most this long.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// The body was larger than the limit.
#[derive(Debug)]
pub(crate) struct TooLargeBody;

/// `body`, if it is at most `limit` bytes. A body declared (`Content-Length`) or found larger
/// is refused, after the bounded drain above.
pub(crate) async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, TooLargeBody> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    let mut body = body;
    if declared.is_none_or(|length| length <= limit as u64) {
        let mut read = Vec::new();
        loop {
            match body.frame().await {
                None => return Ok(Bytes::from(read)),
                Some(Err(_)) => return Err(TooLargeBody),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        read.extend_from_slice(&data);
                        if read.len() > limit {
                            break;
                        }
                    }
                }
            }
        }
    }
    drain(body).await;
    Err(TooLargeBody)
}

/// Reads and drops what is left of `body`, within the bounds above.
async fn drain(mut body: Body) {
    let reading = async {
        let mut dropped = 0;
        while dropped <= DRAIN_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => dropped += frame.data_ref().map_or(0, Bytes::len),
                _ => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, reading).await;
}

/// `response`, closing the connection after it: for answers given before the body was read.
pub(crate) fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
