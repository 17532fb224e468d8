//! One struct per table: what a feature writes is a typed row, not a hand-built list of
//! column names and SQL values.
//!
//! [`table!`] declares a row struct and its [`TableRow`] impl (the table's name, its columns,
//! the row's image key). The unit of work writes only `TableRow`s, and each feature keeps its
//! row structs private, so a feature can write only its own tables: another feature's table is
//! changed by calling that feature's function (the architecture test checks the same from the
//! sources).

use rusqlite::types::Value;
use uuid::Uuid;

/// One column value of a row change.
pub type Field = (&'static str, Value);

/// A row of one table, as the unit of work writes it.
pub(crate) trait TableRow {
    /// The table's name.
    const TABLE: &'static str;
    /// Every column the struct sets, in declaration order.
    const COLUMNS: &'static [&'static str];
    /// The row's name in the audit images (`table/<key>`): its primary key.
    fn key(&self) -> String;
    /// The column values, in [`TableRow::COLUMNS`] order.
    fn fields(&self) -> Vec<Field>;
}

/// A Rust value as SQLite stores it.
pub(crate) trait ToValue {
    fn to_value(&self) -> Value;
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for &str {
    fn to_value(&self) -> Value {
        Value::Text((*self).to_owned())
    }
}
impl ToValue for Uuid {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Integer(*self)
    }
}
impl ToValue for i32 {
    fn to_value(&self) -> Value {
        Value::Integer((*self).into())
    }
}
impl ToValue for u32 {
    fn to_value(&self) -> Value {
        Value::Integer((*self).into())
    }
}
impl ToValue for u8 {
    fn to_value(&self) -> Value {
        Value::Integer((*self).into())
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Integer((*self).into())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// A column change for [`crate::engine::WriteCx::update`]: `set("name", &value)`.
pub(crate) fn set(column: &'static str, value: &impl ToValue) -> Field {
    (column, value.to_value())
}

/// Declares a row struct of one table and its [`TableRow`] impl. `key` names the field (or an
/// expression over `self`) that keys the row in audit images.
///
/// ```ignore
/// table! {
///     /// A customer as stored.
///     pub(crate) struct CustomerRow in "customer", key id {
///         id: Uuid,
///         name: String,
///     }
/// }
/// ```
macro_rules! table {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $table:literal, key $key:ident {
            $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        $vis struct $name {
            $($(#[$fmeta])* pub(crate) $field: $ty,)*
        }

        impl $crate::rows::TableRow for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn key(&self) -> String {
                match $crate::rows::ToValue::to_value(&self.$key) {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    other => format!("{other:?}"),
                }
            }
            fn fields(&self) -> Vec<$crate::rows::Field> {
                vec![$((stringify!($field), $crate::rows::ToValue::to_value(&self.$field)),)*]
            }
        }
    };
}
pub(crate) use table;

#[cfg(test)]
mod tests {
    use super::*;

    table! {
        struct Sample in "sample", key id {
            id: Uuid,
            name: String,
            note: Option<String>,
            count: i64,
            flag: bool,
        }
    }

    #[test]
    fn a_row_lists_its_columns_and_values_in_order_and_keys_by_its_id() {
        let id = Uuid::now_v7();
        let row = Sample {
            id,
            name: "x".into(),
            note: None,
            count: 3,
            flag: true,
        };
        assert_eq!(Sample::TABLE, "sample");
        assert_eq!(Sample::COLUMNS, &["id", "name", "note", "count", "flag"]);
        assert_eq!(row.key(), id.to_string());
        assert_eq!(
            row.fields(),
            vec![
                ("id", Value::Text(id.to_string())),
                ("name", Value::Text("x".into())),
                ("note", Value::Null),
                ("count", Value::Integer(3)),
                ("flag", Value::Integer(1)),
            ]
        );
    }
}
