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
use serde::{Deserialize, Serialize};
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
/// | {"huge": bytes} | {"redirect": "url"}}}`, for `POST /_sim/config` under the key `hostile` (which
/// replaces all of [`Hostile`]); `GET /_sim/config` shows raw bytes as `raw_hex`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostileJson {
    #[serde(default)]
    role_names: Option<Vec<String>>,
    #[serde(default)]
    answers: BTreeMap<String, SpoilJson>,
}

/// One spoil: an object with exactly one of these keys.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum SpoilJson {
    Set(serde_json::Map<String, Value>),
    #[serde(skip_serializing)]
    Raw(String),
    RawHex(String),
    Huge(u64),
    Redirect(String),
}

impl TryFrom<HostileJson> for Hostile {
    type Error = String;

    fn try_from(h: HostileJson) -> Result<Self, String> {
        let answers = h
            .answers
            .into_iter()
            .map(|(op, spoil)| Ok((op, Spoil::try_from(spoil)?)))
            .collect::<Result<_, String>>()?;
        Ok(Hostile {
            role_names: h.role_names,
            answers,
        })
    }
}

impl TryFrom<SpoilJson> for Spoil {
    type Error = String;

    fn try_from(s: SpoilJson) -> Result<Self, String> {
        Ok(match s {
            SpoilJson::Set(sets) => Spoil::Set(sets.into_iter().collect()),
            SpoilJson::Raw(text) => Spoil::Raw(text.into_bytes()),
            SpoilJson::RawHex(hex) => (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|b| u8::from_str_radix(b, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .map(Spoil::Raw)
                .ok_or("raw_hex must be hex digits")?,
            SpoilJson::Huge(n) => Spoil::Huge(n),
            SpoilJson::Redirect(location) => Spoil::Redirect(location),
        })
    }
}

impl From<&Hostile> for HostileJson {
    fn from(h: &Hostile) -> Self {
        let answers = h
            .answers
            .iter()
            .map(|(op, s)| {
                let v = match s {
                    Spoil::Set(sets) => SpoilJson::Set(sets.iter().cloned().collect()),
                    Spoil::Raw(b) => {
                        SpoilJson::RawHex(b.iter().map(|x| format!("{x:02x}")).collect())
                    }
                    Spoil::Huge(n) => SpoilJson::Huge(*n),
                    Spoil::Redirect(l) => SpoilJson::Redirect(l.clone()),
                };
                (op.clone(), v)
            })
            .collect();
        HostileJson {
            role_names: h.role_names.clone(),
            answers,
        }
    }
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
        let from_json = |v: Value| {
            serde_json::from_value::<HostileJson>(v)
                .map_err(|e| e.to_string())
                .and_then(Hostile::try_from)
        };
        let h = from_json(json!({
            "role_names": ["-x"],
            "answers": {"CreateToken": {"set": {"/expiresIn": 0}}, "ListAccounts": {"raw_hex": "ff00"},
                        "GetRoleCredentials": {"huge": 10}, "Logout": {"redirect": "http://x/"}}
        }))
        .unwrap();
        assert_eq!(h.answers["ListAccounts"], Spoil::Raw(vec![0xff, 0]));
        let shown = serde_json::to_value(HostileJson::from(&h)).unwrap();
        assert_eq!(shown["answers"]["ListAccounts"], json!({"raw_hex": "ff00"}));
        assert_eq!(from_json(shown).unwrap(), h);
        assert!(from_json(json!({"nope": 1})).is_err());
        assert!(from_json(json!({"answers": {"X": {"raw": "a", "huge": 1}}})).is_err());
        assert!(from_json(json!({"answers": {"X": {"raw_hex": "f"}}})).is_err());
        assert_eq!(
            from_json(json!({"answers": {"X": {"raw": "é"}}}))
                .unwrap()
                .answers["X"],
            Spoil::Raw("é".as_bytes().to_vec())
        );
    }
}
