//! An adapter in another language, written from docs/driver-protocol.md alone, runs the
//! whole suite with `onshi run --adapter "…"` (examples/python-adapter/adapter.py).

mod common;

use std::path::Path;

use common::*;

/// The example implements 資格確認 and face results over the folder interface only: it
/// declares neither `api.qualification` nor the capabilities of the other families, whose cases
/// are therefore not applicable.
#[test]
fn the_python_example_adapter_passes_the_suite() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python-adapter/adapter.py");
    let dir = tempfile::tempdir().unwrap();
    let (code, report, text) = run_suite(&format!("python3 '{}'", script.display()), dir.path(), &[]);
    let report = report.unwrap_or_else(|| panic!("no report:\n{text}"));
    assert_eq!(report["run"]["client"]["name"], "python-example-adapter");
    let mut passed = 0;
    for (id, verdict, failed) in verdicts(&report) {
        let other_family = ["API-", "REF-", "BULK-", "PULL-", "MED-", "CARD-"]
            .iter()
            .any(|p| id.starts_with(p));
        let expected = if other_family { "not_applicable" } else { "pass" };
        assert_eq!(verdict, expected, "{id}: {failed:?}\n{text}");
        passed += usize::from(verdict == "pass");
    }
    assert!(passed >= 22, "only {passed} cases passed");
    assert_eq!(code, 0);
}
