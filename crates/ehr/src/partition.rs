//! A folder's tables read in patient partitions: a plan of patient-id ranges sized to a
//! memory budget from the Parquet footers (row counts, row-group `patient_id` statistics), and
//! the rows of one range loaded with column projection, only the row groups whose statistics
//! overlap the range, and an optional codelist prefilter per table.
//!
//! Tables that cannot be read by range (Parquet files not in `patient_id` order; Arrow and CSV
//! files, which have no statistics) are sorted first into a temporary folder
//! ([`PartitionedFolder::prepare`], [`crate::sort`]) when the run needs more than one
//! partition; when it needs one, Arrow and CSV files are loaded whole.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use polars::io::parquet::metadata::FileMetadataRef;
use polars::prelude::*;
use polars_parquet::parquet::statistics::Statistics;
use query::check::CodePrefilter;
use query::{TableSchema, Type};

use crate::contract;
use crate::error::SourceError;
use crate::folder::{coerce_frame, load_columns, Ctx, TableFolder};
use crate::sort::{sort_table, SortProgress, SortSource};

/// The most rows one read of consecutive row groups takes (more are read in several).
const MAX_RUN_ROWS: usize = 1 << 20;

/// One row group of a Parquet table: its first row, row count and `patient_id` bounds
/// (`i64::MIN..=i64::MAX` when the file has no statistics).
#[derive(Debug, Clone, Copy)]
struct Group {
    first_row: usize,
    rows: usize,
    min: i64,
    max: i64,
}

/// One Parquet file of a table: the table's own, or one of the bucket files it was sorted into.
struct ParquetPart {
    path: PathBuf,
    metadata: FileMetadataRef,
    groups: Vec<Group>,
    /// Written by the sort: typed and checked already.
    typed: bool,
}

enum Layout {
    /// Parquet files, read by their row groups' statistics.
    Parquet(Vec<ParquetPart>),
    /// Loaded whole (no statistics to read by).
    Loaded(DataFrame),
    /// An Arrow or CSV file not read yet ([`PartitionedFolder::prepare`] loads or sorts it),
    /// with its estimated bytes in memory.
    Unread { bytes: u64 },
}

struct TableFile {
    schema: TableSchema,
    file: PathBuf,
    /// `patient_id` then the columns read.
    wanted: Vec<String>,
    /// Bytes one row takes in memory (estimated from the column types).
    row_bytes: u64,
    layout: Layout,
    /// Whether the rows are in ascending `patient_id` order (by row group or bucket file).
    sorted: bool,
    /// Sorted with a prefilter: the patients of the rows it cut (ascending), who stay in
    /// the patient universe.
    cut_patients: Vec<i64>,
    /// Rows of the table per row kept by the sort's prefilter (1 without one): the plan
    /// counts every row, as it does for a table read sorted (where the prefilter cuts rows
    /// only as they are read), so that partitions hold as many patients either way.
    rows_per_kept: f64,
}

impl TableFile {
    /// The estimated bytes of the rows read, in memory.
    fn bytes(&self) -> u64 {
        match &self.layout {
            Layout::Parquet(parts) => parts
                .iter()
                .flat_map(|p| &p.groups)
                .map(|g| self.group_bytes(g) as u64)
                .sum(),
            Layout::Loaded(df) => df.height() as u64 * self.row_bytes,
            Layout::Unread { bytes } => *bytes,
        }
    }

    /// The estimated bytes of a row group's rows, counting those the sort's prefilter cut.
    fn group_bytes(&self, g: &Group) -> f64 {
        g.rows as f64 * self.rows_per_kept * self.row_bytes as f64
    }
}

/// The tables a run reads from a folder, open for reading by patient range.
pub struct PartitionedFolder {
    tables: BTreeMap<String, TableFile>,
    /// The sorted copies of tables, removed with the folder.
    sorted_dir: Option<tempfile::TempDir>,
}

/// Estimated in-memory bytes of one value of `ty` (strings: a view plus a short text).
fn value_bytes(ty: Type) -> u64 {
    match ty {
        Type::Bool => 1,
        Type::Date => 4,
        Type::Int | Type::Float => 8,
        Type::Str => 24,
    }
}

