//! The first pass over tables that cannot be read by patient range (Parquet files whose row
//! groups are not in `patient_id` order; Arrow and CSV files, which have no statistics): each
//! is rewritten, a bounded chunk of rows at a time, into Parquet bucket files of ascending
//! patient-id ranges in a temporary folder, keeping the file's row order within a patient.
//!
//! Two passes a table: the first reads the patient ids (a CSV or Arrow file is converted to a
//! typed Parquet file on the way) and keeps an evenly spaced sample of them, whose quantiles
//! are the buckets' bounds; the second reads the rows again and appends each row to its
//! bucket's file. Values are typed and checked as the folder reader does, so a bad value is
//! reported with the original file and row. Arrow files are read whole once (the columns the
//! run reads) before being cut into chunks.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use polars::io::parquet::write::BatchedWriter;
use polars::prelude::*;
use query::check::CodePrefilter;
use query::TableSchema;

use crate::error::SourceError;
use crate::folder::{coerce_frame, Ctx};

/// Ids kept by the sample (between this and twice this many).
const SAMPLE: usize = 1 << 15;

/// The most bucket files one table is cut into (each is an open file during the second pass).
pub(crate) const MAX_BUCKETS: usize = 256;

/// What a sort has done, reported after each chunk of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortProgress {
    /// The table being sorted.
    pub table: String,
    /// The pass: 1 reads the patient ids, 2 writes the buckets.
    pub pass: u8,
    /// Rows of the table done in this pass so far.
    pub rows: u64,
    /// Whether this pass over the table is complete.
    pub finished: bool,
}

/// An evenly spaced sample of a stream of ids: every `every`-th, `every` doubling whenever
/// the sample reaches twice [`SAMPLE`] (deterministic, bounded).
struct Sampler {
    every: usize,
    seen: usize,
    ids: Vec<i64>,
}

impl Sampler {
    fn new() -> Sampler {
        Sampler {
            every: 1,
            seen: 0,
            ids: Vec::new(),
        }
    }

    fn push(&mut self, id: i64) {
        if self.seen.is_multiple_of(self.every) {
            self.ids.push(id);
            if self.ids.len() >= 2 * SAMPLE {
                let kept: Vec<i64> = self.ids.iter().step_by(2).copied().collect();
                self.ids = kept;
                self.every *= 2;
            }
        }
        self.seen += 1;
    }

    /// The lower bounds of buckets 1.. of `buckets` buckets of about equal rows (strictly
    /// ascending; fewer when ids repeat).
    fn bounds(mut self, buckets: usize) -> Vec<i64> {
        self.ids.sort_unstable();
        let mut out: Vec<i64> = Vec::with_capacity(buckets);
        for i in 1..buckets {
            let Some(&b) = self.ids.get(i * self.ids.len() / buckets) else {
                break;
            };
            if out.last().is_none_or(|last| b > *last) && self.ids.first() != Some(&b) {
                out.push(b);
            }
        }
        out
    }
}

/// A table to sort: where it is and what of it is read.
pub(crate) struct SortSource<'a> {
    pub(crate) table: &'a str,
    pub(crate) schema: &'a TableSchema,
    /// The original file (named in messages).
    pub(crate) file: &'a Path,
    /// `patient_id` then the columns read.
    pub(crate) wanted: &'a [String],
    /// The rows of a chunk, and about the rows of a bucket.
    pub(crate) chunk_rows: usize,
    /// The rows the run's reads keep: only they go into the buckets.
    pub(crate) prefilter: Option<&'a CodePrefilter>,
}

/// A sorted table: its bucket files in ascending patient order, and the patients of the rows
/// the prefilter cut (ascending, once each), who stay in the patient universe.
pub(crate) struct Sorted {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) cut_patients: Vec<i64>,
    /// The rows of the table, and those kept.
    pub(crate) rows: usize,
    pub(crate) kept: usize,
}

/// The patients of cut rows: a sorted set, merged from batches so that memory grows with the
/// patients, not the rows.
#[derive(Default)]
struct CutPatients {
    ids: Vec<i64>,
    pending: Vec<i64>,
}

impl CutPatients {
    fn push(&mut self, id: i64) {
        self.pending.push(id);
        if self.pending.len() >= 1 << 20 {
            self.merge();
        }
    }

    fn merge(&mut self) {
        self.pending.sort_unstable();
        self.pending.dedup();
        let mut merged = Vec::with_capacity(self.ids.len() + self.pending.len());
        let (mut a, mut b) = (self.ids.iter().peekable(), self.pending.iter().peekable());
        while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
            if x < y {
                merged.push(x);
                a.next();
            } else {
                if x == y {
                    a.next();
                }
                merged.push(y);
                b.next();
            }
        }
        merged.extend(a);
        merged.extend(b);
        self.ids = merged;
        self.pending.clear();
    }

    fn finish(mut self) -> Vec<i64> {
        self.merge();
        self.ids
    }
}

