//! What awsso accepts from Identity Center before the SDK reads it: a small body cap per operation (a
//! 300 MB answer is refused after its first kilobytes, not buffered), no redirects, and the words that
//! explain an answer the SDK could not read (malformed JSON, not UTF-8) by operation and cause.
//!
//! The cap is an SDK interceptor that wraps the response body before deserialisation, so it holds for
//! every call of every client (OIDC, portal, sso-admin) whatever the transport.
use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

use hyper::body::{Body, Bytes, Frame, SizeHint};

/// The largest answer each operation may send. Real answers are a few kilobytes (a ListAccounts page of
/// 100 accounts is ~40 KB); the caps leave ample room and still bound memory.
pub fn body_cap(op: &str) -> usize {
    match op {
        "ListAccounts" => 2 << 20,
        "ListAccountRoles" => 512 << 10,
        "RegisterClient" | "CreateToken" | "GetRoleCredentials" => 64 << 10,
        "StartDeviceAuthorization" | "Logout" => 16 << 10,
        _ => 1 << 20,
    }
}

/// An answer refused before the SDK parsed it.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the answer is larger than {} KiB (Content-Length {length})", limit >> 10)]
    DeclaredTooLarge { limit: usize, length: u64 },
    #[error("the answer is larger than {} KiB", limit >> 10)]
    TooLarge { limit: usize },
    #[error("Identity Center answered with a redirect (HTTP {status}{}); its API never redirects", location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default())]
    Redirect {
        status: u16,
        location: Option<String>,
    },
}

/// The interceptor every SDK client of awsso carries (see `client.rs`).
#[derive(Debug)]
pub struct AnswerGuard;

impl Intercept for AnswerGuard {
    fn name(&self) -> &'static str {
        "awsso::AnswerGuard"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let limit = body_cap(cfg.load::<Metadata>().map(Metadata::name).unwrap_or(""));
        let response = context.response_mut();
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            let location = response
                .headers()
                .get("location")
                .map(|l| crate::output::sanitize(l, 200));
            return Err(Refused::Redirect { status, location }.into());
        }
        if let Some(length) = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok())
            && length > limit as u64
        {
            return Err(Refused::DeclaredTooLarge { limit, length }.into());
        }
        let body = response.take_body();
        *response.body_mut() = SdkBody::from_body_1_x(Capped {
            inner: body,
            left: limit,
            limit,
        });
        Ok(())
    }
}

/// A body that fails once more than `limit` bytes have come.
struct Capped {
    inner: SdkBody,
    left: usize,
    limit: usize,
}

impl Body for Capped {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if data.len() > this.left {
                        return Poll::Ready(Some(Err(
                            Refused::TooLarge { limit: this.limit }.into()
                        )));
                    }
                    this.left -= data.len();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        Body::size_hint(&self.inner)
    }
}

/// The [`Refused`] somewhere in an error's chain.
pub fn refused_in<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a Refused> {
    let mut cur: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

/// Why a 2xx answer could not be read: what a person can act on, not the SDK's "unhandled error".
pub fn describe_unreadable(body: Option<&[u8]>) -> String {
    let Some(body) = body else {
        return "the answer could not be read".into();
    };
    if body.is_empty() {
        return "the answer is empty".into();
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return "the answer is not UTF-8 text".into();
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => format!("the answer is not valid JSON ({e})"),
        Ok(v) if !v.is_object() => "the answer is not a JSON object".into(),
        Ok(_) => "the answer has fields of the wrong type".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_answers_are_named() {
        assert_eq!(describe_unreadable(Some(b"")), "the answer is empty");
        assert_eq!(
            describe_unreadable(Some(b"\xff\xfe")),
            "the answer is not UTF-8 text"
        );
        assert!(describe_unreadable(Some(b"{\"a\":")).starts_with("the answer is not valid JSON"));
        assert_eq!(
            describe_unreadable(Some(b"[1]")),
            "the answer is not a JSON object"
        );
    }

    #[test]
    fn caps_are_small_but_roomy() {
        assert!(body_cap("GetRoleCredentials") >= 16 << 10);
        assert!(body_cap("ListAccounts") <= 4 << 20);
    }
}
