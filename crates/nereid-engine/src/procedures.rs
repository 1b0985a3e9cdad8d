//! Procedures callable with `CALL`. nereid has no built-in procedures (Neptune supports
//! none); the registry holds table-defined procedures such as the TCK declares.

use std::collections::HashMap;
use std::sync::Arc;

use nereid_common::{Error, ErrorCode};
use nereid_value::Value;

use crate::TableProcedure;

/// Registered procedures by qualified name.
#[derive(Debug, Clone, Default)]
pub struct Procedures {
    by_name: HashMap<String, Arc<TableProcedure>>,
}

impl Procedures {
    pub fn get(&self, name: &str) -> Option<&Arc<TableProcedure>> {
        self.by_name.get(name)
    }

    pub fn insert(&mut self, p: TableProcedure) {
        self.by_name.insert(p.name.clone(), Arc::new(p));
    }
}

impl TableProcedure {
    /// The output rows for one call: every table row whose inputs equal `args`.
    pub fn call(&self, args: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        for ((name, ty), v) in self.inputs.iter().zip(args) {
            if !type_accepts(ty, v) {
                return Err(Error::new(
                    ErrorCode::InvalidArgumentType,
                    format!(
                        "Procedure argument `{name}` expects {ty} but got {} ({v})",
                        v.type_name()
                    ),
                ));
            }
        }
        let n = self.inputs.len();
        let mut out = Vec::new();
        for row in &self.rows {
            let matches = row
                .iter()
                .take(n)
                .zip(args)
                .all(|(a, b)| a.equivalent(&coerce(&self.inputs, a, b)));
            if matches {
                out.push(row[n..].to_vec());
            }
        }
        Ok(out)
    }
}

/// `NUMBER?`/`FLOAT?` inputs compare numerically: an integer argument matches a float row.
fn coerce(_inputs: &[(String, String)], row_value: &Value, arg: &Value) -> Value {
    match (row_value, arg) {
        (Value::Float(_), Value::Int(i)) => Value::Float(*i as f64),
        _ => arg.clone(),
    }
}

fn type_accepts(ty: &str, v: &Value) -> bool {
    let t = ty.trim_end_matches('?').to_ascii_uppercase();
    if v.is_null() {
        return true;
    }
    match t.as_str() {
        "INTEGER" | "INT" => matches!(v, Value::Int(_)),
        "FLOAT" => matches!(v, Value::Float(_) | Value::Int(_)),
        "NUMBER" => matches!(v, Value::Float(_) | Value::Int(_)),
        "STRING" => matches!(v, Value::String(_)),
        "BOOLEAN" => matches!(v, Value::Bool(_)),
        _ => true,
    }
}
