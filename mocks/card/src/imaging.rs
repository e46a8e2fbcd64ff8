//! The pictures a card carries, synthetic: blank 1-bit PNGs where the card face has the
//! printed name, address and security code, and a greyscale JPEG 2000 face photo (DF27) that
//! decodes to a uniform grey — a valid image with nobody in it.

/// A white 1-bit greyscale PNG of the given size.
pub fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let row = width.div_ceil(8) as usize;
    let mut writer = encoder.write_header().expect("writing to a Vec cannot fail");
    writer
        .write_image_data(&vec![0xFF; row * height as usize])
        .expect("the buffer has exactly the image's size");
    writer.finish().expect("writing to a Vec cannot fail");
    out
}

/// A JP2 file (ISO/IEC 15444-1 Annex I) holding one 8-bit greyscale component of the given
/// size: one tile, no wavelet decomposition, one quality layer, and a single empty packet, so
/// every coefficient is zero and the image decodes to mid-grey (128).
pub fn grey_jp2(width: u32, height: u32) -> Vec<u8> {
    let mut cs = Vec::new();
    cs.extend([0xFF, 0x4F]); // SOC
    cs.extend([0xFF, 0x51, 0x00, 41, 0x00, 0x00]); // SIZ, Lsiz, Rsiz
    for v in [width, height, 0, 0, width, height, 0, 0] {
        cs.extend(v.to_be_bytes());
    }
    cs.extend([0x00, 0x01, 0x07, 0x01, 0x01]); // one component, 8-bit unsigned, no subsampling
    // COD: LRCP, 1 layer, no MCT; 0 decompositions, 64x64 code blocks, reversible 5-3
    cs.extend([
        0xFF, 0x52, 0x00, 12, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x04, 0x04, 0x00, 0x01,
    ]);
    // QCD: no quantisation, 2 guard bits, exponent 8 for the single LL band
    cs.extend([0xFF, 0x5C, 0x00, 4, 0x40, 0x40]);
    // SOT: tile 0, Psot = SOT (12) + SOD (2) + one empty packet (1), part 0 of 1
    cs.extend([0xFF, 0x90, 0x00, 10, 0x00, 0x00, 0x00, 0x00, 0x00, 15, 0x00, 0x01]);
    cs.extend([0xFF, 0x93, 0x00]); // SOD, empty packet
    cs.extend([0xFF, 0xD9]); // EOC

    let boxed = |kind: &[u8; 4], body: &[u8]| {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend(kind);
        b.extend(body);
        b
    };
    let mut ihdr = Vec::new();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend(width.to_be_bytes());
    ihdr.extend([0x00, 0x01, 0x07, 0x07, 0x00, 0x00]); // NC 1, BPC 8 unsigned, C = 7, UnkC, IPR
    let colr = [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11]; // enumerated colour space 17: greyscale
    let mut jp2h = boxed(b"ihdr", &ihdr);
    jp2h.extend(boxed(b"colr", &colr));

    let mut out = boxed(b"jP  ", &[0x0D, 0x0A, 0x87, 0x0A]);
    out.extend(boxed(b"ftyp", b"jp2 \0\0\0\0jp2 "));
    out.extend(boxed(b"jp2h", &jp2h));
    out.extend(boxed(b"jp2c", &cs));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_decodes_to_the_requested_size() {
        let bytes = blank_png(20, 3);
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height, info.bit_depth), (20, 3, png::BitDepth::One));
    }

    #[test]
    fn jp2_box_structure() {
        let jp2 = grey_jp2(90, 120);
        assert_eq!(
            &jp2[..12],
            &[0, 0, 0, 12, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A]
        );
        // walk the top-level boxes: their lengths must tile the file exactly
        let mut at = 0;
        let mut kinds = Vec::new();
        while at < jp2.len() {
            let len = u32::from_be_bytes(jp2[at..at + 4].try_into().unwrap()) as usize;
            kinds.push(String::from_utf8_lossy(&jp2[at + 4..at + 8]).to_string());
            at += len;
        }
        assert_eq!(at, jp2.len());
        assert_eq!(kinds, ["jP  ", "ftyp", "jp2h", "jp2c"]);
        assert!(jp2.ends_with(&[0xFF, 0xD9]));
    }
}