/// Which rows of `df` the prefilter keeps (`None`: every row); the patients of the others go
/// to `cut` when given.
fn kept_rows(
    df: &DataFrame,
    prefilter: Option<&CodePrefilter>,
    cut: Option<&mut CutPatients>,
) -> PolarsResult<Option<Vec<bool>>> {
    let Some(f) = prefilter else {
        return Ok(None);
    };
    let codes = df.column(&f.column)?.str()?;
    let keep: Vec<bool> = codes.iter().map(|c| f.keeps(c)).collect();
    if let Some(cut) = cut {
        let ids = df.column(query::PATIENT_ID)?.i64()?;
        for (id, k) in ids.iter().zip(&keep) {
            if let (Some(id), false) = (id, *k) {
                cut.push(id);
            }
        }
    }
    Ok(Some(keep))
}

impl SortSource<'_> {
    fn ctx(&self, first_row: usize) -> Ctx<'_> {
        Ctx {
            table: self.table,
            file: self.file,
            first_row,
        }
    }

    fn io(&self, file: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
        let file = file.to_path_buf();
        move |source| SourceError::Io {
            table: self.table.to_string(),
            file,
            source,
        }
    }

    fn wanted_refs(&self) -> Vec<&str> {
        self.wanted.iter().map(String::as_str).collect()
    }
}

/// Sorts the rows of `src` its prefilter keeps into bucket files under `dir`.
pub(crate) fn sort_table(
    src: &SortSource<'_>,
    dir: &Path,
    progress: &mut dyn FnMut(&SortProgress),
) -> Result<Sorted, SourceError> {
    let mut report = |pass: u8, rows: usize, finished: bool| {
        progress(&SortProgress {
            table: src.table.to_string(),
            pass,
            rows: rows as u64,
            finished,
        });
    };
    let mut sampler = Sampler::new();
    let mut cut = CutPatients::default();
    let rows_read;
    let name = src.file.to_string_lossy();
    // Pass 1: the ids (of the rows kept); a file without row groups is converted to Parquet
    // first (the rows kept).
    let (parquet, typed, converted) = if name.ends_with(".parquet") {
        let total = parquet_rows(src, src.file)?;
        let mut columns = vec![query::PATIENT_ID];
        if let Some(f) = src.prefilter {
            columns.push(f.column.as_str());
        }
        let mut start = 0;
        while start < total {
            let len = src.chunk_rows.min(total - start);
            let raw = read_parquet_slice(src, src.file, &columns, start, len)?;
            let df = coerce_frame(&src.ctx(start), src.schema, &raw, &columns)?;
            let keep = kept_rows(&df, src.prefilter, Some(&mut cut))
                .map_err(|e| src.ctx(start).read(e))?;
            push_ids(&df, keep.as_deref(), &mut sampler).map_err(|e| src.ctx(start).read(e))?;
            start += len;
            report(1, start, false);
        }
        report(1, total, true);
        rows_read = total;
        (src.file.to_path_buf(), false, None)
    } else {
        let target = dir.join(format!("{}.unsorted.parquet", src.table));
        let mut writer: Option<BatchedWriter<File>> = None;
        let mut rows = 0;
        let mut write = |first_row: usize, df: DataFrame| -> Result<(), SourceError> {
            let ctx = src.ctx(first_row);
            let keep = kept_rows(&df, src.prefilter, Some(&mut cut)).map_err(|e| ctx.read(e))?;
            push_ids(&df, keep.as_deref(), &mut sampler).map_err(|e| ctx.read(e))?;
            rows = first_row + df.height();
            let df = match keep {
                Some(k) => df
                    .filter(&BooleanChunked::from_slice("keep".into(), &k))
                    .map_err(|e| ctx.read(e))?,
                None => df,
            };
            if df.height() > 0 {
                append(src, &target, &mut writer, &df)?;
            }
            report(1, rows, false);
            Ok(())
        };
        if name.ends_with(".arrow") || name.ends_with(".feather") {
            arrow_chunks(src, &mut write)?;
        } else {
            csv_chunks(src, name.ends_with(".gz"), &mut write)?;
        }
        report(1, rows, true);
        rows_read = rows;
        match writer {
            Some(w) => {
                w.finish().map_err(|e| src.ctx(0).read(e))?;
            }
            None => {
                return Ok(Sorted {
                    files: Vec::new(),
                    cut_patients: cut.finish(),
                    rows,
                    kept: 0,
                });
            }
        }
        (target.clone(), true, Some(target))
    };
    let kept = sampler.seen;
    let buckets = kept.div_ceil(src.chunk_rows).clamp(1, MAX_BUCKETS);
    let bounds = sampler.bounds(buckets);

    // Pass 2: every row to its bucket.
    let total = parquet_rows(src, &parquet)?;
    let mut writers: Vec<Option<BatchedWriter<File>>> = (0..=bounds.len()).map(|_| None).collect();
    let paths: Vec<PathBuf> = (0..=bounds.len())
        .map(|b| dir.join(format!("{}.{b:04}.parquet", src.table)))
        .collect();
    let wanted = src.wanted_refs();
    let mut start = 0;
    while start < total {
        let len = src.chunk_rows.min(total - start);
        let raw = read_parquet_slice(src, &parquet, &wanted, start, len)?;
        let df = if typed {
            raw
        } else {
            coerce_frame(&src.ctx(start), src.schema, &raw, &wanted)?
        };
        let ids = df
            .column(query::PATIENT_ID)
            .and_then(|c| c.i64().cloned())
            .map_err(|e| src.ctx(start).read(e))?;
        // A converted file holds only the rows kept already.
        let keep = if typed {
            None
        } else {
            kept_rows(&df, src.prefilter, None).map_err(|e| src.ctx(start).read(e))?
        };
        let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); bounds.len() + 1];
        for (i, id) in ids.into_no_null_iter().enumerate() {
            if keep.as_ref().is_none_or(|k| k[i]) {
                rows[bounds.partition_point(|b| *b <= id)].push(i as IdxSize);
            }
        }
        for (b, idx) in rows.into_iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let part = df
                .take(&IdxCa::from_vec(PlSmallStr::EMPTY, idx))
                .map_err(|e| src.ctx(start).read(e))?;
            append(src, &paths[b], &mut writers[b], &part)?;
        }
        start += len;
        report(2, start, false);
    }
    let mut out = Vec::new();
    for (w, path) in writers.into_iter().zip(paths) {
        if let Some(w) = w {
            w.finish().map_err(|e| src.ctx(0).read(e))?;
            out.push(path);
        }
    }
    if let Some(c) = converted {
        std::fs::remove_file(&c).map_err(src.io(&c))?;
    }
    report(2, total, true);
    Ok(Sorted {
        files: out,
        cut_patients: cut.finish(),
        rows: rows_read,
        kept,
    })
}

