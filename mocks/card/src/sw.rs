//! Status words the virtual card answers, with what each means at reception. The values are
//! the ones card.md §7 gives for the My Number card (JICSAP usage of ISO/IEC 7816-4).

use std::fmt;

/// A status word (SW1 SW2).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sw(pub u16);

impl Sw {
    /// 90 00: success.
    pub const OK: Sw = Sw(0x9000);
    /// 67 00: wrong length.
    pub const WRONG_LENGTH: Sw = Sw(0x6700);
    /// 68 81: logical channel not supported.
    pub const CHANNEL_NOT_SUPPORTED: Sw = Sw(0x6881);
    /// 68 82: secure messaging not supported.
    pub const SM_NOT_SUPPORTED: Sw = Sw(0x6882);
    /// 68 84: command chaining not supported.
    pub const CHAINING_NOT_SUPPORTED: Sw = Sw(0x6884);
    /// 69 81: command incompatible with the file.
    pub const NOT_ALLOWED_FOR_EF: Sw = Sw(0x6981);
    /// 69 82: security status not satisfied.
    pub const SECURITY_NOT_SATISFIED: Sw = Sw(0x6982);
    /// 69 84: reference data blocked (a locked PIN).
    pub const REFERENCE_DATA_BLOCKED: Sw = Sw(0x6984);
    /// 69 85: conditions of use not satisfied.
    pub const CONDITIONS_NOT_SATISFIED: Sw = Sw(0x6985);
    /// 69 86: no current EF.
    pub const NO_CURRENT_EF: Sw = Sw(0x6986);
    /// 6A 80: wrong data.
    pub const WRONG_DATA: Sw = Sw(0x6A80);
    /// 6A 82: file or application not found.
    pub const NOT_FOUND: Sw = Sw(0x6A82);
    /// 6A 83: record not found.
    pub const RECORD_NOT_FOUND: Sw = Sw(0x6A83);
    /// 6A 86: wrong P1 P2.
    pub const WRONG_P1P2: Sw = Sw(0x6A86);
    /// 6A 88: referenced data not found.
    pub const REFERENCE_NOT_FOUND: Sw = Sw(0x6A88);
    /// 6B 00: offset outside the EF.
    pub const OFFSET_OUTSIDE_EF: Sw = Sw(0x6B00);
    /// 6D 00: instruction not supported.
    pub const INS_NOT_SUPPORTED: Sw = Sw(0x6D00);
    /// 6E 00: class not supported.
    pub const CLA_NOT_SUPPORTED: Sw = Sw(0x6E00);
    /// 66 F1: session key not supported (GET CHALLENGE variants).
    pub const SESSION_KEY_NOT_SUPPORTED: Sw = Sw(0x66F1);

    /// `63 Cx`: a verification failed (or the retry query), `x` tries left.
    pub fn tries_left(x: u8) -> Sw {
        Sw(0x63C0 | u16::from(x.min(15)))
    }

    /// SW1 SW2.
    pub fn bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    /// Tries left when this is a `63 Cx` answer.
    pub fn counter(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then_some((self.0 & 0x0F) as u8)
    }

    /// What the status word means, in the card's terms.
    pub fn meaning(self) -> String {
        if let Some(x) = self.counter() {
            return match x {
                0 => "63C0 — no tries left: the PIN is locked (暗証番号ロック)".into(),
                x => format!("63C{x:X} — PIN not verified, {x} tries left (暗証番号 残り{x}回)"),
            };
        }
        let text = match self {
            Sw::OK => "normal processing",
            Sw::WRONG_LENGTH => "wrong length (Lc or Le)",
            Sw::CHANNEL_NOT_SUPPORTED => "logical channel not supported (only channel 0)",
            Sw::SM_NOT_SUPPORTED => "secure messaging not supported",
            Sw::CHAINING_NOT_SUPPORTED => "command chaining not supported",
            Sw::NOT_ALLOWED_FOR_EF => "command incompatible with the file structure (a PIN or key EF cannot be read)",
            Sw::SECURITY_NOT_SATISFIED => "security status not satisfied (the PIN has not been verified)",
            Sw::REFERENCE_DATA_BLOCKED => "PIN locked (暗証番号ロック): the reference data can no longer be used",
            Sw::CONDITIONS_NOT_SATISFIED => "conditions of use not satisfied",
            Sw::NO_CURRENT_EF => "command not allowed: no current EF",
            Sw::WRONG_DATA => "incorrect data field (e.g. a new PIN of the wrong format)",
            Sw::NOT_FOUND => "file or application not found",
            Sw::RECORD_NOT_FOUND => "record not found",
            Sw::WRONG_P1P2 => "incorrect P1 or P2",
            Sw::REFERENCE_NOT_FOUND => "referenced data not found",
            Sw::OFFSET_OUTSIDE_EF => "offset outside the EF",
            Sw::INS_NOT_SUPPORTED => "instruction not supported",
            Sw::CLA_NOT_SUPPORTED => "class not supported",
            Sw::SESSION_KEY_NOT_SUPPORTED => "session keys not supported by this application",
            _ => "unknown status word",
        };
        format!("{self} — {text}")
    }
}

impl fmt::Display for Sw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Debug for Sw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sw({:04X})", self.0)
    }
}
