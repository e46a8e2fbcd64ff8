//! The message lint and the typed readers on arbitrary bytes: never panic, and a file that
//! cannot be decoded is always reported with a check ID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onshi_protocol::lint::lint;
use onshi_protocol::model::{QualificationRequest, QualificationResult};
use onshi_protocol::xml::Limits;
use onshi_protocol::{MessageKind, read_message};

fuzz_target!(|data: &[u8]| {
    for kind in [
        MessageKind::QualificationRequest,
        MessageKind::QualificationResult,
        MessageKind::FaceResult,
    ] {
        let report = lint(kind, data, &Limits::default());
        if report.document.is_none() {
            assert!(report.has_errors());
        }
    }
    let _ = read_message::<QualificationRequest>(data, &Limits::default());
    let _ = read_message::<QualificationResult>(data, &Limits::default());
});