/// Adds the `patient_id`s of the rows of `df` kept (every row without `keep`) to the sample.
fn push_ids(df: &DataFrame, keep: Option<&[bool]>, sampler: &mut Sampler) -> PolarsResult<()> {
    for (i, id) in df
        .column(query::PATIENT_ID)?
        .i64()?
        .into_no_null_iter()
        .enumerate()
    {
        if keep.is_none_or(|k| k[i]) {
            sampler.push(id);
        }
    }
    Ok(())
}

/// Appends `df` to the Parquet file at `path` (created, uncompressed, at the first append).
fn append(
    src: &SortSource<'_>,
    path: &Path,
    writer: &mut Option<BatchedWriter<File>>,
    df: &DataFrame,
) -> Result<(), SourceError> {
    let read = |e| SourceError::Read {
        table: src.table.to_string(),
        file: path.to_path_buf(),
        source: e,
    };
    if writer.is_none() {
        let f = File::create(path).map_err(src.io(path))?;
        *writer = Some(
            ParquetWriter::new(f)
                .with_compression(ParquetCompression::Uncompressed)
                .batched(df.schema())
                .map_err(read)?,
        );
    }
    if let Some(w) = writer.as_mut() {
        let mut df = df.clone();
        df.rechunk_mut();
        w.write_batch(&df).map_err(read)?;
    }
    Ok(())
}

/// The rows of a Parquet file.
fn parquet_rows(src: &SortSource<'_>, path: &Path) -> Result<usize, SourceError> {
    let f = File::open(path).map_err(src.io(path))?;
    let mut reader = ParquetReader::new(f);
    let metadata = reader.get_metadata().map_err(|e| src.ctx(0).read(e))?;
    Ok(metadata.num_rows)
}

/// Rows `start..start + len` of `columns` of a Parquet file, as stored.
fn read_parquet_slice(
    src: &SortSource<'_>,
    path: &Path,
    columns: &[&str],
    start: usize,
    len: usize,
) -> Result<DataFrame, SourceError> {
    let f = File::open(path).map_err(src.io(path))?;
    ParquetReader::new(f)
        .with_columns(Some(columns.iter().map(ToString::to_string).collect()))
        .with_slice(Some((start, len)))
        .finish()
        .map_err(|e| src.ctx(start).read(e))
}