/// The partitions of a run: patient-id ranges, ascending, covering every id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionPlan {
    /// The ranges; `[lo, hi)`, the first starting at `i64::MIN`, the last ending at `i64::MAX`.
    pub ranges: Vec<Range<i64>>,
    /// The estimated bytes of every row the run reads, held at once.
    pub estimated_bytes: u64,
    /// Tables not in ascending `patient_id` order: Parquet tables whose row groups are not,
    /// and tables in other formats (before [`PartitionedFolder::prepare`] sorts them).
    pub unsorted: Vec<String>,
    /// The bytes a partition was to hold.
    pub bytes_per_partition: u64,
}

impl PartitionPlan {
    /// Whether [`PartitionedFolder::prepare`] sorts tables: some are not in patient order
    /// and the run needs more than one partition (or would, were they sorted: tables without
    /// statistics cannot be split before).
    pub fn needs_sort(&self) -> bool {
        !self.unsorted.is_empty()
            && (self.ranges.len() > 1 || self.estimated_bytes > self.bytes_per_partition)
    }
}

impl PartitionedFolder {
    /// Opens `columns` (besides `patient_id`) of each named contract table of `folder`:
    /// reads the Parquet footers; tables in other formats are read by [`Self::prepare`].
    pub fn open(
        folder: &TableFolder,
        columns: &BTreeMap<String, BTreeSet<String>>,
    ) -> Result<PartitionedFolder, SourceError> {
        let mut tables = BTreeMap::new();
        for (table, cols) in columns {
            let schema = contract::table(table).ok_or_else(|| SourceError::UnknownTable {
                table: table.clone(),
            })?;
            let file = folder
                .find(table)?
                .ok_or_else(|| SourceError::MissingTable {
                    table: table.clone(),
                    dir: folder.dir().to_path_buf(),
                })?;
            let wanted: Vec<String> = std::iter::once(query::PATIENT_ID.to_string())
                .chain(cols.iter().cloned())
                .collect();
            let mut row_bytes = 8;
            for c in cols {
                let ty = schema.column(c).map_or(Type::Str, |c| c.ty);
                row_bytes += value_bytes(ty);
            }
            let ctx = Ctx {
                table,
                file: &file,
                first_row: 0,
            };
            let name = file.to_string_lossy();
            let (layout, sorted) = if name.ends_with(".parquet") {
                let part = open_parquet(&ctx, &file, &wanted, false)?;
                let sorted = part.groups.windows(2).all(|w| w[0].max < w[1].min);
                (Layout::Parquet(vec![part]), sorted)
            } else {
                let on_disk = std::fs::metadata(&file)
                    .map_err(|source| SourceError::Io {
                        table: table.clone(),
                        file: file.clone(),
                        source,
                    })?
                    .len();
                // Text takes about as much room in memory as on disk; gzip about a fifth.
                let bytes = if name.ends_with(".gz") {
                    on_disk * 5
                } else {
                    on_disk
                };
                (Layout::Unread { bytes }, false)
            };
            tables.insert(
                table.clone(),
                TableFile {
                    schema: (**schema).clone(),
                    file,
                    wanted,
                    row_bytes,
                    layout,
                    sorted,
                    cut_patients: Vec::new(),
                    rows_per_kept: 1.0,
                },
            );
        }
        Ok(PartitionedFolder {
            tables,
            sorted_dir: None,
        })
    }

