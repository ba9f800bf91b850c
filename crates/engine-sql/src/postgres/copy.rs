//! PostgreSQL's binary COPY format, column-wise: [`copy_in`] sends columns to a table,
//! [`BinaryRows`] reads typed rows of `COPY (…) TO STDOUT (FORMAT binary)`.
//!
//! The format: a signature, flags and an extension area; per row an `int16` field count and per
//! field an `int32` length (`-1` = null) and the value in network byte order (`boolean` 1 byte,
//! `bigint` 8, `double precision` IEEE 8, `text` UTF-8, `date` `int32` days since 2000-01-01);
//! a trailer of `-1`.

use std::io::{self, BufRead, BufReader, Read, Write};

use query::{ColumnData, Date, Type, Value};

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Days from 1970-01-01 to 2000-01-01 (PostgreSQL's date epoch).
const PG_EPOCH_DAYS: i32 = 10_957;
/// Bytes buffered before they are sent.
const CHUNK: usize = 1 << 20;

/// Sends `columns` (all of the same length) to `table`'s `names` with one binary COPY; returns
/// the number of rows. `table` and `names` are SQL identifiers, already quoted.
pub fn copy_in(
    client: &mut impl postgres::GenericClient,
    table: &str,
    names: &[String],
    columns: &[&ColumnData],
) -> Result<u64, postgres::Error> {
    let rows = columns.first().map_or(0, |c| c.len());
    let sql = format!(
        "COPY {table} ({}) FROM STDIN (FORMAT binary)",
        names.join(", ")
    );
    let mut writer = client.copy_in(sql.as_str())?;
    let mut buf = Vec::with_capacity(CHUNK + 4096);
    buf.extend_from_slice(SIGNATURE);
    buf.extend_from_slice(&0i32.to_be_bytes());
    buf.extend_from_slice(&0i32.to_be_bytes());
    let count = i16::try_from(columns.len()).unwrap_or(i16::MAX);
    let mut io_error = None;
    for i in 0..rows {
        buf.extend_from_slice(&count.to_be_bytes());
        for c in columns {
            encode(&mut buf, c, i);
        }
        if buf.len() >= CHUNK {
            if let Err(e) = writer.write_all(&buf) {
                io_error = Some(e);
                break;
            }
            buf.clear();
        }
    }
    if io_error.is_none() {
        buf.extend_from_slice(&(-1i16).to_be_bytes());
        if let Err(e) = writer.write_all(&buf) {
            io_error = Some(e);
        }
    }
    match io_error {
        // The server's error, if it sent one, explains the write failure.
        Some(_) => writer.finish().map(|_| 0),
        None => writer.finish(),
    }
}

fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    buf.extend_from_slice(bytes);
}

fn null(buf: &mut Vec<u8>) {
    buf.extend_from_slice(&(-1i32).to_be_bytes());
}

fn encode(buf: &mut Vec<u8>, column: &ColumnData, i: usize) {
    match column {
        ColumnData::Bool(v) => match v[i] {
            Some(b) => put(buf, &[u8::from(b)]),
            None => null(buf),
        },
        ColumnData::Int(v) => match v[i] {
            Some(x) => put(buf, &x.to_be_bytes()),
            None => null(buf),
        },
        ColumnData::Float(v) => match v[i] {
            Some(x) => put(buf, &x.to_bits().to_be_bytes()),
            None => null(buf),
        },
        ColumnData::Str(s) => match s.valid[i] {
            true => put(buf, &s.bytes[s.offsets[i]..s.offsets[i + 1]]),
            false => null(buf),
        },
        ColumnData::Date(v) => match v[i] {
            Some(d) => put(buf, &d.0.wrapping_sub(PG_EPOCH_DAYS).to_be_bytes()),
            None => null(buf),
        },
    }
}