/// The rows of an Arrow file in chunks, typed and checked (read whole first).
fn arrow_chunks(
    src: &SortSource<'_>,
    f: &mut dyn FnMut(usize, DataFrame) -> Result<(), SourceError>,
) -> Result<(), SourceError> {
    let file = File::open(src.file).map_err(src.io(src.file))?;
    let mut reader = IpcReader::new(file);
    let schema = reader.schema().map_err(|e| src.ctx(0).read(e))?;
    if let Some(c) = src.wanted.iter().find(|c| !schema.contains(c)) {
        return Err(src.ctx(0).missing(c));
    }
    let raw = reader
        .with_columns(Some(src.wanted.to_vec()))
        .finish()
        .map_err(|e| src.ctx(0).read(e))?;
    let wanted = src.wanted_refs();
    let mut start = 0;
    while start < raw.height() {
        let len = src.chunk_rows.min(raw.height() - start);
        let chunk = raw.slice(start as i64, len);
        f(
            start,
            coerce_frame(&src.ctx(start), src.schema, &chunk, &wanted)?,
        )?;
        start += len;
    }
    Ok(())
}

/// The rows of a CSV file (gzipped when `gz`) in chunks, typed and checked, reading one chunk
/// of text at a time.
fn csv_chunks(
    src: &SortSource<'_>,
    gz: bool,
    f: &mut dyn FnMut(usize, DataFrame) -> Result<(), SourceError>,
) -> Result<(), SourceError> {
    let file = File::open(src.file).map_err(src.io(src.file))?;
    let input: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        )))
    } else {
        Box::new(file)
    };
    let text_error = |row: usize, e: String| SourceError::Read {
        table: src.table.to_string(),
        file: src.file.to_path_buf(),
        source: PolarsError::ComputeError(format!("data row {}: {e}", row + 1).into()),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let headers = reader
        .byte_headers()
        .map_err(|e| text_error(0, e.to_string()))?
        .clone();
    let mut positions = Vec::with_capacity(src.wanted.len());
    for c in src.wanted {
        let at = headers
            .iter()
            .position(|h| h == c.as_bytes())
            .ok_or_else(|| src.ctx(0).missing(c))?;
        positions.push(at);
    }
    let wanted = src.wanted_refs();
    let new_builders = || -> Vec<StringChunkedBuilder> {
        wanted
            .iter()
            .map(|c| StringChunkedBuilder::new((*c).into(), src.chunk_rows))
            .collect()
    };
    let finish = |builders: Vec<StringChunkedBuilder>, first_row: usize, rows: usize| {
        let cols: Vec<Column> = builders
            .into_iter()
            .map(|b| b.finish().into_series().into())
            .collect();
        let raw = DataFrame::new(rows, cols).map_err(|e| src.ctx(first_row).read(e))?;
        coerce_frame(&src.ctx(first_row), src.schema, &raw, &wanted)
    };
    let mut builders = new_builders();
    let mut record = csv::ByteRecord::new();
    let (mut first_row, mut rows) = (0, 0);
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| text_error(first_row + rows, e.to_string()))?;
        if more {
            for (b, &at) in builders.iter_mut().zip(&positions) {
                let field = record.get(at).unwrap_or_default();
                let text = std::str::from_utf8(field)
                    .map_err(|e| text_error(first_row + rows, e.to_string()))?;
                b.append_value(text);
            }
            rows += 1;
        }
        if rows == src.chunk_rows || (!more && rows > 0) {
            let full = std::mem::replace(&mut builders, new_builders());
            f(first_row, finish(full, first_row, rows)?)?;
            first_row += rows;
            rows = 0;
        }
        if !more {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_gives_bounds_of_even_buckets() {
        let mut s = Sampler::new();
        for id in 0..1_000_000 {
            s.push(id);
        }
        assert!(s.ids.len() >= SAMPLE && s.ids.len() < 2 * SAMPLE);
        let bounds = s.bounds(4);
        assert_eq!(bounds.len(), 3);
        for (b, want) in bounds.iter().zip([250_000, 500_000, 750_000]) {
            assert!((b - want).abs() < 1_000, "{bounds:?}");
        }
        // Repeated ids give fewer, distinct bounds; one id gives one bucket.
        let mut s = Sampler::new();
        for id in [5, 5, 5, 5, 9, 9, 9, 9] {
            s.push(id);
        }
        assert_eq!(s.bounds(4), vec![9]);
        let mut s = Sampler::new();
        s.push(3);
        assert_eq!(s.bounds(8), Vec::<i64>::new());
    }
}
