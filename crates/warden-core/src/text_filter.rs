//! Case-insensitive text filters (EQUALS / STARTS_WITH / CONTAINS) as SQL
//! that runs the same on SQLite and PostgreSQL: `LOWER(col) LIKE pattern`
//! with the user's `%`, `_` and `\` escaped.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchMode {
    #[default]
    Equals,
    StartsWith,
    Contains,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFilter {
    pub value: String,
    pub mode: MatchMode,
}

impl TextFilter {
    /// `None` for an empty value: it filters nothing.
    pub fn new(value: &str, mode: MatchMode) -> Option<Self> {
        (!value.is_empty()).then(|| Self { value: value.to_lowercase(), mode })
    }

    /// The condition on `column` (lower-cased before comparing).
    pub fn condition(&self, column: Expr) -> Expr {
        self.condition_on_lowered(Expr::expr(Func::lower(column)))
    }

    /// The condition on an expression that is already lower-case (e.g. a
    /// normalized column), so an index on the bare column can serve it.
    pub fn condition_on_lowered(&self, lowered: Expr) -> Expr {
        let escaped = escape(&self.value);
        let pattern = match self.mode {
            MatchMode::Equals => return lowered.eq(self.value.clone()),
            MatchMode::StartsWith => format!("{escaped}%"),
            MatchMode::Contains => format!("%{escaped}%"),
        };
        lowered.like(LikeExpr::new(pattern).escape('\\'))
    }
}

/// Makes user text literal inside a LIKE pattern (escape character `\`).
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_values_are_literal() {
        assert_eq!(escape("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn empty_values_filter_nothing() {
        assert!(TextFilter::new("", MatchMode::Contains).is_none());
    }
}
