//! Case-insensitive text filters (EQUALS / STARTS_WITH / CONTAINS) as SQL
//! that runs the same on SQLite and PostgreSQL: `LOWER(col) LIKE pattern`
//! with the user's `%`, `_` and `\` escaped.

use sea_orm::{
    Condition,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};

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

/// STARTS_WITH as `lowered >= prefix AND lowered < successor`: a b-tree on
/// the bare column serves it where LIKE cannot (SQLite's LIKE never uses
/// an index on a case-sensitive column). Only exact for byte-wise (BINARY)
/// collation, which is SQLite's default; PostgreSQL keeps LIKE, which a
/// `varchar_pattern_ops` b-tree serves under any collation (migration 5).
pub fn prefix_range_on_lowered(prefix: &str, lowered: impl Fn() -> Expr) -> Condition {
    let all = Condition::all().add(lowered().gte(prefix.to_owned()));
    match successor(prefix) {
        Some(bound) => all.add(lowered().lt(bound)),
        None => all,
    }
}

/// The least string greater than every string that starts with `prefix`
/// in code-point (= UTF-8 byte) order: the last character incremented,
/// `None` when every character is already the largest one.
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
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
    fn a_prefix_successor_bounds_exactly_the_strings_with_that_prefix() {
        assert_eq!(successor("load0123").as_deref(), Some("load0124"));
        assert_eq!(successor("az").as_deref(), Some("a{"));
        // Surrogates are not characters: U+D7FF is followed by U+E000.
        assert_eq!(successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{10FFFF}"), None);
        let bound = successor("ab").unwrap();
        for inside in ["ab", "ab\u{10FFFF}", "abzzz", "ab\u{1F600}"] {
            assert!(inside >= "ab" && inside < bound.as_str(), "{inside:?}");
        }
        for outside in ["aa\u{10FFFF}", "ac", "b"] {
            assert!(!(outside >= "ab" && outside < bound.as_str()), "{outside:?}");
        }
    }

    #[test]
    fn empty_values_filter_nothing() {
        assert!(TextFilter::new("", MatchMode::Contains).is_none());
    }
}
