//! Statements built at run time: each value is bound as the SQL names it, and the placeholder
//! it gets (`$1`, `$2`, …, in binding order) is what goes into the text. The one placeholder
//! builder of the queries with a variable shape (lists, the assessment, Open311); the writer's
//! multi-row statements have their own (`case_rows::placeholders`), as SQLite needs anonymous
//! ones there.

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(i64),
    Text(String),
}

/// The values of a statement being built, in the order of their placeholders.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Binds {
    values: Vec<Value>,
}

/// A statement with its values bound, ready to run.
pub type BoundQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

impl Binds {
    /// Binds an integer; returns its placeholder.
    pub fn int(&mut self, value: i64) -> String {
        self.values.push(Value::Int(value));
        format!("${}", self.values.len())
    }

    /// Binds a text; returns its placeholder.
    pub fn text(&mut self, value: impl Into<String>) -> String {
        self.values.push(Value::Text(value.into()));
        format!("${}", self.values.len())
    }

    /// `sql` with every value bound in order. The text is built only from constants and the
    /// placeholders this returned, never from input, which is why it is marked safe.
    pub fn query(&self, sql: String) -> BoundQuery<'_> {
        self.values
            .iter()
            .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, v| match v {
                Value::Int(n) => q.bind(*n),
                Value::Text(t) => q.bind(t.as_str()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_up_in_binding_order() {
        let mut binds = Binds::default();
        assert_eq!(binds.int(7), "$1");
        assert_eq!(binds.text("230602"), "$2");
        assert_eq!(binds.int(-1), "$3");
        assert_eq!(
            binds.values,
            [
                Value::Int(7),
                Value::Text("230602".to_owned()),
                Value::Int(-1)
            ]
        );
    }
}
