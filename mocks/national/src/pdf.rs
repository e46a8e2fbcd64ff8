//! A small, valid PDF of text lines, for the PDF categories of 薬剤情報 / 特定健診情報. It uses
//! the standard Helvetica font, so it carries ASCII only: the harness identifies the patient
//! by card data and dates, never by a name (Japanese text would need an embedded font).
//! Cross-reference offsets are computed, so strict readers accept the file.

/// A one-page PDF showing `title` and `lines`.
pub fn text_pdf(title: &str, lines: &[String]) -> Vec<u8> {
    fn escape(s: &str) -> String {
        s.chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .flat_map(|c| match c {
                '(' | ')' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect()
    }
    let mut content = format!("BT /F1 14 Tf 56 790 Td ({}) Tj ET\n", escape(title));
    for (i, line) in lines.iter().take(60).enumerate() {
        content.push_str(&format!(
            "BT /F1 10 Tf 56 {} Td ({}) Tj ET\n",
            764 - 12 * i as i64,
            escape(line)
        ));
    }
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
    ];
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_the_cross_reference_table_point_at_their_objects() {
        let pdf = text_pdf("onshi-harness (x)", &["line \\ 1".into(), "検証 is dropped".into()]);
        // Past the binary comment line the file is ASCII: byte offsets are text offsets.
        let ascii = pdf.windows(7).position(|w| w == b"1 0 obj").unwrap();
        assert!(pdf[..ascii].starts_with(b"%PDF-1.4\n"));
        let text = std::str::from_utf8(&pdf[ascii..]).unwrap();
        let at = |offset: usize| &text[offset - ascii..];
        assert!(text.ends_with("%%EOF\n"));
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(at(startxref).starts_with("xref\n0 6\n"));
        let entries: Vec<usize> = at(startxref)
            .lines()
            .skip(3)
            .take(5)
            .map(|l| l[..10].parse().unwrap())
            .collect();
        for (i, offset) in entries.iter().enumerate() {
            assert!(
                pdf[*offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
                "object {}",
                i + 1
            );
        }
        assert!(text.contains("(onshi-harness \\(x\\))") && text.contains("(line \\\\ 1)"));
        let stream_len: usize = text
            .split("/Length ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let start = text.find("stream\n").unwrap() + "stream\n".len();
        assert_eq!(&text[start + stream_len..start + stream_len + 9], "endstream");
    }
}
