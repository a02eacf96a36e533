//! The XML layer under the test report readers: transcoding to UTF-8 as the document's start
//! says, the next event with the file and byte offset on errors (and no entity ever expanded),
//! and attributes read in one pass.

use std::borrow::Cow;
use std::io::{BufRead, Read};

use quick_xml::events::{BytesStart, Event};

use crate::test_report::TestReportError;

/// A `Read` that turns ISO-8859-1 or UTF-16 into UTF-8 as it goes.
pub(crate) struct Transcode<R> {
    inner: R,
    utf16: Option<bool>,
    pending: Vec<u8>,
    carry: Vec<u8>,
}

impl<R> Transcode<R> {
    /// Latin-1 (`utf16: None`) or UTF-16 of the given byte order, as UTF-8.
    pub(crate) fn new(inner: R, utf16: Option<bool>) -> Self {
        Self {
            inner,
            utf16,
            pending: Vec::new(),
            carry: Vec::new(),
        }
    }
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            let mut chunk = [0u8; 8192];
            let read = self.inner.read(&mut chunk)?;
            if read == 0 {
                return Ok(0);
            }
            match self.utf16 {
                None => {
                    for &byte in &chunk[..read] {
                        let mut encoded = [0u8; 2];
                        self.pending.extend_from_slice(
                            char::from(byte).encode_utf8(&mut encoded).as_bytes(),
                        );
                    }
                }
                Some(little) => {
                    self.carry.extend_from_slice(&chunk[..read]);
                    let whole = self.carry.len() / 2 * 2;
                    let units: Vec<u16> = self.carry[..whole]
                        .chunks_exact(2)
                        .map(|pair| {
                            if little {
                                u16::from_le_bytes([pair[0], pair[1]])
                            } else {
                                u16::from_be_bytes([pair[0], pair[1]])
                            }
                        })
                        .collect();
                    // A surrogate pair split across chunks waits for its second half.
                    let keep = usize::from(
                        units
                            .last()
                            .is_some_and(|unit| (0xD800..0xDC00).contains(unit)),
                    );
                    let decoded: String =
                        char::decode_utf16(units[..units.len() - keep].iter().copied())
                            .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
                            .collect();
                    self.pending.extend_from_slice(decoded.as_bytes());
                    self.carry.drain(..whole - keep * 2);
                }
            }
        }
        let count = out.len().min(self.pending.len());
        out[..count].copy_from_slice(&self.pending[..count]);
        self.pending.drain(..count);
        Ok(count)
    }
}

/// A document's encoding, as its first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Latin1,
    Utf16 { little_endian: bool },
}

/// The encoding a document's start says, and how many bytes of byte-order mark to skip.
pub(crate) fn sniff(start: &[u8]) -> (Encoding, usize) {
    if start.starts_with(&[0xFF, 0xFE]) {
        return (
            Encoding::Utf16 {
                little_endian: true,
            },
            2,
        );
    }
    if start.starts_with(&[0xFE, 0xFF]) {
        return (
            Encoding::Utf16 {
                little_endian: false,
            },
            2,
        );
    }
    if start.starts_with(b"\xEF\xBB\xBF") {
        return (Encoding::Utf8, 3);
    }
    let head = String::from_utf8_lossy(&start[..start.len().min(200)]).to_ascii_lowercase();
    if head.starts_with("<?xml") {
        if let Some(declaration) = head.split("?>").next() {
            for latin in ["iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252"] {
                if declaration.contains(&format!("encoding=\"{latin}\""))
                    || declaration.contains(&format!("encoding='{latin}'"))
                {
                    return (Encoding::Latin1, 0);
                }
            }
        }
    }
    (Encoding::Utf8, 0)
}

/// The values of the `wanted` attributes, read in one pass over the element's attributes (the
/// first of each name wins), borrowed from the element when nothing needed resolving.
pub(crate) fn attributes<'a, const N: usize>(
    element: &'a BytesStart<'_>,
    wanted: [&str; N],
) -> [Option<Cow<'a, str>>; N] {
    let mut found = [const { None }; N];
    for attribute in element.attributes().with_checks(false).flatten() {
        let key = attribute.key.local_name();
        let Some(slot) = wanted.iter().position(|name| key.as_ref() == *name) else {
            continue;
        };
        if found[slot].is_none() {
            found[slot] = Some(attribute_value(&attribute));
        }
    }
    found
}

fn attribute_value<'a>(attribute: &quick_xml::events::attributes::Attribute<'a>) -> Cow<'a, str> {
    match attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
        Ok(value) => value,
        // An undeclared entity: keep the text as written.
        Err(_) => attribute.value.clone(),
    }
}

/// One attribute's value (the first of that name).
pub(crate) fn attribute(element: &BytesStart<'_>, wanted: &str) -> Option<String> {
    let [value] = attributes(element, [wanted]);
    value.map(Cow::into_owned)
}

/// The next event, naming the file and byte offset on errors. Also errors: the end of the
/// document while `open` elements are still open (a file cut short), and a document type that
/// declares entities (XXE, billion laughs), refused before anything after it is read.
/// The deepest a report's elements may nest (suites within suites, as Jest and Mocha write
/// `describe` blocks, rarely pass ten).
pub(crate) const MAX_ELEMENT_DEPTH: usize = 256;

/// The longest a suite's full name (`outer / inner / …`) grows; nested suites beyond it share
/// the cut name, so memory grows with the depth, not its square.
pub(crate) const MAX_SUITE_NAME_BYTES: usize = 1_024;

pub(crate) fn next_event<'b, R: BufRead>(
    reader: &mut quick_xml::Reader<R>,
    buffer: &'b mut Vec<u8>,
    file: &str,
    open: usize,
) -> Result<Event<'b>, TestReportError> {
    let position = reader.buffer_position();
    let event = reader
        .read_event_into(buffer)
        .map_err(|error| TestReportError::Xml {
            file: file.to_owned(),
            position,
            message: error.to_string(),
        })?;
    if let Event::DocType(doctype) = &event {
        if doctype.as_ref().to_ascii_uppercase().contains("<!ENTITY") {
            return Err(TestReportError::Entities {
                file: file.to_owned(),
            });
        }
    }
    if matches!(event, Event::Start(_)) && open >= MAX_ELEMENT_DEPTH {
        return Err(TestReportError::Xml {
            file: file.to_owned(),
            position,
            message: format!(
                "elements nested more than {MAX_ELEMENT_DEPTH} deep: no test runner writes that, and reading on would take memory without bound"
            ),
        });
    }
    if matches!(event, Event::Eof) && open > 0 {
        return Err(TestReportError::Xml {
            file: file.to_owned(),
            position,
            message: format!(
                "the document ends inside {open} open element(s): the file was cut short"
            ),
        });
    }
    Ok(event)
}
