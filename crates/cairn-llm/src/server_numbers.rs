//! Numbers a server sends, read so that no value can crash Cairn or overflow a sum.
//!
//! Servers are not trusted to send sensible numbers: a header may say `retry-after-ms: 1e300`,
//! `NaN` or `-5`, a usage object may carry a negative, fractional or 30-digit token count.
//! Delays are ignored when they are not a number of seconds at all and capped at
//! [`LONGEST_SERVER_DELAY`] when they are too long to be meant; token counts are clamped into
//! `u64` and added with saturation. The retry policy then applies its own, smaller cap
//! (`max_retry_after`, 60 s by default).

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// The longest delay a server-sent number is read as (one day). Only keeps the arithmetic
/// finite; the retry policy's `max_retry_after` is what bounds an actual wait.
pub(crate) const LONGEST_SERVER_DELAY: Duration = Duration::from_secs(86_400);

/// `secs` as a delay: `None` when it is not a number of seconds (NaN, infinite, negative),
/// at most [`LONGEST_SERVER_DELAY`].
pub(crate) fn seconds_from_server(secs: f64) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let longest = LONGEST_SERVER_DELAY.as_secs_f64();
    Some(Duration::from_secs_f64(secs.min(longest)))
}

/// A token count from a usage object: any JSON number, clamped into `u64` (negative ones and
/// fractions are rounded into range, huge ones saturate); anything else (a string, `null`)
/// counts as absent, so one odd field does not make the whole chunk unreadable.
pub(crate) fn token_count<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(match value {
        serde_json::Value::Number(number) => Some(match number.as_u64() {
            Some(count) => count,
            // Negative integers and floats: `as` saturates (and maps NaN to 0, which JSON
            // cannot carry anyway).
            None => number.as_f64().map_or(0, |count| count as u64),
        }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn delays_are_ignored_or_capped_never_a_panic() {
        assert_eq!(seconds_from_server(1.5), Some(Duration::from_millis(1500)));
        assert_eq!(seconds_from_server(0.0), Some(Duration::ZERO));
        assert_eq!(seconds_from_server(1e300), Some(LONGEST_SERVER_DELAY));
        assert_eq!(seconds_from_server(f64::MAX), Some(LONGEST_SERVER_DELAY));
        assert_eq!(
            seconds_from_server(99_999_999_999.0),
            Some(LONGEST_SERVER_DELAY)
        );
        assert_eq!(seconds_from_server(f64::INFINITY), None);
        assert_eq!(seconds_from_server(f64::NAN), None);
        assert_eq!(seconds_from_server(-5.0), None);
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Usage {
        #[serde(default, deserialize_with = "token_count")]
        tokens: Option<u64>,
    }

    #[test]
    fn token_counts_of_every_shape() {
        let read = |json: &str| serde_json::from_str::<Usage>(json).unwrap().tokens;
        assert_eq!(read(r#"{"tokens": 12}"#), Some(12));
        assert_eq!(read(r#"{"tokens": -3}"#), Some(0));
        assert_eq!(read(r#"{"tokens": 2.7}"#), Some(2));
        assert_eq!(read(r#"{"tokens": 1e300}"#), Some(u64::MAX));
        assert_eq!(
            read(r#"{"tokens": 123456789012345678901234567890}"#),
            Some(u64::MAX)
        );
        assert_eq!(read(r#"{"tokens": "12"}"#), None);
        assert_eq!(read(r#"{"tokens": null}"#), None);
        assert_eq!(read("{}"), None);
    }
}
