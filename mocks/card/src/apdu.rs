//! Command APDUs as ISO/IEC 7816-3/-4 frame them: the four cases in short and extended form,
//! and the class byte's channel / chaining / secure-messaging bits. Parsing never fails with a
//! panic: a frame that fits no case is a [`Malformed`] the card answers with `67 00`.

use crate::sw::Sw;

/// A parsed command APDU borrowing its data field from the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    /// The class byte.
    pub cla: u8,
    /// The instruction byte.
    pub ins: u8,
    /// The first parameter byte.
    pub p1: u8,
    /// The second parameter byte.
    pub p2: u8,
    /// The command data field (empty for cases 1 and 2).
    pub data: &'a [u8],
    /// Expected response length: `None` when the frame has no Le (cases 1 and 3);
    /// an Le of zero means 256 (short) or 65,536 (extended).
    pub le: Option<usize>,
    /// Extended-length form (three-byte Lc / Le fields).
    pub extended: bool,
}

/// Why a frame is not a command APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("{0} bytes is shorter than a command header (4 bytes)")]
    /// Shorter than a command header.
    TooShort(usize),
    #[error("length fields do not match the frame's {0} bytes")]
    /// The length fields do not match the frame.
    Length(usize),
}

impl Malformed {
    /// The status word the card answers a malformed command with.
    pub fn sw(self) -> Sw {
        Sw::WRONG_LENGTH
    }
}

/// Parses one command APDU (ISO/IEC 7816-3 12.1 case decoding).
pub fn parse(frame: &[u8]) -> Result<Command<'_>, Malformed> {
    let n = frame.len();
    if n < 4 {
        return Err(Malformed::TooShort(n));
    }
    let head = |data, le, extended| Command {
        cla: frame[0],
        ins: frame[1],
        p1: frame[2],
        p2: frame[3],
        data,
        le,
        extended,
    };
    let body = &frame[4..];
    let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
    let ext_le = |hi: u8, lo: u8| match u16::from_be_bytes([hi, lo]) {
        0 => 65_536,
        v => usize::from(v),
    };
    match body {
        [] => Ok(head(&frame[4..], None, false)),
        [le] => Ok(head(&frame[5..], Some(short_le(*le)), false)),
        [0, hi, lo] => Ok(head(&frame[7..], Some(ext_le(*hi, *lo)), true)),
        [0, hi, lo, rest @ ..] => {
            let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
            match rest.len().checked_sub(lc) {
                _ if lc == 0 => Err(Malformed::Length(n)),
                Some(0) => Ok(head(rest, None, true)),
                Some(2) => Ok(head(&rest[..lc], Some(ext_le(rest[lc], rest[lc + 1])), true)),
                _ => Err(Malformed::Length(n)),
            }
        }
        [lc, rest @ ..] => {
            let lc = usize::from(*lc);
            match rest.len().checked_sub(lc) {
                Some(0) => Ok(head(rest, None, false)),
                Some(1) => Ok(head(&rest[..lc], Some(short_le(rest[lc])), false)),
                _ => Err(Malformed::Length(n)),
            }
        }
    }
}

/// What the class byte says (ISO/IEC 7816-4 5.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// `0x80` class (proprietary commands such as `80 2A`).
    pub proprietary: bool,
    /// Logical channel number (0 is the only one the card opens).
    pub channel: u8,
    /// The command is a non-final part of a chain.
    pub chained: bool,
    /// Secure-messaging indication bits are set.
    pub secure_messaging: bool,
}

impl Class {
    /// Decodes CLA; `Err` carries the status word for a class the card does not know.
    pub fn decode(cla: u8) -> Result<Class, Sw> {
        match cla {
            0xFF => Err(Sw::CLA_NOT_SUPPORTED),
            // first interindustry (000x xxxx) and the proprietary mirror (100x xxxx)
            c if c & 0x60 == 0 => Ok(Class {
                proprietary: c & 0x80 != 0,
                channel: c & 0x03,
                chained: c & 0x10 != 0,
                secure_messaging: c & 0x0C != 0,
            }),
            // further interindustry: channels 4..19
            c if c & 0xC0 == 0x40 => Ok(Class {
                proprietary: false,
                channel: 4 + (c & 0x0F),
                chained: c & 0x10 != 0,
                secure_messaging: c & 0x20 != 0,
            }),
            _ => Err(Sw::CLA_NOT_SUPPORTED),
        }
    }
}

