//! Just enough of the zip format to read an Actions artifact: the central directory, stored and
//! deflated entries, CRC-checked, with a cap on what one entry may expand to. Zip64, encryption
//! and multi-disk archives are refused by name.

use std::io::Read as _;

/// One file in the archive, as the central directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its path in the archive.
    pub name: String,
    method: u16,
    flags: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local_offset: u64,
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, String> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| "the archive is cut short".to_owned())
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, String> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| "the archive is cut short".to_owned())
}

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;

/// The files an archive holds (folders left out).
pub fn entries(archive: &[u8]) -> Result<Vec<Entry>, String> {
    // The end record is the last 22 bytes plus a comment of at most 65,535.
    let lowest = archive.len().saturating_sub(22 + 65_535);
    let end = (lowest..=archive.len().saturating_sub(22))
        .rev()
        .find(|&at| u32_at(archive, at).ok() == Some(END_OF_DIRECTORY))
        .ok_or_else(|| "not a zip archive (no end of central directory)".to_owned())?;
    let disk = u16_at(archive, end + 4)?;
    let count = u16_at(archive, end + 10)?;
    let directory_size = u32_at(archive, end + 12)?;
    let directory_offset = u32_at(archive, end + 16)?;
    if disk != 0 {
        return Err("a multi-disk zip archive is not read".to_owned());
    }
    if count == u16::MAX || directory_size == u32::MAX || directory_offset == u32::MAX {
        return Err("a zip64 archive is not read".to_owned());
    }
    let mut at = usize::try_from(directory_offset).map_err(|error| error.to_string())?;
    let mut found = Vec::new();
    for _ in 0..count {
        if u32_at(archive, at)? != DIRECTORY_ENTRY {
            return Err(format!("no central directory entry at byte {at}"));
        }
        let name_length = usize::from(u16_at(archive, at + 28)?);
        let extra_length = usize::from(u16_at(archive, at + 30)?);
        let comment_length = usize::from(u16_at(archive, at + 32)?);
        let name_bytes = archive
            .get(at + 46..at + 46 + name_length)
            .ok_or_else(|| "the archive is cut short".to_owned())?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        let entry = Entry {
            flags: u16_at(archive, at + 8)?,
            method: u16_at(archive, at + 10)?,
            crc: u32_at(archive, at + 16)?,
            compressed: u64::from(u32_at(archive, at + 20)?),
            size: u64::from(u32_at(archive, at + 24)?),
            local_offset: u64::from(u32_at(archive, at + 42)?),
            name,
        };
        at += 46 + name_length + extra_length + comment_length;
        if entry.compressed == u64::from(u32::MAX) || entry.size == u64::from(u32::MAX) {
            return Err(format!("`{}` is a zip64 entry, not read", entry.name));
        }
        if !entry.name.ends_with('/') {
            found.push(entry);
        }
    }
    Ok(found)
}

/// One entry's contents, checked against its CRC; more than `limit` bytes is refused.
pub fn extract(archive: &[u8], entry: &Entry, limit: usize) -> Result<Vec<u8>, String> {
    let name = &entry.name;
    if entry.flags & 1 != 0 {
        return Err(format!("`{name}` is encrypted"));
    }
    if entry.size > limit as u64 {
        return Err(format!(
            "`{name}` expands to {} bytes, more than {limit}",
            entry.size
        ));
    }
    let local = usize::try_from(entry.local_offset).map_err(|error| error.to_string())?;
    if u32_at(archive, local)? != LOCAL_HEADER {
        return Err(format!("`{name}` has no local header"));
    }
    let start = local
        + 30
        + usize::from(u16_at(archive, local + 26)?)
        + usize::from(u16_at(archive, local + 28)?);
    let length = usize::try_from(entry.compressed).map_err(|error| error.to_string())?;
    let data = archive
        .get(start..start.saturating_add(length))
        .ok_or_else(|| format!("`{name}` is cut short"))?;
    let out = match entry.method {
        0 => data.to_vec(),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|error| format!("`{name}` does not inflate: {error}"))?;
            out
        }
        other => {
            return Err(format!(
                "`{name}` uses compression method {other}, not read"
            ));
        }
    };
    if out.len() > limit || out.len() as u64 != entry.size {
        return Err(format!(
            "`{name}` expands to {} bytes where the archive says {}",
            out.len(),
            entry.size
        ));
    }
    let mut crc = flate2::Crc::new();
    crc.update(&out);
    if crc.sum() != entry.crc {
        return Err(format!("`{name}` fails its CRC check"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_entry_reads_back_and_a_flipped_byte_fails_its_crc() {
        let archive = gantry_testkit::archive::stored(&[(
            "gantry-security.sarif",
            b"{\"version\":\"2.1.0\"}",
        )]);
        let listed = entries(&archive).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "gantry-security.sarif");
        assert_eq!(
            extract(&archive, &listed[0], 1024).unwrap(),
            b"{\"version\":\"2.1.0\"}"
        );
        let mut corrupt = archive.clone();
        corrupt[30 + "gantry-security.sarif".len() + 2] ^= 1;
        assert!(
            extract(&corrupt, &listed[0], 1024)
                .unwrap_err()
                .contains("CRC")
        );
        assert!(
            extract(&archive, &listed[0], 4)
                .unwrap_err()
                .contains("more than 4")
        );
    }

    #[test]
    fn deflated_entries_read_back_and_folders_are_left_out() {
        let big = "x".repeat(100_000);
        let archive = gantry_testkit::archive::zip(&[
            ("reports/", b""),
            ("reports/summary.json", big.as_bytes()),
        ]);
        let listed = entries(&archive).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(archive.len() < 10_000, "deflated: {} bytes", archive.len());
        assert_eq!(
            extract(&archive, &listed[0], 200_000).unwrap(),
            big.as_bytes()
        );
        // A cap below what it expands to is refused.
        assert!(extract(&archive, &listed[0], 50_000).is_err());
    }

    #[test]
    fn what_is_not_a_zip_says_so() {
        assert!(entries(b"PK not really").unwrap_err().contains("not a zip"));
        let archive = gantry_testkit::archive::zip(&[("a", b"x")]);
        assert!(entries(&archive[..archive.len() - 30]).is_err());
    }
}
