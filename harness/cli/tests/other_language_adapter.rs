//! An adapter in another language, written from docs/driver-protocol.md alone, runs the
//! whole suite with `onshi run --adapter "…"` (examples/python-adapter/adapter.py).

mod common;

use std::path::Path;

use common::*;

#[test]
fn the_python_example_adapter_passes_the_suite() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python-adapter/adapter.py");
    let dir = tempfile::tempdir().unwrap();
    let (code, report, text) = run_suite(&format!("python3 '{}'", script.display()), dir.path(), &[]);
    let report = report.unwrap_or_else(|| panic!("no report:\n{text}"));
    assert_eq!(report["run"]["client"]["name"], "python-example-adapter");
    for (id, verdict, failed) in verdicts(&report) {
        assert_eq!(verdict, "pass", "{id}: {failed:?}\n{text}");
    }
    assert_eq!(code, 0);
}
