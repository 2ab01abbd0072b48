//! Hostile answers: the knobs that make the simulator answer as a broken or malicious Identity Center
//! would, to prove that awsso refuses such answers clearly instead of using them, hanging or panicking.
//!
//! A spoiled operation is still handled normally first (state changes, counters), then its successful
//! answer is altered: fields overwritten by JSON pointer, the body replaced by raw bytes, padded to a
//! huge size (streamed, never held in memory), or turned into a redirect.
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use serde_json::Value;

/// How the successful answer of one operation is spoiled.
#[derive(Debug, Clone, PartialEq)]
pub enum Spoil {
    /// Overwrite fields by JSON pointer, e.g. `("/accountList/0/accountId", "1".repeat(70_000))`; a
    /// pointer into an array or object that does not exist is ignored.
    Set(Vec<(String, Value)>),
    /// Answer 200 with exactly these bytes (malformed JSON, not UTF-8, …).
    Raw(Vec<u8>),
    /// Answer 200 with a JSON document of about this many bytes: the normal answer with a string field
    /// `"padding"` that makes up the size. Streamed in chunks.
    Huge(u64),
    /// Answer `302 Found` with this `Location`.
    Redirect(String),
}

/// The hostile knobs of [`crate::SimConfig`]. Empty by default: the simulator behaves.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hostile {
    /// Role names served to every account instead of the generated ones (they can be used with
    /// GetRoleCredentials too), e.g. `-x` or `Adm$(touch /tmp/p)`.
    pub role_names: Option<Vec<String>>,
    /// Per operation name (`CreateToken`, `GetRoleCredentials`, `ListAccounts`, …; a grant-specific
    /// `CreateToken.device_code` works as well), how its successful answers are spoiled.
    pub answers: BTreeMap<String, Spoil>,
}

impl Hostile {
    /// The spoil for the first of `ops` that has one.
    pub(crate) fn spoil_for(&self, ops: &[&str]) -> Option<&Spoil> {
        ops.iter().find_map(|op| self.answers.get(*op))
    }
}

/// Applies [`Spoil::Set`] to an answer.
pub(crate) fn apply_set(mut v: Value, sets: &[(String, Value)]) -> Value {
    for (pointer, value) in sets {
        if let Some(slot) = v.pointer_mut(pointer) {
            *slot = value.clone();
        } else if let Some((parent, key)) = pointer.rsplit_once('/')
            && let Some(Value::Object(map)) = v.pointer_mut(parent)
        {
            map.insert(key.to_owned(), value.clone());
        }
    }
    v
}

/// A body of `prefix`, `filler` bytes of `a`, then `suffix`, produced chunk by chunk.
pub(crate) struct PaddedBody {
    prefix: Option<Bytes>,
    left: u64,
    suffix: Option<Bytes>,
}

const CHUNK: Bytes = Bytes::from_static(&[b'a'; 64 * 1024]);

impl PaddedBody {
    /// `answer` (a JSON object) grown to about `size` bytes by a `"padding"` string field.
    pub(crate) fn new(answer: &Value, size: u64) -> PaddedBody {
        let mut text = answer.to_string();
        // `{…}` → `{…,"padding":"` + filler + `"}`; an empty object gets no comma.
        text.pop();
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str("\"padding\":\"");
        let suffix = "\"}";
        let filler = size.saturating_sub((text.len() + suffix.len()) as u64);
        PaddedBody {
            prefix: Some(Bytes::from(text)),
            left: filler,
            suffix: Some(Bytes::from_static(suffix.as_bytes())),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.prefix.as_ref().map_or(0, |b| b.len() as u64)
            + self.left
            + self.suffix.as_ref().map_or(0, |b| b.len() as u64)
    }
}

impl Body for PaddedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(p) = self.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(p))));
        }
        if self.left > 0 {
            let n = self.left.min(CHUNK.len() as u64);
            self.left -= n;
            return Poll::Ready(Some(Ok(Frame::data(CHUNK.slice(..n as usize)))));
        }
        Poll::Ready(self.suffix.take().map(|s| Ok(Frame::data(s))))
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.left == 0 && self.suffix.is_none()
    }

    // No exact size: the answer goes out chunked, without a Content-Length a client could refuse up
    // front, so that only a cap on what is read protects it.
    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// `{"role_names": [...], "answers": {"Op": {"set": {"/ptr": v}} | {"raw": "text"} | {"raw_hex": "ff"}