    /// Makes the tables readable under `plan`: when it needs more than one partition
    /// ([`PartitionPlan::needs_sort`]), every table not in `patient_id` order is sorted into
    /// bucket files in a temporary folder under `temp_parent` (removed with this folder; each
    /// table's memory is a chunk of about a quarter of `bytes_per_partition`), and the plan is
    /// made again; otherwise Arrow and CSV tables are loaded whole. A sorted table with one
    /// of `prefilters` keeps only the rows it keeps (and the patients of the others), so every
    /// [`Self::load`] must keep no more: the same prefilter, or one with fewer codes (the
    /// union of several studies' prefilters here serves each). The plan to run by.
    pub fn prepare(
        &mut self,
        plan: PartitionPlan,
        prefilters: &BTreeMap<String, CodePrefilter>,
        temp_parent: &Path,
        progress: &mut dyn FnMut(&SortProgress),
    ) -> Result<PartitionPlan, SourceError> {
        let bytes_per_partition = plan.bytes_per_partition;
        if !plan.needs_sort() {
            for t in self.tables.values_mut() {
                if let Layout::Unread { .. } = t.layout {
                    let refs: Vec<&str> = t.wanted.iter().map(String::as_str).collect();
                    t.layout = Layout::Loaded(load_columns(&t.schema, &t.file, &refs)?);
                }
            }
            return Ok(plan);
        }
        let dir = tempfile::Builder::new()
            .prefix(".sort-by-patient-")
            .tempdir_in(temp_parent)
            .map_err(|source| SourceError::Io {
                table: plan.unsorted.join(", "),
                file: temp_parent.to_path_buf(),
                source,
            })?;
        let chunk_bytes = (bytes_per_partition / 4).max(1 << 16);
        for name in &plan.unsorted {
            let Some(t) = self.tables.get_mut(name) else {
                continue;
            };
            let table_dir = dir.path().join(name);
            std::fs::create_dir_all(&table_dir).map_err(|source| SourceError::Io {
                table: name.clone(),
                file: table_dir.clone(),
                source,
            })?;
            let chunk_rows = (chunk_bytes / t.row_bytes).clamp(4096, MAX_RUN_ROWS as u64) as usize;
            let src = SortSource {
                table: name,
                schema: &t.schema,
                file: &t.file,
                wanted: &t.wanted,
                chunk_rows,
                prefilter: prefilters.get(name),
            };
            let sorted = sort_table(&src, &table_dir, progress)?;
            t.cut_patients = sorted.cut_patients;
            t.rows_per_kept = sorted.rows as f64 / sorted.kept.max(1) as f64;
            let mut parts = Vec::with_capacity(sorted.files.len());
            for path in sorted.files {
                let ctx = Ctx {
                    table: name,
                    file: &path,
                    first_row: 0,
                };
                parts.push(open_parquet(&ctx, &path, &t.wanted, true)?);
            }
            t.layout = Layout::Parquet(parts);
            t.sorted = true;
        }
        self.sorted_dir = Some(dir);
        Ok(self.plan(bytes_per_partition))
    }

    /// Patient-id ranges each of whose rows take about `bytes_per_partition` bytes in memory
    /// (one range when everything fits). Row groups are taken as spreading their rows evenly
    /// over their `patient_id` bounds; tables without statistics count in full in each range.
    pub fn plan(&self, bytes_per_partition: u64) -> PartitionPlan {
        let mut spans: Vec<(i64, i64, f64)> = Vec::new();
        let mut fixed = 0f64;
        let mut unsorted = Vec::new();
        for (name, t) in &self.tables {
            if !t.sorted {
                unsorted.push(name.clone());
            }
            match &t.layout {
                Layout::Parquet(parts) => {
                    for g in parts.iter().flat_map(|p| &p.groups) {
                        let bytes = t.group_bytes(g);
                        if g.min == i64::MIN || g.max == i64::MAX {
                            fixed += bytes;
                        } else {
                            spans.push((g.min, g.max, bytes));
                        }
                    }
                }
                Layout::Loaded(_) | Layout::Unread { .. } => fixed += t.bytes() as f64,
            }
        }
        let spread: f64 = spans.iter().map(|s| s.2).sum();
        let estimated_bytes = (spread + fixed) as u64;
        let budget = bytes_per_partition.max(1) as f64;
        // Rows without bounds are in every partition: only the rest is split.
        let room = (budget - fixed).max(budget / 4.0);
        let k = (spread / room).ceil().max(1.0) as usize;
        let (Some(lo), Some(hi)) = (
            spans.iter().map(|s| s.0).min(),
            spans.iter().map(|s| s.1).max(),
        ) else {
            return PartitionPlan {
                ranges: std::iter::once(i64::MIN..i64::MAX).collect(),
                estimated_bytes,
                unsorted,
                bytes_per_partition,
            };
        };
        // Bytes of ids below `x`.
        let below = |x: i64| -> f64 {
            spans
                .iter()
                .map(|&(a, b, bytes)| {
                    if x <= a {
                        0.0
                    } else if x > b {
                        bytes
                    } else {
                        bytes * (x - a) as f64 / (b - a + 1) as f64
                    }
                })
                .sum()
        };
        let mut cuts = vec![i64::MIN];
        for i in 1..k {
            let target = spread * i as f64 / k as f64;
            // The least x in (lo, hi] with below(x) >= target.
            let (mut a, mut b) = (lo, hi);
            while a < b {
                let mid = a + (b - a) / 2;
                if below(mid) >= target {
                    b = mid;
                } else {
                    a = mid + 1;
                }
            }
            if a > *cuts.last().unwrap_or(&i64::MIN) {
                cuts.push(a);
            }
        }
        cuts.push(i64::MAX);
        PartitionPlan {
            ranges: cuts.windows(2).map(|w| w[0]..w[1]).collect(),
            estimated_bytes,
            unsorted,
            bytes_per_partition,
        }
    }

