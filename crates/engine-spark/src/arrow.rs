//! Columns to and from Arrow IPC streams: what Spark Connect sends and takes.

use std::io::Cursor;

use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8Array, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, ArrowSchema, Field};
use polars_arrow::io::ipc::read::{read_stream_metadata, StreamReader, StreamState};
use polars_arrow::io::ipc::write::{StreamWriter, WriteOptions};
use polars_arrow::record_batch::RecordBatchT;
use query::{ColumnData, Date, Type, Value};

/// The Arrow type a query type travels as.
fn arrow_type(ty: Type) -> ArrowDataType {
    match ty {
        Type::Bool => ArrowDataType::Boolean,
        Type::Int => ArrowDataType::Int64,
        Type::Float => ArrowDataType::Float64,
        Type::Str => ArrowDataType::LargeUtf8,
        Type::Date => ArrowDataType::Date32,
    }
}

fn array(column: &ColumnData) -> Box<dyn Array> {
    match column {
        ColumnData::Bool(v) => BooleanArray::from(v.clone()).boxed(),
        ColumnData::Int(v) => PrimitiveArray::<i64>::from(v.clone()).boxed(),
        ColumnData::Float(v) => PrimitiveArray::<f64>::from(v.clone()).boxed(),
        ColumnData::Str(v) => {
            let values: Vec<Option<&str>> = (0..v.len()).map(|i| v.get(i)).collect();
            Utf8Array::<i64>::from(values).boxed()
        }
        ColumnData::Date(v) => {
            PrimitiveArray::<i32>::from(v.iter().map(|d| d.map(|d| d.0)).collect::<Vec<_>>())
                .to(ArrowDataType::Date32)
                .boxed()
        }
    }
}

/// `columns` (all of one length), named `names`, as one Arrow IPC stream.
pub fn encode(names: &[String], columns: &[ColumnData]) -> Result<Vec<u8>, String> {
    let schema: ArrowSchema = names
        .iter()
        .zip(columns)
        .map(|(n, c)| Field::new(n.as_str().into(), arrow_type(c.ty()), true))
        .collect();
    let rows = columns.first().map_or(0, ColumnData::len);
    let arrays: Vec<Box<dyn Array>> = columns.iter().map(array).collect();
    let batch = RecordBatchT::try_new(rows, std::sync::Arc::new(schema.clone()), arrays)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut writer = StreamWriter::new(&mut out, WriteOptions { compression: None });
    writer.start(&schema, None).map_err(|e| e.to_string())?;
    writer.write(&batch, None).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// The values of one column of an Arrow array, as `ty`, appended to `out`.
pub(crate) fn values(array: &dyn Array, ty: Type, out: &mut Vec<Value>) -> Result<(), String> {
    let any = array.as_any();
    let wrong = || {
        format!(
            "a result column of Arrow type {:?} where {ty:?} was expected",
            array.dtype()
        )
    };
    macro_rules! each {
        ($t:ty, $f:expr) => {{
            let a = any.downcast_ref::<$t>().ok_or_else(wrong)?;
            out.extend(a.iter().map(|v| v.map_or(Value::Null, $f)));
        }};
    }
    match (ty, array.dtype()) {
        (_, ArrowDataType::Null) => out.extend((0..array.len()).map(|_| Value::Null)),
        (Type::Bool, ArrowDataType::Boolean) => each!(BooleanArray, Value::Bool),
        (Type::Int, ArrowDataType::Int64) => each!(PrimitiveArray<i64>, |v: &i64| Value::Int(*v)),
        (Type::Int, ArrowDataType::Int32) => {
            each!(PrimitiveArray<i32>, |v: &i32| Value::Int(i64::from(*v)));
        }
        (Type::Float, ArrowDataType::Float64) => each!(PrimitiveArray<f64>, |v: &f64| {
            if v.is_nan() {
                Value::Null
            } else {
                Value::Float(*v)
            }
        }),
        (Type::Str, ArrowDataType::Utf8) => each!(Utf8Array<i32>, Value::str),
        (Type::Str, ArrowDataType::LargeUtf8) => each!(Utf8Array<i64>, Value::str),
        (Type::Str, ArrowDataType::Utf8View) => each!(Utf8ViewArray, Value::str),
        (Type::Date, ArrowDataType::Date32) => {
            each!(PrimitiveArray<i32>, |v: &i32| Value::Date(Date(*v)));
        }
        _ => return Err(wrong()),
    }
    Ok(())
}

/// Decodes one Arrow IPC stream of a result whose columns have `types`, calling `row` with
/// each row's values.
pub fn decode_rows(
    bytes: &[u8],
    types: &[Type],
    mut row: impl FnMut(&mut Vec<Value>) -> Result<(), String>,
) -> Result<(), String> {
    let mut cursor = Cursor::new(bytes);
    let metadata = read_stream_metadata(&mut cursor).map_err(|e| e.to_string())?;
    if metadata.schema.len() != types.len() {
        return Err(format!(
            "a result with {} columns where {} were expected",
            metadata.schema.len(),
            types.len()
        ));
    }
    for state in StreamReader::new(cursor, metadata, None) {
        let StreamState::Some(batch) = state.map_err(|e| e.to_string())? else {
            break;
        };
        let height = batch.height();
        let mut columns: Vec<Vec<Value>> = Vec::with_capacity(types.len());
        for (array, ty) in batch.arrays().iter().zip(types) {
            let mut v = Vec::with_capacity(height);
            values(array.as_ref(), *ty, &mut v)?;
            columns.push(v);
        }
        emit_rows(columns, height, &mut row)?;
    }
    Ok(())
}

/// Calls `row` with each of the `height` rows of `columns` (one vector of values per column).
pub(crate) fn emit_rows(
    columns: Vec<Vec<Value>>,
    height: usize,
    row: &mut impl FnMut(&mut Vec<Value>) -> Result<(), String>,
) -> Result<(), String> {
    let width = columns.len();
    let mut iters: Vec<std::vec::IntoIter<Value>> =
        columns.into_iter().map(Vec::into_iter).collect();
    let mut values = Vec::with_capacity(width);
    for _ in 0..height {
        values.clear();
        for it in &mut iters {
            values.push(it.next().unwrap_or(Value::Null));
        }
        row(&mut values)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_round_trip_through_ipc() {
        let mut s = query::StrColumn::new();
        s.push(Some("a'b"));
        s.push(None);
        let columns = vec![
            ColumnData::Int(vec![Some(1), None]),
            ColumnData::Float(vec![None, Some(-0.5)]),
            ColumnData::Bool(vec![Some(true), None]),
            ColumnData::Str(s),
            ColumnData::Date(vec![Some(Date(18262)), None]),
        ];
        let names: Vec<String> = ["i", "f", "b", "s", "d"].map(String::from).to_vec();
        let bytes = encode(&names, &columns).unwrap();
        let types: Vec<Type> = columns.iter().map(ColumnData::ty).collect();
        let mut rows = Vec::new();
        decode_rows(&bytes, &types, |r| {
            rows.push(r.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![
                    Value::Int(1),
                    Value::Null,
                    Value::Bool(true),
                    Value::str("a'b"),
                    Value::Date(Date(18262))
                ],
                vec![
                    Value::Null,
                    Value::Float(-0.5),
                    Value::Null,
                    Value::Null,
                    Value::Null
                ],
            ]
        );
    }
}