/// Rows of a binary COPY stream whose fields have the given types.
pub struct BinaryRows<R: Read> {
    reader: BufReader<R>,
    types: Vec<Type>,
    field: Vec<u8>,
    done: bool,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl<R: Read> BinaryRows<R> {
    /// Reads the header of the stream.
    pub fn new(reader: R, types: Vec<Type>) -> io::Result<Self> {
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let mut sig = [0u8; 11];
        reader.read_exact(&mut sig)?;
        if &sig != SIGNATURE {
            return Err(bad("not a binary COPY stream"));
        }
        let mut word = [0u8; 4];
        reader.read_exact(&mut word)?; // flags
        reader.read_exact(&mut word)?;
        let ext = u32::from_be_bytes(word) as usize;
        let mut skip = vec![0u8; ext];
        reader.read_exact(&mut skip)?;
        Ok(BinaryRows {
            reader,
            types,
            field: Vec::new(),
            done: false,
        })
    }

    /// Reads the next row into `out` (cleared first); false at the end of the stream.
    pub fn next_row(&mut self, out: &mut Vec<Value>) -> io::Result<bool> {
        out.clear();
        if self.done {
            return Ok(false);
        }
        let mut two = [0u8; 2];
        if self.reader.fill_buf()?.is_empty() {
            self.done = true;
            return Ok(false);
        }
        self.reader.read_exact(&mut two)?;
        let n = i16::from_be_bytes(two);
        if n == -1 {
            self.done = true;
            return Ok(false);
        }
        if n as usize != self.types.len() {
            return Err(bad(format!(
                "a row of {n} fields where {} were expected",
                self.types.len()
            )));
        }
        for i in 0..self.types.len() {
            let mut four = [0u8; 4];
            self.reader.read_exact(&mut four)?;
            let len = i32::from_be_bytes(four);
            if len < 0 {
                out.push(Value::Null);
                continue;
            }
            self.field.resize(len as usize, 0);
            self.reader.read_exact(&mut self.field)?;
            let f = &self.field[..];
            let wrong = || {
                bad(format!(
                    "a field of {} bytes for {}",
                    f.len(),
                    self.types[i]
                ))
            };
            out.push(match self.types[i] {
                Type::Bool => match f {
                    [b] => Value::Bool(*b != 0),
                    _ => return Err(wrong()),
                },
                Type::Int => Value::Int(i64::from_be_bytes(f.try_into().map_err(|_| wrong())?)),
                Type::Float => Value::Float(f64::from_bits(u64::from_be_bytes(
                    f.try_into().map_err(|_| wrong())?,
                ))),
                Type::Str => {
                    Value::str(std::str::from_utf8(f).map_err(|_| bad("text that is not UTF-8"))?)
                }
                Type::Date => Value::Date(Date(
                    i32::from_be_bytes(f.try_into().map_err(|_| wrong())?)
                        .wrapping_add(PG_EPOCH_DAYS),
                )),
            });
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_rows_decode_to_the_same_values() {
        let mut s = query::StrColumn::new();
        s.push(Some("x'); DROP TABLE patients; --"));
        s.push(None);
        let columns = [
            ColumnData::Int(vec![Some(-7), None]),
            ColumnData::Float(vec![Some(0.1), Some(-2.5)]),
            ColumnData::Str(s),
            ColumnData::Date(vec![Date::parse_iso("1999-12-31"), None]),
            ColumnData::Bool(vec![None, Some(true)]),
        ];
        let mut buf = Vec::new();
        buf.extend_from_slice(SIGNATURE);
        buf.extend_from_slice(&0i32.to_be_bytes());
        buf.extend_from_slice(&0i32.to_be_bytes());
        for i in 0..2 {
            buf.extend_from_slice(&5i16.to_be_bytes());
            for c in &columns {
                encode(&mut buf, c, i);
            }
        }
        buf.extend_from_slice(&(-1i16).to_be_bytes());
        let types = columns.iter().map(ColumnData::ty).collect();
        let mut rows = BinaryRows::new(&buf[..], types).unwrap();
        let mut row = Vec::new();
        for i in 0..2 {
            assert!(rows.next_row(&mut row).unwrap());
            let want: Vec<Value> = columns.iter().map(|c| c.get(i)).collect();
            assert_eq!(row, want);
        }
        assert!(!rows.next_row(&mut row).unwrap());
    }
}