    /// The rows of every table whose `patient_id` is in `range` (typed and checked as
    /// [`crate::folder::load_columns`] does), each table cut by its prefilter when it has one;
    /// also the patients in `range` of the rows cut (who stay in the patient universe).
    pub fn load(
        &self,
        range: &Range<i64>,
        prefilters: &BTreeMap<String, CodePrefilter>,
    ) -> Result<(HashMap<String, DataFrame>, Vec<i64>), SourceError> {
        let mut out = HashMap::new();
        let mut dropped = Vec::new();
        for (name, t) in &self.tables {
            let ctx = |first_row| Ctx {
                table: name,
                file: &t.file,
                first_row,
            };
            let prefilter = prefilters.get(name);
            let mut parts = Vec::new();
            match &t.layout {
                Layout::Parquet(files) => {
                    for part in files {
                        read_part(name, t, part, range, prefilter, &mut parts, &mut dropped)?;
                    }
                }
                Layout::Loaded(df) => {
                    parts
                        .push(cut(df, range, prefilter, &mut dropped).map_err(|e| ctx(0).read(e))?);
                }
                Layout::Unread { .. } => {
                    // Not prepared: read whole for this range.
                    let refs: Vec<&str> = t.wanted.iter().map(String::as_str).collect();
                    let df = load_columns(&t.schema, &t.file, &refs)?;
                    parts.push(
                        cut(&df, range, prefilter, &mut dropped).map_err(|e| ctx(0).read(e))?,
                    );
                }
            }
            let first = t.cut_patients.partition_point(|p| *p < range.start);
            let end = t.cut_patients.partition_point(|p| *p < range.end);
            dropped.extend_from_slice(&t.cut_patients[first..end]);
            let df = match parts.len() {
                0 => {
                    let wanted: Vec<&str> = t.wanted.iter().map(String::as_str).collect();
                    empty_frame(&t.schema, &wanted)
                }
                1 => parts.pop().unwrap_or_default(),
                _ => {
                    let mut df = parts.remove(0);
                    for p in &parts {
                        df.vstack_mut(p).map_err(|e| ctx(0).read(e))?;
                    }
                    df.rechunk_mut();
                    df
                }
            };
            out.insert(name.clone(), df);
        }
        dropped.sort_unstable();
        dropped.dedup();
        Ok((out, dropped))
    }
}

/// Opens a Parquet file of a table, checking it has the `wanted` columns.
fn open_parquet(
    ctx: &Ctx<'_>,
    path: &Path,
    wanted: &[String],
    typed: bool,
) -> Result<ParquetPart, SourceError> {
    let f = File::open(path).map_err(|source| SourceError::Io {
        table: ctx.table.to_string(),
        file: path.to_path_buf(),
        source,
    })?;
    let mut reader = ParquetReader::new(f);
    let arrow_schema = reader.schema().map_err(|e| ctx.read(e))?;
    if let Some(c) = wanted.iter().find(|c| !arrow_schema.contains(c)) {
        return Err(ctx.missing(c));
    }
    let metadata = reader.get_metadata().map_err(|e| ctx.read(e))?.clone();
    let groups = row_groups(&metadata);
    Ok(ParquetPart {
        path: path.to_path_buf(),
        metadata,
        groups,
        typed,
    })
}

