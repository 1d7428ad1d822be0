//! RFC 3339 in UTC, written by hand: chrono's `format` interprets its
//! pattern on every call, and a page of 20 threads renders some 200
//! timestamps (a quarter of S5's CPU went to `strftime`). Years outside
//! 0000–9999 and leap seconds, which no clock here produces, go through
//! chrono as before.

use chrono::{Datelike, Timelike};
use spool_core::Timestamp;

/// `2024-01-15T10:30:00.000000Z` (athena).
pub fn micros(at: Timestamp) -> String {
    write(at, true).unwrap_or_else(|| at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// `2023-11-07T05:31:56Z` (thena, freddy).
pub fn seconds(at: Timestamp) -> String {
    write(at, false).unwrap_or_else(|| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn write(at: Timestamp, with_micros: bool) -> Option<String> {
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut out = Vec::with_capacity(27);
    digits(&mut out, year, 4);
    for (separator, value) in [
        (b'-', at.month()),
        (b'-', at.day()),
        (b'T', at.hour()),
        (b':', at.minute()),
        (b':', at.second()),
    ] {
        out.push(separator);
        digits(&mut out, value, 2);
    }
    if with_micros {
        out.push(b'.');
        digits(&mut out, nanos / 1000, 6);
    }
    out.push(b'Z');
    String::from_utf8(out).ok()
}

/// `value`'s last `width` decimal digits, zero-padded.
fn digits(out: &mut Vec<u8>, value: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn instants() -> Vec<DateTime<Utc>> {
        let mut all = vec![
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap()
                + Duration::microseconds(999_999),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + Duration::nanoseconds(1_234_567),
            Utc.with_ymd_and_hms(1, 1, 1, 1, 1, 1).unwrap() + Duration::microseconds(10),
            Utc::now(),
        ];
        let mut at = Utc.with_ymd_and_hms(2001, 9, 9, 1, 46, 40).unwrap();
        for step in 0..500 {
            at += Duration::microseconds(7_919_191_919 + step * 13);
            all.push(at);
        }
        all
    }

    #[test]
    fn the_same_text_as_chrono_writes() {
        for at in instants() {
            assert_eq!(micros(at), at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            assert_eq!(seconds(at), at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }

    #[test]
    fn years_past_9999_fall_back_to_chrono() {
        let far = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            micros(far),
            far.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
        );
    }
}
