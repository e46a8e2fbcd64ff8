//! The XML decoder on arbitrary bytes: never panics; what it accepts writes back and reads
//! back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onshi_protocol::xml::{Limits, WriteOptions, decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = decode(data, &Limits::default()) {
        let opts = WriteOptions {
            encoding: doc.encoding,
            indent: false,
        };
        if let Ok(bytes) = encode(&doc.root, &opts) {
            let again = decode(&bytes, &Limits::default()).expect("what we write, we read");
            assert_eq!(strip_lines(again.root), strip_lines(doc.root));
        }
    }
});

fn strip_lines(mut el: onshi_protocol::xml::Element) -> onshi_protocol::xml::Element {
    el.line = 0;
    el.children = el.children.into_iter().map(strip_lines).collect();
    el
}