/// | {"huge": bytes} | {"redirect": "url"}}}`, for `POST /_sim/config` under the key `hostile`.
pub(crate) fn from_json(v: &Value) -> Result<Hostile, String> {
    let obj = v.as_object().ok_or("hostile must be an object")?;
    let mut h = Hostile::default();
    for (key, v) in obj {
        match key.as_str() {
            "role_names" => {
                h.role_names = match v {
                    Value::Null => None,
                    _ => Some(
                        v.as_array()
                            .ok_or("hostile.role_names must be a list of strings")?
                            .iter()
                            .map(|r| r.as_str().map(str::to_owned))
                            .collect::<Option<_>>()
                            .ok_or("hostile.role_names must be a list of strings")?,
                    ),
                }
            }
            "answers" => {
                let answers = v.as_object().ok_or("hostile.answers must be an object")?;
                for (op, spoil) in answers {
                    h.answers.insert(op.clone(), spoil_from_json(spoil)?);
                }
            }
            other => return Err(format!("unknown hostile key {other:?}")),
        }
    }
    Ok(h)
}

fn spoil_from_json(v: &Value) -> Result<Spoil, String> {
    let obj = v.as_object().filter(|o| o.len() == 1).ok_or(
        "a hostile answer is one of {\"set\": {…}}, {\"raw\": …}, {\"raw_hex\": …}, {\"huge\": n}, {\"redirect\": …}",
    )?;
    let (kind, v) = obj.iter().next().expect("one entry");
    Ok(match kind.as_str() {
        "set" => Spoil::Set(
            v.as_object()
                .ok_or("set must map JSON pointers to values")?
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        "raw" => Spoil::Raw(
            v.as_str()
                .ok_or("raw must be a string")?
                .as_bytes()
                .to_vec(),
        ),
        "raw_hex" => {
            let hex = v.as_str().ok_or("raw_hex must be a string")?;
            (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|b| u8::from_str_radix(b, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .map(Spoil::Raw)
                .ok_or("raw_hex must be hex digits")?
        }
        "huge" => Spoil::Huge(v.as_u64().ok_or("huge must be a byte count")?),
        "redirect" => Spoil::Redirect(v.as_str().ok_or("redirect must be a string")?.to_owned()),
        other => return Err(format!("unknown hostile answer kind {other:?}")),
    })
}

pub(crate) fn to_json(h: &Hostile) -> Value {
    let answers: serde_json::Map<String, Value> = h
        .answers
        .iter()
        .map(|(op, s)| {
            let v = match s {
                Spoil::Set(sets) => serde_json::json!({"set": sets.iter().cloned().collect::<serde_json::Map<_, _>>()}),
                Spoil::Raw(b) => serde_json::json!({"raw_hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>()}),
                Spoil::Huge(n) => serde_json::json!({"huge": n}),
                Spoil::Redirect(l) => serde_json::json!({"redirect": l}),
            };
            (op.clone(), v)
        })
        .collect();
    serde_json::json!({"role_names": h.role_names, "answers": answers})
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use serde_json::json;

    #[test]
    fn set_overwrites_and_adds_fields() {
        let v = json!({"accountList": [{"accountId": "1"}], "x": {}});
        let v = apply_set(
            v,
            &[
                ("/accountList/0/accountId".into(), json!("2")),
                ("/x/new".into(), json!(3)),
                ("/nothing/here".into(), json!(4)),
            ],
        );
        assert_eq!(
            v,
            json!({"accountList": [{"accountId": "2"}], "x": {"new": 3}})
        );
    }

    #[test]
    fn padded_bodies_are_json_of_the_asked_size() {
        let body = PaddedBody::new(&json!({"a": 1}), 200_000);
        assert_eq!(body.len(), 200_000);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt.block_on(body.collect()).unwrap().to_bytes();
        assert_eq!(bytes.len(), 200_000);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["a"], 1);
    }

    #[test]
    fn json_round_trips() {
        let h = from_json(&json!({
            "role_names": ["-x"],
            "answers": {"CreateToken": {"set": {"/expiresIn": 0}}, "ListAccounts": {"raw_hex": "ff00"},
                        "GetRoleCredentials": {"huge": 10}, "Logout": {"redirect": "http://x/"}}
        }))
        .unwrap();
        assert_eq!(h.answers["ListAccounts"], Spoil::Raw(vec![0xff, 0]));
        assert_eq!(from_json(&to_json(&h)).unwrap(), h);
        assert!(from_json(&json!({"nope": 1})).is_err());
    }
}
