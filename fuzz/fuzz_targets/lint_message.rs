//! The message lint and the typed readers of every family on arbitrary bytes: never panic,
//! and a file that cannot be decoded is always reported with a check ID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onshi_protocol::lint::lint;
use onshi_protocol::model::*;
use onshi_protocol::xml::Limits;
use onshi_protocol::{MessageKind, read_message};

fuzz_target!(|data: &[u8]| {
    for kind in MessageKind::ALL {
        let report = lint(kind, data, &Limits::default());
        if report.document.is_none() {
            assert!(report.has_errors());
        }
    }
    let limits = Limits::default();
    let _ = read_message::<QualificationRequest>(data, &limits);
    let _ = read_message::<QualificationResult>(data, &limits);
    let _ = read_message::<ReferenceRegistrationRequest>(data, &limits);
    let _ = read_message::<ReferenceRegistrationResult>(data, &limits);
    let _ = read_message::<BulkRegistrationRequest>(data, &limits);
    let _ = read_message::<BulkRegistrationResult>(data, &limits);
    let _ = read_message::<BulkConfirmRequest>(data, &limits);
    let _ = read_message::<BulkPullRequest>(data, &limits);
    let _ = read_message::<BulkUploadResult>(data, &limits);
    let _ = read_message::<BulkDownloadRequest>(data, &limits);
    let _ = read_message::<BulkConfirmResult>(data, &limits);
    let _ = read_message::<MedicalInfoRequest>(data, &limits);
    let _ = read_message::<DrugResult>(data, &limits);
    let _ = read_message::<CheckupResult>(data, &limits);
});
