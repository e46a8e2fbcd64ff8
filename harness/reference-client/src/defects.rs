//! The deliberate defects: each a real wrong behaviour seen (or easily made) in clinic
//! software, each with the case that must catch it and the check ID it must fail with. The
//! mutation-matrix test runs the suite once per defect and holds the suite to this table.

use std::fmt;
use std::str::FromStr;

/// A deliberate defect of the reference client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Defect {
    AnyResultValid,
    NewQualificationAsValid,
    IgnoreValidity,
    FirstOfMany,
    MissingResultListIsError,
    GenericErrorMessage,
    IgnoreNotice,
    HouseholderName,
    Utf8OnlyReader,
    GetaSubstitution,
    AssumesSpecOrder,
    RequiresSymbol,
    ZeroPadInsurer,
    TrimInsurer,
    BranchDefault00,
    DropLimitConsent,
    IgnoreElderly,
    SjisUnderUtf8Declaration,
    InPlaceWrite,
    ResendStorm,
    NoTimeout,
    IgnoreReferenceNumber,
    EagerFaceRead,
}

/// What a defect does and what must catch it.
#[derive(Debug, Clone, Copy)]
pub struct DefectInfo {
    pub defect: Defect,
    /// The `--defect` name.
    pub name: &'static str,
    /// The wrong behaviour, as a vendor would recognise it.
    pub behaviour: &'static str,
    /// The case that must fail…
    pub case: &'static str,
    /// …with this check.
    pub check: &'static str,
    /// Other cases the defect is expected to fail (they exercise the same behaviour). Every
    /// case not listed must pass.
    pub also_fails: &'static [&'static str],
}

