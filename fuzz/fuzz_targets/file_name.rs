//! The file-name grammar on arbitrary bytes: never panics, and every accepted name formats
//! back to itself.
#![no_main]

use std::os::unix::ffi::OsStrExt;

use libfuzzer_sys::fuzz_target;
use onshi_protocol::filename::FileName;

fuzz_target!(|data: &[u8]| {
    if let Ok(name) = FileName::parse_os(std::ffi::OsStr::from_bytes(data)) {
        assert_eq!(name.to_string().as_bytes(), data);
    }
});
