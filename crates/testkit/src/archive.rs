//! Zip archives as `actions/upload-artifact` writes them: every file deflated, sizes and CRC in
//! the central directory.

use std::io::Write as _;

/// A zip archive holding `files` (path, contents), each deflated.
///
/// # Panics
/// When a file is over 4 GiB (zip64 is not written) or deflating into memory fails.
pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    archive(files, true)
}

/// A zip archive holding `files` stored as they are (method 0), as some zip tools write small
/// files.
///
/// # Panics
/// As [`zip`].
pub fn stored(files: &[(&str, &[u8])]) -> Vec<u8> {
    archive(files, false)
}

fn archive(files: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    for (name, contents) in files {
        let deflated = if deflate {
            let mut encoder =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(contents).expect("deflate into memory");
            encoder.finish().expect("deflate into memory")
        } else {
            contents.to_vec()
        };
        let method = if deflate { 8 } else { 0 };
        let mut crc = flate2::Crc::new();
        crc.update(contents);
        let size = u32::try_from(contents.len()).expect("under 4 GiB");
        let compressed = u32::try_from(deflated.len()).expect("under 4 GiB");
        let name_length = u16::try_from(name.len()).expect("a short name");
        let offset = u32::try_from(out.len()).expect("under 4 GiB");
        // Local header: version 2.0, no flags, deflate, a fixed time.
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend([20, 0, 0, 0, method, 0, 0, 0, 0x21, 0x5a]);
        out.extend(crc.sum().to_le_bytes());
        out.extend(compressed.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(name_length.to_le_bytes());
        out.extend([0, 0]);
        out.extend(name.as_bytes());
        out.extend(&deflated);
        directory.extend(0x0201_4b50u32.to_le_bytes());
        directory.extend([20, 3, 20, 0, 0, 0, method, 0, 0, 0, 0x21, 0x5a]);
        directory.extend(crc.sum().to_le_bytes());
        directory.extend(compressed.to_le_bytes());
        directory.extend(size.to_le_bytes());
        directory.extend(name_length.to_le_bytes());
        directory.extend([0; 12]);
        directory.extend(offset.to_le_bytes());
        directory.extend(name.as_bytes());
    }
    let directory_offset = u32::try_from(out.len()).expect("under 4 GiB");
    let directory_size = u32::try_from(directory.len()).expect("under 4 GiB");
    let count = u16::try_from(files.len()).expect("under 65,535 files");
    out.extend(directory);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0]);
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(directory_size.to_le_bytes());
    out.extend(directory_offset.to_le_bytes());
    out.extend([0, 0]);
    out
}