/// Formats bytes as spaced upper-case hex (`00 A4 04 0C`), the way traces print them.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        let sep = if i > 0 { " " } else { "" };
        let _ = write!(out, "{sep}{b:02X}");
    }
    out
}

/// Parses hex with optional spaces, colons or dashes between bytes.
pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b" \t:-_".contains(b)).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits in {text:?}"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("{:?} is not a hex byte", String::from_utf8_lossy(pair)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_cases_short_and_extended() {
        let c = parse(&[0, 0x20, 0, 0x80]).unwrap();
        assert_eq!((c.data.len(), c.le, c.extended), (0, None, false));
        let c = parse(&[0, 0xB0, 0, 0, 0]).unwrap();
        assert_eq!(c.le, Some(256));
        let c = parse(&[0, 0xA4, 2, 0x0C, 2, 0, 0x18]).unwrap();
        assert_eq!((c.data, c.le), (&[0u8, 0x18][..], None));
        let c = parse(&[0x80, 0x2A, 0, 0x80, 1, 0xAA, 0]).unwrap();
        assert_eq!((c.data, c.le), (&[0xAAu8][..], Some(256)));
        let c = parse(&[0, 0xB0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!((c.le, c.extended), (Some(65_536), true));
        let c = parse(&[0, 0xB0, 0, 0, 0, 0x01, 0x2C]).unwrap();
        assert_eq!(c.le, Some(300));
        let c = parse(&[0x80, 0x2A, 0, 0x80, 0, 0, 2, 1, 2, 0, 0]).unwrap();
        assert_eq!((c.data, c.le, c.extended), (&[1u8, 2][..], Some(65_536), true));
        let c = parse(&[0x80, 0x2A, 0, 0x80, 0, 0, 2, 1, 2]).unwrap();
        assert_eq!((c.data, c.le), (&[1u8, 2][..], None));
    }

    #[test]
    fn frames_that_fit_no_case() {
        assert_eq!(parse(&[]), Err(Malformed::TooShort(0)));
        assert_eq!(parse(&[0, 0xA4, 4]), Err(Malformed::TooShort(3)));
        assert_eq!(parse(&[0, 0xA4, 4, 0x0C, 5, 1, 2]), Err(Malformed::Length(7)));
        assert_eq!(parse(&[0, 0xA4, 4, 0x0C, 1, 1, 2, 3]), Err(Malformed::Length(8)));
        // extended Lc of zero is not allowed
        assert_eq!(parse(&[0, 0xA4, 4, 0x0C, 0, 0, 0, 1]), Err(Malformed::Length(8)));
        assert_eq!(parse(&[0, 0xA4, 4, 0x0C, 0, 0, 3, 1]), Err(Malformed::Length(8)));
    }

    #[test]
    fn class_bits() {
        assert_eq!(Class::decode(0x00).unwrap().channel, 0);
        assert_eq!(Class::decode(0x01).unwrap().channel, 1);
        assert!(Class::decode(0x80).unwrap().proprietary);
        assert!(Class::decode(0x10).unwrap().chained);
        assert!(Class::decode(0x0C).unwrap().secure_messaging);
        assert_eq!(Class::decode(0x40).unwrap().channel, 4);
        assert_eq!(Class::decode(0xFF), Err(Sw::CLA_NOT_SUPPORTED));
        assert_eq!(Class::decode(0xA0), Err(Sw::CLA_NOT_SUPPORTED));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 0xA4, 4, 0x0C]), "00 A4 04 0C");
        assert_eq!(unhex("00a4 04:0C").unwrap(), vec![0, 0xA4, 4, 0x0C]);
        assert!(unhex("0").is_err());
        assert!(unhex("zz").is_err());
    }
}