/// Reads the rows of `range` from one Parquet file of table `t`: runs of consecutive
/// overlapping row groups, one read each, of at most [`MAX_RUN_ROWS`] rows (bounds the rows
/// read beside the range's: an unsorted file's row groups all overlap), each cut to the range
/// and the prefilter.
fn read_part(
    name: &str,
    t: &TableFile,
    part: &ParquetPart,
    range: &Range<i64>,
    prefilter: Option<&CodePrefilter>,
    parts: &mut Vec<DataFrame>,
    dropped: &mut Vec<i64>,
) -> Result<(), SourceError> {
    // Messages name the table's own file, and its rows, unless this is a sorted copy.
    let ctx = |first_row| Ctx {
        table: name,
        file: if part.typed { &part.path } else { &t.file },
        first_row,
    };
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for g in &part.groups {
        if g.max < range.start || g.min >= range.end {
            continue;
        }
        match runs.last_mut() {
            Some((start, len)) if *start + *len == g.first_row && *len + g.rows <= MAX_RUN_ROWS => {
                *len += g.rows;
            }
            _ => runs.push((g.first_row, g.rows)),
        }
    }
    let wanted: Vec<&str> = t.wanted.iter().map(String::as_str).collect();
    for (start, len) in runs {
        let f = File::open(&part.path).map_err(|source| SourceError::Io {
            table: name.to_string(),
            file: part.path.clone(),
            source,
        })?;
        let mut reader = ParquetReader::new(f);
        reader.set_metadata(part.metadata.clone());
        let raw = reader
            .with_columns(Some(t.wanted.clone()))
            .with_slice(Some((start, len)))
            .finish()
            .map_err(|e| ctx(start).read(e))?;
        let df = if part.typed {
            raw
        } else {
            coerce_frame(&ctx(start), &t.schema, &raw, &wanted)?
        };
        parts.push(cut(&df, range, prefilter, dropped).map_err(|e| ctx(start).read(e))?);
    }
    Ok(())
}

/// The `patient_id` bounds of each row group (open bounds without statistics).
fn row_groups(metadata: &FileMetadataRef) -> Vec<Group> {
    let mut first_row = 0;
    let mut out = Vec::with_capacity(metadata.row_groups.len());
    for rg in &metadata.row_groups {
        let rows = rg.num_rows();
        let stats = rg
            .columns_under_root_iter(query::PATIENT_ID)
            .and_then(|mut cols| cols.next())
            .and_then(|c| c.statistics(&metadata.footer_buf))
            .and_then(Result::ok);
        let (min, max) = match stats {
            Some(Statistics::Int64(s)) => (s.min_value, s.max_value),
            Some(Statistics::Int32(s)) => (s.min_value.map(i64::from), s.max_value.map(i64::from)),
            _ => (None, None),
        };
        let (min, max) = match (min, max) {
            (Some(a), Some(b)) if a <= b => (a, b),
            _ => (i64::MIN, i64::MAX),
        };
        out.push(Group {
            first_row,
            rows,
            min,
            max,
        });
        first_row += rows;
    }
    out
}

/// The rows of `df` in `range`, cut by `prefilter`; the patients of the rows it cuts are
/// added to `dropped`.
fn cut(
    df: &DataFrame,
    range: &Range<i64>,
    prefilter: Option<&CodePrefilter>,
    dropped: &mut Vec<i64>,
) -> PolarsResult<DataFrame> {
    let pid = df.column(query::PATIENT_ID)?.i64()?.clone();
    let codes = match prefilter {
        Some(p) => Some(df.column(&p.column)?.str()?.clone()),
        None => None,
    };
    let mut keep = Vec::with_capacity(df.height());
    for (i, p) in pid.iter().enumerate() {
        let in_range = p.is_some_and(|p| range.contains(&p));
        let coded = match &codes {
            Some(c) => prefilter.is_some_and(|f| f.keeps(c.get(i))),
            None => true,
        };
        if in_range && !coded {
            dropped.extend(p);
        }
        keep.push(in_range && coded);
    }
    if keep.iter().all(|k| *k) {
        return Ok(df.clone());
    }
    df.filter(&BooleanChunked::from_slice("keep".into(), &keep))
}

/// A frame of no rows with the `wanted` columns typed as the contract says.
fn empty_frame(schema: &TableSchema, wanted: &[&str]) -> DataFrame {
    let cols: Vec<Column> = wanted
        .iter()
        .map(|name| {
            let ty = if *name == query::PATIENT_ID {
                Type::Int
            } else {
                schema.column(name).map_or(Type::Str, |c| c.ty)
            };
            Column::new_empty((*name).into(), &crate::folder::dtype(ty))
        })
        .collect();
    DataFrame::new(0, cols).unwrap_or_default()
}