pub const DEFECTS: &[DefectInfo] = &[
    DefectInfo {
        defect: Defect::AnyResultValid,
        name: "any-result-valid",
        behaviour: "treats any result file as a valid qualification, without looking at SegmentOfResult, ProcessingResultStatus or QualificationValidity",
        case: "FILE-ERR-001",
        check: "OUT-ERROR",
        // It never reads the result, so every non-valid answer and every message is lost.
        also_fails: &[
            "FILE-QUAL-002",
            "FILE-QUAL-003",
            "FILE-QUAL-004",
            "FILE-QUAL-005",
            "FILE-ERR-002",
            "FILE-MSG-001",
        ],
    },
    DefectInfo {
        defect: Defect::NewQualificationAsValid,
        name: "newqual-as-valid",
        behaviour: "reads QualificationValidity 3 — 無効（新しい資格あり） as valid",
        case: "FILE-QUAL-003",
        check: "OUT-NEWQUAL",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::IgnoreValidity,
        name: "ignore-validity",
        behaviour: "concludes 'valid' from ProcessingResultStatus 1 alone and never reads QualificationValidity",
        case: "FILE-QUAL-002",
        check: "OUT-INVALID",
        also_fails: &["FILE-QUAL-003", "FILE-QUAL-004", "FILE-QUAL-005"],
    },
    DefectInfo {
        defect: Defect::FirstOfMany,
        name: "first-of-many",
        behaviour: "takes ResultList[0] when QualificationValidity is 5 — 複数該当, registering one of several people",
        case: "FILE-QUAL-005",
        check: "OUT-MULTIPLE",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::MissingResultListIsError,
        name: "missing-resultlist-is-error",
        behaviour: "treats an answer without ResultList as a broken file, so QualificationValidity 4 — 該当資格なし becomes an error",
        case: "FILE-QUAL-004",
        check: "OUT-NOTFOUND",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::GenericErrorMessage,
        name: "generic-error-message",
        behaviour: "shows its own generic 'error' text instead of the ErrorMessage / ProcessingResultMessage it received",
        case: "FILE-ERR-002",
        check: "OUT-MESSAGE",
        also_fails: &["FILE-ERR-001"],
    },
    DefectInfo {
        defect: Defect::IgnoreNotice,
        name: "ignore-notice",
        behaviour: "drops the ProcessingResultMessage of a successful answer (supplementary information the receptionist must see)",
        case: "FILE-MSG-001",
        check: "OUT-MESSAGE",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::HouseholderName,
        name: "householder-name",
        behaviour: "stores InsuredName (被保険者氏名, the householder) as the patient's name",
        case: "FILE-QUAL-001",
        check: "REC-NAME",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::Utf8OnlyReader,
        name: "utf8-only-reader",
        behaviour: "reads every result file as UTF-8 whatever its declaration says",
        case: "FILE-ENC-001",
        check: "REC-NAME",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::GetaSubstitution,
        name: "geta-substitution",
        behaviour: "stores names through Shift_JIS and replaces characters it cannot hold with 〓",
        case: "FILE-ENC-002",
        check: "REC-NAME",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::AssumesSpecOrder,
        name: "assumes-spec-order",
        behaviour: "stops reading the header at CharacterCodeIdentifier, its last element in spec order",
        case: "FILE-ORDER-001",
        check: "OUT-VALID",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::RequiresSymbol,
        name: "requires-symbol",
        behaviour: "rejects a result without InsuredCardSymbol (被保険者証記号), an optional element",
        case: "FILE-OPT-001",
        check: "OUT-VALID",
        also_fails: &["FILE-KOUKI-001"],
    },
    DefectInfo {
        defect: Defect::ZeroPadInsurer,
        name: "zero-pad-insurer",
        behaviour: "pads a 6-digit 国保 insurer number with zeros (\"00990015\") instead of spaces",
        case: "FILE-PAD-001",
        check: "MSG-INS-002",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::TrimInsurer,
        name: "trim-insurer",
        behaviour: "stores the insurer number with its leading spaces trimmed",
        case: "FILE-PAD-001",
        check: "REC-INSURER",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::BranchDefault00,
        name: "branch-default-00",
        behaviour: "sends InsuredBranchNumber 00 for a card that has no branch number",
        case: "FILE-KOUKI-001",
        check: "REQ-CARD",
        // Twins queried without 枝番 get "00" too, which matches neither twin.
        also_fails: &["FILE-QUAL-005"],
    },
    DefectInfo {
        defect: Defect::DropLimitConsent,
        name: "drop-limit-consent",
        behaviour: "always sends LimitApplicationCertificateRelatedConsFlg 0, ignoring the patient's consent",
        case: "FILE-LIMIT-001",
        check: "REQ-CONSENT",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::IgnoreElderly,
        name: "ignore-elderly",
        behaviour: "does not store the 高齢受給者証 (ElderlyRecipientCertificateInfo), so the co-payment is billed at the wrong ratio",
        case: "FILE-ELDERLY-001",
        check: "REC-BENEFIT",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::SjisUnderUtf8Declaration,
        name: "sjis-under-utf8-declaration",
        behaviour: "writes Shift_JIS bytes under a UTF-8 XML declaration",
        case: "FILE-LINT-001",
        check: "MSG-ENC-001",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::InPlaceWrite,
        name: "in-place-write",
        behaviour: "writes the request directly under its final name, in two chunks",
        case: "FILE-ATOMIC-001",
        check: "FS-REQ-ATOMIC",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::ResendStorm,
        name: "resend-storm",
        behaviour: "writes the request again every second while it waits for the answer",
        case: "FILE-DUP-001",
        check: "FS-REQ-DUP",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::NoTimeout,
        name: "no-timeout",
        behaviour: "waits for a result forever",
        case: "FILE-TIMEOUT-001",
        check: "OUT-TIMEOUT",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::IgnoreReferenceNumber,
        name: "ignore-reference-number",
        behaviour: "does not read the ReferenceNumber (照会番号) of a face result",
        case: "FILE-FACE-001",
        check: "FACE-REFNUM",
        also_fails: &[],
    },
    DefectInfo {
        defect: Defect::EagerFaceRead,
        name: "eager-face-read",
        behaviour: "parses a face file as soon as it exists, before the reader finished writing it",
        case: "FILE-FACE-002",
        check: "FACE-STABLE-READ",
        also_fails: &[],
    },
];

impl Defect {
    pub fn info(self) -> &'static DefectInfo {
        DEFECTS
            .iter()
            .find(|d| d.defect == self)
            .expect("every defect is in DEFECTS")
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.info().name)
    }
}

impl FromStr for Defect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DEFECTS.iter().find(|d| d.name == s).map(|d| d.defect).ok_or_else(|| {
            format!(
                "unknown defect {s:?}; known: {}",
                DEFECTS.iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for d in DEFECTS {
            assert_eq!(d.name.parse::<Defect>().unwrap(), d.defect);
            assert_eq!(DEFECTS.iter().filter(|x| x.defect == d.defect).count(), 1);
        }
        assert!("nope".parse::<Defect>().unwrap_err().contains("any-result-valid"));
    }
}
