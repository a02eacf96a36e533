//! `primaryLocationLineHash`, computed the way GitHub's upload-sarif computes it, so alerts we
//! upload track across commits exactly as `CodeQL`'s do, and so baselines match by content rather
//! than by line number.
//!
//! The algorithm (described in github/codeql-action `src/fingerprints.ts`): a rolling hash over
//! the first 100 characters from the start of each line, skipping spaces and tabs, with every
//! line ending (`\r\n`, `\r`, `\n`) read as `\n`; characters are UTF-16 code units; arithmetic
//! is 64-bit and wraps; after the text comes one end-of-file mark (65535) and then zeros until
//! every line has its hash. A hash is printed in lower-case hexadecimal followed by `:n`, its
//! n-th occurrence in the file, so identical lines stay distinct.

use gantry_core::collections::FixedHashMap;

const BLOCK: usize = 100;
const MULTIPLIER: u64 = 37;
const END_OF_FILE: u16 = 65_535;

/// The hash of every line of `text`: element `i` is line `i + 1`'s. A text ending in a line
/// break has one more (empty) line after it, as the upload action counts.
pub fn line_hashes(text: &str) -> Vec<String> {
    let first_multiplier = (0..BLOCK).fold(1u64, |power, _| power.wrapping_mul(MULTIPLIER));
    let mut window = [0u16; BLOCK];
    // The line starting at each window slot, if one does.
    let mut line_at = [0usize; BLOCK];
    let mut hash = 0u64;
    let mut index = 0usize;
    let mut line = 0usize;
    let mut line_start = true;
    let mut previous_cr = false;
    let mut seen: FixedHashMap<u64, usize> = FixedHashMap::default();
    let mut hashes: Vec<String> = Vec::new();

    let mut emit = |hash: u64, line: usize, hashes: &mut Vec<String>| {
        let count = seen.entry(hash).or_insert(0);
        *count += 1;
        if hashes.len() < line {
            hashes.resize(line, String::new());
        }
        hashes[line - 1] = format!("{hash:x}:{count}");
    };
    let roll = |unit: u16, hash: &mut u64, index: &mut usize, window: &mut [u16; BLOCK]| {
        let leaving = window[*index];
        window[*index] = unit;
        *hash = hash
            .wrapping_mul(MULTIPLIER)
            .wrapping_add(u64::from(unit))
            .wrapping_sub(first_multiplier.wrapping_mul(u64::from(leaving)));
        *index = (*index + 1) % BLOCK;
    };

    let units = text.encode_utf16().chain(std::iter::once(END_OF_FILE));
    for mut unit in units {
        if unit == u16::from(b' ')
            || unit == u16::from(b'\t')
            || (previous_cr && unit == u16::from(b'\n'))
        {
            previous_cr = false;
            continue;
        }
        if unit == u16::from(b'\r') {
            unit = u16::from(b'\n');
            previous_cr = true;
        } else {
            previous_cr = false;
        }
        if line_at[index] != 0 {
            emit(hash, line_at[index], &mut hashes);
            line_at[index] = 0;
        }
        if line_start {
            line_start = false;
            line += 1;
            line_at[index] = line;
        }
        if unit == u16::from(b'\n') {
            line_start = true;
        }
        roll(unit, &mut hash, &mut index, &mut window);
    }
    for _ in 0..BLOCK {
        if line_at[index] != 0 {
            emit(hash, line_at[index], &mut hashes);
            line_at[index] = 0;
        }
        roll(0, &mut hash, &mut index, &mut window);
    }
    hashes
}

/// A key of each line's own text (spaces and tabs removed; FNV-1a, 64 bits, hexadecimal), for
/// baseline matching. Unlike [`line_hashes`], which also reads the lines that follow (up to 100
/// characters), it does not change when the code around a finding changes.
pub fn line_content_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = text;
    loop {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..end];
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in line.bytes().filter(|byte| !matches!(byte, b' ' | b'\t')) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        keys.push(format!("{hash:016x}"));
        if end == rest.len() {
            return keys;
        }
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + skip..];
    }
}

#[cfg(test)]
mod tests {
    use super::{line_content_keys, line_hashes};

    #[test]
    fn content_keys_follow_the_line_not_its_neighbours() {
        let before = line_content_keys("a\r\n  x = 1\n");
        let after = line_content_keys("b\rx=1\nc");
        assert_eq!(before.len(), 3);
        assert_eq!(before[1], after[1]);
        assert_ne!(before[0], after[0]);
        assert_eq!(line_hashes("a\r\n  x = 1\n").len(), before.len());
    }

    // Expected values from github/codeql-action's own tests of the algorithm.
    #[test]
    fn matches_the_upload_action_on_its_examples() {
        assert_eq!(line_hashes(""), ["c129715d7a2bc9a3:1"]);
        assert_eq!(
            line_hashes(" a\nb\n  \t\tc\n d"),
            [
                "271789c17abda88f:1",
                "54703d4cd895b18:1",
                "180aee12dab6264:1",
                "a23a3dc5e078b07b:1"
            ]
        );
        let expected = [
            "e9496ae3ebfced30:1",
            "fb7c023a8b9ccb3f:1",
            "ce8ba1a563dcdaca:1",
            "e20e36e16fcb0cc8:1",
            "b3edc88f2938467e:1",
            "c8e28b0b4002a3a0:1",
            "c129715d7a2bc9a3:1",
        ];
        for text in [
            " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
            " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
            " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
            " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
        ] {
            assert_eq!(line_hashes(text), expected, "{text:?}");
        }
        assert_eq!(
            line_hashes(&"Lorem ipsum dolor sit amet.\n".repeat(10)),
            [
                "a7f2ff13bc495cf2:1",
                "a7f2ff13bc495cf2:2",
                "a7f2ff13bc495cf2:3",
                "a7f2ff13bc495cf2:4",
                "a7f2ff13bc495cf2:5",
                "a7f2ff13bc495cf2:6",
                "a7f2ff1481e87703:1",
                "a9cf91f7bbf1862b:1",
                "55ec222b86bcae53:1",
                "cc97dc7b1d7d8f7b:1",
                "c129715d7a2bc9a3:1"
            ]
        );
    }

    #[test]
    fn a_line_keeps_its_hash_when_lines_are_added_above_it() {
        let before = line_hashes("import os\nos.system(cmd)\n");
        let after = line_hashes("import os\n\n# a comment\nos.system(cmd)\n");
        assert_eq!(before[1], after[3]);
    }
}
